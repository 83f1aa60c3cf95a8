from __future__ import annotations

from django import template
from django.utils.safestring import SafeString

from apps.lib.markdown import render_markdown

register = template.Library()


@register.filter
def markdown(text: str) -> SafeString:
    """Render Markdown, sanitized: `{{ collection.description|markdown }}`."""
    return render_markdown(text)


@register.filter
def metric(value: object) -> str:
    """A metric value as people read it: up to four significant decimals."""
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)


@register.filter
def get(mapping: dict, key: str) -> object:
    return mapping.get(key) if mapping else None
