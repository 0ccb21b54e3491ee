"""The deliberation loop through the services: threshold, meetings, votes, actions → cases, reviews, scope."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from django.core.management import call_command
from PIL import Image

from grassroots.accounts.models import Role
from grassroots.cases import services as case_services
from grassroots.cases.models import Case, CasePhoto, Channel
from grassroots.cases.workflow import CaseState
from grassroots.core.errors import DomainError, Forbidden, NotFound
from grassroots.engage import selectors, services
from grassroots.engage.models import ActionKind, Review, Support, Topic, TopicEvent, TopicPhoto
from grassroots.engage.selectors import engage as reads
from grassroots.engage.workflow import Step, TopicState
from grassroots.notify.models import Notification
from tests.cases.test_cases_services import make_env
from tests.engage.conftest import NOW, Engage

pytestmark = pytest.mark.django_db

assert selectors  # the package


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 120, 40)).save(out, "JPEG")
    return out.getvalue()


def _state(topic: Topic) -> str:
    return Topic.objects.get(pk=topic.pk).state


def _actions(topic: Topic) -> list[str]:
    return list(TopicEvent.objects.filter(topic=topic).order_by("id").values_list("action", flat=True))


# --- propose, support, threshold -------------------------------------------------------------


def test_a_resident_proposes_in_their_community_with_photos(eng: Engage) -> None:
    topic = eng.propose(
        building=eng.tree.building1, place_text="1幢楼下", photos=[(io.BytesIO(_jpeg()), "a.jpg", None)]
    )
    assert topic.area == eng.tree.grid1 and topic.path == eng.tree.grid1.path
    assert topic.state == TopicState.proposed and topic.threshold == 3
    assert (topic.lon, topic.lat) == (eng.tree.building1.lon, eng.tree.building1.lat)
    photo = TopicPhoto.objects.get(topic=topic)
    assert photo.file.name.startswith("engage/photos/")
    assert not CasePhoto.objects.exists()  # the staged case row is gone
    assert _actions(topic) == ["propose"]


def test_a_resident_may_not_propose_in_another_community(eng: Engage) -> None:
    with pytest.raises(Forbidden):
        eng.propose(area=eng.tree.grid3)
    with pytest.raises(DomainError, match="照片最多9张"):
        eng.propose(photos=[(io.BytesIO(b""), "x", 0)] * 10)


def test_supports_are_once_per_person_and_the_threshold_moves_the_topic(eng: Engage) -> None:
    topic = eng.propose()
    first = eng.neighbours[0]
    services.topic_support(actor=first, topic_id=topic.pk, now=NOW)
    with pytest.raises(DomainError, match="已附议过"):
        services.topic_support(actor=first, topic_id=topic.pk, now=NOW)
    with pytest.raises(DomainError, match="自己"):
        services.topic_support(actor=eng.resident, topic_id=topic.pk, now=NOW)
    services.topic_support(actor=eng.neighbours[1], topic_id=topic.pk, now=NOW)
    assert _state(topic) == TopicState.proposed
    topic = services.topic_support(actor=eng.neighbours[2], topic_id=topic.pk, now=NOW)
    assert topic.state == TopicState.discussing and topic.support_count == 3
    assert _actions(topic)[-1] == Step.threshold
    assert Notification.objects.filter(user_id=eng.resident.pk, kind="engage.discussing").count() == 1
    with pytest.raises(DomainError, match="不再征集"):
        services.topic_support(actor=eng.worker, topic_id=topic.pk, now=NOW)


def test_the_nearest_setting_gives_the_threshold(eng: Engage) -> None:
    admin = eng.tree.users[Role.ADMIN]
    services.setting_save(actor=admin, area=eng.tree.grid2, support_threshold=1, review_days=3)
    assert services.setting_for(eng.tree.grid2) == (1, 3)
    assert services.setting_for(eng.tree.grid1) == (3, 7)  # from 城北社区
    assert services.setting_for(eng.tree.grid3) == (10, 7)  # the default
    topic = eng.propose(area=eng.tree.grid2)
    assert services.topic_support(actor=eng.neighbours[0], topic_id=topic.pk).state == TopicState.discussing
    with pytest.raises(NotFound):
        services.setting_save(
            actor=eng.tree.outsiders[Role.COMMUNITY_WORKER], area=eng.tree.chengbei, support_threshold=2, review_days=7
        )
    with pytest.raises(DomainError, match="附议门槛"):
        services.setting_save(actor=admin, area=eng.tree.chengbei, support_threshold=0, review_days=7)


def test_staff_move_or_dismiss_with_a_reason_and_the_proposer_withdraws(eng: Engage) -> None:
    topic = eng.propose()
    with pytest.raises(DomainError, match="须填写理由"):
        services.topic_step(actor=eng.worker, topic_id=topic.pk, step=Step.to_discussion, reason="")
    with pytest.raises(Forbidden):
        services.topic_step(actor=eng.neighbours[0], topic_id=topic.pk, step=Step.to_discussion, reason="急")
    services.topic_step(actor=eng.worker, topic_id=topic.pk, step=Step.to_discussion, reason="涉及消防安全，先议")
    assert _state(topic) == TopicState.discussing
    other = eng.propose("另一件事")
    with pytest.raises(Forbidden):
        services.topic_step(actor=eng.neighbours[0], topic_id=other.pk, step=Step.withdraw)
    services.topic_step(actor=eng.resident, topic_id=other.pk, step=Step.withdraw)
    assert _state(other) == TopicState.withdrawn


def test_comments_are_counted_and_kept_in_the_history(eng: Engage) -> None:
    topic = eng.propose()
    services.topic_comment(actor=eng.neighbours[0], topic_id=topic.pk, body="同意，晚上充电的人多")
    services.topic_comment(actor=eng.worker, topic_id=topic.pk, body="社区将联系物业")
    assert Topic.objects.get(pk=topic.pk).comment_count == 2
    assert _actions(topic) == ["propose", "comment", "comment"]
    with pytest.raises(DomainError):
        services.topic_comment(actor=eng.worker, topic_id=topic.pk, body=" ")


# --- meetings and decisions ------------------------------------------------------------------


def test_only_discussed_topics_of_the_community_go_on_the_agenda(eng: Engage) -> None:
    topic = eng.propose()
    meeting = services.meeting_create(
        actor=eng.worker, area=eng.tree.grid1, kind="roundtable", title="网格一圆桌会", starts_at=NOW
    )
    with pytest.raises(DomainError, match="只有议事中"):
        services.agenda_add(actor=eng.worker, meeting_id=meeting.pk, topic_id=topic.pk)
    eng.discuss(topic)
    services.agenda_add(actor=eng.worker, meeting_id=meeting.pk, topic_id=topic.pk)
    with pytest.raises(DomainError, match="已在议程"):
        services.agenda_add(actor=eng.worker, meeting_id=meeting.pk, topic_id=topic.pk)
    with pytest.raises(NotFound):
        services.meeting_create(
            actor=eng.tree.outsiders[Role.COMMUNITY_WORKER], area=eng.tree.grid1, kind="friday", title="", starts_at=NOW
        )
    with pytest.raises(DomainError, match="本社区没有账号"):
        services.invitee_add(
            actor=eng.worker, meeting_id=meeting.pk, name="外人", username=eng.tree.outsiders[Role.RESIDENT].username
        )


def test_a_decision_needs_attendance_and_valid_votes(eng: Engage) -> None:
    topic = eng.discuss(eng.propose())
    meeting = services.meeting_create(actor=eng.worker, area=eng.tree.chengbei, kind="friday", title="", starts_at=NOW)
    services.agenda_add(actor=eng.worker, meeting_id=meeting.pk, topic_id=topic.pk)
    invitees = [services.invitee_add(actor=eng.worker, meeting_id=meeting.pk, name=f"代表{i}").pk for i in range(4)]
    kwargs = {"actor": eng.worker, "meeting_id": meeting.pk, "topic_id": topic.pk, "content": "建充电棚"}
    with pytest.raises(DomainError, match="先记录到会"):
        services.decision_record(**kwargs, votes_for=3, votes_against=0, votes_abstain=0)
    services.attendance_record(actor=eng.worker, meeting_id=meeting.pk, present=invitees[:3])
    with pytest.raises(DomainError, match="超过到会人数 3"):
        services.decision_record(**kwargs, votes_for=3, votes_against=1, votes_abstain=0)
    with pytest.raises(DomainError, match="请填写表决票数"):
        services.decision_record(**kwargs, votes_for=0, votes_against=0, votes_abstain=0)
    decision = services.decision_record(**kwargs, votes_for=2, votes_against=1, votes_abstain=0)
    assert decision.adopted and decision.present == 3
    assert _state(topic) == TopicState.decided
    with pytest.raises(DomainError):
        services.decision_record(**kwargs, votes_for=2, votes_against=1, votes_abstain=0)
    history = TopicEvent.objects.filter(topic=topic, action=Step.adopt).get()
    assert history.payload["votes"] == {"for": 2, "against": 1, "abstain": 0, "present": 3}


def test_a_failed_vote_ends_the_topic(eng: Engage) -> None:
    topic = eng.discuss(eng.propose())
    decision = eng.decide(topic, votes=(1, 1, 1))
    assert not decision.adopted and _state(topic) == TopicState.not_adopted
    with pytest.raises(DomainError, match="不能添加办理事项"):
        eng.act(topic)


# --- actions, reviews ------------------------------------------------------------------------


def test_an_action_raises_a_case_that_must_close_before_the_action_is_done(eng: Engage) -> None:
    env = make_env(eng.tree)
    topic = eng.discuss(eng.propose(building=eng.tree.building1))
    eng.decide(topic)
    action = eng.act(topic, kind=ActionKind.CASE, category=env.category, title="修补路面")
    assert _state(topic) == TopicState.acting
    case = Case.objects.get(pk=action.case_id)
    assert case.channel == Channel.VISIT and case.grid == eng.tree.grid1
    assert case.description.startswith("【议事转办】")
    with pytest.raises(DomainError, match="尚未结案"):
        services.action_update(actor=eng.worker, action_id=action.pk, progress=100)
    services.action_update(actor=eng.worker, action_id=action.pk, progress=50, note="已派单")
    with pytest.raises(DomainError, match="不能倒退"):
        services.action_update(actor=eng.worker, action_id=action.pk, progress=20)
    Case.objects.filter(pk=case.pk).update(state=CaseState.closed.value)  # the case loop is tested elsewhere
    services.action_update(actor=eng.worker, action_id=action.pk, progress=100, note="已修好")
    assert _state(topic) == TopicState.reviewing
    assert case_services is not None


def test_a_topic_without_a_place_cannot_become_a_case(eng: Engage) -> None:
    env = make_env(eng.tree)
    topic = eng.discuss(eng.propose())  # the community, which has no point
    eng.decide(topic)
    with pytest.raises(DomainError, match="无法转为案件"):
        eng.act(topic, kind=ActionKind.CASE, category=env.category)
    assert not Case.objects.exists()


def test_reviews_come_from_supporters_and_attendees_then_the_topic_closes(eng: Engage) -> None:
    topic = eng.discuss(eng.propose())
    eng.decide(topic)
    first = eng.act(topic)
    second = eng.act(topic, title="安装灭火器")
    services.action_update(actor=eng.worker, action_id=first.pk, progress=100)
    assert _state(topic) == TopicState.acting  # one action still open
    with pytest.raises(DomainError, match="不在评议期"):
        services.topic_review(actor=eng.resident, topic_id=topic.pk, rating="satisfied")
    services.action_update(actor=eng.worker, action_id=second.pk, progress=100, now=NOW)
    topic.refresh_from_db()
    assert topic.state == TopicState.reviewing and topic.review_until == NOW + timedelta(days=7)
    told = set(Notification.objects.filter(kind="engage.review").values_list("user_id", flat=True))
    assert told == {eng.resident.pk, *(n.pk for n in eng.neighbours)}
    services.topic_review(actor=eng.neighbours[0], topic_id=topic.pk, rating="satisfied", comment="很好", now=NOW)
    with pytest.raises(DomainError, match="已评议过"):
        services.topic_review(actor=eng.neighbours[0], topic_id=topic.pk, rating="basic", now=NOW)
    with pytest.raises(Forbidden):
        services.topic_review(actor=eng.worker, topic_id=topic.pk, rating="basic", now=NOW)
    with pytest.raises(DomainError, match="请选择评价"):
        services.topic_review(actor=eng.resident, topic_id=topic.pk, rating="great", now=NOW)
    services.topic_review(actor=eng.resident, topic_id=topic.pk, rating="unsatisfied", now=NOW)
    later = NOW + timedelta(days=8)
    with pytest.raises(DomainError, match="评议期已结束"):
        services.topic_review(actor=eng.neighbours[1], topic_id=topic.pk, rating="basic", now=later)
    assert services.topics_close_due(now=NOW) == 0
    assert services.topics_close_due(now=later) == 1
    assert services.topics_close_due(now=later) == 0
    out = io.StringIO()
    call_command("close_reviews", stdout=out)  # the cron entry: nothing left to close
    assert out.getvalue().strip() == "closed 0"
    topic.refresh_from_db()
    assert topic.state == TopicState.closed and topic.closed_at == later
    close = TopicEvent.objects.get(topic=topic, action=Step.close)
    assert close.payload["reviews"] == {"satisfied": 1, "basic": 0, "unsatisfied": 1}
    assert Review.objects.filter(topic=topic).count() == 2
    assert _actions(topic) == [
        "propose", "support", "support", "support", "threshold", "agenda", "adopt", "action_add", "start_action",
        "action_add", "action_done", "action_done", "finish_actions", "review", "review", "close",
    ]  # fmt: skip


def test_staff_may_close_the_review_early(eng: Engage) -> None:
    topic = eng.discuss(eng.propose(area=eng.tree.grid1))  # the grid worker sees it, but may not close it
    eng.decide(topic)
    services.action_update(actor=eng.worker, action_id=eng.act(topic).pk, progress=100)
    with pytest.raises(Forbidden):
        services.topic_close(actor=eng.tree.users[Role.GRID_WORKER], topic_id=topic.pk)
    services.topic_close(actor=eng.worker, topic_id=topic.pk)
    assert _state(topic) == TopicState.closed


# --- scope -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        ("in_resident", True),
        ("out_resident", False),
        ("in_grid_worker", False),  # the topic sits in 网格一's community but at the community level
        ("in_community_worker", True),
        ("out_community_worker", False),
        ("in_subdistrict_dispatcher", True),
        ("in_district_leader", True),
        ("in_department_officer", False),
        ("in_party_secretary", True),
        ("in_admin", True),
    ],
)
def test_who_sees_a_community_topic(eng: Engage, who: str, sees: bool) -> None:
    topic = eng.propose()
    users = {u.username: u for u in [*eng.tree.users.values(), *eng.tree.outsiders.values()]}
    assert reads.topics_for(users[who]).filter(pk=topic.pk).exists() is sees
    if not sees:
        with pytest.raises(NotFound):
            reads.topic_get(user=users[who], topic_id=topic.pk)


def test_a_resident_outside_the_community_may_not_support(eng: Engage) -> None:
    topic = eng.propose()
    with pytest.raises(NotFound):
        services.topic_support(actor=eng.tree.outsiders[Role.RESIDENT], topic_id=topic.pk)
    assert not Support.objects.exists()


def test_a_grid_worker_sees_topics_of_their_grid(eng: Engage) -> None:
    topic = eng.propose(area=eng.tree.grid1)
    assert reads.topics_for(eng.tree.users[Role.GRID_WORKER]).filter(pk=topic.pk).exists()
    assert not reads.topics_for(eng.tree.outsiders[Role.GRID_WORKER]).filter(pk=topic.pk).exists()
    # but only community workers run the meeting
    with pytest.raises(NotFound):
        services.meeting_create(
            actor=eng.tree.users[Role.GRID_WORKER], area=eng.tree.grid1, kind="friday", title="", starts_at=NOW
        )
    assert date.today()
