from django.urls import path

from apps.legacy import migration_views, views
from apps.lib import converters  # noqa: F401 (registers <version:…>)

app_name = "legacy"

urlpatterns = [
    path("", views.legacy_home, name="home"),
    path("teams/<slug:team>/", views.legacy_team, name="team"),
    path("teams/<slug:team>/<str:model>/", views.legacy_model, name="model"),
    path("teams/<slug:team>/<str:model>/v<version:number>/", views.legacy_version, name="version"),
    path("migration/", migration_views.migration_overview, name="migration"),
    path("migration/<slug:team>/", migration_views.migration_team, name="migration_team"),
]
