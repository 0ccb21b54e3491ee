from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from grassroots.accounts import passwords, sessions, two_factor
from grassroots.accounts.forms import LoginForm, PasswordChangeForm
from grassroots.accounts.models import User
from grassroots.accounts.scopes import scope_for
from grassroots.accounts.views_two_factor import begin_second_step
from grassroots.audit.services import Actor, actor_of, audit_record
from grassroots.core.client_ip import client_ip
from grassroots.core.errors import DomainError
from grassroots.core.ratelimit import rate_limit
from grassroots.places import selectors as places


@method_decorator(rate_limit("login"), name="post")
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


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def password_change(request: HttpRequest) -> HttpResponse:
    """Every signed-in user's own password; where an expired password sends them (等保: 90 days)."""
    user = request.user
    assert isinstance(user, User)
    next_url = str(request.POST.get("next") or request.GET.get("next") or "")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}) or next_url.startswith(
        request.path
    ):
        next_url = ""
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        old_key = request.session.session_key
        try:
            passwords.password_change(
                actor=actor_of(user, client_ip(request)),
                user=user,
                old_password=form.cleaned_data["old_password"],
                new_password=form.cleaned_data["new_password1"],
                keep_session_key=old_key,
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            # This session stays signed in (under a new key); every other one has ended.
            update_session_auth_hash(request, user)
            sessions.rekey(request, user, old_key)
            messages.success(request, "密码已修改。")
            return redirect(next_url or "home")
    return render(
        request,
        "accounts/password_change.html",
        {
            "form": form,
            "next": next_url,
            "expired": passwords.expired(user),
            "help_texts": passwords.help_texts(),
            "max_age": passwords.max_age(),
            "changed_at": user.password_changed_at,
        },
    )
