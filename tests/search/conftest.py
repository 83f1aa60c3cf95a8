"""The catalogue the engine's tests search, for every test of search (pages too)."""

from tests.search.test_engine import catalogue  # noqa: F401 (a fixture, shared)
