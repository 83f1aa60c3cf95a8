"""Fill an empty installation with a believable demo organization, for trying the registry out.

It seeds every app, the legacy Model Registry too, so it lives in the top one (README: Layers).
"""

from __future__ import annotations

import csv
import io
import json
import random
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import (
    Organization,
    OrganizationRole,
    RegistryRole,
    Team,
    TeamRole,
    User,
    Visibility,
)
from apps.accounts.services import create_organization
from apps.artifacts.models import ArtifactVersion, Project
from apps.artifacts.services import create_project, log_version
from apps.automations import services as automations
from apps.automations.addresses import check_url
from apps.automations.models import Event, Webhook
from apps.automations.payloads import GITHUB_DISPATCH_EXAMPLE
from apps.demo import receiver
from apps.legacy import services as legacy
from apps.legacy.models import LegacyMigration, LegacyProtectedAlias, LegacyRegistryAdmin
from apps.lineage.models import Run
from apps.lineage.services import finish_run, record_input, start_run
from apps.registries import services
from apps.registries.models import Registry

ORG_SLUG = "acme"
# Projects of teams vision and nlp that the legacy registry's versions are logged in.
LEGACY_PROJECTS = ("imagenet-classifier", "sentiment")
# Team vision's webhook to the demo receiver, and the automation on Models that sends to it.
DEMO_WEBHOOK = "Demo receiver"
DEMO_AUTOMATION = "Deploy on production"
# Local use only: these accounts exist so a person can sign in to the demo.
DEMO_PASSWORD = "registry-demo"
# username: (organization role, what the persona is for)
PEOPLE = {
    "admin": (
        OrganizationRole.ADMIN,
        "organization admin: admin of every registry; staff in /admin/",
    ),
    "maria": (
        OrganizationRole.MEMBER,
        "member: logs and links in team vision, admin of Fine-tuned Models",
    ),
    "noah": (
        OrganizationRole.MEMBER,
        "member: admin of team nlp, so may migrate its legacy registry",
    ),
    "victor": (OrganizationRole.VIEWER, "organization viewer: reads, downloads, changes nothing"),
    "rita": (
        OrganizationRole.MEMBER,
        "member; restricted viewer of Fine-tuned Models: sees it, no downloads",
    ),
}


def weights(seed: int, size: int = 4096) -> bytes:
    """Deterministic bytes standing in for model weights."""
    return random.Random(seed).randbytes(size)


def csv_bytes(rows: list[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def json_bytes(value: Any) -> bytes:
    return (json.dumps(value, indent=2, sort_keys=True) + "\n").encode()


class Command(BaseCommand):
    help = (
        "Create the demo organization 'acme' with a user per role, teams, projects, runs, "
        "versions with real files, collections, aliases (a protected 'production'), tags and "
        "lineage, a legacy Model Registry for teams vision and nlp left to migrate, and an "
        "automation that sends a webhook to the demo receiver when production moves, so the "
        "registry can be tried at once. Does nothing if it exists (but adds what a demo made "
        "before them lacks: the legacy registry, the automation; and points the demo webhook "
        "at SITE_URL)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        self.verbosity = options["verbosity"]
        if Organization.objects.filter(slug=ORG_SLUG).exists():
            with transaction.atomic():
                added = self.add_missing_legacy_registry()
                automation = self.add_missing_automation()
            if added:
                self.stdout.write(
                    self.style.SUCCESS("Added a legacy Model Registry to the demo's teams.")
                )
                self.print_legacy_hint()
            elif not automation:
                self.stdout.write("The demo organization 'acme' exists already: nothing to do.")
            if automation:
                self.stdout.write(self.style.SUCCESS(automation))
            self.print_sign_in()
            self.print_automation_hint()
            return
        with transaction.atomic():
            self.seed()
        self.stdout.write(self.style.SUCCESS("Seeded the demo organization 'acme'."))
        self.print_legacy_hint()
        self.print_sign_in()
        self.print_automation_hint()

    def log(self, message: str) -> None:
        if self.verbosity >= 2:
            self.stdout.write(f"  {message}")

    def seed(self) -> None:
        users = self.create_people()
        admin, maria, noah = users["admin"], users["maria"], users["noah"]
        organization = create_organization(name="Acme ML", slug=ORG_SLUG, admin=admin)
        for username, (role, _) in PEOPLE.items():
            if username != "admin":
                organization.add_member(users[username], role)

        vision = organization.create_team("Vision")
        vision.add_member(admin, TeamRole.ADMIN)
        vision.add_member(maria, TeamRole.MEMBER)
        nlp = organization.create_team("NLP")
        nlp.add_member(noah, TeamRole.ADMIN)
        nlp.add_member(maria, TeamRole.VIEWER)

        imagenet = create_project(actor=maria, team=vision, name="imagenet-classifier")
        sentiment = create_project(actor=noah, team=nlp, name="sentiment")

        models = organization.registries.get(slug="model")
        datasets = organization.registries.get(slug="dataset")
        self.seed_vision(admin, maria, imagenet, models, datasets)
        self.seed_nlp(noah, sentiment, models)
        self.seed_custom_registry(organization, admin, maria, users["rita"], vision, imagenet)

        services.star(actor=maria, registry=models)
        services.star(actor=admin, registry=datasets)
        self.seed_legacy(admin, maria, noah, imagenet, sentiment)
        # Last: the changes above are history, and set nothing off.
        self.seed_automation(admin, vision, models)

    def create_people(self) -> dict[str, User]:
        users = {}
        for username in PEOPLE:
            user = User.objects.create_user(
                username=username, email=f"{username}@acme.example", password=DEMO_PASSWORD
            )
            users[username] = user
        users["admin"].is_staff = users["admin"].is_superuser = True
        users["admin"].save(update_fields=["is_staff", "is_superuser"])
        return users

    def run(self, actor: User, project: Project, name: str, job_type: str, **config: Any) -> Run:
        return start_run(actor=actor, project=project, name=name, job_type=job_type, config=config)

    def seed_vision(
        self, admin: User, maria: User, project: Project, models: Registry, datasets: Registry
    ) -> None:
        prep = self.run(maria, project, "gentle-river-1", "preprocess", source="imagenet-1k")
        rows = [
            {"image": f"img_{i:04d}.jpg", "label": label}
            for i, label in enumerate(["cat", "dog", "bird", "fish"] * 6)
        ]
        dataset = log_version(
            actor=maria,
            project=project,
            name="imagenet-subset",
            artifact_type="dataset",
            files={
                "labels.csv": csv_bytes(rows),
                "README.md": b"# ImageNet subset\n\n24 labelled images across 4 classes.\n",
                "splits.json": json_bytes({"train": 18, "validation": 6}),
            },
            metadata={"classes": 4, "images": 24, "source": "imagenet-1k"},
            run=prep,
        )
        finish_run(actor=maria, run=prep, summary={"rows": len(rows)})
        self.log(f"dataset {dataset}")
        dataset_link = services.link_version(
            actor=maria,
            version=dataset,
            registry=datasets,
            collection_name="imagenet-subset",
            aliases=["golden"],
        )
        services.add_collection_tags(
            actor=maria, collection=dataset_link.collection, tags=["vision", "classification"]
        )
        services.update_collection_description(
            actor=maria,
            collection=dataset_link.collection,
            description="## ImageNet subset\n\nA small, labelled image set for smoke-testing "
            "classifiers. **License:** demo data.",
        )

        services.add_protected_alias(actor=admin, registry=models, name="production")
        # Accuracy rises, then the last epoch overfits: production is not simply the newest.
        epochs = [(0.71, 0.92), (0.78, 0.71), (0.84, 0.52), (0.89, 0.38), (0.87, 0.41)]
        links = []
        for epoch, (accuracy, loss) in enumerate(epochs):
            train = self.run(
                maria, project, f"bright-forest-{epoch + 2}", "train", epochs=epoch + 1, lr=0.001
            )
            record_input(actor=maria, run=train, version=dataset)
            version = log_version(
                actor=maria,
                project=project,
                name="resnet50",
                artifact_type="model",
                files={
                    "model.safetensors": weights(epoch),
                    "config.json": json_bytes({"arch": "resnet50", "num_classes": 4}),
                    "README.md": f"# ResNet-50, epoch {epoch + 1}\n".encode(),
                },
                metadata={"framework": "pytorch", "arch": "resnet50", "epochs": epoch + 1},
                metrics={"accuracy": accuracy, "loss": loss, "f1": round(accuracy - 0.03, 3)},
                description=f"ResNet-50 fine-tuned for {epoch + 1} epoch(s).",
                run=train,
            )
            finish_run(actor=maria, run=train, summary={"accuracy": accuracy, "loss": loss})
            links.append(
                services.link_version(
                    actor=maria,
                    version=version,
                    registry=models,
                    collection_name="resnet-classifier",
                )
            )
        collection = links[0].collection
        services.add_collection_tags(actor=maria, collection=collection, tags=["vision", "cnn"])
        services.update_collection_description(
            actor=maria,
            collection=collection,
            description="## ResNet classifier\n\nClassifies the four ImageNet-subset classes.\n\n"
            "- **Architecture:** ResNet-50\n- **Deploy:** the version holding `production`.",
        )
        services.set_alias(actor=maria, link=links[2], name="staging")
        services.set_alias(actor=maria, link=links[3], name="staging")
        services.set_alias(actor=admin, link=links[2], name="production")
        services.set_alias(actor=admin, link=links[3], name="production")
        services.add_version_tags(actor=maria, link=links[3], tags=["reviewed"])

        best = links[3].version
        for name in ("calm-lake-8", "quiet-hill-9"):
            evaluation = self.run(admin, project, name, "evaluate", split="validation")
            record_input(actor=admin, run=evaluation, version=best)
            finish_run(actor=admin, run=evaluation, summary={"accuracy": 0.88})

    def seed_nlp(self, noah: User, project: Project, models: Registry) -> None:
        for step, f1 in enumerate([0.81, 0.86]):
            train = self.run(noah, project, f"swift-wind-{step + 1}", "train", model="bert-base")
            version = log_version(
                actor=noah,
                project=project,
                name="bert-sentiment",
                artifact_type="model",
                files={
                    "pytorch_model.bin": weights(100 + step),
                    "tokenizer.json": json_bytes({"vocab_size": 30522}),
                },
                metadata={"framework": "transformers", "base": "bert-base-uncased"},
                metrics={"f1": f1, "accuracy": round(f1 + 0.02, 3)},
                run=train,
            )
            finish_run(actor=noah, run=train, summary={"f1": f1})
            link = services.link_version(
                actor=noah, version=version, registry=models, collection_name="bert-sentiment"
            )
        services.add_collection_tags(actor=noah, collection=link.collection, tags=["nlp"])

    def seed_custom_registry(
        self,
        organization: Organization,
        admin: User,
        maria: User,
        rita: User,
        vision: Any,
        project: Project,
    ) -> None:
        registry = services.create_registry(
            actor=maria,
            organization=organization,
            name="Fine-tuned Models",
            description="Models fine-tuned for customers; restricted to the vision team.",
            visibility=Visibility.RESTRICTED,
            artifact_types=["model", "adapter"],
        )
        services.set_grant(actor=maria, registry=registry, role=RegistryRole.MEMBER, team=vision)
        services.set_grant(
            actor=maria, registry=registry, role=RegistryRole.RESTRICTED_VIEWER, user=rita
        )
        best = (
            ArtifactVersion.objects.committed()
            .filter(artifact__project=project, artifact__name="resnet50")
            .get(number=3)
        )
        link = services.link_version(
            actor=maria,
            version=best,
            registry=registry,
            collection_name="resnet-customer-a",
            aliases=["candidate"],
        )
        services.add_collection_tags(actor=maria, collection=link.collection, tags=["customer-a"])

    def seed_automation(self, admin: User, vision: Team, models: Registry) -> None:
        """Team vision's signing secret and webhook to the demo receiver, and an automation on
        Models that sends the GitHub repository_dispatch example there when `production`
        moves. Nothing when the receiver's address may not be sent to (loopback, unless
        AUTOMATIONS_ALLOW_PRIVATE_TARGETS): the next run with it allowed adds them."""
        if not self.may_send_to_receiver():
            return
        signing = automations.create_secret(
            actor=admin, team=vision, name=receiver.SECRET_NAME, value=receiver.new_secret()
        )
        webhook = automations.create_webhook(
            actor=admin,
            team=vision,
            name=DEMO_WEBHOOK,
            url=receiver.demo_url(),
            signing_secret=signing,
        )
        automations.create_automation(
            actor=admin,
            organization=vision.organization,
            registry=models,
            name=DEMO_AUTOMATION,
            description="Tells the deployment pipeline (here, the demo receiver) which model "
            "version now holds production, as a GitHub repository_dispatch would.",
            event=Event.ALIAS_ADD,
            alias_regex="^production$",
            webhook=webhook,
            payload=GITHUB_DISPATCH_EXAMPLE,
        )

    def may_send_to_receiver(self) -> bool:
        try:
            check_url(receiver.demo_url())
        except ValidationError:
            return False
        return True

    def add_missing_automation(self) -> str:
        """Seed the demo automation into a demo made before it existed, or without the receiver
        allowed; point the demo webhook at the receiver again when SITE_URL has changed (e.g.
        `make run PORT=8011`). What was done, or ''."""
        vision = Team.objects.filter(organization__slug=ORG_SLUG, slug="vision").first()
        admin = User.objects.filter(username="admin").first()
        if vision is None or admin is None or not self.may_send_to_receiver():
            return ""
        webhook = Webhook.objects.filter(team=vision, name=DEMO_WEBHOOK).first()
        if webhook is None:
            if vision.secrets.filter(name=receiver.SECRET_NAME).exists():
                return ""  # changed by hand since: leave it be
            self.seed_automation(admin, vision, vision.organization.registries.get(slug="model"))
            return f"Added the automation '{DEMO_AUTOMATION}', sending to the demo receiver."
        url = receiver.demo_url()
        # Only while it still points at a demo receiver: not once someone sent it elsewhere.
        if webhook.url != url and urlsplit(webhook.url).path.startswith(reverse("demo:webhooks")):
            automations.update_webhook(actor=admin, webhook=webhook, url=url)
            return f"Pointed the webhook '{DEMO_WEBHOOK}' at {url}."
        return ""

    def add_missing_legacy_registry(self) -> bool:
        """Seed the legacy registry into a demo made before it existed; False if it has one,
        or has been changed too much to add one."""
        organization = Organization.objects.get(slug=ORG_SLUG)
        teams = Team.objects.filter(organization=organization, slug__in=["vision", "nlp"])
        users = {user.username: user for user in User.objects.filter(username__in=PEOPLE)}
        if (
            teams.count() != 2
            or len(users) != len(PEOPLE)
            or teams.filter(legacy_models__isnull=False).exists()
            or LegacyMigration.objects.filter(team__in=teams).exists()
            or Project.objects.filter(team__in=teams, name__in=LEGACY_PROJECTS).count() != 2
        ):
            return False
        imagenet, sentiment = (
            Project.objects.get(team__in=teams, name=name) for name in LEGACY_PROJECTS
        )
        self.seed_legacy(users["admin"], users["maria"], users["noah"], imagenet, sentiment)
        return True

    def seed_legacy(
        self, admin: User, maria: User, noah: User, imagenet: Project, sentiment: Project
    ) -> None:
        """Both teams' legacy Model Registries, built over the past two months and not migrated,
        so the migration can be tried: maria administers vision's, noah nlp's."""
        vision, nlp = imagenet.team, sentiment.team
        LegacyRegistryAdmin.objects.create(team=vision, user=maria)
        LegacyRegistryAdmin.objects.create(team=nlp, user=noah)
        for team, names in ((vision, ["production"]), (nlp, ["production", "approved"])):
            LegacyProtectedAlias.objects.bulk_create(
                LegacyProtectedAlias(team=team, name=name) for name in names
            )
        now = timezone.now()

        def ago(weeks: float, **more: float) -> datetime:
            return now - timedelta(weeks=weeks) + timedelta(**more)

        classifier = legacy.register_model(
            actor=maria,
            team=vision,
            name="image-classifier",
            description="## Image classifier\n\nEfficientNet-B0 on the ImageNet subset.\n\n"
            "- **Owner:** maria\n- **Deploy:** the version holding `production`.",
            tags=["vision", "classification"],
            at=ago(8),
        )
        sources = self.legacy_sources(maria, imagenet, "efficientnet-b0", 4, ago(8, hours=-2), 200)
        v0 = legacy.link_version(
            actor=maria, registered_model=classifier, version=sources[0], at=ago(8, hours=1)
        )
        v1 = legacy.link_version(
            actor=maria,
            registered_model=classifier,
            version=sources[1],
            aliases=["staging"],
            at=ago(6),
        )
        v2 = legacy.link_version(
            actor=admin, registered_model=classifier, version=sources[2], at=ago(4)
        )
        legacy.set_alias(actor=maria, model_version=v2, name="staging", at=ago(4, days=1))
        legacy.set_alias(actor=maria, model_version=v1, name="production", at=ago(4, days=2))
        legacy.set_alias(actor=maria, model_version=v2, name="production", at=ago(3))
        legacy.tag_version(actor=admin, model_version=v2, tags=["reviewed"], at=ago(3, hours=1))
        legacy.describe(
            actor=admin,
            registered_model=classifier,
            description=classifier.description + "\n- **Reviewed by:** admin, before promotion.",
            at=ago(3, hours=2),
        )
        legacy.link_version(actor=maria, registered_model=classifier, version=sources[3], at=ago(2))
        legacy.set_alias(actor=maria, model_version=v0, name="baseline", at=ago(2, hours=1))

        detector = legacy.register_model(
            actor=admin,
            team=vision,
            name="object-detector",
            description="## Object detector\n\nYOLO-style detector for the four classes.",
            tags=["vision", "detection"],
            at=ago(5),
        )
        sources = self.legacy_sources(admin, imagenet, "yolo-small", 3, ago(5, hours=-2), 300)
        legacy.link_version(actor=admin, registered_model=detector, version=sources[0], at=ago(5))
        d1 = legacy.link_version(
            actor=maria, registered_model=detector, version=sources[1], at=ago(3)
        )
        legacy.set_alias(actor=admin, model_version=d1, name="production", at=ago(2))
        d2 = legacy.link_version(
            actor=maria,
            registered_model=detector,
            version=sources[2],
            aliases=["staging"],
            at=ago(1),
        )
        legacy.tag_version(actor=maria, model_version=d2, tags=["needs-review"], at=ago(1))

        sentiment_model = legacy.register_model(
            actor=noah,
            team=nlp,
            name="sentiment-classifier",
            description="## Sentiment classifier\n\nDistilBERT fine-tuned on product reviews.",
            tags=["nlp", "sentiment"],
            at=ago(7),
        )
        sources = self.legacy_sources(
            noah, sentiment, "distilbert-sentiment", 3, ago(7, hours=-2), 400
        )
        s0 = legacy.link_version(
            actor=noah, registered_model=sentiment_model, version=sources[0], at=ago(7)
        )
        legacy.link_version(
            actor=noah,
            registered_model=sentiment_model,
            version=sources[1],
            aliases=["staging"],
            at=ago(5),
        )
        s2 = legacy.link_version(
            actor=noah, registered_model=sentiment_model, version=sources[2], at=ago(3)
        )
        legacy.set_alias(actor=noah, model_version=s2, name="staging", at=ago(3, hours=4))
        legacy.set_alias(actor=noah, model_version=s0, name="production", at=ago(6))
        legacy.set_alias(actor=noah, model_version=s2, name="production", at=ago(2))
        legacy.set_alias(actor=noah, model_version=s2, name="approved", at=ago(2))
        legacy.tag_version(actor=noah, model_version=s2, tags=["reviewed", "bert"], at=ago(2))

        embedder = legacy.register_model(
            actor=noah,
            team=nlp,
            name="text-embedder",
            description="Sentence embeddings for search.",
            tags=["nlp", "embeddings"],
            at=ago(4),
        )
        sources = self.legacy_sources(noah, sentiment, "minilm-embedder", 2, ago(4, hours=-2), 500)
        e0 = legacy.link_version(
            actor=noah, registered_model=embedder, version=sources[0], aliases=["best"], at=ago(4)
        )
        legacy.set_alias(actor=noah, model_version=e0, name="production", at=ago(3))
        legacy.link_version(actor=noah, registered_model=embedder, version=sources[1], at=ago(1))

    def legacy_sources(
        self, actor: User, project: Project, name: str, count: int, first: datetime, seed: int
    ) -> list[ArtifactVersion]:
        """Versions of a model artifact logged a week apart from `first`, dated as if they
        had been (the demo's other versions are logged today)."""
        versions = []
        for step in range(count):
            version = log_version(
                actor=actor,
                project=project,
                name=name,
                artifact_type="model",
                files={
                    "model.safetensors": weights(seed + step),
                    "config.json": json_bytes({"arch": name, "step": step}),
                },
                metadata={"framework": "pytorch", "arch": name},
                metrics={"accuracy": round(0.7 + 0.05 * step, 3)},
                description=f"{name}, checkpoint {step + 1}.",
            )
            logged = first + timedelta(weeks=step)
            ArtifactVersion.objects.filter(pk=version.pk).update(
                created_at=logged, committed_at=logged, updated_at=logged
            )
            versions.append(version)
            self.log(f"legacy source {version}")
        return versions

    def print_legacy_hint(self) -> None:
        self.stdout.write(
            "Teams vision and nlp keep a legacy Model Registry, not migrated yet: try "
            "`manage.py migrate_legacy_registry --all --dry-run`, or the migration page at "
            f"{site()}/orgs/{ORG_SLUG}/legacy/migration/."
        )

    def print_sign_in(self) -> None:
        self.stdout.write("")
        self.stdout.write(
            f"Demo accounts (local use only), all with the password '{DEMO_PASSWORD}':"
        )
        for username, (_, purpose) in PEOPLE.items():
            self.stdout.write(f"  {username:<8} {purpose}")
        self.stdout.write(f"Sign in at {site()}/ (Django admin at /admin/ as 'admin').")

    def print_automation_hint(self) -> None:
        if not Webhook.objects.filter(team__organization__slug=ORG_SLUG, name=DEMO_WEBHOOK):
            self.stdout.write(
                f"No demo automation: its webhook would post to {receiver.demo_url()}, on this "
                "machine, which needs AUTOMATIONS_ALLOW_PRIVATE_TARGETS=true (`make run` sets it)."
            )
        elif settings.DEMO_RECEIVER_ENABLED:
            self.stdout.write(
                f"Move `production` on a model in Models: automation '{DEMO_AUTOMATION}' sends a "
                f"webhook, shown at {site()}{reverse('demo:webhooks')}."
            )


def site() -> str:
    """This server's address, as `make run` sets it from HOST and PORT."""
    return settings.SITE_URL.rstrip("/")
