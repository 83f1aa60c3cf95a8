from django.urls import path

from apps.lib import converters  # noqa: F401 (registers <version:…>)
from apps.registries.views import collection, compare, landing, registry, settings, version

app_name = "registries"

# Registry-level pages come before collection URLs; their names are reserved for collections.
urlpatterns = [
    path("", landing.landing, name="landing"),
    path("<str:registry>/", registry.registry_detail, name="registry"),
    path("<str:registry>/settings/", settings.registry_settings, name="settings"),
    path("<str:registry>/star/", landing.registry_star, name="star"),
    path("<str:registry>/link/", registry.link_version, name="link"),
    path("<str:registry>/<str:collection>/", collection.collection_detail, name="collection"),
    path(
        "<str:registry>/<str:collection>/description/",
        collection.collection_description,
        name="collection_description",
    ),
    path(
        "<str:registry>/<str:collection>/tags/", collection.collection_tags, name="collection_tags"
    ),
    path(
        "<str:registry>/<str:collection>/history/",
        collection.collection_history,
        name="collection_history",
    ),
    path("<str:registry>/<str:collection>/compare/", compare.collection_compare, name="compare"),
    path(
        "<str:registry>/<str:collection>/metric-directions/",
        compare.collection_metric_direction,
        name="metric_direction",
    ),
    path(
        "<str:registry>/<str:collection>/delete/",
        collection.collection_delete,
        name="collection_delete",
    ),
    path(
        "<str:registry>/<str:collection>/v<version:number>/unlink/",
        collection.link_unlink,
        name="unlink",
    ),
    path(
        "<str:registry>/<str:collection>/v<version:number>/aliases/",
        version.version_aliases,
        name="version_aliases",
    ),
    path(
        "<str:registry>/<str:collection>/v<version:number>/tags/",
        version.version_tags,
        name="version_tags",
    ),
    path(
        "<str:registry>/<str:collection>/v<version:number>/zip/",
        version.version_zip,
        name="version_zip",
    ),
    path(
        "<str:registry>/<str:collection>/v<version:number>/files/<path:path>",
        version.version_file,
        name="version_file",
    ),
]

# The version page's tabs: one URL each, so a tab can be bookmarked and shared.
for tab, suffix in [
    ("overview", ""),
    ("metadata", "metadata/"),
    ("files", "files/"),
    ("usage", "usage/"),
    ("lineage", "lineage/"),
    ("history", "history/"),
]:
    urlpatterns.append(
        path(
            f"<str:registry>/<str:collection>/v<version:number>/{suffix}",
            version.version_detail,
            {"tab": tab},
            name="version" if tab == "overview" else f"version_{tab}",
        )
    )
