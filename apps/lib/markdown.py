"""Markdown to HTML that is safe to show: rendered, then sanitized with an allow-list."""

from __future__ import annotations

from django.utils.safestring import SafeString, mark_safe

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5",
    "h6", "hr", "i", "li", "ol", "p", "pre", "strong", "table", "tbody", "td", "th", "thead",
    "tr", "ul",
}  # fmt: skip


def render_markdown(text: str) -> SafeString:
    # Imported on first use: with xml.etree they cost each server process about 2.5 MB, and
    # many never render Markdown (API calls, probes, pages without descriptions).
    import markdown as markdown_lib
    import nh3

    html = markdown_lib.markdown(text or "", extensions=["fenced_code", "tables"])
    # nh3 strips scripts, event handlers and javascript: links, and adds rel="noopener".
    return mark_safe(nh3.clean(html, tags=ALLOWED_TAGS, link_rel="noopener noreferrer nofollow"))
