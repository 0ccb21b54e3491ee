"""Cases endpoints at /api/v1/cases/: submit, list, read with timeline, act. Thin over services."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from ninja import File, Query, Router, Schema
from ninja.files import UploadedFile
from ninja.responses import Status

from grassroots.accounts.models import Role as AccountRole
from grassroots.accounts.scopes import scope_for
from grassroots.cases import selectors, services
from grassroots.cases.coords import gcj02_to_wgs84
from grassroots.cases.models import Case, CasePhoto, Category
from grassroots.cases.schemas import ActIn, CaseDetailOut, CaseIn, CasePageOut, PhotoOut, SubmittedOut
from grassroots.cases.services.photos import photo_upload
from grassroots.cases.workflow import Action, CaseState, Command, Rating, Role
from grassroots.core.api_errors import ERRORS, ErrorOut
from grassroots.core.errors import DomainError, Forbidden
from grassroots.core.scope import Scope
from grassroots.places import selectors as places

router = Router(tags=["cases"])


def _case_out(case: Case) -> dict[str, Any]:
    return {
        "id": case.pk,
        "number": case.number,
        "channel": case.channel,
        "category_id": case.category_id,
        "category_name": case.category.name,
        "description": case.description,
        "lon": case.lon,
        "lat": case.lat,
        "building_id": case.building_id,
        "grid_id": case.grid_id,
        "grid_name": case.grid.name,
        "state": case.state,
        "state_label": CaseState(case.state).label,
        "whistle_kind": case.whistle_kind,
        "level": case.level,
        "acknowledge_by": case.acknowledge_by,
        "handle_by": case.handle_by,
        "overdue": case.overdue,
        "provisional": case.provisional,
        "merged_into_id": case.merged_into_id,
        "version": case.version,
        "created_at": case.created_at,
        "updated_at": case.updated_at,
    }


@router.post(
    "/photos", response={201: PhotoOut, **ERRORS}, summary="Upload one photo (JPEG/PNG/WebP ≤ 10 MB; metadata removed)"
)
def upload_photo(request: HttpRequest, file: File[UploadedFile]) -> Status[dict[str, Any]]:
    user: Any = request.user
    if not selectors.acting_roles(user):
        raise Forbidden()
    photo = photo_upload(actor=user, upload=file, name=file.name or "", size=file.size)
    return Status(201, _photo_out(photo))


def _photo_out(photo: CasePhoto) -> dict[str, Any]:
    return {
        "id": photo.pk,
        "url": reverse("cases:photo", args=[photo.pk]),
        "width": photo.width,
        "height": photo.height,
        "content_type": photo.content_type,
    }


@router.post(
    "/",
    response={201: SubmittedOut, **ERRORS},
    summary="Report a problem (the grid is found from the point or building)",
)
def submit(request: HttpRequest, body: CaseIn) -> Status[dict[str, Any]]:
    user: Any = request.user
    if not selectors.may_report(user):
        raise Forbidden()
    # Residents report wherever they see a problem; workers report within their area.
    scope = (
        Scope.everything()
        if user.role in (AccountRole.RESIDENT, AccountRole.ADMIN)
        else scope_for(user, "cases.report")
    )
    category = Category.objects.filter(pk=body.category_id, is_active=True).first()
    if category is None:
        raise DomainError("请选择有效的事项分类。", field="category_id")
    lon, lat = body.lon, body.lat
    if lon is not None and lat is not None and body.coord_system == "gcj02":
        lon, lat = gcj02_to_wgs84(lon, lat)
    building = None
    if body.building_id is not None:
        building = places.building_get(scope=Scope.everything(), building_id=body.building_id)
    result = services.case_submit(
        actor=user,
        scope=scope,
        channel=body.channel,
        category=category,
        description=body.description,
        lon=lon,
        lat=lat,
        building=building,
        photos=body.photos,
    )
    case = Case.objects.select_related("category", "grid").get(pk=result.case.pk)
    visible = selectors.case_queryset(user=user).filter(pk__in=[d.pk for d in result.duplicates])
    return Status(201, {"case": _case_out(case), "duplicates": [_case_out(d) for d in visible]})


class ListQuery(Schema):
    state: str | None = None
    overdue: bool | None = None
    category_id: int | None = None
    inbox: bool = False
    limit: int = 50
    offset: int = 0


@router.get("/", response={200: CasePageOut, **ERRORS}, summary="The caller's cases, newest first")
def list_cases(request: HttpRequest, q: Query[ListQuery]) -> dict[str, Any]:
    limit, offset = max(1, min(q.limit, 200)), max(0, q.offset)
    page = selectors.case_list(
        user=request.user,
        state=q.state,
        overdue=q.overdue,
        category_id=q.category_id,
        inbox=q.inbox,
        limit=limit,
        offset=offset,
    )
    return {"items": [_case_out(c) for c in page.items], "total": page.total, "limit": limit, "offset": offset}


def _detail(user: Any, case: Case) -> dict[str, Any]:
    data = _case_out(case)
    data["timeline"] = [
        {
            "at": e.at,
            "actor": e.actor_label,
            "role": e.role,
            "action": e.action,
            "from_state": e.from_state,
            "to_state": e.to_state,
            "department": e.department.name if e.department else None,
            "note": e.note,
            "rating": e.rating,
        }
        for e in selectors.case_timeline(user=user, case_id=case.pk)
    ]
    data["assignments"] = [
        {
            "department_id": a.department_id,
            "department": a.department.name,
            "state": a.state,
            "acknowledged_at": a.acknowledged_at,
            "resolved_at": a.resolved_at,
            "reject_reason": a.reject_reason,
        }
        for a in selectors.case_assignments(case=case)
    ]
    data["photos"] = [
        {**_photo_out(photo), "stage": photo.stage} for photo in CasePhoto.objects.filter(case=case).order_by("id")
    ]
    data["allowed_actions"] = [
        {"role": role.value, "action": action.value, "label": action.label}
        for role, action in selectors.caller_actions(user=user, case=case)
    ]
    return data


@router.get(
    "/{case_id}", response={200: CaseDetailOut, **ERRORS}, summary="One case with its timeline and the caller's actions"
)
def get_case(request: HttpRequest, case_id: int) -> dict[str, Any]:
    return _detail(request.user, selectors.case_get(user=request.user, case_id=case_id))


def _choice(enum: Any, value: str, field: str) -> Any:
    try:
        return enum(value)
    except ValueError:
        raise DomainError(f"无效的取值“{value}”。", field=field) from None


@router.post(
    "/{case_id}/actions",
    response={200: CaseDetailOut, 409: ErrorOut, **ERRORS},
    summary="One step of the loop (409 when someone was faster)",
)
def act(request: HttpRequest, case_id: int, body: ActIn) -> dict[str, Any]:
    user = request.user
    roles = selectors.acting_roles(user)
    if not roles:
        selectors.case_get(user=user, case_id=case_id)  # 404 before 403: say nothing about unseen cases
        raise Forbidden()
    role = _choice(Role, body.role, "role") if body.role else roles[0]
    command = Command(
        action=_choice(Action, body.action, "action"),
        role=role,
        reason=body.reason,
        result=body.result,
        comment=body.comment,
        photos=tuple(str(p) for p in body.photos),
        rating=_choice(Rating, body.rating, "rating") if body.rating else None,
        target_case_id=body.target_case_id,
        departments=tuple(body.departments),
    )
    case = services.case_act(
        actor=user, role=role, case_id=case_id, expected_version=body.expected_version, command=command
    )
    return _detail(user, case)
