"""HTTP client for the registry API: streamed, resumable, checked transfers."""

from __future__ import annotations

import base64
import hashlib
import http.client
import itertools
import json
import logging
import os
import random
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import warnings
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from functools import partial
from pathlib import Path
from typing import Any

from registry.streams import CHUNK_SIZE, copy_while_hashing, writing_behind

# At most this many bytes of small files travel inside the manifest request (as base64), so that
# logging them takes one request; the server takes JSON bodies of up to 1 MiB.
INLINE_BYTES = 512 * 1024

# Retries are said here as warnings: with no logging set up, Python prints them on stderr.
log = logging.getLogger("registry")

CONFIG = Path(os.environ.get("REGISTRY_CONFIG", Path.home() / ".config" / "registry.json"))


class RegistryError(Exception):
    """The server refused a request; `code` and the message say why and what to fix."""

    def __init__(
        self, status: int, code: str, message: str, retry_after: float | None = None
    ) -> None:
        super().__init__(f"{message} ({status} {code})")
        self.status, self.code, self.message = status, code, message
        # Seconds the server asked us to wait before trying again (its Retry-After), if any.
        self.retry_after = retry_after


# Answers that say "not now" rather than "no": a proxy without a live server behind it, an
# overloaded or restarting server, a database outage, a rate limit.
RETRY_STATUSES = frozenset({429, 502, 503, 504})
# Conflicts of a resumable upload that the next attempt settles by asking where it stands: the
# server still holding the lock of a request cut off, or more bytes than we thought arrived.
RETRY_CODES = frozenset({"upload_busy", "offset_mismatch"})
# Transport failures worth another try: refused, reset or dropped connections, timeouts.
RETRY_ERRORS = (ConnectionError, TimeoutError, http.client.HTTPException)
# The first wait between attempts, doubled each time up to the second; a server's Retry-After is
# honoured up to the third, so that a wrong header cannot park a training job for hours.
BACKOFF_SECONDS = 0.5
BACKOFF_MAX_SECONDS = 30.0
RETRY_AFTER_MAX_SECONDS = 60.0
# How long a connection may stay silent (connecting, or between two reads or writes) before
# the attempt counts as failed and is retried: a stalled server must not hang a training job.
TIMEOUT_SECONDS = 60.0


@dataclass(frozen=True)
class Retries:
    """How hard the client tries a request again: at most `attempts` tries within `seconds`.

    Only requests that are safe to repeat are retried: reads, uploads of content-addressed
    bytes, and the calls the server makes idempotent (logging a manifest, committing, linking,
    aliases, tags). A request that never reached the server (connection refused) is always.
    """

    attempts: int = 6
    seconds: float = 300.0

    @classmethod
    def from_environment(cls) -> Retries:
        """REGISTRY_RETRIES (attempts) and REGISTRY_RETRY_SECONDS, or the defaults."""
        return cls(
            attempts=_positive("REGISTRY_RETRIES", int, cls.attempts),
            seconds=_positive("REGISTRY_RETRY_SECONDS", float, cls.seconds),
        )


def _positive(variable: str, kind: type, default: float) -> Any:
    text = os.environ.get(variable, "").strip()
    if not text:
        return default
    try:
        value = kind(text)
    except ValueError:
        value = 0
    if not value > 0:
        raise ValueError(
            f"{variable} is {text!r}; set it to a number above 0 (default {default}), or unset it."
        )
    return value


def _retry_after(header: str | None) -> float | None:
    """Retry-After in seconds from now: a number of seconds, or an HTTP date."""
    if not header:
        return None
    try:
        return max(0.0, float(header))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(header).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _read_json(response: http.client.HTTPResponse) -> Any:
    return json.loads(response.read() or b"null")


def _discard(response: http.client.HTTPResponse) -> None:
    response.read()


def _describe(cause: Exception) -> str:
    if isinstance(cause, RegistryError):
        return f"{cause.status} {cause.code}: {cause.message}"
    return f"{type(cause).__name__}: {cause}"


def _transient_cause(error: Exception) -> Exception | None:
    """The failure behind `error` if trying again may help, else None."""
    if isinstance(error, RegistryError):
        return error if error.status in RETRY_STATUSES or error.code in RETRY_CODES else None
    cause = error.reason if isinstance(error, urllib.error.URLError) else error
    return cause if isinstance(cause, RETRY_ERRORS) else None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # Redirects go to presigned storage URLs, which must not receive our bearer token.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)


class Progress:
    """A one-line progress bar on stderr, shown only when stderr is a terminal."""

    def __init__(self, label: str, total: int, enabled: bool | None = None) -> None:
        self.label, self.total, self.done = label, max(total, 1), 0
        self.enabled = sys.stderr.isatty() if enabled is None else enabled

    def advance(self, amount: int) -> None:
        self.done += amount
        if self.enabled:
            filled = int(30 * self.done / self.total)
            sys.stderr.write(
                f"\r{self.label[:40]:<40} [{'#' * filled:<30}] "
                f"{self.done / 1e6:8.1f}/{self.total / 1e6:.1f} MB"
            )
            sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")


def sha256_of(path: Path) -> str:
    with path.open("rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def _file_chunks(
    file: Path, progress: Progress, start: int = 0, length: int | None = None
) -> Iterator[memoryview]:
    """`length` bytes of a file from `start` (to its end by default) in large chunks through one
    reused buffer, reported to a progress bar.

    urllib would read a file body 8 KiB at a time; each chunk is sent before the next is read.
    """
    progress.done = start
    left = os.path.getsize(file) - start if length is None else length
    buffer = memoryview(bytearray(min(CHUNK_SIZE, max(left, 1))))
    with file.open("rb") as stream:
        stream.seek(start)
        while left and (count := stream.readinto(buffer[: min(left, len(buffer))])):
            left -= count
            progress.advance(count)
            yield buffer[:count]


def _reporting(read_into, progress: Progress):
    """`read_into` that also advances a progress bar."""

    def read(buffer: memoryview) -> int:
        count = read_into(buffer)
        progress.advance(count)
        return count

    return read


def split_project(project: str) -> tuple[str, str, str]:
    parts = project.split("/")
    if len(parts) != 3 or not all(parts):
        raise ValueError(f"Project {project!r} must be written <org>/<team>/<project>.")
    return parts[0], parts[1], parts[2]


def split_collection_path(target: str) -> tuple[str, str, str]:
    parts = target.split("/")
    if len(parts) != 3 or not all(parts):
        hint = (
            " The legacy Model Registry takes no new links: link into the registry its team "
            "was migrated to, e.g. <org>/<team>-mr-migrated/<model>."
            if "model-registry" in parts
            else ""
        )
        raise ValueError(f"{target!r} must be written <org>/<registry>/<collection>.{hint}")
    return parts[0], parts[1], parts[2]


def split_version_path(path: str) -> tuple[str, str, str, str]:
    location, _, ref = path.partition(":")
    parts = location.split("/")
    if len(parts) != 3 or not all(parts):
        raise ValueError(f"{path!r} must be written <org>/<registry>/<collection>:<vN or alias>.")
    return parts[0], parts[1], parts[2], ref or "latest"


def _route(*segments: str) -> str:
    """An API route from its path segments, each quoted whole.

    Names may hold any character their rules allow (`%`, `#`, `?`, spaces, accents, CJK): a
    segment left unquoted would end the path early or be decoded into another name.
    """
    return "".join(urllib.parse.quote(segment, safe="") + "/" for segment in segments)


def _collection_route(target: str) -> str:
    """The API route of a collection's versions, from `<org>/<registry>/<collection>`."""
    org, registry, collection = split_collection_path(target)
    return _route("orgs", org, "registries", registry, "collections", collection, "versions")


class Client:
    def __init__(
        self,
        url: str | None = None,
        token: str | None = None,
        progress=None,
        retries: Retries | None = None,
        timeout: float | None = None,
    ) -> None:
        saved = json.loads(CONFIG.read_text()) if CONFIG.exists() else {}
        self.url = (url or os.environ.get("REGISTRY_URL") or saved.get("url") or "").rstrip("/")
        self.token = token or os.environ.get("REGISTRY_TOKEN") or saved.get("token")
        if not self.url or not self.token:
            raise RegistryError(
                0,
                "not_configured",
                "Set REGISTRY_URL and REGISTRY_TOKEN, or run `registry login`.",
            )
        self.show_progress = progress
        self.retries = retries or Retries.from_environment()
        self.timeout = timeout or _positive("REGISTRY_TIMEOUT", float, TIMEOUT_SECONDS)

    # Transport

    def _request(
        self,
        method: str,
        url: str,
        read: Callable[[http.client.HTTPResponse], Any],
        body: bytes | Callable[[], Iterable[bytes]] | None = None,
        headers: dict | None = None,
        auth: bool = True,
        idempotent: bool | None = None,
    ) -> Any:
        """Send a request and `read` its answer, trying again as `self.retries` allows when the
        request is safe to repeat: reads and PUTs are, other methods when the caller says so.

        A streamed body is a function that starts the stream afresh for each attempt. The
        answer is read inside the attempt, so a connection dropped mid-answer is retried too.
        """

        if idempotent is None:
            idempotent = method in ("GET", "HEAD", "PUT")
        attempt = partial(self._once, method, url, read, body, headers, auth)
        return self._retrying(method, url, attempt, idempotent)

    def _once(self, method: str, url: str, read, body=None, headers=None, auth: bool = True):
        """One attempt of a request, its answer read by `read`."""
        with self._send_once(method, url, body, headers, auth) as response:
            return read(response)

    def _send_once(self, method: str, url: str, body, headers, auth: bool):
        headers = dict(headers or {})
        if auth:
            headers["Authorization"] = f"Bearer {self.token}"
        data = body() if callable(body) else body
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            return _opener.open(request, timeout=self.timeout)
        except urllib.error.HTTPError as error:
            if error.code in (301, 302, 303, 307, 308) and error.headers.get("Location"):
                target = urllib.parse.urljoin(url, error.headers["Location"])
                return self._send_once(method, target, body, {}, auth=False)
            raise self._error(error) from None

    def _retrying(self, method: str, url: str, attempt: Callable[[], Any], idempotent: bool):
        """`attempt()`, called again after failures that may pass, with growing waits."""
        started = time.monotonic()
        for attempts in itertools.count(1):
            try:
                return attempt()
            except (RegistryError, OSError, http.client.HTTPException) as error:
                cause = _transient_cause(error)
                # A refused connection never reached the server: any request may go again.
                if cause is None or not (idempotent or isinstance(cause, ConnectionRefusedError)):
                    raise
                wait = self._wait_before(attempts, error)
                elapsed = time.monotonic() - started
                if attempts >= self.retries.attempts or elapsed + wait > self.retries.seconds:
                    raise self._gave_up(method, url, attempts, elapsed, cause, wait) from error
                log.warning(
                    "%s %s: %s; trying again in %.1f s (attempt %d of %d).",
                    method, self._shown(url), _describe(cause), wait, attempts + 1,
                    self.retries.attempts,
                )  # fmt: skip
                time.sleep(wait)

    @staticmethod
    def _wait_before(attempts: int, error: Exception) -> float:
        """The server's Retry-After (bounded), else exponential backoff with jitter."""
        if isinstance(error, RegistryError) and error.retry_after is not None:
            return min(error.retry_after, RETRY_AFTER_MAX_SECONDS)
        ceiling = min(BACKOFF_MAX_SECONDS, BACKOFF_SECONDS * 2 ** (attempts - 1))
        # Half fixed, half random: clients cut off together do not all come back together.
        return ceiling / 2 + random.uniform(0, ceiling / 2)

    def _gave_up(
        self, method: str, url: str, attempts: int, elapsed: float, cause: Exception, wait: float
    ) -> RegistryError:
        if isinstance(cause, RegistryError):
            last = f"the last answer was {_describe(cause)}"
            advice = "The server is overloaded, restarting or cut off from its database"
        else:
            last = f"the last error was {_describe(cause)}"
            advice = f"Check that {self.url} is up and reachable from here"
        budget = (
            f"the next try (in {wait:.0f} s) would pass the limit of {self.retries.seconds:g} s"
            if attempts < self.retries.attempts
            else f"that is the limit of {self.retries.attempts} attempts"
        )
        return RegistryError(
            cause.status if isinstance(cause, RegistryError) else 0,
            cause.code if isinstance(cause, RegistryError) else "connection_failed",
            f"{method} {self._shown(url)} failed after {attempts} attempt(s) in {elapsed:.1f} s, "
            f"and {budget}; {last}. {advice}: try again later, or allow more with REGISTRY_RETRIES "
            "and REGISTRY_RETRY_SECONDS.",
        )

    def _shown(self, url: str) -> str:
        """`url` fit for messages: a presigned storage URL's query is its signature."""
        return url if url.startswith(self.url + "/") else url.split("?", 1)[0]

    @staticmethod
    def _error(error: urllib.error.HTTPError) -> RegistryError:
        retry_after = _retry_after(error.headers.get("Retry-After"))
        try:
            detail = json.loads(error.read())["error"]
            return RegistryError(error.code, detail["code"], detail["message"], retry_after)
        except (ValueError, KeyError, TypeError):
            return RegistryError(error.code, "http_error", str(error.reason), retry_after)

    def api(
        self,
        method: str,
        route: str,
        payload: dict | None = None,
        query: dict | None = None,
        idempotent: bool | None = None,
    ) -> Any:
        """A JSON request to /api/v1/; `idempotent` marks a POST that is safe to repeat."""
        url = f"{self.url}/api/v1/{route.lstrip('/')}"
        if query:
            url += "?" + urllib.parse.urlencode(query)
        body = None if payload is None else json.dumps(payload).encode()
        headers = {"Content-Type": "application/json"} if body is not None else {}
        return self._request(method, url, _read_json, body, headers, idempotent=idempotent)

    # Versions

    def log_artifact(
        self,
        path: str | Path,
        *,
        project: str,
        name: str,
        type: str,
        description: str = "",
        metadata: dict | None = None,
        metrics: dict | None = None,
        run_id: str | None = None,
        link_to: str | None = None,
        aliases: list[str] = (),
    ) -> dict:
        """Log a file or a folder as a version; only files the server lacks are sent.

        With `link_to` (`<org>/<registry>/<collection>`), also link it, with `aliases`; the
        answer then carries the link under "link". Small files travel inside the manifest, so
        a version of small or already stored files is logged (and linked) in one request;
        larger ones are uploaded after it, each streamed.
        """
        org, team, proj = split_project(project)
        root = Path(path)
        if not root.exists():
            raise FileNotFoundError(f"{root} does not exist.")
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        by_sha: dict[str, Path] = {}
        manifest = []
        inline_budget = INLINE_BYTES
        for file in files:
            relative = file.name if root.is_file() else file.relative_to(root).as_posix()
            digest = sha256_of(file)
            entry = {"path": relative, "sha256": digest, "size": file.stat().st_size}
            if digest not in by_sha and entry["size"] <= inline_budget:
                entry["content"] = base64.b64encode(file.read_bytes()).decode()
                inline_budget -= entry["size"]
            by_sha.setdefault(digest, file)
            manifest.append(entry)
        body: dict[str, Any] = {"type": type, "files": manifest, "description": description}
        if metadata is not None:
            body["metadata"] = metadata
        if metrics is not None:
            body["metrics"] = metrics
        if run_id:
            body["run"] = run_id
        if link_to:
            collection = _collection_route(link_to)
            log = {"project": project, "name": name, **body}
            logged_and_linked = {"log": log, "aliases": list(aliases)}
            version = self.api("POST", collection, logged_and_linked, idempotent=True)
            if version["link"] is not None:
                return version
        else:
            route = _route(
                "orgs", org, "teams", team, "projects", proj, "artifacts", name, "versions"
            )
            version = self.api("POST", route, body, idempotent=True)
        for blob in version["missing"]:
            if "resumable_url" in blob:
                self._upload_resumably(by_sha[blob["sha256"]], blob)
            else:
                self._upload(by_sha[blob["sha256"]], blob)
        if version["state"] != "committed":
            commit = _route("versions", version["id"], "commit")
            version = self.api("POST", commit, idempotent=True)
        if link_to:
            version["link"] = self.link(version, link_to, aliases)
        return version

    def _upload(self, file: Path, blob: dict) -> None:
        progress = Progress(f"upload {file.name}", blob["size"], self.show_progress)
        headers = {**blob["upload_headers"], "Content-Length": str(blob["size"])}
        # A presigned storage URL carries its own signature: our token goes only to our server.
        to_server = blob["upload_url"].startswith(self.url + "/")
        self._request(
            "PUT",
            blob["upload_url"],
            _read_json if to_server else _discard,
            partial(_file_chunks, file, progress),
            headers,
            auth=to_server,
        )
        progress.close()

    def _upload_resumably(self, file: Path, blob: dict) -> None:
        """Send a large file so that a cut-off upload resumes where it stopped.

        Each attempt asks the server what the store holds, then sends only the rest: the bytes
        from the offset held on the local folder, the missing parts on S3. A later process
        logging the same file resumes the same way.
        """
        progress = Progress(f"upload {file.name}", blob["size"], self.show_progress)

        def attempt() -> None:
            state = self._once("POST", blob["resumable_url"], _read_json)
            if state["stored"]:
                return
            if "parts" in state:
                for part in state["parts"]:
                    start = (part["number"] - 1) * state["part_size"]
                    length = min(state["part_size"], state["size"] - start)
                    headers = {**part["headers"], "Content-Length": str(length)}
                    chunks = partial(_file_chunks, file, progress, start, length)
                    self._once("PUT", part["url"], _discard, chunks, headers, auth=False)
            elif (offset := state["offset"]) < state["size"]:
                headers = {
                    "Content-Type": "application/octet-stream",
                    "Content-Length": str(state["size"] - offset),
                    "Upload-Offset": str(offset),
                }
                chunks = partial(_file_chunks, file, progress, offset)
                self._once("PATCH", state["url"], _read_json, chunks, headers)

        self._retrying("Uploading via", blob["resumable_url"], attempt, idempotent=True)
        progress.close()

    def link(self, version: dict | str, target: str, aliases: list[str] = ()) -> dict:
        """Link a logged version into `<org>/<registry>/<collection>`."""
        version_id = version["id"] if isinstance(version, dict) else version
        route = _collection_route(target)
        body = {"version": version_id, "aliases": list(aliases)}
        return self.api("POST", route, body, idempotent=True)

    def resolve(self, path: str) -> dict:
        found = self.api("GET", "resolve/", query={"path": path})
        if "redirected_from" in found:
            warnings.warn(
                f"{path} is a legacy Model Registry path; its model now lives at "
                f"{found['path']}: use that path from now on.",
                stacklevel=3,
            )
        return found

    def _linked_route(self, path: str) -> str:
        return self._route_of(self.resolve(path))

    def alias(self, path: str, alias: str) -> dict:
        """Put `alias` on the version at `path`, moving it from wherever it was."""
        route = self._linked_route(path) + "aliases/"
        return self.api("POST", route, {"alias": alias}, idempotent=True)

    def tag(self, path: str, tags: list[str]) -> dict:
        route = self._linked_route(path) + "tags/"
        return self.api("POST", route, {"tags": list(tags)}, idempotent=True)

    def download(self, path: str, destination: str | Path) -> Path:
        """Download every file of the version at `path`; files already there are kept."""
        found = self.resolve(path)
        route = self._route_of(found)
        root = Path(destination)
        for file in found["files"]:
            target = root / file["path"]
            already_there = target.exists() and target.stat().st_size == file["size"]
            if already_there and sha256_of(target) == file["sha256"]:
                continue
            self._fetch(route + "files/" + urllib.parse.quote(file["path"]), target, file)
        return root

    @staticmethod
    def _route_of(found: dict) -> str:
        org, registry, collection, ref = split_version_path(found["path"])
        return _route(
            "orgs", org, "registries", registry, "collections", collection, "versions", ref
        )

    def _fetch(self, route: str, target: Path, file: dict) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".part")
        progress = Progress(f"download {file['path']}", file["size"], self.show_progress)

        def save(response: http.client.HTTPResponse) -> str:
            progress.done = 0  # from the start again, after a dropped connection
            digest = hashlib.sha256()
            with partial.open("wb") as out:
                copy_while_hashing(
                    _reporting(response.readinto, progress), writing_behind(out), digest
                )
            return digest.hexdigest()

        digest = self._request("GET", f"{self.url}/api/v1/{route}", save)
        progress.close()
        if digest != file["sha256"]:
            partial.unlink()
            raise RegistryError(0, "checksum_mismatch", f"{file['path']} arrived corrupted.")
        partial.replace(target)

    def _pages(self, route: str, key: str, query: dict) -> Iterator[dict]:
        """The items of a keyset-paged list, page after page as `next` leads."""
        while True:
            page = self.api("GET", route, query=query)
            yield from page[key]
            if not page["next"]:
                return
            query = {**query, "cursor": page["next"]}

    # Automations

    def automations(
        self, org: str, registry: str | None = None, collection: str | None = None
    ) -> Iterator[dict]:
        """The organization's automations you may manage, by name; `registry`, or `registry`
        and `collection`, keep those on it."""
        query = {"registry": registry, "collection": collection}
        route = _route("orgs", org, "automations")
        return self._pages(route, "automations", {k: v for k, v in query.items() if v})

    def create_automation(
        self,
        scope: str,
        name: str,
        *,
        event: str,
        webhook: str,
        payload: str | dict = "",
        **settings: Any,
    ) -> dict:
        """Watch `event` (e.g. ADD_ARTIFACT_ALIAS) in `scope` (`<org>`, `<org>/<registry>` or
        `<org>/<registry>/<collection>`) and send `payload`, a JSON template with ${variables}
        (a dict is sent as its JSON), to `webhook` (`<team>/<webhook name>`). `settings`:
        alias_regex, tag_regex, description, rate_limit_per_hour, cooldown_seconds."""
        if not isinstance(payload, str):
            payload = json.dumps(payload)
        body = {"scope": scope, "name": name, "event": event, "webhook": webhook, **settings}
        if payload:
            body["payload"] = payload
        return self.api("POST", _route("orgs", scope.split("/")[0], "automations"), body)

    def _automation_route(self, org: str, automation: int | str | dict) -> str:
        """The route of an automation given by its id, its name or itself (as listed)."""
        if isinstance(automation, dict):
            automation = automation["id"]
        if isinstance(automation, str):
            query = {"name": automation}
            found = next(
                self._pages(_route("orgs", org, "automations"), "automations", query), None
            )
            if found is None:
                raise RegistryError(
                    404, "not_found", f"No automation {automation!r} in {org} that you may manage."
                )
            automation = found["id"]
        return _route("orgs", org, "automations", str(automation))

    def pause_automation(self, org: str, automation: int | str | dict) -> dict:
        """Pause an automation (by id, name, or as listed): it records nothing until resumed."""
        route = self._automation_route(org, automation)
        return self.api("PATCH", route, {"paused": True}, idempotent=True)

    def resume_automation(self, org: str, automation: int | str | dict) -> dict:
        """Resume a paused automation: it takes up events from now on."""
        route = self._automation_route(org, automation)
        return self.api("PATCH", route, {"paused": False}, idempotent=True)

    def delete_automation(self, org: str, automation: int | str | dict) -> None:
        """Delete an automation with its history."""
        self.api("DELETE", self._automation_route(org, automation))

    def executions(
        self, org: str, automation: int | str | dict, status: str | None = None
    ) -> Iterator[dict]:
        """An automation's executions, newest first; `status` (pending, delivered, failed or
        skipped) keeps those."""
        route = self._automation_route(org, automation) + "executions/"
        return self._pages(route, "executions", {"status": status} if status else {})

    def replay_execution(self, org: str, automation: int | str | dict, execution: str) -> dict:
        """Send an execution's payload again as a new execution, and return that one."""
        route = self._automation_route(org, automation) + _route("executions", execution, "replay")
        return self.api("POST", route)

    # Registries, collections and versions, walked as W&B's SDK walks them

    def registries(
        self,
        org: str,
        filter: dict | None = None,
        order: str | None = None,
        per_page: int | None = None,
    ) -> Listing:
        """The organization's registries you may see, each with `.collections(…)`.

        `filter` is W&B's filter JSON on name, description, created_at and updated_at (e.g.
        `{"name": {"$regex": "^Mod"}}`); `order` is `+name` (the default), `-created_at`, ….
        Pages are fetched as iteration reaches them, `per_page` rows at a time.
        """
        route = _route("orgs", org, "registries")
        return Listing(self, route, "registries", Registry, filter, order, per_page)

    # Runs

    def start_run(self, project: str, name: str = "", job_type: str = "", config=None) -> Run:
        """Start a run in `<org>/<team>/<project>`; without a `name` the server gives it a
        readable one, such as `swift-river-7`."""
        org, team, proj = split_project(project)
        route = _route("orgs", org, "teams", team, "projects", proj, "runs")
        body = {"job_type": job_type, "config": config or {}, **({"name": name} if name else {})}
        data = self.api("POST", route, body)
        return Run(self, project, data["id"], data["name"])

    @contextmanager
    def run(
        self, project: str, name: str = "", job_type: str = "", config: dict | None = None
    ) -> Iterator[Run]:
        """A run that finishes when the block ends, as failed if the block raised."""
        current = self.start_run(project, name, job_type, config)
        try:
            yield current
        except BaseException:
            current.finish("failed")
            raise
        current.finish("finished")


class Listing:
    """The rows of one of the API's lists, as objects: iterating fetches the first page, and
    the next only when the rows before it are used up (following `next`)."""

    def __init__(self, client, route, key, kind, filter=None, order=None, per_page=None) -> None:
        self.client, self.route, self.key, self.kind = client, route, key, kind
        asked = {"filter": None if filter is None else json.dumps(filter), "order": order}
        asked["limit"] = per_page
        self.query = {name: value for name, value in asked.items() if value is not None}

    def __iter__(self) -> Iterator[Any]:
        for row in self.client._pages(self.route, self.key, self.query):
            yield self.kind(self.client, row)


class Item:
    """One row of a list: the API's JSON in `.data`, its fields also as attributes."""

    def __init__(self, client: Client, data: dict) -> None:
        self.client, self.data = client, data

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["data"][name]
        except KeyError:
            raise AttributeError(name) from None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.data['path']!r})"


class Registry(Item):
    def collections(
        self, filter: dict | None = None, order: str | None = None, per_page: int | None = None
    ) -> Listing:
        """Its collections: `filter` on name, tag, description, created_at, updated_at;
        `order` `+name` (the default), `-updated_at`, …"""
        org = self.path.split("/")[0]
        route = _route("orgs", org, "registries", self.slug, "collections")
        return Listing(self.client, route, "collections", Collection, filter, order, per_page)


class Collection(Item):
    def versions(
        self, filter: dict | None = None, order: str | None = None, per_page: int | None = None
    ) -> Listing:
        """Its linked versions: `filter` on tag, alias, created_at, updated_at,
        `metadata.<key>` and `metrics.<name>`; `order` `-version` (the default), `+created_at`, …"""
        route = _collection_route(self.path)
        return Listing(self.client, route, "versions", Version, filter, order, per_page)


class Version(Item):
    def download(self, destination: str | Path) -> Path:
        return self.client.download(self.path, destination)


@dataclass
class UsedArtifact:
    client: Client
    path: str

    def download(self, destination: str | Path | None = None) -> Path:
        target = destination or Path("artifacts") / self.path.replace("/", "_").replace(":", "_")
        return self.client.download(self.path, target)


@dataclass
class Run:
    """A run: what it logs is recorded as its output, what it uses as its input."""

    client: Client
    project: str
    id: str
    name: str = ""  # as the server named it; empty for a run known only by its id

    def _route(self) -> str:
        org, team, proj = split_project(self.project)
        return _route("orgs", org, "teams", team, "projects", proj, "runs", self.id)

    def log_artifact(self, path: str | Path, *, name: str, type: str, **options: Any) -> dict:
        return self.client.log_artifact(
            path, project=self.project, name=name, type=type, run_id=self.id, **options
        )

    def link_artifact(self, version: dict | str, target: str, aliases: list[str] = ()) -> dict:
        return self.client.link(version, target, aliases)

    def use_artifact(self, path: str) -> UsedArtifact:
        self.client.api("POST", self._route() + "inputs/", {"path": path}, idempotent=True)
        return UsedArtifact(self.client, path)

    def finish(self, state: str = "finished", summary: dict | None = None) -> None:
        body = {"state": state, "summary": summary or {}}
        self.client.api("POST", self._route() + "finish/", body, idempotent=True)


def run(
    project: str, name: str = "", job_type: str = "", config: dict | None = None, **client: Any
) -> AbstractContextManager[Run]:
    """A run that finishes when the block ends, as failed if the block raised; without a
    `name` the server gives it a readable one."""
    return Client(**client).run(project, name, job_type, config)
