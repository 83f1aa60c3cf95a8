from __future__ import annotations

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from apps.lib.charts import format_number
from apps.lib.markdown import render_markdown

register = template.Library()


@register.filter
def markdown(text: str) -> SafeString:
    """Render Markdown, sanitized: `{{ collection.description|markdown }}`."""
    return render_markdown(text)


@register.filter
def metric(value: object) -> str:
    """A metric value as people read it, as charts write it too."""
    return "" if value is None else format_number(value)


@register.filter
def get(mapping: dict, key: str) -> object:
    return mapping.get(key) if mapping else None


@register.filter
def flip_metric_sort(sort: str, metric: str) -> str:
    """Where a metric's column header sorts: highest first, then the other way round."""
    return f"metric:{metric}" if sort == f"-metric:{metric}" else f"-metric:{metric}"


# Differences read better with a true minus sign than with a hyphen.
MINUS = "\u2212"


@register.filter
def signed(value: float | None) -> str:
    """A difference with its sign, to four significant digits: +0.0123, -0.5."""
    if value is None:
        return ""
    return f"{value:+.4g}".replace("-", MINUS)


@register.filter
def signed_percent(value: float | None) -> str:
    """A relative difference as a signed percentage: +1.5%."""
    if value is None:
        return ""
    return f"{value:+.1%}".replace("-", MINUS)


ROW_HTML = (
    '<tr><th scope="row">{}</th><td class="direction">{}</td>{}'
    '<td><input type="checkbox" name="chart" value="{}" form="compare-controls"{} '
    'aria-label="Chart {}"></td></tr>'
)


@register.simple_tag
def metric_rows(rows, charted: set[str]) -> SafeString:
    """The compare table's body: a row per metric, a cell per version.

    Built from format strings rather than template loops: 200 metrics across 50 versions are
    10,000 cells, which a template loop would take most of a second to render.
    """
    return format_html_join(
        "\n",
        ROW_HTML,
        (
            (
                row.metric,
                _direction_text(row),
                format_html_join("", "{}", ((_metric_cell(cell),) for cell in row.cells)),
                row.metric,
                " checked" if row.metric in charted else "",
                row.metric,
            )
            for row in rows
        ),
    )


def _direction_text(row) -> str:
    arrow = "higher ↑" if row.direction == "higher" else "lower ↓"
    if row.is_set:
        return format_html(
            '{} <span class="muted" title="Set for this collection">(set)</span>', arrow
        )
    return arrow


BEST_MARK = mark_safe(
    ' <span class="best-mark" title="Best">★<span class="visually-hidden"> (best)</span></span>'
)


def _metric_cell(cell) -> SafeString:
    if cell.value is None:
        return mark_safe('<td class="num missing">—</td>')
    classes = "num" + (" best" if cell.is_best else "") + (" baseline" if cell.is_baseline else "")
    delta = ""
    if cell.delta is not None:
        relative = f"{signed_percent(cell.relative)} " if cell.relative is not None else ""
        delta = format_html(
            '<span class="delta delta-{}" title="{}against the baseline">{}</span>',
            cell.change,
            relative,
            signed(cell.delta),
        )
    best = BEST_MARK if cell.is_best else ""
    return format_html('<td class="{}">{}{}{}</td>', classes, metric(cell.value), best, delta)
