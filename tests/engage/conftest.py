"""Deliberation fixtures: residents of 城北社区 who support topics, and a helper to walk the loop."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import pytest

from grassroots.accounts import services as accounts
from grassroots.accounts.models import Role
from grassroots.audit.services import SYSTEM
from grassroots.cases.workflow import TZ
from grassroots.engage import services
from grassroots.engage.models import Decision, Meeting, Topic
from tests.factories import PASSWORD, Tree

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=TZ)


@dataclass
class Engage:
    tree: Tree
    neighbours: list[Any] = field(default_factory=list)

    @property
    def resident(self) -> Any:
        return self.tree.users[Role.RESIDENT]

    @property
    def worker(self) -> Any:
        return self.tree.users[Role.COMMUNITY_WORKER]

    def propose(self, title: str = "小区增设电动车充电桩", **kwargs: Any) -> Topic:
        return services.topic_propose(
            actor=self.resident, title=title, description="楼道里充电有火灾隐患", now=NOW, **kwargs
        )

    def discuss(self, topic: Topic) -> Topic:
        for neighbour in self.neighbours:
            topic = services.topic_support(actor=neighbour, topic_id=topic.pk, now=NOW)
        return topic

    def meeting(self, topic: Topic, *, attend: int = 3) -> Meeting:
        meeting = services.meeting_create(
            actor=self.worker, area=self.tree.chengbei, kind="parlour", title="", starts_at=NOW
        )
        services.agenda_add(actor=self.worker, meeting_id=meeting.pk, topic_id=topic.pk)
        ids = [
            services.invitee_add(actor=self.worker, meeting_id=meeting.pk, name=n.username, username=n.username).pk
            for n in self.neighbours[:attend]
        ]
        services.attendance_record(actor=self.worker, meeting_id=meeting.pk, present=ids)
        return meeting

    def decide(self, topic: Topic, votes: tuple[int, int, int] = (3, 0, 0)) -> Decision:
        meeting = self.meeting(topic)
        return services.decision_record(
            actor=self.worker,
            meeting_id=meeting.pk,
            topic_id=topic.pk,
            content="在3幢北侧建充电棚",
            votes_for=votes[0],
            votes_against=votes[1],
            votes_abstain=votes[2],
            now=NOW,
        )

    def act(self, topic: Topic, **kwargs: Any) -> Any:
        params: dict[str, Any] = {"title": "建设充电棚", "owner": "社区居委会", "deadline": date(2026, 12, 31)}
        params.update(kwargs)
        return services.action_add(actor=self.worker, topic_id=topic.pk, now=NOW, **params)


@pytest.fixture
def eng(tree: Tree) -> Engage:
    services.setting_save(actor=tree.users[Role.ADMIN], area=tree.chengbei, support_threshold=3, review_days=7)
    neighbours = [
        accounts.user_create(
            actor=SYSTEM, username=f"neighbour{i}", password=PASSWORD, role=Role.RESIDENT, area=tree.chengbei
        )
        for i in range(3)
    ]
    return Engage(tree, neighbours)
