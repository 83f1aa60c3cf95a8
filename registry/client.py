"""HTTP client for the registry API: streamed, resumable, checked transfers."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from registry.streams import CHUNK_SIZE, copy_while_hashing, writing_behind

# At most this many bytes of small files travel inside the manifest request (as base64), so that
# logging them takes one request; the server takes JSON bodies of up to 1 MiB.
INLINE_BYTES = 512 * 1024

CONFIG = Path(os.environ.get("REGISTRY_CONFIG", Path.home() / ".config" / "registry.json"))


class RegistryError(Exception):
    """The server refused a request; `code` and the message say why and what to fix."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{message} ({status} {code})")
        self.status, self.code, self.message = status, code, message


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


def _send_chunks(stream: BinaryIO, progress: Progress) -> Iterator[memoryview]:
    """A file in large chunks through one reused buffer, reported to a progress bar.

    urllib would read a file body 8 KiB at a time; each chunk is sent before the next is read.
    """
    buffer = memoryview(bytearray(CHUNK_SIZE))
    while count := stream.readinto(buffer):
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
    def __init__(self, url: str | None = None, token: str | None = None, progress=None) -> None:
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

    # Transport

    def _send(self, method: str, url: str, body=None, headers=None, auth: bool = True):
        headers = dict(headers or {})
        if auth:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(url, data=body, method=method, headers=headers)
        try:
            return _opener.open(request)
        except urllib.error.HTTPError as error:
            if error.code in (301, 302, 303, 307, 308) and error.headers.get("Location"):
                target = urllib.parse.urljoin(url, error.headers["Location"])
                return self._send(method, target, body, headers={}, auth=False)
            raise self._error(error) from None

    @staticmethod
    def _error(error: urllib.error.HTTPError) -> RegistryError:
        try:
            detail = json.loads(error.read())["error"]
            return RegistryError(error.code, detail["code"], detail["message"])
        except (ValueError, KeyError, TypeError):
            return RegistryError(error.code, "http_error", str(error.reason))

    def api(
        self, method: str, route: str, payload: dict | None = None, query: dict | None = None
    ) -> Any:
        url = f"{self.url}/api/v1/{route.lstrip('/')}"
        if query:
            url += "?" + urllib.parse.urlencode(query)
        body = None if payload is None else json.dumps(payload).encode()
        headers = {"Content-Type": "application/json"} if body is not None else {}
        with self._send(method, url, body, headers) as response:
            return json.loads(response.read() or b"null")

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
            version = self.api("POST", collection, {"log": log, "aliases": list(aliases)})
            if version["link"] is not None:
                return version
        else:
            route = _route(
                "orgs", org, "teams", team, "projects", proj, "artifacts", name, "versions"
            )
            version = self.api("POST", route, body)
        for blob in version["missing"]:
            self._upload(by_sha[blob["sha256"]], blob)
        if version["state"] != "committed":
            version = self.api("POST", _route("versions", version["id"], "commit"))
        if link_to:
            version["link"] = self.link(version, link_to, aliases)
        return version

    def _upload(self, file: Path, blob: dict) -> None:
        progress = Progress(f"upload {file.name}", blob["size"], self.show_progress)
        headers = {**blob["upload_headers"], "Content-Length": str(blob["size"])}
        # A presigned storage URL carries its own signature: our token goes only to our server.
        to_server = blob["upload_url"].startswith(self.url + "/")
        with file.open("rb") as stream:
            self._send(
                "PUT",
                blob["upload_url"],
                _send_chunks(stream, progress),
                headers,
                auth=to_server,
            ).close()
        progress.close()

    def link(self, version: dict | str, target: str, aliases: list[str] = ()) -> dict:
        """Link a logged version into `<org>/<registry>/<collection>`."""
        version_id = version["id"] if isinstance(version, dict) else version
        route = _collection_route(target)
        return self.api("POST", route, {"version": version_id, "aliases": list(aliases)})

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
        return self.api("POST", self._linked_route(path) + "aliases/", {"alias": alias})

    def tag(self, path: str, tags: list[str]) -> dict:
        return self.api("POST", self._linked_route(path) + "tags/", {"tags": list(tags)})

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
        digest = hashlib.sha256()
        progress = Progress(f"download {file['path']}", file["size"], self.show_progress)
        with self._send("GET", f"{self.url}/api/v1/{route}") as response, partial.open("wb") as out:
            copy_while_hashing(_reporting(response.readinto, progress), writing_behind(out), digest)
        progress.close()
        if digest.hexdigest() != file["sha256"]:
            partial.unlink()
            raise RegistryError(0, "checksum_mismatch", f"{file['path']} arrived corrupted.")
        partial.replace(target)

    # Runs

    def start_run(self, project: str, name: str = "", job_type: str = "", config=None) -> Run:
        org, team, proj = split_project(project)
        route = _route("orgs", org, "teams", team, "projects", proj, "runs")
        data = self.api(
            "POST", route, {"name": name or "run", "job_type": job_type, "config": config or {}}
        )
        return Run(self, project, data["id"])


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
        self.client.api("POST", self._route() + "inputs/", {"path": path})
        return UsedArtifact(self.client, path)

    def finish(self, state: str = "finished", summary: dict | None = None) -> None:
        self.client.api(
            "POST", self._route() + "finish/", {"state": state, "summary": summary or {}}
        )


@contextmanager
def run(
    project: str, name: str = "", job_type: str = "", config: dict | None = None, **client: Any
) -> Iterator[Run]:
    """A run that finishes when the block ends, as failed if the block raised."""
    current = Client(**client).start_run(project, name, job_type, config)
    try:
        yield current
    except BaseException:
        current.finish("failed")
        raise
    current.finish("finished")
