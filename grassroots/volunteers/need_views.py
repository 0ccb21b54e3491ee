"""Pages of needs ↔ resources: the lists, new need/resource, "propose matches", accept/decline, projects."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from grassroots.accounts.scopes import scope_for
from grassroots.core.errors import DomainError, Forbidden
from grassroots.registry.models import Unit
from grassroots.volunteers import selectors, services
from grassroots.volunteers.forms import NeedFilterForm, NeedForm, ProjectForm, ProposeForm, ResourceForm
from grassroots.volunteers.models import Volunteer
from grassroots.volunteers.views import (
    MANAGE,
    VIEW,
    capability_required,
    domain_message,
    form_errors,
    may_manage,
    paginate,
    view_scope,
)


def _write(request: HttpRequest, form: Any, error: DomainError) -> None:
    if error.field and error.field in form.fields:
        form.add_error(error.field, error.message)
    else:
        domain_message(request, error)


@capability_required(VIEW)
def needs(request: HttpRequest) -> HttpResponse:
    """Needs, resources and the proposed matches waiting for a decision, on one page."""
    scope = view_scope(request)
    filters = NeedFilterForm(request.GET or None)
    state, skill_id = "", None
    if filters.is_bound and filters.is_valid():
        state = filters.cleaned_data.get("state") or ""
        skill = filters.cleaned_data.get("skill")
        skill_id = skill.pk if skill else None
    page, query = paginate(request, selectors.need_queryset(scope=scope, state=state, skill_id=skill_id), 20)
    context = {
        "filters": filters,
        "page": page,
        "query": query,
        "counts": selectors.need_counts(scope=scope),
        "resources": list(selectors.resource_queryset(scope=scope, skill_id=skill_id)[:100]),
        "matches": list(selectors.match_queryset(scope=scope)[:100]),
        "propose_form": ProposeForm(),
        "may_manage": may_manage(request),
        "tab": "needs",
    }
    return render(request, "volunteers/needs.html", context)


@capability_required(MANAGE, "您的角色无权登记需求。")
def need_new(request: HttpRequest) -> HttpResponse:
    scope = scope_for(request.user, MANAGE)
    form = NeedForm(request.POST or None, scope_q=scope.path_q())
    if request.method == "POST" and form.is_valid():
        try:
            need = services.need_create(actor=request.user, **form.cleaned_data)
        except DomainError as error:
            _write(request, form, error)
        else:
            messages.success(request, f"已登记需求“{need.title}”。")
            return redirect("volunteers:needs")
    return render(request, "volunteers/need_form.html", {"form": form, "title": "登记需求", "tab": "needs"})


@capability_required(MANAGE, "您的角色无权登记资源。")
def resource_new(request: HttpRequest) -> HttpResponse:
    scope = scope_for(request.user, MANAGE)
    units = Unit.objects.filter(scope.path_q()).only("id", "name", "path").order_by("name")
    volunteers = (
        Volunteer.objects.filter(scope.path_q(), is_active=True)
        .select_related("person")
        .only("id", "path", "is_talent", "person__id", "person__name")
        .order_by("-is_talent", "person__name")
    )
    form = ResourceForm(request.POST or None, scope_q=scope.path_q(), units=units, volunteers=volunteers)
    if request.method == "POST" and form.is_valid():
        try:
            resource = services.resource_create(actor=request.user, **form.cleaned_data)
        except DomainError as error:
            _write(request, form, error)
        else:
            messages.success(request, f"已登记资源“{resource.title}”。")
            return redirect("volunteers:needs")
    return render(request, "volunteers/need_form.html", {"form": form, "title": "登记资源", "tab": "needs"})


@require_POST
@capability_required(MANAGE, "您的角色无权推荐对接。")
def propose(request: HttpRequest) -> HttpResponse:
    form = ProposeForm(request.POST)
    if not form.is_valid():
        form_errors(request, form)
        return redirect("volunteers:needs")
    km = form.cleaned_data.get("max_distance_km")
    try:
        result = services.matches_propose(actor=request.user, max_distance_m=km * 1000 if km else None)
    except DomainError as error:
        domain_message(request, error)
    else:
        messages.success(
            request,
            f"已为 {result.needs} 项待对接需求（共需 {result.demand}）推荐 {len(result.matches)} 条对接，"
            f"可覆盖 {result.covered}。",
        )
    return redirect("volunteers:needs")


@require_POST
@capability_required(MANAGE, "您的角色无权处理对接。")
def match_accept(request: HttpRequest, match_id: int) -> HttpResponse:
    match = selectors.match_get(scope=scope_for(request.user, MANAGE), match_id=match_id)
    try:
        project = services.match_accept(actor=request.user, match=match)
    except DomainError as error:
        domain_message(request, error)
        return redirect("volunteers:needs")
    messages.success(request, f"已确认对接，生成项目“{project.title}”。")
    return redirect("volunteers:project", project_id=project.pk)


@require_POST
@capability_required(MANAGE, "您的角色无权处理对接。")
def match_decline(request: HttpRequest, match_id: int) -> HttpResponse:
    match = selectors.match_get(scope=scope_for(request.user, MANAGE), match_id=match_id)
    try:
        services.match_decline(actor=request.user, match=match)
    except DomainError as error:
        domain_message(request, error)
    else:
        messages.success(request, "已拒绝该推荐，今后不再推荐这一组合。")
    return redirect("volunteers:needs")


@require_POST
@capability_required(MANAGE, "您的角色无权关闭需求。")
def need_close(request: HttpRequest, need_id: int) -> HttpResponse:
    need = selectors.need_get(scope=scope_for(request.user, MANAGE), need_id=need_id)
    try:
        services.need_close(actor=request.user, need=need)
    except DomainError as error:
        domain_message(request, error)
    else:
        messages.success(request, f"需求“{need.title}”已关闭。")
    return redirect("volunteers:needs")


@capability_required(VIEW)
def project_list(request: HttpRequest) -> HttpResponse:
    scope = view_scope(request)
    done_text = request.GET.get("done", "")
    done = None if done_text not in ("0", "1") else done_text == "1"
    page, query = paginate(request, selectors.project_queryset(scope=scope, done=done))
    return render(
        request, "volunteers/project_list.html", {"page": page, "query": query, "done": done_text, "tab": "projects"}
    )


@capability_required(VIEW)
def project_detail(request: HttpRequest, project_id: int) -> HttpResponse:
    scope = view_scope(request)
    project = selectors.project_get(scope=scope, project_id=project_id)
    form = ProjectForm(request.POST or None, initial={"progress": project.progress})
    if request.method == "POST":
        if not may_manage(request):
            raise Forbidden("您的角色无权更新项目进度。")
        if form.is_valid():
            try:
                services.project_update(actor=request.user, project=project, **form.cleaned_data)
            except DomainError as error:
                _write(request, form, error)
            else:
                messages.success(request, "进度已更新。")
                return redirect("volunteers:project", project_id=project.pk)
    context = {
        "project": project,
        "form": form,
        "may_manage": may_manage(request) and project.done_at is None,
        "tab": "projects",
    }
    return render(request, "volunteers/project_detail.html", context)
