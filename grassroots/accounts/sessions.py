"""Session rules beyond Django's idle timeout: a 12-hour absolute lifetime, and ending every
session of an account at once (disabled, password changed or reset).

Django already refuses a session whose account is inactive or whose password hash changed
(``get_user`` checks both on every request); ending the sessions here also deletes them from the
session store, so nothing of them is left to reuse, and works for any session engine: the keys
come from our ``UserSession`` index, written at login, not from scanning the store.
"""

from __future__ import annotations

from datetime import timedelta
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.http import HttpRequest

from grassroots.accounts.models import User, UserSession
from grassroots.core import clock

# Seconds since the epoch (a float survives the JSON session serializer).
LOGIN_AT_KEY = "grassroots_login_at"
DEFAULT_ABSOLUTE_SECONDS = 12 * 60 * 60


def absolute_seconds() -> int:
    return int(getattr(settings, "GRASSROOTS_SESSION_ABSOLUTE_SECONDS", DEFAULT_ABSOLUTE_SECONDS))


def expired_message() -> str:
    seconds = absolute_seconds()
    span = f"{seconds // 3600}小时" if seconds % 3600 == 0 else f"{max(1, seconds // 60)}分钟"
    return f"登录已超过{span}，请重新登录"


def absolute_expired(request: HttpRequest) -> bool:
    """Whether the session's login is older than the absolute lifetime.

    A session from before this rule (no login time) starts counting now rather than being cut.
    """
    session = request.session
    now = clock.now().timestamp()
    login_at = session.get(LOGIN_AT_KEY)
    if not isinstance(login_at, (int, float)):
        session[LOGIN_AT_KEY] = now
        return False
    return now - float(login_at) > absolute_seconds()


def register(request: HttpRequest, user: User) -> None:
    """Index the request's session under ``user`` and forget index rows that can no longer be alive."""
    key = request.session.session_key
    if not key:
        request.session.save()
        key = request.session.session_key
    now = clock.now()
    # Past the absolute lifetime (plus the idle one, for safety) a session is dead whatever the store says.
    horizon = now - timedelta(seconds=absolute_seconds() + int(settings.SESSION_COOKIE_AGE))
    UserSession.objects.filter(user=user, created_at__lt=horizon).delete()
    UserSession.objects.update_or_create(session_key=key, defaults={"user": user, "created_at": now})


def rekey(request: HttpRequest, user: User, old_key: str | None) -> None:
    """After ``update_session_auth_hash`` gave the session a new key: index the new one in place of the old."""
    if old_key:
        UserSession.objects.filter(session_key=old_key).delete()
    register(request, user)


def end_sessions(user: User, *, except_key: str | None = None) -> int:
    """Delete every indexed session of ``user`` from the session store (but ``except_key``); how many."""
    store = import_module(settings.SESSION_ENGINE).SessionStore
    keys = [k for k in UserSession.objects.filter(user=user).values_list("session_key", flat=True) if k != except_key]
    for key in keys:
        store(session_key=key).delete(key)
    UserSession.objects.filter(user=user, session_key__in=keys).delete()
    return len(keys)


def on_login(sender: Any, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    """``user_logged_in``: every login path (password, second factor, SMS, test client) passes here."""
    if request is None or not hasattr(request, "session"):
        return
    request.session[LOGIN_AT_KEY] = clock.now().timestamp()
    register(request, user)


def on_logout(sender: Any, request: HttpRequest | None, user: User | None, **kwargs: Any) -> None:
    """``user_logged_out`` (sent before the session is flushed): drop the session from the index."""
    key = getattr(getattr(request, "session", None), "session_key", None)
    if key:
        UserSession.objects.filter(session_key=key).delete()


def connect() -> None:
    user_logged_in.connect(on_login, dispatch_uid="grassroots.accounts.sessions.on_login")
    user_logged_out.connect(on_logout, dispatch_uid="grassroots.accounts.sessions.on_logout")
