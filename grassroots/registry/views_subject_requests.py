"""Staff pages for personal-information requests (个人信息主体权利请求): the queue and one request.

Thin, like the other registry pages: the capability is checked first (403), reads go through the
subject-request selectors from the user's scope (another community's request is a 404), writes
through the services, which check the status table and audit.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from grassroots.accounts.decorators import capability_required
from grassroots.accounts.scopes import can, scope_for
from grassroots.accounts.views import client_ip
from grassroots.audit.services import Actor, actor_of
from grassroots.core.errors import DomainError
from grassroots.core.scope import Scope
from grassroots.registry.selectors import subject_requests as selectors
from grassroots.registry.selectors.people import today
from grassroots.registry.services import subject_requests as services
from grassroots.registry.subject_request_models import SubjectRequestKind, SubjectRequestStatus

CAPABILITY = "registry.subject_requests"
SHOW = {"open": "待办理", "overdue": "已超期", "closed": "已办结"}
# A deletion the registry may not carry out (there is no person deletion: the registry is kept under
# the law that set it up); offered as a starting text for the refusal, which the worker edits.
DELETION_REFUSAL = (
    "经核实，您的信息系依据《中华人民共和国户口登记条例》等规定登记的实有人口信息，"
    "法律、行政法规规定的保存期限尚未届满，依据《个人信息保护法》第四十七条，暂不能删除；"
    "我们将停止除存储和采取必要安全保护措施之外的处理。"
)


def _actor(request: HttpRequest) -> Actor:
    return actor_of(request.user, client_ip(request))


def _scope(request: HttpRequest) -> Scope:
    return scope_for(request.user, CAPABILITY)


@capability_required(CAPABILITY)
def queue(request: HttpRequest) -> HttpResponse:
    show = request.GET.get("show", "open")
    show = show if show in SHOW else "open"
    scope = _scope(request)
    rows = selectors.subject_request_queue(actor=_actor(request), scope=scope, show=show)
    context = {
        "rows": rows,
        "show": show,
        "shows": SHOW,
        "overdue": selectors.overdue_count(scope=scope),
        "today": today(),
        "due_days": services.DUE_WORKING_DAYS,
    }
    return render(request, "registry/subject_requests/queue.html", context)


def _post(request: HttpRequest, request_id: int) -> str:
    """Run the posted action; returns an error to show, or "" after a success message."""
    actor, scope, user_id = _actor(request), _scope(request), request.user.pk
    op = request.POST.get("op", "")
    try:
        if op == "start":
            raw = request.POST.get("person", "")
            services.subject_request_start(
                actor=actor,
                actor_user_id=user_id,
                scope=scope,
                request_id=request_id,
                person_id=int(raw) if raw.isdigit() else None,
            )
            messages.success(request, "已受理。")
        elif op == "answer":
            services.subject_request_answer(
                actor=actor,
                actor_user_id=user_id,
                scope=scope,
                request_id=request_id,
                answer=request.POST.get("answer", ""),
                corrected_fields=request.POST.getlist("corrected_fields"),
            )
            messages.success(request, "已答复，居民可在手机页面查看。")
        elif op == "refuse":
            services.subject_request_refuse(
                actor=actor,
                actor_user_id=user_id,
                scope=scope,
                request_id=request_id,
                reason=request.POST.get("reason", ""),
            )
            messages.success(request, "已答复不予办理，居民可在手机页面查看理由。")
        else:
            return "未知的操作。"
    except DomainError as exc:
        return str(exc)
    return ""


@capability_required(CAPABILITY)
def detail(request: HttpRequest, request_id: int) -> HttpResponse:
    error = ""
    if request.method == "POST":
        error = _post(request, request_id)
        if not error:
            return redirect("registry:subject_request", request_id=request_id)
    item = selectors.subject_request_detail(actor=_actor(request), scope=_scope(request), request_id=request_id)
    context: dict[str, Any] = {
        "item": item,
        "error": error,
        "posted": request.POST if error else {},
        "kinds": SubjectRequestKind,
        "statuses": SubjectRequestStatus,
        "correctable": services.CORRECTABLE_FIELDS,
        "corrected_labels": [services.CORRECTABLE_FIELDS.get(c, c) for c in item.request.corrected_fields],
        "deletion_refusal": DELETION_REFUSAL,
        "may_view_person": can(request.user, "registry.view"),
        "due_days": services.DUE_WORKING_DAYS,
    }
    return render(request, "registry/subject_requests/detail.html", context)


@never_cache
@require_POST
@capability_required(CAPABILITY)
def copy(request: HttpRequest, request_id: int) -> HttpResponse:
    item = selectors.subject_request_detail(actor=_actor(request), scope=_scope(request), request_id=request_id)
    content, filename = services.subject_request_copy_download(actor=_actor(request), request=item.request)
    response = HttpResponse(content, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    response["Cache-Control"] = "no-store"
    return response
