from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from apps.accounts.models import ApiToken


def issue(*args: str) -> str:
    out = io.StringIO()
    call_command("issue_token", *args, stdout=out)
    return out.getvalue().strip()


def test_the_printed_token_signs_in_as_the_user(client, member):
    token = issue(member.username, "--name", "CI on main", "--days", "30")
    row = ApiToken.objects.get(user=member)
    assert row.name == "CI on main" and row.expires_at is not None
    response = client.get(
        "/api/v1/orgs/acme/registries/", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nobody"], "No active user 'nobody'"),
        (["{member}", "--days", "0"], "--days must be 1 or more"),
        (["{member}", "--name", "x" * 101], "--name must be 1 to 100 characters"),
    ],
)
def test_bad_input_is_refused_and_issues_nothing(db, member, args, message):
    with pytest.raises(CommandError, match=message):
        issue(*(arg.format(member=member.username) for arg in args))
    assert not ApiToken.objects.exists()
