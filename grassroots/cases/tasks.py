"""Background task: one SLA sweep (idempotent: a repeat finds nothing to do)."""

from __future__ import annotations

from django_tasks import task

from grassroots.cases import services


@task()
def sla_sweep() -> dict[str, int]:
    report = services.sla_sweep()
    return {"reminded": report.reminded, "overdue": report.overdue}
