"""The case loop as data: states, actions, the transition table, guards and SLA maths.

Plain Python (no Django); ``now`` is always passed in. Services turn a stored case into a
``CaseSnapshot``, ask ``decide()`` and write what it answers; nothing here touches storage.

Errors carry two messages: ``str(error)`` is English for logs, ``error.message`` is Chinese
for users (the same attribute name as ``grassroots.core.errors.DomainError``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from enum import IntEnum, StrEnum
from zoneinfo import ZoneInfo

from grassroots.cases.worktime import WorkCalendar

TZ = ZoneInfo("Asia/Shanghai")

REOPEN_WINDOW = timedelta(days=7)  # an unsatisfied rating within this span after closing reopens the case
MAX_EVALUATION_REOPENS = 1
MAX_PHOTOS = 9


class CaseState(StrEnum):
    submitted = "submitted"
    accepted = "accepted"  # the community handles it itself
    dispatched = "dispatched"  # whistled to one or more departments
    acknowledged = "acknowledged"  # 报到
    rejected = "rejected"  # 退单: back with the dispatcher
    arbitration = "arbitration"
    in_progress = "in_progress"
    resolved = "resolved"
    verifying = "verifying"
    closed = "closed"
    reopened = "reopened"
    merged = "merged"
    cancelled = "cancelled"

    @property
    def label(self) -> str:
        return STATE_LABELS[self]


STATE_LABELS: Mapping[CaseState, str] = {
    CaseState.submitted: "待受理",
    CaseState.accepted: "社区自办",
    CaseState.dispatched: "已吹哨派遣",
    CaseState.acknowledged: "已报到",
    CaseState.rejected: "已退单",
    CaseState.arbitration: "争议仲裁中",
    CaseState.in_progress: "处置中",
    CaseState.resolved: "已办结待核实",
    CaseState.verifying: "核实中",
    CaseState.closed: "已结案",
    CaseState.reopened: "已重启",
    CaseState.merged: "已合并",
    CaseState.cancelled: "已作废",
}

FINAL_STATES = frozenset({CaseState.merged, CaseState.cancelled})
# Open cases are the ones deadlines and the SLA sweep care about.
OPEN_STATES = frozenset(CaseState) - FINAL_STATES - {CaseState.closed}


class Action(StrEnum):
    accept = "accept"
    whistle = "whistle"
    acknowledge = "acknowledge"
    reject = "reject"
    re_dispatch = "re_dispatch"
    escalate_to_arbitration = "escalate_to_arbitration"
    arbitrate = "arbitrate"
    start = "start"
    resolve = "resolve"
    begin_verification = "begin_verification"
    verify_pass = "verify_pass"  # noqa: S105 (an action name, not a password)
    verify_fail = "verify_fail"
    evaluate = "evaluate"
    reopen = "reopen"
    merge = "merge"
    cancel = "cancel"

    @property
    def label(self) -> str:
        return ACTION_LABELS[self]


ACTION_LABELS: Mapping[Action, str] = {
    Action.accept: "受理自办",
    Action.whistle: "吹哨",
    Action.acknowledge: "报到",
    Action.reject: "退单",
    Action.re_dispatch: "重新派遣",
    Action.escalate_to_arbitration: "提请仲裁",
    Action.arbitrate: "仲裁",
    Action.start: "开始处置",
    Action.resolve: "办结反馈",
    Action.begin_verification: "开始核实",
    Action.verify_pass: "核实通过",
    Action.verify_fail: "核实不通过",
    Action.evaluate: "评价",
    Action.reopen: "重启",
    Action.merge: "合并",
    Action.cancel: "作废",
}

S, A = CaseState, Action
# Everything not listed is refused. Merge is possible until the result is in; cancel only while nobody works on it.
_TRIAGE = (S.submitted, S.accepted, S.dispatched, S.rejected, S.arbitration, S.reopened)
TRANSITIONS: Mapping[tuple[CaseState, Action], CaseState] = {
    (S.submitted, A.accept): S.accepted,
    (S.submitted, A.whistle): S.dispatched,
    (S.accepted, A.whistle): S.dispatched,  # the community tried and needs a department after all
    (S.accepted, A.start): S.in_progress,
    (S.dispatched, A.acknowledge): S.acknowledged,
    (S.dispatched, A.reject): S.rejected,
    (S.rejected, A.re_dispatch): S.dispatched,
    (S.rejected, A.escalate_to_arbitration): S.arbitration,
    (S.rejected, A.accept): S.accepted,
    (S.arbitration, A.arbitrate): S.dispatched,  # the ruling names the responsible department(s)
    (S.arbitration, A.accept): S.accepted,
    (S.acknowledged, A.start): S.in_progress,
    (S.in_progress, A.resolve): S.resolved,
    (S.resolved, A.begin_verification): S.verifying,
    (S.verifying, A.verify_pass): S.closed,
    (S.verifying, A.verify_fail): S.in_progress,  # back to whoever handled it
    (S.closed, A.evaluate): S.closed,  # the rating is recorded; an unsatisfied one may reopen (see decide)
    (S.closed, A.reopen): S.reopened,
    (S.reopened, A.accept): S.accepted,
    (S.reopened, A.whistle): S.dispatched,
    (S.reopened, A.start): S.in_progress,
    **{(state, A.merge): S.merged for state in (*_TRIAGE, S.acknowledged, S.in_progress)},
    **{(state, A.cancel): S.cancelled for state in _TRIAGE},
}
del S, A


class Role(StrEnum):
    resident = "resident"
    grid_worker = "grid_worker"
    community = "community"  # community worker or secretary
    dispatcher = "dispatcher"  # subdistrict dispatcher or leader
    department = "department"  # department officer
    system = "system"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS: Mapping[Role, str] = {
    Role.resident: "居民",
    Role.grid_worker: "网格员",
    Role.community: "社区工作者",
    Role.dispatcher: "街道调度员",
    Role.department: "职能部门",
    Role.system: "系统",
}

_TRIAGE_ROLES = frozenset({Role.community, Role.dispatcher})
# Which roles may ask for an action at all; whether this actor handles this case is a scope question for services.
ROLE_ACTIONS: Mapping[Action, frozenset[Role]] = {
    Action.accept: _TRIAGE_ROLES,
    Action.whistle: _TRIAGE_ROLES,
    Action.acknowledge: frozenset({Role.department}),
    Action.reject: frozenset({Role.department}),
    Action.re_dispatch: _TRIAGE_ROLES,
    Action.escalate_to_arbitration: _TRIAGE_ROLES,
    Action.arbitrate: frozenset({Role.dispatcher}),
    Action.start: frozenset({Role.community, Role.department}),
    Action.resolve: frozenset({Role.community, Role.department}),
    Action.begin_verification: frozenset({Role.grid_worker, Role.community, Role.system}),
    Action.verify_pass: frozenset({Role.grid_worker, Role.community}),
    Action.verify_fail: frozenset({Role.grid_worker, Role.community}),
    Action.evaluate: frozenset({Role.resident}),
    Action.reopen: frozenset({Role.community, Role.dispatcher, Role.system}),
    Action.merge: _TRIAGE_ROLES,
    Action.cancel: frozenset({Role.resident, Role.community, Role.dispatcher}),
}


class Rating(StrEnum):
    satisfied = "satisfied"
    basically_satisfied = "basically_satisfied"
    unsatisfied = "unsatisfied"

    @property
    def label(self) -> str:
        return {"satisfied": "满意", "basically_satisfied": "基本满意", "unsatisfied": "不满意"}[self.value]


# --- errors -------------------------------------------------------------------------------


class WorkflowError(Exception):
    """A refused step: ``str()`` is English for logs, ``message`` Chinese for users."""

    code = "workflow"

    def __init__(self, log_message: str, message: str, *, field: str | None = None) -> None:
        super().__init__(log_message)
        self.log_message = log_message
        self.message = message
        self.field = field


class TransitionNotAllowed(WorkflowError):
    code = "transition_not_allowed"

    def __init__(self, state: CaseState, action: Action) -> None:
        super().__init__(
            f"action {action.value!r} is not allowed in state {state.value!r}",
            f"案件当前为「{state.label}」，不能执行「{action.label}」。",
        )
        self.state = state
        self.action = action


class RoleNotAllowed(WorkflowError):
    code = "role_not_allowed"

    def __init__(self, role: Role, action: Action) -> None:
        super().__init__(
            f"role {role.value!r} may not perform {action.value!r}",
            f"「{role.label}」无权执行「{action.label}」。",
        )
        self.role = role
        self.action = action


class GuardFailed(WorkflowError):
    code = "guard_failed"


# --- snapshot, command, decision --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CaseSnapshot:
    """What the rules need to know about a case, nothing more."""

    case_id: int
    state: CaseState
    closed_at: datetime | None = None
    evaluation_reopens: int = 0  # times an unsatisfied rating has reopened this case
    evaluated_since_close: bool = False


@dataclass(frozen=True, slots=True)
class Command:
    action: Action
    role: Role
    reason: str = ""
    result: str = ""
    photos: tuple[str, ...] = ()
    rating: Rating | None = None
    comment: str = ""
    target_case_id: int | None = None
    departments: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Decision:
    from_state: CaseState
    action: Action
    to_state: CaseState
    # A step the service must take next as Role.system, e.g. reopen after an unsatisfied rating.
    follow_up: Command | None = None


def next_state(state: CaseState, action: Action) -> CaseState:
    try:
        return TRANSITIONS[(state, action)]
    except KeyError:
        raise TransitionNotAllowed(state, action) from None


def allowed_actions(state: CaseState, role: Role) -> list[Action]:
    """Actions to offer as buttons (payload guards still apply when pressed)."""
    return [action for action in Action if (state, action) in TRANSITIONS and role in ROLE_ACTIONS[action]]


def _require(condition: bool, field: str, log_message: str, message: str) -> None:
    if not condition:
        raise GuardFailed(log_message, message, field=field)


def _needs_departments(command: Command) -> None:
    _require(bool(command.departments), "departments", "at least one department is required", "请选择承办部门。")


def _needs_reason(command: Command) -> None:
    _require(bool(command.reason.strip()), "reason", "a reason is required", "请填写原因。")


def _within_reopen_window(case: CaseSnapshot, now: datetime) -> bool:
    return case.closed_at is not None and now - case.closed_at <= REOPEN_WINDOW


def reopens_on_evaluation(case: CaseSnapshot, rating: Rating, now: datetime) -> bool:
    """An unsatisfied rating within 7 days of closing reopens the case, once in its life."""
    return (
        rating is Rating.unsatisfied
        and _within_reopen_window(case, now)
        and case.evaluation_reopens < MAX_EVALUATION_REOPENS
    )


def check_guards(case: CaseSnapshot, command: Command, now: datetime) -> None:
    """Payload and history rules; raises ``GuardFailed`` naming the field."""
    action, role = command.action, command.role
    if action in (Action.whistle, Action.re_dispatch, Action.arbitrate):
        _needs_departments(command)
    elif action in (Action.reject, Action.escalate_to_arbitration, Action.verify_fail):
        _needs_reason(command)
    elif action is Action.resolve:
        _require(bool(command.result.strip()), "result", "a result text is required", "请填写办理结果。")
    elif action is Action.evaluate:
        _require(command.rating is not None, "rating", "a rating is required", "请选择满意度。")
        _require(not case.evaluated_since_close, "rating", "the case is already evaluated", "该案件本次办结已评价过。")
    elif action is Action.reopen:
        _needs_reason(command)
        if role is Role.system:  # the automatic reopen follows the resident's rules; staff reopen by judgement
            _require(
                _within_reopen_window(case, now),
                "reason",
                "automatic reopen only within 7 days of closing",
                "结案已超过7天，不再自动重启。",
            )
            _require(
                case.evaluation_reopens < MAX_EVALUATION_REOPENS,
                "reason",
                "the case was already reopened once by an evaluation",
                "该案件已因不满意评价重启过一次。",
            )
    elif action is Action.merge:
        _require(
            command.target_case_id is not None, "target_case_id", "a target case is required", "请选择合并到的案件。"
        )
        _require(
            command.target_case_id != case.case_id,
            "target_case_id",
            "a case cannot be merged into itself",
            "不能合并到案件本身。",
        )
    elif action is Action.cancel:
        _needs_reason(command)
        if role is Role.resident:  # a resident withdraws only what nobody has picked up yet
            _require(
                case.state is CaseState.submitted,
                "reason",
                "a resident may cancel only a submitted case",
                "案件已受理，无法撤回。",
            )
    if action in (Action.resolve, Action.verify_pass, Action.verify_fail):
        _require(
            len(command.photos) <= MAX_PHOTOS,
            "photos",
            f"at most {MAX_PHOTOS} photos",
            f"照片最多{MAX_PHOTOS}张。",
        )


def decide(case: CaseSnapshot, command: Command, *, now: datetime) -> Decision:
    """Check table, role and guards, in that order; answer the next state or raise ``WorkflowError``."""
    to_state = next_state(case.state, command.action)
    if command.role not in ROLE_ACTIONS[command.action]:
        raise RoleNotAllowed(command.role, command.action)
    check_guards(case, command, now)
    follow_up = None
    if (
        command.action is Action.evaluate
        and command.rating is not None
        and reopens_on_evaluation(case, command.rating, now)
    ):
        follow_up = Command(Action.reopen, Role.system, reason="居民评价不满意")
    return Decision(case.state, command.action, to_state, follow_up)


# --- SLA maths ----------------------------------------------------------------------------


class WhistleKind(StrEnum):
    emergency = "emergency"
    key = "key"
    routine = "routine"
    coordination = "coordination"

    @property
    def label(self) -> str:
        return {"emergency": "应急哨", "key": "重点哨", "routine": "常规哨", "coordination": "协调哨"}[self.value]


@dataclass(frozen=True, slots=True)
class ClockSpan:
    """Elapsed time, counted around the clock (nights, weekends and holidays included)."""

    span: timedelta

    @property
    def label(self) -> str:
        minutes = int(self.span.total_seconds() // 60)
        return f"{minutes // 60}小时" if minutes % 60 == 0 else f"{minutes}分钟"


@dataclass(frozen=True, slots=True)
class WorkingDays:
    """N working days on the official calendar: ends at the end of the N-th working day after the start day."""

    days: int

    @property
    def label(self) -> str:
        return f"{self.days}个工作日"


DeadlineSpec = ClockSpan | WorkingDays


@dataclass(frozen=True, slots=True)
class SlaPolicy:
    acknowledge: DeadlineSpec  # report-in (报到)
    handle: DeadlineSpec


DEFAULT_POLICIES: Mapping[WhistleKind, SlaPolicy] = {
    WhistleKind.emergency: SlaPolicy(ClockSpan(timedelta(minutes=30)), ClockSpan(timedelta(hours=2))),
    WhistleKind.key: SlaPolicy(ClockSpan(timedelta(hours=2)), ClockSpan(timedelta(hours=24))),
    WhistleKind.routine: SlaPolicy(ClockSpan(timedelta(hours=24)), WorkingDays(7)),
    WhistleKind.coordination: SlaPolicy(ClockSpan(timedelta(hours=24)), WorkingDays(15)),
}


def policy_for(kind: WhistleKind, configured: Mapping[WhistleKind, SlaPolicy] | None = None) -> SlaPolicy:
    """The configured policy for a whistle kind (a duty-list category may set its own), else the default."""
    return (configured or {}).get(kind, DEFAULT_POLICIES[kind])


def _local(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("deadline maths needs timezone-aware datetimes")
    return moment.astimezone(TZ)


def deadline(start: datetime, spec: DeadlineSpec, calendar: WorkCalendar) -> datetime:
    """When ``spec`` runs out for something that started at ``start``, in Asia/Shanghai.

    Working days: the start day never counts (whatever the hour), so N working days end at
    23:59:59.999999 of the N-th working day after it.
    """
    local = _local(start)
    if isinstance(spec, ClockSpan):
        # Add in UTC: elapsed time, whatever the zone's rules (Python adds wall-clock time within one zone).
        return (local.astimezone(UTC) + spec.span).astimezone(TZ)
    last_day = calendar.add_workdays(local.date(), spec.days)
    return datetime.combine(last_day, time.max, tzinfo=TZ)


def is_provisional(start: datetime, due: datetime, calendar: WorkCalendar) -> bool:
    """True when a day between start and deadline came from the Monday–Friday fallback."""
    return calendar.uses_fallback(_local(start).date(), _local(due).date())


@dataclass(frozen=True, slots=True)
class CaseDeadlines:
    acknowledge_by: datetime
    handle_by: datetime
    provisional: bool  # show worktime.FALLBACK_NOTICE beside the dates


def case_deadlines(dispatched_at: datetime, policy: SlaPolicy, calendar: WorkCalendar) -> CaseDeadlines:
    """Both deadlines count from dispatch: reporting in late does not buy handling time."""
    ack = deadline(dispatched_at, policy.acknowledge, calendar)
    handle = deadline(dispatched_at, policy.handle, calendar)
    provisional = is_provisional(dispatched_at, max(ack, handle), calendar)
    return CaseDeadlines(ack, handle, provisional)


REMINDER_FRACTION = 0.8


def reminder_at(start: datetime, due: datetime) -> datetime:
    """80 % of the elapsed span from start to deadline (wall-clock, whatever the spec)."""
    begin = _local(start).astimezone(UTC)
    return (begin + (due.astimezone(UTC) - begin) * 4 / 5).astimezone(TZ)


class SlaStatus(StrEnum):
    on_time = "on_time"
    due_soon = "due_soon"
    overdue = "overdue"

    @property
    def label(self) -> str:
        return {"on_time": "正常", "due_soon": "即将到期", "overdue": "已超期"}[self.value]


def status(now: datetime, start: datetime, due: datetime) -> SlaStatus:
    """Overdue strictly after the deadline; due soon from the 80 % reminder on."""
    if _local(now) > _local(due):
        return SlaStatus.overdue
    if _local(now) >= reminder_at(start, due):
        return SlaStatus.due_soon
    return SlaStatus.on_time


class EscalationLevel(IntEnum):
    community = 0
    subdistrict = 1
    district = 2

    @property
    def label(self) -> str:
        return {0: "社区", 1: "街道", 2: "区"}[self.value]


def escalate(level: EscalationLevel) -> EscalationLevel:
    """One level up per missed deadline; district is the ceiling."""
    return EscalationLevel(min(level + 1, EscalationLevel.district))


def escalation_level(missed_deadlines: int, start: EscalationLevel = EscalationLevel.community) -> EscalationLevel:
    if missed_deadlines < 0:
        raise ValueError("missed_deadlines cannot be negative")
    return EscalationLevel(min(start + missed_deadlines, EscalationLevel.district))
