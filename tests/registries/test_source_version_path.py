"""A source version's path reads one way everywhere: `<team>/<project>/<artifact>:vN`."""

from __future__ import annotations

import pytest

from apps.accounts.models import ApiToken
from apps.artifacts.models import source_version_path
from apps.lineage.services import record_input, start_run
from tests.factories import make_link, make_version

PATH = "ml/mnist/resnet50:v0"


@pytest.fixture
def link(project, member, models_registry):
    return make_link(make_version(project, member, name="resnet50"), models_registry, member)


def test_the_helper_writes_the_full_project_path(link):
    assert source_version_path("ml", "mnist", "resnet50", "v0") == PATH
    assert str(link.version) == PATH


def test_the_collection_table_and_the_version_page_agree(client, member, link):
    client.force_login(member)
    table = client.get("/orgs/acme/registry/model/classifier/")
    assert [row.source for row in table.context["links"]] == [PATH]
    assert f"<td><code>{PATH}</code></td>" in table.text
    assert f"<code>{PATH}</code>" in client.get("/orgs/acme/registry/model/classifier/v0/").text


def test_the_api_and_the_run_page_agree(client, member, project, link):
    _, token = ApiToken.issue(member, "t")
    versions = client.get(
        "/api/v1/orgs/acme/registries/model/collections/classifier/versions/",
        headers={"Authorization": f"Bearer {token}"},
    ).json()["versions"]
    assert [row["source"] for row in versions] == [PATH]
    run = start_run(actor=member, project=project, name="evaluate-1", job_type="evaluate")
    record_input(actor=member, run=run, version=link.version)
    client.force_login(member)
    page = client.get(f"/orgs/acme/projects/ml/mnist/runs/{run.run_id}/").text
    assert f">{PATH}</a>" in page
