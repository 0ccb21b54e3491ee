"""The deliberation transition table, row by row, and the pure vote and threshold rules."""

from __future__ import annotations

import pytest

from grassroots.engage.workflow import (
    NEEDS_REASON,
    TRANSITIONS,
    Actor,
    Step,
    TopicFlowError,
    TopicState,
    Votes,
    next_state,
    reaches_threshold,
    steps_from,
    vote_result,
)

S, A = TopicState, Step

TABLE = [
    (S.proposed, A.threshold, Actor.system, S.discussing),
    (S.proposed, A.to_discussion, Actor.staff, S.discussing),
    (S.proposed, A.dismiss, Actor.staff, S.dismissed),
    (S.proposed, A.withdraw, Actor.resident, S.withdrawn),
    (S.proposed, A.withdraw, Actor.staff, S.withdrawn),
    (S.discussing, A.dismiss, Actor.staff, S.dismissed),
    (S.discussing, A.adopt, Actor.staff, S.decided),
    (S.discussing, A.reject, Actor.staff, S.not_adopted),
    (S.decided, A.start_action, Actor.staff, S.acting),
    (S.acting, A.finish_actions, Actor.staff, S.reviewing),
    (S.acting, A.finish_actions, Actor.system, S.reviewing),
    (S.reviewing, A.close, Actor.staff, S.closed),
    (S.reviewing, A.close, Actor.system, S.closed),
]


@pytest.mark.parametrize(("state", "step", "actor", "target"), TABLE)
def test_allowed_transitions(state: TopicState, step: Step, actor: Actor, target: TopicState) -> None:
    assert next_state(state, step, actor, reason="理由") is target


def test_the_table_lists_exactly_these_rows() -> None:
    expected = {(s, a, who) for s, a, who, _ in TABLE}
    actual = {(s, a, who) for (s, a), (_, actors) in TRANSITIONS.items() for who in actors}
    assert actual == expected


@pytest.mark.parametrize("state", list(TopicState))
@pytest.mark.parametrize("step", list(Step))
@pytest.mark.parametrize("actor", list(Actor))
def test_everything_else_is_refused(state: TopicState, step: Step, actor: Actor) -> None:
    if any(row[:3] == (state, step, actor) for row in TABLE):
        return
    with pytest.raises(TopicFlowError) as error:
        next_state(state, step, actor, reason="理由")
    assert error.value.code in {"transition_not_allowed", "role_not_allowed"}


def test_residents_cannot_push_a_topic_to_discussion() -> None:
    with pytest.raises(TopicFlowError, match="不能") as error:
        next_state(S.proposed, A.to_discussion, Actor.resident, reason="x")
    assert error.value.code == "role_not_allowed"


@pytest.mark.parametrize("step", sorted(NEEDS_REASON))
def test_manual_moves_need_a_reason(step: Step) -> None:
    with pytest.raises(TopicFlowError) as error:
        next_state(S.proposed, step, Actor.staff, reason="  ")
    assert error.value.code == "reason_required"


def test_final_states_have_no_way_out() -> None:
    for state in (S.closed, S.not_adopted, S.dismissed, S.withdrawn):
        assert all(steps_from(state, actor) == [] for actor in Actor)


@pytest.mark.parametrize(
    ("supports", "threshold", "reached"), [(9, 10, False), (10, 10, True), (11, 10, True), (0, 0, False)]
)
def test_threshold(supports: int, threshold: int, reached: bool) -> None:
    assert reaches_threshold(supports, threshold) is reached


@pytest.mark.parametrize(
    ("votes", "present", "adopted"),
    [((5, 2, 1), 8, True), ((4, 4, 0), 8, False), ((4, 2, 2), 8, False), ((3, 0, 0), 9, True), ((1, 0, 0), 1, True)],
)
def test_more_than_half_of_the_votes_cast_adopts(votes: tuple[int, int, int], present: int, adopted: bool) -> None:
    assert vote_result(Votes(*votes), present) is adopted


@pytest.mark.parametrize(
    ("votes", "present", "code"),
    [
        ((0, 0, 0), 5, "votes_invalid"),
        ((-1, 2, 0), 5, "votes_invalid"),
        ((4, 2, 1), 6, "votes_invalid"),
        ((1, 0, 0), 0, "attendance_missing"),
    ],
)
def test_bad_votes_are_refused(votes: tuple[int, int, int], present: int, code: str) -> None:
    with pytest.raises(TopicFlowError) as error:
        vote_result(Votes(*votes), present)
    assert error.value.code == code
