"""Every write of the engage app: deliberation and notices."""

from grassroots.engage.services.meetings import (
    action_add,
    action_update,
    agenda_add,
    attendance_record,
    decision_record,
    invitee_add,
    link_done,
    meeting_create,
    minutes_save,
)
from grassroots.engage.services.notices import notice_publish, notice_read, notice_save, notice_withdraw
from grassroots.engage.services.topics import (
    may_review,
    setting_for,
    setting_save,
    topic_close,
    topic_comment,
    topic_propose,
    topic_review,
    topic_step,
    topic_support,
    topics_close_due,
)

__all__ = [
    "action_add",
    "action_update",
    "agenda_add",
    "attendance_record",
    "decision_record",
    "invitee_add",
    "link_done",
    "may_review",
    "meeting_create",
    "minutes_save",
    "notice_publish",
    "notice_read",
    "notice_save",
    "notice_withdraw",
    "setting_for",
    "setting_save",
    "topic_close",
    "topic_comment",
    "topic_propose",
    "topic_review",
    "topic_step",
    "topic_support",
    "topics_close_due",
]
