"""Measure automations end to end: from a registry change to its webhook arriving, through one
`db_worker` process, as `make run` and a deployment run them.

In-process: a loopback HTTP receiver that notes when each `webhook-id` arrives, and the registry
changes (an alias moved through the services, each in its own transaction, as a request makes
it). In another process: one `manage.py db_worker` on the same database, which sends them.
Figures are printed, never asserted.
"""

from __future__ import annotations

import os
import random
import secrets
import subprocess
import sys
import threading
import time
from contextlib import ExitStack, nullcontext
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.test.utils import override_settings

from apps.accounts.models import TeamRole, User
from apps.accounts.services import create_organization
from apps.artifacts.services import create_project, log_version
from apps.automations import services as automations
from apps.automations.delivery import standard_webhooks_key
from apps.automations.models import Event, Execution, ExecutionStatus
from apps.automations.payloads import GITHUB_DISPATCH_EXAMPLE
from apps.demo.receiver import new_secret, signature_holds
from apps.jobs.models import Worker
from apps.registries.benchmarking import percentile
from apps.registries.management.commands.bench_serve import sigterm_interrupts, stop
from apps.registries.services import link_version, set_alias

ALIAS = "production"
WORKER_START_TIMEOUT = 60
PACED_TIMEOUT = 60


@dataclass
class Receiver:
    """A loopback endpoint that checks each request's signature, answers 200 at once, and notes
    when each webhook-id arrived (every time it did)."""

    server: ThreadingHTTPServer
    key: bytes
    arrivals: dict[str, list[float]] = field(default_factory=dict)  # time.perf_counter()
    verified: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/hook"

    def first_arrival(self, message_id: str) -> float | None:
        with self.lock:
            return self.arrivals.get(message_id, [None])[0]

    def seen(self) -> set[str]:
        with self.lock:
            return set(self.arrivals)


def start_receiver(secret: str) -> Receiver:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            at = time.perf_counter()
            message_id = self.headers.get("webhook-id", "")
            good = signature_holds(
                receiver.key,
                message_id,
                self.headers.get("webhook-timestamp", ""),
                body,
                self.headers.get("webhook-signature", ""),
            )
            with receiver.lock:
                receiver.arrivals.setdefault(message_id, []).append(at)
                receiver.verified += good
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver = Receiver(server, standard_webhooks_key(secret))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return receiver


def database_url() -> str:
    """This process's database, for the worker: the one the command writes to, even when it is
    not the environment's (a test database)."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        if connection.is_in_memory_db():
            raise CommandError(
                "The worker runs in another process and cannot share an in-memory SQLite "
                "database: use a database file or PostgreSQL (DATABASE_URL)."
            )
        return f"sqlite:///{db['NAME']}"
    if connection.vendor != "postgresql":
        raise CommandError(f"Use SQLite or PostgreSQL, not {connection.vendor}.")
    user = quote(db["USER"], safe="")
    password = f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else ""
    return f"postgres://{user}{password}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


def load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


class Command(BaseCommand):
    help = (
        "Time automations end to end through one db_worker process: event to delivery "
        "(p50, p95) for paced events, then a burst (delivered, lost, duplicated, throughput). "
        "Each run adds an organization of its own: use a scratch database."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--events", type=int, default=50, help="paced, for the latency")
        parser.add_argument(
            "--pace",
            type=float,
            help="seconds: each paced event waits for the last delivery, then 0 to this long "
            "(default: the worker's interval, so events fall anywhere in its polling cycle)",
        )
        parser.add_argument("--burst", type=int, default=1000, help="events fired at once")
        parser.add_argument(
            "--backlog",
            type=int,
            default=1000,
            help="events committed in one transaction, for the worker's own pace (0: none)",
        )
        parser.add_argument(
            "--timeout", type=float, default=300, help="seconds to wait for the burst's deliveries"
        )
        parser.add_argument(
            "--worker-interval",
            type=float,
            default=1.0,
            help="seconds the worker sleeps when it finds no task (db_worker --interval; "
            "make run uses its default, 1)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["events"] < 1 or options["burst"] < 1 or options["backlog"] < 0:
            raise CommandError("--events and --burst must be at least 1, --backlog at least 0.")
        if options["pace"] is None:
            options["pace"] = options["worker_interval"]
        self.options = options
        url = database_url()
        self.say(
            f"Database: {connection.vendor}; one db_worker, polling every "
            f"{options['worker_interval']} s when idle"
        )
        self.say(f"Load average (1, 5, 15 min) at start: {load()}")
        with ExitStack() as stack:
            stack.enter_context(sigterm_interrupts())
            # Loopback is where the receiver is: allowed here and in the worker.
            stack.enter_context(override_settings(AUTOMATIONS_ALLOW_PRIVATE_TARGETS=True))
            self.secret = new_secret()
            receiver = start_receiver(self.secret)
            stack.callback(receiver.server.server_close)
            stack.callback(receiver.server.shutdown)
            self.build(receiver.url)
            if connection.vendor == "postgresql":
                # Planner statistics for the fresh rows: autovacuum may be off.
                with connection.cursor() as cursor:
                    cursor.execute("ANALYZE")
            worker = self.start_worker(url)
            stack.callback(stop, worker)
            self.latency(receiver)
            self.say(f"Load average before the burst: {load()}")
            self.burst(receiver, options["burst"])
            if options["backlog"]:
                self.say(f"Load average before the backlog: {load()}")
                self.burst(receiver, options["backlog"], together=True)
            self.say(f"Load average at end: {load()}")
        self.say(
            f"Standard Webhooks signatures verified: {receiver.verified} of "
            f"{sum(len(times) for times in receiver.arrivals.values())} requests"
        )

    def say(self, message: str) -> None:
        self.stdout.write(message)
        self.stdout.flush()

    def build(self, receiver_url: str) -> None:
        """An organization of its own, a collection of two versions in Models, and an
        automation that sends the GitHub example, signed, each time `production` moves."""
        name = f"bench-auto-{secrets.token_hex(3)}"
        user = User.objects.create_user(name)
        organization = create_organization(name=name, slug=name, admin=user)
        team = organization.create_team("Bench")
        team.add_member(user, TeamRole.ADMIN)
        project = create_project(actor=user, team=team, name="bench")
        models = organization.registries.get(slug="model")
        self.links = [
            link_version(
                actor=user,
                version=log_version(
                    actor=user,
                    project=project,
                    name="model",
                    artifact_type="model",
                    files={"weights.bin": f"weights {number}\n".encode()},
                ),
                registry=models,
                collection_name="deployed",
            )
            for number in range(2)
        ]
        signing = automations.create_secret(
            actor=user, team=team, name="SIGNING_SECRET", value=self.secret
        )
        webhook = automations.create_webhook(
            actor=user, team=team, name="receiver", url=receiver_url, signing_secret=signing
        )
        self.automation = automations.create_automation(
            actor=user,
            organization=organization,
            registry=models,
            name="Deploy on production",
            event=Event.ALIAS_ADD,
            alias_regex=f"^{ALIAS}$",
            webhook=webhook,
            payload=GITHUB_DISPATCH_EXAMPLE,
            # Every event is to be sent: no rate limit in the way.
            rate_limit_per_hour=10 * sum(self.options[n] for n in ("events", "burst", "backlog")),
        )
        self.user, self.moves = user, 0
        self.say(f"Organization {name}; receiver at {receiver_url}")

    def start_worker(self, database_url: str) -> subprocess.Popen:
        """One `manage.py db_worker` on this database, in a process group of its own; returns
        once it has registered (its first heartbeat)."""
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "AUTOMATIONS_ALLOW_PRIVATE_TARGETS": "true",
        }
        command = [
            sys.executable, "manage.py", "db_worker", "--no-reload", "--no-startup-delay",
            "--interval", str(self.options["worker_interval"]), "--verbosity", "0",
        ]  # fmt: skip
        worker = subprocess.Popen(command, cwd=settings.BASE_DIR, env=env, start_new_session=True)
        deadline = time.monotonic() + WORKER_START_TIMEOUT
        while not Worker.objects.filter(pid=worker.pid).exists():
            if worker.poll() is not None:
                raise CommandError(f"The worker exited with {worker.returncode}.")
            if time.monotonic() > deadline:
                stop(worker)
                raise CommandError(f"The worker did not start in {WORKER_START_TIMEOUT} s.")
            time.sleep(0.05)
        return worker

    def move(self) -> None:
        """Move `production` to the other version: one event."""
        self.moves += 1
        set_alias(actor=self.user, link=self.links[self.moves % 2], name=ALIAS)

    def sent_since(self, last_id: int) -> dict[str, int]:
        """The executions recorded after `last_id`, by webhook-id."""
        executions = self.automation.executions.filter(id__gt=last_id).values_list("uid", "id")
        return {str(uid): pk for uid, pk in executions}

    def last_execution(self) -> int:
        return Execution.objects.order_by("-id").values_list("id", flat=True).first() or 0

    def latency(self, receiver: Receiver) -> None:
        """Events one at a time, each after the last arrived and a random pause, so that they
        fall anywhere in the worker's polling cycle."""
        rng = random.Random(7)
        events, pace = self.options["events"], self.options["pace"]
        timings, lost = [], 0
        for _ in range(events):
            time.sleep(rng.uniform(0, pace))
            last = self.last_execution()
            started = time.perf_counter()
            self.move()
            [message_id] = self.sent_since(last)
            deadline = started + PACED_TIMEOUT
            while (arrived := receiver.first_arrival(message_id)) is None:
                if time.perf_counter() > deadline:
                    lost += 1
                    break
                time.sleep(0.001)
            else:
                timings.append((arrived - started) * 1000)
        if not timings:
            raise CommandError(f"No event was delivered within {PACED_TIMEOUT} s.")
        self.say(
            f"Event to delivery, {events} events paced 0-{pace:g} s apart: "
            f"p50 {percentile(timings, 0.5):.0f} ms, p95 {percentile(timings, 0.95):.0f} ms, "
            f"max {max(timings):.0f} ms"
            + (f"; {lost} not delivered within {PACED_TIMEOUT} s" if lost else "")
        )

    def burst(self, receiver: Receiver, count: int, *, together: bool = False) -> None:
        """Events as fast as one caller makes them, each in its own transaction as requests
        make them, or `together` in one, so that the worker finds them all ready at once and
        its own pace shows; then wait until every one has arrived, or the timeout."""
        last = self.last_execution()
        started = time.perf_counter()
        with transaction.atomic() if together else nullcontext():
            for _ in range(count):
                self.move()
        fired = time.perf_counter() - started
        sent = set(self.sent_since(last))
        deadline = time.perf_counter() + self.options["timeout"]
        while not sent <= receiver.seen() and time.perf_counter() < deadline:
            time.sleep(0.01)
        with receiver.lock:
            firsts = [receiver.arrivals[i][0] for i in sent if i in receiver.arrivals]
            duplicated = sum(1 for i in sent if len(receiver.arrivals.get(i, [])) > 1)
        failed = self.automation.executions.filter(id__gt=last, status=ExecutionStatus.FAILED)
        what = "committed together" if together else "each committed alone"
        self.say(
            f"{count} events {what}, made in {fired:.1f} s ({count / fired:.0f}/s): "
            f"{len(sent)} executions, {len(firsts)} delivered, {len(sent) - len(firsts)} lost, "
            f"{duplicated} duplicated, {failed.count()} failed"
        )
        if firsts:
            # Together, nothing can be sent before the commit: time from there.
            since = started + fired if together else started
            took = max(firsts) - since
            self.say(
                f"  the last delivered {took:.1f} s after the "
                f"{'commit' if together else 'first event'}: {len(firsts) / took:.0f} "
                f"deliveries/s; {max(firsts) - started - fired:.1f} s after the last event"
            )
