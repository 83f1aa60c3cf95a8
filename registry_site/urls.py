from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("apps.accounts.urls")),
    path("orgs/<slug:org>/registry/", include("apps.registries.urls")),
]
