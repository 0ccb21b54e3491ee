"""Import jobs: upload → preview → start → run in batches (resumable) → rejected-rows file.

A job is created only once its file has passed every check (size, type, zip bomb,
encoding, rows), so a refused file writes nothing. Running is crash-safe: each batch of
rows is written in the same transaction that advances ``processed_rows`` and the
heartbeat, and a rerun resumes after the last committed batch.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from pathlib import PurePath

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F

from grassroots.audit.services import Actor, audit_record
from grassroots.core import clock
from grassroots.core.errors import DomainError, Forbidden, NotFound
from grassroots.core.scope import Scope
from grassroots.places.models import Area
from grassroots.registry.imports.address import AddressIndex
from grassroots.registry.imports.mapping import clean_mapping, suggest_mapping
from grassroots.registry.imports.pipeline import tag_ids, write_batch
from grassroots.registry.imports.readers import Table, check_size, read_table, sniff_kind
from grassroots.registry.imports.validation import RowResult, validate_row
from grassroots.registry.models import ImportJob, ImportStatus, Source

logger = logging.getLogger(__name__)

BATCH_SIZE = 500
PREVIEW_ROWS = 20
# A running job whose heartbeat is older than this lost its worker and may be restarted.
STALE_AFTER = timedelta(minutes=3)


@dataclass
class Preview:
    table: Table
    mapping: dict[str, str]
    rows: list[RowResult]
    errors: list[str]  # what is wrong with the mapping, in Chinese


def file_bytes(job: ImportJob) -> bytes:
    with job.file.open("rb") as handle:
        return handle.read()


def _job_path(scope: Scope, area: Area | None, whole_tree: bool = False) -> str:
    if scope.area_path is None:
        raise Forbidden("您的角色无权导入数据。")
    if area is not None:
        if not scope.covers_path(area.path):
            raise NotFound()
        return area.path
    if scope.is_everything and not whole_tree:
        raise DomainError("请选择导入到哪个区域（管理员必须指定区域）。", field="area")
    return scope.area_path


def import_job_create(
    *,
    actor: Actor,
    scope: Scope,
    source: Source,
    data: bytes,
    file_name: str,
    area: Area | None = None,
    sheet: str = "",
    created_by_id: int | None = None,
    whole_tree: bool = False,
) -> tuple[ImportJob, bool]:
    """Check and store an uploaded file; (job, created). The same file for a source answers its job.

    ``whole_tree`` (the command line only) lets an everything-scope import without an area.
    """
    path = _job_path(scope, area, whole_tree)
    check_size(len(data))
    sniff_kind(data, file_name)
    sha = hashlib.sha256(data).hexdigest()
    existing = ImportJob.objects.filter(source=source, file_sha256=sha).first()
    if existing is not None:
        if not scope.covers_path(existing.path):
            raise DomainError("该文件已由其他辖区导入过，不能重复导入。", field="file")
        return existing, False
    table = read_table(data, file_name, sheet=sheet)
    if not table.rows:
        raise DomainError("表格只有表头，没有数据行。", field="file")
    job = ImportJob(
        source=source,
        created_by_id=created_by_id,
        path=path,
        file_name=PurePath(file_name).name[:255],
        file_sha256=sha,
        file_size=len(data),
        sheet_name=table.sheet,
        total_rows=len(table.rows),
        mapping=suggest_mapping(table.headers, source.column_mapping),
    )
    try:
        with transaction.atomic():
            job.file.save(f"{sha[:16]}{PurePath(file_name).suffix.lower()}", ContentFile(data), save=False)
            job.save()
            audit_record(
                actor=actor,
                action="registry.import.create",
                object_type="import_job",
                object_id=job.pk,
                area_path=path,
                detail={"source": source.code, "rows": len(table.rows), "kind": table.kind, "bytes": len(data)},
            )
    except IntegrityError:
        # The same file arrived twice at once: the other upload won.
        return ImportJob.objects.get(source=source, file_sha256=sha), False
    return job, True


def _table(job: ImportJob, sheet: str | None = None) -> Table:
    return read_table(file_bytes(job), job.file_name, sheet=job.sheet_name if sheet is None else sheet)


def import_job_preview(
    *, job: ImportJob, mapping: dict[str, str] | None = None, sheet: str | None = None, limit: int = PREVIEW_ROWS
) -> Preview:
    """The first rows validated and matched as the import would; writes nothing."""
    table = _table(job, sheet)
    chosen = (
        mapping if mapping is not None else suggest_mapping(table.headers, {**job.source.column_mapping, **job.mapping})
    )
    cleaned, errors = clean_mapping(table.headers, chosen)
    index = AddressIndex.for_scope(Scope(area_path=job.path))
    rows = [validate_row(n, cells, cleaned, index) for n, cells in table.rows[:limit]]
    return Preview(table=table, mapping=cleaned, rows=rows, errors=errors)


def _enqueue_linking(job_id: int) -> None:
    from grassroots.registry.imports.tasks import link_import_job

    link_import_job.enqueue(job_id=job_id)


def _enqueue(job_id: int) -> None:
    from grassroots.registry.imports.tasks import run_import_job

    result = run_import_job.enqueue(job_id=job_id)
    ImportJob.objects.filter(pk=job_id, task_id="").update(task_id=f"task:{result.id}"[:64])


@transaction.atomic
def import_job_start(
    *, actor: Actor, job: ImportJob, mapping: dict[str, str], sheet: str | None = None, enqueue: bool = True
) -> ImportJob:
    """Fix the mapping (saved on the source for next time) and queue the job."""
    job = ImportJob.objects.select_for_update().select_related("source").get(pk=job.pk)
    if job.status != ImportStatus.UPLOADED:
        raise DomainError("该导入任务已经开始，不能再修改列映射。")
    table = _table(job, sheet)
    cleaned, errors = clean_mapping(table.headers, mapping)
    if errors:
        raise DomainError(" ".join(errors), field="mapping")
    job.mapping, job.sheet_name, job.total_rows = cleaned, table.sheet, len(table.rows)
    job.status = ImportStatus.QUEUED
    job.save(update_fields=["mapping", "sheet_name", "total_rows", "status"])
    source = job.source
    source.column_mapping = {**source.column_mapping, **cleaned}
    source.save(update_fields=["column_mapping"])
    audit_record(
        actor=actor,
        action="registry.import.queue",
        object_type="import_job",
        object_id=job.pk,
        area_path=job.path,
        detail={"rows": job.total_rows},
    )
    if enqueue:
        transaction.on_commit(lambda: _enqueue(job.pk))
    return job


def _pid_dead(runner: str) -> bool:
    """A job run by a command on this machine whose process is gone can be taken over at once."""
    prefix = f"cli:{socket.gethostname()}:"
    if not runner.startswith(prefix):
        return False
    try:
        pid = int(runner[len(prefix) :])
    except ValueError:
        return False
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def is_stale(job: ImportJob, now: datetime | None = None) -> bool:
    now = now or clock.now()
    if job.status == ImportStatus.RUNNING:
        return job.heartbeat_at is None or now - job.heartbeat_at > STALE_AFTER or _pid_dead(job.task_id)
    if job.status == ImportStatus.QUEUED:  # queued but no worker ever picked it up
        return job.heartbeat_at is None and now - job.created_at > STALE_AFTER
    return False


def may_retry(job: ImportJob) -> bool:
    return job.status == ImportStatus.FAILED or is_stale(job)


@transaction.atomic
def import_job_retry(*, actor: Actor, job: ImportJob) -> ImportJob:
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if not may_retry(job):
        raise DomainError("只有失败或中断的导入任务可以重试。")
    job.status, job.error, job.task_id = ImportStatus.QUEUED, "", ""
    job.save(update_fields=["status", "error", "task_id"])
    audit_record(
        actor=actor,
        action="registry.import.retry",
        object_type="import_job",
        object_id=job.pk,
        area_path=job.path,
        detail={"processed": job.processed_rows},
    )
    transaction.on_commit(lambda: _enqueue(job.pk))
    return job


def _claim(job_id: int, runner: str, actor: Actor) -> tuple[ImportJob, bool]:
    now = clock.now()
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().select_related("source").get(pk=job_id)
        if job.status == ImportStatus.DONE:
            return job, False
        if job.status == ImportStatus.UPLOADED:
            raise DomainError("请先确认列映射并开始导入。")
        if job.status == ImportStatus.RUNNING and not is_stale(job, now):
            raise DomainError("该文件正在导入中，请稍后再看。")
        resumed = job.processed_rows
        job.status, job.heartbeat_at, job.error = ImportStatus.RUNNING, now, ""
        job.started_at = job.started_at or now
        job.task_id = runner[:64] or job.task_id
        job.save(update_fields=["status", "heartbeat_at", "error", "started_at", "task_id"])
        audit_record(
            actor=actor,
            action="registry.import.run",
            object_type="import_job",
            object_id=job.pk,
            area_path=job.path,
            detail={"resumed_from": resumed, "total": job.total_rows},
        )
    return job, True


def _fail(job: ImportJob, message: str, actor: Actor) -> ImportJob:
    with transaction.atomic():
        ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.FAILED, error=message, heartbeat_at=clock.now())
        audit_record(
            actor=actor,
            action="registry.import.fail",
            object_type="import_job",
            object_id=job.pk,
            area_path=job.path,
            detail={"processed": job.processed_rows},
        )
    job.refresh_from_db()
    return job


def import_job_run(
    *,
    job_id: int,
    actor: Actor,
    runner: str = "",
    on_batch: Callable[[ImportJob], None] | None = None,
) -> ImportJob:
    """Run (or resume) a queued job to the end; returns it DONE or FAILED with a Chinese error."""
    job, claimed = _claim(job_id, runner, actor)
    if not claimed:
        return job
    try:
        table = _table(job)
        mapping, errors = clean_mapping(table.headers, job.mapping)
        if errors:
            raise DomainError(" ".join(errors))
        index = AddressIndex.for_scope(Scope(area_path=job.path))
        tags = tag_ids()
        total = len(table.rows)
        for start in range(job.processed_rows, total, BATCH_SIZE):
            chunk = table.rows[start : start + BATCH_SIZE]
            results = [validate_row(n, cells, mapping, index) for n, cells in chunk]
            with transaction.atomic():
                outcome = write_batch(job=job, source=job.source, rows=results, tag_ids=tags)
                ImportJob.objects.filter(pk=job.pk).update(
                    processed_rows=start + len(chunk),
                    total_rows=total,
                    accepted_rows=F("accepted_rows") + outcome.accepted,
                    rejected_rows=F("rejected_rows") + outcome.rejected,
                    new_persons=F("new_persons") + outcome.new_persons,
                    heartbeat_at=clock.now(),
                )
            job.refresh_from_db()
            if on_batch:
                on_batch(job)
        with transaction.atomic():
            ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.DONE, finished_at=clock.now())
            job.refresh_from_db()
            audit_record(
                actor=actor,
                action="registry.import.finish",
                object_type="import_job",
                object_id=job.pk,
                area_path=job.path,
                detail={
                    "total": job.total_rows,
                    "accepted": job.accepted_rows,
                    "rejected": job.rejected_rows,
                    "new_persons": job.new_persons,
                },
            )
        logger.info("import job %s done: %s rows, %s rejected", job.pk, job.total_rows, job.rejected_rows)
        if settings.GRASSROOTS_LINK_AFTER_IMPORT:
            transaction.on_commit(partial(_enqueue_linking, job.pk))
        return job
    except DomainError as exc:
        logger.warning("import job %s failed: %s", job.pk, exc.code)
        return _fail(job, exc.message, actor)
    except Exception:
        logger.exception("import job %s crashed", job.pk)
        return _fail(job, "导入时发生内部错误；已导入的批次已保存，可点击“重试”从中断处继续。", actor)


def may_download_rejected(*, user_id: int | None, may_unmask: bool, job: ImportJob) -> bool:
    """The file holds ID numbers in clear: for whoever uploaded it, or someone allowed to unmask."""
    return may_unmask or (user_id is not None and job.created_by_id == user_id)


def rejected_download_audit(*, actor: Actor, job: ImportJob, may_unmask: bool) -> None:
    """The rejected-rows file holds ID numbers in clear: its download is a sensitive read."""
    if not may_download_rejected(user_id=actor.id, may_unmask=may_unmask, job=job):
        raise Forbidden("拒收行文件含完整身份证号，只有上传人或有权查看完整信息的人员可以下载。")
    audit_record(
        actor=actor,
        action="registry.import.rejected_download",
        object_type="import_job",
        object_id=job.pk,
        area_path=job.path,
        detail={"rows": job.rejected_rows},
    )
