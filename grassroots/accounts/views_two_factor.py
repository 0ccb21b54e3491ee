"""Pages of the second login step and of enrolling in two-factor login."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from grassroots.accounts import two_factor as tf_services
from grassroots.accounts.forms import TwoFactorCodeForm, TwoFactorDisableForm
from grassroots.accounts.models import User
from grassroots.audit.services import Actor, actor_of, audit_record
from grassroots.core import clock
from grassroots.core.client_ip import client_ip
from grassroots.core.errors import DomainError, Forbidden

# Between the password and the code the session holds only this signed, dated note, never a login.
PENDING_KEY = "accounts_2fa_pending"
PENDING_SALT = "grassroots.accounts.2fa.pending"
PENDING_MAX_AGE = 5 * 60


def _ip(request: HttpRequest) -> str:
    return client_ip(request)


def begin_second_step(request: HttpRequest, user: User, next_url: str) -> HttpResponse:
    """After a right password: remember who, for 5 minutes, and ask for the code."""
    request.session[PENDING_KEY] = signing.dumps(
        {"uid": user.pk, "backend": getattr(user, "backend", ""), "next": next_url, "at": clock.now().timestamp()},
        salt=PENDING_SALT,
    )
    return redirect("accounts:login_code")


def _pending(request: HttpRequest) -> tuple[User, dict[str, Any]] | None:
    raw = request.session.get(PENDING_KEY)
    if not raw:
        return None
    try:
        data = signing.loads(raw, salt=PENDING_SALT)
    except signing.BadSignature:
        data = None
    # Aged by the platform's clock (not signing's max_age, which reads time.time()), so tests can move it.
    if not isinstance(data, dict) or not 0 <= clock.now().timestamp() - float(data.get("at", 0)) <= PENDING_MAX_AGE:
        request.session.pop(PENDING_KEY, None)
        return None
    user = User.objects.filter(pk=int(data.get("uid", 0)), is_active=True).first()
    if user is None:
        return None
    return user, data


@never_cache
@require_http_methods(["GET", "POST"])
def login_code(request: HttpRequest) -> HttpResponse:
    pending = _pending(request)
    if pending is None:
        messages.error(request, "登录验证已超时，请重新输入用户名和密码。")
        return redirect("accounts:login")
    user, data = pending
    form = TwoFactorCodeForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        actor = Actor(id=user.pk, label=user.get_username(), ip=_ip(request))
        try:
            method = tf_services.two_factor_verify(actor=actor, user=user, code=form.cleaned_data["code"])
        except DomainError as exc:
            form.add_error("code", exc.message)
            status = 429 if exc.code == "locked" else 200
        else:
            request.session.pop(PENDING_KEY, None)
            login(request, user, backend=data.get("backend") or None)
            audit_record(actor=actor, action="auth.login", detail={"second_factor": method})
            if method == "recovery":
                left = tf_services.recovery_codes_left(user)
                messages.warning(request, f"您使用了一个恢复码，还剩{left}个。恢复码用完前请在“两步验证”页面重新生成。")
            return redirect(data.get("next") or reverse("home"))
    return render(request, "accounts/login_code.html", {"form": form, "pending_user": user}, status=status)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def two_factor(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    if not tf_services.offered_to(user):
        raise Forbidden("居民账号无需开启两步验证。")
    actor = actor_of(user, _ip(request))
    confirm_form = TwoFactorCodeForm(request.POST if request.POST.get("action") == "confirm" else None)
    disable_form = TwoFactorDisableForm(request.POST if request.POST.get("action") == "disable" else None)
    recovery_codes: list[str] = []
    if request.method == "POST" and request.POST.get("action") == "confirm" and confirm_form.is_valid():
        try:
            recovery_codes = tf_services.two_factor_confirm(
                actor=actor, user=user, code=confirm_form.cleaned_data["code"]
            )
        except DomainError as exc:
            confirm_form.add_error("code", exc.message)
        else:
            messages.success(request, "两步验证已开启。")
    elif request.method == "POST" and request.POST.get("action") == "disable" and disable_form.is_valid():
        try:
            tf_services.two_factor_disable(
                actor=actor,
                user=user,
                password=disable_form.cleaned_data["password"],
                code=disable_form.cleaned_data["code"],
            )
        except DomainError as exc:
            disable_form.add_error(exc.field if exc.field in ("password", "code") else None, exc.message)
        else:
            messages.success(request, "两步验证已关闭。")
            return redirect("accounts:two_factor")
    tf = tf_services.two_factor_begin(user=user)
    context: dict[str, Any] = {
        "tf": tf,
        "confirm_form": confirm_form,
        "disable_form": disable_form,
        "recovery_codes": recovery_codes,
        "required": tf_services.required_for(user),
    }
    if tf.totp_confirmed_at is None:
        context["enrolment"] = tf_services.enrolment_of(tf)
    else:
        context["codes_left"] = tf_services.recovery_codes_left(user)
    return render(request, "accounts/two_factor.html", context)
