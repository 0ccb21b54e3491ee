"""Session rules: 12 hours absolute, and every session of an account ends when it is disabled,
its password changes or is reset."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.contrib.sessions.models import Session
from django.test import Client

from grassroots.accounts import passwords, services, sessions
from grassroots.accounts.models import Role, User, UserSession
from grassroots.audit.models import AuditEntry
from grassroots.audit.services import SYSTEM
from grassroots.core import clock
from tests.factories import Tree

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
API = "/api/v1/places"


class Clock:
    def __init__(self) -> None:
        self.at = T0

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(clock, "now", fake)
    return fake


def _signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)  # Django's login(): the user_logged_in signal fires as for a real login
    return client


def _key(client: Client) -> str:
    return str(client.session.session_key)


def test_login_records_the_time_and_indexes_the_session(tree: Tree, fixed_clock: Clock) -> None:
    user = tree.users[Role.GRID_WORKER]
    client = _signed_in(user)
    assert client.session[sessions.LOGIN_AT_KEY] == T0.timestamp()
    assert list(UserSession.objects.filter(user=user).values_list("session_key", flat=True)) == [_key(client)]


def test_logout_drops_the_session_from_the_index(tree: Tree) -> None:
    user = tree.users[Role.GRID_WORKER]
    client = _signed_in(user)
    assert UserSession.objects.filter(user=user).exists()
    assert client.post("/accounts/logout/").status_code == 302
    assert not UserSession.objects.filter(user=user).exists()


def test_absolute_lifetime_of_12_hours(tree: Tree, fixed_clock: Clock, settings: Any) -> None:
    assert settings.GRASSROOTS_SESSION_ABSOLUTE_SECONDS == 43200
    user = tree.users[Role.GRID_WORKER]
    client = _signed_in(user)
    key = _key(client)
    fixed_clock.at = T0 + timedelta(hours=11, minutes=59)
    assert client.get("/").status_code == 200  # busy all day: the idle limit never struck
    fixed_clock.at = T0 + timedelta(hours=12, seconds=1)
    response = client.get("/places/")
    assert response.status_code == 302
    assert response.url == "/accounts/login/?next=%2Fplaces%2F"
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["登录已超过12小时，请重新登录"]
    assert not Session.objects.filter(session_key=key).exists()
    assert not UserSession.objects.filter(session_key=key).exists()
    assert "_auth_user_id" not in client.session
    entry = AuditEntry.objects.latest("seq")
    assert (entry.action, entry.actor_id) == ("auth.session_expired", user.pk)
    login_page = client.get(response.url)
    assert "登录已超过12小时，请重新登录" in login_page.content.decode()


def test_absolute_lifetime_is_a_setting(tree: Tree, fixed_clock: Clock, settings: Any) -> None:
    settings.GRASSROOTS_SESSION_ABSOLUTE_SECONDS = 600
    client = _signed_in(tree.users[Role.GRID_WORKER])
    fixed_clock.at = T0 + timedelta(minutes=9)
    assert client.get("/").status_code == 200
    fixed_clock.at = T0 + timedelta(minutes=11)
    response = client.get("/")
    assert response.status_code == 302
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["登录已超过10分钟，请重新登录"]


def test_a_new_login_starts_a_new_12_hours(tree: Tree, fixed_clock: Clock) -> None:
    user = tree.users[Role.GRID_WORKER]
    _signed_in(user)
    fixed_clock.at = T0 + timedelta(hours=13)
    client = _signed_in(user)
    assert client.get("/").status_code == 200


def test_a_session_from_before_the_rule_starts_counting(tree: Tree, fixed_clock: Clock) -> None:
    client = _signed_in(tree.users[Role.GRID_WORKER])
    session = client.session
    del session[sessions.LOGIN_AT_KEY]
    session.save()
    fixed_clock.at = T0 + timedelta(days=2)
    assert client.get("/").status_code == 200
    assert client.session[sessions.LOGIN_AT_KEY] == fixed_clock.at.timestamp()


def test_an_api_request_past_the_lifetime_gets_401_not_the_login_page(tree: Tree, fixed_clock: Clock) -> None:
    client = _signed_in(tree.users[Role.ADMIN])
    assert client.get(f"{API}/areas").status_code == 200
    fixed_clock.at = T0 + timedelta(hours=13)
    assert client.get(f"{API}/areas").status_code == 401


def test_disabling_an_account_ends_its_sessions_and_refuses_its_token(tree: Tree) -> None:
    user = tree.users[Role.GRID_WORKER]
    phone, desk = _signed_in(user), _signed_in(user)
    keys = {_key(phone), _key(desk)}
    _, raw = services.api_token_create(actor=SYSTEM, user=user, name="巡查App")
    bearer = {"Authorization": f"Bearer {raw}"}
    assert phone.get("/").status_code == 200
    assert Client().get(f"{API}/areas", headers=bearer).status_code == 200

    services.user_deactivate(actor=SYSTEM, user=user, reason="离职")

    assert not Session.objects.filter(session_key__in=keys).exists()
    assert not UserSession.objects.filter(user=user).exists()
    for client in (phone, desk):
        response = client.get("/")
        assert response.status_code == 302 and response.url.startswith("/accounts/login/")
    assert Client().get(f"{API}/areas", headers=bearer).status_code == 401
    # Other accounts' sessions are untouched.
    other = _signed_in(tree.users[Role.COMMUNITY_WORKER])
    services.user_deactivate(actor=SYSTEM, user=tree.users[Role.RESIDENT], reason="测试")
    assert other.get("/").status_code == 200


def test_a_password_reset_ends_every_session(tree: Tree) -> None:
    user = tree.users[Role.COMMUNITY_WORKER]
    client = _signed_in(user)
    key = _key(client)
    ended = passwords.password_reset(actor=SYSTEM, user=user, new_password="Reset-2026-Qzx", reason="忘记密码")
    assert ended == 1
    assert not Session.objects.filter(session_key=key).exists()
    assert client.get("/").status_code == 302
    entry = AuditEntry.objects.latest("seq")
    assert (entry.action, entry.detail) == ("accounts.password.reset", {"reason": "忘记密码", "sessions_ended": 1})


def test_ending_sessions_of_an_account_without_any_is_harmless(tree: Tree) -> None:
    assert sessions.end_sessions(tree.users[Role.ADMIN]) == 0


def test_the_index_forgets_sessions_that_cannot_be_alive(tree: Tree, fixed_clock: Clock) -> None:
    user = tree.users[Role.GRID_WORKER]
    _signed_in(user)
    _signed_in(user)
    assert UserSession.objects.filter(user=user).count() == 2
    fixed_clock.at = T0 + timedelta(hours=12, minutes=31)
    client = _signed_in(user)
    assert list(UserSession.objects.filter(user=user).values_list("session_key", flat=True)) == [_key(client)]


def test_index_scales_with_the_account_not_the_site(tree: Tree, django_assert_max_num_queries: Any) -> None:
    """Ending one account's sessions reads that account's rows only, whatever else is signed in."""
    for role in (Role.COMMUNITY_WORKER, Role.ADMIN, Role.RESIDENT):
        _signed_in(tree.users[role])
    user = tree.users[Role.GRID_WORKER]
    _signed_in(user)
    # The index, then per session the store's own get + delete, then the index rows.
    with django_assert_max_num_queries(4):
        assert sessions.end_sessions(user) == 1
    assert UserSession.objects.count() == 3
