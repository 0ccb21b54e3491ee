"""Background task: one delivery sweep of the outbox (idempotent: claims make repeats harmless)."""

from __future__ import annotations

from django_tasks import task

from grassroots.notify import services


@task()
def deliver_notifications() -> dict[str, int]:
    report = services.deliver_due()
    return {"claimed": report.claimed, "sent": report.sent, "retrying": report.retrying, "dead": report.dead}
