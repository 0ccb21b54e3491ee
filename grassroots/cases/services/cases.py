"""Submitting a case and moving it through the loop.

Every transition is one optimistic ``UPDATE … WHERE id = %s AND version = %s``: of two people
acting on the same version, exactly one row count is 1 and the other gets ``Conflict``. The
timeline event, assignments, audit entry and outbox rows are written in the same transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import F

from grassroots.accounts.models import Department, User
from grassroots.accounts.models import Role as AccountRole
from grassroots.audit.services import actor_of, audit_record
from grassroots.cases import selectors as duty_selectors  # a module: selectors import services.deadlines
from grassroots.cases.models import AssignmentState, Case, CaseAssignment, CaseEvent, Category, Channel, PhotoStage
from grassroots.cases.selectors.cases import acting_roles, duplicate_candidates, may_act, visible_q
from grassroots.cases.services.photos import photos_attach
from grassroots.cases.workflow import (
    FINAL_STATES,
    MAX_PHOTOS,
    TZ,
    Action,
    CaseSnapshot,
    CaseState,
    Command,
    Role,
    RoleNotAllowed,
    TransitionNotAllowed,
    WhistleKind,
    WorkflowError,
    case_deadlines,
    check_guards,
    decide,
    policy_for,
    reminder_at,
)
from grassroots.core import clock
from grassroots.core.crypto import encrypt
from grassroots.core.errors import DomainError, Forbidden, NotFound
from grassroots.core.masking import mask_phone
from grassroots.core.scope import Scope
from grassroots.notify.services import notify
from grassroots.places import selectors as places
from grassroots.places.models import AreaMode, Building

logger = logging.getLogger(__name__)

DISPATCHING = (Action.whistle, Action.re_dispatch, Action.arbitrate)
# Steps that may carry photos, and as what.
PHOTO_STAGES = {
    Action.resolve: PhotoStage.RESULT,
    Action.begin_verification: PhotoStage.VERIFY,
    Action.verify_pass: PhotoStage.VERIFY,
    Action.verify_fail: PhotoStage.VERIFY,
}
ACTIVE_ASSIGNMENT = (AssignmentState.DISPATCHED, AssignmentState.ACKNOWLEDGED)


class Conflict(DomainError):
    """Someone else changed the case since the caller read it (HTTP 409)."""

    code = "conflict"

    def __init__(self, message: str = "该案件刚刚已被他人处理，请刷新后查看最新状态再操作。") -> None:
        super().__init__(message)


def _domain(error: WorkflowError) -> DomainError:
    if isinstance(error, RoleNotAllowed):
        return Forbidden(error.message)
    return DomainError(error.message, code=error.code, field=error.field)


def _event(case: Case, *, at: datetime, actor: Any, role: str, action: str, **fields: Any) -> CaseEvent:
    label = actor.get_username() if actor is not None else "system"
    return CaseEvent(case=case, at=at, actor=actor, actor_label=label, role=role, action=action, **fields)


# --- submit ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Submitted:
    case: Case
    duplicates: list[Case]  # suggestions only: merging is a person's decision


def case_submit(
    *,
    actor: Any,
    scope: Scope,
    channel: str,
    category: Category,
    description: str,
    lon: float | None = None,
    lat: float | None = None,
    building: Building | None = None,
    photos: Sequence[int | str] = (),
    external_ref: str = "",
    contact_name: str = "",
    contact_phone: str = "",
    address_text: str = "",
    now: datetime | None = None,
) -> Submitted:
    """Record a new case at a WGS-84 point or a building; the grid is found from either.

    ``photos`` are ids the actor uploaded with ``photo_upload``; ``external_ref`` is an outside
    system's order number (12345, Open311), unique per channel; the contact phone is sealed.
    """
    now = now or clock.now()
    if channel not in Channel.values:
        raise DomainError(f"未知的来源渠道“{channel}”。", field="channel")
    if not description.strip():
        raise DomainError("请填写问题描述。", field="description")
    if not category.is_active:
        raise DomainError(f"事项“{category.name}”已停用。", field="category")
    if building is not None:
        grid = building.grid
        if lon is None or lat is None:
            lon, lat = building.lon, building.lat
    elif lon is not None and lat is not None:
        try:
            grid = places.case_grid_at_point(scope=Scope.everything(), lon=lon, lat=lat)
        except NotFound:
            raise DomainError(
                "该位置不在本平台的任何网格内，无法受理，请确认位置。", code="outside_grids", field="location"
            ) from None
    else:
        raise DomainError("请提供问题位置，或选择所在楼栋。", field="location")
    if not scope.covers_path(grid.path):
        raise Forbidden("该位置不在您的管辖范围内。")
    if len(photos) > MAX_PHOTOS:
        raise DomainError(f"最多上传 {MAX_PHOTOS} 张照片。", code="too_many_photos", field="photos")
    contact = _contact(contact_phone)
    duplicates = duplicate_candidates(category=category, lon=lon, lat=lat, now=now)
    user = actor if getattr(actor, "is_authenticated", False) else None
    with transaction.atomic():
        case = Case.objects.create(
            external_ref=external_ref.strip()[:64],
            contact_name=contact_name.strip()[:50],
            contact_phone_sealed=contact[0],
            contact_phone_masked=contact[1],
            address_text=address_text.strip()[:255],
            channel=channel,
            category=category,
            description=description.strip(),
            lon=lon,
            lat=lat,
            building=building,
            grid=grid,
            path=grid.path,
            reporter=user,
            created_at=now,
            updated_at=now,
        )
        case.number = f"{now.astimezone(TZ).year}-{case.pk:06d}"
        Case.objects.filter(pk=case.pk).update(number=case.number)
        role = acting_roles(user)[0].value if user is not None and acting_roles(user) else Role.resident.value
        event = _event(
            case,
            at=now,
            actor=user,
            role=role,
            action="submit",
            to_state=CaseState.submitted.value,
            note=case.description,
            payload={"channel": channel, "duplicates": [d.pk for d in duplicates], "photos": [str(p) for p in photos]},
        )
        event.save()
        photos_attach(actor=user, case=case, stage=PhotoStage.REPORT, photo_ids=photos, event=event)
        audit_record(
            actor=actor_of(user),
            action="cases.submit",
            object_type="case",
            object_id=case.pk,
            area_path=case.path,
            detail={"number": case.number, "channel": channel, "category": category.code},
            at=now,
        )
    return Submitted(case, duplicates)


def _contact(phone: str) -> tuple[bytes | None, str]:
    phone = phone.strip()
    if not phone:
        return None, ""
    digits = "".join(ch for ch in phone if ch.isdigit())
    if not 7 <= len(digits) <= 15:
        raise DomainError("联系电话格式不正确。", field="contact_phone")
    return encrypt(digits, context="case.contact_phone"), mask_phone(digits)


# --- act -------------------------------------------------------------------------------------


def _snapshot(case: Case) -> CaseSnapshot:
    return CaseSnapshot(
        case_id=case.pk,
        state=CaseState(case.state),
        closed_at=case.closed_at,
        evaluation_reopens=case.evaluation_reopens,
        evaluated_since_close=case.evaluated_since_close,
    )


def _department_moves_case(case: Case, action: Action, assignment: CaseAssignment) -> bool:
    """Whether a department's step moves the whole case, or only its own assignment."""
    state = CaseState(case.state)
    others = CaseAssignment.objects.filter(case=case).exclude(pk=assignment.pk)
    if action is Action.acknowledge:
        _require_assignment(assignment, AssignmentState.DISPATCHED, "本部门已报到或已退单。")
        return state not in (CaseState.acknowledged, CaseState.in_progress)
    if action is Action.reject:
        _require_assignment(assignment, AssignmentState.DISPATCHED, "已报到的案件不能退单。")
        return not others.filter(state__in=ACTIVE_ASSIGNMENT).exists()
    if action in (Action.start, Action.resolve):
        _require_assignment(assignment, AssignmentState.ACKNOWLEDGED, "请先报到，再处置或办结。")
        if action is Action.start:
            return state is not CaseState.in_progress
        return not others.filter(state__in=ACTIVE_ASSIGNMENT).exists()
    return True


def _require_assignment(assignment: CaseAssignment, state: str, message: str) -> None:
    if assignment.state != state:
        raise DomainError(message, code="assignment_state")


def _officers(department_ids: list[int]) -> dict[int, list[int]]:
    rows = User.objects.filter(
        department_id__in=department_ids, role=AccountRole.DEPARTMENT_OFFICER, is_active=True
    ).values_list("department_id", "pk")
    found: dict[int, list[int]] = {}
    for department_id, user_id in rows:
        found.setdefault(department_id, []).append(user_id)
    return found


def _dispatch_prepare(case: Case, command: Command, now: datetime, changes: dict[str, Any]) -> list[Department]:
    """Departments and deadlines of a (re-)dispatch; the deadline columns go into ``changes``."""
    departments = list(Department.objects.filter(pk__in=command.departments, is_active=True))
    if len(departments) != len(set(command.departments)):
        raise DomainError("所选承办部门不存在或已撤销。", field="departments")
    # A department receives cases within its own area only (its officers' scope): never another district's.
    if any(not (case.path == d.path or case.path.startswith(d.path + ".")) for d in departments):
        raise DomainError("所选承办部门不负责本案件所在区域。", field="departments")
    duty = duty_selectors.duty_for(category=case.category, area=case.grid)
    calendar = duty_selectors.work_calendar()
    due = case_deadlines(now, duty.policy, calendar)
    kind = duty.whistle_kind
    if case.grid.mode == AreaMode.EMERGENCY:
        # 战时: an area under an emergency mobilisation answers on the emergency whistle's clock
        # wherever that is shorter than the duty list's.
        urgent = case_deadlines(now, policy_for(WhistleKind.emergency), calendar)
        if urgent.handle_by < due.handle_by or urgent.acknowledge_by < due.acknowledge_by:
            kind = WhistleKind.emergency
            due = replace(
                due,
                acknowledge_by=min(due.acknowledge_by, urgent.acknowledge_by),
                handle_by=min(due.handle_by, urgent.handle_by),
            )
    changes.update(
        whistle_kind=kind.value,
        dispatched_at=now,
        acknowledge_by=due.acknowledge_by,
        handle_by=due.handle_by,
        remind_at=reminder_at(now, due.acknowledge_by),
        acknowledge_missed=False,
        handle_missed=False,
        overdue=False,
        provisional=due.provisional,
    )
    return departments


def _dispatch_write(case: Case, departments: list[Department], acknowledge_by: datetime, now: datetime) -> None:
    officers = _officers([d.pk for d in departments])
    for department in departments:
        CaseAssignment.objects.update_or_create(
            case=case,
            department=department,
            defaults={
                "state": AssignmentState.DISPATCHED,
                "dispatched_at": now,
                "acknowledged_at": None,
                "resolved_at": None,
                "reject_reason": "",
            },
        )
        if officers.get(department.pk):
            local = acknowledge_by.astimezone(TZ)
            notify(
                recipients=officers[department.pk],
                kind="case.dispatch",
                subject=f"新派遣案件 {case.number}",
                body=f"{case.category.name}：{case.description[:100]}。请于 {local:%m-%d %H:%M} 前报到。",
                idempotency_key=f"case:{case.pk}:dispatch:{department.pk}:v{case.version}",
                payload={"case_id": case.pk},
                area_path=case.path,
            )


def case_act(
    *,
    actor: Any,
    role: Role,
    case_id: int,
    expected_version: int,
    command: Command,
    now: datetime | None = None,
) -> Case:
    """Apply one step of the loop for ``actor`` acting as ``role``; returns the updated case."""
    now = now or clock.now()
    command = replace(command, role=role)
    action = command.action
    if command.photos and action not in PHOTO_STAGES:
        raise DomainError(f"“{action.label}”不需要上传照片。", code="photo_invalid", field="photos")
    with transaction.atomic():
        case = Case.objects.select_related("category", "grid").filter(pk=case_id).first()
        if case is None or not Case.objects.filter(visible_q(actor), pk=case_id).exists():
            raise NotFound("未找到该案件，或您无权查看。")
        if not may_act(actor, role, case):
            raise Forbidden("您不负责该案件，不能执行此操作。")
        if case.version != expected_version:
            raise Conflict()
        assignment = None
        if role is Role.department:
            assignment = CaseAssignment.objects.get(case=case, department_id=actor.department_id)
        if action in DISPATCHING and not command.departments:
            found = duty_selectors.duty_for(category=case.category, area=case.grid).departments
            command = replace(command, departments=tuple(d.pk for d in found))
        snapshot = _snapshot(case)
        moves = assignment is None or _department_moves_case(case, action, assignment)
        try:
            if moves:
                decision = decide(snapshot, command, now=now)
                to_state = decision.to_state
            else:
                # Only a department's own part moves; the case must still be with the departments.
                if snapshot.state not in (CaseState.dispatched, CaseState.acknowledged, CaseState.in_progress):
                    raise TransitionNotAllowed(snapshot.state, action)
                check_guards(snapshot, command, now)
                to_state, decision = snapshot.state, None
        except WorkflowError as error:
            raise _domain(error) from error
        changes: dict[str, Any] = {"state": to_state.value, "updated_at": now, "version": F("version") + 1}
        events = [
            _event(
                case,
                at=now,
                actor=actor,
                role=role.value,
                action=action.value,
                from_state=snapshot.state.value,
                to_state=to_state.value,
                department=assignment.department if assignment else None,
                note=command.reason or command.result or command.comment,
                rating=command.rating.value if command.rating else "",
                payload={
                    k: v
                    for k, v in {
                        "departments": list(command.departments) if action in DISPATCHING else [],
                        "photos": list(command.photos),
                        "target_case_id": command.target_case_id,
                        "moved_case": moves,
                    }.items()
                    if v not in ([], None)
                },
            )
        ]
        _effects(case, command, assignment, moves, now, changes)
        departments = _dispatch_prepare(case, command, now, changes) if action in DISPATCHING else []
        if decision is not None and decision.follow_up is not None:
            follow = replace(snapshot, evaluated_since_close=True)
            try:
                reopen = decide(follow, decision.follow_up, now=now)
            except WorkflowError as error:
                raise _domain(error) from error
            changes.update(state=reopen.to_state.value, evaluation_reopens=F("evaluation_reopens") + 1)
            events.append(
                _event(
                    case,
                    at=now,
                    actor=None,
                    role=Role.system.value,
                    action=Action.reopen.value,
                    from_state=to_state.value,
                    to_state=reopen.to_state.value,
                    note=decision.follow_up.reason,
                )
            )
        if CaseState(changes["state"]) in FINAL_STATES or changes["state"] == CaseState.closed.value:
            changes["remind_at"] = None
        # The single point of truth for concurrency: only the holder of the current version writes.
        if Case.objects.filter(pk=case.pk, version=expected_version).update(**changes) != 1:
            raise Conflict()
        if action in DISPATCHING:
            _dispatch_write(case, departments, changes["acknowledge_by"], now)
        saved = CaseEvent.objects.bulk_create(events)
        stage = PHOTO_STAGES.get(action)
        if stage is not None:
            event = saved[0] if saved[0].pk is not None else CaseEvent.objects.filter(case=case).last()
            photos_attach(actor=actor, case=case, stage=stage, photo_ids=command.photos, event=event)
        _tell_reporter(case, action, command, changes["state"], expected_version)
        audit_record(
            actor=actor_of(actor),
            action=f"cases.{action.value}",
            object_type="case",
            object_id=case.pk,
            area_path=case.path,
            detail={"number": case.number, "from": snapshot.state.value, "to": changes["state"], "role": role.value},
            at=now,
        )
    return Case.objects.select_related("category", "grid").get(pk=case.pk)


# What the person who reported a case hears, and when (in-app by default; SMS if configured).
REPORTER_NEWS: dict[Action, tuple[str, str]] = {
    Action.accept: ("您反映的问题已受理", "社区已受理您反映的问题（{number}），将尽快处理。"),
    Action.whistle: ("您反映的问题已受理", "您反映的问题（{number}）已派至相关部门办理。"),
    Action.verify_pass: ("您反映的问题已办结，请评价", "您反映的问题（{number}）已办结并经网格员核实，请在7天内评价。"),
    Action.merge: ("您反映的问题已合并办理", "您反映的问题（{number}）与他人反映的同一问题合并办理。"),
    Action.cancel: ("您反映的问题未予受理", "您反映的问题（{number}）未予受理：{note}"),
}


def _tell_reporter(case: Case, action: Action, command: Command, state: str, version: int) -> None:
    news = REPORTER_NEWS.get(action)
    if news is None or case.reporter_id is None or command.role is Role.resident:
        return
    if action is Action.whistle and case.state != CaseState.submitted.value:
        return  # only the first acceptance is news
    subject, body = news
    notify(
        recipients=[case.reporter_id],
        kind=f"case.reporter.{action.value}",
        subject=subject,
        body=body.format(number=case.number, note=command.reason or "不属于受理范围"),
        idempotency_key=f"case:{case.pk}:reporter:{action.value}:v{version}",
        payload={"case_id": case.pk, "state": state},
        area_path=case.path,
    )


def _effects(
    case: Case,
    command: Command,
    assignment: CaseAssignment | None,
    moves: bool,
    now: datetime,
    changes: dict[str, Any],
) -> None:
    """Column changes beyond ``state`` that a step implies (assignment rows are written here too)."""
    action = command.action
    if action in DISPATCHING:
        return  # deadlines and assignments: _dispatch_prepare / _dispatch_write
    if assignment is not None:
        if action is Action.acknowledge:
            assignment.state, assignment.acknowledged_at = AssignmentState.ACKNOWLEDGED, now
        elif action is Action.reject:
            assignment.state, assignment.reject_reason = AssignmentState.REJECTED, command.reason[:500]
        elif action is Action.resolve:
            assignment.state, assignment.resolved_at = AssignmentState.RESOLVED, now
        assignment.save(update_fields=["state", "acknowledged_at", "reject_reason", "resolved_at"])
    if action is Action.acknowledge and moves and case.dispatched_at and case.handle_by:
        changes["remind_at"] = reminder_at(case.dispatched_at, case.handle_by)
    elif action in (Action.reject, Action.resolve, Action.cancel, Action.merge) and moves:
        changes["remind_at"] = None
    if action is Action.verify_pass:
        changes.update(closed_at=now, evaluated_since_close=False)
    elif action is Action.evaluate and command.rating is not None:
        changes.update(rating=command.rating.value, evaluated_since_close=True)
    elif action is Action.merge:
        target = Case.objects.filter(pk=command.target_case_id or 0).exclude(pk=case.pk).first()
        if target is None or target.state in (CaseState.merged, CaseState.cancelled) or target.path != case.path:
            raise DomainError("合并目标案件不存在、已失效，或不在同一网格。", field="target_case_id")
        changes["merged_into"] = target
