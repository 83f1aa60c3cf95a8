"""The compare page: metrics side by side, charts, what changed, CSV; and the collection's
metric range filter and the version page's way in."""

from __future__ import annotations

import csv
import io

import pytest

from apps.audit.models import AuditAction, AuditEvent
from apps.registries import services
from apps.registries.models import Direction, MetricDirection
from tests.factories import grant, make_link, make_member, make_registry, make_version

BASE = "/orgs/acme/registry/model/classifier"
URL = f"{BASE}/compare/"


@pytest.fixture
def versions(member, project, models_registry, org_admin):
    """v0 to v3 of `classifier`, production on v1; files and metadata change along the way."""
    logged = [
        ({"accuracy": 0.80, "loss": 0.50}, {"epochs": 2, "lr": 0.1}, b"one\ntwo\n"),
        ({"accuracy": 0.90, "loss": 0.30}, {"epochs": 4, "lr": 0.1}, b"one\ntwo\n"),
        ({"accuracy": 0.85, "loss": 0.40, "f1": 0.7}, {"epochs": 4, "lr": 0.1}, b"one\n2\n"),
        ({"accuracy": 0.88, "loss": 0.40}, {"epochs": 8, "seed": 1}, b"one\ntwo\nthree\n"),
    ]
    links = []
    for n, (metrics, metadata, notes) in enumerate(logged):
        files = {"notes.txt": notes, "weights.bin": f"weights {n}".encode()}
        if n == 3:
            files["extra.json"] = b"{}"
        version = make_version(project, member, files=files, metrics=metrics, metadata=metadata)
        links.append(make_link(version, models_registry, member))
    services.add_protected_alias(actor=org_admin, registry=models_registry, name="production")
    services.set_alias(actor=org_admin, link=links[1], name="production")
    return links


def rows_of(response):
    return {row.metric: row for row in response.context["rows"]}


def test_it_compares_the_chosen_versions_side_by_side(client, member, versions):
    client.force_login(member)
    response = client.get(URL, {"v": ["3", "v0", "1"]})
    assert response.status_code == 200
    assert [link.number for link in response.context["links"]] == [0, 1, 3]
    rows = rows_of(response)
    assert list(rows) == ["accuracy", "loss"]
    assert [cell.value for cell in rows["accuracy"].cells] == [0.80, 0.90, 0.88]
    assert [cell.is_best for cell in rows["loss"].cells] == [False, True, False]
    page = response.content.decode()
    assert 'class="num best baseline">0.9' in page


def test_the_baseline_is_production_then_the_oldest_then_as_chosen(client, member, versions):
    client.force_login(member)
    assert client.get(URL, {"v": [0, 1, 2]}).context["baseline"].number == 1
    assert client.get(URL, {"v": [2, 3]}).context["baseline"].number == 2
    response = client.get(URL, {"v": [0, 1, 2], "baseline": "2"})
    assert response.context["baseline"].number == 2
    loss = rows_of(response)["loss"]
    assert loss.cells[0].delta == pytest.approx(0.1) and loss.cells[0].change == "worse"


def test_without_a_choice_the_three_newest_are_compared(client, member, versions):
    client.force_login(member)
    response = client.get(URL)
    assert [link.number for link in response.context["links"]] == [1, 2, 3]


def test_what_cannot_be_shown_is_left_out_with_a_notice(client, member, versions):
    services.unlink(actor=member, link=versions[0])
    client.force_login(member)
    response = client.get(URL, {"v": ["0", "1", "x", "2"]})
    assert [link.number for link in response.context["links"]] == [1, 2]
    notices = " ".join(response.context["notices"])
    assert "'x' is not a version such as v3" in notices
    assert "v0: not linked in this collection" in notices


def test_at_most_fifty_versions_compare_at_once(client, member, versions):
    client.force_login(member)
    response = client.get(URL, {"v": list(range(60))})
    assert "At most 50 versions compare at once" in " ".join(response.context["notices"])


def test_production_outside_the_selection_can_be_added(client, member, versions):
    client.force_login(member)
    hint = client.get(URL, {"v": [2, 3]}).context["production_hint"]
    assert hint["text"].startswith("production is on v1") and hint["query"] == "v=2&v=3&v=1"
    assert client.get(URL, {"v": [1, 3]}).context["production_hint"] is None


def test_differences_only_hides_rows_that_agree(client, member, versions):
    client.force_login(member)
    assert list(rows_of(client.get(URL, {"v": [2, 3]}))) == ["accuracy", "f1", "loss"]
    response = client.get(URL, {"v": [2, 3], "only": "differences"})
    assert list(rows_of(response)) == ["accuracy", "f1"]


def test_rows_sort_by_a_versions_values(client, member, versions):
    client.force_login(member)
    response = client.get(URL, {"v": [2, 3], "sort": "-v2"})
    assert [row.metric for row in response.context["rows"]] == ["accuracy", "f1", "loss"]
    response = client.get(URL, {"v": [2, 3], "sort": "v2"})
    assert [row.metric for row in response.context["rows"]] == ["loss", "f1", "accuracy"]


def test_the_csv_holds_values_and_deltas(client, member, versions):
    client.force_login(member)
    response = client.get(URL, {"v": [0, 1], "format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="classifier-compare.csv"' in response["Content-Disposition"]
    table = list(csv.reader(io.StringIO(response.getvalue().decode())))
    assert table[0] == ["metric", "better", "best", "v0", "v0 delta vs v1", "v1", "v1 delta vs v1"]
    assert table[1][:4] == ["accuracy", "higher", "0.9", "0.8"]
    assert table[1][4] == "-0.1"  # 0.8 - 0.9, to their places: not -0.09999999999999998
    assert table[2][:3] == ["loss", "lower", "0.3"]


def test_the_first_metric_that_differs_is_charted_unless_others_are_asked(client, member, versions):
    client.force_login(member)
    charts = client.get(URL, {"v": [0, 3]}).context["charts"]
    assert [chart.metric for chart in charts] == ["accuracy"]
    charts = client.get(URL, {"v": [0, 3], "chart": ["loss", "nonsense"]}).context["charts"]
    assert [chart.metric for chart in charts] == ["loss"]
    # Every version of the collection, in link order; the compared ones highlighted.
    trend = sorted(charts[0].trend.points, key=lambda point: point.x)
    assert [point.label for point in trend] == ["v0", "v1", "v2", "v3"]
    assert [point.highlighted for point in trend] == [True, False, False, True]
    assert [row.css_class for row in charts[0].bars.rows] == ["baseline", "best"]


def test_what_changed_between_the_baseline_and_another(client, member, versions):
    client.force_login(member)
    response = client.get(URL, {"v": [1, 3]})
    changes = response.context["changes"]
    assert [change.key for change in changes["metadata"].added] == ["seed"]
    assert [change.key for change in changes["metadata"].removed] == ["lr"]
    assert [(c.key, c.old, c.new) for c in changes["metadata"].changed] == [("epochs", "4", "8")]
    files = changes["files"]
    assert [f.path for f in files.added] == ["extra.json"]
    assert [f.path for f in files.changed] == ["notes.txt", "weights.bin"]
    notes = changes["text_diffs"][0]
    assert notes.path == "notes.txt"
    assert [line.text for line in notes.lines if line.tag == "add"] == ["+three"]
    assert '<span class="diff-add">+three</span>' in response.content.decode()


def test_restricted_viewers_see_metrics_and_which_files_changed_not_their_lines(
    client, organization, org_admin, member, project
):
    restricted = make_registry(organization, org_admin, "Vault", visibility="restricted")
    links = [
        make_link(
            make_version(project, member, files={"notes.txt": text}, metrics={"auc": auc}),
            restricted,
            org_admin,
        )
        for text, auc in ((b"secret one\n", 0.7), (b"secret two\n", 0.8))
    ]
    reader = make_member(organization, "rhea")
    grant(restricted, "restricted_viewer", user=reader)
    client.force_login(reader)
    response = client.get("/orgs/acme/registry/vault/classifier/compare/", {"v": [0, 1]})
    assert [cell.value for cell in rows_of(response)["auc"].cells] == [0.7, 0.8]
    changes = response.context["changes"]
    assert [f.path for f in changes["files"].changed] == ["notes.txt"]
    assert "text_diffs" not in changes
    page = response.content.decode()
    assert "secret" not in page and "not their contents" in page
    assert len(links) == 2


def test_members_set_which_way_is_better_and_it_is_audited(client, member, versions):
    client.force_login(member)
    back = f"{URL}?v=0&v=1"
    response = client.post(
        f"{BASE}/metric-directions/", {"metric": "loss", "direction": "higher", "next": back}
    )
    assert response.status_code == 302 and response["Location"] == back
    assert MetricDirection.objects.get(metric="loss").direction == Direction.HIGHER
    loss = rows_of(client.get(URL, {"v": [0, 1]}))["loss"]
    assert loss.is_set and [cell.is_best for cell in loss.cells] == [True, False]
    event = AuditEvent.objects.filter(action=AuditAction.COLLECTION_UPDATE).first()
    assert "metric loss; direction higher" in event.details
    # Back to the rule of the name.
    client.post(f"{BASE}/metric-directions/", {"metric": "loss", "direction": ""})
    assert not MetricDirection.objects.exists()


def test_a_bad_direction_says_what_to_fix(client, member, versions):
    client.force_login(member)
    response = client.post(
        f"{BASE}/metric-directions/", {"metric": "loss", "direction": "up"}, follow=True
    )
    assert "is not one of higher, lower or the default" in response.content.decode()
    assert not MetricDirection.objects.exists()


def test_an_outside_next_address_is_not_followed(client, member, versions):
    client.force_login(member)
    response = client.post(
        f"{BASE}/metric-directions/",
        {"metric": "loss", "direction": "lower", "next": "https://evil.example/"},
    )
    assert response["Location"] == URL


def test_viewers_may_not_set_directions(client, viewer, versions):
    client.force_login(viewer)
    response = client.post(f"{BASE}/metric-directions/", {"metric": "loss", "direction": "higher"})
    assert response.status_code == 403
    assert "member" in response.content.decode()


def test_the_query_count_does_not_grow_with_versions_or_metrics(
    client, member, project, models_registry, django_assert_max_num_queries
):
    """Intended to keep 50 versions by 200 metrics to the same handful of queries as 2 by 2."""
    client.force_login(member)

    def log(count, metrics):
        for n in range(count):
            values = {f"m{i:03}": (n * 7 + i) % 13 / 13 for i in range(metrics)}
            make_link(make_version(project, member, metrics=values), models_registry, member)

    log(2, 2)
    small = {"v": [0, 1], "chart": ["m000", "m001"]}
    client.get(URL, small)  # warm the session
    with django_assert_max_num_queries(20) as captured:
        client.get(URL, small)
    budget = len(captured)
    log(50, 200)
    with django_assert_max_num_queries(budget):
        response = client.get(URL, {"v": list(range(2, 52)), "chart": ["m000", "m001"]})
    assert len(response.context["rows"]) == 200 and len(response.context["links"]) == 50


def test_the_collection_filters_versions_by_a_metric_range(client, member, versions):
    client.force_login(member)
    response = client.get(f"{BASE}/", {"metric": "accuracy", "min": "0.85", "max": "0.89"})
    assert [link.number for link in response.context["links"]] == [3, 2]
    response = client.get(f"{BASE}/", {"metric": "f1", "min": "0"})
    assert [link.number for link in response.context["links"]] == [2]
    # The filter stays in the sort links.
    assert "metric=f1&amp;min=0&amp;sort=" in response.content.decode()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"metric": "accuracy", "min": "0.9", "max": "0.1"}, "swap them"),
        ({"metric": "accuracy", "min": "high"}, "Enter a number."),
        ({"min": "0.5"}, "Name the metric to filter by"),
    ],
)
def test_a_bad_range_says_what_to_fix_and_filters_nothing(client, member, versions, query, message):
    client.force_login(member)
    response = client.get(f"{BASE}/", query)
    assert message in response.content.decode()
    assert len(response.context["links"]) == 4


def test_the_version_page_offers_to_compare_with_the_previous(client, member, versions):
    services.unlink(actor=member, link=versions[2])
    client.force_login(member)
    page = client.get(f"{BASE}/v3/").content.decode()
    assert f"{URL}?v=1&amp;v=3" in page
    assert "Compare with the previous" not in client.get(f"{BASE}/v0/").content.decode()


def test_metric_names_are_escaped(client, member, project, models_registry):
    for value in (1.0, 2.0):
        metrics = {"<script>alert(1)</script>": value}
        make_link(make_version(project, member, metrics=metrics), models_registry, member)
    client.force_login(member)
    page = client.get(URL, {"v": [0, 1]}).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert '<th scope="row">&lt;script&gt;alert(1)&lt;/script&gt;</th>' in page
