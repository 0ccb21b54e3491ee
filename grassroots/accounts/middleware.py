from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

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
