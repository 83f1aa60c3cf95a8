"""Generate teams with large legacy Model Registries, to time and test their migration.

This writes rows in bulk, outside the legacy services (whose per-row history entries would take
minutes at this size), but writes the history those services would have written: a creation,
a link per version with `latest` moving along, alias adds and moves, tags. It is test and
benchmark data, not a way to import real work.
"""

from __future__ import annotations

import hashlib
import io
import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from apps.accounts.models import (
    Organization,
    OrganizationMembership,
    OrganizationRole,
    Team,
    TeamMembership,
    TeamRole,
    User,
)
from apps.accounts.services import create_organization
from apps.artifacts.models import Artifact, ArtifactVersion, ManifestEntry, Project, VersionState
from apps.artifacts.services import FileSpec, manifest_digest
from apps.artifacts.storage import store_blob
from apps.legacy.models import (
    LegacyAction,
    LegacyAlias,
    LegacyEvent,
    LegacyModelTag,
    LegacyModelVersion,
    LegacyProtectedAlias,
    LegacyRegisteredModel,
    LegacyRegistryAdmin,
    LegacyVersionTag,
)
from apps.lib.validators import LATEST

BATCH = 2000
PASSWORD = "registry-demo"
PROTECTED = "production"
TASKS = ["classifier", "detector", "segmenter", "ranker", "embedder", "forecaster"]
MODEL_TAGS = ["vision", "nlp", "audio", "tabular", "baseline", "research", "customer-a"]
# Each team's people: (username suffix, team role, organization role). The first member is the
# team's legacy registry admin, so the migration's "legacy admin → admin" rule shows.
PEOPLE = [
    ("admin", TeamRole.ADMIN, OrganizationRole.MEMBER),
    ("member1", TeamRole.MEMBER, OrganizationRole.MEMBER),
    ("member2", TeamRole.MEMBER, OrganizationRole.MEMBER),
    ("viewer", TeamRole.VIEWER, OrganizationRole.VIEWER),
]
LINK_EVERY = timedelta(hours=6)


@dataclass
class Made:
    """What was written, to report it."""

    teams: list[str] = field(default_factory=list)
    models: int = 0
    versions: int = 0
    aliases: int = 0
    tags: int = 0
    events: int = 0


class Command(BaseCommand):
    help = (
        "Create teams with legacy Model Registries in an organization (made if missing): "
        "registered models, source versions linked into them over past weeks by different "
        "people, aliases (a protected 'production', a moved 'staging'), tags and their "
        "history, none migrated. Time the migration with `migrate_legacy_registry --all "
        "--org <slug>`. Never overwrites: it refuses if its teams or users exist."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", required=True, help="organization slug; made if missing")
        parser.add_argument("--teams", type=int, default=3)
        parser.add_argument("--models", type=int, default=50, help="registered models per team")
        parser.add_argument("--versions", type=int, default=20, help="versions per model")
        parser.add_argument(
            "--prefix", default="legacy", help="team slugs are <prefix>-1, <prefix>-2, …"
        )
        parser.add_argument("--seed", type=int, default=7, help="random seed, for repeatability")

    def handle(self, *args: Any, **options: Any) -> None:
        teams, models, versions = options["teams"], options["models"], options["versions"]
        if teams < 1 or models < 1 or versions < 0:
            raise CommandError("Use at least one team and one registered model per team.")
        started = time.perf_counter()
        with transaction.atomic():
            made, created_org = self.generate(
                options["org"], options["prefix"], teams, models, versions, options["seed"]
            )
        seconds = time.perf_counter() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded the legacy Model Registries of {', '.join(made.teams)} in "
                f"{options['org']}: {made.models} registered models, {made.versions} linked "
                f"versions, {made.aliases} aliases, {made.tags} tags and {made.events} history "
                f"entries in {seconds:.1f} s."
            )
        )
        if options["verbosity"] >= 1:
            who = f"{options['org']}-admin (organization admin) or " if created_org else ""
            self.stdout.write(
                f"Sign in as {who}<org>-<team>-admin with the password '{PASSWORD}'. "
                f"Migrate with: manage.py migrate_legacy_registry --org {options['org']} --all"
            )

    def generate(
        self, org_slug: str, prefix: str, teams: int, models: int, versions: int, seed: int
    ) -> tuple[Made, bool]:
        """Write everything; (what was made, whether the organization was made too)."""
        rng = random.Random(seed)
        slugs = [f"{prefix}-{n}" for n in range(1, teams + 1)]
        organization = Organization.objects.filter(slug=org_slug).first()
        usernames = [f"{org_slug}-{slug}-{suffix}" for slug in slugs for suffix, *_ in PEOPLE]
        if organization is None:
            usernames.append(f"{org_slug}-admin")
        self._refuse_to_overwrite(organization, org_slug, slugs, usernames)
        password = make_password(PASSWORD)  # hashed once: hashing per user takes seconds
        created_org = organization is None
        if organization is None:
            admin = User.objects.create(username=f"{org_slug}-admin", password=password)
            organization = create_organization(name=org_slug.title(), slug=org_slug, admin=admin)
        made = Made()
        content = b"legacy model weights\n"
        blob = store_blob(
            io.BytesIO(content), sha256=hashlib.sha256(content).hexdigest(), size=len(content)
        )
        now = timezone.now()
        for slug in slugs:
            team = organization.teams.create(name=slug.replace("-", " ").title(), slug=slug)
            people = self._people(organization, team, password)
            self._team(team, people, blob, models, versions, now, rng, made)
            made.teams.append(slug)
        return made, created_org

    def _refuse_to_overwrite(
        self, organization: Organization | None, org: str, slugs: list[str], usernames: list[str]
    ) -> None:
        names = {f"{slug.replace('-', ' ')}".lower() for slug in slugs}
        if organization is not None and (
            taken := [
                team.slug
                for team in organization.teams.all()
                if team.slug in slugs or team.name.lower() in names
            ]
        ):
            raise CommandError(
                f"Team(s) {', '.join(sorted(taken))} exist in {org} already, and seed_legacy "
                "never overwrites. Choose another --prefix or --org, or a fresh database."
            )
        if taken := list(
            User.objects.filter(username__in=usernames).values_list("username", flat=True)
        ):
            raise CommandError(
                f"User(s) {', '.join(sorted(taken)[:5])} exist already, and seed_legacy never "
                "overwrites. Choose another --prefix or --org, or a fresh database."
            )

    def _people(self, organization: Organization, team: Team, password: str) -> dict[str, User]:
        org, slug = organization.slug, team.slug
        users = User.objects.bulk_create(
            User(username=f"{org}-{slug}-{suffix}", password=password) for suffix, *_ in PEOPLE
        )
        people = dict(zip([suffix for suffix, *_ in PEOPLE], users, strict=True))
        OrganizationMembership.objects.bulk_create(
            OrganizationMembership(organization=organization, user=people[suffix], role=org_role)
            for suffix, _, org_role in PEOPLE
        )
        TeamMembership.objects.bulk_create(
            TeamMembership(team=team, user=people[suffix], role=team_role)
            for suffix, team_role, _ in PEOPLE
        )
        LegacyRegistryAdmin.objects.create(team=team, user=people["member1"])
        LegacyProtectedAlias.objects.create(team=team, name=PROTECTED)
        return people

    def _team(
        self,
        team: Team,
        people: dict[str, User],
        blob: Any,
        models: int,
        versions: int,
        now: datetime,
        rng: random.Random,
        made: Made,
    ) -> None:
        project = Project.objects.create(team=team, name="training")
        names = [f"{TASKS[m % len(TASKS)]}-{m:03}" for m in range(models)]
        writers = [people["admin"], people["member1"], people["member2"]]
        # The oldest model was registered 60 days ago; the versions follow every six hours.
        created = [now - timedelta(days=60) + timedelta(minutes=37 * m) for m in range(models)]
        registered = LegacyRegisteredModel.objects.bulk_create(
            LegacyRegisteredModel(
                team=team,
                name=name,
                description=f"## {name}\n\nGenerated by seed_legacy for team {team.slug}.",
                created_by=writers[m % len(writers)],
                created_at=created[m],
            )
            for m, name in enumerate(names)
        )
        sources = self._source_versions(project, names, versions, created, people, blob)
        links = []
        for model, source in zip(registered, sources, strict=True):
            links.extend(
                LegacyModelVersion(
                    registered_model=model,
                    version_id=version_id,
                    number=number,
                    linked_by=writers[(number + model.pk) % len(writers)],
                    linked_at=model.created_at + LINK_EVERY * (number + 1),
                )
                for number, version_id in enumerate(source)
            )
        links = _bulk(LegacyModelVersion, links)
        by_model: dict[int, list[LegacyModelVersion]] = {}
        for link in links:
            by_model.setdefault(link.registered_model_id, []).append(link)
        events: list[LegacyEvent] = []
        aliases: list[LegacyAlias] = []
        version_tags: list[LegacyVersionTag] = []
        model_tags: list[LegacyModelTag] = []
        for index, model in enumerate(registered):
            history = History(model, events)
            history.add(LegacyAction.CREATE, model.created_by, model.created_at)
            for tag in rng.sample(MODEL_TAGS, 2):
                model_tags.append(LegacyModelTag(registered_model=model, name=tag))
                history.add(LegacyAction.TAG_ADD, model.created_by, model.created_at, tag=tag)
            if index % 4 == 0:
                history.add(
                    LegacyAction.DESCRIPTION, people["member1"], model.created_at + timedelta(1)
                )
            placed = self._history(index, by_model.get(model.pk, []), people, rng, history)
            aliases.extend(placed)
            version_tags.extend(self._version_tags(model, by_model.get(model.pk, []), history))
        _bulk(LegacyModelTag, model_tags)
        _bulk(LegacyAlias, aliases)
        _bulk(LegacyVersionTag, version_tags)
        _bulk(LegacyEvent, events)
        made.models += len(registered)
        made.versions += len(links)
        made.aliases += len(aliases)
        made.tags += len(model_tags) + len(version_tags)
        made.events += len(events)

    def _source_versions(
        self,
        project: Project,
        names: list[str],
        versions: int,
        created: list[datetime],
        people: dict[str, User],
        blob: Any,
    ) -> list[list[int]]:
        """An artifact per registered model with `versions` committed versions, each logged an
        hour before it is linked; their ids, per model, in version order."""
        artifacts = Artifact.objects.bulk_create(
            Artifact(
                project=project, name=name, artifact_type="model", next_version_number=versions
            )
            for name in names
        )
        rows = []
        for artifact, registered_at in zip(artifacts, created, strict=True):
            for number in range(versions):
                path = f"weights-v{number}.bin"
                rows.append(
                    ArtifactVersion(
                        artifact=artifact,
                        number=number,
                        state=VersionState.COMMITTED,
                        digest=manifest_digest([FileSpec(path, blob.sha256, blob.size)]),
                        size=blob.size,
                        file_count=1,
                        metadata={"epoch": number + 1, "framework": "pytorch"},
                        metrics={"accuracy": round(0.6 + 0.39 * number / max(versions, 1), 4)},
                        created_by=people["member2"],
                        committed_at=registered_at + LINK_EVERY * (number + 1) - timedelta(hours=1),
                    )
                )
        rows = _bulk(ArtifactVersion, rows)
        _bulk(
            ManifestEntry,
            [
                ManifestEntry(
                    version=row, path=f"weights-v{row.number}.bin", blob=blob, size=blob.size
                )
                for row in rows
            ],
        )
        # auto_now_add stamped them now; they were logged when committed.
        ArtifactVersion.objects.filter(artifact__project=project).update(
            created_at=F("committed_at"), updated_at=F("committed_at")
        )
        ids: dict[int, list[int]] = {}
        for row in rows:
            ids.setdefault(row.artifact_id, []).append(row.pk)
        return [ids.get(artifact.pk, []) for artifact in artifacts]

    def _history(
        self,
        index: int,
        links: list[LegacyModelVersion],
        people: dict[str, User],
        rng: random.Random,
        history: History,
    ) -> list[LegacyAlias]:
        """Link entries with `latest` moving along, `staging` placed then moved on, the
        protected `production` placed (and sometimes moved) by the registry admin, and `best`
        on some models; the aliases where they end up."""
        holder: dict[str, LegacyModelVersion] = {}

        def place(name: str, link: LegacyModelVersion, actor: User, at: datetime) -> None:
            before = holder.get(name)
            if before is None:
                history.add(LegacyAction.ALIAS_ADD, actor, at, version=link.number, alias=name)
            elif before is not link:
                history.add(
                    LegacyAction.ALIAS_MOVE,
                    actor,
                    at,
                    version=link.number,
                    alias=name,
                    from_version=before.label,
                    to_version=link.label,
                )
            holder[name] = link

        count = len(links)
        staging = [max(0, count - 3), count - 2] if count >= 3 else [0]
        production = [max(0, count - 3)] + ([count - 2] if index % 3 == 0 else [])
        best = rng.randrange(count) if count and index % 5 == 1 else None
        for link in links:
            history.add(LegacyAction.LINK, link.linked_by, link.linked_at, version=link.number)
            place(LATEST, link, link.linked_by, link.linked_at)
            if link.number in staging:
                place("staging", link, people["member2"], link.linked_at + timedelta(minutes=10))
            if link.number in production:
                place(PROTECTED, link, people["member1"], link.linked_at + timedelta(hours=2))
            if link.number == best:
                place("best", link, people["admin"], link.linked_at + timedelta(minutes=20))
        return [
            LegacyAlias(registered_model=history.model, model_version=link, name=name)
            for name, link in holder.items()
        ]

    def _version_tags(
        self, model: LegacyRegisteredModel, links: list[LegacyModelVersion], history: History
    ) -> list[LegacyVersionTag]:
        """`reviewed` on every fifth version, added half an hour after it was linked."""
        tags = []
        for link in links[4::5]:
            tags.append(LegacyVersionTag(model_version=link, name="reviewed"))
            at = link.linked_at + timedelta(minutes=30)
            history.add(
                LegacyAction.TAG_ADD, link.linked_by, at, version=link.number, tag="reviewed"
            )
        return tags


class History:
    """Collects one registered model's history entries for a bulk insert."""

    def __init__(self, model: LegacyRegisteredModel, events: list[LegacyEvent]) -> None:
        self.model, self.events = model, events

    def add(self, action: LegacyAction, actor: User | None, at: datetime, **data: Any) -> None:
        self.events.append(
            LegacyEvent(
                registered_model=self.model, action=action, actor=actor, created_at=at, data=data
            )
        )


def _bulk(model: Any, rows: list[Any]) -> list[Any]:
    """bulk_create in batches; the rows come back with their primary keys."""
    for start in range(0, len(rows), BATCH):
        model.objects.bulk_create(rows[start : start + BATCH])
    return rows
