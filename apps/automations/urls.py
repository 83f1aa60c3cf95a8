from django.urls import path

from apps.automations.views import automations, integrations

app_name = "automations"

# Under /orgs/<org>/automations/: the tabs of registries and collections live under `registry/`
# so that no collection name is taken from the registry's own pages.
urlpatterns = [
    path("", automations.automation_list, name="list"),
    path("new/", automations.automation_create, name="create"),
    path("registry/<str:registry>/", automations.registry_automations, name="registry"),
    path(
        "registry/<str:registry>/<str:collection>/",
        automations.collection_automations,
        name="collection",
    ),
    path("teams/<slug:team>/", integrations.team_integrations, name="team"),
    # Automations are named by id: their names are free text, "/" included.
    path("<int:pk>/", automations.automation_detail, name="detail"),
    path("<int:pk>/edit/", automations.automation_edit, name="edit"),
    path("<int:pk>/pause/", automations.automation_pause, name="pause"),
    path("<int:pk>/delete/", automations.automation_delete, name="delete"),
    path("<int:pk>/executions/<uuid:uid>/", automations.execution_detail, name="execution"),
    path(
        "<int:pk>/executions/<uuid:uid>/replay/",
        automations.execution_replay,
        name="replay",
    ),
]
