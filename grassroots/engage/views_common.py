"""What the resident and staff pages share: the capability check and how history reads."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse

from grassroots.core.errors import NotFound
from grassroots.engage.models import ReviewRating, TopicEvent, TopicPhoto
from grassroots.engage.selectors import engage as reads
from grassroots.engage.workflow import Step

View = Callable[..., HttpResponse]
EVENT_LABELS = {
    "propose": "提出议题",
    "support": "附议",
    "comment": "评论",
    "agenda": "列入会议议程",
    "action_add": "新增办理事项",
    "action_progress": "办理进展",
    "action_done": "办理事项完成",
    "review": "评议",
    **{step.value: step.label for step in Step},
}
ROLE_LABELS = {"resident": "居民", "staff": "工作人员", "system": "系统"}


@dataclass
class HistoryItem:
    at: datetime
    who: str
    label: str
    note: str


def history(events: list[TopicEvent], user: Any) -> list[HistoryItem]:
    items = []
    for e in events:
        who = "我" if e.actor_id == user.pk else ROLE_LABELS.get(e.role, e.role)
        label = EVENT_LABELS.get(e.action, e.action)
        if e.action == "review" and e.payload.get("rating") in ReviewRating.values:
            label = f"评议：{ReviewRating(e.payload['rating']).label}"
        votes = e.payload.get("votes")
        if isinstance(votes, dict):
            label += f"（到会{votes['present']}人，赞成{votes['for']}、反对{votes['against']}、弃权{votes['abstain']}）"
        if e.action == "support":
            label += f"（共{e.payload.get('count', '')}人）"
        if e.action == "action_progress":
            label += f" {e.payload.get('progress', '')}%"
        if e.action in ("action_progress", "action_done") and e.payload.get("title"):
            label += f"：{e.payload['title']}"
        if e.action == "action_add" and e.payload.get("case"):
            label += f"（转办案件 {e.payload['case']}）"
        items.append(HistoryItem(e.at, who, label, "" if e.action == "propose" else e.note))
    return items


@login_required
def photo(request: HttpRequest, photo_id: int) -> FileResponse:
    row = TopicPhoto.objects.filter(pk=photo_id).first()
    if row is None or not reads.topics_for(request.user).filter(pk=row.topic_id).exists():
        raise NotFound()
    try:
        handle = row.file.open("rb")
    except FileNotFoundError:
        raise NotFound() from None
    response = FileResponse(handle, content_type=row.content_type)
    response["Cache-Control"] = "private, max-age=86400"
    response["X-Content-Type-Options"] = "nosniff"
    return response
