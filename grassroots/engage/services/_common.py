"""Helpers shared by the engage services."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from grassroots.engage.models import Topic, TopicEvent
from grassroots.engage.selectors.scopes import is_staff


def role_of(user: Any) -> str:
    if user is None:
        return "system"
    return "staff" if is_staff(user) else "resident"


def event(
    topic: Topic, *, at: datetime, actor: Any, action: str, from_state: str = "", to_state: str = "", **fields: Any
) -> TopicEvent:
    label = actor.get_username() if actor is not None else "system"
    return TopicEvent.objects.create(
        topic=topic,
        at=at,
        actor=actor,
        actor_label=label,
        role=role_of(actor),
        action=action,
        from_state=from_state,
        to_state=to_state,
        **fields,
    )
