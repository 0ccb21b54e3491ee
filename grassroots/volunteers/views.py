"""Pages of the forces below the grid: building roles, volunteers and talents, teams.

Thin: the capability is checked before anything is looked up (403), objects out of the caller's
scope are 404 (``NotFound`` from the selectors and services), every write goes through a service
that audits it. A rule broken by a write comes back as a message on the page it was sent from.
Activities live in ``activity_views.py``, needs/resources/projects in ``need_views.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from grassroots.accounts.decorators import capability_required
from grassroots.accounts.scopes import can, scope_for
from grassroots.audit.services import actor_of
from grassroots.core.errors import DomainError, Forbidden, NotFound
from grassroots.core.scope import Scope
from grassroots.places.selectors import area_get, building_get
from grassroots.registry.models import Person
from grassroots.registry.selectors import person_search
from grassroots.volunteers import selectors, services
from grassroots.volunteers.forms import (
    AppointForm,
    EndRoleForm,
    MemberForm,
    PersonSearchForm,
    RegisterForm,
    TeamForm,
    VolunteerEditForm,
    VolunteerFilterForm,
)
from grassroots.volunteers.models import BuildingRoleKind, TeamKind

View = Callable[..., HttpResponse]
VIEW = "volunteers.view"
MANAGE = "volunteers.manage"
PER_PAGE = 30


def view_scope(request: HttpRequest) -> Scope:
    return scope_for(request.user, VIEW)


def may_manage(request: HttpRequest) -> bool:
    return can(request.user, MANAGE)


def paginate(request: HttpRequest, rows: Any, per_page: int = PER_PAGE) -> tuple[Page[Any], str]:
    page = Paginator(rows, per_page).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return page, query.urlencode()


def domain_message(request: HttpRequest, error: DomainError) -> None:
    """A broken rule becomes a message; NotFound/Forbidden are re-raised for the 404/403 pages."""
    if isinstance(error, NotFound | Forbidden):
        raise error
    messages.error(request, error.message)


def form_errors(request: HttpRequest, form: Any) -> None:
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        for error in errors:
            messages.error(request, f"{label}：{error}" if label else str(error))


def person_search_context(request: HttpRequest) -> dict[str, Any]:
    """The person picker: a search box and, when a query was typed, the matches in the caller's scope."""
    form = PersonSearchForm(request.GET or None)
    people: list[Person] = []
    if form.is_bound and form.is_valid() and form.cleaned_data["q"].strip():
        people = person_search(
            actor=actor_of(request.user), scope=scope_for(request.user, MANAGE), query=form.cleaned_data["q"], limit=20
        )
    return {"search_form": form, "found": people, "searched": bool(form.is_bound and request.GET.get("q"))}


# --- building roles ----------------------------------------------------------------------------


@capability_required(VIEW)
def roles(request: HttpRequest) -> HttpResponse:
    gaps = selectors.gaps_by_grid(scope=view_scope(request))
    totals = {
        "buildings": sum(g.buildings for g in gaps),
        "without_head": sum(g.without_head for g in gaps),
        "entrances": sum(g.entrances for g in gaps),
        "without_entrance_head": sum(g.without_entrance_head for g in gaps),
        "central_households": sum(g.central_households for g in gaps),
    }
    return render(request, "volunteers/roles.html", {"gaps": gaps, "totals": totals, "tab": "roles"})


@capability_required(VIEW)
def grid_roles(request: HttpRequest, grid_id: int) -> HttpResponse:
    scope = view_scope(request)
    grid = area_get(scope=scope, area_id=grid_id)
    data = selectors.grid_roles(scope=scope, grid=grid)
    return render(
        request, "volunteers/grid_roles.html", {"data": data, "may_manage": may_manage(request), "tab": "roles"}
    )


@capability_required(VIEW)
def building_roles(request: HttpRequest, building_id: int) -> HttpResponse:
    scope = view_scope(request)
    building = building_get(scope=scope, building_id=building_id)
    entrances = list(building.entrances.order_by("number"))
    if request.method == "POST":
        if not may_manage(request):
            raise Forbidden("您的角色无权任命楼栋长、单元长或中心户。")
        form = AppointForm(request.POST, entrances=entrances)
        if form.is_valid():
            data = form.cleaned_data
            try:
                person = selectors.person_in_scope(scope=scope_for(request.user, MANAGE), person_id=data["person"])
                entrance = next((e for e in entrances if e.pk == data["entrance"]), None)
                result = services.building_role_appoint(
                    actor=request.user,
                    kind=data["kind"],
                    person=person,
                    building=building,
                    entrance=entrance,
                    since=data["since"],
                )
            except DomainError as error:
                domain_message(request, error)
            else:
                for warning in result.warnings:
                    messages.warning(request, warning)
                label = BuildingRoleKind(result.role.kind).label
                messages.success(request, f"已任命 {person.name} 为{label}。")
                return redirect("volunteers:building_roles", building_id=building.pk)
        else:
            form_errors(request, form)
    history = selectors.building_history(scope=scope, building=building)
    context = {
        "building": building,
        "entrances": entrances,
        "current": [r for r in history if r.until is None],
        "past": [r for r in history if r.until is not None],
        "may_manage": may_manage(request),
        "kinds": BuildingRoleKind.choices,
        "tab": "roles",
    }
    if context["may_manage"]:
        context.update(person_search_context(request))
    return render(request, "volunteers/building_roles.html", context)


@require_POST
@capability_required(MANAGE, "您的角色无权变更楼栋力量。")
def role_end(request: HttpRequest, role_id: int) -> HttpResponse:
    role = selectors.building_role_get(scope=scope_for(request.user, MANAGE), role_id=role_id)
    form = EndRoleForm(request.POST)
    if form.is_valid():
        try:
            services.building_role_end(actor=request.user, role=role, until=form.cleaned_data["until"])
        except DomainError as error:
            domain_message(request, error)
        else:
            messages.success(request, f"{role.person.name} 已离任。")
    else:
        form_errors(request, form)
    return redirect("volunteers:building_roles", building_id=role.building_id)


# --- volunteers and talents --------------------------------------------------------------------


@capability_required(VIEW)
def volunteer_list(request: HttpRequest) -> HttpResponse:
    scope = view_scope(request)
    filters = VolunteerFilterForm(request.GET or None, scope_q=scope.path_q())
    values = filters.values() if filters.is_bound else {}
    rows = selectors.volunteer_queryset(scope=scope, **values)
    page, query = paginate(request, rows)
    grids = selectors.grids_by_path([v.path for v in page.object_list])
    context = {
        "filters": filters,
        "page": page,
        "query": query,
        "rows": [(v, grids.get(v.path)) for v in page.object_list],
        "skill_counts": selectors.skill_counts(scope=scope),
        "may_manage": may_manage(request),
        "tab": "volunteers",
    }
    return render(request, "volunteers/volunteer_list.html", context)


@capability_required(MANAGE, "您的角色无权登记志愿者。")
def volunteer_register(request: HttpRequest) -> HttpResponse:
    scope = scope_for(request.user, MANAGE)
    form = RegisterForm(request.POST or None, initial={"weekly_hours": 2})
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                person = selectors.person_in_scope(scope=scope, person_id=data["person"])
                volunteer = services.volunteer_register(
                    actor=request.user,
                    person=person,
                    skills=data["skills"],
                    is_talent=data["is_talent"],
                    talent_note=data["talent_note"],
                    weekly_hours=data["weekly_hours"],
                )
            except DomainError as error:
                domain_message(request, error)
            else:
                messages.success(request, f"已登记 {person.name} 为{'社区能人' if volunteer.is_talent else '志愿者'}。")
                return redirect("volunteers:volunteer", volunteer_id=volunteer.pk)
        else:
            form_errors(request, form)
    context = {"form": form, "tab": "volunteers", **person_search_context(request)}
    context["registered"] = selectors.volunteer_person_ids(person_ids=[p.pk for p in context["found"]])
    return render(request, "volunteers/volunteer_register.html", context)


@capability_required(VIEW)
def volunteer_detail(request: HttpRequest, volunteer_id: int) -> HttpResponse:
    scope = view_scope(request)
    volunteer = selectors.volunteer_get(scope=scope, volunteer_id=volunteer_id)
    form = VolunteerEditForm(
        request.POST or None,
        initial={
            "skills": list(volunteer.skills.all()),
            "is_talent": volunteer.is_talent,
            "talent_note": volunteer.talent_note,
            "weekly_hours": volunteer.weekly_hours,
            "is_active": volunteer.is_active,
        },
    )
    if request.method == "POST":
        if not may_manage(request):
            raise Forbidden("您的角色无权修改志愿者信息。")
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.volunteer_update(actor=request.user, volunteer=volunteer, **data)
            except DomainError as error:
                domain_message(request, error)
            else:
                messages.success(request, "已保存。")
                return redirect("volunteers:volunteer", volunteer_id=volunteer.pk)
        else:
            form_errors(request, form)
    signups = selectors.person_signups(scope=scope, person=volunteer.person)
    context = {
        "volunteer": volunteer,
        "form": form,
        "signups": signups,
        "hours": sum((s.hours for s in signups if s.state == "attended"), start=0),
        "may_manage": may_manage(request),
        "tab": "volunteers",
    }
    return render(request, "volunteers/volunteer_detail.html", context)


# --- teams -------------------------------------------------------------------------------------


@capability_required(VIEW)
def team_list(request: HttpRequest) -> HttpResponse:
    scope = view_scope(request)
    manage = may_manage(request)
    form = TeamForm(request.POST or None, scope_q=scope_for(request.user, MANAGE).path_q()) if manage else None
    if request.method == "POST":
        if form is None:
            raise Forbidden("您的角色无权组建队伍。")
        if form.is_valid():
            data = form.cleaned_data
            try:
                team = services.team_create(actor=request.user, **data)
            except DomainError as error:
                domain_message(request, error)
            else:
                messages.success(request, f"已组建 {team.name}。")
                return redirect("volunteers:team", team_id=team.pk)
        else:
            form_errors(request, form)
    kind = request.GET.get("kind", "")
    kind = kind if kind in TeamKind.values else ""
    context = {
        "teams": selectors.team_list(scope=scope, kind=kind),
        "kind": kind,
        "kinds": TeamKind.choices,
        "form": form,
        "tab": "teams",
    }
    return render(request, "volunteers/team_list.html", context)


@capability_required(VIEW)
def team_detail(request: HttpRequest, team_id: int) -> HttpResponse:
    scope = view_scope(request)
    team = selectors.team_get(scope=scope, team_id=team_id)
    if request.method == "POST":
        if not may_manage(request):
            raise Forbidden("您的角色无权调整队员。")
        form = MemberForm(request.POST)
        if form.is_valid():
            try:
                person = selectors.person_in_scope(
                    scope=scope_for(request.user, MANAGE), person_id=form.cleaned_data["person"]
                )
                services.team_member_add(
                    actor=request.user, team=team, person=person, as_leader=form.cleaned_data["as_leader"]
                )
            except DomainError as error:
                domain_message(request, error)
            else:
                messages.success(request, f"已将 {person.name} 加入队伍。")
                return redirect("volunteers:team", team_id=team.pk)
        else:
            form_errors(request, form)
    context = {
        "team": team,
        "members": selectors.team_members(scope=scope, team=team),
        "may_manage": may_manage(request) and team.dissolved_on is None,
        "tab": "teams",
    }
    if context["may_manage"]:
        context.update(person_search_context(request))
    return render(request, "volunteers/team_detail.html", context)


@require_POST
@capability_required(MANAGE, "您的角色无权调整队员。")
def team_member_remove(request: HttpRequest, team_id: int, person_id: int) -> HttpResponse:
    scope = scope_for(request.user, MANAGE)
    team = selectors.team_get(scope=scope, team_id=team_id)
    person = team.members.filter(pk=person_id).first()
    if person is None:
        raise NotFound()
    try:
        services.team_member_remove(actor=request.user, team=team, person=person)
    except DomainError as error:
        domain_message(request, error)
    else:
        messages.success(request, f"已将 {person.name} 移出队伍。")
    return redirect("volunteers:team", team_id=team.pk)


@require_POST
@capability_required(MANAGE, "您的角色无权解散队伍。")
def team_dissolve(request: HttpRequest, team_id: int) -> HttpResponse:
    team = selectors.team_get(scope=scope_for(request.user, MANAGE), team_id=team_id)
    try:
        services.team_dissolve(actor=request.user, team=team)
    except DomainError as error:
        domain_message(request, error)
    else:
        messages.success(request, f"{team.name} 已解散。")
    return redirect(reverse("volunteers:team", kwargs={"team_id": team.pk}))
