from django.urls import path

from apps.lineage import views

app_name = "lineage"

urlpatterns = [
    path("lineage/<uuid:uid>/", views.version_lineage, name="version_lineage"),
    path("projects/<slug:team>/<str:project>/", views.project_detail, name="project"),
    path("projects/<slug:team>/<str:project>/runs/<str:run_id>/", views.run_detail, name="run"),
    path("audit/", views.audit_log, name="audit"),
]
