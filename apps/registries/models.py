"""Registries, their collections, the links into them, aliases, tags and stars."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, FloatField, OuterRef, Q, Subquery, Value
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce, JSONArray, Lower

from apps.accounts.models import BASELINE_ROLES, Organization, RegistryRole, Team, Visibility
from apps.artifacts.models import ArtifactVersion, ManifestEntry, VersionTag
from apps.lib.expressions import JSONList
from apps.lib.validators import LATEST, TAG_PATTERN

CORE_REGISTRIES = {
    # slug: (name, description, accepted type)
    "model": ("Models", "The organization's models, ready to share and promote.", "model"),
    "dataset": ("Datasets", "The organization's datasets, versioned and shared.", "dataset"),
}


class RegistryQuerySet(models.QuerySet):
    def for_landing_page(self) -> RegistryQuerySet:
        """Core registries first, then custom ones by name, with their accepted types."""
        return self.prefetch_related("accepted_types").order_by("-is_core", Lower("name"))


class Registry(models.Model):
    """An organization's hub of collections. Core registries (Models, Datasets) are fixed."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="registries"
    )
    name = models.CharField(max_length=113)
    slug = models.SlugField(max_length=128, allow_unicode=True, help_text="Used in URLs and paths.")
    description = models.TextField(blank=True)
    is_core = models.BooleanField(default=False, editable=False)
    visibility = models.CharField(
        max_length=16, choices=Visibility.choices, default=Visibility.ORGANIZATION
    )
    baseline_role = models.CharField(
        max_length=20,
        choices=[(role.value, role.label) for role in BASELINE_ROLES],
        default=RegistryRole.MEMBER,
        help_text="The role every organization member has on an organization-visible registry.",
    )
    accepts_all_types = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RegistryQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "registries"
        ordering = ["-is_core", "name"]
        constraints = [
            models.UniqueConstraint(
                Lower("name"), "organization", name="registries_registry_name_unique_ci"
            ),
            models.UniqueConstraint(
                fields=["organization", "slug"], name="registries_registry_slug_unique"
            ),
            models.CheckConstraint(
                condition=~Q(name="") & ~Q(name__regex=r"[/\\#?%:\r\n]"),
                name="registries_registry_name_allowed_characters",
            ),
            models.CheckConstraint(
                condition=Q(is_core=False) | Q(visibility=Visibility.ORGANIZATION),
                name="registries_core_registry_is_organization_visible",
            ),
            models.CheckConstraint(
                condition=Q(visibility__in=Visibility.values),
                name="registries_registry_visibility_valid",
            ),
            models.CheckConstraint(
                condition=Q(baseline_role__in=[role.value for role in BASELINE_ROLES]),
                name="registries_registry_baseline_role_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_restricted(self) -> bool:
        return self.visibility == Visibility.RESTRICTED

    def accepts(self, artifact_type: str) -> bool:
        return self.accepts_all_types or artifact_type in self.accepted_type_names()

    def accepted_type_names(self) -> list[str]:
        return [t.name for t in self.accepted_types.all()]

    def protected_alias_names(self) -> set[str]:
        """The names of the registry's protected aliases, in one query."""
        return set(self.protected_aliases.values_list("name", flat=True))


class RegistryArtifactType(models.Model):
    """A type the registry accepts. The list only grows: saved types are never removed."""

    registry = models.ForeignKey(Registry, on_delete=models.CASCADE, related_name="accepted_types")
    name = models.CharField(max_length=128)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["registry", "name"], name="registries_accepted_type_unique"
            ),
            models.CheckConstraint(
                condition=~Q(name="") & ~Q(name__contains="/") & ~Q(name__contains=":"),
                name="registries_accepted_type_name_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ProtectedAlias(models.Model):
    """An alias only registry admins may put on or take off a version."""

    registry = models.ForeignKey(
        Registry, on_delete=models.CASCADE, related_name="protected_aliases"
    )
    name = models.CharField(max_length=128)

    class Meta:
        verbose_name_plural = "protected aliases"
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["registry", "name"], name="registries_protected_alias_unique"
            ),
            models.CheckConstraint(
                condition=~Q(name=LATEST), name="registries_protected_alias_not_latest"
            ),
            models.CheckConstraint(
                condition=~Q(name="")
                & ~Q(name__contains="/")
                & ~Q(name__contains=":")
                & ~Q(name__regex=r"^v[0-9]+$"),
                name="registries_protected_alias_name_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class RegistryGrant(models.Model):
    """A role on a registry given to one user or to every member of one team."""

    registry = models.ForeignKey(Registry, on_delete=models.CASCADE, related_name="grants")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="registry_grants",
    )
    team = models.ForeignKey(
        Team, on_delete=models.CASCADE, null=True, blank=True, related_name="registry_grants"
    )
    role = models.CharField(max_length=20, choices=RegistryRole.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=False, team__isnull=True)
                | Q(user__isnull=True, team__isnull=False),
                name="registries_grant_user_xor_team",
            ),
            models.UniqueConstraint(
                fields=["registry", "user"],
                condition=Q(user__isnull=False),
                name="registries_grant_user_unique",
            ),
            models.UniqueConstraint(
                fields=["registry", "team"],
                condition=Q(team__isnull=False),
                name="registries_grant_team_unique",
            ),
            models.CheckConstraint(
                condition=Q(role__in=RegistryRole.values), name="registries_grant_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user or self.team}: {self.get_role_display()} on {self.registry}"


class CollectionQuerySet(models.QuerySet):
    def holding_protected_alias(self) -> CollectionQuerySet:
        """Collections where a live link carries one of the registry's protected aliases."""
        return self.filter(
            aliases__name__in=ProtectedAlias.objects.filter(
                registry=models.OuterRef("registry")
            ).values("name")
        ).distinct()

    def for_registry_page(self) -> models.QuerySet:
        """What a row of the registry page's table shows of each collection, as plain rows
        from one query: its live versions counted and its tags as a JSON list (unordered)."""
        live_links = (
            Link.objects.live()
            .filter(collection=OuterRef("pk"))
            .order_by()
            .values("collection")
            .annotate(n=models.Count("pk"))
            .values("n")
        )
        return self.values(
            "pk",
            "name",
            "artifact_type",
            "updated_at",
            version_count=Coalesce(
                Subquery(live_links, output_field=models.IntegerField()), Value(0)
            ),
            tag_names=_collection_tag_names(),
        )

    def tagged(self, tag: str) -> CollectionQuerySet:
        """Collections that carry the tag `tag`."""
        return self.filter(pk__in=CollectionTag.objects.filter(name=tag).values("collection_id"))

    def recently_updated(self) -> CollectionQuerySet:
        """Most recently updated first, each with its registry."""
        return self.select_related("registry").order_by("-updated_at")

    def artifact_types(self) -> models.QuerySet:
        """The artifact types of these collections, each once (unordered)."""
        return self.order_by().values_list("artifact_type", flat=True).distinct()

    def described(self) -> models.QuerySet:
        """What the API says of each collection, as plain rows from one query, with its tags
        as a JSON list in the same row."""
        return self.values(
            "pk",
            "name",
            "artifact_type",
            "description",
            "created_at",
            "updated_at",
            tag_names=_collection_tag_names(),
        )


class Collection(models.Model):
    """A set of linked versions of one artifact type, for one task or use case."""

    registry = models.ForeignKey(Registry, on_delete=models.CASCADE, related_name="collections")
    name = models.CharField(max_length=128)
    artifact_type = models.CharField(max_length=128)
    description = models.TextField(blank=True, help_text="Markdown, rendered sanitized.")
    # The number the next link takes; read and bumped under a row lock, never reused.
    next_link_number = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CollectionQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["registry", "name"], name="registries_collection_name_unique"
            ),
            models.CheckConstraint(
                condition=~Q(name="") & ~Q(name__contains="/") & ~Q(name__contains=":"),
                name="registries_collection_name_no_slash_or_colon",
            ),
        ]
        indexes = [models.Index(fields=["registry", "-updated_at"])]

    def __str__(self) -> str:
        return f"{self.registry.slug}/{self.name}"

    def holds_protected_alias(self) -> bool:
        """Whether a live link in it carries one of the registry's protected aliases."""
        return Collection.objects.filter(pk=self.pk).holding_protected_alias().exists()


# Past every real metric value, for versions without the metric (see with_metric_sort_value).
MISSING_METRIC = 1e300


def metric_value(name: str) -> Cast:
    """A link's version's value of one metric, as a number (NULL where it has none)."""
    return Cast(KeyTextTransform(name, "version__metrics"), FloatField())


class LinkQuerySet(models.QuerySet):
    def live(self) -> LinkQuerySet:
        """Links still in the collection; unlinked ones stay only for history."""
        return self.filter(unlinked_at__isnull=True)

    def for_compare(self) -> LinkQuerySet:
        """Live links as the compare page reads them: each version with its artifact, and the
        link's aliases."""
        return self.live().select_related("version__artifact").prefetch_related("aliases")

    def with_metric_between(self, name: str, low: float | None, high: float | None) -> LinkQuerySet:
        """Links whose version has the metric, within `low` and `high` where they are given."""
        links = self.annotate(range_value=metric_value(name)).filter(range_value__isnull=False)
        if low is not None:
            links = links.filter(range_value__gte=low)
        if high is not None:
            links = links.filter(range_value__lte=high)
        return links

    def with_metric_sort_value(self, name: str, *, descending: bool) -> LinkQuerySet:
        """Links with `metric_value`, the metric as a number to sort by: a version without it
        takes a value past every real one, so it comes last whichever the direction."""
        missing = -MISSING_METRIC if descending else MISSING_METRIC
        return self.annotate(metric_value=Coalesce(metric_value(name), Value(missing)))

    def metric_by_number(self, name: str) -> models.QuerySet:
        """(number, value of the metric) of each link, newest first; the value is None where
        the version has no such metric."""
        return (
            self.annotate(value=metric_value(name))
            .order_by("-number")
            .values_list("number", "value")
        )

    def number_before(self, number: int) -> int | None:
        """The number of the newest of these links before `number`, or None."""
        return (
            self.filter(number__lt=number)
            .order_by("-number")
            .values_list("number", flat=True)
            .first()
        )

    def described(self, *, with_files: bool = False) -> models.QuerySet:
        """What the API says of each link and its source version, as plain rows from one
        query: no model instances are built, and the link's aliases, the version's tags and
        (if asked) its files as `[path, size, sha256]` come as JSON lists in the same row."""
        related = _alias_and_tag_names()
        if with_files:
            related["files"] = _json_list(
                ManifestEntry.objects.filter(version=OuterRef("version")),
                "version",
                JSONArray("path", "size", "blob_id"),
            )
        return self.values(
            "pk",
            "number",
            "linked_at",
            "version_id",
            organization_slug=F("collection__registry__organization__slug"),
            registry_slug=F("collection__registry__slug"),
            collection_name=F("collection__name"),
            team_slug=F("version__artifact__project__team__slug"),
            project_name=F("version__artifact__project__name"),
            artifact_name=F("version__artifact__name"),
            artifact_type=F("version__artifact__artifact_type"),
            version_number=F("version__number"),
            digest=F("version__digest"),
            size=F("version__size"),
            file_count=F("version__file_count"),
            description=F("version__description"),
            metadata=F("version__metadata"),
            metrics=F("version__metrics"),
            linked_by_name=F("linked_by__username"),
            **related,
        )

    def for_versions_table(self) -> models.QuerySet:
        """What a row of the collection page's versions table shows, as plain rows from one
        query: only those columns, no model instances, and the link's aliases and its version's
        tags as JSON lists (unordered) in the same row. Annotations added after this come in
        the rows too, so a keyset page can read its sort value from them."""
        return self.values(
            "pk",
            "number",
            "linked_at",
            linked_by_name=F("linked_by__username"),
            team_slug=F("version__artifact__project__team__slug"),
            project_name=F("version__artifact__project__name"),
            artifact_name=F("version__artifact__name"),
            version_number=F("version__number"),
            metrics=F("version__metrics"),
            **_alias_and_tag_names(),
        )


def _collection_tag_names() -> Subquery:
    """A collection's tag names, as a JSON list in the collection's row."""
    return _json_list(CollectionTag.objects.filter(collection=OuterRef("pk")), "collection", "name")


def _alias_and_tag_names() -> dict[str, Subquery]:
    """A link's alias names, its version's tag names and its own tag names, as JSON lists in the
    link's row; `tag_names(row)` joins the two kinds of tag."""
    return {
        "alias_names": _json_list(Alias.objects.filter(link=OuterRef("pk")), "link", "name"),
        "version_tag_names": _json_list(
            VersionTag.objects.filter(version=OuterRef("version")), "version", "name"
        ),
        "link_tag_names": _json_list(LinkTag.objects.filter(link=OuterRef("pk")), "link", "name"),
    }


def tag_names(row: dict) -> list[str]:
    """The tags a link row shows: its version's and its own (see LinkTag)."""
    return sorted({*(row["version_tag_names"] or ()), *(row["link_tag_names"] or ())})


def _json_list(rows: models.QuerySet, group: str, value) -> Subquery:
    """`value` of each of `rows` as one JSON list (None when there are none), as a subquery."""
    return Subquery(
        rows.order_by().values(group).annotate(values=JSONList(value)).values("values"),
        output_field=models.JSONField(),
    )


class Link(models.Model):
    """A pointer from a collection to a source version: never a copy of its files.

    Numbers count links per collection and are never reused. Unlinking keeps the row, with
    `unlinked_at` set, so history can still name the version it pointed at.
    """

    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="links")
    # The collection's, which never changes: access is decided per registry, and with it on the
    # link's own row a search drops the links a user may not see before reading anything else.
    collection_registry = models.ForeignKey(
        "Registry", on_delete=models.CASCADE, related_name="+", editable=False
    )
    version = models.ForeignKey(ArtifactVersion, on_delete=models.PROTECT, related_name="links")
    number = models.PositiveIntegerField()
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    linked_at = models.DateTimeField()
    unlinked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    unlinked_at = models.DateTimeField(null=True, blank=True)

    objects = LinkQuerySet.as_manager()

    class Meta:
        ordering = ["collection", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["collection", "number"], name="registries_link_number_unique"
            ),
            models.UniqueConstraint(
                fields=["collection", "version"],
                condition=Q(unlinked_at__isnull=True),
                name="registries_link_version_once_per_collection",
            ),
            models.CheckConstraint(
                condition=Q(unlinked_at__isnull=True) | Q(unlinked_at__gte=models.F("linked_at")),
                name="registries_link_unlinked_after_linked",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.collection}:{self.label}"

    @classmethod
    def in_collection(cls, collection: Collection, **fields: Any) -> Link:
        """A new (unsaved) link of the collection, carrying its registry."""
        return cls(collection=collection, collection_registry_id=collection.registry_id, **fields)

    @property
    def label(self) -> str:
        return f"v{self.number}"

    @property
    def registry(self) -> Registry:
        return self.collection.registry

    @property
    def is_live(self) -> bool:
        return self.unlinked_at is None

    def carries_protected_alias(self) -> bool:
        """Whether one of its aliases is protected in its registry, in one query."""
        protected = self.registry.protected_aliases.values("name")
        return self.aliases.filter(name__in=protected).exists()

    def tag_names(self) -> list[str]:
        """Its version's tags, which show through every link, and its own, in one query."""
        shared = VersionTag.objects.filter(version=self.version_id).order_by().values_list("name")
        own = self.tags.order_by().values_list("name")
        return sorted(name for (name,) in shared.union(own))


class Alias(models.Model):
    """A name for one link, unique in its collection. `latest` is kept on the newest link."""

    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="aliases")
    link = models.ForeignKey(Link, on_delete=models.CASCADE, related_name="aliases")
    name = models.CharField(max_length=128)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "aliases"
        ordering = ["name"]
        constraints = [
            # One holder per alias per collection; this is also what keeps `latest` single.
            models.UniqueConstraint(
                fields=["collection", "name"], name="registries_alias_unique_in_collection"
            ),
            models.CheckConstraint(
                condition=~Q(name__contains="/") & ~Q(name__contains=":") & ~Q(name=""),
                name="registries_alias_name_no_slash_or_colon",
            ),
            models.CheckConstraint(
                condition=~Q(name__regex=r"^v[0-9]+$"), name="registries_alias_not_version_number"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def registry(self) -> Registry:
        return self.collection.registry

    @property
    def is_latest(self) -> bool:
        return self.name == LATEST

    def is_protected(self) -> bool:
        """Whether its name is a protected alias of its registry; asked of unsaved aliases too,
        before they are put on a version."""
        return self.registry.protected_aliases.filter(name=self.name).exists()


class CollectionTag(models.Model):
    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="tags")
    name = models.CharField(max_length=64)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["collection", "name"], name="registries_collection_tag_unique"
            ),
            models.CheckConstraint(
                condition=Q(name__regex=TAG_PATTERN), name="registries_collection_tag_format"
            ),
        ]
        indexes = [models.Index(fields=["name"])]

    def __str__(self) -> str:
        return self.name


class Direction(models.TextChoices):
    HIGHER = "higher", "Higher is better"
    LOWER = "lower", "Lower is better"


class MetricDirection(models.Model):
    """Which way is better for a metric in one collection, set where its name misleads."""

    collection = models.ForeignKey(
        Collection, on_delete=models.CASCADE, related_name="metric_directions"
    )
    metric = models.CharField(max_length=255)
    direction = models.CharField(max_length=8, choices=Direction.choices)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["metric"]
        constraints = [
            models.UniqueConstraint(
                fields=["collection", "metric"], name="registries_metric_direction_unique"
            ),
            models.CheckConstraint(
                condition=Q(direction__in=Direction.values),
                name="registries_metric_direction_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.collection}: {self.metric} {self.direction}"


class Star(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="stars"
    )
    registry = models.ForeignKey(Registry, on_delete=models.CASCADE, related_name="stars")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "registry"], name="registries_star_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} ★ {self.registry}"


class LinkTag(models.Model):
    """A tag on one link alone, beside the version tags that show through every link.

    A legacy Model Registry's tags were on one model version, not on the artifact version it
    pointed at; migration keeps them here, so they show where they showed before and on no
    other collection that links the same version.
    """

    link = models.ForeignKey(Link, on_delete=models.CASCADE, related_name="tags")
    name = models.CharField(max_length=64)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["link", "name"], name="registries_link_tag_unique"),
            models.CheckConstraint(
                condition=Q(name__regex=TAG_PATTERN), name="registries_link_tag_format"
            ),
        ]

    def __str__(self) -> str:
        return self.name
