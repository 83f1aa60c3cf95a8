"""Generate a large organization for benchmarks: thousands of collections, many links, many metrics.

This writes rows in bulk, outside the services (whose per-row checks and audit events would take
hours at this size); it is benchmark data, not a way to import real work.
"""

from __future__ import annotations

import hashlib
import io
import random
import time
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from apps.accounts.models import Organization, TeamRole, User, Visibility
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
from apps.lineage.models import Run, RunInput, RunOutput, RunState
from apps.registries.models import Alias, Collection, CollectionTag, Link
from apps.registries.services import create_registry

BATCH = 5000
LINEAGE_RUNS = 250
TAGS = ["vision", "nlp", "audio", "tabular", "baseline", "candidate", "prod", "research"]
VERSION_TAGS = ["reviewed", "quantized", "fp16", "distilled", "pruned", "onnx"]
FRAMEWORKS = ["pytorch", "jax", "tensorflow", "sklearn"]


class Command(BaseCommand):
    help = (
        "Create the organization 'scale' with many collections, links and metric values, so "
        "`bench_pages` can measure the pages at size. Run it once on a fresh database."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--collections", type=int, default=2000)
        parser.add_argument("--links", type=int, default=200_000)
        parser.add_argument("--metrics", type=int, default=1_000_000, help="metric values in all")
        parser.add_argument(
            "--restricted",
            type=int,
            default=200,
            help="more collections, as full as the others, in a restricted registry that the "
            "member bench-member may not see (for bench_search)",
        )
        parser.add_argument("--seed", type=int, default=7)

    def handle(self, *args: Any, **options: Any) -> None:
        collections, links, metric_values = (
            options["collections"],
            options["links"],
            options["metrics"],
        )
        if collections < 1 or links < collections:
            raise CommandError("Use at least one collection, and at least one link per collection.")
        rng = random.Random(options["seed"])
        started = time.perf_counter()
        # A version pool a tenth the size of the links keeps the metric values at the asked total.
        versions = max(links // collections, links // 10)
        metrics_per_version = max(1, metric_values // versions)
        if Organization.objects.filter(slug="scale").exists():
            raise CommandError(
                "The organization 'scale' exists already, and its audit log cannot be deleted. "
                "Seed a fresh database (e.g. a new DATABASE_URL) to change the sizes."
            )
        per_collection, restricted = links // collections, options["restricted"]
        with transaction.atomic():
            organization, admin = self._organization()
            version_ids = self._versions(organization, admin, versions, metrics_per_version, rng)
            models = organization.registries.get(slug="model")
            self._collections_and_links(
                models, admin, collections, per_collection, version_ids, rng
            )
            if restricted:
                hidden = create_registry(
                    actor=admin,
                    organization=organization,
                    name="Restricted",
                    visibility=Visibility.RESTRICTED,
                )
                self._collections_and_links(
                    hidden, admin, restricted, per_collection, version_ids, rng
                )
            self._lineage(admin, version_ids)
        if connection.vendor == "postgresql":
            # Statistics for the planner now, as autovacuum would give them a minute later:
            # without them it guesses the fresh tables empty and picks slow plans.
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded 'scale': {collections} collections, {links} links, {versions} versions "
                f"with {metrics_per_version} metrics each ({versions * metrics_per_version} "
                f"values), and {restricted} collections with {restricted * per_collection} "
                f"links in the restricted registry, in {time.perf_counter() - started:.0f} s. "
                "Sign in as bench (an organization admin) or bench-member (who does not see "
                "the restricted registry)."
            )
        )

    def _organization(self) -> tuple[Organization, User]:
        admin = User.objects.create_user("bench", password="registry-demo")
        organization = create_organization(name="Scale", slug="scale", admin=admin)
        team = organization.create_team("Bench")
        team.add_member(admin, TeamRole.ADMIN)
        member = User.objects.create_user("bench-member", password="registry-demo")
        organization.add_member(member)
        team.add_member(member)
        return organization, admin

    def _versions(self, organization, admin, count: int, metrics: int, rng) -> list[int]:
        project = Project.objects.create(team=organization.teams.get(), name="bench")
        artifact = Artifact.objects.create(
            project=project, name="model", artifact_type="model", next_version_number=count
        )
        content = b"benchmark weights\n"
        sha256 = hashlib.sha256(content).hexdigest()
        blob = store_blob(io.BytesIO(content), sha256=sha256, size=len(content))
        now = timezone.now()
        names = [f"metric_{n:03}" for n in range(metrics)]
        for start in range(0, count, BATCH):
            batch = [
                ArtifactVersion(
                    artifact=artifact,
                    number=number,
                    state=VersionState.COMMITTED,
                    digest=manifest_digest([FileSpec(f"v{number}.bin", blob.sha256, blob.size)]),
                    size=blob.size,
                    file_count=1,
                    metrics={name: round(rng.random(), 4) for name in names},
                    metadata={"epoch": number, "framework": rng.choice(FRAMEWORKS)},
                    created_by=admin,
                    committed_at=now,
                )
                for number in range(start, min(start + BATCH, count))
            ]
            ArtifactVersion.objects.bulk_create(batch)
        ids = list(artifact.versions.order_by("number").values_list("pk", flat=True))
        VersionTag.objects.bulk_create(
            (
                VersionTag(version_id=pk, name=tag)
                for pk in ids
                for tag in rng.sample(VERSION_TAGS, rng.randint(0, 2))
            ),
            batch_size=BATCH,
        )
        for start in range(0, len(ids), BATCH):
            ManifestEntry.objects.bulk_create(
                ManifestEntry(version_id=pk, path="weights.bin", blob=blob, size=blob.size)
                for pk in ids[start : start + BATCH]
            )
        return ids

    def _lineage(self, admin, version_ids: list[int]) -> None:
        """The first version is used by LINEAGE_RUNS runs, each logging one other version:
        a graph of about twice that many nodes at depth 2 for `bench_pages`."""
        project = Project.objects.get(artifacts__versions=version_ids[0])
        runs = Run.objects.bulk_create(
            Run(project=project, name=f"eval-{n:04}", run_id=f"eval{n:04}", job_type="evaluate",
                state=RunState.FINISHED, created_by=admin)
            for n in range(LINEAGE_RUNS)
        )  # fmt: skip
        RunInput.objects.bulk_create(RunInput(run=run, version_id=version_ids[0]) for run in runs)
        outputs = version_ids[1 : LINEAGE_RUNS + 1]
        RunOutput.objects.bulk_create(
            RunOutput(run=run, version_id=pk) for run, pk in zip(runs, outputs, strict=False)
        )

    def _collections_and_links(self, registry, admin, count, per_collection, version_ids, rng):
        """`count` collections of `per_collection` links each, tagged and described, made over
        the past two years and linked a few days apart, with latest, production and staging."""
        now = timezone.now()
        prefix = "collection" if registry.is_core else registry.slug
        Collection.objects.bulk_create(
            Collection(
                registry=registry,
                name=f"{prefix}-{n:05}",
                artifact_type="model",
                description=f"Benchmark model {n}, trained for the {rng.choice(TAGS)} team.",
                next_link_number=per_collection,
                created_by=admin,
            )
            for n in range(count)
        )
        collections = list(registry.collections.order_by("name"))
        for collection in collections:  # auto_now_add set them all to now
            collection.created_at = now - timedelta(days=rng.uniform(30, 730))
            collection.updated_at = now - timedelta(days=rng.uniform(0, 30))
        Collection.objects.bulk_update(collections, ["created_at", "updated_at"], batch_size=BATCH)
        CollectionTag.objects.bulk_create(
            CollectionTag(collection=c, name=tag)
            for c in collections
            for tag in rng.sample(TAGS, 2)
        )
        pending: list[Link] = []
        for collection in collections:
            chosen = rng.sample(version_ids, per_collection)
            pending.extend(
                Link.in_collection(
                    collection,
                    version_id=version_id,
                    number=number,
                    linked_by=admin,
                    linked_at=now - timedelta(days=3 * (per_collection - number)),
                )
                for number, version_id in enumerate(chosen)
            )
            if len(pending) >= BATCH:
                Link.objects.bulk_create(pending)
                pending = []
        Link.objects.bulk_create(pending)
        aliases = []
        by_collection: dict[int, list[int]] = {}
        links = Link.objects.filter(collection__registry=registry).order_by("number")
        for pk, collection_id in links.values_list("pk", "collection_id"):
            by_collection.setdefault(collection_id, []).append(pk)
        for collection_id, pks in by_collection.items():
            named = {"latest": pks[-1], "production": rng.choice(pks), "staging": rng.choice(pks)}
            aliases += [
                Alias(collection_id=collection_id, link_id=pk, name=name)
                for name, pk in named.items()
            ]
        Alias.objects.bulk_create(aliases, batch_size=BATCH)
