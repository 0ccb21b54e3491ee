from __future__ import annotations

from typing import Any

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from grassroots.accounts import two_factor
from grassroots.accounts.forms import LoginForm
from grassroots.accounts.scopes import scope_for
from grassroots.accounts.views_two_factor import begin_second_step
from grassroots.audit.services import Actor, actor_of, audit_record
from grassroots.places import selectors as places


def client_ip(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR", ""))


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form: Any) -> HttpResponse:
        user = form.get_user()
        if two_factor.enrolled(user):
            # The password was right; the session is logged in only after the code (second page).
            return begin_second_step(self.request, user, self.get_success_url())
        response = super().form_valid(form)
        audit_record(actor=actor_of(self.request.user, client_ip(self.request)), action="auth.login")
        return response

    def form_invalid(self, form: Any) -> HttpResponse:
        username = str(form.data.get("username", ""))[:150]
        audit_record(
            actor=Actor(id=None, label=username or "anonymous", ip=client_ip(self.request)), action="auth.login_failed"
        )
        return super().form_invalid(form)


class LogoutView(auth_views.LogoutView):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated:
            audit_record(actor=actor_of(request.user, client_ip(request)), action="auth.logout")
        return super().post(request, *args, **kwargs)


def locked_out(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
    *args: Any,
    **kwargs: Any,
) -> HttpResponse:
    """Shown by django-axes instead of the login form once an account is locked.

    django-axes 8 calls ``(request, original_response, credentials)``; an older
    two-argument signature here took the response for the credentials and audited
    every lockout as "anonymous".
    """
    if not isinstance(credentials, dict):
        credentials = {}
    username = str(credentials.get("username") or request.POST.get("username", ""))[:150]
    audit_record(actor=Actor(id=None, label=username or "anonymous", ip=client_ip(request)), action="auth.locked_out")
    return render(
        request,
        "accounts/login.html",
        {"form": LoginForm(request), "locked": True},
        status=429,
    )


@login_required
def home(request: HttpRequest) -> HttpResponse:
    scope = scope_for(request.user, "places.browse")
    return render(request, "home.html", {"roots": places.area_roots(scope=scope)})
