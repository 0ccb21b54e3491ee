"""Administrator pages: the holiday table and the duty lists (事项清单).

Thin: the capability is checked before anything is looked up (403 for everyone else),
reads go through selectors and writes through services, which audit them.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms as djforms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from grassroots.accounts.models import Department
from grassroots.accounts.scopes import can, scope_for
from grassroots.accounts.views import client_ip
from grassroots.audit.services import Actor, actor_of
from grassroots.cases import forms, selectors, services
from grassroots.cases.services.deadlines import spec_from_fields
from grassroots.cases.services.duty_import import COLUMNS
from grassroots.cases.worktime import FALLBACK_NOTICE, OFFICIAL_YEARS
from grassroots.core import clock
from grassroots.core.errors import DomainError, Forbidden, NotFound
from grassroots.core.scope import Scope
from grassroots.places.models import Area

MANAGE = "accounts.manage"

View = Callable[..., HttpResponse]


def manage_required(view: View) -> View:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not can(request.user, MANAGE):
            raise Forbidden("只有系统管理员可以维护节假日和事项清单。")
        return view(request, *args, **kwargs)

    return login_required(wrapper)


def _actor(request: HttpRequest) -> Actor:
    return actor_of(request.user, client_ip(request))


def _scope(request: HttpRequest) -> Scope:
    return scope_for(request.user, MANAGE)


def _form_error(form: Any, exc: DomainError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


# --- holiday table ------------------------------------------------------------------------


@manage_required
def calendar_index(request: HttpRequest) -> HttpResponse:
    # The year to enter next is usually the first one the package does not know.
    initial = {"year": max(OFFICIAL_YEARS.stop, clock.now().year)}
    form = forms.CalendarImportForm(request.POST or None, request.FILES or None, initial=initial)
    problems: list[tuple[int, str]] = []
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            result = services.calendar_import(
                actor=_actor(request),
                data=upload.read(),
                file_name=upload.name,
                year=form.cleaned_data["year"],
                mark_complete=form.cleaned_data["mark_complete"],
            )
        except services.CalendarImportError as exc:
            form.add_error(None, exc.message)
            problems = exc.problems
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(
                request, f"{result.year} 年已导入 {result.holidays} 天放假、{result.workdays} 天调休上班。"
            )
            return redirect("cases:calendar_year", year=result.year)
    context = {"years": selectors.calendar_years(), "form": form, "problems": problems, "notice": FALLBACK_NOTICE}
    return render(request, "cases/calendar.html", context, status=400 if request.method == "POST" else 200)


@manage_required
def calendar_year(request: HttpRequest, year: int) -> HttpResponse:
    if not 2000 <= year <= 2100:
        raise NotFound()
    form = forms.CalendarDayForm(request.POST or None, year=year)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.calendar_day_set(
                actor=_actor(request),
                day=data["date"],
                is_workday=data["kind"] == "workday",
                name=data["name"],
                note=data["note"],
            )
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, f"{data['date'].isoformat()} 已保存。")
            return redirect("cases:calendar_year", year=year)
    context = {
        "year": selectors.calendar_year_row(year),
        "days": selectors.calendar_special_days(year),
        "form": form,
    }
    return render(request, "cases/calendar_year.html", context, status=400 if request.method == "POST" else 200)


@require_POST
@manage_required
def calendar_year_mark(request: HttpRequest, year: int) -> HttpResponse:
    complete = request.POST.get("complete") == "1"
    try:
        services.calendar_year_mark(actor=_actor(request), year=year, complete=complete)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{year} 年已{'标记为完整录入' if complete else '取消完整录入标记'}。")
    return redirect("cases:calendar_year", year=year)


@require_POST
@manage_required
def calendar_day_clear(request: HttpRequest, year: int) -> HttpResponse:
    day_form = djforms.DateField()
    try:
        day = day_form.clean(request.POST.get("date", ""))
        services.calendar_day_clear(actor=_actor(request), day=day)
    except djforms.ValidationError:
        messages.error(request, "日期无效。")
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{day.isoformat()} 的录入已删除，恢复按内置安排或周一至周五计算。")
    return redirect("cases:calendar_year", year=year)


# --- duty lists ---------------------------------------------------------------------------


def _deadline_text(row: Any, prefix: str) -> str:
    spec = spec_from_fields(getattr(row, f"{prefix}_minutes"), getattr(row, f"{prefix}_workdays"))
    return services.format_deadline(spec)


@manage_required
def duty_index(request: HttpRequest) -> HttpResponse:
    rows = [
        {
            "node": node,
            "acknowledge": _deadline_text(node.category, "acknowledge"),
            "handle": _deadline_text(node.category, "handle"),
        }
        for node in selectors.flatten(selectors.category_tree())
    ]
    return render(request, "cases/duty_index.html", {"rows": rows})


def _category_form_data(category: Any) -> dict[str, Any]:
    return {
        "name": category.name,
        "kind": category.kind,
        "default_whistle_kind": category.default_whistle_kind,
        "acknowledge": _deadline_text(category, "acknowledge"),
        "handle": _deadline_text(category, "handle"),
        "sort": category.sort,
        "is_active": category.is_active,
    }


@manage_required
def category_new(request: HttpRequest) -> HttpResponse:
    form = forms.CategoryForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            category = services.category_create(
                actor=_actor(request),
                code=data["code"],
                name=data["name"],
                kind=data["kind"],
                parent=data["parent"],
                default_whistle_kind=data["default_whistle_kind"],
                deadlines=services.Deadlines(data["acknowledge"], data["handle"]),
                is_active=data["is_active"],
                sort=data["sort"] or 0,
            )
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, f"已添加事项分类“{category.name}”。")
            return redirect("cases:category", category_id=category.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "cases/category_form.html", {"form": form, "category": None}, status=status)


@manage_required
def category_edit(request: HttpRequest, category_id: int) -> HttpResponse:
    category = selectors.category_get(category_id=category_id)
    form = forms.CategoryForm(request.POST or None, initial=_category_form_data(category), editing=True)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.category_update(
                actor=_actor(request),
                category=category,
                name=data["name"],
                kind=data["kind"],
                default_whistle_kind=data["default_whistle_kind"],
                deadlines=services.Deadlines(data["acknowledge"], data["handle"]),
                is_active=data["is_active"],
                sort=data["sort"],
            )
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, "已保存。")
            return redirect("cases:category", category_id=category.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "cases/category_form.html", {"form": form, "category": category}, status=status)


@manage_required
def category_detail(request: HttpRequest, category_id: int) -> HttpResponse:
    scope = _scope(request)
    category = selectors.category_get(category_id=category_id)
    form = forms.AssignmentForm(
        request.POST or None,
        areas=Area.objects.in_scope(scope),
        departments=Department.objects.filter(is_active=True).order_by("path", "name"),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.assignment_save(
                actor=_actor(request),
                scope=scope,
                category=category,
                area=data["area"],
                departments=list(data["departments"]),
                whistle_kind=data["whistle_kind"],
                deadlines=services.Deadlines(data["acknowledge"], data["handle"]),
            )
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, f"已保存“{data['area'].name}”的责任部门。")
            return redirect("cases:category", category_id=category.pk)
    assignments = [
        {
            "row": row,
            "acknowledge": _deadline_text(row, "acknowledge"),
            "handle": _deadline_text(row, "handle"),
        }
        for row in selectors.assignment_list(scope=scope, category=category)
    ]
    context = {
        "category": category,
        "ancestors": list(reversed(selectors.category_ancestors(category))),
        "acknowledge": _deadline_text(category, "acknowledge"),
        "handle": _deadline_text(category, "handle"),
        "assignments": assignments,
        "form": form,
    }
    return render(request, "cases/category.html", context, status=400 if request.method == "POST" else 200)


@require_POST
@manage_required
def assignment_delete(request: HttpRequest, assignment_id: int) -> HttpResponse:
    scope = _scope(request)
    assignment = selectors.assignment_get(scope=scope, assignment_id=assignment_id)
    category_id = assignment.category_id
    services.assignment_delete(actor=_actor(request), scope=scope, assignment=assignment)
    messages.success(request, "已删除该区域的责任配置。")
    return redirect("cases:category", category_id=category_id)


@manage_required
def duty_import(request: HttpRequest) -> HttpResponse:
    """Upload → preview with every row's problems; the confirm step re-checks and writes all or nothing."""
    form = forms.DutyImportForm(request.POST or None, request.FILES or None)
    context: dict[str, Any] = {"form": form, "columns": COLUMNS}
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            rows = services.read_duty_rows(upload.read(), upload.name)
        except DomainError as exc:
            _form_error(form, exc)
        else:
            preview = services.duty_import_check(scope=_scope(request), rows=rows)
            context.update(preview=preview, file_name=upload.name)
            if preview.ok:
                context["token"] = services.preview_token(rows, upload.name)
            return render(request, "cases/duty_import.html", context)
        return render(request, "cases/duty_import.html", context, status=400)
    return render(request, "cases/duty_import.html", context)


@require_POST
@manage_required
def duty_import_confirm(request: HttpRequest) -> HttpResponse:
    try:
        rows, file_name = services.rows_from_token(request.POST.get("token", ""))
        preview = services.duty_import_apply(
            actor=_actor(request), scope=_scope(request), rows=rows, file_name=file_name
        )
    except services.DutyImportError as exc:
        context = {"form": forms.DutyImportForm(), "columns": COLUMNS}
        context["error"], context["problems"] = exc.message, exc.problems
        return render(request, "cases/duty_import.html", context, status=400)
    messages.success(request, f"已导入 {len(preview.rows)} 条事项责任。")
    return redirect("cases:duty")
