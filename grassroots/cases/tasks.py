"""Background task: one SLA sweep (idempotent: a repeat finds nothing to do)."""

from __future__ import annotations

from django_tasks import task

from grassroots.cases import services


@task()
def sla_sweep() -> dict[str, int]:
    report = services.sla_sweep()
    return {"reminded": report.reminded, "overdue": report.overdue}


@task()
def routing_train() -> dict[str, object]:
    """Retrain the platform-wide dispatch model (a new version each run; too little history stores nothing)."""
    from grassroots.cases.services.routing import TooLittleHistoryError
    from grassroots.cases.services.routing import routing_train as train

    try:
        row = train(actor=None)
    except TooLittleHistoryError as error:
        return {"trained": False, "reason": error.message}
    return {"trained": True, "version": row.version, "samples": row.samples, "accuracy": row.accuracy}
