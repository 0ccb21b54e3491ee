"""The resident H5 pages (phone first): report a problem, follow one's reports, rate the result.

Thin: reads go through the case selectors (a resident sees only their own reports; anything
else is the same 404 as a missing case) and writes through the case services, which check
the workflow, write the timeline and audit. Photos are checked and stripped of EXIF by
``photo_upload`` in the same request as the report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.uploadedfile import UploadedFile
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from grassroots.accounts.models import Department
from grassroots.accounts.models import Role as AccountRole
from grassroots.accounts.scopes import scope_for
from grassroots.cases import selectors, services
from grassroots.cases.coords import gcj02_to_wgs84
from grassroots.cases.models import Case, CaseEvent, CasePhoto, Category, Channel, PhotoStage
from grassroots.cases.resident_forms import CancelForm, RatingForm, ReportForm
from grassroots.cases.services.photos import photo_upload
from grassroots.cases.workflow import MAX_PHOTOS, Action, CaseState, Command, Rating, Role
from grassroots.core.errors import DomainError, Forbidden, NotFound
from grassroots.core.ratelimit import rate_limit
from grassroots.core.scope import Scope
from grassroots.places import selectors as places
from grassroots.places.models import Building, Entrance

PAGE_SIZE = 10
CONFLICT_MESSAGE = "该案件刚刚有了新进展，您看到的不是最新状态。页面已更新，请确认后重新操作。"
# What residents read for each timeline step (the staff pages use the workflow's own labels).
EVENT_LABELS = {
    "submit": "提交反映",
    "remind": "到期提醒",
    "overdue": "已超期，督办中",
    Action.accept.value: "社区受理，自行办理",
    Action.whistle.value: "吹哨派遣",
    Action.acknowledge.value: "部门报到",
    Action.reject.value: "部门退单",
    Action.re_dispatch.value: "重新派遣",
    Action.escalate_to_arbitration.value: "提请街道仲裁",
    Action.arbitrate.value: "街道仲裁，确定承办部门",
    Action.start.value: "开始处置",
    Action.resolve.value: "办结反馈",
    Action.begin_verification.value: "开始核实",
    Action.verify_pass.value: "核实通过，结案",
    Action.verify_fail.value: "核实未通过，继续处置",
    Action.evaluate.value: "评价",
    Action.reopen.value: "重新办理",
    Action.merge.value: "与相同问题合并办理",
    Action.cancel.value: "作废",
}


def _report_scope(user: Any) -> Scope:
    # Residents report wherever they see a problem; workers within their area (as the API does).
    if user.role in (AccountRole.RESIDENT, AccountRole.ADMIN):
        return Scope.everything()
    return scope_for(user, "cases.report")


def _h5_nav(current: str) -> list[dict[str, Any]]:
    return [
        {"label": "反映问题", "url": reverse("cases:h5_report"), "active": current == "report"},
        {"label": "我的反映", "url": reverse("cases:h5_mine"), "active": current == "mine"},
    ]


# --- report ---------------------------------------------------------------------------------


@dataclass
class QrPlace:
    building: Building
    entrance: Entrance | None

    @property
    def label(self) -> str:
        compound = self.building.compound.name if self.building.compound_id and self.building.compound else ""
        return f"{compound}{self.building.name}{self.entrance or ''}"


def _int(value: Any) -> int | None:
    text = str(value or "").strip()
    return int(text) if text.isdigit() and len(text) < 12 else None


def _qr_place(raw_building: Any, raw_entrance: Any) -> tuple[QrPlace | None, str]:
    """The building (and entrance) a QR code names, or an error to show; none given is no error."""
    building_id, entrance_id = _int(raw_building), _int(raw_entrance)
    if building_id is None:
        return None, "二维码无效，请改用定位或在地图上选择位置。" if raw_building else ""
    try:
        # A sticker on a building is public: any reporter may name it, wherever their own scope lies.
        building = places.building_get(scope=Scope.everything(), building_id=building_id)
    except NotFound:
        return None, "二维码对应的楼栋不存在，请改用定位或在地图上选择位置。"
    entrance = None
    if entrance_id is not None:
        entrance = Entrance.objects.filter(pk=entrance_id, building=building).first()
    return QrPlace(building, entrance), ""


def _staged(user: Any, ids: list[int]) -> list[CasePhoto]:
    return list(CasePhoto.objects.filter(pk__in=ids, case__isnull=True, uploaded_by_id=user.pk).order_by("id"))


def _staged_choices(request: HttpRequest) -> list[int]:
    wanted = [i for i in (_int(v) for v in request.POST.getlist("staged")) if i is not None]
    return [p.pk for p in _staged(request.user, wanted)]


def _upload_photos(user: Any, files: list[UploadedFile], kept: int) -> tuple[list[int], list[str]]:
    """Upload every chosen file; the ids that passed and one Chinese error per refused photo."""
    if kept + len(files) > MAX_PHOTOS:
        return [], [f"照片最多{MAX_PHOTOS}张，您选择了{kept + len(files)}张，请减少后再提交。"]
    ids: list[int] = []
    errors: list[str] = []
    for upload in files:
        try:
            photo = photo_upload(actor=user, upload=upload, name=upload.name or "", size=upload.size)
        except DomainError as error:
            errors.append(error.message)
        else:
            ids.append(photo.pk)
    return ids, errors


@login_required
@rate_limit("report")
def h5_report(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    if not selectors.may_report(user):
        raise Forbidden("您的账号不能在此反映问题。")
    source = request.POST if request.method == "POST" else request.GET
    qr, qr_error = _qr_place(source.get("building"), source.get("entrance"))
    photo_errors: list[str] = []
    staged_ids: list[int] = []
    if request.method != "POST":
        initial = {
            "building": qr.building.pk if qr else None,
            "entrance": qr.entrance.pk if qr and qr.entrance else None,
        }
        form = ReportForm(initial=initial)
    else:
        form = ReportForm(request.POST, staged_choices=_staged_choices(request))
        valid = form.is_valid()
        staged_ids = list(form.cleaned_data.get("staged") or [])
        files = [f for f in request.FILES.getlist("photos") if f.size or f.name]
        new_ids, photo_errors = _upload_photos(user, files, len(staged_ids))
        staged_ids += new_ids
        if qr_error:
            form.add_error(None, qr_error)
            valid = False
        if valid and not photo_errors:
            submitted = _submit(request, form, qr, staged_ids, photo_errors)
            if submitted is not None:
                return submitted
    context = {
        "form": form,
        "qr": qr,
        "qr_error": qr_error if request.method != "POST" else "",
        "errors": [
            *form.non_field_errors(),
            *(e for f in form.hidden_fields() for e in f.errors),
            *photo_errors,
        ],
        "staged": _staged(user, staged_ids),
        "max_photos": MAX_PHOTOS,
        "grids_url": reverse("cases:h5_grids"),
        "h5_nav": _h5_nav("report"),
    }
    return render(request, "cases/h5/report.html", context, status=400 if request.method == "POST" else 200)


def _submit(
    request: HttpRequest, form: ReportForm, qr: QrPlace | None, photo_ids: list[int], photo_errors: list[str]
) -> HttpResponse | None:
    """Submit through the service; None (with the errors put on the form) when it refuses."""
    user: Any = request.user
    data = form.cleaned_data
    category = Category.objects.filter(pk=data["category"], is_active=True).first()
    if category is None:
        form.add_error("category", "请选择有效的问题类型。")
        return None
    lon, lat = data.get("lon"), data.get("lat")
    if qr is None and lon is not None and lat is not None and data.get("coord") == "gcj02":
        lon, lat = gcj02_to_wgs84(lon, lat)  # WeChat's wx.getLocation answers in GCJ-02
    if qr is not None:
        lon = lat = None  # the building's own point: a QR needs no GPS
    try:
        result = services.case_submit(
            actor=user,
            scope=_report_scope(user),
            channel=Channel.QR_CODE if qr is not None else Channel.RESIDENT_H5,
            category=category,
            description=data["description"],
            lon=lon,
            lat=lat,
            building=qr.building if qr is not None else None,
            photos=photo_ids,
            address_text=qr.label if qr is not None else "",
        )
    except Forbidden as error:
        form.add_error(None, error.message)
        return None
    except DomainError as error:
        if error.field == "photos":
            photo_errors.append(error.message)
        elif error.field in ("category", "description"):
            form.add_error(error.field, error.message)
        else:
            form.add_error(None, error.message)
        return None
    messages.success(request, f"反映已提交，编号 {result.case.number}。我们会尽快办理，请留意办理进度。")
    if result.duplicates:
        messages.info(
            request,
            f"附近7天内已有相同问题（{len(result.duplicates)}件）正在办理，您的反映已记录，将一并处理。",
        )
    return redirect("cases:h5_case", case_id=result.case.pk)


@login_required
@require_GET
def h5_grids(request: HttpRequest) -> JsonResponse:
    """Our own grid outlines for the report map (names only: no counts, no paths)."""
    if not selectors.may_report(request.user):
        raise Forbidden()
    everything = Scope.everything()
    features = []
    for root in places.area_roots(scope=everything):
        for feature in places.grid_features(scope=everything, area=root)["features"]:
            features.append(
                {
                    "type": "Feature",
                    "geometry": feature["geometry"],
                    "properties": {"name": feature["properties"]["name"]},
                }
            )
    response = JsonResponse({"type": "FeatureCollection", "features": features})
    response["Cache-Control"] = "private, max-age=600"
    return response


# --- my reports -----------------------------------------------------------------------------


def _rating_label(value: str) -> str:
    return Rating(value).label if value in {r.value for r in Rating} else ""


def _awaits_rating(case: Case) -> bool:
    return case.state == CaseState.closed.value and not case.evaluated_since_close


@login_required
def h5_mine(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    rows = selectors.case_queryset(user=user).filter(reporter_id=user.pk).order_by("-created_at", "-id")
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    items = [
        {
            "case": case,
            "state_label": CaseState(case.state).label,
            "awaits_rating": _awaits_rating(case),
            "rating_label": _rating_label(case.rating),
        }
        for case in page.object_list
    ]
    context = {"page": page, "items": items, "h5_nav": _h5_nav("mine")}
    return render(request, "cases/h5/mine.html", context)


# --- one case -------------------------------------------------------------------------------


@dataclass
class TimelineItem:
    at: datetime
    who: str
    label: str
    note: str = ""
    extra: list[str] = field(default_factory=list)


def _who(event: CaseEvent, user: Any) -> str:
    """Role or department, never a staff member's name or phone."""
    if event.role == Role.resident.value:
        return "我" if event.actor_id == user.pk else "居民"
    if event.department is not None:
        return str(event.department.name)
    try:
        return Role(event.role).label
    except ValueError:
        return "工作人员"


def _timeline(case: Case, user: Any) -> list[TimelineItem]:
    events = selectors.case_timeline(user=user, case_id=case.pk)
    department_ids = {d for e in events for d in e.payload.get("departments", []) if isinstance(d, int)}
    names = dict(Department.objects.filter(pk__in=department_ids).values_list("pk", "name"))
    items = []
    for event in events:
        label = EVENT_LABELS.get(event.action, "办理进展")
        if event.action == Action.cancel.value and event.role == Role.resident.value:
            label = "撤回反映"
        note = "" if event.action == "submit" else event.note
        extra = []
        if _rating_label(event.rating):
            label = f"评价：{_rating_label(event.rating)}"
        sent = [names[d] for d in event.payload.get("departments", []) if d in names]
        if sent:
            extra.append("承办部门：" + "、".join(sent))
        items.append(TimelineItem(event.at, _who(event, user), label, note, extra))
    return items


def _photos(case: Case) -> list[dict[str, Any]]:
    by_stage: dict[str, list[CasePhoto]] = {}
    for photo in CasePhoto.objects.filter(case=case).order_by("id"):
        by_stage.setdefault(photo.stage, []).append(photo)
    return [
        {"label": f"{stage.label}照片", "photos": by_stage[stage.value]}
        for stage in PhotoStage
        if stage.value in by_stage
    ]


def _own_case(request: HttpRequest, case_id: int) -> Case:
    case = selectors.case_get(user=request.user, case_id=case_id)
    if case.reporter_id != request.user.pk:
        raise NotFound()  # the H5 case page is the reporter's own view
    return case


def _act(request: HttpRequest, case: Case, form: Any, command: Command) -> tuple[HttpResponse | None, bool]:
    """Apply the resident's step: (redirect, False) when done, (None, conflict?) with errors on the form."""
    try:
        services.case_act(
            actor=request.user,
            role=Role.resident,
            case_id=case.pk,
            expected_version=form.cleaned_data["version"],
            command=command,
        )
    except services.Conflict:
        return None, True
    except DomainError as error:
        form.add_error(error.field if error.field in form.fields else None, error.message)
        return None, False
    return redirect("cases:h5_case", case_id=case.pk), False


def _offers(request: HttpRequest, case: Case) -> tuple[bool, bool]:
    """Whether the reporter may rate, and may withdraw, the case as it stands."""
    offered = {a for role, a in selectors.caller_actions(user=request.user, case=case) if role is Role.resident}
    may_rate = Action.evaluate in offered and _awaits_rating(case)
    may_cancel = Action.cancel in offered and case.state == CaseState.submitted.value
    return may_rate, may_cancel


def _with_version(form: Any, version: int) -> None:
    """A retry must carry the version the resident now sees (the input they typed is kept)."""
    data = QueryDict(mutable=True)
    data.update(form.data)
    data["version"] = str(version)
    form.data = data


@login_required
def h5_case(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _own_case(request, case_id)
    may_rate, may_cancel = _offers(request, case)
    rating_form: RatingForm | None = RatingForm(initial={"version": case.version}) if may_rate else None
    cancel_form: CancelForm | None = CancelForm(initial={"version": case.version}) if may_cancel else None
    status = 200
    if request.method == "POST":
        op = request.POST.get("op")
        conflict = False
        if op == "evaluate":
            rating_form = RatingForm(request.POST)
            if rating_form.is_valid():
                data = rating_form.cleaned_data
                command = Command(
                    Action.evaluate, Role.resident, rating=Rating(data["rating"]), comment=data["comment"].strip()
                )
                done, conflict = _act(request, case, rating_form, command)
                if done is not None:
                    messages.success(request, "感谢您的评价！")
                    return done
        elif op == "cancel":
            cancel_form = CancelForm(request.POST)
            if cancel_form.is_valid():
                command = Command(Action.cancel, Role.resident, reason=cancel_form.cleaned_data["reason"])
                done, conflict = _act(request, case, cancel_form, command)
                if done is not None:
                    messages.success(request, "您的反映已撤回。")
                    return done
        else:
            raise DomainError("无效的操作。")
        status = 409 if conflict else 400
        case = _own_case(request, case_id)  # show the latest state beside the error
        may_rate, may_cancel = _offers(request, case)
        for form in (rating_form, cancel_form):
            if form is not None and form.is_bound:
                _with_version(form, case.version)
                if conflict:
                    messages.error(request, CONFLICT_MESSAGE)
        # A form the new state no longer allows goes away; the message above says why.
        rating_form = rating_form if may_rate else None
        cancel_form = cancel_form if may_cancel else None
    context = {
        "case": case,
        "state_label": CaseState(case.state).label,
        "channel_label": Channel(case.channel).label if case.channel in Channel.values else case.channel,
        "rating_label": _rating_label(case.rating),
        "timeline": _timeline(case, request.user),
        "photo_groups": _photos(case),
        "rating_form": rating_form,
        "cancel_form": cancel_form,
        "h5_nav": _h5_nav("mine"),
    }
    return render(request, "cases/h5/case.html", context, status=status)
