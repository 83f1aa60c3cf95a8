"""Keyset pages go forward and back, and know where they are: real rows, real queries."""

from __future__ import annotations

import base64
import json

import pytest
from django.test import RequestFactory

from apps.accounts.models import Organization
from apps.lib.pagination import keyset_page, pager

pytestmark = pytest.mark.django_db


@pytest.fixture
def rows():
    """Organizations o00..o24, paged by slug."""
    Organization.objects.bulk_create(
        Organization(name=f"Org {n:02}", slug=f"o{n:02}") for n in range(25)
    )
    return Organization.objects.filter(slug__startswith="o")


def slugs(page) -> list[str]:
    return [row.slug for row in page.items]


def page_of(rows, cursor, **options):
    options = {"field": "slug", "descending": False, "size": 10, **options}
    return keyset_page(rows, cursor=cursor, **options)


def test_pages_walk_forward_and_back_to_the_first(rows):
    first = page_of(rows, None, count=True)
    second = page_of(rows, first.next_cursor)
    third = page_of(rows, second.next_cursor)
    assert (slugs(third), third.start, third.next_cursor) == (
        [f"o{n}" for n in range(20, 25)],
        20,
        None,
    )
    back = page_of(rows, third.previous_cursor)
    assert slugs(back) == slugs(second) and back.start == 10
    assert back.next_cursor is not None and slugs(page_of(rows, back.next_cursor)) == slugs(third)
    again = page_of(rows, back.previous_cursor)
    assert (slugs(again), again.start, again.previous_cursor) == (slugs(first), 0, None)
    assert (first.total, first.previous_cursor, second.total) == (25, None, None)


def test_a_descending_list_goes_back_too(rows):
    first = page_of(rows, None, descending=True)
    second = page_of(rows, first.next_cursor, descending=True)
    assert slugs(second)[0] == "o14"
    assert slugs(page_of(rows, second.previous_cursor, descending=True)) == slugs(first)


def test_going_back_past_deleted_rows_shows_a_full_first_page(rows):
    first = page_of(rows, None)
    second = page_of(rows, first.next_cursor)
    Organization.objects.filter(slug__in=["o00", "o01", "o02"]).delete()
    back = page_of(rows, second.previous_cursor)
    assert (slugs(back)[0], len(back.items), back.start, back.previous_cursor) == (
        "o03",
        10,
        0,
        None,
    )


def test_cursors_made_before_pages_went_back_still_work(rows):
    """A cursor of two items, as the API handed out before, starts after its row."""
    page = page_of(rows, _two_item_cursor(rows, "o04"))
    assert slugs(page)[0] == "o05" and page.previous_cursor is not None


def _two_item_cursor(rows, slug: str) -> str:
    raw = json.dumps([slug, rows.get(slug=slug).pk]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize("start", ["-1", '"x"', "1.5"])
def test_a_cursor_with_a_bad_place_starts_from_the_top(rows, start):
    raw = f'["o04", 1, {start}]'.encode()
    cursor = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    page = page_of(rows, cursor)
    assert slugs(page)[0] == "o00" and page.start == 0


def test_the_pager_keeps_the_query_and_says_where_the_page_is(rows):
    request = RequestFactory().get("/", {"q": "x", "cursor": "old"})
    first = page_of(rows, None, count=True)
    second = page_of(rows, first.next_cursor, count=True)
    shown = pager(request, second)
    assert (shown["first_row"], shown["last_row"], shown["total"]) == (11, 20, 25)
    assert shown["first_query"] == "q=x"
    assert shown["previous_query"] == f"q=x&cursor={second.previous_cursor}"
    assert shown["next_query"] == f"q=x&cursor={second.next_cursor}"
    on_first = pager(RequestFactory().get("/"), first)
    assert (on_first["first_query"], on_first["previous_query"]) == (None, None)
