"""Reads of cases, always from the caller's place in the loop; out of reach is ``NotFound``.

``cases`` sits above ``accounts``, so these take the user and turn it into a filter here:
residents see their own reports, department officers the cases sent to their department,
everyone else with ``cases.view`` the cases under their area path.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from grassroots.accounts.models import Role as AccountRole
from grassroots.accounts.scopes import can, scope_for
from grassroots.cases.coords import distance_m
from grassroots.cases.models import AssignmentState, Case, CaseAssignment, CaseEvent, Category
from grassroots.cases.workflow import Action, CaseState, Role, allowed_actions
from grassroots.core.errors import NotFound

# The workflow roles an account may act in; the first is the one the API uses by default.
ACTING_ROLES: Mapping[str, tuple[Role, ...]] = {
    AccountRole.RESIDENT: (Role.resident,),
    AccountRole.GRID_WORKER: (Role.grid_worker,),
    AccountRole.COMMUNITY_WORKER: (Role.community,),
    AccountRole.SUBDISTRICT_DISPATCHER: (Role.dispatcher,),
    AccountRole.DEPARTMENT_OFFICER: (Role.department,),
    AccountRole.ADMIN: (Role.dispatcher, Role.community, Role.grid_worker),
}
DUPLICATE_RADIUS_M = 50.0
DUPLICATE_WINDOW = timedelta(days=7)
_CLOSED_OUT = [CaseState.merged.value, CaseState.cancelled.value]


def acting_roles(user: Any) -> tuple[Role, ...]:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return ()
    return ACTING_ROLES.get(user.role, ())


def _department_q(department_id: int) -> Q:
    sent = CaseAssignment.objects.filter(case_id=OuterRef("pk"), department_id=department_id)
    return Q(Exists(sent))


def visible_q(user: Any) -> Q:
    """The cases ``user`` may read, as one filter (nothing at all for users without a case capability)."""
    nothing = Q(pk__in=[])
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return nothing
    if user.role == AccountRole.ADMIN:
        return Q()
    if user.role == AccountRole.RESIDENT:
        return Q(reporter_id=user.pk)  # their own reports, wherever they are
    if user.role == AccountRole.DEPARTMENT_OFFICER:
        scope = scope_for(user, "cases.department")
        return _department_q(scope.department_id) if scope.department_id is not None else nothing
    scope = scope_for(user, "cases.view")
    return scope.path_q("path") if scope.area_path is not None else nothing


def may_report(user: Any) -> bool:
    """Residents report anywhere by their role; workers need ``cases.report``."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return bool(user.role == AccountRole.RESIDENT or can(user, "cases.report"))


def may_act(user: Any, role: Role, case: Case) -> bool:
    """Whether ``user`` acting as ``role`` handles this case at all (the workflow decides the rest)."""
    if role not in acting_roles(user):
        return False
    if user.role == AccountRole.ADMIN:
        return True
    if role is Role.resident:
        return case.reporter_id == user.pk
    if role is Role.department:
        scope = scope_for(user, "cases.department")
        return (
            scope.department_id is not None
            and CaseAssignment.objects.filter(case=case, department_id=scope.department_id).exists()
        )
    capability = {Role.grid_worker: "cases.view", Role.community: "cases.handle", Role.dispatcher: "cases.dispatch"}
    return scope_for(user, capability[role]).covers_path(case.path)


def case_queryset(*, user: Any) -> QuerySet[Case]:
    return Case.objects.filter(visible_q(user)).select_related("category", "grid")


def case_get(*, user: Any, case_id: int) -> Case:
    case = case_queryset(user=user).filter(pk=case_id).first()
    if case is None:
        raise NotFound("未找到该案件，或您无权查看。")
    return case


@dataclass(frozen=True)
class CasePage:
    items: list[Case]
    total: int


def case_list(
    *,
    user: Any,
    state: str | None = None,
    overdue: bool | None = None,
    category_id: int | None = None,
    inbox: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> CasePage:
    """A page of the caller's cases, newest first. ``inbox``: a department's open assignments only."""
    rows = case_queryset(user=user)
    if state:
        rows = rows.filter(state=state)
    if overdue is not None:
        rows = rows.filter(overdue=overdue)
    if category_id is not None:
        rows = rows.filter(category_id=category_id)
    if inbox and user.department_id is not None:
        pending = CaseAssignment.objects.filter(
            case_id=OuterRef("pk"),
            department_id=user.department_id,
            state__in=[AssignmentState.DISPATCHED, AssignmentState.ACKNOWLEDGED],
        )
        rows = rows.filter(Exists(pending))
    total = rows.count()
    return CasePage(list(rows[offset : offset + limit]), total)


def case_timeline(*, user: Any, case_id: int) -> list[CaseEvent]:
    case = case_get(user=user, case_id=case_id)
    return list(CaseEvent.objects.filter(case=case).select_related("department").order_by("at", "id"))


def case_assignments(*, case: Case) -> list[CaseAssignment]:
    return list(CaseAssignment.objects.filter(case=case).select_related("department").order_by("id"))


def department_actions(case: Case, assignment: CaseAssignment | None) -> list[Action]:
    """What a department may do next with its own part of a case (the service checks again).

    With two departments on one case, one may have reported in while the other has not: the
    department's own assignment decides, not the case's state alone.
    """
    if assignment is None:
        return []
    state = CaseState(case.state)
    if state not in (CaseState.dispatched, CaseState.acknowledged, CaseState.in_progress):
        return []
    if assignment.state == AssignmentState.DISPATCHED:
        return [Action.acknowledge, Action.reject]
    if assignment.state == AssignmentState.ACKNOWLEDGED:
        return [Action.resolve] if state is CaseState.in_progress else [Action.start]
    return []


def caller_actions(*, user: Any, case: Case) -> list[tuple[Role, Action]]:
    """The buttons to offer: every (role, action) the table allows and the caller may act on."""
    state = CaseState(case.state)
    found: list[tuple[Role, Action]] = []
    for role in acting_roles(user):
        if not may_act(user, role, case):
            continue
        if role is Role.department:
            own = CaseAssignment.objects.filter(case=case, department_id=user.department_id).first()
            found += [(role, action) for action in department_actions(case, own)]
        else:
            found += [(role, action) for action in allowed_actions(state, role)]
    return found


def duplicate_candidates(
    *, category: Category, lon: float | None, lat: float | None, now: datetime, exclude_id: int | None = None
) -> list[Case]:
    """Live cases of the same category within 50 m reported in the last 7 days, nearest first."""
    if lon is None or lat is None:
        return []
    d_lat = DUPLICATE_RADIUS_M / 111_000 * 1.1  # a box a little larger than the circle; exact distance below
    d_lon = d_lat / max(math.cos(math.radians(lat)), 0.01)
    rows = (
        Case.objects.filter(
            category=category,
            created_at__gte=now - DUPLICATE_WINDOW,
            created_at__lte=now,
            lat__range=(lat - d_lat, lat + d_lat),
            lon__range=(lon - d_lon, lon + d_lon),
        )
        .exclude(state__in=_CLOSED_OUT)
        .exclude(pk=exclude_id)
    )
    near = [(distance_m(lon, lat, c.lon, c.lat), c) for c in rows if c.lon is not None and c.lat is not None]
    return [c for d, c in sorted(near, key=lambda pair: pair[0]) if d <= DUPLICATE_RADIUS_M]
