from __future__ import annotations

from apps.registries.models import Link
from tests.factories import make_version

URL = "/orgs/acme/registry/model/link/"


def test_choices_narrow_step_by_step(client, member, project):
    version = make_version(project, member, name="resnet")
    make_version(project, member, name="data", artifact_type="dataset")
    client.force_login(member)
    form = client.get(URL).context["form"]
    assert list(form.fields["project"].queryset) == [project]
    assert list(form.fields["artifact"].queryset) == []
    form = client.get(URL, {"project": project.pk}).context["form"]
    # Models accepts only the model type, so the dataset is not offered.
    assert [a.name for a in form.fields["artifact"].queryset] == ["resnet"]
    form = client.get(URL, {"project": project.pk, "artifact": version.artifact_id}).context["form"]
    assert list(form.fields["version"].queryset) == [version]


def test_the_htmx_refresh_returns_only_the_form(client, member, project):
    client.force_login(member)
    response = client.get(URL, {"project": project.pk}, headers={"HX-Request": "true"})
    assert response.content.decode().lstrip().startswith('<form id="link-form"')


def test_linking_creates_the_collection_and_sets_aliases(client, member, project):
    version = make_version(project, member, name="resnet")
    client.force_login(member)
    response = client.post(
        URL,
        {
            "project": project.pk,
            "artifact": version.artifact_id,
            "version": version.pk,
            "collection": "classifier",
            "aliases": "staging, candidate",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/orgs/acme/registry/model/classifier/"
    link = Link.objects.get()
    assert sorted(link.aliases.values_list("name", flat=True)) == ["candidate", "latest", "staging"]


def test_errors_are_shown_and_nothing_is_linked(client, member, project):
    version = make_version(project, member, name="resnet")
    client.force_login(member)
    data = {
        "project": project.pk,
        "artifact": version.artifact_id,
        "version": version.pk,
        "collection": "classifier",
        "aliases": "latest",
    }
    response = client.post(URL, data)
    assert response.status_code == 400
    assert "reserved" in response.context["form"].errors["aliases"][0]
    assert not Link.objects.exists()


def test_projects_outside_the_users_teams_are_not_offered(client, viewer, org_admin, project):
    client.force_login(org_admin)
    assert list(client.get(URL).context["form"].fields["project"].queryset) == [project]
    client.force_login(viewer)
    assert client.get(URL).status_code == 403


def test_outsiders_get_not_found(client, outsider, project):
    client.force_login(outsider)
    assert client.get(URL).status_code == 404
