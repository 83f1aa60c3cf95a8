"""The connection pool replaces a connection the server dropped instead of handing it out.

A small TCP proxy stands between the pool and PostgreSQL, and cuts every connection through it
while one sits idle in the pool, as a restarted server, a failover or a firewall would.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import OperationalError, connection
from django.db.backends.postgresql.base import DatabaseWrapper

from tests.ops.dbproxy import DatabaseProxy

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the pool is PostgreSQL's"),
]


@pytest.fixture
def proxy() -> Iterator[DatabaseProxy]:
    database = connection.settings_dict
    proxy = DatabaseProxy(database["HOST"] or "127.0.0.1", int(database["PORT"] or 5432))
    yield proxy
    proxy.close()


def through(proxy: DatabaseProxy, *, checked: bool) -> DatabaseWrapper:
    """The test database, reached through the proxy, with a pool of its own."""
    settings_dict = {
        **connection.settings_dict,
        "HOST": "127.0.0.1",
        "PORT": proxy.port,
        "CONN_MAX_AGE": 0,
        "CONN_HEALTH_CHECKS": checked,
        "OPTIONS": {"pool": {"min_size": 1, "max_size": 2}},
    }
    return DatabaseWrapper(settings_dict, alias=f"through-proxy-{proxy.port}")


@pytest.fixture
def pooled(proxy) -> Iterator[DatabaseWrapper]:
    database = through(proxy, checked=True)
    with database.cursor() as cursor:
        cursor.execute("CREATE TABLE pool_probe (note text)")
    yield database
    database.close()
    database.close_pool()
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE pool_probe")


def query(database: DatabaseWrapper, sql: str, params=()) -> list[tuple]:
    """As a request does: take a connection from the pool, use it, give it back."""
    try:
        with database.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall() if cursor.description else []
    finally:
        database.close()


def test_the_next_query_after_a_cut_gets_a_fresh_connection_and_loses_nothing(proxy, pooled):
    query(pooled, "INSERT INTO pool_probe VALUES (%s)", ["written before the cut"])
    assert proxy.cut() >= 1
    assert query(pooled, "SELECT note FROM pool_probe") == [("written before the cut",)]
    query(pooled, "INSERT INTO pool_probe VALUES (%s)", ["written after"])
    assert len(query(pooled, "SELECT note FROM pool_probe")) == 2


def test_unchecked_the_pool_would_hand_out_the_dead_connection(proxy):
    """What the check is for: without it the first query after the cut fails."""
    database = through(proxy, checked=False)
    try:
        assert query(database, "SELECT 1") == [(1,)]
        proxy.cut()
        with pytest.raises(OperationalError):
            query(database, "SELECT 1")
    finally:
        database.close()
        database.close_pool()
