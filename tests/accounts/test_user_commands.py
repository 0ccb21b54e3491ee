"""manage.py disable_user and reset_password: what an administrator does from the shell."""

from __future__ import annotations

import io
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from grassroots.accounts.models import ApiToken, Role
from grassroots.accounts.services import api_token_create
from grassroots.audit.models import AuditEntry
from grassroots.audit.services import SYSTEM
from tests.factories import Tree


def _signed_in(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def test_disable_user_ends_sessions_and_tokens_at_once(tree: Tree) -> None:
    user = tree.users[Role.COMMUNITY_WORKER]
    browser = _signed_in(user)
    assert browser.get("/").status_code == 200
    _, raw = api_token_create(actor=SYSTEM, user=user, name="脚本")
    out = StringIO()
    call_command("disable_user", user.username, "--reason", "调离 #123", stdout=out)
    assert "1 API token(s) revoked" in out.getvalue()
    user.refresh_from_db()
    assert not user.is_active
    assert browser.get("/").status_code == 302  # back to the login page
    assert Client().get("/api/v1/cases/", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401
    assert ApiToken.objects.get(user=user).revoked_at is not None
    entry = AuditEntry.objects.get(action="accounts.user.deactivate", object_id=str(user.pk))
    assert entry.detail == {"reason": "调离 #123"} and entry.actor_label == "manage.py disable_user"
    again = StringIO()
    call_command("disable_user", user.username, "--reason", "再次", stdout=again)
    assert "already disabled" in again.getvalue()
    with pytest.raises(CommandError, match="no user named"):
        call_command("disable_user", "nobody", "--reason", "x")


def test_reset_password_prints_a_temporary_password_that_works_once_shown(tree: Tree) -> None:
    user = tree.users[Role.GRID_WORKER]
    browser = _signed_in(user)
    out = StringIO()
    call_command("reset_password", user.username, "--reason", "忘记密码 #7", stdout=out)
    text = out.getvalue()
    assert "1 session(s) ended" in text
    password = text.split("temporary password (shown once): ")[1].strip()
    user.refresh_from_db()
    assert user.check_password(password)
    assert browser.get("/").status_code == 302
    entry = AuditEntry.objects.get(action="accounts.password.reset", object_id=str(user.pk))
    assert entry.detail["reason"] == "忘记密码 #7" and password not in str(entry.detail)


def test_reset_password_from_stdin_is_checked_against_the_profile(tree: Tree, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    user = tree.users[Role.GRID_WORKER]
    monkeypatch.setattr("sys.stdin", io.StringIO("12345678\n"))
    with pytest.raises(CommandError):
        call_command("reset_password", user.username, "--reason", "x", "--stdin")
    monkeypatch.setattr("sys.stdin", io.StringIO("Grid-Worker-2026\n"))
    out = StringIO()
    call_command("reset_password", user.username, "--reason", "x", "--stdin", stdout=out)
    user.refresh_from_db()
    assert user.check_password("Grid-Worker-2026") and "Grid-Worker-2026" not in out.getvalue()


def test_temporary_passwords_meet_both_profiles() -> None:
    from grassroots.accounts.management.commands.reset_password import temporary_password

    words = {temporary_password() for _ in range(200)}
    assert len(words) == 200
    for word in words:
        classes = [any(c.isupper() for c in word), any(c.islower() for c in word), any(c.isdigit() for c in word)]
        assert all(classes) and len(word) == 16 and not set(word) & set("0O1lI")
