"""View decorators for pages of every app: the capability is checked before anything is looked up."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse

from grassroots.accounts.scopes import can
from grassroots.core.errors import Forbidden

View = Callable[..., HttpResponse]


def capability_required(*capabilities: str, message: str = "您的角色无权使用此功能。") -> Callable[[View], View]:
    """Signed in (else the login page) and holding any one of ``capabilities`` (else 403 with ``message``)."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not any(can(request.user, c) for c in capabilities):
                raise Forbidden(message)
            return view(request, *args, **kwargs)

        return login_required(wrapper)

    return decorate
