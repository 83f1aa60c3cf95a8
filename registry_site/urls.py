from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("registry_site.api")),
    path("", include("apps.accounts.urls")),
    path("orgs/<slug:org>/registry/", include("apps.registries.urls")),
    path("orgs/<slug:org>/legacy/", include("apps.legacy.urls")),
    path("orgs/<slug:org>/", include("apps.lineage.urls")),
]
