"""The legacy Model Registry's pages, as teams used it before the Registry, and after migration
read-only pages that say where things went.

A team's legacy registry is the team's own: its members see it and its members and admins change
it (register models, link versions, aliases, tags, descriptions), everyone else gets 404 (through
the policy, as everywhere). Changes go through `apps.legacy.services`, which refuse once the
team's migration has started; the forms are not shown then.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import BadRequest, ValidationError
from django.db.models import CharField, Count, Max, Value
from django.db.models.functions import Concat
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from apps.accounts.models import Organization, Team
from apps.accounts.policy import Action, can, check, not_found, visible_teams
from apps.artifacts.lookups import visible
from apps.audit.models import describe
from apps.legacy import services
from apps.legacy.forms import LinkModelVersionForm, RegisterModelForm
from apps.legacy.models import (
    LegacyEvent,
    LegacyMigration,
    LegacyModelVersion,
    LegacyRegisteredModel,
    MigrationStatus,
)
from apps.lib.pagination import keyset_page, pager
from apps.lib.validators import LEGACY_REGISTRY_SLUG
from apps.registries.forms import AliasForm, DescriptionForm, TagForm
from apps.registries.lookups import organization_for
from apps.registries.models import Collection

MODELS_PER_PAGE = 50
TEAMS_ON_HOME = 100
VERSIONS_PER_PAGE = 50
EVENTS_PER_PAGE = 25
VERSION_EVENTS = 20


def team_for(request: HttpRequest, org: str, slug: str) -> Team:
    """The team, or 404 for anyone who may not see its legacy registry."""
    team = (
        Team.objects.select_related("organization", "legacy_migration__registry")
        .filter(organization__slug=org, slug=slug)
        .first()
    )
    return visible(request.user, team, f"{org}/{slug}/{LEGACY_REGISTRY_SLUG}", Action.VIEW_LEGACY)


def model_for(request: HttpRequest, org: str, team: str, name: str) -> LegacyRegisteredModel:
    found = team_for(request, org, team)
    model = (
        LegacyRegisteredModel.objects.select_related(
            "created_by", "migrated_to__registry__organization"
        )
        .filter(team=found, name=name)
        .first()
    )
    if model is None:
        raise not_found(f"{org}/{team}/{LEGACY_REGISTRY_SLUG}/{name}")
    model.team = found  # keeps the migration row loaded with it
    return model


def migration_of(team: Team) -> LegacyMigration | None:
    """The team's migration row, loaded with the team; None before anyone started one."""
    return getattr(team, "legacy_migration", None)


@dataclass
class Status:
    """Where a registered model stands, as its row or page says it."""

    key: str  # "legacy", "migrating", "migrated", "failed" or "gone"
    label: str
    collection: Collection | None = None


def status_of(model: LegacyRegisteredModel, migration: LegacyMigration | None) -> Status:
    if model.migrated_to is not None:
        return Status("migrated", "Migrated", model.migrated_to)
    if model.migrated_at is not None:
        return Status("gone", "Migrated; the collection was deleted since")
    if migration is None or migration.status == MigrationStatus.NOT_STARTED:
        return Status("legacy", "Not migrated")
    if migration.current_status == MigrationStatus.FAILED:
        return Status("failed", "Not migrated: the last migration run failed")
    if migration.current_status == MigrationStatus.INTERRUPTED:
        return Status("failed", "Not migrated: the last migration run stopped before the end")
    return Status("migrating", "Migrating")


def _team_rows(request: HttpRequest, organization: Organization) -> list[Team]:
    """The visible teams that have a legacy registry, with counts and their migration."""
    teams = list(
        visible_teams(request.user, organization)
        .select_related("legacy_migration__registry")
        .annotate(model_count=Count("legacy_models"))
        .filter(model_count__gt=0)
        .order_by("name")[:TEAMS_ON_HOME]
    )
    for team in teams:
        team.migration = migration_of(team)
    return teams


def _may_migrate_any(request: HttpRequest, teams: list[Team]) -> bool:
    # One policy question per team until one says yes; an organization admin's first answer is
    # yes and costs nothing (the organization role is remembered for the request).
    return any(can(request.user, Action.MIGRATE_LEGACY, team) for team in teams)


def _with_version_counts(models):
    return models.annotate(
        version_count=Count("versions"), latest_linked_at=Max("versions__linked_at")
    ).prefetch_related("tags")


@require_GET
def legacy_home(request: HttpRequest, org: str) -> HttpResponse:
    """The registered models of every team the user sees, in keyset pages, and each team's
    migration."""
    organization = organization_for(request.user, org)
    teams = _team_rows(request, organization)
    models = _with_version_counts(
        LegacyRegisteredModel.objects.filter(team__in=visible_teams(request.user, organization))
        .select_related("team__legacy_migration", "migrated_to__registry")
        # Team, then name: one sort key, so keyset pages need no second column.
        .annotate(path=Concat("team__slug", Value("/"), "name", output_field=CharField()))
    )
    page = keyset_page(
        models,
        field="path",
        descending=False,
        cursor=request.GET.get("cursor"),
        size=MODELS_PER_PAGE,
        count=True,
    )
    for model in page.items:
        model.status = status_of(model, migration_of(model.team))
    context = {
        "organization": organization,
        "teams": teams,
        "models": page.items,
        "pager": pager(request, page),
        "can_migrate": _may_migrate_any(request, teams),
        "registry_ui": settings.ENABLE_REGISTRY_UI,
    }
    return render(request, "legacy/home.html", context)


def _writable(request: HttpRequest, team: Team) -> bool:
    """Whether the page offers its forms: the user may change the team's legacy registry and
    its migration has not started."""
    migration = migration_of(team)
    read_only = migration is not None and migration.is_read_only
    return not read_only and can(request.user, Action.EDIT_LEGACY, team)


# Makes the change a page posted to its target: (what was done, None), or (the form's name,
# the form with its errors).
Change = Callable[[HttpRequest, Any], tuple[str, forms.Form | None]]


def _post(
    request: HttpRequest, team: Team, forms_on_page: dict, change: Change, target: Any
) -> HttpResponse | None:
    """Make the change a page posted. Done, the page again by GET saying what changed; refused,
    None, with the form and its errors put among the page's forms."""
    check(request.user, Action.EDIT_LEGACY, team)
    posted, form = change(request, target)
    if form is None:
        messages.success(request, posted)
        return redirect(request.path)
    forms_on_page[posted] = form
    return None


def _render(request: HttpRequest, template: str, context: dict, forms_on_page: dict):
    errors = any(form.errors for form in forms_on_page.values())
    return render(request, template, {**context, **forms_on_page}, status=400 if errors else 200)


def _refused(request: HttpRequest, form: forms.Form, error: ValidationError) -> None:
    """Show a service's refusal above the form; above the page too when the registry has just
    turned read-only, since the page then shows no forms."""
    for message in error.messages:
        form.add_error(None, message)
        if error.code == "read_only":
            messages.error(request, message)


@require_http_methods(["GET", "POST"])
def legacy_team(request: HttpRequest, org: str, team: str) -> HttpResponse:
    """One team's registered models, protected aliases and registry admins; POST registers a
    model."""
    found = team_for(request, org, team)
    form = RegisterModelForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        check(request.user, Action.EDIT_LEGACY, found)
        if form.is_valid():
            try:
                model = services.register_model(actor=request.user, team=found, **form.cleaned_data)
            except ValidationError as error:
                _refused(request, form, error)
            else:
                messages.success(request, f"Registered {model.name}.")
                return redirect("legacy:model", org=org, team=found.slug, model=model.name)
    migration = migration_of(found)
    page = keyset_page(
        _with_version_counts(found.legacy_models.select_related("migrated_to__registry")),
        field="name",
        descending=False,
        cursor=request.GET.get("cursor"),
        size=MODELS_PER_PAGE,
        count=True,
    )
    for model in page.items:
        model.status = status_of(model, migration)
    context = {
        "organization": found.organization,
        "team": found,
        "migration": migration,
        "models": page.items,
        "pager": pager(request, page),
        "protected": list(found.legacy_protected.values_list("name", flat=True)),
        "admins": [
            admin.user
            for admin in found.legacy_admins.select_related("user").order_by("user__username")
        ],
        "can_migrate": can(request.user, Action.MIGRATE_LEGACY, found),
        "can_edit": _writable(request, found),
        "register_form": form,
        "registry_ui": settings.ENABLE_REGISTRY_UI,
    }
    return render(request, "legacy/team.html", context, status=400 if form.errors else 200)


def describe_event(event: LegacyEvent) -> LegacyEvent:
    """A history entry with the version it touched (`target`, e.g. `v2`) and the rest in the
    audit log's words (`details`), so that both registries word each change alike."""
    data = event.data
    event.target = f"v{data['version']}" if "version" in data else ""
    event.details = describe(event.action, data)
    return event


@require_http_methods(["GET", "POST"])
def legacy_model(request: HttpRequest, org: str, team: str, model: str) -> HttpResponse:
    """A registered model: its card, tags, versions in order and its history, newest first.

    POST changes it, as the field `form` says: `link` a version, add `tags`, or `describe` it.
    """
    found = model_for(request, org, team, model)
    forms_on_page = {
        "link_form": LinkModelVersionForm(model=found),
        "tag_form": TagForm(),
        "description_form": DescriptionForm(initial={"description": found.description}),
    }
    if request.method == "POST" and (
        done := _post(request, found.team, forms_on_page, _model_change, found)
    ):
        return done
    protected = set(found.team.legacy_protected.values_list("name", flat=True))
    versions = keyset_page(
        found.versions.select_related("version__artifact__project__team", "linked_by")
        .prefetch_related("aliases", "tags"),
        field="number",
        descending=False,
        cursor=request.GET.get("cursor"),
        size=VERSIONS_PER_PAGE,
        count=True,
    )  # fmt: skip
    for linked in versions.items:
        names = sorted(alias.name for alias in linked.aliases.all())
        linked.alias_chips = [(name, name in protected) for name in names]
    history = keyset_page(
        found.events.select_related("actor"),
        field="created_at",
        descending=True,
        cursor=request.GET.get("history"),
        size=EVENTS_PER_PAGE,
        count=True,
    )
    for event in history.items:
        describe_event(event)
    context = {
        "organization": found.team.organization,
        "team": found.team,
        "model": found,
        "status": status_of(found, migration_of(found.team)),
        "tags": [tag.name for tag in found.tags.all()],
        "versions": versions.items,
        "versions_pager": pager(request, versions),
        "events": history.items,
        "history_pager": pager(request, history, param="history"),
        "can_edit": _writable(request, found.team),
        "registry_ui": settings.ENABLE_REGISTRY_UI,
    }
    return _render(request, "legacy/model.html", context, forms_on_page)


def _model_change(
    request: HttpRequest, model: LegacyRegisteredModel
) -> tuple[str, forms.Form | None]:
    """The changes of a model page (a `Change`)."""
    kind = request.POST.get("form")
    if kind == "link":
        form = LinkModelVersionForm(request.POST, model=model)
        name = "link_form"
    elif kind == "tags":
        form, name = TagForm(request.POST), "tag_form"
    elif kind == "describe":
        form, name = DescriptionForm(request.POST), "description_form"
    else:
        raise BadRequest("Say which change this is: form=link, tags or describe.")
    if not form.is_valid():
        return name, form
    data = form.cleaned_data
    try:
        if kind == "link":
            linked = services.link_version(
                actor=request.user,
                registered_model=model,
                version=data["version"],
                aliases=data["aliases"],
            )
            return f"Linked {data['version']} as {linked.label}.", None
        if kind == "tags":
            added = services.tag_model(
                actor=request.user, registered_model=model, tags=data["tags"]
            )
            return f"Added tags: {', '.join(added) or 'none new'}.", None
        services.describe(
            actor=request.user, registered_model=model, description=data["description"]
        )
        return "Saved the description.", None
    except ValidationError as error:
        _refused(request, form, error)
        return name, form


@require_http_methods(["GET", "POST"])
def legacy_version(
    request: HttpRequest, org: str, team: str, model: str, number: int
) -> HttpResponse:
    """One version of a registered model; once migrated, its new page in the Registry.

    POST sets an alias (`alias`, moving it here), removes one (`remove`), or adds `tags`.
    """
    found = model_for(request, org, team, model)
    if found.migrated_to is not None and settings.ENABLE_REGISTRY_UI:
        # The migration keeps numbers, so vN here is vN there.
        collection = found.migrated_to
        return redirect(
            reverse(
                "registries:version",
                kwargs={
                    "org": collection.registry.organization.slug,
                    "registry": collection.registry.slug,
                    "collection": collection.name,
                    "number": number,
                },
            )
        )
    linked = get_object_or_404(
        LegacyModelVersion.objects.select_related(
            "version__artifact__project__team", "version__created_by", "linked_by"
        ).prefetch_related("aliases", "tags"),
        registered_model=found,
        number=number,
    )
    forms_on_page = {"alias_form": AliasForm(), "tag_form": TagForm()}
    if request.method == "POST" and (
        done := _post(request, found.team, forms_on_page, _version_change, linked)
    ):
        return done
    events = list(
        found.events.select_related("actor").filter(data__version=number)[:VERSION_EVENTS]
    )
    for event in events:
        describe_event(event)
    can_edit = _writable(request, found.team)
    context = {
        "organization": found.team.organization,
        "team": found.team,
        "model": found,
        "linked": linked,
        "version": linked.version,
        "status": status_of(found, migration_of(found.team)),
        "aliases": sorted(alias.name for alias in linked.aliases.all()),
        "protected": set(found.team.legacy_protected.values_list("name", flat=True)),
        "tags": [tag.name for tag in linked.tags.all()],
        "events": events,
        "can_view_project": can(request.user, Action.VIEW_PROJECT, linked.version),
        "can_edit": can_edit,
        "can_set_protected": can_edit
        and can(request.user, Action.SET_LEGACY_PROTECTED, found.team),
        "registry_ui": settings.ENABLE_REGISTRY_UI,
    }
    return _render(request, "legacy/version.html", context, forms_on_page)


def _version_change(
    request: HttpRequest, linked: LegacyModelVersion
) -> tuple[str, forms.Form | None]:
    """The changes of a version page (a `Change`)."""
    if "tags" in request.POST:
        form = TagForm(request.POST)
        if form.is_valid():
            try:
                added = services.tag_version(
                    actor=request.user, model_version=linked, tags=form.cleaned_data["tags"]
                )
            except ValidationError as error:
                _refused(request, form, error)
            else:
                return f"Added tags: {', '.join(added) or 'none new'}.", None
        return "tag_form", form
    remove = request.POST.get("remove")
    form = AliasForm({"alias": remove} if remove else request.POST)
    if form.is_valid():
        name = form.cleaned_data["alias"]
        try:
            if remove:
                services.remove_alias(actor=request.user, model_version=linked, name=name)
                return f"Removed {name} from {linked.label}.", None
            services.set_alias(actor=request.user, model_version=linked, name=name)
            return f"{name} is on {linked.label} now.", None
        except ValidationError as error:
            _refused(request, form, error)
    return "alias_form", form
