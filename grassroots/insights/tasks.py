"""Background task: refresh the insight rollups (idempotent: a repeat rewrites the same rows)."""

from __future__ import annotations

from django_tasks import task

from grassroots.insights.services.rollups import rollups_refresh


@task()
def refresh_insights(full: bool = False) -> dict[str, int]:
    result = rollups_refresh(full=full)
    return {"months": len(result.months), "case_rows": result.case_rows, "grids": result.grids}
