"""The 12345 hotline import pages: upload → preview → confirm → result (+ refused-rows CSV).

For users with ``cases.handle`` or ``cases.dispatch``; rows must fall in their area. Thin:
the capability is checked before anything is read, the service checks and writes.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from grassroots.accounts.scopes import can, scope_for
from grassroots.accounts.views import client_ip
from grassroots.audit.services import actor_of
from grassroots.cases.forms import UploadMixin
from grassroots.cases.services import hotline
from grassroots.core.errors import DomainError, Forbidden
from grassroots.core.scope import Scope

CAPABILITIES = ("cases.handle", "cases.dispatch")
TEMPLATE = "cases/hotline/import.html"

View = Callable[..., HttpResponse]


class HotlineImportForm(UploadMixin):
    coord = forms.ChoiceField(
        label="经纬度坐标系",
        choices=[("gcj02", "GCJ-02（高德、腾讯地图，12345系统常用）"), ("wgs84", "WGS-84（GPS）")],
        initial="gcj02",
        help_text="文件中有“坐标系”列时以该列为准。",
    )


def importer_required(view: View) -> View:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not any(can(request.user, c) for c in CAPABILITIES):
            raise Forbidden("只有社区或街道的案件办理人员可以导入12345工单。")
        return view(request, *args, **kwargs)

    return login_required(wrapper)


def _scope(request: HttpRequest) -> Scope:
    capability = next(c for c in CAPABILITIES if can(request.user, c))
    return scope_for(request.user, capability)


def _user_id(request: HttpRequest) -> int | None:
    return request.user.pk


def _context(form: forms.Form, **extra: Any) -> dict[str, Any]:
    return {"form": form, "columns": hotline.COLUMNS_HELP, "preview_rows": hotline.PREVIEW_ROWS, **extra}


@importer_required
def hotline_import(request: HttpRequest) -> HttpResponse:
    """Upload and preview: counts, the first rows and every row with a problem; nothing is written."""
    form = HotlineImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        coord = form.cleaned_data["coord"]
        try:
            rows = hotline.read_hotline_rows(upload.read(), upload.name)
        except DomainError as exc:
            form.add_error("file", exc.message)
        else:
            preview = hotline.hotline_import_check(scope=_scope(request), rows=rows, coord=coord)
            context = _context(form, preview=preview, file_name=upload.name)
            if preview.ready:
                context["token"] = hotline.preview_token(rows, upload.name, coord, user_id=_user_id(request))
            return render(request, TEMPLATE, context)
        return render(request, TEMPLATE, _context(form), status=400)
    return render(request, TEMPLATE, _context(form))


@require_POST
@importer_required
def hotline_import_confirm(request: HttpRequest) -> HttpResponse:
    try:
        rows, file_name, coord = hotline.rows_from_token(request.POST.get("token", ""), user_id=_user_id(request))
    except DomainError as exc:
        return render(request, TEMPLATE, _context(HotlineImportForm(), error=exc.message), status=400)
    result = hotline.hotline_import_apply(
        actor=actor_of(request.user, client_ip(request)),
        user=request.user,
        scope=_scope(request),
        rows=rows,
        file_name=file_name,
        coord=coord,
    )
    context = _context(HotlineImportForm(), result=result, file_name=file_name)
    if result.refused:
        context["report_token"] = hotline.refused_report_token(result)
    return render(request, TEMPLATE, context)


def _csv_text(value: object) -> str:
    # A cell starting with = + - @ would run as a formula when the CSV is opened in Excel.
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@require_POST
@importer_required
def hotline_import_report(request: HttpRequest) -> HttpResponse:
    """The refused rows of an import as CSV: row, order number, reason (no callers' details)."""
    try:
        rows = hotline.refused_report_rows(request.POST.get("token", ""))
    except DomainError as exc:
        return render(request, TEMPLATE, _context(HotlineImportForm(), error=exc.message), status=400)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["行号", "工单编号", "未导入原因"])
    for row, order, reason in rows:
        writer.writerow([row, _csv_text(order), _csv_text(reason)])
    response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="12345-refused.csv"'
    return response
