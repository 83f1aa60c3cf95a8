from datetime import timedelta

from django.template import Context, Template
from django.utils import timezone


def shown(moment) -> str:
    """What a page shows for `moment`: `ago` is a builtin, so no template loads it."""
    return Template("{{ moment|ago }}").render(Context({"moment": moment}))


def test_within_the_first_minute_is_just_now():
    assert shown(timezone.now() - timedelta(seconds=40)) == "just now"


def test_later_is_said_in_the_largest_units():
    assert shown(timezone.now() - timedelta(hours=3, minutes=5)) == "3\xa0hours, 5\xa0minutes ago"
