"""Numbering under contention: many writers at once get every number once, with no gap.

Runs on PostgreSQL only: SQLite serializes writers with one database lock, so it cannot show
that the row locks do their job.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable

import pytest
from django.db import connection

from apps.artifacts.models import ArtifactVersion
from apps.artifacts.services import FileSpec, log_version
from apps.registries import services
from apps.registries.models import Alias, Link
from apps.registries.services import link_version
from tests.factories import make_version

WRITERS = 16

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="row-lock contention needs PostgreSQL"
    ),
]


def run_at_once(jobs: list[Callable[[], object]]) -> list[BaseException]:
    """Start every job on its own thread and connection at the same instant; return errors."""
    barrier = threading.Barrier(len(jobs))
    errors: list[BaseException] = []

    def work(job: Callable[[], object]) -> None:
        try:
            barrier.wait()
            job()
        except BaseException as error:  # collected and asserted on below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


def test_simultaneous_logs_and_links_get_every_number_once(project, member, models_registry):
    to_link = [make_version(project, member, name="checkpoint") for _ in range(WRITERS)]

    def log(n: int) -> Callable[[], object]:
        return lambda: log_version(
            actor=member,
            project=project,
            name="contended",
            artifact_type="model",
            files={"weights.bin": f"weights {n}".encode()},
        )

    def link(version: ArtifactVersion) -> Callable[[], object]:
        # The collection does not exist yet: the writers also race to create it.
        return lambda: link_version(
            actor=member, version=version, registry=models_registry, collection_name="race"
        )

    errors = run_at_once([log(n) for n in range(WRITERS)] + [link(v) for v in to_link])

    assert errors == []
    numbers = ArtifactVersion.objects.filter(artifact__name="contended").values_list(
        "number", flat=True
    )
    assert sorted(numbers) == list(range(WRITERS))
    links = Link.objects.filter(collection__name="race")
    assert sorted(links.values_list("number", flat=True)) == list(range(WRITERS))
    latest = Alias.objects.get(collection__name="race", name="latest")
    assert latest.link.number == WRITERS - 1


def test_simultaneous_log_and_links_in_one_step_get_every_number_once(
    project, member, models_registry
):
    """The client's one-request path: each writer logs new content and links it at once."""

    def log_and_link(n: int) -> Callable[[], object]:
        content = f"weights {n}".encode()
        files = [FileSpec("weights.bin", hashlib.sha256(content).hexdigest(), len(content))]
        return lambda: services.log_and_link(
            actor=member,
            manifest={
                "project": project,
                "name": "one-step",
                "artifact_type": "model",
                "files": files,
            },
            sources={files[0].sha256: content},
            registry=models_registry,
            collection_name="one-step",
            aliases=["candidate"],
        )

    errors = run_at_once([log_and_link(n) for n in range(WRITERS)])

    assert errors == []
    versions = ArtifactVersion.objects.filter(artifact__name="one-step")
    assert sorted(versions.values_list("number", flat=True)) == list(range(WRITERS))
    links = Link.objects.filter(collection__name="one-step")
    assert sorted(links.values_list("number", flat=True)) == list(range(WRITERS))
    assert Alias.objects.filter(collection__name="one-step", name="candidate").count() == 1
