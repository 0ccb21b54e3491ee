"""Reads for the import pages, always starting from the importer's scope."""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.db.models import Count, QuerySet

from grassroots.core import crypto
from grassroots.core.errors import NotFound
from grassroots.core.scope import Scope
from grassroots.places.models import Area, AreaLevel
from grassroots.registry.imports.pipeline import RAW_CONTEXT
from grassroots.registry.models import AddressChoiceStatus, ImportJob, LinkRun, RecordStatus, Source, SourceRecord

ADDRESS_FIELDS = ("registered_address", "actual_address")


def job_list(*, scope: Scope) -> QuerySet[ImportJob]:
    return ImportJob.objects.in_scope(scope).select_related("source", "created_by").order_by("-created_at", "-id")


def job_get(*, scope: Scope, job_id: int) -> ImportJob:
    job = ImportJob.objects.in_scope(scope).select_related("source", "created_by").filter(pk=job_id).first()
    if job is None:
        raise NotFound()
    return job


def source_list() -> QuerySet[Source]:
    return Source.objects.order_by("code")


def import_areas(*, scope: Scope) -> QuerySet[Area]:
    """Areas a job may be imported into: everything above the grid level, inside the scope."""
    return Area.objects.in_scope(scope).exclude(level=AreaLevel.GRID).order_by("path")


def raw_row(record: SourceRecord) -> dict[str, str]:
    data: dict[str, str] = json.loads(crypto.decrypt(record.raw_cipher, context=RAW_CONTEXT))
    return data


def rejected_records(*, job: ImportJob) -> QuerySet[SourceRecord]:
    # Held rows too: linkage may place them, but the department still has an ID number to correct.
    statuses = [RecordStatus.REJECTED, RecordStatus.HELD]
    return SourceRecord.objects.filter(job=job, status__in=statuses).order_by("sheet", "row_number")


@dataclass(frozen=True)
class UnmatchedAddress:
    row_number: int
    label: str
    address: str
    message: str
    choice_id: int | None = None  # the review list's entry for an actual address (addresses:detail)
    choice_status: str = ""  # AddressChoiceStatus: pending or outside (chosen ones are placed, not listed)


def unmatched_addresses(*, job: ImportJob, limit: int = 200) -> list[UnmatchedAddress]:
    """Addresses that found no dwelling (or several), with the reason, for the job page.

    An actual address a worker has since placed (its AddressChoice is CHOSEN) is no longer listed.
    """
    header_of = {field: header for header, field in job.mapping.items() if field}
    found: list[UnmatchedAddress] = []
    records = (
        SourceRecord.objects.filter(job=job, status=RecordStatus.ACCEPTED)
        .select_related("unplaced")
        .order_by("sheet", "row_number")
    )
    for record in records.iterator(chunk_size=500):
        problems = [p for p in record.problems if p.get("field") in ADDRESS_FIELDS and "未匹配" in p.get("message", "")]
        if not problems:
            continue
        choice = record.unplaced
        raw = raw_row(record)
        for p in problems:
            actual = p["field"] == "actual_address" and choice is not None
            if actual and choice is not None and choice.status == AddressChoiceStatus.CHOSEN:
                continue
            text = raw.get(header_of.get(p["field"], ""), "")
            found.append(
                UnmatchedAddress(
                    record.row_number,
                    p.get("label", ""),
                    text,
                    p["message"],
                    choice.pk if actual and choice is not None else None,
                    choice.status if actual and choice is not None else "",
                )
            )
        if len(found) >= limit:
            break
    return found[:limit]


@dataclass(frozen=True)
class JobLinkage:
    run: LinkRun | None  # the newest linkage run over this job (queued after it finished)
    held: int  # rows still waiting: only their ID number failed and nobody matched them yet
    linked: int  # rows without a valid ID number that linkage attached to a person


def job_linkage(*, job: ImportJob) -> JobLinkage:
    counts = dict(
        SourceRecord.objects.filter(job=job, status__in=[RecordStatus.HELD, RecordStatus.LINKED])
        .values_list("status")
        .annotate(n=Count("id"))
    )
    return JobLinkage(
        job.link_runs.order_by("-started_at", "-id").first(), counts.get("held", 0), counts.get("linked", 0)
    )
