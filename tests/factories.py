"""Small `make_*` helpers for test data; each fills sensible defaults through kwargs."""

from __future__ import annotations

import itertools
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from django.conf import settings

from apps.accounts.models import (
    Organization,
    OrganizationRole,
    Team,
    TeamRole,
    User,
)
from apps.accounts.services import create_organization
from apps.artifacts.models import ArtifactVersion, Project
from apps.artifacts.services import log_version
from apps.legacy import services as legacy
from apps.legacy.models import LegacyRegisteredModel
from apps.registries.models import Link, Registry, RegistryGrant
from apps.registries.services import create_registry, link_version

PASSWORD = "correct horse battery staple"
_counter = itertools.count()


def make_user(username: str = "", **kwargs: Any) -> User:
    username = username or f"user{next(_counter)}"
    kwargs.setdefault("email", f"{username}@example.com")
    return User.objects.create_user(username=username, password=PASSWORD, **kwargs)


def make_organization(slug: str = "", **kwargs: Any) -> Organization:
    slug = slug or f"org{next(_counter)}"
    kwargs.setdefault("name", slug.title())
    return create_organization(slug=slug, **kwargs)


def make_member(
    organization: Organization,
    username: str = "",
    role: OrganizationRole = OrganizationRole.MEMBER,
) -> User:
    user = make_user(username)
    organization.add_member(user, role)
    return user


def make_team(organization: Organization, name: str = "", **members: TeamRole) -> Team:
    """A team; keyword arguments map usernames of organization members to team roles."""
    team = organization.create_team(name or f"team{next(_counter)}")
    for username, role in members.items():
        team.add_member(User.objects.get(username=username), role)
    return team


def make_project(team: Team, name: str = "", **kwargs: Any) -> Project:
    return Project.objects.create(team=team, name=name or f"project{next(_counter)}", **kwargs)


def make_personas() -> SimpleNamespace:
    """All of tests/conftest.py's personas at once, as its fixtures make them one by one (for
    rows made once per module): acme with olivia (admin), maria (member, in team ml, which has
    project mnist) and victor (viewer); oscar, admin of globex."""
    organization = make_organization("acme", name="Acme")
    globex = make_organization("globex", name="Globex")
    personas = SimpleNamespace(
        organization=organization,
        org_admin=make_member(organization, "olivia", OrganizationRole.ADMIN),
        member=make_member(organization, "maria", OrganizationRole.MEMBER),
        viewer=make_member(organization, "victor", OrganizationRole.VIEWER),
        outsider=make_member(globex, "oscar", OrganizationRole.ADMIN),
        team=make_team(organization, "ml", maria=TeamRole.MEMBER),
    )
    personas.project = make_project(personas.team, "mnist")
    personas.models_registry = organization.registries.get(slug="model")
    return personas


def make_version(
    project: Project, actor: User, name: str = "model", artifact_type: str = "model", **kwargs: Any
) -> ArtifactVersion:
    """A committed version with one small file whose content is new unless `files` is given."""
    kwargs.setdefault("files", {"weights.bin": f"content {next(_counter)}".encode()})
    return log_version(
        actor=actor, project=project, name=name, artifact_type=artifact_type, **kwargs
    )


def make_registry(
    organization: Organization, actor: User, name: str = "", **kwargs: Any
) -> Registry:
    return create_registry(
        actor=actor, organization=organization, name=name or f"Registry {next(_counter)}", **kwargs
    )


def make_link(
    version: ArtifactVersion,
    registry: Registry,
    actor: User,
    collection: str = "classifier",
    **kwargs: Any,
) -> Link:
    return link_version(
        actor=actor, version=version, registry=registry, collection_name=collection, **kwargs
    )


def grant(
    registry: Registry, role: str, *, user: User | None = None, team: Team | None = None
) -> RegistryGrant:
    return RegistryGrant.objects.create(registry=registry, user=user, team=team, role=role)


def make_legacy_model(
    project: Project,
    actor: User,
    name: str = "classifier",
    aliases: list[list[str]] = ([],),
    artifact: str = "model",
    **kwargs: Any,
) -> LegacyRegisteredModel:
    """A registered model of the project's team with one new version linked per entry of
    `aliases`, each carrying those aliases; `kwargs` go to `register_model`."""
    model = legacy.register_model(actor=actor, team=project.team, name=name, **kwargs)
    for names in aliases:
        legacy.link_version(
            actor=actor,
            registered_model=model,
            version=make_version(project, actor, name=artifact),
            aliases=names,
        )
    return model


def storages_in(folder: Path) -> dict:
    """The STORAGES setting with blobs kept in a local folder."""
    return {
        **settings.STORAGES,
        "artifacts": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": folder, "allow_overwrite": True},
        },
    }
