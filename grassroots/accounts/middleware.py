from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from grassroots.accounts import passwords, sessions, two_factor
from grassroots.accounts.scopes import scope_for
from grassroots.audit.services import actor_of, audit_record
from grassroots.core.client_ip import client_ip


class ScopeMiddleware:
    """Gives every request ``scope_for(capability)``, read by ``core.scope.request_scope``.

    The user is read when the resolver is called, so API token auth (which sets
    ``request.user`` later) is honoured.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.scope_for = lambda capability: scope_for(getattr(request, "user", None), capability)  # type: ignore[attr-defined]
        return self.get_response(request)


class TwoFactorPolicyMiddleware:
    """With ``GRASSROOTS_2FA_REQUIRED`` on, a signed-in staff user without two-factor login reaches
    only the enrolment page (and logout) until enrolled. Residents are never asked.

    One indexed query per staff request, only while the policy is on: a reset by an
    administrator takes effect on the user's next request, not at their next login.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            settings.GRASSROOTS_2FA_REQUIRED
            and user is not None
            and user.is_authenticated
            and two_factor.required_for(user)
            and not self._exempt(request.path)
            and not two_factor.enrolled(user)
        ):
            return redirect("accounts:two_factor")
        return self.get_response(request)

    @staticmethod
    def _exempt(path: str) -> bool:
        allowed = (reverse("accounts:two_factor"), reverse("accounts:logout"), reverse("healthz"))
        return path in allowed or path.startswith(settings.STATIC_URL)


# Machine clients of these answer in JSON, never with a login page.
_API_PREFIXES = ("/api/", "/open311/")


class AbsoluteSessionMiddleware:
    """Ends a session ``GRASSROOTS_SESSION_ABSOLUTE_SECONDS`` (12 hours) after login, however active.

    The idle limit (30 minutes) is the session cookie's age; this one is counted from the login
    time the ``user_logged_in`` handler stores in the session. API tokens carry no session.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and sessions.absolute_expired(request):
            audit_record(actor=actor_of(user, client_ip(request)), action="auth.session_expired")
            logout(request)
            if request.path.startswith(_API_PREFIXES):
                return self.get_response(request)  # now anonymous: the API answers 401
            messages.info(request, sessions.expired_message())
            return redirect(f"{reverse(settings.LOGIN_URL)}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)


class PasswordExpiryMiddleware:
    """A signed-in user whose password is older than the profile's maximum age (等保: 90 days)
    reaches only the password page (and logout, and the two-factor pages) until it is changed.

    Reads the already-loaded user: no query. API tokens are not affected.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not request.path.startswith(_API_PREFIXES)
            and not self._exempt(request.path)
            and passwords.expired(user)
        ):
            return redirect(f"{reverse('accounts:password_change')}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)

    @staticmethod
    def _exempt(path: str) -> bool:
        # The two-factor pages too: TwoFactorPolicyMiddleware may send the same user there first.
        allowed = (
            reverse("accounts:password_change"),
            reverse("accounts:logout"),
            reverse("accounts:two_factor"),
            reverse("accounts:login_code"),
            reverse("healthz"),
        )
        return path in allowed or path.startswith(settings.STATIC_URL)
