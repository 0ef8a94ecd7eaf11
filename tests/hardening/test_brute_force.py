"""Item 3 of the hardening issue: logins and the token endpoint are throttled per account and per
address; API tokens expire and can be revoked from the account page."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone as dt_timezone

import pytest
import time_machine
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.models import Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "right-password-2026"
NOON = datetime(2026, 3, 2, 4, 0, tzinfo=dt_timezone.utc)


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.AXES_FAILURE_LIMIT = 5
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)
    settings.API_TOKEN_TTL = timedelta(hours=24)


@pytest.fixture
def alice(db):
    user = UserFactory(username="alice", role=Role.AGENT)
    user.set_password(PASSWORD)
    user.save()
    return user


def _login(username: str, password: str, address: str = "10.0.0.1", language: str = "zh-hans"):
    client = Client(REMOTE_ADDR=address, HTTP_ACCEPT_LANGUAGE=language)
    return client.post("/accounts/login/", {"username": username, "password": password})


def _token(username: str, password: str, address: str = "10.0.0.1"):
    return APIClient(REMOTE_ADDR=address).post("/api/auth/token/", {"username": username, "password": password},
                                                format="json")


def test_login_page_locks_the_account_after_the_limit_from_any_address(alice):
    with time_machine.travel(NOON, tick=False):
        for attempt in range(4):
            assert _login("alice", "wrong", address=f"10.0.1.{attempt}").status_code == 200
        # The fifth failure reaches the limit; every attempt after it is refused, even the right password.
        assert _login("alice", "wrong", address="10.0.1.9").status_code == 429
        locked = _login("alice", PASSWORD, address="10.0.2.1")

    assert locked.status_code == 429
    assert "登录失败次数过多" in locked.content.decode() and "15 分钟" in locked.content.decode()


def test_the_lockout_message_speaks_english_too(alice):
    with time_machine.travel(NOON, tick=False):
        for _ in range(5):
            _login("alice", "wrong", language="en")
        locked = _login("alice", PASSWORD, language="en")

    assert locked.status_code == 429
    assert "Too many failed logins" in locked.content.decode() and "15 minutes" in locked.content.decode()


def test_below_the_limit_the_right_password_logs_in_and_resets_the_count(alice):
    with time_machine.travel(NOON, tick=False):
        for _ in range(4):
            _login("alice", "wrong")
        assert _login("alice", PASSWORD).status_code == 302
        for _ in range(4):
            _login("alice", "wrong")
        assert _login("alice", PASSWORD).status_code == 302


def test_one_address_guessing_many_accounts_is_locked(alice):
    with time_machine.travel(NOON, tick=False):
        for number in range(5):
            _login(f"someone{number}", "guess", address="10.9.9.9")
        from_that_address = _login("alice", PASSWORD, address="10.9.9.9")
        from_elsewhere = _login("alice", PASSWORD, address="10.0.0.2")

    assert from_that_address.status_code == 429
    assert from_elsewhere.status_code == 302


def test_the_lock_lifts_after_the_cool_off(alice):
    with time_machine.travel(NOON, tick=False) as clock:
        for _ in range(5):
            _login("alice", "wrong")
        assert _login("alice", PASSWORD).status_code == 429
        clock.shift(timedelta(minutes=14))
        assert _login("alice", PASSWORD).status_code == 429
        clock.shift(timedelta(minutes=2))
        assert _login("alice", PASSWORD).status_code == 302


def test_token_endpoint_locks_per_account_with_a_json_429(alice):
    with time_machine.travel(NOON, tick=False):
        for attempt in range(4):
            assert _token("alice", "wrong", address=f"10.1.0.{attempt}").status_code == 400
        assert _token("alice", "wrong", address="10.1.0.8").status_code == 429
        locked = _token("alice", PASSWORD, address="10.1.0.9")

    assert locked.status_code == 429
    assert locked["Content-Type"].startswith("application/json")
    assert "too many failed logins" in locked.json()["detail"] and "登录失败次数过多" in locked.json()["detail"]


def test_token_endpoint_locks_per_address(alice):
    with time_machine.travel(NOON, tick=False):
        for number in range(5):
            _token(f"nobody{number}", "guess", address="10.7.7.7")
        assert _token("alice", PASSWORD, address="10.7.7.7").status_code == 429
        assert _token("alice", PASSWORD, address="10.7.7.8").status_code == 200


def test_tokens_expire_and_the_endpoint_then_issues_a_new_one(alice):
    with time_machine.travel(NOON, tick=False) as clock:
        key = _token("alice", PASSWORD).json()["token"]
        api = APIClient(HTTP_AUTHORIZATION=f"Token {key}")
        assert api.get("/api/categories/").status_code == 200
        clock.shift(timedelta(hours=23, minutes=59))
        assert api.get("/api/categories/").status_code == 200
        assert _token("alice", PASSWORD).json()["token"] == key  # still valid: the same key
        clock.shift(timedelta(minutes=1))
        expired = api.get("/api/categories/")
        new_key = _token("alice", PASSWORD).json()["token"]

    assert expired.status_code == 401 and "令牌已过期" in expired.json()["detail"]
    assert new_key != key


def test_a_user_revokes_their_token_on_the_account_page(alice):
    key = _token("alice", PASSWORD).json()["token"]
    page = Client()
    page.force_login(alice)

    shown = page.get("/accounts/me/")
    revoked = page.post("/accounts/me/", {"action": "revoke"})

    assert shown.status_code == 200 and "撤销令牌" in shown.content.decode()
    assert key not in shown.content.decode()  # the key itself is never shown again
    assert revoked.status_code == 302 and not Token.objects.filter(user=alice).exists()
    assert APIClient(HTTP_AUTHORIZATION=f"Token {key}").get("/api/categories/").status_code == 401


def test_a_new_token_from_the_account_page_is_shown_once_and_replaces_the_old(alice):
    old = _token("alice", PASSWORD).json()["token"]
    page = Client()
    page.force_login(alice)

    response = page.post("/accounts/me/", {"action": "rotate"})
    new = Token.objects.get(user=alice).key

    assert new != old and new in response.content.decode()
    assert new not in page.get("/accounts/me/").content.decode()
    assert APIClient(HTTP_AUTHORIZATION=f"Token {old}").get("/api/categories/").status_code == 401
    assert APIClient(HTTP_AUTHORIZATION=f"Token {new}").get("/api/categories/").status_code == 200


def test_session_length_follows_the_setting(alice, settings):
    settings.SESSION_COOKIE_AGE = 3600
    client = Client()

    response = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})

    assert response.status_code == 302
    assert response.cookies["sessionid"]["max-age"] == 3600
