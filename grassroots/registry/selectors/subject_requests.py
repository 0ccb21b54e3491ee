"""Reads of data-subject requests: the staff queue (by scope), a resident's own requests, and the
copy of everything the registry holds about a person.

Apps above the registry (cases: what the resident reported) add their part of the copy through
``register_subject_data``; the registry cannot import them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from grassroots.audit.services import Actor, audit_record
from grassroots.core import crypto
from grassroots.core.errors import NotFound
from grassroots.core.scope import Scope
from grassroots.registry.imports.pipeline import RAW_CONTEXT
from grassroots.registry.models import Person, PersonChange, Residence, SourceRecord
from grassroots.registry.sealing import ID_CONTEXT, PHONE_CONTEXT
from grassroots.registry.selectors.people import dwelling_label, today
from grassroots.registry.subject_request_models import (
    ANSWER_CONTEXT,
    DETAILS_CONTEXT,
    NAME_CONTEXT,
    OPEN_STATUSES,
    SubjectRequest,
    SubjectRequestStatus,
)

# (section title, function(person or None, requester user id) → JSON-able data); see register_subject_data.
SubjectDataProvider = Callable[[Person | None, int], Any]
_PROVIDERS: dict[str, SubjectDataProvider] = {}


def register_subject_data(title: str, provider: SubjectDataProvider) -> None:
    """Add a section to every copy a subject request produces (called from an app's ``ready()``)."""
    _PROVIDERS[title] = provider


def subject_request_queryset(scope: Scope) -> QuerySet[SubjectRequest]:
    return SubjectRequest.objects.filter(scope.path_q("path"))


# --- the staff queue ---------------------------------------------------------------------------


@dataclass
class QueueRow:
    request: SubjectRequest
    name: str
    overdue: bool
    days_left: int  # calendar days to the due date (negative: overdue)

    @property
    def overdue_days(self) -> int:
        return max(0, -self.days_left)


def is_overdue(request: SubjectRequest, on: date) -> bool:
    return request.status in OPEN_STATUSES and on > request.due_on


def subject_request_queue(*, actor: Actor, scope: Scope, show: str = "open", on: date | None = None) -> list[QueueRow]:
    """Open requests by due date (overdue first), or the closed ones, newest first; names are decrypted."""
    on = on or today()
    rows = subject_request_queryset(scope).select_related("person")
    if show == "open":
        rows = rows.filter(status__in=OPEN_STATUSES).order_by("due_on", "id")
    elif show == "overdue":
        rows = rows.filter(status__in=OPEN_STATUSES, due_on__lt=on).order_by("due_on", "id")
    else:
        rows = rows.exclude(status__in=OPEN_STATUSES).order_by("-answered_at", "-id")
    requests = list(rows[:500])
    if requests:
        audit_record(
            actor=actor,
            action="registry.subject_request.view",
            object_type="subject_request",
            area_path=scope.area_path or "",
            detail={"ids": [r.pk for r in requests]},
        )
    return [
        QueueRow(
            request=r,
            name=crypto.decrypt(bytes(r.name_cipher), context=NAME_CONTEXT),
            overdue=is_overdue(r, on),
            days_left=(r.due_on - on).days,
        )
        for r in requests
    ]


def overdue_count(*, scope: Scope, on: date | None = None) -> int:
    on = on or today()
    return subject_request_queryset(scope).filter(status__in=OPEN_STATUSES, due_on__lt=on).count()


# --- one request ---------------------------------------------------------------------------------


@dataclass
class RequestDetail:
    request: SubjectRequest
    name: str
    details: str
    answer: str
    overdue: bool
    candidates: list[Person] = field(default_factory=list)  # registered people with the same ID number


def _detail(request: SubjectRequest, *, candidates: list[Person] | None = None) -> RequestDetail:
    answer = crypto.decrypt(bytes(request.answer_cipher), context=ANSWER_CONTEXT) if request.answer_cipher else ""
    return RequestDetail(
        request=request,
        name=crypto.decrypt(bytes(request.name_cipher), context=NAME_CONTEXT),
        details=crypto.decrypt(bytes(request.details_cipher), context=DETAILS_CONTEXT),
        answer=answer,
        overdue=is_overdue(request, today()),
        candidates=candidates or [],
    )


def subject_request_detail(*, actor: Actor, scope: Scope, request_id: int) -> RequestDetail:
    """A request in the staff member's scope (NotFound otherwise), with the people its ID number finds."""
    request = subject_request_queryset(scope).select_related("person", "requester").filter(pk=request_id).first()
    if request is None:
        raise NotFound()
    audit_record(
        actor=actor,
        action="registry.subject_request.view",
        object_type="subject_request",
        object_id=request.pk,
        area_path=request.path,
    )
    people = Person.objects.filter(scope.path_q("path")).select_related("dwelling__building__compound")
    candidates = list(people.filter(id_number_hash=request.id_number_hash)) + list(
        people.filter(aliases__id_number_hash=request.id_number_hash)
    )
    return _detail(request, candidates=list({p.pk: p for p in candidates}.values()))


def resident_requests(*, requester_id: int) -> list[RequestDetail]:
    """A resident's own requests, newest first."""
    rows = SubjectRequest.objects.filter(requester_id=requester_id).order_by("-submitted_at", "-id")[:100]
    return [_detail(r) for r in rows]


def resident_request(*, requester_id: int, request_id: int) -> RequestDetail:
    """One of the resident's own requests; anyone else's is NotFound, like a missing one."""
    request = SubjectRequest.objects.filter(pk=request_id, requester_id=requester_id).first()
    if request is None:
        raise NotFound()
    return _detail(request)


# --- the copy --------------------------------------------------------------------------------------


def _when(value: datetime | None) -> str:
    return timezone.localtime(value).isoformat(timespec="seconds") if value else ""


def _person_fields(person: Person) -> dict[str, Any]:
    phone = crypto.decrypt(bytes(person.phone_cipher), context=PHONE_CONTEXT) if person.phone_cipher else ""
    return {
        "姓名": person.name,
        "性别": person.get_sex_display(),
        "出生日期": person.birth_date.isoformat(),
        "身份证号": crypto.decrypt(bytes(person.id_number_cipher), context=ID_CONTEXT),
        "手机号": phone,
        "民族": person.ethnicity,
        "与户主关系": person.relation,
        "住址": dwelling_label(person.dwelling),
        "户主": person.household.head_name if person.household_id and person.household else "",
        "人户分离": person.get_separation_display() if person.separation else "",
        "标签": [tag.name for tag in person.tags.all()],
        "更新时间": _when(person.updated_at),
    }


def _residences(person: Person) -> list[dict[str, Any]]:
    rows = Residence.objects.filter(person=person).select_related("dwelling__building__compound").order_by("id")
    return [
        {
            "类型": r.get_kind_display(),
            "房屋": dwelling_label(r.dwelling),
            "地址": r.address,
            "起始": r.since.isoformat() if r.since else "",
            "截止": r.until.isoformat() if r.until else "",
        }
        for r in rows
    ]


def _source_records(person: Person) -> list[dict[str, Any]]:
    rows = SourceRecord.objects.filter(person=person).select_related("source", "job").order_by("id")
    return [
        {
            "来源": r.source.name,
            "文件": r.job.file_name,
            "工作表": r.sheet,
            "行号": r.row_number,
            "导入时间": _when(r.created_at),
            "原始内容": json.loads(crypto.decrypt(bytes(r.raw_cipher), context=RAW_CONTEXT)),
        }
        for r in rows
    ]


def _changes(person: Person) -> list[dict[str, Any]]:
    rows = PersonChange.objects.filter(person=person).order_by("at", "id")
    return [
        {
            "时间": _when(c.at),
            "来源": c.get_origin_display(),
            "项目": c.field,
            "原值": c.before,
            "新值": c.after,
        }
        for c in rows
    ]


def subject_data(*, person: Person | None, requester_id: int) -> dict[str, Any]:
    """Everything held about ``person`` (and what the requester's account reported), as JSON-able data."""
    data: dict[str, Any] = {}
    if person is None:
        data["人员信息"] = "实有人口库中未查到与您提供的身份证号一致的人员。"
    else:
        data["人员信息"] = _person_fields(person)
        data["居住记录"] = _residences(person)
        data["来源记录"] = _source_records(person)
        data["变更记录"] = _changes(person)
    for title, provider in _PROVIDERS.items():
        data[title] = provider(person, requester_id)
    return data


def status_label(status: str) -> str:
    return SubjectRequestStatus(status).label
