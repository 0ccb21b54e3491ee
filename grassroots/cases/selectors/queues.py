"""Reads behind the staff pages: the triage queue, a department's inbox, the verify list and the case list.

Every read starts from ``visible_q`` (the caller's place in the loop); the queue also narrows to
the caller's triage capability. Deadline colours are plain maths on the stored deadline columns
(``workflow.status``): green before the 80 % reminder, amber from it on, red once missed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import models as m
from django.db.models import Count, Q, QuerySet

from grassroots.accounts.models import Role as AccountRole
from grassroots.accounts.scopes import can, scope_for
from grassroots.cases.models import AssignmentState, Case, CaseAssignment, Level
from grassroots.cases.selectors.cases import visible_q
from grassroots.cases.workflow import OPEN_STATES, TZ, CaseState, SlaStatus, status
from grassroots.core.errors import Forbidden
from grassroots.places.models import Area, Building

OPEN = [s.value for s in OPEN_STATES]

# --- the triage queue ------------------------------------------------------------------------


@dataclass(frozen=True)
class Tab:
    key: str
    label: str
    q: Q


# A dispatcher's own level is the subdistrict; every case starts at the community's, so for a
# community worker (and an administrator) "escalated" means escalated beyond the community.
ESCALATED_FROM = {AccountRole.SUBDISTRICT_DISPATCHER: Level.SUBDISTRICT}


def escalated_threshold(user: Any) -> int:
    """The escalation level a case must have reached to count as escalated to the caller's level."""
    return int(ESCALATED_FROM.get(user.role, Level.SUBDISTRICT))


def queue_tabs(user: Any) -> list[Tab]:
    tabs = [
        Tab("pending", "待受理", Q(state__in=[CaseState.submitted.value, CaseState.reopened.value])),
        Tab("rejected", "退单待处理", Q(state=CaseState.rejected.value)),
    ]
    if can(user, "cases.dispatch"):
        tabs.append(Tab("arbitration", "待仲裁", Q(state=CaseState.arbitration.value)))
    tabs += [
        Tab("overdue", "超期", Q(overdue=True, state__in=OPEN)),
        Tab("escalated", "已升级到本级", Q(level__gte=escalated_threshold(user), state__in=OPEN)),
        Tab("all", "全部", Q(state__in=OPEN)),
    ]
    return tabs


def queue_scope_q(user: Any) -> Q:
    """Cases under the caller's triage area (``cases.handle`` or ``cases.dispatch``), within what they may read."""
    scopes = [scope_for(user, cap) for cap in ("cases.dispatch", "cases.handle") if can(user, cap)]
    if not scopes:
        raise Forbidden("只有社区工作者和街道调度员可以查看受理队列。")
    # The wider of the two areas (a dispatcher's subdistrict covers a community).
    widest = min(scopes, key=lambda s: len(s.area_path) if s.area_path is not None else 10**6)
    return visible_q(user) & widest.path_q("path")


def next_due() -> m.Case:
    """The deadline that matters now: report-in while waiting for a department, handling afterwards."""
    return m.Case(
        m.When(state=CaseState.dispatched.value, then=m.F("acknowledge_by")),
        default=m.F("handle_by"),
        output_field=m.DateTimeField(),
    )


def urgency_order(rows: QuerySet[Case]) -> QuerySet[Case]:
    """Overdue first, then the earliest deadline, then the oldest."""
    return rows.annotate(due=next_due()).order_by(
        m.F("overdue").desc(), m.F("due").asc(nulls_last=True), "created_at", "id"
    )


def apply_filters(
    rows: QuerySet[Case],
    *,
    category_id: int | None = None,
    grid_id: int | None = None,
    channel: str = "",
    state: str = "",
    overdue: bool | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> QuerySet[Case]:
    if category_id is not None:
        rows = rows.filter(Q(category_id=category_id) | Q(category__parent_id=category_id))
    if grid_id is not None:
        rows = rows.filter(grid_id=grid_id)
    if channel:
        rows = rows.filter(channel=channel)
    if state:
        rows = rows.filter(state=state)
    if overdue is not None:
        rows = rows.filter(overdue=overdue)
    if date_from is not None:
        rows = rows.filter(created_at__gte=datetime.combine(date_from, time.min, tzinfo=TZ))
    if date_to is not None:
        rows = rows.filter(created_at__lt=datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=TZ))
    return rows


def queue(user: Any, *, tab: str, **filters: Any) -> tuple[list[Tab], Tab, dict[str, int], QuerySet[Case]]:
    """The queue's tabs, the chosen one, every tab's count (one query) and the chosen tab's rows."""
    tabs = queue_tabs(user)
    chosen = next((t for t in tabs if t.key == tab), tabs[0])
    base = apply_filters(Case.objects.filter(queue_scope_q(user)), **filters)
    counts = base.aggregate(**{t.key: Count("id", filter=t.q) for t in tabs})
    rows = urgency_order(base.filter(chosen.q)).select_related("category", "grid", "building")
    return tabs, chosen, {k: v or 0 for k, v in counts.items()}, rows


def grids_for(user: Any, capability: str) -> list[Area]:
    scope = scope_for(user, capability)
    return list(Area.objects.grids().filter(scope.path_q("path")).select_related("parent").order_by("path"))


# --- the case list ---------------------------------------------------------------------------


def all_cases(user: Any, **filters: Any) -> QuerySet[Case]:
    rows = apply_filters(Case.objects.filter(visible_q(user)), **filters)
    return rows.select_related("category", "grid").order_by("-created_at", "-id")


# --- the verify list -------------------------------------------------------------------------


def verify_cases(user: Any) -> QuerySet[Case]:
    """Resolved or verifying cases in the worker's grids, the longest waiting first."""
    scope = scope_for(user, "cases.view")
    return (
        Case.objects.filter(visible_q(user), scope.path_q("path"))
        .filter(state__in=[CaseState.resolved.value, CaseState.verifying.value])
        .select_related("category", "grid", "building")
        .order_by("updated_at", "id")
    )


def patrol_buildings(user: Any) -> list[Building]:
    scope = scope_for(user, "cases.report")
    return list(
        Building.objects.in_scope(scope).select_related("compound", "grid").order_by("compound__name", "path", "name")
    )


# --- a department's inbox --------------------------------------------------------------------

INBOX_TABS: list[tuple[str, str, str]] = [
    ("dispatched", "待报到", AssignmentState.DISPATCHED),
    ("acknowledged", "处置中", AssignmentState.ACKNOWLEDGED),
    ("resolved", "已办结", AssignmentState.RESOLVED),
    ("rejected", "已退单", AssignmentState.REJECTED),
]
OPEN_TABS = ("dispatched", "acknowledged")
WITH_DEPARTMENTS = [CaseState.dispatched.value, CaseState.acknowledged.value, CaseState.in_progress.value]


def inbox(user: Any, *, tab: str) -> tuple[str, dict[str, int], QuerySet[CaseAssignment]]:
    """The department's assignments in one state, with every tab's count (one query)."""
    scope = scope_for(user, "cases.department")
    rows = CaseAssignment.objects.all()
    if scope.department_id is not None:
        rows = rows.filter(department_id=scope.department_id)
    elif not scope.is_everything:
        rows = rows.none()
    # Open parts only while the case is still with the departments (a cancelled case leaves the inbox).
    with_departments = Q(case__state__in=WITH_DEPARTMENTS)
    tabs = {key: Q(state=state) & (with_departments if key in OPEN_TABS else Q()) for key, _, state in INBOX_TABS}
    chosen = tab if tab in tabs else "dispatched"
    counts = rows.aggregate(**{key: Count("id", filter=q) for key, q in tabs.items()})
    listed = (
        rows.filter(tabs[chosen])
        .select_related("case", "case__category", "case__grid", "department")
        .annotate(
            due=m.Case(
                m.When(state=AssignmentState.DISPATCHED, then=m.F("case__acknowledge_by")),
                default=m.F("case__handle_by"),
                output_field=m.DateTimeField(),
            )
        )
    )
    if chosen in ("dispatched", "acknowledged"):
        listed = listed.order_by(m.F("due").asc(nulls_last=True), "dispatched_at", "id")
    else:
        listed = listed.order_by("-dispatched_at", "-id")
    return chosen, {k: v or 0 for k, v in counts.items()}, listed


@dataclass(frozen=True)
class Deadline:
    """A deadline as the inbox shows it: a colour and a countdown."""

    due: datetime | None
    sla: SlaStatus | None
    colour: str  # green, amber, red, or "" without a deadline
    countdown: str

    @property
    def label(self) -> str:
        return self.sla.label if self.sla is not None else ""


def _span_words(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    if minutes < 60:
        return f"{max(minutes, 1)} 分钟"
    if minutes < 48 * 60:
        return f"{minutes // 60} 小时"
    return f"{minutes // (24 * 60)} 天"


def _countdown(now: datetime, due: datetime) -> str:
    return f"已超期 {_span_words(now - due)}" if now > due else f"剩余 {_span_words(due - now)}"


COLOURS = {SlaStatus.on_time: "green", SlaStatus.due_soon: "amber", SlaStatus.overdue: "red"}


def deadline_of(assignment: CaseAssignment, now: datetime) -> Deadline:
    """Report-in deadline while dispatched, handling deadline once acknowledged; none once finished."""
    case = assignment.case
    if assignment.state == AssignmentState.DISPATCHED:
        due, missed = case.acknowledge_by, case.acknowledge_missed
    elif assignment.state == AssignmentState.ACKNOWLEDGED:
        due, missed = case.handle_by, case.handle_missed
    else:
        return Deadline(None, None, "", "")
    if due is None:
        return Deadline(None, None, "", "")
    start = case.dispatched_at or assignment.dispatched_at
    sla = status(now, start, due)
    if missed:
        sla = SlaStatus.overdue
    return Deadline(due, sla, COLOURS[sla], _countdown(now, due))


def case_deadline(case: Case, now: datetime) -> Deadline:
    """The same colours for a case as a whole (queue and case page)."""
    if case.state == CaseState.dispatched.value:
        due, missed = case.acknowledge_by, case.acknowledge_missed
    elif case.state in (CaseState.acknowledged.value, CaseState.in_progress.value):
        due, missed = case.handle_by, case.handle_missed
    else:
        due, missed = None, False
    if due is None or case.dispatched_at is None:
        return Deadline(None, None, "red" if case.overdue else "", "已超期" if case.overdue else "")
    sla = SlaStatus.overdue if missed or case.overdue else status(now, case.dispatched_at, due)
    return Deadline(due, sla, COLOURS[sla], _countdown(now, due))
