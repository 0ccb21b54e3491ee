"""Import pages: upload → mapping and preview → start → job page with progress → list.

Thin: the scope comes from the request (capability registry.import), reads go through
selectors (out of scope is NotFound → the same 404 page), writes through services.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from grassroots.accounts.scopes import can
from grassroots.audit.services import actor_of
from grassroots.core.client_ip import client_ip
from grassroots.core.errors import DomainError, Forbidden
from grassroots.core.masking import mask_id_number, mask_phone
from grassroots.core.scope import Scope, request_scope
from grassroots.registry.imports import selectors, services
from grassroots.registry.imports.forms import UploadForm
from grassroots.registry.imports.mapping import FIELDS
from grassroots.registry.imports.xlsx import rejected_rows_xlsx
from grassroots.registry.models import ImportStatus

CAPABILITY = "registry.import"
View = Callable[..., HttpResponse]


def import_required(view: View) -> View:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request_scope(request, CAPABILITY).area_path is None:
            raise Forbidden("您的角色无权导入人员数据。")
        return view(request, *args, **kwargs)

    return login_required(wrapper)


def _scope(request: HttpRequest) -> Scope:
    return request_scope(request, CAPABILITY)


def _actor(request: HttpRequest) -> Any:
    return actor_of(request.user, client_ip(request))


@import_required
def job_list(request: HttpRequest) -> HttpResponse:
    jobs = selectors.job_list(scope=_scope(request))[:100]
    return render(request, "registry/imports/list.html", {"jobs": jobs})


@import_required
def upload(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    form = UploadForm(request.POST or None, request.FILES or None, scope=scope)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            job, created = services.import_job_create(
                actor=_actor(request),
                scope=scope,
                source=data["source"],
                data=data["file"].read(),
                file_name=data["file"].name,
                area=data.get("area"),
                sheet=data["sheet"].strip(),
                created_by_id=request.user.pk,
            )
        except DomainError as exc:
            form.add_error("file" if exc.field in (None, "file") else None, exc.message)
        else:
            if not created:
                messages.info(request, "该文件已上传过，下面是原来的导入任务。")
            if job.status == ImportStatus.UPLOADED:
                return redirect("imports:mapping", job_id=job.pk)
            return redirect("imports:detail", job_id=job.pk)
    return render(request, "registry/imports/upload.html", {"form": form}, status=400 if form.errors else 200)


def _posted_mapping(request: HttpRequest, headers: list[str]) -> dict[str, str]:
    return {h: request.POST.get(f"col_{i}", "") for i, h in enumerate(headers)}


_MASKS = {"id_number": mask_id_number, "phone": mask_phone}


def _masked(text: str, field: str) -> str:
    """The preview shows ID numbers and phones masked, like every other page."""
    mask = _MASKS.get(field)
    return mask(text) if mask and text else text


@import_required
def mapping(request: HttpRequest, job_id: int) -> HttpResponse:
    job = selectors.job_get(scope=_scope(request), job_id=job_id)
    if job.status != ImportStatus.UPLOADED:
        return redirect("imports:detail", job_id=job.pk)
    posted = request.method == "POST"
    sheet = request.POST.get("sheet", job.sheet_name) if posted else None
    error = ""
    try:
        preview = services.import_job_preview(job=job, sheet=sheet)
        # The selects belong to the sheet they were shown for; a new sheet starts from suggestions.
        if posted and sheet == request.POST.get("shown_sheet"):
            chosen = _posted_mapping(request, preview.table.headers)
            preview = services.import_job_preview(job=job, sheet=sheet, mapping=chosen)
            if request.POST.get("action") == "start":
                if preview.errors:
                    error = "请先改正列映射：" + " ".join(preview.errors)
                else:
                    services.import_job_start(actor=_actor(request), job=job, mapping=preview.mapping, sheet=sheet)
                    return redirect("imports:detail", job_id=job.pk)
    except DomainError as exc:
        error = exc.message
        preview = services.import_job_preview(job=job)
    columns: list[dict[str, Any]] = [
        {"index": i, "header": h, "field": preview.mapping.get(h, "")} for i, h in enumerate(preview.table.headers)
    ]
    rows = [
        {
            "result": r,
            "cells": [
                (_masked(r.raw.get(c["header"], ""), c["field"]), r.problems_for(c["field"]) if c["field"] else [])
                for c in columns
            ],
            "unplaced": [p for p in r.problems if p["field"] not in {c["field"] for c in columns}],
        }
        for r in preview.rows
    ]
    context = {"job": job, "preview": preview, "columns": columns, "rows": rows, "fields": FIELDS, "error": error}
    return render(request, "registry/imports/mapping.html", context, status=400 if error else 200)


def _detail_context(job: Any) -> dict[str, Any]:
    percent = int(job.processed_rows * 100 / job.total_rows) if job.total_rows else 0
    return {
        "job": job,
        "percent": percent,
        "may_retry": services.may_retry(job),
        "active": job.status in (ImportStatus.QUEUED, ImportStatus.RUNNING),
    }


@import_required
def job_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    job = selectors.job_get(scope=_scope(request), job_id=job_id)
    context = _detail_context(job)
    context["may_download_rejected"] = services.may_download_rejected(
        user_id=request.user.pk, may_unmask=can(request.user, "registry.unmask"), job=job
    )
    if job.status == ImportStatus.DONE:
        context["unmatched"] = selectors.unmatched_addresses(job=job)
        context["linkage"] = selectors.job_linkage(job=job)
        context["can_review"] = can(request.user, "registry.review")
    return render(request, "registry/imports/detail.html", context)


@import_required
def progress(request: HttpRequest, job_id: int) -> HttpResponse:
    job = selectors.job_get(scope=_scope(request), job_id=job_id)
    response = render(request, "registry/imports/_progress.html", _detail_context(job))
    if job.status in (ImportStatus.DONE, ImportStatus.FAILED) and request.headers.get("HX-Request"):
        response["HX-Refresh"] = "true"  # the finished page shows the unmatched addresses and downloads
    return response


@import_required
def rejected_download(request: HttpRequest, job_id: int) -> HttpResponse:
    job = selectors.job_get(scope=_scope(request), job_id=job_id)
    services.rejected_download_audit(actor=_actor(request), job=job, may_unmask=can(request.user, "registry.unmask"))
    response = HttpResponse(
        rejected_rows_xlsx(job=job), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="rejected-{job.pk}.xlsx"'
    return response


@require_POST
@import_required
def retry(request: HttpRequest, job_id: int) -> HttpResponse:
    job = selectors.job_get(scope=_scope(request), job_id=job_id)
    services.import_job_retry(actor=_actor(request), job=job)
    messages.success(request, "已重新排队，将从中断处继续导入。")
    return redirect("imports:detail", job_id=job.pk)
