"""Serve ours and MLflow's model registry side by side on the same data; time both over HTTP.

Each side gets a fresh PostgreSQL database and the same shape of data, then runs as it would in
production: ours under gunicorn with registry_site/gunicorn_conf.py, MLflow as `mlflow server`
on gunicorn, from a virtual environment of its own (nothing of MLflow is imported here). The
same operations are timed on both, taking turns, as a script would call them. See the README.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from psycopg import sql

from apps.registries.benchmarking import (
    BIG,
    CREATE_ALIAS,
    FILE,
    ORG,
    PROJECT,
    REGISTRY,
    TEAM,
    WRITES_CONCURRENT,
    WRITES_SERIAL,
    build_mlflow,
    collection_names,
    command_of,
    fetch,
    getter,
    latencies,
    memory_mb,
    mlflow,
    mlflow_create_version,
    numbering,
    process_tree,
    summary,
    throughputs,
)
from registry.client import Client

MLFLOW_VERSION = "3.17.2"
PAGE_TARGET_MS = 25
BLOCK = 20  # calls in a row of one operation before the next takes its turn
BUILD_THREADS = 4
WORKERS = "2"
START_TIMEOUT = 180
STOP_TIMEOUT = 20
SIDES = {"ours": "ours", "mlflow": "MLflow"}
SERVERS = {
    "ours": f"ours gunicorn -c registry_site/gunicorn_conf.py, WEB_CONCURRENCY={WORKERS}",
    "mlflow": f"MLflow `mlflow server --workers {WORKERS}` on gunicorn sync workers",
}
# Each side's liveness probe: cheap, no database.
PROBES = {"ours": "/healthz", "mlflow": "/health"}

LIST_COLLECTIONS = "list collections"
LIST_VERSIONS = "list versions"
RESOLVE = "resolve :champion"
GET_VERSION = "get one version"
CREATE = "create + link"
READS = (LIST_COLLECTIONS, LIST_VERSIONS, RESOLVE, GET_VERSION)
REGISTRY_PAGE = "registry page"
COLLECTION_PAGE = "collection page"
VERSION_PAGE = "version page"
PAGES = (REGISTRY_PAGE, COLLECTION_PAGE, VERSION_PAGE)


@dataclass
class Server:
    side: str
    process: subprocess.Popen
    port: int
    started_in: float


@dataclass
class Results:
    timings: dict = field(default_factory=dict)  # (operation, side) -> milliseconds
    rates: dict = field(default_factory=dict)  # (operation, side) -> Rate
    creates: dict = field(default_factory=dict)  # side -> (Rate, version numbers found)
    flatness: dict = field(default_factory=dict)  # (operation, side, versions) -> milliseconds
    memory: dict = field(default_factory=dict)  # side -> [(depth, pid, command, rss, pss)]
    loads: dict = field(default_factory=dict)  # when -> (1, 5, 15 minute load averages)
    notes: list = field(default_factory=list)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run(command: list[str], env: dict[str, str], cwd: Path = settings.BASE_DIR) -> str:
    done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True)
    if done.returncode:
        raise CommandError(f"{' '.join(command[:4])} failed:\n{done.stderr[-3000:]}")
    return done.stdout


def start_server(
    side: str, command: list[str], env: dict, cwd: Path, port: int, log: Path
) -> Server:
    """Start a server in a process group of its own; return once it answers 200, with the time
    from spawning it to that first 200."""
    started = time.perf_counter()
    with log.open("ab") as output:
        process = subprocess.Popen(
            command, env=env, cwd=cwd, stdout=output, stderr=output, start_new_session=True
        )
    try:
        while True:
            if process.poll() is not None:
                raise CommandError(f"{side} exited with {process.returncode}:\n{tail(log)}")
            try:
                status, body = fetch(port, "GET", PROBES[side])
            except OSError:  # not listening yet
                status = None
            if status == 200:
                return Server(side, process, port, time.perf_counter() - started)
            if status is not None:
                raise CommandError(f"{side} answered {status} on {PROBES[side]}:\n{body[:500]!r}")
            if time.perf_counter() - started > START_TIMEOUT:
                raise CommandError(f"{side} did not answer in {START_TIMEOUT} s:\n{tail(log)}")
            time.sleep(0.02)
    except BaseException:
        stop(process)
        raise


def stop(process: subprocess.Popen) -> None:
    """Stop the server's whole process group: its workers and helpers as well."""
    group = process.pid
    deadline = time.monotonic() + STOP_TIMEOUT
    for signum in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(group, signum)
            while time.monotonic() < deadline:
                process.poll()  # reap the leader, or the group never empties
                os.killpg(group, 0)
                time.sleep(0.1)
        except ProcessLookupError:  # the group is gone
            break
    process.wait()


def tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:]


@contextmanager
def sigterm_interrupts() -> Iterator[None]:
    """SIGTERM stops a run as Ctrl-C does, through the cleanup that stops the servers."""

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def recreate_databases(pg_url: str, names: dict[str, str]) -> dict[str, str]:
    """Drop and create each database; return their URLs."""
    with psycopg.connect(pg_url, autocommit=True) as connection:
        for name in names.values():
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    parts = urllib.parse.urlsplit(pg_url)
    return {
        side: parts._replace(scheme="postgresql", path=f"/{name}").geturl()
        for side, name in names.items()
    }


def analyze(urls: list[str]) -> None:
    """Planner statistics now: autovacuum may be off, and fresh tables look empty without them."""
    for url in urls:
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute("ANALYZE")


class Command(BaseCommand):
    help = f"Time our registry against MLflow {MLFLOW_VERSION}'s on the same data, over HTTP."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--collections", type=int, default=200)
        parser.add_argument("--versions", type=int, default=50, help="per collection")
        parser.add_argument(
            "--big-versions", type=int, default=2000, help="in the one collection for flatness"
        )
        parser.add_argument("--requests", type=int, default=200, help="per operation and side")
        parser.add_argument(
            "--duration", type=float, default=10, help="seconds per operation and side, under load"
        )
        parser.add_argument("--clients", type=int, default=8)
        parser.add_argument("--only", choices=["ours", "mlflow", "both"], default="both")
        parser.add_argument(
            "--pg-url",
            default="postgresql://postgres@127.0.0.1:5432/postgres",
            help="a maintenance database of the server to create the benchmark's databases on",
        )
        parser.add_argument(
            "--mlflow-venv", default=os.environ.get("MLFLOW_VENV", "/root/mlflow-venv")
        )
        parser.add_argument(
            "--db-prefix",
            default="bench_serve",
            help="databases <prefix>_registry and <prefix>_mlflow are dropped and recreated",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if min(options["versions"], options["big_versions"]) < 3:
            raise CommandError("Use at least 3 versions per collection: aliases sit on the last 3.")
        if options["collections"] < 1 or options["requests"] < 1 or options["duration"] <= 0:
            raise CommandError("--collections, --requests and --duration must be above zero.")
        sides = list(SIDES) if options["only"] == "both" else [options["only"]]
        mlflow_bin = Path(options["mlflow_venv"]) / "bin" / "mlflow"
        if "mlflow" in sides and not mlflow_bin.exists():
            venv = options["mlflow_venv"]
            raise CommandError(
                f"No MLflow at {mlflow_bin}. Install it outside the repository:\n"
                f"  python3 -m venv {venv} && {venv}/bin/pip install mlflow=={MLFLOW_VERSION} "
                "gunicorn psycopg2-binary\n"
                "or pass --mlflow-venv PATH (or MLFLOW_VENV), or --only ours."
            )
        self.options, self.sides, self.mlflow_bin = options, sides, mlflow_bin
        # One key for the build and the server: session cookies are signed with it.
        self.secret_key = secrets.token_urlsafe(50)
        self.results = Results(loads={"at start": os.getloadavg()})
        with ExitStack() as stack:
            stack.enter_context(sigterm_interrupts())
            self.work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench_s-")))
            names = {"ours": "registry", "mlflow": "mlflow"}
            databases = recreate_databases(
                options["pg_url"], {s: f"{options['db_prefix']}_{names[s]}" for s in sides}
            )
            if "ours" in sides:
                self.credentials = self.build_ours(databases["ours"])
            if "mlflow" in sides:
                self.runs = self.build_mlflow(databases["mlflow"])
            analyze(list(databases.values()))
            self.say("Starting the servers…")
            self.servers = {}
            for side in sides:
                starter = self.start_ours if side == "ours" else self.start_mlflow
                self.servers[side] = starter(databases[side])
                stack.callback(stop, self.servers[side].process)
            self.results.loads["before measuring"] = os.getloadavg()
            self.measure()
            self.results.loads["at end"] = os.getloadavg()
        self.report()

    def say(self, message: str) -> None:
        self.stdout.write(message)
        self.stdout.flush()

    # Building

    def ours_env(self, database_url: str) -> dict[str, str]:
        # Where workers keep their metrics: it must exist before prometheus_client is imported,
        # and it goes with the work folder rather than staying in /tmp.
        metrics = self.work / "metrics"
        metrics.mkdir(exist_ok=True)
        return {
            **os.environ,
            "DEBUG": "false",
            "SECRET_KEY": self.secret_key,
            "ALLOWED_HOSTS": "127.0.0.1",
            "DATABASE_URL": database_url,
            "HOST": "127.0.0.1",
            "WEB_CONCURRENCY": WORKERS,
            "MEDIA_ROOT": str(self.work / "media"),
            "STATIC_ROOT": str(self.work / "static"),
            "PROMETHEUS_MULTIPROC_DIR": str(metrics),
        }

    def build_ours(self, database_url: str) -> dict[str, str]:
        """Migrate and fill our database in child processes that point Django at it."""
        self.say("Building ours: static files, migrations, data in bulk…")
        started = time.perf_counter()
        env = self.ours_env(database_url)
        manage = [sys.executable, "manage.py"]
        # With DEBUG off, pages name static files by their hashed names: collect them first.
        run([*manage, "collectstatic", "--noinput", "--verbosity", "0"], env)
        run([*manage, "migrate", "--noinput"], env)
        sizes = (
            self.options["collections"],
            self.options["versions"],
            self.options["big_versions"],
        )
        code = (
            "import json; from apps.registries.benchmarking import build_ours; "
            f"print(json.dumps(build_ours{sizes}))"
        )
        out = run([*manage, "shell", "--no-imports", "--command", code], env)
        self.results.notes.append(f"ours built in {time.perf_counter() - started:.0f} s")
        return json.loads(out.splitlines()[-1])

    def build_mlflow(self, database_url: str) -> dict[str, str]:
        """Fill MLflow's database through its own server: its first start creates its tables."""
        self.say("Building MLflow's data through its REST API…")
        started = time.perf_counter()
        server = self.start_mlflow(database_url)
        self.results.notes.append(
            f"MLflow's first start, creating its tables: {server.started_in:.1f} s"
        )
        try:
            runs = build_mlflow(
                server.port,
                self.options["collections"],
                self.options["versions"],
                self.options["big_versions"],
                BUILD_THREADS,
            )
        finally:
            stop(server.process)
        self.results.notes.append(
            f"MLflow built through its REST API, {BUILD_THREADS} threads, "
            f"in {time.perf_counter() - started:.0f} s"
        )
        return runs

    # Servers

    def start_ours(self, database_url: str) -> Server:
        port = free_port()
        env = {**self.ours_env(database_url), "PORT": str(port)}
        gunicorn = str(Path(sys.executable).with_name("gunicorn"))
        command = [gunicorn, "-c", "registry_site/gunicorn_conf.py", "registry_site.wsgi"]
        return start_server("ours", command, env, settings.BASE_DIR, port, self.work / "ours.log")

    def start_mlflow(self, database_url: str) -> Server:
        port = free_port()
        # SQLAlchemy's default PostgreSQL driver is psycopg 3; the venv has psycopg2.
        store = database_url.replace("postgresql://", "postgresql+psycopg2://", 1)
        command = [
            str(self.mlflow_bin), "server",
            "--backend-store-uri", store,
            "--host", "127.0.0.1", "--port", str(port),
            "--workers", WORKERS,
            # Given gunicorn options, `mlflow server` runs gunicorn (sync workers) over its Flask
            # app instead of uvicorn.
            "--gunicorn-opts", "--worker-class sync --log-level warning",
        ]  # fmt: skip
        # The job runner and its consumers serve GenAI jobs, not the model registry; ours does
        # not count its background worker either.
        env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
        folder = self.work / "mlflow"  # where it keeps artifacts, ./mlartifacts
        folder.mkdir(exist_ok=True)
        return start_server("mlflow", command, env, folder, port, self.work / "mlflow.log")

    # Measuring

    def measure(self) -> None:
        options, results = self.options, self.results
        collection = collection_names(options["collections"])[options["collections"] // 2]
        requests, clients, duration = options["requests"], options["clients"], options["duration"]
        by_side = {
            side: {
                **self.reads(side, collection),
                CREATE: self.creator(side, WRITES_SERIAL),
                **(self.pages(collection) if side == "ours" else {}),
            }
            for side in self.sides
        }
        # An operation's sides next to each other, so that they take turns back to back.
        serial = {
            (op, side): calls[op]
            for op in (*READS, CREATE, *PAGES)
            for side, calls in by_side.items()
            if op in calls
        }
        self.say(f"1 client: {len(serial)} operations, {requests} calls each, taking turns…")
        results.timings = latencies(serial, requests, BLOCK)

        self.say(f"{clients} clients: {duration:g} s per read operation and side…")
        reads = {key: call for key, call in serial.items() if key[0] in READS}
        results.rates = throughputs(reads, clients, duration)

        self.say(f"{clients} writers: {duration:g} s per side into one collection…")
        writers = {side: self.creator(side, WRITES_CONCURRENT) for side in self.sides}
        for side, rate in throughputs(writers, clients, duration).items():
            numbers = self.numbers(side, WRITES_CONCURRENT)
            results.creates[side] = (rate, numbers)

        self.say(f"Flatness: {options['versions']} versus {options['big_versions']} versions…")
        sizes = {collection: options["versions"], BIG: options["big_versions"]}
        flat = {
            (LIST_VERSIONS, side, size): self.reads(side, name)[LIST_VERSIONS]
            for side in self.sides
            for name, size in sizes.items()
        }
        if "ours" in self.sides:
            for name, size in sizes.items():
                flat[(COLLECTION_PAGE, "ours", size)] = self.pages(name)[COLLECTION_PAGE]
        results.flatness = latencies(flat, requests, BLOCK)

        for side, server in self.servers.items():
            results.memory[side] = []
            for pid, depth in process_tree(server.process.pid):
                try:
                    rss, pss = memory_mb(pid)
                    results.memory[side].append((depth, pid, command_of(pid), rss, pss))
                except OSError:  # it ended in the meantime
                    continue

    def reads(self, side: str, collection: str) -> dict[str, Callable[[], None]]:
        """The read operations on one side, as a script calls them."""
        port = self.servers[side].port
        middle = self.options["versions"] // 2
        # One page of a collection's versions, as many as a collection of the data shape holds:
        # the big collection then answers with as many rows, so flatness compares like with like.
        page = self.options["versions"]
        if side == "ours":
            auth = {"Authorization": f"Bearer {self.credentials['token']}"}
            base = f"/api/v1/orgs/{ORG}/registries/{REGISTRY}/collections/"
            path = f"{ORG}/{REGISTRY}/{collection}:champion"
            return {
                LIST_COLLECTIONS: getter(port, f"{base}?limit=100", auth),
                LIST_VERSIONS: getter(port, f"{base}{collection}/versions/?limit={page}", auth),
                RESOLVE: getter(port, f"/api/v1/resolve/?{query(path=path)}", auth),
                GET_VERSION: getter(port, f"{base}{collection}/versions/v{middle}/", auth),
            }
        api = "/api/2.0/mlflow"
        versions = query(filter=f"name='{collection}'", max_results=page)
        alias = query(name=collection, alias="champion")
        # MLflow numbers versions from 1: version middle + 1 is ours v<middle>.
        version = query(name=collection, version=middle + 1)
        return {
            LIST_COLLECTIONS: getter(port, f"{api}/registered-models/search?max_results=100"),
            LIST_VERSIONS: getter(port, f"{api}/model-versions/search?{versions}"),
            RESOLVE: getter(port, f"{api}/registered-models/alias?{alias}"),
            GET_VERSION: getter(port, f"{api}/model-versions/get?{version}"),
        }

    def pages(self, collection: str) -> dict[str, Callable[[], None]]:
        port = self.servers["ours"].port
        cookie = {"Cookie": self.credentials["cookie"]}
        base = f"/orgs/{ORG}/registry/{REGISTRY}/"
        middle = self.options["versions"] // 2
        return {
            REGISTRY_PAGE: getter(port, base, cookie),
            COLLECTION_PAGE: getter(port, f"{base}{collection}/", cookie),
            VERSION_PAGE: getter(port, f"{base}{collection}/v{middle}/", cookie),
        }

    def creator(self, side: str, collection: str) -> Callable[[], None]:
        """A new version linked into `collection` with the alias `candidate`, as a script
        makes one: ours through the client, MLflow as its client creates and aliases one."""
        port = self.servers[side].port
        if side == "mlflow":
            run_id = self.runs[collection]

            def create_in_mlflow() -> None:
                version = mlflow_create_version(port, collection, run_id)
                alias = {"name": collection, "alias": CREATE_ALIAS, "version": version}
                mlflow(port, "POST", "registered-models/alias", alias)

            return create_in_mlflow
        client = Client(f"http://127.0.0.1:{port}", self.credentials["token"], progress=False)

        def create_in_ours() -> None:
            # New bytes each time: a version like the artifact's last one would not be new.
            folder = self.work / "files" / str(threading.get_ident())
            folder.mkdir(parents=True, exist_ok=True)
            (folder / FILE).write_bytes(secrets.token_bytes(64))
            client.log_artifact(
                folder,
                project=f"{ORG}/{TEAM}/{PROJECT}",
                name=collection,
                type="model",
                link_to=f"{ORG}/{REGISTRY}/{collection}",
                aliases=[CREATE_ALIAS],
            )

        return create_in_ours

    def numbers(self, side: str, collection: str) -> list[int]:
        """Every version number in the collection, read back through the side's API."""
        port, found, cursor = self.servers[side].port, [], ""
        while True:
            more = {"cursor" if side == "ours" else "page_token": cursor} if cursor else {}
            if side == "ours":
                route = f"/api/v1/orgs/{ORG}/registries/{REGISTRY}/collections/{collection}"
                auth = {"Authorization": f"Bearer {self.credentials['token']}"}
                path = f"{route}/versions/?{query(limit=500, **more)}"
                status, body = fetch(port, "GET", path, headers=auth)
                if status != 200:
                    raise CommandError(f"Listing {collection} answered {status}: {body[:300]!r}")
                page = json.loads(body)
                found += [int(v["version"].removeprefix("v")) for v in page["versions"]]
                cursor = page["next"]
            else:
                search = {"filter": f"name='{collection}'", "max_results": 1000, **more}
                page = mlflow(port, "GET", "model-versions/search", search)
                found += [int(v["version"]) for v in page.get("model_versions", [])]
                cursor = page.get("next_page_token")
            if not cursor:
                return found

    # Reporting

    def report(self) -> None:
        options, notes = self.options, "; ".join(self.results.notes)
        self.say(
            f"\nbench_serve: {' and '.join(SIDES[side] for side in self.sides)} over HTTP on "
            "127.0.0.1, each on a PostgreSQL database of its own\n"
            f"Data: {options['collections']} collections of {options['versions']} versions (3 "
            f"tags each; champion, challenger) and one of {options['big_versions']} versions\n"
            f"Servers: {'; '.join(SERVERS[side] for side in self.sides)}\n"
            f"Build: {notes}"
        )
        self.report_operations()
        self.report_creates()
        if "ours" in self.sides:
            self.report_pages()
        self.report_flatness()
        starts = (
            f"{SIDES[side]} {server.started_in:.1f} s (GET {PROBES[side]})"
            for side, server in self.servers.items()
        )
        self.say(f"\nStart to first 200: {', '.join(starts)}")
        self.report_memory()
        loads = (
            f"{when} {' '.join(f'{value:.2f}' for value in load)}"
            for when, load in self.results.loads.items()
        )
        self.say(f"\nLoad average (1, 5, 15 min): {'; '.join(loads)}")

    def report_operations(self) -> None:
        options, results = self.options, self.results
        clients = options["clients"]
        self.say(
            f"\n1 client: ms per call, p50/p95 of {options['requests']} calls after 3 warm-ups, "
            f"in turns of {BLOCK}; {clients} clients: calls/s over {options['duration']:g} s. "
            "A fresh connection per call."
        )
        header = ["operation", "ours", "MLflow", "ours÷MLflow", f"/s, {clients} clients"]
        self.say(row(header))
        for op in (*READS, CREATE):
            ours, theirs = results.timings.get((op, "ours")), results.timings.get((op, "mlflow"))
            ratio = f"{summary(ours)[0] / summary(theirs)[0]:.2f}" if ours and theirs else "—"
            rates = [results.rates.get((op, side)) for side in SIDES]
            per_second = "/".join(f"{rate.per_second:.0f}" if rate else "—" for rate in rates)
            if op == CREATE:
                op, per_second = f"{op}, 1 client", "below"
            self.say(row([op, spread(ours), spread(theirs), ratio, per_second]))
        for (op, side), rate in results.rates.items():
            if rate.errors:
                self.say(f"  {op}, {SIDES[side]}: {rate.errors} errors; {rate.first_error}")
        self.say(
            f"Create: ours Client.log_artifact(..., link_to=..., aliases=['{CREATE_ALIAS}']); "
            f"MLflow create model version from a run, then set alias '{CREATE_ALIAS}'."
        )

    def report_creates(self) -> None:
        options = self.options
        self.say(
            f"\nCreates by {options['clients']} writers into one collection, "
            f"{options['duration']:g} s per side:"
        )
        for side, (rate, numbers) in self.results.creates.items():
            first = 0 if side == "ours" else 1
            duplicates, missing = numbering(numbers, first)
            error = f"; first error: {rate.first_error}" if rate.errors else ""
            self.say(
                f"  {SIDES[side]:<7}{rate.per_second:6.1f}/s, {rate.errors} errors; "
                f"{len(numbers)} versions for {rate.done} creates answered, numbered from "
                f"{first}: {duplicates} duplicate and {missing} missing numbers{error}"
            )

    def report_pages(self) -> None:
        self.say(f"\nOur pages (MLflow has none); target p50 <= {PAGE_TARGET_MS} ms:")
        for page in PAGES:
            p50, p95 = summary(self.results.timings[(page, "ours")])
            verdict = "met" if p50 <= PAGE_TARGET_MS else "missed"
            self.say(f"  {page:<18} p50 {p50:6.1f} ms   p95 {p95:6.1f} ms   {verdict}")

    def report_flatness(self) -> None:
        small, big = self.options["versions"], self.options["big_versions"]
        flatness = self.results.flatness
        self.say(
            f"\nFlatness: p50 ms in a collection of {small} versus {big} versions "
            f"(the first page: {small} versions by the API, 50 on the collection page):"
        )
        for op, side, size in flatness:
            if size == small:
                before = summary(flatness[op, side, small])[0]
                after = summary(flatness[op, side, big])[0]
                self.say(
                    f"  {op:<18}{SIDES[side]:<8}{before:7.1f} -> {after:7.1f}"
                    f"   ratio {after / before:.2f}"
                )

    def report_memory(self) -> None:
        self.say(f"\nMemory after the load, MB{'RSS':>47}{'PSS':>9}")
        for side, processes in self.results.memory.items():
            self.say(f"  {SIDES[side]}")
            for depth, pid, command, rss, pss in processes:
                label = f"{'  ' * depth}{pid} {command}"
                self.say(f"    {label[:64]:<64}{rss:9.1f}{pss:9.1f}")
            rss = sum(process[3] for process in processes)
            pss = sum(process[4] for process in processes)
            self.say(f"    {f'total, {len(processes)} processes':<64}{rss:9.1f}{pss:9.1f}")


def query(**params: Any) -> str:
    return urllib.parse.urlencode(params)


def spread(timings: list[float] | None) -> str:
    if not timings:
        return "—"
    p50, p95 = summary(timings)
    return f"{p50:.1f}/{p95:.1f}"


def row(cells: list[str]) -> str:
    """A line of the operations table: the name left, the figures right."""
    return f"{cells[0]:<24}" + "".join(f"{cell:>16}" for cell in cells[1:])
