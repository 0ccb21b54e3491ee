"""What waits for a user in the case loop: the counts the home page shows (one query per role)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q

from grassroots.accounts.models import Role as AccountRole
from grassroots.accounts.scopes import can, scope_for
from grassroots.cases.models import AssignmentState, Case, CaseAssignment
from grassroots.cases.workflow import CaseState


@dataclass(frozen=True)
class TodoItem:
    label: str
    count: int
    url_name: str
    query: str = ""  # appended to the URL, e.g. "?tab=overdue"
    urgent: bool = False  # shown in red when not zero


S = CaseState


def _counts(rows: Any, **filters: Q) -> dict[str, int]:
    return rows.aggregate(**{name: Count("pk", filter=q) for name, q in filters.items()})


def todo_for(user: Any) -> list[TodoItem]:
    """The caller's waiting work; empty for roles outside the loop."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    if user.role == AccountRole.RESIDENT:
        mine = Case.objects.filter(reporter_id=user.pk)
        c = _counts(
            mine,
            open=~Q(state__in=[S.closed, S.merged, S.cancelled]),
            rate=Q(state=S.closed, evaluated_since_close=False),
        )
        return [
            TodoItem("办理中的诉求", c["open"], "cases:h5_mine"),
            TodoItem("待评价", c["rate"], "cases:h5_mine", urgent=True),
        ]
    if user.role == AccountRole.DEPARTMENT_OFFICER:
        department_id = scope_for(user, "cases.department").department_id
        if department_id is None:
            return []
        assigned = CaseAssignment.objects.filter(department_id=department_id)
        c = _counts(
            assigned,
            dispatched=Q(state=AssignmentState.DISPATCHED),
            working=Q(state=AssignmentState.ACKNOWLEDGED),
            overdue=Q(state__in=[AssignmentState.DISPATCHED, AssignmentState.ACKNOWLEDGED], case__overdue=True),
        )
        return [
            TodoItem("待报到", c["dispatched"], "cases:inbox"),
            TodoItem("处置中", c["working"], "cases:inbox", "?tab=working"),
            TodoItem("已超期", c["overdue"], "cases:inbox", urgent=True),
        ]
    items: list[TodoItem] = []
    if can(user, "cases.handle") or can(user, "cases.dispatch"):
        capability = "cases.dispatch" if can(user, "cases.dispatch") else "cases.handle"
        rows = Case.objects.filter(scope_for(user, capability).path_q("path"))
        c = _counts(
            rows,
            new=Q(state__in=[S.submitted, S.reopened]),
            rejected=Q(state=S.rejected),
            arbitration=Q(state=S.arbitration),
            overdue=Q(overdue=True) & ~Q(state__in=[S.closed, S.merged, S.cancelled]),
        )
        items += [
            TodoItem("待受理", c["new"], "cases:queue"),
            TodoItem("退单待处理", c["rejected"], "cases:queue", "?tab=rejected"),
        ]
        if can(user, "cases.dispatch"):
            items.append(TodoItem("待仲裁", c["arbitration"], "cases:queue", "?tab=arbitration"))
        items.append(TodoItem("已超期", c["overdue"], "cases:queue", "?tab=overdue", urgent=True))
    elif user.role == AccountRole.GRID_WORKER:
        rows = Case.objects.filter(scope_for(user, "cases.view").path_q("path"))
        waiting = rows.filter(state__in=[S.resolved, S.verifying]).count()
        items.append(TodoItem("待核实", waiting, "cases:verify_list"))
    return items
