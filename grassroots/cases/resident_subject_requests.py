"""Resident H5 pages for personal-information requests (个人信息主体权利请求, PIPL art. 44–47).

A resident asks for a copy of their data, a correction or a deletion, and follows the request
to its answer. The request and its answer live in the registry
(``grassroots.registry.services.subject_requests``); these pages sit in ``cases`` beside the other
resident pages because the due date needs the working-day calendar, which cases owns.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache

from grassroots.accounts.decorators import capability_required
from grassroots.accounts.views import client_ip
from grassroots.audit.services import actor_of
from grassroots.cases.selectors import work_calendar
from grassroots.core.errors import DomainError
from grassroots.registry.selectors import subject_requests as selectors
from grassroots.registry.services import subject_requests as services
from grassroots.registry.subject_request_models import SubjectRequestKind

H5 = "cases.h5"


class SubjectRequestForm(forms.Form):
    kind = forms.ChoiceField(
        label="请求类型",
        choices=SubjectRequestKind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "请选择请求类型。"},
    )
    name = forms.CharField(label="姓名", max_length=50, error_messages={"required": "请填写姓名。"})
    id_number = forms.CharField(
        label="身份证号",
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "text", "spellcheck": "false"}),
        error_messages={"required": "请填写身份证号。"},
    )
    details = forms.CharField(
        label="请求内容",
        max_length=services.MAX_DETAILS,
        widget=forms.Textarea(
            attrs={"rows": 4, "placeholder": "如：请提供我的全部登记信息；我的手机号登记有误，应为……；请删除我的……"}
        ),
        error_messages={"required": "请填写请求内容。", "max_length": f"请求内容最多{services.MAX_DETAILS}字。"},
    )


def _nav(current: str) -> list[dict[str, Any]]:
    return [
        {"label": "我的请求", "url": reverse("cases:h5_data_requests"), "active": current == "list"},
        {"label": "提出请求", "url": reverse("cases:h5_data_request_new"), "active": current == "new"},
    ]


@capability_required(H5)
def h5_data_requests(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    items = selectors.resident_requests(requester_id=user.pk)
    return render(
        request,
        "cases/h5/data_requests.html",
        {"items": items, "h5_nav": _nav("list"), "due_days": services.DUE_WORKING_DAYS},
    )


@capability_required(H5)
def h5_data_request_new(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    form = SubjectRequestForm(request.POST or None)
    errors: list[str] = []
    if request.method == "POST" and form.is_valid():
        try:
            created = services.subject_request_submit(
                actor=actor_of(user, client_ip(request)),
                requester_id=user.pk,
                path=user.area.path if user.area_id else "",
                kind=form.cleaned_data["kind"],
                name=form.cleaned_data["name"],
                id_number=form.cleaned_data["id_number"],
                details=form.cleaned_data["details"],
                calendar=work_calendar(),
            )
        except DomainError as exc:
            if exc.field and exc.field in form.fields:
                form.add_error(exc.field, str(exc))
            else:
                errors.append(str(exc))
        else:
            messages.success(request, f"请求已提交，我们将在{created.due_on:%Y年%m月%d日}前答复。")
            return redirect("cases:h5_data_request", request_id=created.pk)
    context = {"form": form, "errors": errors, "h5_nav": _nav("new"), "due_days": services.DUE_WORKING_DAYS}
    return render(request, "cases/h5/data_request_new.html", context)


@capability_required(H5)
def h5_data_request(request: HttpRequest, request_id: int) -> HttpResponse:
    user: Any = request.user
    item = selectors.resident_request(requester_id=user.pk, request_id=request_id)
    return render(request, "cases/h5/data_request.html", {"item": item, "h5_nav": _nav("")})


@never_cache
@capability_required(H5)
def h5_data_request_copy(request: HttpRequest, request_id: int) -> HttpResponse:
    user: Any = request.user
    item = selectors.resident_request(requester_id=user.pk, request_id=request_id)
    content, filename = services.subject_request_copy_download(
        actor=actor_of(user, client_ip(request)), request=item.request
    )
    response = HttpResponse(content, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    response["Cache-Control"] = "no-store"
    return response
