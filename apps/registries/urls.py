from django.urls import path

from apps.lib import converters  # noqa: F401 (registers <version:…>)
from apps.registries import views

app_name = "registries"

# Registry-level pages come before collection URLs; their names are reserved for collections.
urlpatterns = [
    path("", views.landing, name="landing"),
    path("<str:registry>/", views.registry_detail, name="registry"),
    path("<str:registry>/settings/", views.registry_settings, name="settings"),
    path("<str:registry>/star/", views.registry_star, name="star"),
    path("<str:registry>/link/", views.link_version, name="link"),
    path("<str:registry>/<str:collection>/", views.collection_detail, name="collection"),
    path(
        "<str:registry>/<str:collection>/description/",
        views.collection_description,
        name="collection_description",
    ),
    path("<str:registry>/<str:collection>/tags/", views.collection_tags, name="collection_tags"),
    path(
        "<str:registry>/<str:collection>/history/",
        views.collection_history,
        name="collection_history",
    ),
    path("<str:registry>/<str:collection>/compare/", views.collection_compare, name="compare"),
    path(
        "<str:registry>/<str:collection>/metric-directions/",
        views.collection_metric_direction,
        name="metric_direction",
    ),
    path(
        "<str:registry>/<str:collection>/delete/",
        views.collection_delete,
        name="collection_delete",
    ),
    path(
        "<str:registry>/<str:collection>/v<version:number>/unlink/",
        views.link_unlink,
        name="unlink",
    ),
    path(
        "<str:registry>/<str:collection>/v<version:number>/aliases/",
        views.version_aliases,
        name="version_aliases",
    ),
    path(
        "<str:registry>/<str:collection>/v<version:number>/tags/",
        views.version_tags,
        name="version_tags",
    ),
    path(
        "<str:registry>/<str:collection>/v<version:number>/zip/",
        views.version_zip,
        name="version_zip",
    ),
    path(
        "<str:registry>/<str:collection>/v<version:number>/files/<path:path>",
        views.version_file,
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
            views.version_detail,
            {"tab": tab},
            name="version" if tab == "overview" else f"version_{tab}",
        )
    )
