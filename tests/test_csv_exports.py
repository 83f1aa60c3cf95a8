"""Every CSV export neutralises formula cells (CSV injection) and keeps the text it was given.

Each export is fed hostile text in every field a user controls. No cell may then begin with a
character a spreadsheet reads as a formula, unless it is a number we wrote, and removing the
guard (one leading quote) gives back the text exactly.
"""

from __future__ import annotations

import csv
import io
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apps.audit.models import AuditAction, AuditEvent
from apps.lib.csv_export import FORMULA_TRIGGERS, GUARD, csv_lines, safe_cell
from tests.factories import make_link, make_member, make_version

HOSTILE = [
    '=HYPERLINK("http://evil.example","x")',
    "+1+1",
    "-2+3",
    "@SUM(A1:A2)",
    "\t=1",
    "\r=1",
    "'=already quoted",
    "-0.5",
    "plain",
]
# A number as Python writes one: the only cells that may begin with '-'.
NUMBER_RE = re.compile(r"^-?\d+(\.\d+)?(e[-+]\d+)?$")


def read_back(body: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body, newline="")))


def unguard(cell: str) -> str:
    return cell.removeprefix(GUARD)


def assert_no_formula(table: list[list[str]]) -> None:
    for row in table:
        for cell in row:
            assert not cell.startswith(FORMULA_TRIGGERS) or NUMBER_RE.match(cell), cell


@given(st.text())
def test_any_text_is_written_inert_and_reads_back_the_same(text):
    (row,) = read_back("".join(csv_lines([[text]])))
    assert_no_formula([row])
    assert unguard(row[0]) == text


@pytest.mark.parametrize("number", [-0.5, -3, 0, 1e-05, -1.5e20])
def test_numbers_stay_numbers(number):
    assert safe_cell(number) == number
    (row,) = read_back("".join(csv_lines([[number]])))
    assert float(row[0]) == number


@pytest.mark.parametrize("value", [float("-inf"), float("nan"), True, None])
def test_what_is_not_a_finite_number_is_written_as_text(value):
    (row,) = read_back("".join(csv_lines([[value]])))
    assert_no_formula([row])


def test_the_compare_export_guards_metric_names(client, member, project, models_registry):
    metrics = dict.fromkeys(HOSTILE, -0.5)
    for offset in (0, 1):
        version = make_version(
            project, member, metrics={name: value + offset for name, value in metrics.items()}
        )
        make_link(version, models_registry, member, "classifier")
    client.force_login(member)
    response = client.get(
        "/orgs/acme/registry/model/classifier/compare/", {"v": [0, 1], "format": "csv"}
    )
    assert response.status_code == 200
    table = read_back(response.getvalue().decode())
    assert_no_formula(table)
    assert sorted(unguard(row[0]) for row in table[1:]) == sorted(HOSTILE)
    assert {float(row[3]) for row in table[1:]} == {-0.5}  # values written as numbers


def test_the_audit_log_export_guards_actor_target_and_details(client, organization, org_admin):
    actor = make_member(organization, "-cmd")
    for text in HOSTILE:
        AuditEvent.record(
            AuditAction.REGISTRY_UPDATE,
            organization=organization,
            actor=actor,
            target=text,
            detail=text,
        )
    client.force_login(org_admin)
    response = client.get("/orgs/acme/audit/", {"actor": "-cmd", "format": "csv"})
    assert response.status_code == 200
    table = read_back(response.getvalue().decode())
    assert_no_formula(table)
    header, *rows = table
    by_column = [dict(zip(header, map(unguard, row), strict=True)) for row in rows]
    assert {row["actor"] for row in by_column} == {"-cmd"}
    assert sorted(row["target"] for row in by_column) == sorted(HOSTILE)
    assert sorted(row["details"] for row in by_column) == sorted(f"detail={t}" for t in HOSTILE)
