"""Writes to data-subject requests (个人信息主体权利请求): submit, take on, answer, refuse.

The statuses move submitted → in_progress → answered, or to refused (with a reason) from
either open status; ``TRANSITIONS`` is the whole table and every write checks it under a row
lock. The due date is 15 working days after the day of submission on the platform's working
calendar, which the caller passes in (the calendar lives in ``cases``, above this app).
Answering a copy request freezes a copy of everything the registry holds about the person
(``selectors.subject_requests.subject_data``) into an encrypted JSON file; that is an export
and is audited as one, and so is every download of it.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any, Protocol

from django.db import transaction
from django.utils import timezone

from grassroots.audit.services import Actor, audit_record
from grassroots.core import clock, crypto
from grassroots.core.errors import DomainError, NotFound
from grassroots.core.ids import parse_id_number
from grassroots.core.scope import Scope
from grassroots.registry.models import Person, PersonAlias
from grassroots.registry.sealing import seal_id_number
from grassroots.registry.selectors.subject_requests import subject_data, subject_request_queryset
from grassroots.registry.subject_request_models import (
    ANSWER_CONTEXT,
    COPY_CONTEXT,
    DETAILS_CONTEXT,
    ID_CONTEXT,
    NAME_CONTEXT,
    SubjectRequest,
    SubjectRequestKind,
    SubjectRequestStatus,
)

DUE_WORKING_DAYS = 15  # PIPL practice and GB/T 35273: answer within 15 working days
MAX_DETAILS = 2000
MAX_ANSWER = 2000

S = SubjectRequestStatus
TRANSITIONS: dict[str, frozenset[str]] = {
    S.SUBMITTED: frozenset({S.IN_PROGRESS, S.REFUSED}),
    S.IN_PROGRESS: frozenset({S.ANSWERED, S.REFUSED}),
    S.ANSWERED: frozenset(),
    S.REFUSED: frozenset(),
}
# The person fields a correction may name (what the person page shows).
CORRECTABLE_FIELDS: dict[str, str] = {
    "name": "姓名",
    "sex": "性别",
    "birth_date": "出生日期",
    "id_number": "身份证号",
    "phone": "手机号",
    "ethnicity": "民族",
    "dwelling": "住址",
    "household": "户籍/家庭",
    "tags": "标签",
    "other": "其他",
}


class WorkdayCalendar(Protocol):
    """What the service needs of ``grassroots.cases.worktime.WorkCalendar``."""

    def add_workdays(self, day: date, n: int) -> date: ...

    def uses_fallback(self, start: date, end: date) -> bool: ...


def due_date(calendar: WorkdayCalendar, submitted_at: datetime) -> tuple[date, bool]:
    """The 15th working day after the (local) day of submission, and whether it is provisional."""
    day = timezone.localtime(submitted_at).date()
    due = calendar.add_workdays(day, DUE_WORKING_DAYS)
    return due, calendar.uses_fallback(day, due)


def _text(value: str, *, field: str, label: str, limit: int) -> str:
    text = (value or "").strip()
    if not text:
        raise DomainError(f"请填写{label}。", field=field)
    if len(text) > limit:
        raise DomainError(f"{label}不能超过{limit}个字。", field=field)
    return text


@transaction.atomic
def subject_request_submit(
    *,
    actor: Actor,
    requester_id: int,
    path: str,
    kind: str,
    name: str,
    id_number: str,
    details: str,
    calendar: WorkdayCalendar,
    now: datetime | None = None,
) -> SubjectRequest:
    """A resident's request, stored encrypted; ``path`` is their community (the staff who answer it)."""
    if kind not in SubjectRequestKind.values:
        raise DomainError("请选择请求类型。", field="kind")
    if not path:
        raise DomainError("您的账号尚未关联社区，请先联系社区工作人员。")
    name = _text(name, field="name", label="姓名", limit=50)
    info = parse_id_number(id_number)  # InvalidIdNumber names the problem in Chinese
    details = _text(details, field="details", label="请求内容", limit=MAX_DETAILS)
    sealed = seal_id_number(info.number)
    submitted_at = now or clock.now()
    due_on, provisional = due_date(calendar, submitted_at)
    request = SubjectRequest.objects.create(
        kind=kind,
        requester_id=requester_id,
        path=path,
        name_cipher=crypto.encrypt(name, context=NAME_CONTEXT),
        id_number_cipher=crypto.encrypt(info.number, context=ID_CONTEXT),
        id_number_hash=sealed.hash,
        id_number_masked=sealed.masked,
        details_cipher=crypto.encrypt(details, context=DETAILS_CONTEXT),
        submitted_at=submitted_at,
        due_on=due_on,
        due_provisional=provisional,
    )
    audit_record(
        actor=actor,
        action="registry.subject_request.submit",
        object_type="subject_request",
        object_id=request.pk,
        area_path=path,
        detail={"kind": kind, "due_on": due_on.isoformat()},
    )
    return request


def _locked(scope: Scope, request_id: int) -> SubjectRequest:
    request = subject_request_queryset(scope).select_for_update().filter(pk=request_id).first()
    if request is None:
        raise NotFound()
    return request


def _move(request: SubjectRequest, to: str) -> None:
    if to not in TRANSITIONS[request.status]:
        raise DomainError(
            f"该请求{SubjectRequestStatus(request.status).label}，不能改为{SubjectRequestStatus(to).label}。",
            code="bad_transition",
        )
    request.status = to


def matching_person_ids(scope: Scope, id_number_hash: str) -> list[int]:
    """Registered people in scope with this ID number (their own, or one merged into them)."""
    people = Person.objects.filter(scope.path_q("path"))
    direct = list(people.filter(id_number_hash=id_number_hash).values_list("pk", flat=True))
    aliased = list(
        people.filter(pk__in=PersonAlias.objects.filter(id_number_hash=id_number_hash).values("person_id")).values_list(
            "pk", flat=True
        )
    )
    return sorted(set(direct) | set(aliased))


@transaction.atomic
def subject_request_start(
    *, actor: Actor, actor_user_id: int | None, scope: Scope, request_id: int, person_id: int | None
) -> SubjectRequest:
    """Take the request on, linked to the registered person whose ID number it gives (or to nobody)."""
    request = _locked(scope, request_id)
    _move(request, S.IN_PROGRESS)
    if person_id is not None and person_id not in matching_person_ids(scope, request.id_number_hash):
        # Only the person the resident's own ID number finds: a request never opens another's record.
        raise DomainError("所选人员的身份证号与请求人提供的不一致。", field="person")
    request.person_id = person_id
    request.started_at = clock.now()
    request.started_by_id = actor_user_id
    request.save(update_fields=["status", "person", "started_at", "started_by"])
    audit_record(
        actor=actor,
        action="registry.subject_request.start",
        object_type="subject_request",
        object_id=request.pk,
        area_path=request.path,
        detail={"person_id": person_id},
    )
    return request


def _copy_bytes(request: SubjectRequest, now: datetime) -> bytes:
    data: dict[str, Any] = {
        "说明": "依据《个人信息保护法》第四十五条，本平台保存的您的个人信息副本。",
        "请求编号": request.pk,
        "生成时间": timezone.localtime(now).isoformat(timespec="seconds"),
        **subject_data(person=request.person, requester_id=request.requester_id),
    }
    return json.dumps(data, ensure_ascii=False, indent=2, default=str).encode()


@transaction.atomic
def subject_request_answer(
    *,
    actor: Actor,
    actor_user_id: int | None,
    scope: Scope,
    request_id: int,
    answer: str,
    corrected_fields: list[str] | None = None,
) -> SubjectRequest:
    """Answer an in-progress request. A copy request gets its file; a correction names what changed."""
    request = _locked(scope, request_id)
    _move(request, S.ANSWERED)
    answer = _text(answer, field="answer", label="答复内容", limit=MAX_ANSWER)
    fields = [f for f in (corrected_fields or []) if f in CORRECTABLE_FIELDS]
    if request.kind == SubjectRequestKind.CORRECTION and not fields:
        raise DomainError("请勾选已更正的项目。", field="corrected_fields")
    now = clock.now()
    if request.kind == SubjectRequestKind.COPY:
        content = _copy_bytes(request, now)
        request.copy_cipher = crypto.encrypt(content.decode(), context=COPY_CONTEXT)
        request.copy_name = f"个人信息副本-{request.pk}.json"
        audit_record(
            actor=actor,
            action="registry.subject_request.copy_export",
            object_type="person" if request.person_id else "subject_request",
            object_id=request.person_id or request.pk,
            area_path=request.path,
            detail={"request_id": request.pk, "bytes": len(content)},
        )
    request.answer_cipher = crypto.encrypt(answer, context=ANSWER_CONTEXT)
    request.corrected_fields = fields
    request.answered_at = now
    request.answered_by_id = actor_user_id
    request.save(
        update_fields=[
            "status",
            "answer_cipher",
            "corrected_fields",
            "answered_at",
            "answered_by",
            "copy_cipher",
            "copy_name",
        ]
    )
    audit_record(
        actor=actor,
        action="registry.subject_request.answer",
        object_type="subject_request",
        object_id=request.pk,
        area_path=request.path,
        detail={"kind": request.kind, "person_id": request.person_id, "corrected_fields": fields},
    )
    return request


@transaction.atomic
def subject_request_refuse(
    *, actor: Actor, actor_user_id: int | None, scope: Scope, request_id: int, reason: str
) -> SubjectRequest:
    """Refuse, with the reason the resident will read (e.g. a legal retention period)."""
    request = _locked(scope, request_id)
    _move(request, S.REFUSED)
    reason = _text(reason, field="reason", label="不予办理的理由", limit=MAX_ANSWER)
    request.answer_cipher = crypto.encrypt(reason, context=ANSWER_CONTEXT)
    request.answered_at = clock.now()
    request.answered_by_id = actor_user_id
    request.save(update_fields=["status", "answer_cipher", "answered_at", "answered_by"])
    audit_record(
        actor=actor,
        action="registry.subject_request.refuse",
        object_type="subject_request",
        object_id=request.pk,
        area_path=request.path,
        detail={"kind": request.kind},
    )
    return request


def subject_request_copy_download(*, actor: Actor, request: SubjectRequest) -> tuple[bytes, str]:
    """The copy file of an answered copy request, each download audited as an export.

    The caller has already fetched ``request`` through a selector (the resident's own, or in the
    staff member's scope).
    """
    if request.status != S.ANSWERED or not request.copy_cipher:
        raise NotFound()
    content = crypto.decrypt(bytes(request.copy_cipher), context=COPY_CONTEXT).encode()
    audit_record(
        actor=actor,
        action="registry.subject_request.copy_download",
        object_type="subject_request",
        object_id=request.pk,
        area_path=request.path,
        detail={"person_id": request.person_id, "bytes": len(content)},
    )
    return content, request.copy_name
