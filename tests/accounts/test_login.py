"""Login page, lockout after 5 failures, sessions and logout."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone

from grassroots.accounts.models import Role
from grassroots.audit.models import AuditEntry
from grassroots.audit.services import verify_chain
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
LOCKED_TEXT = "该账号因连续登录失败已被锁定30分钟"
WRONG_TEXT = "用户名或密码错误。连续失败5次，该账号将被锁定30分钟。"


def _post(client, username, password, **extra):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR="10.1.2.3", **extra)


def _actions() -> list[str]:
    return list(AuditEntry.objects.order_by("seq").values_list("action", flat=True))


def test_login_page_renders_in_chinese(client):
    response = client.get(LOGIN)
    assert response.status_code == 200
    body = response.content.decode()
    assert "用户名" in body and "密码" in body and "登录" in body


def test_successful_login_redirects_and_is_audited(client, tree):
    user = tree.users[Role.GRID_WORKER]
    start = AuditEntry.objects.count()
    response = _post(client, user.username, PASSWORD)
    assert response.status_code == 302
    assert response.url == reverse("home")
    assert int(client.session["_auth_user_id"]) == user.pk
    entry = AuditEntry.objects.get(seq=start + 1)
    assert (entry.action, entry.actor_id, entry.actor_label, entry.ip) == (
        "auth.login",
        user.pk,
        user.username,
        "10.1.2.3",
    )
    assert client.get("/").status_code == 200


def test_login_honours_a_safe_next_and_ignores_an_unsafe_one(client, tree):
    user = tree.users[Role.GRID_WORKER]
    response = client.post(f"{LOGIN}?next=/places/", {"username": user.username, "password": PASSWORD})
    assert response.url == "/places/"
    client.logout()
    response = client.post(f"{LOGIN}?next=https://evil.example/", {"username": user.username, "password": PASSWORD})
    assert response.url == reverse("home")


def test_failed_login_shows_chinese_error_and_is_audited(client, tree):
    user = tree.users[Role.GRID_WORKER]
    start = AuditEntry.objects.count()
    response = _post(client, user.username, "wrong-password")
    assert response.status_code == 200
    assert WRONG_TEXT in response.content.decode()
    assert "_auth_user_id" not in client.session
    entry = AuditEntry.objects.get(seq=start + 1)
    assert (entry.action, entry.actor_id, entry.actor_label, entry.ip) == (
        "auth.login_failed",
        None,
        user.username,
        "10.1.2.3",
    )
    assert "wrong-password" not in str(entry.detail)


def test_inactive_user_cannot_log_in(client, tree):
    user = tree.users[Role.GRID_WORKER]
    user.is_active = False
    user.save()
    response = _post(client, user.username, PASSWORD)
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_home_requires_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.url.startswith(LOGIN)


def _fail(client, username, times):
    for _ in range(times):
        _post(client, username, "wrong-password")


def test_five_failures_lock_the_account_even_for_the_right_password(client, tree):
    user = tree.users[Role.COMMUNITY_WORKER]
    _fail(client, user.username, 4)
    assert "auth.locked_out" not in _actions()
    fifth = _post(client, user.username, "wrong-password")
    assert fifth.status_code == 429  # the fifth failure locks at once
    assert LOCKED_TEXT in fifth.content.decode()
    sixth = _post(client, user.username, PASSWORD)
    assert sixth.status_code == 429
    assert LOCKED_TEXT in sixth.content.decode()
    assert "_auth_user_id" not in client.session
    locked = AuditEntry.objects.filter(action="auth.locked_out").order_by("seq").last()
    assert locked is not None
    assert locked.actor_label == user.username
    assert locked.ip == "10.1.2.3"
    assert AuditEntry.objects.filter(action="auth.login_failed", actor_label=user.username).count() >= 5
    assert "auth.login" not in _actions()
    assert verify_chain().ok


def test_lockout_is_per_account_name(client, tree):
    _fail(client, tree.users[Role.COMMUNITY_WORKER].username, 5)
    other = tree.users[Role.GRID_WORKER]
    response = _post(client, other.username, PASSWORD)
    assert response.status_code == 302


def test_four_failures_then_success_resets_the_count(client, tree):
    user = tree.users[Role.COMMUNITY_WORKER]
    _fail(client, user.username, 4)
    assert _post(client, user.username, PASSWORD).status_code == 302
    client.logout()
    _fail(client, user.username, 4)
    assert _post(client, user.username, PASSWORD).status_code == 302


def test_lock_lifts_after_30_minutes(client, tree):
    user = tree.users[Role.COMMUNITY_WORKER]
    _fail(client, user.username, 5)
    assert _post(client, user.username, PASSWORD).status_code == 429
    # 29 minutes later: still locked.
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=29))
    assert _post(client, user.username, PASSWORD).status_code == 429
    # 31 minutes after the last failure: the cool-off is over.
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=31))
    response = _post(client, user.username, PASSWORD)
    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == user.pk


def test_session_lasts_30_idle_minutes_and_is_renewed_per_request(client, tree, settings):
    assert settings.SESSION_COOKIE_AGE == 1800
    assert settings.SESSION_SAVE_EVERY_REQUEST
    user = tree.users[Role.GRID_WORKER]
    assert _post(client, user.username, PASSWORD).status_code == 302
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    session = Session.objects.get(session_key=key)
    remaining = (session.expire_date - timezone.now()).total_seconds()
    assert 1790 <= remaining <= 1800
    # Pretend 20 idle minutes passed; the next request starts a new 30 minutes.
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() + timedelta(minutes=10))
    assert client.get("/").status_code == 200
    renewed = Session.objects.get(session_key=client.cookies[settings.SESSION_COOKIE_NAME].value)
    assert 1790 <= (renewed.expire_date - timezone.now()).total_seconds() <= 1800


def test_expired_session_sends_back_to_login(client, tree, settings):
    user = tree.users[Role.GRID_WORKER]
    _post(client, user.username, PASSWORD)
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - timedelta(seconds=1))
    response = client.get("/")
    assert response.status_code == 302 and response.url.startswith(LOGIN)


def test_logout_by_post_is_audited(client, tree):
    user = tree.users[Role.GRID_WORKER]
    _post(client, user.username, PASSWORD)
    response = client.post("/accounts/logout/", REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 302
    assert response.url == reverse("accounts:login")
    assert "_auth_user_id" not in client.session
    entry = AuditEntry.objects.latest("seq")
    assert (entry.action, entry.actor_id, entry.ip) == ("auth.logout", user.pk, "10.1.2.3")


def test_logout_by_get_is_not_allowed(client, tree):
    user = tree.users[Role.GRID_WORKER]
    client.force_login(user)
    assert client.get("/accounts/logout/").status_code == 405
    assert "_auth_user_id" in client.session


def test_anonymous_logout_writes_no_audit_entry(client, db):
    client.post("/accounts/logout/")
    assert not AuditEntry.objects.filter(action="auth.logout").exists()
