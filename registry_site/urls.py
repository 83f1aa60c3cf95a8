from django.contrib import admin
from django.urls import include, path

from registry_site import health, observability

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", observability.metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("demo/", include("apps.demo.urls")),
    path("api/v1/", include("registry_site.api")),
    path("", include("apps.accounts.urls")),
    path("orgs/<slug:org>/registry/", include("apps.registries.urls")),
    path("orgs/<slug:org>/legacy/", include("apps.legacy.urls")),
    path("orgs/<slug:org>/automations/", include("apps.automations.urls")),
    path("orgs/<slug:org>/search/", include("apps.search.urls")),
    path("orgs/<slug:org>/", include("apps.lineage.urls")),
]
