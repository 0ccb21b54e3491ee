"""Background task: run an import job (idempotent: a finished job is left alone, a stopped one resumes)."""

from __future__ import annotations

from django_tasks import TaskContext, task

from grassroots.audit.services import SYSTEM
from grassroots.registry.imports import services


@task(takes_context=True)
def run_import_job(context: TaskContext, job_id: int) -> str:
    job = services.import_job_run(job_id=job_id, actor=SYSTEM, runner=f"task:{context.task_result.id}")
    return str(job.status)
