from __future__ import annotations

import html

import pytest

from apps.accounts.models import RegistryRole, Visibility
from apps.audit.models import AuditAction, AuditEvent
from apps.lineage.services import record_input, start_run
from apps.registries.models import Alias
from apps.registries.services import add_protected_alias, set_alias
from tests.factories import grant, make_link, make_member, make_registry, make_version

BASE = "/orgs/acme/registry/model/classifier/v0/"
FILES = {
    "config.json": b'{"layers": 50}',
    "data/labels.csv": b"image,label\na.jpg,cat\n",
    "weights.bin": b"\x00\x01binary",
}


@pytest.fixture
def link(project, member, models_registry):
    version = make_version(
        project, member, files=FILES, metadata={"arch": "resnet"}, metrics={"accuracy": 0.91}
    )
    return make_link(version, models_registry, member)


@pytest.mark.parametrize("tab", ["", "metadata/", "files/", "usage/"])
@pytest.mark.parametrize("persona", ["viewer", "member", "org_admin"])
def test_every_tab_renders_for_every_reader(client, request, link, persona, tab):
    client.force_login(request.getfixturevalue(persona))
    response = client.get(BASE + tab)
    assert response.status_code == 200
    assert b"acme/model/classifier:v0" in response.content


@pytest.mark.parametrize("tab", ["", "metadata/", "files/", "usage/"])
def test_anonymous_and_outsiders(client, link, outsider, tab):
    assert client.get(BASE + tab).status_code == 302
    client.force_login(outsider)
    assert client.get(BASE + tab).status_code == 404


def test_an_unknown_or_unlinked_version_is_not_found(client, member, link):
    from apps.registries.services import unlink

    client.force_login(member)
    assert client.get("/orgs/acme/registry/model/classifier/v9/").status_code == 404
    unlink(actor=member, link=link)
    assert client.get(BASE).status_code == 404


def test_the_overview_shows_source_and_snippet(client, member, link):
    client.force_login(member)
    html = client.get(BASE).content.decode()
    assert "ml/mnist/model:v0" in html
    assert 'run.use_artifact("acme/model/classifier:v0")' in html


def test_metadata_and_metrics(client, viewer, link):
    client.force_login(viewer)
    response = client.get(BASE + "metadata/")
    assert response.context["metrics"] == [("accuracy", 0.91)]
    assert '"arch": "resnet"' in html.unescape(response.content.decode())


def test_files_list_with_sizes_and_digests(client, viewer, link):
    client.force_login(viewer)
    response = client.get(BASE + "files/")
    rows = response.context["files"]
    assert [row["entry"].path for row in rows] == sorted(FILES)
    assert rows[1]["folder"] == "data" and rows[1]["name"] == "labels.csv"
    assert [row["previewable"] for row in rows] == [True, True, False]


def test_previews_of_text_json_and_csv(client, viewer, link):
    client.force_login(viewer)
    assert client.get(BASE + "files/", {"preview": "config.json"}).context["preview"]["text"] == (
        '{"layers": 50}'
    )
    preview = client.get(BASE + "files/", {"preview": "data/labels.csv"}).context["preview"]
    assert preview["rows"] == [["image", "label"], ["a.jpg", "cat"]]
    binary = client.get(BASE + "files/", {"preview": "weights.bin"}).context["preview"]
    assert "Only text" in binary["error"]


def test_a_download_streams_the_file_and_is_audited(client, viewer, link):
    client.force_login(viewer)
    response = client.get(BASE + "files/data/labels.csv")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == FILES["data/labels.csv"]
    assert 'filename="labels.csv"' in response["Content-Disposition"]
    event = AuditEvent.objects.get(action=AuditAction.DOWNLOAD)
    assert event.actor == viewer and event.data["path"] == "data/labels.csv"
    assert client.get(BASE + "files/nope.txt").status_code == 404


def test_a_restricted_viewer_sees_everything_but_contents(
    client, organization, org_admin, project, member
):
    registry = make_registry(organization, org_admin, "Closed", visibility=Visibility.RESTRICTED)
    make_link(make_version(project, member, files=FILES), registry, org_admin, "c")
    reader = make_member(organization, "rita")
    grant(registry, RegistryRole.RESTRICTED_VIEWER, user=reader)
    client.force_login(reader)
    base = "/orgs/acme/registry/closed/c/v0/"
    files = client.get(base + "files/", {"preview": "config.json"})
    assert len(files.context["files"]) == 3 and "preview" not in files.context
    assert b"Download</a>" not in files.content
    assert client.get(base + "files/config.json").status_code == 403
    assert client.get(base + "metadata/").status_code == 200


def test_aliases_are_set_moved_and_removed_in_place(client, member, project, models_registry, link):
    second = make_link(make_version(project, member), models_registry, member)
    client.force_login(member)
    response = client.post(BASE + "aliases/", {"alias": "staging"}, headers={"HX-Request": "true"})
    assert response.content.decode().lstrip().startswith('<section id="labels"')
    client.post("/orgs/acme/registry/model/classifier/v1/aliases/", {"alias": "staging"})
    assert Alias.objects.get(name="staging").link == second
    client.post("/orgs/acme/registry/model/classifier/v1/aliases/", {"remove": "staging"})
    assert not Alias.objects.filter(name="staging").exists()


@pytest.mark.parametrize("alias", ["latest", "v2", "a/b"])
def test_bad_aliases_are_shown_next_to_the_field(client, member, link, alias):
    client.force_login(member)
    response = client.post(BASE + "aliases/", {"alias": alias}, headers={"HX-Request": "true"})
    assert response.status_code == 400
    assert 'class="field-error"' in response.content.decode()
    assert set(Alias.objects.values_list("name", flat=True)) == {"latest"}


def test_removing_latest_is_explained(client, member, link):
    client.force_login(member)
    response = client.post(BASE + "aliases/", {"remove": "latest"})
    assert response.status_code == 400
    assert "always sits on the newest version" in response.content.decode()


def test_protected_aliases_need_an_admin(client, member, org_admin, link, models_registry):
    add_protected_alias(actor=org_admin, registry=models_registry, name="production")
    client.force_login(member)
    response = client.post(BASE + "aliases/", {"alias": "production"})
    assert response.status_code == 403
    assert b"admin role" in response.content
    set_alias(actor=org_admin, link=link, name="production")
    assert client.post(BASE + "aliases/", {"remove": "production"}).status_code == 403
    client.force_login(org_admin)
    client.post(BASE + "aliases/", {"remove": "production"})
    assert not Alias.objects.filter(name="production").exists()


def test_viewers_cannot_change_labels(client, viewer, link):
    client.force_login(viewer)
    assert client.post(BASE + "aliases/", {"alias": "staging"}).status_code == 403
    assert client.post(BASE + "tags/", {"tags": "x"}).status_code == 403


def test_version_tags_in_place(client, member, link):
    client.force_login(member)
    client.post(BASE + "tags/", {"tags": "reviewed, gold"})
    assert sorted(link.version.tags.values_list("name", flat=True)) == ["gold", "reviewed"]
    client.post(BASE + "tags/", {"remove": "gold"})
    assert list(link.version.tags.values_list("name", flat=True)) == ["reviewed"]


def test_usage_lists_the_runs_that_used_it(client, member, project, link):
    run = start_run(actor=member, project=project, name="eval-1", job_type="evaluate")
    record_input(actor=member, run=run, version=link.version)
    client.force_login(member)
    used_by = client.get(BASE + "usage/").context["used_by"]
    assert [(use.run.name, shown) for use, shown in used_by] == [("eval-1", True)]


def test_usage_hides_runs_of_projects_the_viewer_may_not_see(client, member, viewer, project, link):
    run = start_run(actor=member, project=project, name="eval-1", job_type="evaluate")
    record_input(actor=member, run=run, version=link.version)
    client.force_login(viewer)
    response = client.get(BASE + "usage/")
    assert b"Hidden run" in response.content and b"eval-1" not in response.content


@pytest.mark.parametrize(
    ("tab", "budget"),
    # files/ and history/ count their rows for the pager.
    [("", 11), ("metadata/", 10), ("files/", 12), ("usage/", 12), ("lineage/", 18),
     ("history/", 12)],
)  # fmt: skip
def test_query_counts_are_pinned(client, member, link, tab, budget, django_assert_max_num_queries):
    """Intended to keep each tab a fixed handful of queries, whatever the version holds."""
    client.force_login(member)
    client.get(BASE + tab)  # warm the session
    with django_assert_max_num_queries(budget):
        client.get(BASE + tab)
