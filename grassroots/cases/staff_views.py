"""Staff pages of the case loop (吹哨报到 / 接诉即办): queue, case page, inbox, patrol, verify list, case list.

Thin, like ``views.py``: the capability is checked before anything is looked up (403 for everyone
else), a case out of the caller's reach is 404 (``NotFound`` from the selectors), reads go through
selectors and every step through ``case_act``/``case_submit``, which audit it. A step acted on a
stale version shows the fresh case with a clear message, never a 500.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.contrib import messages
from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from grassroots.accounts.decorators import capability_required
from grassroots.accounts.scopes import scope_for
from grassroots.cases import selectors
from grassroots.cases.models import Case, CaseAssignment, CaseEvent, CasePhoto, Channel, PhotoStage
from grassroots.cases.selectors import queues
from grassroots.cases.selectors.routing import Suggestion, routing_suggest
from grassroots.cases.services import Conflict, case_act, case_submit
from grassroots.cases.services.photos import photo_upload
from grassroots.cases.services.routing import case_route
from grassroots.cases.staff_forms import (
    FIELD_NAMES,
    ROUTED_ACTIONS,
    ActionForm,
    ListFilterForm,
    PatrolForm,
    QueueFilterForm,
)
from grassroots.cases.workflow import ACTION_LABELS, Action, CaseState, Command, Role, WhistleKind
from grassroots.core import clock
from grassroots.core.errors import DomainError, Forbidden

logger = logging.getLogger(__name__)
View = Callable[..., HttpResponse]
PER_PAGE = 20
CONFLICT_MESSAGE = "该案件刚刚已被他人处理，下面已显示最新状态，请确认后再操作。"
# Timeline rows that are not workflow actions.
EVENT_LABELS = {"reclassify": "更改事项", "submit": "上报", "remind": "时限提醒", "overdue": "超期", "escalate": "升级"}


def _paginate(request: HttpRequest, rows: Any) -> tuple[Page[Any], str]:
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return page, query.urlencode()


def _safe_next(request: HttpRequest, value: str) -> str | None:
    if value and url_has_allowed_host_and_scheme(value, allowed_hosts={request.get_host()}):
        return value
    return None


# --- the triage queue ---------------------------------------------------------------------------


@capability_required("cases.handle", "cases.dispatch", message="只有社区工作者和街道调度员可以查看受理队列。")
def queue(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    now = clock.now()
    filters = QueueFilterForm(request.GET or None, grids=queues.grids_for(user, "cases.view"))
    values = filters.values() if filters.is_bound else {}
    tabs, chosen, counts, rows = queues.queue(user, tab=request.GET.get("tab", ""), **values)
    page, query = _paginate(request, rows)
    tab_query = request.GET.copy()
    for key in ("tab", "page"):
        tab_query.pop(key, None)
    context = {
        "tabs": [(t, counts[t.key]) for t in tabs],
        "chosen": chosen,
        "filters": filters,
        "page": page,
        "rows": [(case, queues.case_deadline(case, now)) for case in page.object_list],
        "query": query,
        "tab_query": tab_query.urlencode(),
    }
    return render(request, "cases/staff/queue.html", context)


# --- the case page ------------------------------------------------------------------------------


def _own_assignment(user: Any, case: Case) -> CaseAssignment | None:
    if user.department_id is None:
        return None
    return CaseAssignment.objects.filter(case=case, department_id=user.department_id).first()


def _offered(user: Any, case: Case) -> list[tuple[Role, Action]]:
    """The steps to offer, one per action (the first role that may take it)."""
    offered: list[tuple[Role, Action]] = []
    seen: set[Action] = set()
    for role, action in selectors.caller_actions(user=user, case=case):
        if action not in seen and action is not Action.evaluate:
            seen.add(action)
            offered.append((role, action))
    return offered


def _duty(case: Case) -> Any:
    try:
        return selectors.duty_for(category=case.category, area=case.grid)
    except DomainError:
        return None


def _forms(user: Any, case: Case, bound: ActionForm | None) -> list[ActionForm]:
    duty = None
    result = []
    for role, action in _offered(user, case):
        if bound is not None and bound.step is action:
            result.append(bound)
            continue
        departments: list[int] = []
        if action in (Action.whistle, Action.re_dispatch, Action.arbitrate):
            duty = duty or _duty(case)
            departments = [d.pk for d in duty.departments] if duty else []
        result.append(
            ActionForm(
                action=action,
                role=role,
                version=case.version,
                departments=departments,
                category=case.category_id,
                case_path=case.path,
            )
        )
    return result


def _suggestion(user: Any, case: Case) -> Suggestion | None:
    """The smart-dispatch suggestions; a failure only hides the panel (dispatch works without it)."""
    try:
        return routing_suggest(user=user, case=case)
    except DomainError:
        raise
    except Exception:
        logger.exception("routing suggestion failed for case %s", case.pk)
        return None


def _photos_by_stage(case: Case) -> list[tuple[str, list[CasePhoto]]]:
    photos = list(CasePhoto.objects.filter(case=case).order_by("id"))
    return [
        (label, [p for p in photos if p.stage == stage])
        for stage, label in PhotoStage.choices
        if any(p.stage == stage for p in photos)
    ]


def _timeline(case: Case) -> list[dict[str, Any]]:
    events = CaseEvent.objects.filter(case=case).select_related("department").order_by("at", "id")
    rows = []
    for event in events:
        try:
            label = Action(event.action).label
        except ValueError:
            label = EVENT_LABELS.get(event.action, event.action)
        try:
            role = Role(event.role).label
        except ValueError:
            role = event.role
        try:
            to_state = CaseState(event.to_state).label if event.to_state else ""
        except ValueError:
            to_state = event.to_state
        rows.append({"event": event, "label": label, "role": role, "to_state": to_state})
    return rows


def _render_case(
    request: HttpRequest, case: Case, now: datetime, *, bound: ActionForm | None = None, status: int = 200
) -> HttpResponse:
    user: Any = request.user
    duplicates: list[Case] = []
    if case.state not in (CaseState.merged.value, CaseState.cancelled.value, CaseState.closed.value):
        found = selectors.duplicate_candidates(
            category=case.category, lon=case.lon, lat=case.lat, now=now, exclude_id=case.pk
        )
        visible = set(
            Case.objects.filter(selectors.visible_q(user), pk__in=[c.pk for c in found]).values_list("pk", flat=True)
        )
        duplicates = [c for c in found if c.pk in visible]
    forms = _forms(user, case, bound)
    duty = _duty(case) if any(f.step in (Action.whistle, Action.re_dispatch) for f in forms) else None
    routing = _suggestion(user, case) if any(f.step in ROUTED_ACTIONS for f in forms) else None
    context = {
        "case": case,
        "state_label": CaseState(case.state).label,
        "deadline": queues.case_deadline(case, now),
        "photos": _photos_by_stage(case),
        "assignments": selectors.case_assignments(case=case),
        "timeline": _timeline(case),
        "duplicates": duplicates,
        "can_merge": any(f.step is Action.merge for f in forms),
        "merge_version": case.version,
        "merge_role": next((f.step_role.value for f in forms if f.step is Action.merge), ""),
        "forms": forms,
        "duty": duty,
        "routing": routing,
        "whistle_kind_label": WhistleKind(case.whistle_kind).label if case.whistle_kind else "",
    }
    return render(request, "cases/staff/case.html", context, status=status)


def _target_case(user: Any, value: str) -> int | None:
    value = value.strip()
    rows = Case.objects.filter(selectors.visible_q(user))
    found = rows.filter(number=value).values_list("pk", flat=True).first()
    if found is None and value.isdigit():
        found = rows.filter(pk=int(value)).values_list("pk", flat=True).first()
    return found


def _act(request: HttpRequest, case: Case, now: datetime) -> HttpResponse:
    user: Any = request.user
    try:
        action, role = Action(request.POST.get("action", "")), Role(request.POST.get("role", ""))
    except ValueError:
        raise DomainError("未知的操作。") from None
    posted_version = request.POST.get("expected_version", "")
    if posted_version != str(case.version):
        messages.error(request, CONFLICT_MESSAGE)
        return _render_case(request, case, now, status=409)
    if (role, action) not in _offered(user, case):
        raise Forbidden(f"您现在不能对该案件执行「{ACTION_LABELS[action]}」。")
    form = ActionForm(request.POST, request.FILES, action=action, role=role, version=case.version, case_path=case.path)
    if not form.is_valid():
        return _render_case(request, case, now, bound=form, status=400)
    data = form.cleaned_data
    target = None
    if action is Action.merge:
        target = _target_case(user, data["target"])
        if target is None:
            form.add_error("target", "未找到该案件，或您无权查看。")
            return _render_case(request, case, now, bound=form, status=400)
    try:
        photo_ids = tuple(
            str(photo_upload(actor=user, upload=f, name=f.name, size=f.size).pk) for f in data.get("photos", [])
        )
        command = Command(
            action=action,
            role=role,
            reason=data.get("reason", ""),
            result=data.get("result", ""),
            photos=photo_ids,
            target_case_id=target,
            departments=tuple(d.pk for d in data.get("departments", [])),
        )
        if action in ROUTED_ACTIONS:
            # The same suggestions the page showed (same model, same text), recorded with the choice.
            case_route(
                actor=user,
                role=role,
                case_id=case.pk,
                expected_version=data["expected_version"],
                command=command,
                category=data.get("category"),
                suggestion=_suggestion(user, case),
                now=now,
            )
        else:
            case_act(
                actor=user,
                role=role,
                case_id=case.pk,
                expected_version=data["expected_version"],
                command=command,
                now=now,
            )
    except Conflict:
        messages.error(request, CONFLICT_MESSAGE)
        fresh = selectors.case_get(user=user, case_id=case.pk)
        return _render_case(request, fresh, now, status=409)
    except Forbidden:
        raise
    except DomainError as exc:
        field = FIELD_NAMES.get(exc.field or "")
        form.add_error(field if field in form.fields else None, exc.message)
        return _render_case(request, case, now, bound=form, status=400)
    messages.success(request, f"案件 {case.number} 已{action.label}。")
    return redirect(_safe_next(request, data.get("next") or "") or reverse("cases:case", args=[case.pk]))


@capability_required("cases.view", "cases.department")
def case_page(request: HttpRequest, case_id: int) -> HttpResponse:
    case = selectors.case_get(user=request.user, case_id=case_id)
    now = clock.now()
    if request.method == "POST":
        return _act(request, case, now)
    return _render_case(request, case, now)


# --- a department's inbox -----------------------------------------------------------------------


@capability_required("cases.department", message="只有职能部门可以查看部门待办。")
def inbox(request: HttpRequest) -> HttpResponse:
    now = clock.now()
    chosen, counts, rows = queues.inbox(request.user, tab=request.GET.get("tab", ""))
    page, query = _paginate(request, rows)
    context = {
        "tabs": [(key, label, counts[key]) for key, label, _ in queues.INBOX_TABS],
        "chosen": chosen,
        "page": page,
        "query": query,
        "rows": [(a, queues.deadline_of(a, now)) for a in page.object_list],
        "here": request.get_full_path(),
    }
    return render(request, "cases/staff/inbox.html", context)


# --- patrol and verification --------------------------------------------------------------------


@capability_required("cases.report", message="只有网格员和社区工作者可以巡查上报。")
def patrol(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    form = PatrolForm(request.POST or None, request.FILES or None, buildings=queues.patrol_buildings(user))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            photo_ids = [photo_upload(actor=user, upload=f, name=f.name, size=f.size).pk for f in data["photos"]]
            result = case_submit(
                actor=user,
                scope=scope_for(user, "cases.report"),
                channel=Channel.GRID_PATROL,
                category=data["category"],
                description=data["description"],
                lon=data["lon"] if data["building"] is None else None,
                lat=data["lat"] if data["building"] is None else None,
                building=data["building"],
                photos=photo_ids,
                address_text=data["address_text"],
            )
        except DomainError as exc:  # Forbidden too: a point outside the worker's area is a field problem here
            field = {"location": "building", "photos": "photos", "description": "description"}.get(exc.field or "")
            form.add_error(field if field in form.fields else "building", exc.message)
        else:
            messages.success(request, f"已上报，案件编号 {result.case.number}。")
            if result.duplicates:
                numbers = "、".join(c.number or "" for c in result.duplicates[:5])
                messages.warning(request, f"附近 7 天内有同类案件（{numbers}），请社区核对是否重复。")
            return redirect("cases:case", case_id=result.case.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "cases/staff/patrol.html", {"form": form}, status=status)


@capability_required("cases.report", message="只有网格员和社区工作者可以核实案件。")
def verify_list(request: HttpRequest) -> HttpResponse:
    now = clock.now()
    page, query = _paginate(request, queues.verify_cases(request.user))
    context = {"page": page, "query": query, "now": now}
    return render(request, "cases/staff/verify_list.html", context)


# --- every case in view -------------------------------------------------------------------------


@capability_required("cases.view", "cases.department")
def case_list(request: HttpRequest) -> HttpResponse:
    now = clock.now()
    filters = ListFilterForm(request.GET or None)
    values = filters.values() if filters.is_bound else {}
    page, query = _paginate(request, queues.all_cases(request.user, **values))
    context = {
        "filters": filters,
        "page": page,
        "query": query,
        "rows": [(case, queues.case_deadline(case, now)) for case in page.object_list],
    }
    return render(request, "cases/staff/list.html", context)
