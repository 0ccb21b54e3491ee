"""Background task: the day's quality snapshot (idempotent: a repeat rewrites the same rows)."""

from __future__ import annotations

from datetime import date

from django_tasks import task

from grassroots.core import clock
from grassroots.registry.quality.services import quality_snapshot


@task()
def snapshot_quality(day: str | None = None) -> int:
    """``day`` as YYYY-MM-DD (task arguments must be JSON); default today."""
    return quality_snapshot(day=date.fromisoformat(day) if day else clock.today())
