"""Failed sign-ins and token guesses are throttled per client, in the database, and only them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.accounts.models import ApiToken, FailedAttempt
from apps.accounts.throttle import TOKEN, client_address, client_key
from tests.factories import PASSWORD, make_user
from tests.registries.test_concurrency import run_at_once

LOGIN = "/login/"
ADMIN_LOGIN = "/admin/login/"
API = "/api/v1/orgs/acme/registries/"
HERE, ELSEWHERE = "10.0.0.1", "10.0.0.2"


@pytest.fixture(autouse=True)
def three_failures_allowed(settings):
    settings.SIGN_IN_FAILURES_ALLOWED = 3
    settings.TOKEN_FAILURES_ALLOWED = 3


def sign_in(client, username: str, password: str, address: str = HERE):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


def fail_to_sign_in(client, username: str, times: int = 3, address: str = HERE) -> None:
    for _ in range(times):
        assert sign_in(client, username, "wrong", address).status_code in (200, 429)


def test_after_the_allowed_failures_even_the_right_password_is_refused(client, member):
    for _ in range(2):
        assert sign_in(client, "maria", "wrong").status_code == 200
    # The failure that uses the allowance up already says when to try again.
    third = sign_in(client, "maria", "wrong")
    assert third.status_code == 429
    assert 890 <= int(third["Retry-After"]) <= 900
    assert b"Too many failed sign-ins" in third.content
    assert b"Try again in 14\xc2\xa0minutes" in third.content

    refused = sign_in(client, "maria", PASSWORD)
    assert refused.status_code == 429 and b"Try again in" in refused.content
    assert "_auth_user_id" not in client.session


def test_one_users_failures_do_not_lock_out_another(client, member, viewer):
    fail_to_sign_in(client, "maria")
    assert sign_in(client, "victor", PASSWORD).status_code == 302


def test_a_guesser_elsewhere_does_not_lock_the_user_out(client, member):
    fail_to_sign_in(client, "maria", address=ELSEWHERE)
    assert sign_in(client, "maria", PASSWORD).status_code == 302


def test_a_success_clears_the_users_failures(client, member):
    fail_to_sign_in(client, "maria", times=2)
    assert sign_in(client, "maria", PASSWORD).status_code == 302
    client.logout()
    fail_to_sign_in(client, "maria", times=2)
    assert sign_in(client, "maria", PASSWORD).status_code == 302


def test_the_client_may_sign_in_again_once_the_window_has_passed(client, member, settings):
    fail_to_sign_in(client, "maria")
    FailedAttempt.objects.update(started_at=timezone.now() - settings.FAILURE_WINDOW)
    assert sign_in(client, "maria", PASSWORD).status_code == 302


def test_a_sign_in_without_earlier_failures_writes_nothing_to_the_throttle(client, member):
    with CaptureQueriesContext(connection) as queries:
        assert sign_in(client, "maria", PASSWORD).status_code == 302
    throttle = [q["sql"] for q in queries if "accounts_failedattempt" in q["sql"]]
    assert len(throttle) == 1 and throttle[0].startswith("SELECT")


def test_usernames_and_addresses_are_not_stored(client, member):
    fail_to_sign_in(client, "maria", times=1)
    (row,) = FailedAttempt.objects.values_list("scope", "key")
    assert row == ("sign-in", client_key("maria", HERE))


def test_the_admin_sign_in_is_throttled_too(client, db):
    make_user("root", is_staff=True, is_superuser=True)
    for _ in range(3):
        client.post(ADMIN_LOGIN, {"username": "root", "password": "wrong"})
    refused = client.post(ADMIN_LOGIN, {"username": "root", "password": PASSWORD}, follow=True)
    assert b"Too many failed sign-ins" in refused.content
    assert "_auth_user_id" not in client.session


def guess(client, address: str = HERE, token: str = "reg_guess"):
    return client.get(API, headers={"Authorization": f"Bearer {token}"}, REMOTE_ADDR=address)


def test_an_address_sending_unknown_tokens_is_throttled(client, member):
    _, token = ApiToken.issue(member, "ci")
    for _ in range(3):
        assert guess(client).json()["error"]["code"] == "invalid_token"

    refused = guess(client)
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "too_many_attempts"
    assert 890 <= int(refused["Retry-After"]) <= 900
    # Not even a valid token is answered from there...
    valid_here = guess(client, token=token)
    assert valid_here.status_code == 429 and int(valid_here["Retry-After"]) <= 900
    # ...while the same token, or any other, works from elsewhere.
    assert guess(client, ELSEWHERE, token).status_code == 200


def test_revoked_and_expired_tokens_are_not_counted_as_guesses(client, member):
    revoked, revoked_token = ApiToken.issue(member, "old")
    revoked.revoked_at = timezone.now()
    revoked.save()
    _, expired_token = ApiToken.issue(member, "short", timezone.now() - timedelta(days=1))
    for token in [revoked_token, expired_token] * 3:
        assert guess(client, token=token).status_code == 401
    assert not FailedAttempt.objects.exists()


def test_ended_windows_are_pruned_when_a_failure_is_counted(db, settings):
    old = timezone.now() - settings.FAILURE_WINDOW - timedelta(seconds=1)
    FailedAttempt.objects.create(scope="token", key=client_key("10.9.9.9"), started_at=old)
    TOKEN.record_failure(client_key(HERE))
    assert list(FailedAttempt.objects.values_list("key", "failures")) == [(client_key(HERE), 1)]


def test_the_client_is_the_address_the_trusted_proxy_saw(rf, settings):
    forwarded = rf.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 10.0.0.7")
    assert client_address(forwarded) == "127.0.0.1"  # no proxy trusted: the header is the client's
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_address(forwarded) == "10.0.0.7"
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_address(forwarded) == "6.6.6.6"
    # Reached past the proxies (a probe inside): the connection's address.
    assert client_address(rf.get("/", REMOTE_ADDR="10.1.1.1")) == "10.1.1.1"


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="contention needs PostgreSQL")
def test_failures_that_arrive_together_are_all_counted():
    key = client_key(HERE)
    errors = run_at_once([lambda: TOKEN.record_failure(key)] * 16)
    assert errors == []
    assert FailedAttempt.objects.get(key=key).failures == 16
