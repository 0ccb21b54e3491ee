"""Writes of 网格议事 → 会议定事 → 联动办事: meetings, agenda, attendance, decisions with votes, actions.

Only staff who run deliberation (``engage.manage``) in the meeting's or topic's area write here.
A decision needs a meeting with attendance recorded and the topic on its agenda; an action may
raise a case through ``case_submit`` (channel ``visit``) or link a volunteers project; when the
last action is done the topic opens for review and its supporters and attendees are told.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from grassroots.accounts.models import User
from grassroots.accounts.scopes import scope_for
from grassroots.audit.services import actor_of, audit_record
from grassroots.cases.models import Case, Category, Channel
from grassroots.cases.services import case_submit
from grassroots.cases.workflow import CaseState
from grassroots.core import clock
from grassroots.core.errors import DomainError, NotFound
from grassroots.engage.models import (
    Action,
    ActionKind,
    AgendaItem,
    Decision,
    Invitee,
    Meeting,
    MeetingKind,
    Support,
    Topic,
)
from grassroots.engage.selectors.scopes import community_of, run_scope
from grassroots.engage.services._common import event
from grassroots.engage.services.topics import _flow, _move, review_window
from grassroots.engage.workflow import Actor, Step, TopicFlowError, TopicState, Votes, next_state, vote_result
from grassroots.notify.services import notify
from grassroots.places.models import Area
from grassroots.volunteers.models import Project


def _audit(actor: Any, action: str, obj: str, pk: Any, path: str, **detail: Any) -> None:
    audit_record(actor=actor_of(actor), action=action, object_type=obj, object_id=pk, area_path=path, detail=detail)


def _meeting(actor: Any, meeting_id: int, *, lock: bool = True) -> Meeting:
    rows = Meeting.objects.select_for_update() if lock else Meeting.objects.all()
    meeting = rows.filter(pk=meeting_id).first()
    if meeting is None or not run_scope(actor).covers_path(meeting.path):
        raise NotFound()
    return meeting


def _topic(actor: Any, topic_id: int) -> Topic:
    topic = Topic.objects.select_for_update().filter(pk=topic_id).first()
    if topic is None or not run_scope(actor).covers_path(topic.path):
        raise NotFound()
    return topic


@transaction.atomic
def meeting_create(*, actor: Any, area: Area, kind: str, title: str, starts_at: datetime, place: str = "") -> Meeting:
    if not run_scope(actor).covers_path(area.path):
        raise NotFound()
    if community_of(area) is None:
        raise DomainError("议事会议须在社区或网格召开。", field="area")
    if kind not in MeetingKind.values:
        raise DomainError("请选择会议形式。", field="kind")
    title = title.strip() or f"{area.name}{MeetingKind(kind).label}"
    now = clock.now()
    meeting = Meeting.objects.create(
        kind=kind,
        title=title[:100],
        area=area,
        path=area.path,
        starts_at=starts_at,
        place=place.strip()[:200],
        created_by=actor,
        created_at=now,
        updated_at=now,
    )
    _audit(actor, "engage.meeting.create", "meeting", meeting.pk, meeting.path, kind=kind)
    return meeting


@transaction.atomic
def agenda_add(*, actor: Any, meeting_id: int, topic_id: int) -> AgendaItem:
    meeting = _meeting(actor, meeting_id)
    topic = _topic(actor, topic_id)
    community = community_of(meeting.area)
    if community is None or not (topic.path == community.path or topic.path.startswith(community.path + ".")):
        raise DomainError("只能把本社区的议题列入议程。", field="topic")
    if topic.state != TopicState.discussing.value:
        raise DomainError(f"议题“{topic.title}”当前为“{topic.state_label}”，只有议事中的议题可以列入议程。")
    sort = (meeting.agenda.aggregate(m=Max("sort"))["m"] or 0) + 1
    try:
        with transaction.atomic():
            item = AgendaItem.objects.create(meeting=meeting, topic=topic, sort=sort)
    except IntegrityError:
        raise DomainError("该议题已在议程中。", field="topic") from None
    event(topic, at=clock.now(), actor=actor, action="agenda", payload={"meeting": meeting.pk}, note=meeting.title)
    return item


@transaction.atomic
def invitee_add(*, actor: Any, meeting_id: int, name: str, capacity: str = "", username: str = "") -> Invitee:
    """Invite a person; naming their account lets them review the outcome later."""
    meeting = _meeting(actor, meeting_id)
    user = None
    username = username.strip()
    if username:
        community = community_of(meeting.area)
        user = User.objects.filter(username=username, is_active=True).select_related("area").first()
        user_community = community_of(user.area) if user is not None and user.area_id else None
        if user is None or community is None or user_community is None or user_community.pk != community.pk:
            raise DomainError(f"本社区没有账号“{username}”。", field="username")
    name = name.strip() or (str(user) if user else "")
    if not name:
        raise DomainError("请填写参会人姓名。", field="name")
    try:
        with transaction.atomic():
            invitee = Invitee.objects.create(meeting=meeting, name=name[:50], capacity=capacity.strip()[:50], user=user)
    except IntegrityError:
        raise DomainError("该账号已在参会名单中。", field="username") from None
    return invitee


@transaction.atomic
def attendance_record(*, actor: Any, meeting_id: int, present: Sequence[int]) -> Meeting:
    """Record who came (invitee ids); a decision needs this first."""
    meeting = _meeting(actor, meeting_id)
    ids = set(meeting.invitees.values_list("pk", flat=True))
    chosen = {int(p) for p in present}
    if not chosen:
        raise DomainError("请勾选到会人员。", field="present")
    if not chosen <= ids:
        raise DomainError("到会人员须在参会名单中。", field="present")
    meeting.invitees.update(attended=False)
    meeting.invitees.filter(pk__in=chosen).update(attended=True)
    meeting.attendance_recorded_at = clock.now()
    meeting.updated_at = meeting.attendance_recorded_at
    meeting.save(update_fields=["attendance_recorded_at", "updated_at"])
    _audit(actor, "engage.meeting.attendance", "meeting", meeting.pk, meeting.path, present=len(chosen))
    return meeting


@transaction.atomic
def minutes_save(*, actor: Any, meeting_id: int, minutes: str) -> Meeting:
    meeting = _meeting(actor, meeting_id)
    meeting.minutes = minutes.strip()
    meeting.updated_at = clock.now()
    meeting.save(update_fields=["minutes", "updated_at"])
    _audit(actor, "engage.meeting.minutes", "meeting", meeting.pk, meeting.path)
    return meeting


@transaction.atomic
def decision_record(
    *,
    actor: Any,
    meeting_id: int,
    topic_id: int,
    content: str,
    votes_for: int,
    votes_against: int,
    votes_abstain: int,
    now: datetime | None = None,
) -> Decision:
    """会议定事: the votes decide whether the topic passes (more than half of the votes cast for it)."""
    now = now or clock.now()
    meeting = _meeting(actor, meeting_id)
    topic = _topic(actor, topic_id)
    if not AgendaItem.objects.filter(meeting=meeting, topic=topic).exists():
        raise DomainError("该议题不在本次会议议程中。", field="topic")
    if meeting.attendance_recorded_at is None:
        raise DomainError("请先记录到会人员，再表决。", code="attendance_missing")
    if not content.strip():
        raise DomainError("请填写决定事项。", field="content")
    present = meeting.invitees.filter(attended=True).count()
    votes = Votes(votes_for, votes_against, votes_abstain)
    try:
        adopted = vote_result(votes, present)
    except TopicFlowError as error:
        raise DomainError(error.message, code=error.code, field="votes") from None
    if Decision.objects.filter(topic=topic).exists():
        raise DomainError("该议题已有决定。", code="decided")
    step = Step.adopt if adopted else Step.reject
    try:
        next_state(TopicState(topic.state), step, Actor.staff)
    except TopicFlowError as error:
        raise _flow(error) from None
    decision = Decision.objects.create(
        topic=topic,
        meeting=meeting,
        content=content.strip(),
        votes_for=votes_for,
        votes_against=votes_against,
        votes_abstain=votes_abstain,
        present=present,
        adopted=adopted,
        decided_by=actor,
        decided_at=now,
    )
    _move(
        topic,
        actor=actor,
        step=step,
        who=Actor.staff,
        now=now,
        reason=content.strip(),
        meeting=meeting.pk,
        votes={"for": votes_for, "against": votes_against, "abstain": votes_abstain, "present": present},
    )
    return decision


def _case_place(topic: Topic) -> dict[str, Any]:
    if topic.building_id is not None:
        return {"building": topic.building}
    if topic.lon is not None and topic.lat is not None:
        return {"lon": topic.lon, "lat": topic.lat}
    if topic.area.lon is not None and topic.area.lat is not None:
        return {"lon": topic.area.lon, "lat": topic.area.lat}
    raise DomainError("议题没有楼栋或位置，无法转为案件；请改为一般事项。", field="kind")


@transaction.atomic
def action_add(
    *,
    actor: Any,
    topic_id: int,
    title: str,
    owner: str,
    deadline: date,
    kind: str = ActionKind.PLAIN,
    category: Category | None = None,
    project: Project | None = None,
    now: datetime | None = None,
) -> Action:
    """联动办事: one thing to do for an adopted decision; a case is raised, or a project linked."""
    now = now or clock.now()
    topic = _topic(actor, topic_id)
    if topic.state not in (TopicState.decided.value, TopicState.acting.value):
        raise DomainError(f"议题当前为“{topic.state_label}”，不能添加办理事项。")
    decision = Decision.objects.get(topic=topic)
    title, owner = title.strip(), owner.strip()
    if not title:
        raise DomainError("请填写办理事项。", field="title")
    if not owner:
        raise DomainError("请填写责任人或责任单位。", field="owner")
    if deadline < now.date():
        raise DomainError("完成时限不能早于今天。", field="deadline")
    case: Case | None = None
    if kind == ActionKind.CASE:
        if category is None:
            raise DomainError("转办案件须选择事项类型。", field="category")
        case = case_submit(
            actor=actor,
            scope=scope_for(actor, "cases.report"),
            channel=Channel.VISIT,
            category=category,
            description=f"【议事转办】{topic.title}：{title}",
            address_text=topic.place_text,
            now=now,
            **_case_place(topic),
        ).case
    elif kind == ActionKind.PROJECT:
        if project is None or not scope_for(actor, "volunteers.view").covers_path(project.path):
            raise DomainError("请选择辖区内的志愿服务项目。", field="project")
    elif kind != ActionKind.PLAIN:
        raise DomainError("请选择办理方式。", field="kind")
    action = Action.objects.create(
        topic=topic,
        decision=decision,
        path=topic.path,
        kind=kind,
        title=title[:200],
        owner=owner[:100],
        deadline=deadline,
        case=case,
        project=project if kind == ActionKind.PROJECT else None,
        created_at=now,
        updated_at=now,
    )
    event(
        topic,
        at=now,
        actor=actor,
        action="action_add",
        note=title,
        payload={"action": action.pk, "kind": kind, "case": case.number if case else None, "owner": owner},
    )
    if topic.state == TopicState.decided.value:
        _move(topic, actor=actor, step=Step.start_action, who=Actor.staff, now=now)
    return action


def link_done(action: Action) -> bool:
    """Whether the linked case or project is finished (a plain action has no link)."""
    if action.kind == ActionKind.CASE:
        return action.case is not None and action.case.state == CaseState.closed.value
    if action.kind == ActionKind.PROJECT:
        return action.project is not None and action.project.done_at is not None
    return True


@transaction.atomic
def action_update(*, actor: Any, action_id: int, progress: int, note: str = "", now: datetime | None = None) -> Action:
    """Progress 0–100 %, never backwards; 100 % is done (a linked case must be closed, a project done)."""
    now = now or clock.now()
    action = (
        Action.objects.select_for_update(of=("self",)).select_related("case", "project").filter(pk=action_id).first()
    )
    if action is None or not run_scope(actor).covers_path(action.path):
        raise NotFound()
    topic = _topic(actor, action.topic_id)
    if action.done_at is not None:
        raise DomainError("该事项已完成。")
    if not 0 <= progress <= 100:
        raise DomainError("进度应在 0 到 100 之间。", field="progress")
    if progress < action.progress:
        raise DomainError(f"进度不能倒退（当前 {action.progress}%）。", field="progress")
    if progress == 100 and not link_done(action):
        what = (
            f"案件 {action.case.number if action.case else ''} 尚未结案"
            if action.kind == ActionKind.CASE
            else "服务项目尚未完成"
        )
        raise DomainError(f"{what}，不能标记完成。", field="progress")
    action.progress = progress
    if note.strip():
        action.note = f"{action.note}\n[{timezone.localtime(now):%Y-%m-%d} · {progress}%] {note.strip()}".strip()
    action.updated_at = now
    if progress == 100:
        action.done_at = now
    action.save(update_fields=["progress", "note", "updated_at", "done_at"])
    event(
        topic,
        at=now,
        actor=actor,
        action="action_done" if progress == 100 else "action_progress",
        note=note.strip(),
        payload={"action": action.pk, "title": action.title, "progress": progress},
    )
    if progress == 100 and not Action.objects.filter(topic=topic, done_at__isnull=True).exists():
        topic.review_until = review_window(topic, now)
        _move(topic, actor=actor, step=Step.finish_actions, who=Actor.staff, now=now)
        _invite_reviews(topic)
    return action


def _invite_reviews(topic: Topic) -> None:
    users = set(Support.objects.filter(topic=topic).values_list("user_id", flat=True))
    users |= set(
        Invitee.objects.filter(meeting__agenda__topic=topic, attended=True, user__isnull=False).values_list(
            "user_id", flat=True
        )
    )
    if topic.proposer_id is not None:
        users.add(topic.proposer_id)
    if not users:
        return
    subject = f"议题“{topic.title}”已办结，请评议"
    notify(
        recipients=sorted(u for u in users if u is not None),
        kind="engage.review",
        subject=subject,
        body=f"{subject}。评议截止：{topic.review_until:%Y-%m-%d}。" if topic.review_until else subject,
        idempotency_key=f"topic:{topic.pk}:review",
        payload={"topic": topic.pk},
        area_path=topic.path,
    )
