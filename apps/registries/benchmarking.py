"""Pieces of `manage.py bench_serve`: the data it builds on each side, and how it times requests.

`build_ours` runs in a child `manage.py` whose DATABASE_URL names the benchmark's database, so it
writes there through the ordinary models. MLflow's side is built through its REST API only.
"""

from __future__ import annotations

import hashlib
import http.client
import io
import json
import math
import statistics
import threading
import time
import urllib.parse
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import ApiToken, TeamRole, User
from apps.accounts.services import create_organization
from apps.artifacts.models import (
    Artifact,
    ArtifactVersion,
    ManifestEntry,
    Project,
    VersionState,
    VersionTag,
)
from apps.artifacts.services import FileSpec, manifest_digest
from apps.artifacts.storage import store_blob
from apps.registries.models import Alias, Collection, Link

# The same shape on both sides: an organization's Models registry (MLflow has one registry),
# collections named alike, each version with three tags, `champion` and `challenger` on two
# versions of each collection (and, ours only, `latest` on the newest, as the product keeps it).
ORG = TEAM = PROJECT = USER = "bench"
REGISTRY = "model"
BIG = "collection-big"
WRITES_SERIAL = "writes-serial"
WRITES_CONCURRENT = "writes-concurrent"
CREATE_ALIAS = "candidate"
FILE = "model.bin"
BATCH = 5000
MLFLOW_API = "/api/2.0/mlflow"


class BenchError(Exception):
    """A server answered something other than what the benchmark needs."""


def collection_names(count: int) -> list[str]:
    return [f"collection-{n:04}" for n in range(count)]


def shapes(collections: int, versions: int, big: int) -> dict[str, int]:
    """Versions per collection; the write targets start empty."""
    return {
        BIG: big,
        **dict.fromkeys(collection_names(collections), versions),
        WRITES_SERIAL: 0,
        WRITES_CONCURRENT: 0,
    }


def alias_positions(count: int) -> dict[str, int]:
    """Which version (0-based) holds each alias in a collection of `count` versions."""
    return {"champion": count - 3, "challenger": count - 2} if count else {}


def version_tags(number: int) -> dict[str, str]:
    return {
        "team": "bench",
        "epoch": str(number % 10),
        "task": ("vision", "nlp", "audio")[number % 3],
    }


# Ours, built in bulk (like seed_scale): hours through the services at this size, seconds here.


def build_ours(collections: int, versions: int, big: int) -> dict[str, str]:
    """The organization `bench` with its data, and its admin's API token and session cookie."""
    sizes = shapes(collections, versions, big)
    now = timezone.now()
    with transaction.atomic():
        user = User.objects.create_user(USER)
        organization = create_organization(name="Bench", slug=ORG, admin=user)
        team = organization.create_team("Bench")
        team.add_member(user, TeamRole.ADMIN)
        project = Project.objects.create(team=team, name=PROJECT)
        registry = organization.registries.get(slug=REGISTRY)
        content = b"benchmark weights\n"
        blob = store_blob(
            io.BytesIO(content), sha256=hashlib.sha256(content).hexdigest(), size=len(content)
        )
        digest = manifest_digest([FileSpec(FILE, blob.sha256, blob.size)])
        artifacts = Artifact.objects.bulk_create(
            Artifact(project=project, name=name, artifact_type="model", next_version_number=count)
            for name, count in sizes.items()
            if count
        )
        made = ArtifactVersion.objects.bulk_create(
            (
                ArtifactVersion(
                    artifact=artifact,
                    number=number,
                    state=VersionState.COMMITTED,
                    digest=digest,
                    size=blob.size,
                    file_count=1,
                    metadata={"epoch": number},
                    metrics={"accuracy": round(0.5 + number / (2 * sizes[artifact.name]), 4)},
                    created_by=user,
                    committed_at=now,
                )
                for artifact in artifacts
                for number in range(sizes[artifact.name])
            ),
            batch_size=BATCH,
        )
        ManifestEntry.objects.bulk_create(
            (ManifestEntry(version=v, path=FILE, blob=blob, size=blob.size) for v in made),
            batch_size=BATCH,
        )
        VersionTag.objects.bulk_create(
            (
                VersionTag(version=v, name=f"{key}-{value}")
                for v in made
                for key, value in version_tags(v.number).items()
            ),
            batch_size=BATCH,
        )
        versions_of: dict[str, list[ArtifactVersion]] = {name: [] for name in sizes}
        for version in made:
            versions_of[version.artifact.name].append(version)
        links_of = {
            collection.name: Link.objects.bulk_create(
                Link.in_collection(
                    collection,
                    version=version,
                    number=version.number,
                    linked_by=user,
                    linked_at=now,
                )
                for version in versions_of[collection.name]
            )
            for collection in Collection.objects.bulk_create(
                Collection(
                    registry=registry,
                    name=name,
                    artifact_type="model",
                    next_link_number=count,
                    created_by=user,
                )
                for name, count in sizes.items()
            )
        }
        Alias.objects.bulk_create(
            Alias(collection=linked[0].collection, link=linked[position], name=name)
            for linked in links_of.values()
            if linked
            for name, position in {
                **alias_positions(len(linked)),
                "latest": len(linked) - 1,
            }.items()
        )
    _, token = ApiToken.issue(user, "bench_serve")
    return {"token": token, "cookie": session_cookie(user)}


def session_cookie(user: User) -> str:
    """The cookie a browser holds after `user` signs in, made as the login view makes it."""
    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


# HTTP: a fresh connection per request, as scripts open them and as sync workers close them.


def fetch(
    port: int, method: str, path: str, body: bytes | None = None, headers: dict | None = None
) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def getter(port: int, path: str, headers: dict | None = None) -> Callable[[], None]:
    """One GET that must answer 200; its body is read whole but not parsed."""

    def get() -> None:
        status, body = fetch(port, "GET", path, headers=headers)
        if status != 200:
            raise BenchError(f"GET {path} answered {status}: {body[:300]!r}")

    return get


def mlflow(port: int, method: str, route: str, payload: dict | None = None) -> dict:
    """Call MLflow's REST API: JSON in the body for POST, in the query string for GET."""
    path = f"{MLFLOW_API}/{route}"
    body = None
    if method == "GET" and payload:
        path += "?" + urllib.parse.urlencode(payload)
    elif payload is not None:
        body = json.dumps(payload).encode()
    headers = {"Content-Type": "application/json"} if body else {}
    status, answer = fetch(port, method, path, body, headers)
    if status != 200:
        raise BenchError(f"MLflow {method} {route} answered {status}: {answer[:300]!r}")
    return json.loads(answer)


# MLflow's side, through its REST API: a model at a time per thread, versions in order.


def build_mlflow(port: int, collections: int, versions: int, big: int, threads: int) -> dict:
    """Registered models shaped like ours; returns the run each model's versions come from."""
    experiment = mlflow(port, "POST", "experiments/create", {"name": "bench"})["experiment_id"]
    sizes = shapes(collections, versions, big)
    with ThreadPoolExecutor(threads) as pool:
        # The big model comes first: started last, it alone would set the build's length.
        runs = pool.map(lambda item: _mlflow_model(port, experiment, *item), sizes.items())
        return dict(zip(sizes, runs, strict=True))


def _mlflow_model(port: int, experiment: str, name: str, count: int) -> str:
    mlflow(port, "POST", "registered-models/create", {"name": name})
    run = mlflow(port, "POST", "runs/create", {"experiment_id": experiment, "run_name": name})
    run_id = run["run"]["info"]["run_id"]
    for number in range(count):
        tags = [{"key": key, "value": value} for key, value in version_tags(number).items()]
        mlflow_create_version(port, name, run_id, tags)
    for alias, position in alias_positions(count).items():
        mlflow(
            port,
            "POST",
            "registered-models/alias",
            {"name": name, "alias": alias, "version": str(position + 1)},
        )
    return run_id


def mlflow_create_version(port: int, name: str, run_id: str, tags: list | None = None) -> str:
    """A model version from a run's model, as MlflowClient.create_model_version sends it."""
    payload = {"name": name, "source": f"runs:/{run_id}/model", "run_id": run_id}
    if tags:
        payload["tags"] = tags
    return mlflow(port, "POST", "model-versions/create", payload)["model_version"]["version"]


# Timing


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def summary(timings: list[float]) -> tuple[float, float]:
    return statistics.median(timings), percentile(timings, 0.95)


def latencies(
    operations: dict[Any, Callable[[], None]], count: int, block: int, warmup: int = 3
) -> dict[Any, list[float]]:
    """Milliseconds per call of each operation, one caller, `count` calls each after a warm-up.

    The operations take turns in blocks of `block` calls, in reversed order every other round,
    so that whatever else the machine does in the meantime falls on all of them alike.
    """
    for operation in operations.values():
        for _ in range(warmup):
            operation()
    timings: dict[Any, list[float]] = {label: [] for label in operations}
    order = list(operations)
    while any(len(done) < count for done in timings.values()):
        for label in order:
            for _ in range(min(block, count - len(timings[label]))):
                started = time.perf_counter()
                operations[label]()
                timings[label].append((time.perf_counter() - started) * 1000)
        order.reverse()
    return timings


@dataclass
class Rate:
    done: int = 0
    errors: int = 0
    seconds: float = 0.0
    first_error: str = ""

    @property
    def per_second(self) -> float:
        return self.done / self.seconds if self.seconds else 0.0

    def add(self, other: Rate) -> None:
        self.done += other.done
        self.errors += other.errors
        self.seconds += other.seconds
        self.first_error = self.first_error or other.first_error


def hammer(operation: Callable[[], None], clients: int, seconds: float) -> Rate:
    """Call `operation` from `clients` threads at once for `seconds`; count what succeeded."""
    rate = Rate()
    lock = threading.Lock()
    barrier = threading.Barrier(clients + 1)

    def client() -> None:
        barrier.wait()
        while time.perf_counter() < deadline:
            try:
                operation()
            except Exception as error:  # counted and reported: the load goes on
                with lock:
                    rate.errors += 1
                    rate.first_error = rate.first_error or f"{type(error).__name__}: {error}"
            else:
                with lock:
                    rate.done += 1

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    started = time.perf_counter()
    deadline = started + seconds
    barrier.wait()
    for thread in threads:
        thread.join()
    rate.seconds = time.perf_counter() - started
    return rate


def throughputs(
    operations: dict[Any, Callable[[], None]], clients: int, seconds: float
) -> dict[Any, Rate]:
    """Each operation under `clients` callers for `seconds` in all, in two halves taken in
    turn (A B B A), so that both sides share the same stretch of machine time."""
    rates = {label: Rate() for label in operations}
    order = list(operations)
    for _ in range(2):
        for label in order:
            rates[label].add(hammer(operations[label], clients, seconds / 2))
        order.reverse()
    return rates


def numbering(numbers: list[int], first: int) -> tuple[int, int]:
    """Duplicate numbers, and numbers missing from `first` up to the highest."""
    duplicates = len(numbers) - len(set(numbers))
    missing = len(set(range(first, max(numbers, default=first - 1) + 1)) - set(numbers))
    return duplicates, missing


# Processes


def process_tree(root: int) -> list[tuple[int, int]]:
    """(pid, depth) of `root` and every process below it, parents before children."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # it has just exited
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found, pending = [], [(root, 0)]
    while pending:
        pid, depth = pending.pop()
        found.append((pid, depth))
        pending.extend((child, depth + 1) for child in sorted(children.get(pid, []), reverse=True))
    return found


def memory_mb(pid: int) -> tuple[float, float]:
    """Resident and proportional set sizes: PSS splits shared pages among their sharers, so
    the PSS of a server's processes add up to what it costs the machine."""
    rss = pss = 0.0
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Rss:"):
            rss = int(line.split()[1]) / 1024
        elif line.startswith("Pss:"):
            pss = int(line.split()[1]) / 1024
    return rss, pss


def command_of(pid: int, width: int = 60) -> str:
    """The process's command line with paths shortened to their last part."""
    words = Path(f"/proc/{pid}/cmdline").read_bytes().decode().rstrip("\0").split("\0")
    words = [Path(word).name if word.startswith("/") else word for word in words]
    if words[0].startswith("python"):  # the script or module after it says more
        words = words[2:] if words[1:2] == ["-m"] else words[1:]
    line = " ".join(words)
    return line if len(line) <= width else line[: width - 1] + "…"
