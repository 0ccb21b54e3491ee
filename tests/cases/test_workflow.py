"""The case loop as a table: every state × every action, every role × every action, the guards."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import pytest

from grassroots.cases.workflow import (
    ACTION_LABELS,
    ROLE_ACTIONS,
    ROLE_LABELS,
    STATE_LABELS,
    TRANSITIONS,
    TZ,
    Action,
    CaseSnapshot,
    CaseState,
    Command,
    GuardFailed,
    Rating,
    Role,
    RoleNotAllowed,
    TransitionNotAllowed,
    WorkflowError,
    allowed_actions,
    decide,
    next_state,
)

S, A, R = CaseState, Action, Role

# Written out by hand from DESIGN.md "The case loop" and issue 4; the module's table must equal it.
EXPECTED: dict[tuple[CaseState, Action], CaseState] = {
    (S.submitted, A.accept): S.accepted,
    (S.submitted, A.whistle): S.dispatched,
    (S.submitted, A.merge): S.merged,
    (S.submitted, A.cancel): S.cancelled,
    (S.accepted, A.whistle): S.dispatched,
    (S.accepted, A.start): S.in_progress,
    (S.accepted, A.merge): S.merged,
    (S.accepted, A.cancel): S.cancelled,
    (S.dispatched, A.acknowledge): S.acknowledged,
    (S.dispatched, A.reject): S.rejected,
    (S.dispatched, A.merge): S.merged,
    (S.dispatched, A.cancel): S.cancelled,
    (S.acknowledged, A.start): S.in_progress,
    (S.acknowledged, A.merge): S.merged,
    (S.rejected, A.re_dispatch): S.dispatched,
    (S.rejected, A.escalate_to_arbitration): S.arbitration,
    (S.rejected, A.accept): S.accepted,
    (S.rejected, A.merge): S.merged,
    (S.rejected, A.cancel): S.cancelled,
    (S.arbitration, A.arbitrate): S.dispatched,
    (S.arbitration, A.accept): S.accepted,
    (S.arbitration, A.merge): S.merged,
    (S.arbitration, A.cancel): S.cancelled,
    (S.in_progress, A.resolve): S.resolved,
    (S.in_progress, A.merge): S.merged,
    (S.resolved, A.begin_verification): S.verifying,
    (S.verifying, A.verify_pass): S.closed,
    (S.verifying, A.verify_fail): S.in_progress,
    (S.closed, A.evaluate): S.closed,
    (S.closed, A.reopen): S.reopened,
    (S.reopened, A.accept): S.accepted,
    (S.reopened, A.whistle): S.dispatched,
    (S.reopened, A.start): S.in_progress,
    (S.reopened, A.merge): S.merged,
    (S.reopened, A.cancel): S.cancelled,
}

EXPECTED_ROLES: dict[Action, set[Role]] = {
    A.accept: {R.community, R.dispatcher},
    A.whistle: {R.community, R.dispatcher},
    A.acknowledge: {R.department},
    A.reject: {R.department},
    A.re_dispatch: {R.community, R.dispatcher},
    A.escalate_to_arbitration: {R.community, R.dispatcher},
    A.arbitrate: {R.dispatcher},
    A.start: {R.community, R.department},
    A.resolve: {R.community, R.department},
    A.begin_verification: {R.grid_worker, R.community, R.system},
    A.verify_pass: {R.grid_worker, R.community},
    A.verify_fail: {R.grid_worker, R.community},
    A.evaluate: {R.resident},
    A.reopen: {R.community, R.dispatcher, R.system},
    A.merge: {R.community, R.dispatcher},
    A.cancel: {R.resident, R.community, R.dispatcher},
}

NOW = datetime(2026, 10, 20, 10, 0, tzinfo=TZ)


def valid_command(action: Action, role: Role | None = None) -> Command:
    """A command that passes every payload guard for ``action``."""
    role = role or min(ROLE_ACTIONS[action] - {Role.system}, default=Role.system)
    return Command(
        action,
        role,
        reason="不属于本部门职责",
        result="已清理堆放杂物",
        rating=Rating.satisfied,
        target_case_id=2,
        departments=(7,),
    )


def snapshot(state: CaseState, **changes: object) -> CaseSnapshot:
    values: dict[str, object] = {"case_id": 1, "state": state, "closed_at": NOW - timedelta(days=1)}
    values.update(changes)
    return CaseSnapshot(**values)  # type: ignore[arg-type]


def test_table_is_the_one_written_here() -> None:
    assert dict(TRANSITIONS) == EXPECTED


@pytest.mark.parametrize(("state", "action"), list(itertools.product(CaseState, Action)))
def test_every_state_times_every_action(state: CaseState, action: Action) -> None:
    if (state, action) in EXPECTED:
        assert next_state(state, action) is EXPECTED[(state, action)]
    else:
        with pytest.raises(TransitionNotAllowed) as caught:
            next_state(state, action)
        assert caught.value.state is state and caught.value.action is action
        assert str(caught.value) == f"action {action.value!r} is not allowed in state {state.value!r}"
        assert state.label in caught.value.message and action.label in caught.value.message


@pytest.mark.parametrize(("state", "action"), list(itertools.product(CaseState, Action)))
def test_decide_agrees_with_the_table(state: CaseState, action: Action) -> None:
    case = snapshot(state)
    command = valid_command(action)
    if (state, action) not in EXPECTED:
        with pytest.raises(TransitionNotAllowed):
            decide(case, command, now=NOW)
    elif action is A.cancel and command.role is R.resident and state is not S.submitted:
        with pytest.raises(GuardFailed):
            decide(case, command, now=NOW)
    else:
        assert decide(case, command, now=NOW).to_state is EXPECTED[(state, action)]


@pytest.mark.parametrize(("role", "action"), list(itertools.product(Role, Action)))
def test_every_role_times_every_action(role: Role, action: Action) -> None:
    state = next(s for (s, a) in EXPECTED if a is action)
    command = valid_command(action, role)
    if role in EXPECTED_ROLES[action]:
        assert decide(snapshot(state), command, now=NOW).action is action
    else:
        with pytest.raises(RoleNotAllowed) as caught:
            decide(snapshot(state), command, now=NOW)
        assert role.label in caught.value.message


def test_final_states_accept_nothing() -> None:
    for state in (S.merged, S.cancelled):
        assert not [a for a in Action if (state, a) in TRANSITIONS]


def test_every_state_is_reachable_from_submitted() -> None:
    seen, frontier = {S.submitted}, [S.submitted]
    while frontier:
        state = frontier.pop()
        for (source, _), target in TRANSITIONS.items():
            if source is state and target not in seen:
                seen.add(target)
                frontier.append(target)
    assert seen == set(CaseState)


def test_every_state_action_and_role_has_a_chinese_label() -> None:
    assert set(STATE_LABELS) == set(CaseState) and set(ACTION_LABELS) == set(Action) and set(ROLE_LABELS) == set(Role)
    assert S.rejected.label == "已退单" and A.acknowledge.label == "报到" and A.whistle.label == "吹哨"


def test_allowed_actions_are_the_buttons_a_role_sees() -> None:
    assert allowed_actions(S.dispatched, R.department) == [A.acknowledge, A.reject]
    assert allowed_actions(S.submitted, R.community) == [A.accept, A.whistle, A.merge, A.cancel]
    assert allowed_actions(S.closed, R.resident) == [A.evaluate]
    assert allowed_actions(S.merged, R.dispatcher) == []


def test_the_table_is_checked_before_the_role() -> None:
    with pytest.raises(TransitionNotAllowed):
        decide(snapshot(S.closed), valid_command(A.acknowledge, R.resident), now=NOW)


# --- guards ---------------------------------------------------------------------------------

GUARD_CASES = [
    # (state, command, field)
    (S.dispatched, Command(A.reject, R.department), "reason"),
    (S.dispatched, Command(A.reject, R.department, reason="   "), "reason"),
    (S.submitted, Command(A.whistle, R.community), "departments"),
    (S.rejected, Command(A.re_dispatch, R.dispatcher), "departments"),
    (S.arbitration, Command(A.arbitrate, R.dispatcher), "departments"),
    (S.rejected, Command(A.escalate_to_arbitration, R.dispatcher), "reason"),
    (S.in_progress, Command(A.resolve, R.department), "result"),
    (S.in_progress, Command(A.resolve, R.department, result="已修复", photos=("p",) * 10), "photos"),
    (S.verifying, Command(A.verify_fail, R.grid_worker), "reason"),
    (S.closed, Command(A.evaluate, R.resident), "rating"),
    (S.submitted, Command(A.merge, R.community), "target_case_id"),
    (S.submitted, Command(A.merge, R.community, target_case_id=1), "target_case_id"),
    (S.submitted, Command(A.cancel, R.community), "reason"),
    (S.accepted, Command(A.cancel, R.resident, reason="已自行解决"), "reason"),
    (S.closed, Command(A.reopen, R.dispatcher), "reason"),
]


@pytest.mark.parametrize(("state", "command", "field"), GUARD_CASES)
def test_guards_name_the_field(state: CaseState, command: Command, field: str) -> None:
    with pytest.raises(GuardFailed) as caught:
        decide(snapshot(state), command, now=NOW)
    assert caught.value.field == field
    assert caught.value.message and str(caught.value).isascii()
    assert isinstance(caught.value, WorkflowError)


def test_resolve_may_carry_up_to_nine_photos() -> None:
    command = Command(A.resolve, R.department, result="已修复", photos=tuple(f"p{i}.jpg" for i in range(9)))
    assert decide(snapshot(S.in_progress), command, now=NOW).to_state is S.resolved


def test_a_resident_withdraws_a_report_nobody_picked_up() -> None:
    command = Command(A.cancel, R.resident, reason="已自行解决")
    assert decide(snapshot(S.submitted), command, now=NOW).to_state is S.cancelled


def test_merge_into_another_case() -> None:
    decision = decide(snapshot(S.dispatched), Command(A.merge, R.dispatcher, target_case_id=9), now=NOW)
    assert decision.to_state is S.merged


# --- evaluation and reopening ----------------------------------------------------------------

UNSATISFIED = Command(A.evaluate, R.resident, rating=Rating.unsatisfied, comment="垃圾还在")


@pytest.mark.parametrize(
    ("closed_ago", "reopens_before", "rating", "reopens"),
    [
        (timedelta(days=1), 0, Rating.unsatisfied, True),
        (timedelta(days=7), 0, Rating.unsatisfied, True),  # the 7th day still counts
        (timedelta(days=7, seconds=1), 0, Rating.unsatisfied, False),
        (timedelta(days=1), 1, Rating.unsatisfied, False),  # once and only once
        (timedelta(days=1), 0, Rating.basically_satisfied, False),
        (timedelta(days=1), 0, Rating.satisfied, False),
    ],
)
def test_unsatisfied_within_seven_days_reopens_once(
    closed_ago: timedelta, reopens_before: int, rating: Rating, reopens: bool
) -> None:
    case = snapshot(S.closed, closed_at=NOW - closed_ago, evaluation_reopens=reopens_before)
    decision = decide(case, Command(A.evaluate, R.resident, rating=rating), now=NOW)
    assert decision.to_state is S.closed
    if reopens:
        assert decision.follow_up == Command(A.reopen, R.system, reason="居民评价不满意")
        assert decide(case, decision.follow_up, now=NOW).to_state is S.reopened
    else:
        assert decision.follow_up is None


def test_a_case_is_evaluated_once_per_closing() -> None:
    with pytest.raises(GuardFailed, match="already evaluated"):
        decide(snapshot(S.closed, evaluated_since_close=True), UNSATISFIED, now=NOW)


@pytest.mark.parametrize(
    ("changes", "log"),
    [
        ({"closed_at": NOW - timedelta(days=8)}, "within 7 days"),
        ({"evaluation_reopens": 1}, "already reopened once"),
    ],
)
def test_automatic_reopen_keeps_the_residents_rules(changes: dict[str, object], log: str) -> None:
    with pytest.raises(GuardFailed, match=log):
        decide(snapshot(S.closed, **changes), Command(A.reopen, R.system, reason="居民评价不满意"), now=NOW)
    # A dispatcher may still reopen by judgement, with a reason.
    assert decide(snapshot(S.closed, **changes), Command(A.reopen, R.dispatcher, reason="复查"), now=NOW)


def test_the_whole_loop_with_a_rejection_arbitration_and_one_reopen() -> None:
    steps = [
        Command(A.whistle, R.community, departments=(3,)),
        Command(A.reject, R.department, reason="不属于本部门"),
        Command(A.escalate_to_arbitration, R.community, reason="部门间有争议"),
        Command(A.arbitrate, R.dispatcher, departments=(4,)),
        Command(A.acknowledge, R.department),
        Command(A.start, R.department),
        Command(A.resolve, R.department, result="已修复路灯", photos=("after.jpg",)),
        Command(A.begin_verification, R.system),
        Command(A.verify_pass, R.grid_worker),
    ]
    case = snapshot(S.submitted, closed_at=None)
    for command in steps:
        case = snapshot(decide(case, command, now=NOW).to_state, closed_at=None)
    assert case.state is S.closed
    case = snapshot(S.closed, closed_at=NOW)
    decision = decide(case, UNSATISFIED, now=NOW + timedelta(days=2))
    assert decision.follow_up is not None
    reopened = decide(case, decision.follow_up, now=NOW + timedelta(days=2))
    assert reopened.to_state is S.reopened
    # Handled again, closed again: this time an unsatisfied rating stays a rating.
    again = snapshot(S.closed, closed_at=NOW + timedelta(days=5), evaluation_reopens=1)
    assert decide(again, UNSATISFIED, now=NOW + timedelta(days=6)).follow_up is None
