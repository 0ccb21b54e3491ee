from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from grassroots.accounts import two_factor
from grassroots.accounts.scopes import scope_for


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
