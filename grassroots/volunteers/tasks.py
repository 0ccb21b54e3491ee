"""Background tasks of the volunteers app (thin, idempotent: they call services)."""

from __future__ import annotations

from django_tasks import task

from grassroots.volunteers.services import mobilisation


@task()
def mobilisation_fanout_task(mobilisation_id: int) -> dict[str, int]:
    """Fan a mobilisation out; a repeat, or a run after a crash, sends nothing twice."""
    report = mobilisation.mobilisation_fanout(mobilisation_id=mobilisation_id)
    return {"candidates": report.candidates, "notified": report.notified, "unreachable": report.unreachable}
