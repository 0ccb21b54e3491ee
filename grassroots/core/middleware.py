"""Turn domain errors raised by page views into Chinese error pages.

Selectors raise ``NotFound`` for both "missing" and "out of scope"; the page must not
tell the two apart, so it is always the same 404 page with the same text. The JSON API
has its own handlers (config/api.py) and never reaches this middleware.
"""

from __future__ import annotations

from collections.abc import Callable

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
