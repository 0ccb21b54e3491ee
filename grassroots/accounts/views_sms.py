"""短信验证码登录: residents ask for a code, then sign in with number and code (accounts.sms).

One page, one form: "获取验证码" posts to the send view, "登录" to the login view; both
render the same page again with the number kept. Both POSTs are rate-limited per client IP
(``sms_send`` and ``login`` in ``GRASSROOTS_RATE_LIMITS``) besides the per-number limits.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth import login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from grassroots.accounts import sms
from grassroots.core.client_ip import client_ip
from grassroots.core.errors import DomainError
from grassroots.core.ratelimit import Refusal, hit, rate_limit

SENT_MESSAGE = "如该号码已开通居民账号，验证码已发送，{minutes} 分钟内有效。"


class SmsLoginForm(forms.Form):
    phone = forms.CharField(
        label="手机号",
        max_length=20,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel", "autofocus": True}),
        error_messages={"required": "请输入手机号。"},
    )
    code = forms.CharField(
        label="验证码",
        max_length=6,
        required=False,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "pattern": "[0-9]{6}", "maxlength": "6"}
        ),
    )


def _next(request: HttpRequest) -> str:
    target = str(request.POST.get("next") or request.GET.get("next") or "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return ""


def _page(
    request: HttpRequest, form: SmsLoginForm, *, error: str = "", info: str = "", status: int = 200
) -> HttpResponse:
    context: dict[str, Any] = {"form": form, "error": error, "info": info, "next": _next(request)}
    return render(request, "accounts/login_sms.html", context, status=status)


def _login_limited(request: HttpRequest, refusal: Refusal, *args: Any, **kwargs: Any) -> HttpResponse:
    form = SmsLoginForm(request.POST)
    return _page(request, form, error=refusal.message, status=429)


@require_http_methods(["GET", "HEAD", "POST"])
@rate_limit("login", respond=_login_limited)
def login_sms(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        if request.user.is_authenticated:
            return redirect(_next(request) or resolve_url(settings.LOGIN_REDIRECT_URL))
        return _page(request, SmsLoginForm(initial={"phone": request.GET.get("phone", "")}))
    form = SmsLoginForm(request.POST)
    if not form.is_valid():
        return _page(request, form, status=400)
    code = form.cleaned_data["code"]
    if not code:
        return _page(request, form, error="请输入短信验证码。", status=400)
    try:
        user = sms.sms_login(phone=form.cleaned_data["phone"], code=code, ip=client_ip(request))
    except DomainError as error:
        return _page(request, form, error=error.message, status=400)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return redirect(_next(request) or resolve_url(settings.LOGIN_REDIRECT_URL))


@require_POST
def login_sms_send(request: HttpRequest) -> HttpResponse:
    form = SmsLoginForm(request.POST)
    # Per IP first, so malformed numbers and unknown ones count as much as real ones.
    refusal = hit("sms_send", f"ip:{client_ip(request)}")
    if refusal is not None:
        response = _page(request, form, error=refusal.message, status=429)
        response["Retry-After"] = str(refusal.retry_after)
        return response
    if not form.is_valid():
        return _page(request, form, status=400)
    try:
        sms.sms_code_request(phone=form.cleaned_data["phone"], ip=client_ip(request))
    except sms.SmsLimited as limited:
        response = _page(request, form, error=limited.message, status=429)
        response["Retry-After"] = str(limited.retry_after)
        return response
    except DomainError as error:  # a malformed number
        return _page(request, form, error=error.message, status=400)
    info = SENT_MESSAGE.format(minutes=int(sms.CODE_TTL.total_seconds() // 60))
    return _page(request, SmsLoginForm(initial={"phone": form.cleaned_data["phone"]}), info=info)
