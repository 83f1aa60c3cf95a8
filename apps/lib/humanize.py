"""Times as a person reads them, for every page: `{{ moment|ago }}` (a template builtin)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django import template
from django.utils import timezone
from django.utils.timesince import timesince

register = template.Library()


@register.filter
def ago(moment: datetime) -> str:
    """ "just now" within the first minute, where "0 minutes ago" reads oddly; else "3 hours
    ago", to the largest unit or two."""
    if timezone.now() - moment < timedelta(minutes=1):
        return "just now"
    return f"{timesince(moment)} ago"
