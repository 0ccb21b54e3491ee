"""Background task: run an import job (idempotent: a finished job is left alone, a stopped one resumes)."""

from __future__ import annotations

from django_tasks import TaskContext, task

from grassroots.audit.services import SYSTEM
from grassroots.registry.imports import services


@task(takes_context=True)
def run_import_job(context: TaskContext, job_id: int) -> str:
    job = services.import_job_run(job_id=job_id, actor=SYSTEM, runner=f"task:{context.task_result.id}")
    return str(job.status)


@task()
def link_import_job(job_id: int) -> str:
    """Record linkage over a finished import's rows (queued by ``import_job_run``)."""
    from grassroots.registry.models import ImportJob
    from grassroots.registry.services.linking import link_job

    job = ImportJob.objects.get(pk=job_id)
    return str(link_job(job=job, actor=SYSTEM).run.status)
