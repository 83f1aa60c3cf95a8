"""The API's lists take W&B's filter JSON and an order: every operator on every field of each
list, nested, paged in any order, the same rows as the search box's language, never a hidden
row, and a 400 naming what is wrong."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from django.db import connection

from apps.accounts.models import ApiToken, Visibility
from apps.artifacts.models import ArtifactVersion
from apps.registries.models import Collection, Link, Registry
from apps.registries.services import add_collection_tags, add_version_tags, set_alias
from apps.search.engine import matching
from apps.search.query import parse, parse_filter
from tests.factories import grant, make_link, make_member, make_registry, make_version

REGISTRIES = "/api/v1/orgs/acme/registries/"
COLLECTIONS = f"{REGISTRIES}model/collections/"
VERSIONS = f"{COLLECTIONS}resnet/versions/"
URLS = {"registry": REGISTRIES, "collection": COLLECTIONS, "version": VERSIONS}
KEYS = {"registry": ("registries", "name"), "collection": ("collections", "name")}
KEYS["version"] = ("versions", "version")


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


def headers_for(user) -> dict[str, str]:
    _, token = ApiToken.issue(user, "test")
    return {"Authorization": f"Bearer {token}"}


def get(client, user, url, **params):
    query = {k: json.dumps(v) if k == "filter" else v for k, v in params.items()}
    return client.get(url, query, headers=headers_for(user))


def names(client, user, kind, url=None, **params) -> list[str]:
    """Every row of the list, page after page (following `next`), in the order given."""
    key, field = KEYS[kind]
    found, cursor = [], None
    while True:
        page = {**params, **({"cursor": cursor} if cursor else {})}
        response = get(client, user, url or URLS[kind], **page)
        assert response.status_code == 200, response.content
        found += [row[field] for row in response.json()[key]]
        if not (cursor := response.json()["next"]):
            return found


@pytest.fixture(scope="module")
def shared_world(acme):
    """Registries Models, Datasets and Evaluations (organization-visible) and Secret
    (restricted); in Models the collections resnet (tags vision and cnn), bert (nlp) and
    old-net (none), and in Secret resnet-secret (vision); resnet's versions v0 (acc 0.81, f1,
    pytorch, tagged reviewed), v1 (acc 0.93, pytorch, production) and v2 (acc 0.5, jax,
    staging and latest). Each with its own times. Made once for the module, on its shared
    personas (tests/search/conftest.py)."""
    organization, org_admin, member, project = (
        acme.organization, acme.org_admin, acme.member, acme.project
    )  # fmt: skip
    models_registry = organization.registries.get(slug="model")
    datasets_registry = organization.registries.get(slug="dataset")
    evaluations = make_registry(organization, org_admin, "Evaluations", description="Benchmarks.")
    secret = make_registry(
        organization,
        org_admin,
        "Secret",
        description="Benchmarks nobody else sees.",
        visibility=Visibility.RESTRICTED,
    )

    def link(collection, registry=models_registry, **kwargs):
        return make_link(make_version(project, member, **kwargs), registry, org_admin, collection)

    v0 = link("resnet", metrics={"acc": 0.81, "f1": 0.7}, metadata={"framework": "pytorch"})
    v1 = link("resnet", metrics={"acc": 0.93}, metadata={"framework": "pytorch"})
    v2 = link("resnet", metrics={"acc": 0.5}, metadata={"framework": "jax"})
    add_version_tags(actor=org_admin, link=v0, tags=["reviewed"])
    set_alias(actor=org_admin, link=v1, name="production")
    set_alias(actor=org_admin, link=v2, name="staging")
    bert = link("bert", metrics={"acc": 0.88}, metadata={"framework": "transformers"})
    link("old-net")
    hidden = link("resnet-secret", registry=secret, metrics={"acc": 0.99})
    set_alias(actor=org_admin, link=hidden, name="production")
    add_collection_tags(actor=org_admin, collection=v0.collection, tags=["vision", "cnn"])
    add_collection_tags(actor=org_admin, collection=bert.collection, tags=["nlp"])
    add_collection_tags(actor=org_admin, collection=hidden.collection, tags=["vision"])
    Collection.objects.filter(pk=v0.collection_id).update(description="An image classifier.")
    Collection.objects.filter(pk=bert.collection_id).update(description="A language model.")
    # Times last: every change above moves updated_at.
    for row, created, updated in [
        (models_registry, "2024-01-01", "2025-03-01"),
        (datasets_registry, "2024-06-01", "2024-07-01"),
        (evaluations, "2025-01-01", "2025-02-01"),
        (secret, "2025-06-01", "2025-07-01"),
    ]:
        Registry.objects.filter(pk=row.pk).update(created_at=at(created), updated_at=at(updated))
    for name, created, updated in [
        ("resnet", "2024-02-01", "2025-05-01"),
        ("bert", "2024-03-01", "2025-04-01"),
        ("old-net", "2024-01-15", "2024-01-20"),
        ("resnet-secret", "2024-02-01", "2025-05-01"),
    ]:
        Collection.objects.filter(name=name).update(created_at=at(created), updated_at=at(updated))
    for row, linked, updated in [
        (v0, "2024-02-10", "2024-02-10"),
        (v1, "2024-05-01", "2024-05-02"),
        (v2, "2025-01-10", "2025-01-11"),
    ]:
        Link.objects.filter(pk=row.pk).update(linked_at=at(linked))
        ArtifactVersion.objects.filter(pk=row.version_id).update(updated_at=at(updated))
    return {"secret": secret}


@pytest.fixture
def world(db, shared_world):
    """The shared world, its rows read afresh so that a test may change its copies."""
    return {"secret": Registry.objects.get(pk=shared_world["secret"].pk)}


# (filter, what the member finds), for each list: every operator on every field.
REGISTRY_FILTERS = [
    ({"name": "Models"}, ["Models"]),
    ({"name": {"$eq": "models"}}, ["Models"]),
    ({"name": {"$ne": "Models"}}, ["Datasets", "Evaluations"]),
    ({"name": {"$gt": "Evaluations"}}, ["Models"]),
    ({"name": {"$gte": "Evaluations"}}, ["Evaluations", "Models"]),
    ({"name": {"$lt": "Evaluations"}}, ["Datasets"]),
    ({"name": {"$lte": "Evaluations"}}, ["Datasets", "Evaluations"]),
    ({"name": {"$regex": "^[DE]"}}, ["Datasets", "Evaluations"]),
    ({"name": {"$contains": "SET"}}, ["Datasets"]),
    ({"name": {"$exists": True}}, ["Datasets", "Evaluations", "Models"]),
    ({"name": {"$exists": False}}, []),
    ({"description": {"$contains": "bench"}}, ["Evaluations"]),
    ({"description": {"$regex": "models, ready"}}, ["Models"]),
    ({"description": {"$eq": "benchmarks."}}, ["Evaluations"]),
    ({"description": {"$ne": "Benchmarks."}}, ["Datasets", "Models"]),
    ({"created_at": {"$eq": "2024-06-01"}}, ["Datasets"]),
    ({"created_at": {"$ne": "2024-06-01"}}, ["Evaluations", "Models"]),
    ({"created_at": {"$gt": "2024-06-01"}}, ["Evaluations"]),
    ({"created_at": {"$gte": "2024-06-01"}}, ["Datasets", "Evaluations"]),
    ({"created_at": {"$lt": "2024-06-01"}}, ["Models"]),
    ({"created_at": {"$lte": "2024-06-01 00:00:00"}}, ["Datasets", "Models"]),
    ({"created_at": {"$exists": True}}, ["Datasets", "Evaluations", "Models"]),
    ({"updated_at": {"$gte": "2025-02-01", "$lt": "2025-03-01"}}, ["Evaluations"]),
    ({"updated_at": {"$lte": "2024-07-01T00:00:00+00:00"}}, ["Datasets"]),
]
COLLECTION_FILTERS = [
    ({"name": "resnet"}, ["resnet"]),
    ({"name": {"$eq": "RESNET"}}, ["resnet"]),
    ({"name": {"$ne": "resnet"}}, ["bert", "old-net"]),
    ({"name": {"$gt": "bert"}}, ["old-net", "resnet"]),
    ({"name": {"$lte": "old-net"}}, ["bert", "old-net"]),
    ({"name": {"$regex": "^res"}}, ["resnet"]),
    ({"name": {"$contains": "NET"}}, ["old-net", "resnet"]),
    ({"tag": "vision"}, ["resnet"]),
    ({"tag": {"$eq": "NLP"}}, ["bert"]),
    ({"tag": {"$ne": "vision"}}, ["bert", "old-net"]),
    ({"tag": {"$gt": "o"}}, ["resnet"]),
    ({"tag": {"$lt": "d"}}, ["resnet"]),
    ({"tag": {"$gte": "nlp"}}, ["bert", "resnet"]),
    ({"tag": {"$lte": "nlp"}}, ["bert", "resnet"]),
    ({"tag": {"$regex": "^(nlp|cnn)$"}}, ["bert", "resnet"]),
    ({"tag": {"$contains": "L"}}, ["bert"]),
    ({"tag": {"$exists": True}}, ["bert", "resnet"]),
    ({"tag": {"$exists": False}}, ["old-net"]),
    ({"description": {"$contains": "classifier"}}, ["resnet"]),
    ({"description": {"$regex": "^An? "}}, ["bert", "resnet"]),
    ({"description": {"$eq": "a language MODEL."}}, ["bert"]),
    ({"created_at": {"$gt": "2024-02-01"}}, ["bert"]),
    ({"created_at": {"$lte": "2024-02-01"}}, ["old-net", "resnet"]),
    ({"updated_at": {"$gte": "2025-04-01"}}, ["bert", "resnet"]),
    ({"updated_at": {"$lt": "2025-01-01"}}, ["old-net"]),
]
VERSION_FILTERS = [
    ({"alias": "production"}, ["v1"]),
    ({"alias": {"$eq": "STAGING"}}, ["v2"]),
    ({"alias": {"$ne": "production"}}, ["v2", "v0"]),
    ({"alias": {"$regex": "^stag"}}, ["v2"]),
    ({"alias": {"$contains": "DUCT"}}, ["v1"]),
    ({"alias": {"$gt": "production"}}, ["v2"]),  # staging
    ({"alias": {"$exists": True}}, ["v2", "v1"]),
    ({"alias": {"$exists": False}}, ["v0"]),
    ({"tag": "reviewed"}, ["v0"]),
    ({"tag": {"$ne": "reviewed"}}, ["v2", "v1"]),
    ({"tag": {"$contains": "view"}}, ["v0"]),
    ({"tag": {"$exists": False}}, ["v2", "v1"]),
    ({"metrics.acc": 0.93}, ["v1"]),
    ({"metrics.acc": {"$ne": 0.93}}, ["v2", "v0"]),
    ({"metrics.acc": {"$gt": 0.81}}, ["v1"]),
    ({"metrics.acc": {"$gte": 0.81}}, ["v1", "v0"]),
    ({"metrics.acc": {"$lt": 0.81}}, ["v2"]),
    ({"metrics.acc": {"$lte": 0.5}}, ["v2"]),
    ({"metric.f1": {"$exists": True}}, ["v0"]),
    ({"metrics.f1": {"$exists": False}}, ["v2", "v1"]),
    ({"metadata.framework": "pytorch"}, ["v1", "v0"]),
    ({"metadata.framework": {"$ne": "pytorch"}}, ["v2"]),
    ({"metadata.framework": {"$contains": "TORCH"}}, ["v1", "v0"]),
    ({"metadata.framework": {"$regex": "^j"}}, ["v2"]),
    ({"metadata.framework": {"$exists": True}}, ["v2", "v1", "v0"]),
    ({"metadata.epoch": {"$exists": True}}, []),
    ({"created_at": {"$gte": "2024-05-01"}}, ["v2", "v1"]),
    ({"created_at": {"$lt": "2024-05-01"}}, ["v0"]),
    ({"created_at": {"$eq": "2024-05-01"}}, ["v1"]),
    ({"updated_at": {"$gt": "2024-05-01", "$lte": "2024-05-02"}}, ["v1"]),
]


@pytest.mark.parametrize(
    ("kind", "data", "found"),
    [
        *[("registry", data, found) for data, found in REGISTRY_FILTERS],
        *[("collection", data, found) for data, found in COLLECTION_FILTERS],
        *[("version", data, found) for data, found in VERSION_FILTERS],
    ],
)
def test_each_operator_on_each_field(client, world, member, kind, data, found):
    # Registries and collections by name (the default order), versions newest first.
    assert names(client, member, kind, filter=data) == found


NESTED = [
    ("collection", {"$and": [{"tag": "vision"}, {"name": {"$contains": "res"}}]}, ["resnet"]),
    ("collection", {"$or": [{"tag": "nlp"}, {"name": "old-net"}]}, ["bert", "old-net"]),
    ("collection", {"$nor": [{"tag": "nlp"}, {"tag": "vision"}]}, ["old-net"]),
    ("collection", {"$not": {"tag": "vision"}}, ["bert", "old-net"]),
    ("collection", {"$not": {"$not": {"tag": "vision"}}}, ["resnet"]),
    (
        "collection",
        {
            "$or": [
                {"$and": [{"tag": "vision"}, {"$not": {"name": "resnet"}}]},
                {"$nor": [{"tag": {"$exists": True}}]},
            ]
        },
        ["old-net"],
    ),
    (
        "version",
        {
            "$or": [
                {"alias": "production"},
                {"$and": [{"metrics.acc": {"$lt": 0.6}}, {"$not": {"tag": "reviewed"}}]},
            ]
        },
        ["v2", "v1"],
    ),
    ("version", {"alias": {"$exists": True}, "metrics.acc": {"$gt": 0.6}}, ["v1"]),
    ("version", {"$nor": [{"alias": "production"}, {"tag": "reviewed"}]}, ["v2"]),
    (
        "registry",
        {"$and": [{"$or": [{"name": "Models"}, {"name": "Datasets"}]}]},
        ["Datasets", "Models"],
    ),
    (
        "registry",
        {"$not": {"$or": [{"name": "Models"}, {"created_at": {"$gt": "2024-12-01"}}]}},
        ["Datasets"],
    ),
]


@pytest.mark.parametrize(("kind", "data", "found"), NESTED)
def test_and_or_nor_not_nest(client, world, member, kind, data, found):
    assert names(client, member, kind, filter=data) == found


# The same question asked in the search box's language and as filter JSON.
SAME_QUESTIONS = [
    ("registry", "name:set", {"name": {"$contains": "set"}}),
    ("registry", "created:>=2024-06-01", {"created_at": {"$gte": "2024-06-01"}}),
    ("registry", "-description:bench", {"$not": {"description": {"$contains": "bench"}}}),
    ("collection", "tag:vision", {"tag": "vision"}),
    ("collection", "-tag:vision", {"$not": {"tag": "vision"}}),
    (
        "collection",
        "tag:nlp OR name:old",
        {"$or": [{"tag": "nlp"}, {"name": {"$contains": "old"}}]},
    ),
    (
        "collection",
        "created:<2024-02-02 updated:>2025-01-01",
        {"created_at": {"$lt": "2024-02-02"}, "updated_at": {"$gte": "2025-01-02"}},
    ),
    ("version", "alias:production", {"alias": "production"}),
    (
        "version",
        "metric.acc>=0.8 -tag:reviewed",
        {"metrics.acc": {"$gte": 0.8}, "$not": {"tag": "reviewed"}},
    ),
    ("version", "metadata.framework:pytorch", {"metadata.framework": "pytorch"}),
    (
        "version",
        "NOT (alias:staging OR metric.acc<0.9)",
        {"$nor": [{"alias": "staging"}, {"metrics.acc": {"$lt": 0.9}}]},
    ),
]


@pytest.mark.parametrize("who", ["member", "org_admin"])
@pytest.mark.parametrize(("kind", "text", "data"), SAME_QUESTIONS)
def test_the_language_and_the_filter_json_find_the_same_rows(
    client, world, organization, request, who, kind, text, data
):
    user = request.getfixturevalue(who)
    by_text = matching(user, organization, parse(text), kind)
    by_json = matching(user, organization, parse_filter(data), kind)
    assert set(by_text.values_list("pk", flat=True)) == set(by_json.values_list("pk", flat=True))
    # The API's list shows those of them in its scope.
    if kind == "registry":
        expected = list(by_json.values_list("name", flat=True))
    elif kind == "collection":
        expected = list(by_json.filter(registry__slug="model").values_list("name", flat=True))
    else:
        in_resnet = by_json.filter(collection__registry__slug="model", collection__name="resnet")
        expected = [f"v{number}" for number in in_resnet.values_list("number", flat=True)]
    shown = names(client, user, kind, filter=data)
    assert shown and sorted(shown) == sorted(expected)


def expected_order(rows, field: str, descending: bool) -> list:
    ordered = sorted(rows, key=lambda row: (row[field], row["pk"]))
    return ordered[::-1] if descending else ordered


@pytest.mark.parametrize(
    "order", ["+name", "-name", "+created_at", "-created_at", "+updated_at", "-updated_at"]
)
def test_registry_pages_follow_the_order(client, world, member, organization, order):
    field = order[1:]
    rows = Registry.objects.filter(organization=organization).exclude(name="Secret")
    expected = [
        r["name"] for r in expected_order(rows.values("pk", "name", field), field, order[0] == "-")
    ]
    assert names(client, member, "registry", order=order, limit=1) == expected


@pytest.fixture
def grantee(organization, world):
    """A member granted viewer on the restricted registry Secret."""
    user = make_member(organization, "gina")
    grant(world["secret"], "viewer", user=user)
    return user


ORGANIZATION_VISIBLE = ["Datasets", "Evaluations", "Models"]


@pytest.mark.parametrize(
    ("who", "sees_secret"),
    [("member", False), ("viewer", False), ("org_admin", True), ("grantee", True)],
)
@pytest.mark.parametrize(
    ("data", "found"),
    [
        (None, [*ORGANIZATION_VISIBLE, "Secret"]),
        ({"description": {"$contains": "bench"}}, ["Evaluations", "Secret"]),
        ({"$not": {"name": "Models"}}, ["Datasets", "Evaluations", "Secret"]),
        ({"$nor": [{"name": {"$regex": "^M"}}]}, ["Datasets", "Evaluations", "Secret"]),
        ({"name": {"$ne": "Nothing"}}, [*ORGANIZATION_VISIBLE, "Secret"]),
        ({"created_at": {"$gt": "2025-03-01"}}, ["Secret"]),
    ],
)
def test_hidden_registries_never_appear_nor_count(
    client, world, request, who, sees_secret, data, found
):
    user = request.getfixturevalue(who)
    expected = [name for name in found if sees_secret or name != "Secret"]
    params = {"filter": data} if data else {}
    # One row a page: as many pages as rows the user may see, the last without `next`.
    response_count = 0
    cursor, seen = None, []
    while True:
        extra = {"cursor": cursor} if cursor else {}
        response = get(client, user, REGISTRIES, limit=1, **params, **extra)
        response_count += 1
        seen += [row["name"] for row in response.json()["registries"]]
        if not (cursor := response.json()["next"]):
            break
    assert seen == expected
    assert response_count == max(1, len(expected))


@pytest.mark.parametrize(
    ("who", "status"),
    [("member", 404), ("viewer", 404), ("outsider", 404), ("org_admin", 200), ("grantee", 200)],
)
def test_lists_in_a_hidden_registry_answer_as_missing(client, world, request, who, status):
    user = request.getfixturevalue(who)
    secret = f"{REGISTRIES}secret/collections/"
    for url, data in [
        (secret, {"tag": "vision"}),
        (secret, {"colour": "bad filters are not read before access"}),
        (f"{secret}resnet-secret/versions/", {"alias": "production"}),
    ]:
        response = get(client, user, url, filter=data)
        assert response.status_code == (400 if status == 200 and "colour" in data else status)
    if status == 200:
        assert names(client, user, "collection", secret, filter={"tag": "vision"}) == [
            "resnet-secret"
        ]


def test_an_outsider_gets_404_whatever_the_filter(client, world, outsider):
    for data in [{"name": "Models"}, {"$not": {"name": "x"}}, {"colour": 1}]:
        response = get(client, outsider, REGISTRIES, filter=data)
        assert response.status_code == 404


def test_hidden_versions_never_match_across_the_organization(world, member, organization):
    found = matching(member, organization, parse_filter({"alias": "production"}), "version")
    assert [link.collection.name for link in found] == ["resnet"]


@pytest.mark.parametrize(
    ("url", "params", "code", "says"),
    [
        (REGISTRIES, {"filter": "{name"}, "invalid_filter", "'filter' is not valid JSON"),
        (REGISTRIES, {"filter": "[]"}, "invalid_filter", "filter must be an object"),
        (
            REGISTRIES,
            {"filter": '{"colour": "red"}'},
            "invalid_filter",
            "filter.colour: no field 'colour'; filter on name, description, created_at, updated_at",
        ),
        (REGISTRIES, {"filter": '{"alias": "x"}'}, "invalid_filter", "no field 'alias'"),
        (
            COLLECTIONS,
            {"filter": '{"metrics.acc": 1}'},
            "invalid_filter",
            "no field 'metrics.acc'; filter on name, tag, description",
        ),
        (
            VERSIONS,
            {"filter": '{"name": "x"}'},
            "invalid_filter",
            "filter on tag, alias, created_at, updated_at, metadata.<key>, metrics.<name>",
        ),
        (
            REGISTRIES,
            {"filter": '{"name": {"$like": "x"}}'},
            "invalid_filter",
            "filter.name has operator '$like'; use one of $eq",
        ),
        (
            VERSIONS,
            {"filter": '{"metrics.acc": {"$gt": "high"}}'},
            "invalid_filter",
            "filter.metrics.acc.$gt takes a number, not 'high'",
        ),
        (
            COLLECTIONS,
            {"filter": '{"created_at": {"$gt": "soon"}}'},
            "invalid_filter",
            "filter.created_at.$gt takes an ISO 8601 date or time",
        ),
        (
            COLLECTIONS,
            {"filter": '{"name": {"$regex": "("}}'},
            "invalid_filter",
            "filter.name.$regex: the regex does not compile",
        ),
        (
            COLLECTIONS,
            {"filter": '{"$or": [{"tag": "a"}, {"colour": 1}]}'},
            "invalid_filter",
            "filter.$or[1].colour: no field",
        ),
        (
            COLLECTIONS,
            {"filter": '{"$and": []}'},
            "invalid_filter",
            "filter.$and must be a non-empty",
        ),
        (
            COLLECTIONS,
            {"filter": '{"description": ""}'},
            "invalid_filter",
            "filter.description.$eq takes a non-empty string",
        ),
        (COLLECTIONS, {"filter": '{"tag": {"$exists": 1}}'}, "invalid_filter", "true or false"),
        (
            COLLECTIONS,
            {"filter": '{"name": "a\\u0000"}'},
            "invalid_text",
            "filter.name holds a NUL character",
        ),
        (VERSIONS, {"filter": '{"metrics.acc": 1e999}'}, "non_finite", "filter.metrics.acc is inf"),
        (
            VERSIONS,
            {"filter": '{"metrics.acc": 99999999999999999999999}'},
            "out_of_range",
            "filter.metrics.acc is outside",
        ),
        (
            COLLECTIONS,
            {"filter": '{"$not": ' * 30 + '{"tag": "a"}' + "}" * 30},
            "invalid_filter",
            "nests deeper than 20 levels",
        ),
        (COLLECTIONS, {"filter": "[" * 100_000}, "invalid_filter", "nests too deeply"),
        (
            COLLECTIONS,
            {"order": "-colour"},
            "invalid_order",
            "order: '-colour' is not one of +name, -name, +created_at, -created_at, +updated_at",
        ),
        (VERSIONS, {"order": "+name"}, "invalid_order", "not one of +version, -version"),
        (REGISTRIES, {"order": ""}, "invalid_order", "order: '' is not one of"),
    ],
)
def test_a_bad_filter_or_order_is_a_400_naming_the_part(
    client, world, member, url, params, code, says
):
    response = client.get(url, params, headers=headers_for(member))
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == code and says in error["message"], error


def test_a_regex_postgresql_refuses_is_a_400_there(client, world, member):
    """Python's re takes named groups, PostgreSQL's regex dialect does not: still no 500."""
    response = get(client, member, COLLECTIONS, filter={"name": {"$regex": "(?P<x>res)"}})
    if connection.vendor == "postgresql":
        assert response.status_code == 400
        assert (
            "filter: the database refused it: invalid regular expression"
            in (response.json()["error"]["message"])
        )
    else:
        assert [row["name"] for row in response.json()["collections"]] == ["resnet"]


def test_the_lists_document_filter_and_order():
    from registry_site.api import OPENAPI

    for route in [
        "/orgs/{org}/registries/",
        "/orgs/{org}/registries/{registry}/collections/",
        "/orgs/{org}/registries/{registry}/collections/{collection}/versions/",
    ]:
        operation = OPENAPI["paths"][route]["get"]
        parameters = {p["name"]: p for p in operation["parameters"]}
        assert {"filter", "order", "cursor", "limit"} <= set(parameters)
        assert "application/json" in parameters["filter"]["content"]
        assert "400" in operation["responses"]
    assert "post" in OPENAPI["paths"][route]  # linking stays on the versions route
