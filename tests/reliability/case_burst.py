"""The child of the case-burst drill: ``python -m tests.reliability.case_burst seed|burst|check``.

``burst N`` walks cases ``drill-0 … drill-(N-1)`` through the whole loop with the real services
(submit, whistle, acknowledge, start, resolve, begin verification, verify pass, evaluate) and
prints ``acked <case id> <state>`` after each step has committed. It resumes from what the
database holds: a case is found by its external reference, and its next step follows from its
state, so a rerun after a kill finishes the burst without repeating a committed step.
``check N`` prints what the drill asserts on, as JSON.
"""

from __future__ import annotations

import json
import sys
from itertools import pairwise

import django

django.setup()

from django.db.models import Count  # noqa: E402

from grassroots.accounts.models import Role as AccountRole  # noqa: E402
from grassroots.accounts.models import User  # noqa: E402
from grassroots.audit.services import SYSTEM  # noqa: E402
from grassroots.cases import selectors, services  # noqa: E402
from grassroots.cases.models import Case, CaseAssignment, CaseEvent, Category  # noqa: E402
from grassroots.cases.workflow import Action, CaseState, Command, Rating, case_deadlines, reminder_at  # noqa: E402
from grassroots.core.scope import Scope  # noqa: E402
from grassroots.notify.models import Notification  # noqa: E402
from tests.factories import centre  # noqa: E402

CHANNEL = "hotline_12345"
# The loop, as (state the case is in, who acts, what they do); the last step leaves it closed and rated.
STEPS: list[tuple[str, str, Action]] = [
    (CaseState.submitted, AccountRole.COMMUNITY_WORKER, Action.whistle),
    (CaseState.dispatched, AccountRole.DEPARTMENT_OFFICER, Action.acknowledge),
    (CaseState.acknowledged, AccountRole.DEPARTMENT_OFFICER, Action.start),
    (CaseState.in_progress, AccountRole.DEPARTMENT_OFFICER, Action.resolve),
    (CaseState.resolved, AccountRole.GRID_WORKER, Action.begin_verification),
    (CaseState.verifying, AccountRole.GRID_WORKER, Action.verify_pass),
    (CaseState.closed, AccountRole.RESIDENT, Action.evaluate),
]
ACTIONS = ["submit", *(action.value for _, _, action in STEPS)]
STATES = ["submitted", "dispatched", "acknowledged", "in_progress", "resolved", "verifying", "closed", "closed"]


def seed() -> None:
    from tests.factories import add_personas, build_tree

    tree = build_tree()
    add_personas(tree)
    category = services.category_create(actor=SYSTEM, code="road.pothole", name="道路坑洼", kind="event")
    services.assignment_save(
        actor=SYSTEM, scope=Scope.everything(), category=category, area=tree.district, departments=[tree.department]
    )
    print("seeded")


def _ack(case: Case) -> None:
    print(f"acked {case.pk} {case.state}", flush=True)


def burst(count: int) -> None:
    category = Category.objects.get(code="road.pothole")
    users = {u.role: u for u in User.objects.filter(username__startswith="in_")}
    resident = users[AccountRole.RESIDENT]
    lon, lat = centre(0, 0)  # 网格一, the in-scope grid worker's
    for i in range(count):
        ref = f"drill-{i}"
        case = Case.objects.filter(channel=CHANNEL, external_ref=ref).first()
        if case is None:
            case = services.case_submit(
                actor=resident,
                scope=Scope.everything(),
                channel=CHANNEL,
                category=category,
                description=f"演练案件 {i}：路面有坑",
                lon=lon,
                lat=lat,
                external_ref=ref,
            ).case
            _ack(case)
        for state, role, action in STEPS:
            if case.state != state or (action is Action.evaluate and case.rating):
                continue
            user = users[role]
            acting = selectors.acting_roles(user)[0]
            fields: dict[str, object] = {}
            if action is Action.resolve:
                fields["result"] = "已修补"
            if action is Action.evaluate:
                fields["rating"] = Rating.satisfied
            case = services.case_act(
                actor=user,
                role=acting,
                case_id=case.pk,
                expected_version=case.version,
                command=Command(action=action, role=acting, **fields),  # type: ignore[arg-type]
            )
            _ack(case)
    print("done", flush=True)


def check(count: int) -> None:
    cases = {c.pk: c for c in Case.objects.filter(channel=CHANNEL).select_related("category", "grid")}
    events: dict[int, list[CaseEvent]] = {pk: [] for pk in cases}
    for event in CaseEvent.objects.filter(case_id__in=cases).order_by("at", "id"):
        events[event.case_id].append(event)
    calendar = selectors.work_calendar()
    problems: list[str] = []
    history: dict[int, list[str]] = {}
    for pk, case in cases.items():
        trail = events[pk]
        history[pk] = [e.to_state for e in trail]
        actions = [e.action for e in trail]
        if actions != ACTIONS[: len(actions)]:
            problems.append(f"case {pk}: steps {actions}")
        if [e.to_state for e in trail] != STATES[: len(trail)]:
            problems.append(f"case {pk}: states {[e.to_state for e in trail]}")
        if any(a.to_state != b.from_state for a, b in pairwise(trail)):
            problems.append(f"case {pk}: the trail does not chain")
        if not trail or case.state != trail[-1].to_state:
            problems.append(f"case {pk}: state {case.state} but last event {trail[-1].to_state if trail else None}")
        if case.version != len(trail):  # submit makes version 1, every step adds one
            problems.append(f"case {pk}: version {case.version} for {len(trail)} events")
        by_action = {e.action: e for e in trail}
        whistle = by_action.get(Action.whistle.value)
        assignments = list(CaseAssignment.objects.filter(case=case))
        if whistle is None:
            if case.dispatched_at or case.acknowledge_by or case.handle_by or case.remind_at or assignments:
                problems.append(f"case {pk}: deadlines or assignments before any dispatch")
            continue
        duty = selectors.duty_for(category=case.category, area=case.grid)
        due = case_deadlines(whistle.at, duty.policy, calendar)
        if (case.dispatched_at, case.acknowledge_by, case.handle_by) != (whistle.at, due.acknowledge_by, due.handle_by):
            problems.append(f"case {pk}: deadlines {case.acknowledge_by}/{case.handle_by} do not follow the dispatch")
        if case.state == CaseState.dispatched:
            expected_remind = reminder_at(whistle.at, due.acknowledge_by)
        elif case.state in (CaseState.acknowledged, CaseState.in_progress):
            expected_remind = reminder_at(whistle.at, due.handle_by)
        else:
            expected_remind = None
        if case.remind_at != expected_remind:
            problems.append(f"case {pk}: remind_at {case.remind_at}, expected {expected_remind}")
        verify = by_action.get(Action.verify_pass.value)
        if case.closed_at != (verify.at if verify else None):
            problems.append(f"case {pk}: closed_at {case.closed_at}")
        if case.rating != ("satisfied" if Action.evaluate.value in by_action else ""):
            problems.append(f"case {pk}: rating {case.rating!r}")
        expected_assignment = {
            CaseState.dispatched: "dispatched",
            CaseState.acknowledged: "acknowledged",
            CaseState.in_progress: "acknowledged",
        }.get(CaseState(case.state), "resolved")
        if [a.state for a in assignments] != [expected_assignment]:
            problems.append(f"case {pk}: assignments {[a.state for a in assignments]}")
    keys = Notification.objects.values("user_id", "idempotency_key").annotate(n=Count("id")).filter(n__gt=1)
    print(
        json.dumps(
            {
                "cases": len(cases),
                "refs": Case.objects.filter(channel=CHANNEL).values("external_ref").distinct().count(),
                "finished": sum(1 for c in cases.values() if c.rating),
                "events": sum(len(t) for t in events.values()),
                "history": {str(pk): states for pk, states in history.items()},
                "duplicate_notifications": keys.count(),
                "problems": problems[:20],
            }
        )
    )


if __name__ == "__main__":
    what = sys.argv[1]
    if what == "seed":
        seed()
    elif what == "burst":
        burst(int(sys.argv[2]))
    else:
        check(int(sys.argv[2]))
