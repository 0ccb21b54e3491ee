"""The JSON API at /api/v1/: one ninja Router per app, token or session auth."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, ValidationError
from ninja.security import HttpBearer, django_auth

from grassroots.accounts.services import api_token_authenticate
from grassroots.cases.services import Conflict
from grassroots.core.errors import DomainError, Forbidden, NotFound


class TokenAuth(HttpBearer):
    """``Authorization: Bearer gr_…`` for machine clients."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = api_token_authenticate(token)
        if user is not None:
            request.user = user
        return user


api = NinjaAPI(
    title="Grassroots API",
    version="1",
    description="基层治理平台 API. Every answer is limited to the caller's scope; out of scope is 404.",
    auth=[TokenAuth(), django_auth],
    urls_namespace="api",
)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = api.create_response(
        request, {"detail": "请先登录，或提供有效的 API 令牌。", "code": "unauthenticated"}, status=401
    )
    response["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(ValidationError)
def _bad_request(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    # Keep ninja's structured list for programs; say which parameters are wrong in Chinese.
    names = []
    for error in exc.errors:
        loc = [str(part) for part in error.get("loc", ())][1:]  # drop the source: query, path, body…
        name = ".".join(loc) or "?"
        if name not in names:
            names.append(name)
    return api.create_response(
        request,
        {"detail": f"请求参数有误：{'、'.join(names)}。", "code": "invalid_request", "errors": exc.errors},
        status=422,
    )


@api.exception_handler(NotFound)
def _not_found(request: HttpRequest, exc: NotFound) -> HttpResponse:
    return api.create_response(request, {"detail": exc.message, "code": exc.code}, status=404)


@api.exception_handler(Forbidden)
def _forbidden(request: HttpRequest, exc: Forbidden) -> HttpResponse:
    return api.create_response(request, {"detail": exc.message, "code": exc.code}, status=403)


@api.exception_handler(Conflict)
def _conflict(request: HttpRequest, exc: Conflict) -> HttpResponse:
    return api.create_response(request, {"detail": exc.message, "code": exc.code}, status=409)


@api.exception_handler(DomainError)
def _invalid(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return api.create_response(request, {"detail": exc.message, "code": exc.code, "field": exc.field}, status=422)


from grassroots.cases.api import router as cases_router  # noqa: E402
from grassroots.places.api import router as places_router  # noqa: E402

api.add_router("/places/", places_router)
api.add_router("/cases/", cases_router)
