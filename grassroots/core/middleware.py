"""Turn domain errors raised by page views into Chinese error pages.

Selectors raise ``NotFound`` for both "missing" and "out of scope"; the page must not
tell the two apart, so it is always the same 404 page with the same text. The JSON API
has its own handlers (config/api.py) and never reaches this middleware.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from grassroots.core.errors import DomainError, Forbidden, NotFound


class DomainErrorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, NotFound):
            # Fixed text, never the exception's own message: nothing about the object leaks.
            return render(request, "404.html", status=404)
        if isinstance(exception, Forbidden):
            return render(request, "403.html", {"message": exception.message}, status=403)
        if isinstance(exception, DomainError):
            return render(request, "400.html", {"message": exception.message}, status=400)
        return None


def permissions_policy_header(policy: dict[str, list[str]]) -> str:
    """``{"camera": ["self"], "usb": []}`` → ``camera=(self), usb=()``; origins other than self are quoted."""
    parts = []
    for feature, origins in policy.items():
        allow = " ".join(o if o in ("self", "*") else f'"{o}"' for o in origins)
        parts.append(f"{feature}=({allow})")
    return ", ".join(parts)


class SecurityHeadersMiddleware:
    """Headers Django's SecurityMiddleware and django-csp do not set: Permissions-Policy.

    The value is built once from ``settings.PERMISSIONS_POLICY``; a view that sets the header
    itself keeps its own.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.permissions_policy = permissions_policy_header(getattr(settings, "PERMISSIONS_POLICY", {}))

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if self.permissions_policy:
            response.headers.setdefault("Permissions-Policy", self.permissions_policy)
        return response
