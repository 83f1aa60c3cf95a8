"""Search's tests share their rows within a module: the suite's personas are made once
(`acme`), and each module's own rows once on top of them (the engine's catalogue, which the
pages' tests search too, and the API's world). The persona fixtures of tests/conftest.py are
replaced here by ones that hand each test fresh copies of the shared rows, so that no test sees
another's changes to the Python objects either."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import pytest

from apps.accounts.models import Organization, Team, User
from apps.artifacts.models import Project
from tests.factories import make_personas
from tests.search.test_engine import catalogue, shared_catalogue  # noqa: F401 (fixtures, shared)


@pytest.fixture(scope="module")
def acme(rows_for_the_module) -> Iterator[SimpleNamespace]:
    """The personas of tests/conftest.py, made as it makes them but once for the module, in the
    transaction its tests nest in; module fixtures that request this one add their rows to it."""
    with rows_for_the_module():
        yield make_personas()


# Each a fresh copy of the shared row, read in the test's own transaction.


@pytest.fixture
def organization(db, acme) -> Organization:
    return Organization.objects.get(pk=acme.organization.pk)


@pytest.fixture
def org_admin(db, acme) -> User:
    return User.objects.get(pk=acme.org_admin.pk)


@pytest.fixture
def member(db, acme) -> User:
    return User.objects.get(pk=acme.member.pk)


@pytest.fixture
def viewer(db, acme) -> User:
    return User.objects.get(pk=acme.viewer.pk)


@pytest.fixture
def outsider(db, acme) -> User:
    return User.objects.get(pk=acme.outsider.pk)


@pytest.fixture
def team(db, acme) -> Team:
    return Team.objects.get(pk=acme.team.pk)


@pytest.fixture
def project(db, acme) -> Project:
    return Project.objects.get(pk=acme.project.pk)
