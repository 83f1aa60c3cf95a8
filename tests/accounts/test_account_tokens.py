from __future__ import annotations

from apps.accounts.models import ApiToken, hash_token

URL = "/account/"


def test_anonymous_users_go_to_login(client, db):
    assert client.get(URL).status_code == 302


def test_a_new_token_is_shown_once_and_stored_hashed(client, member):
    client.force_login(member)
    response = client.post(URL, {"name": "CI on main"})
    token = response.context["new_token"]
    assert token.startswith("reg_") and token in response.content.decode()
    row = ApiToken.objects.get(user=member)
    assert row.token_hash == hash_token(token) and token not in row.token_hash
    assert token not in client.get(URL).content.decode()


def test_a_bad_form_shows_its_errors(client, member):
    client.force_login(member)
    response = client.post(URL, {"name": "", "expires_in_days": "0"})
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"name", "expires_in_days"}
    assert not ApiToken.objects.exists()


def test_revoking(client, member, viewer):
    row, _ = ApiToken.issue(member, "old")
    client.force_login(viewer)
    assert client.post(URL, {"revoke": row.pk}).status_code == 404
    client.force_login(member)
    client.post(URL, {"revoke": row.pk})
    row.refresh_from_db()
    assert row.revoked_at is not None
