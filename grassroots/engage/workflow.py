"""The deliberation loop 居民提事 → 网格议事 → 会议定事 → 联动办事 → 网格评事 as a pure table.

Plain Python (no Django): the services look a step up here before they write anything, and the
tests check the table row by row. ``now`` and counts are passed in.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

DEFAULT_SUPPORT_THRESHOLD = 10
DEFAULT_REVIEW_DAYS = 7
MAX_PHOTOS = 9


class TopicState(StrEnum):
    proposed = "proposed"  # 征集附议
    discussing = "discussing"  # 议事中
    decided = "decided"  # 已定事
    acting = "acting"  # 办理中
    reviewing = "reviewing"  # 评议中
    closed = "closed"  # 已办结
    not_adopted = "not_adopted"  # 未通过
    dismissed = "dismissed"  # 不予立项
    withdrawn = "withdrawn"  # 已撤回

    @property
    def label(self) -> str:
        return STATE_LABELS[self]


STATE_LABELS = {
    TopicState.proposed: "征集附议",
    TopicState.discussing: "议事中",
    TopicState.decided: "已定事",
    TopicState.acting: "办理中",
    TopicState.reviewing: "评议中",
    TopicState.closed: "已办结",
    TopicState.not_adopted: "未通过",
    TopicState.dismissed: "不予立项",
    TopicState.withdrawn: "已撤回",
}
FINAL_STATES = frozenset({TopicState.closed, TopicState.not_adopted, TopicState.dismissed, TopicState.withdrawn})


class Step(StrEnum):
    threshold = "threshold"  # enough supports: to discussion by itself
    to_discussion = "to_discussion"  # staff move it on with a reason
    dismiss = "dismiss"  # staff: not a matter for deliberation, with a reason
    withdraw = "withdraw"  # the proposer takes it back before discussion
    adopt = "adopt"  # a meeting's decision passed
    reject = "reject"  # a meeting's decision failed
    start_action = "start_action"  # the first linked action
    finish_actions = "finish_actions"  # every action done: residents review
    close = "close"  # the review period is over (or staff close it)

    @property
    def label(self) -> str:
        return STEP_LABELS[self]


STEP_LABELS = {
    Step.threshold: "附议达到门槛，转入议事",
    Step.to_discussion: "转入议事",
    Step.dismiss: "不予立项",
    Step.withdraw: "撤回",
    Step.adopt: "会议表决通过",
    Step.reject: "会议表决未通过",
    Step.start_action: "开始联动办事",
    Step.finish_actions: "办事完成，开始评议",
    Step.close: "评议结束，办结",
}


class Actor(StrEnum):
    resident = "resident"
    staff = "staff"
    system = "system"


S, A = TopicState, Step
STAFF, RESIDENT, SYSTEM = Actor.staff, Actor.resident, Actor.system

# (state, step) → (next state, who may take it)
TRANSITIONS: dict[tuple[TopicState, Step], tuple[TopicState, frozenset[Actor]]] = {
    (S.proposed, A.threshold): (S.discussing, frozenset({SYSTEM})),
    (S.proposed, A.to_discussion): (S.discussing, frozenset({STAFF})),
    (S.proposed, A.dismiss): (S.dismissed, frozenset({STAFF})),
    (S.proposed, A.withdraw): (S.withdrawn, frozenset({RESIDENT, STAFF})),
    (S.discussing, A.dismiss): (S.dismissed, frozenset({STAFF})),
    (S.discussing, A.adopt): (S.decided, frozenset({STAFF})),
    (S.discussing, A.reject): (S.not_adopted, frozenset({STAFF})),
    (S.decided, A.start_action): (S.acting, frozenset({STAFF})),
    (S.acting, A.finish_actions): (S.reviewing, frozenset({STAFF, SYSTEM})),
    (S.reviewing, A.close): (S.closed, frozenset({STAFF, SYSTEM})),
}
# Steps that need a written reason.
NEEDS_REASON = frozenset({Step.to_discussion, Step.dismiss})


class TopicFlowError(Exception):
    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def next_state(state: TopicState, step: Step, actor: Actor, *, reason: str = "") -> TopicState:
    """The state after ``step``, or TopicFlowError saying why the step is not allowed."""
    row = TRANSITIONS.get((state, step))
    if row is None:
        raise TopicFlowError(f"议题当前为“{state.label}”，不能“{step.label}”。", "transition_not_allowed")
    target, actors = row
    if actor not in actors:
        raise TopicFlowError(f"您不能对议题执行“{step.label}”。", "role_not_allowed")
    if step in NEEDS_REASON and not reason.strip():
        raise TopicFlowError(f"“{step.label}”须填写理由。", "reason_required")
    return target


def steps_from(state: TopicState, actor: Actor) -> list[Step]:
    return [step for (s, step), (_, actors) in TRANSITIONS.items() if s == state and actor in actors]


def reaches_threshold(supports: int, threshold: int) -> bool:
    return threshold > 0 and supports >= threshold


@dataclass(frozen=True)
class Votes:
    votes_for: int
    against: int
    abstain: int

    @property
    def cast(self) -> int:
        return self.votes_for + self.against + self.abstain


def vote_result(votes: Votes, present: int) -> bool:
    """Whether the motion passes (more than half of the votes cast are for it); checks the counts first."""
    if min(votes.votes_for, votes.against, votes.abstain) < 0:
        raise TopicFlowError("票数不能为负数。", "votes_invalid")
    if votes.cast == 0:
        raise TopicFlowError("请填写表决票数。", "votes_invalid")
    if present <= 0:
        raise TopicFlowError("会议尚未记录到会人员，不能表决。", "attendance_missing")
    if votes.cast > present:
        raise TopicFlowError(f"表决票数合计 {votes.cast} 超过到会人数 {present}。", "votes_invalid")
    return votes.votes_for * 2 > votes.cast
