"""The SLA sweep: 80 % reminders, overdue marking and one level of escalation per missed deadline.

Set-based: each phase is one indexed scan for due rows, one UPDATE guarded by the same
condition, one bulk insert of events and one query for recipients; a second run finds
nothing to do (flags and ``remind_at = NULL`` record what was done).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Least

from grassroots.accounts.models import Role as AccountRole
from grassroots.accounts.models import User
from grassroots.audit.services import SYSTEM, audit_record
from grassroots.cases.models import AssignmentState, Case, CaseEvent
from grassroots.cases.workflow import OPEN_STATES, CaseState, EscalationLevel, Role, escalate
from grassroots.core import clock
from grassroots.notify.services import notify

logger = logging.getLogger(__name__)

# Until the departments report back, the handling clock runs.
HANDLING_STATES = [
    s.value
    for s in (
        CaseState.dispatched,
        CaseState.acknowledged,
        CaseState.rejected,
        CaseState.arbitration,
        CaseState.in_progress,
    )
]
_OPEN = [s.value for s in OPEN_STATES]
_FIELDS = ("pk", "number", "path", "level", "state", "acknowledge_by", "handle_by")


@dataclass(frozen=True)
class SweepReport:
    reminded: int
    overdue: int


def _level_paths(path: str) -> dict[EscalationLevel, str]:
    # 3205.320583.001.001.01: the district is the first two segments, the subdistrict the first three.
    parts = path.split(".")
    return {EscalationLevel.subdistrict: ".".join(parts[:3]), EscalationLevel.district: ".".join(parts[:2])}


def _officers_by_case(case_ids: list[int]) -> dict[int, list[int]]:
    rows = User.objects.filter(
        role=AccountRole.DEPARTMENT_OFFICER,
        is_active=True,
        department__case_assignments__case_id__in=case_ids,
        department__case_assignments__state__in=[AssignmentState.DISPATCHED, AssignmentState.ACKNOWLEDGED],
    ).values_list("department__case_assignments__case_id", "pk")
    found: dict[int, list[int]] = defaultdict(list)
    for case_id, user_id in rows:
        found[case_id].append(user_id)
    return found


def _remind(now: datetime) -> int:
    due = list(
        Case.objects.select_for_update(skip_locked=True)
        .filter(remind_at__lte=now, state__in=_OPEN)
        .values("pk", "number", "path", "state", "acknowledge_by", "handle_by", "remind_at")
    )
    if not due:
        return 0
    ids = [row["pk"] for row in due]
    Case.objects.filter(pk__in=ids, remind_at__lte=now).update(remind_at=None)
    officers = _officers_by_case(ids)
    events = []
    for row in due:
        deadline = row["acknowledge_by"] if row["state"] == CaseState.dispatched else row["handle_by"]
        what = "报到" if row["state"] == CaseState.dispatched else "办结"
        events.append(
            CaseEvent(
                case_id=row["pk"],
                at=now,
                actor_label="system",
                role=Role.system.value,
                action="remind",
                from_state=row["state"],
                to_state=row["state"],
                note=f"{what}时限将至",
            )
        )
        if officers.get(row["pk"]) and deadline is not None:
            notify(
                recipients=sorted(set(officers[row["pk"]])),
                kind="case.remind",
                subject=f"案件 {row['number']} {what}时限将至",
                body=f"请于 {deadline:%Y-%m-%d %H:%M} 前完成{what}。",
                idempotency_key=f"case:{row['pk']}:remind:{deadline.isoformat()}",
                payload={"case_id": row["pk"]},
                area_path=row["path"],
            )
    CaseEvent.objects.bulk_create(events)
    return len(due)


def _mark_overdue(now: datetime, missed: str, condition: Q, what: str) -> int:
    rows = list(Case.objects.select_for_update(skip_locked=True).filter(condition).values(*_FIELDS))
    if not rows:
        return 0
    ids = [row["pk"] for row in rows]
    # One level per missed deadline, never past the district.
    level = Least(F("level") + 1, Value(int(EscalationLevel.district)))
    Case.objects.filter(condition, pk__in=ids).update(**{missed: True}, overdue=True, level=level)
    return _announce(now, rows, what)


def _announce(now: datetime, rows: list[dict[str, Any]], what: str) -> int:
    targets: dict[int, tuple[EscalationLevel, str]] = {}
    for row in rows:
        level = escalate(EscalationLevel(row["level"]))
        targets[row["pk"]] = (level, _level_paths(row["path"])[level] if level else row["path"])
    users = User.objects.filter(
        is_active=True,
        area__path__in={path for _, path in targets.values()},
        role__in=[AccountRole.SUBDISTRICT_DISPATCHER, AccountRole.DISTRICT_LEADER],
    ).values_list("area__path", "pk")
    by_path: dict[str, list[int]] = defaultdict(list)
    for path, user_id in users:
        by_path[path].append(user_id)
    events = []
    for row in rows:
        level, path = targets[row["pk"]]
        events.append(
            CaseEvent(
                case_id=row["pk"],
                at=now,
                actor_label="system",
                role=Role.system.value,
                action="overdue",
                from_state=row["state"],
                to_state=row["state"],
                note=f"{what}超期，升级至{level.label}",
                payload={"level": int(level), "deadline": what},
            )
        )
        if by_path.get(path):
            notify(
                recipients=by_path[path],
                kind="case.overdue",
                subject=f"案件 {row['number']} {what}超期",
                body=f"案件 {row['number']} 已超过{what}时限，升级至{level.label}督办。",
                idempotency_key=f"case:{row['pk']}:overdue:{what}:{level.name}",
                payload={"case_id": row["pk"], "level": int(level)},
                area_path=row["path"],
            )
    CaseEvent.objects.bulk_create(events)
    return len(rows)


def sla_sweep(*, now: datetime | None = None) -> SweepReport:
    """One pass over open cases; safe to run as often as wanted, and concurrently."""
    now = now or clock.now()
    with transaction.atomic():
        reminded = _remind(now)
        overdue = _mark_overdue(
            now,
            "acknowledge_missed",
            Q(state=CaseState.dispatched.value, acknowledge_by__lt=now, acknowledge_missed=False),
            "报到",
        )
        overdue += _mark_overdue(
            now, "handle_missed", Q(state__in=HANDLING_STATES, handle_by__lt=now, handle_missed=False), "办结"
        )
        if reminded or overdue:
            audit_record(
                actor=SYSTEM, action="cases.sla_sweep", detail={"reminded": reminded, "overdue": overdue}, at=now
            )
    if reminded or overdue:
        logger.info("sla sweep: %d reminded, %d overdue", reminded, overdue)
    return SweepReport(reminded, overdue)
