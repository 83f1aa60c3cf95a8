from __future__ import annotations

from datetime import datetime

from django import template
from django.template.defaulttags import CsrfTokenNode
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import template_localtime

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


@register.simple_tag
def time_element(value: datetime | None) -> SafeString:
    """A moment as pages show it, in the current time zone: what
    `<time datetime="{{ value|date:'c' }}">{{ value|date:"Y-m-d H:i" }}</time>` writes, for a
    fraction of the cost of its two filters (which long lists pay on every row)."""
    if value in (None, ""):
        return mark_safe('<time datetime=""></time>')
    local = template_localtime(value)
    day = f"{local.year:04d}-{local.month:02d}-{local.day:02d}"
    shown = f"{day} {local.hour:02d}:{local.minute:02d}"
    # Digits and ISO 8601 punctuation only: nothing to escape.
    return mark_safe(f'<time datetime="{local.isoformat()}">{shown}</time>')


@register.filter
def get(mapping: dict, key: str) -> object:
    return mapping.get(key) if mapping else None


@register.filter
def sort_direction(sort: str, key: str) -> str:
    """The aria-sort of the column that sorts by `key`, when `sort` (a key, "-" first for
    descending) is the list's order: "ascending", "descending", or "" for another column."""
    if sort == key:
        return "ascending"
    return "descending" if sort == f"-{key}" else ""


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


@register.simple_tag
def metric_rows(rows, charted: set[str]) -> SafeString:
    """The compare table's body: a row per metric, a cell per version.

    Written with plain string formatting rather than a template loop or `format_html` per
    cell: 200 metrics across 50 versions are 10,000 cells. That is safe because a cell holds
    only numbers formatted here and fixed words; the one text from users, the metric's name,
    is escaped once per row.
    """
    lines = []
    for row in rows:
        name = escape(row.metric)
        checked = " checked" if row.metric in charted else ""
        cells = "".join(_metric_cell(cell) for cell in row.cells)
        lines.append(
            f'<tr><th scope="row">{name}</th><td class="direction">{_direction_text(row)}</td>'
            f'{cells}<td><input type="checkbox" name="chart" value="{name}" '
            f'form="compare-controls"{checked} aria-label="Chart {name}"></td></tr>'
        )
    return mark_safe("\n".join(lines))


def _direction_text(row) -> str:
    arrow = "higher ↑" if row.direction == "higher" else "lower ↓"
    if row.is_set:
        return f'{arrow} <span class="muted" title="Set for this collection">(set)</span>'
    return arrow


BEST_MARK = (
    ' <span class="best-mark" title="Best">★<span class="visually-hidden"> (best)</span></span>'
)


def _metric_cell(cell) -> str:
    """One value with its best mark and its delta; numbers and fixed words only."""
    if cell.value is None:
        return '<td class="num missing">—</td>'
    classes = "num" + (" best" if cell.is_best else "") + (" baseline" if cell.is_baseline else "")
    delta = ""
    if cell.delta is not None:
        relative = f"{signed_percent(cell.relative)} " if cell.relative is not None else ""
        delta = (
            f'<span class="delta delta-{cell.change}" title="{relative}against the baseline">'
            f"{signed(cell.delta)}</span>"
        )
    best = BEST_MARK if cell.is_best else ""
    return f'<td class="{classes}">{metric(cell.value)}{best}{delta}</td>'


@register.simple_tag(takes_context=True)
def version_rows(context, links) -> SafeString:
    """The collection page's versions table body: a row per version (`VersionRow`s, whose
    metric cells are empty when metrics are hidden).

    Written with plain string formatting rather than a template loop, as `metric_rows` is: a
    page is 50 rows of eight cells or more, and the loop cost more than the rest of the page.
    Every text is escaped here, URLs included; the rest are numbers and fixed words.
    """
    csrf_input = None
    lock = None
    rows = []
    for link in links:
        label = escape(link.label)
        chips = []
        for name, locked in link.aliases:
            if locked:
                if lock is None:
                    lock = context.template.engine.get_template("icons/lock.svg").render(context)
                chips.append(f'<li class="chip chip-protected">{lock} {escape(name)}</li>')
            else:
                chips.append(f'<li class="chip chip-alias">{escape(name)}</li>')
        tags = "".join(f'<li class="chip">{escape(tag)}</li>' for tag in link.tag_names)
        metrics = "".join(f'<td class="num">{escape(cell)}</td>' for cell in link.metric_cells)
        unlink = ""
        if link.can_unlink:
            if csrf_input is None:
                csrf_input = CsrfTokenNode().render(context)
            url = escape(link.unlink_url)
            unlink = (
                f'\n              <form method="post" action="{url}"'
                f'\n                    hx-post="{url}" hx-target="#versions" hx-swap="outerHTML"'
                f'\n                    hx-confirm="Unlink {label}? The source version stays.">'
                f'\n                {csrf_input}<button type="submit" class="button small">'
                "Unlink</button>\n              </form>\n            "
            )
        rows.append(
            "\n        <tr>"
            f'\n          <td><input type="checkbox" name="v" value="{link.number}" '
            f'form="compare-form" aria-label="Compare {label}"></td>'
            f'\n          <th scope="row"><a href="{escape(link.url)}">{label}</a></th>'
            f'\n          <td><ul class="chips">{"".join(chips)}</ul></td>'
            f'\n          <td><ul class="chips">{tags}</ul></td>'
            f"\n          <td><code>{escape(link.source)}</code></td>"
            f"\n          <td>{escape(link.linked_by)}, {time_element(link.linked_at)}</td>"
            f"\n          {metrics}"
            f"\n          <td>\n            {unlink}\n          </td>"
            "\n        </tr>\n      "
        )
    return mark_safe("".join(rows))
