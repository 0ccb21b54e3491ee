"""Pages of the service side of engage: the service guide (办事指南, with xlsx import), the community
admission lists (社区工作准入, with the "may the community …?" question) and the party-and-masses
service centres (党群服务中心: standard, popularity index, visits, rooms and bookings).

Thin like the other engage pages: the capability is checked first (403), anything outside the
user's scope is 404 (the selectors and services say NotFound), writes go through the services.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from grassroots.accounts.decorators import capability_required
from grassroots.accounts.scopes import can
from grassroots.core import clock
from grassroots.core.errors import DomainError, Forbidden, NotFound
from grassroots.core.uploads import read_upload
from grassroots.engage.models import AdmissionItem, AdmissionKind
from grassroots.engage.selectors import centres as centre_reads
from grassroots.engage.selectors import guide as reads
from grassroots.engage.selectors.scopes import H5, READ, RUN, resident_community, run_scope, topic_scope
from grassroots.engage.services import admission as admission_service
from grassroots.engage.services import centres as centre_service
from grassroots.engage.services import guide as guide_service
from grassroots.places.models import Area, AreaLevel

PER_PAGE = 20
H5_PAGE = 15
h5_required = capability_required(H5, message="只有居民可以使用此页面。")
read_required = capability_required(READ, RUN, admission_service.DISPATCH, message="您的角色无权查看此页面。")
run_required = capability_required(RUN, message="只有社区工作者可以维护此内容。")
TEXTAREA = forms.Textarea(attrs={"rows": 3})
KIND_CHOICES = AdmissionKind.choices


# --- forms -----------------------------------------------------------------------------------


class GuideForm(forms.Form):
    area = forms.TypedChoiceField(label="适用区域", coerce=int)
    name = forms.CharField(label="事项名称", max_length=200)
    category = forms.CharField(label="类别", max_length=50)
    code = forms.CharField(label="事项编码", max_length=64, required=False)
    process = forms.CharField(label="办理流程（每步一行）", widget=TEXTAREA, required=False)
    conditions = forms.CharField(label="办理条件", widget=TEXTAREA, required=False)
    materials = forms.CharField(label="所需材料（每项一行）", widget=TEXTAREA, required=False)
    place = forms.CharField(label="办理地点", max_length=200, required=False)
    hours = forms.CharField(label="办理时间", max_length=200, required=False)
    phone = forms.CharField(label="咨询电话", max_length=100, required=False)
    online_url = forms.CharField(label="网上办理链接", max_length=500, required=False)
    is_active = forms.BooleanField(label="在用（居民可见）", required=False, initial=True)

    def __init__(self, *args: Any, areas: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["area"].choices = areas  # type: ignore[attr-defined]


class ImportForm(forms.Form):
    area = forms.TypedChoiceField(label="导入到区域", coerce=int)
    file = forms.FileField(label="文件（xlsx、xls 或 csv）")

    def __init__(self, *args: Any, areas: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["area"].choices = areas  # type: ignore[attr-defined]


class AdmissionForm(forms.Form):
    area = forms.TypedChoiceField(label="清单所属", coerce=int)
    kind = forms.ChoiceField(label="类型", choices=KIND_CHOICES)
    name = forms.CharField(label="名称", max_length=200)
    allowed = forms.TypedChoiceField(
        label="是否准入", choices=[("1", "允许"), ("0", "不允许")], coerce=lambda v: v == "1", widget=forms.RadioSelect
    )
    basis = forms.CharField(label="依据/规则", widget=TEXTAREA)
    note = forms.CharField(label="说明", widget=TEXTAREA, required=False)

    def __init__(self, *args: Any, areas: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["area"].choices = areas  # type: ignore[attr-defined]


class CentreForm(forms.Form):
    community = forms.TypedChoiceField(label="社区（村）", coerce=int)
    name = forms.CharField(label="名称", max_length=100)
    address = forms.CharField(label="地址", max_length=200, required=False)
    floor_area = forms.DecimalField(label="建筑面积(㎡)", max_digits=8, decimal_places=2, min_value=0)
    households_entered = forms.IntegerField(label="服务户数（楼栋数据为空时使用）", min_value=0, required=False)
    is_village = forms.BooleanField(label="村（农村社区，标准为不少于600㎡）", required=False)

    def __init__(self, *args: Any, communities: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["community"].choices = communities  # type: ignore[attr-defined]


class VisitForm(forms.Form):
    on = forms.DateField(label="日期", widget=forms.DateInput(attrs={"type": "date"}))
    count = forms.IntegerField(label="人次", min_value=1, initial=1)
    satisfaction = forms.TypedChoiceField(
        label="满意度",
        choices=[("", "未评价"), *[(str(i), f"{i}分") for i in range(5, 0, -1)]],
        coerce=int,
        empty_value=None,
        required=False,
    )
    note = forms.CharField(label="备注", max_length=200, required=False)


class RoomForm(forms.Form):
    name = forms.CharField(label="功能室", max_length=50)
    capacity = forms.IntegerField(label="容纳人数", min_value=1, required=False)


class BookingForm(forms.Form):
    room = forms.TypedChoiceField(label="功能室", coerce=int)
    starts_at = forms.DateTimeField(label="开始", widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    ends_at = forms.DateTimeField(label="结束", widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    purpose = forms.CharField(label="用途", max_length=200)
    booker = forms.CharField(label="预约人/单位", max_length=100)

    def __init__(self, *args: Any, rooms: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["room"].choices = rooms  # type: ignore[attr-defined]


# --- helpers ---------------------------------------------------------------------------------


def _areas(user: Any, levels: tuple[str, ...]) -> list[tuple[int, str]]:
    rows = Area.objects.filter(run_scope(user).path_q("path"), level__in=levels).order_by("path")
    return [(a.pk, a.name) for a in rows]


def _area(user: Any, area_id: int) -> Area:
    area = Area.objects.filter(run_scope(user).path_q("path"), pk=area_id).first()
    if area is None:
        raise NotFound()
    return area


def _error(request: HttpRequest, form: Any, error: DomainError) -> None:
    if isinstance(error, (Forbidden, NotFound)):
        raise error
    if form is not None and error.field in getattr(form, "fields", {}):
        form.add_error(error.field, error.message)
    else:
        messages.error(request, error.message)


def _h5_nav(current: str) -> list[dict[str, Any]]:
    return [
        {"label": "办事指南", "url": reverse("engage:h5_guides"), "active": current == "guides"},
        {"label": "社区能不能办", "url": reverse("engage:h5_admission"), "active": current == "admission"},
        {"label": "议事厅", "url": reverse("engage:h5_topics"), "active": False},
    ]


GUIDE_LEVELS = (AreaLevel.DISTRICT, AreaLevel.SUBDISTRICT, AreaLevel.COMMUNITY)


# --- resident pages --------------------------------------------------------------------------


@h5_required
def h5_guides(request: HttpRequest) -> HttpResponse:
    community = resident_community(request.user)
    if community is None:
        raise Forbidden("您的账号未登记所在社区，请联系社区工作人员。")
    q, category = request.GET.get("q", "").strip()[:50], request.GET.get("category", "").strip()[:50]
    rows = reads.resident_guides(request.user, q=q, category=category)
    page = Paginator(rows, H5_PAGE).get_page(request.GET.get("page"))
    context = {
        "community": community,
        "page": page,
        "q": q,
        "category": category,
        "categories": reads.categories(reads.resident_guides(request.user)),
        "h5_nav": _h5_nav("guides"),
    }
    return render(request, "engage/guide/h5_guides.html", context)


@h5_required
def h5_guide(request: HttpRequest, guide_id: int) -> HttpResponse:
    guide = reads.resident_guide_get(user=request.user, guide_id=guide_id)
    return render(request, "engage/guide/h5_guide.html", {"guide": guide, "h5_nav": _h5_nav("guides")})


@h5_required
def h5_admission(request: HttpRequest) -> HttpResponse:
    community = resident_community(request.user)
    if community is None:
        raise Forbidden("您的账号未登记所在社区，请联系社区工作人员。")
    return _ask(request, community, "engage/guide/h5_admission.html", {"h5_nav": _h5_nav("admission")})


def _ask(request: HttpRequest, community: Area | None, template: str, extra: dict[str, Any]) -> HttpResponse:
    kind = request.GET.get("kind") or AdmissionKind.CERTIFICATE.value
    if kind not in AdmissionKind.values:
        kind = AdmissionKind.CERTIFICATE.value
    name = request.GET.get("name", "").strip()[:200]
    answer = reads.admission_answer(community, kind=kind, name=name) if community and name else None
    context = {"community": community, "kind": kind, "name": name, "kinds": KIND_CHOICES, "answer": answer, **extra}
    return render(request, template, context)


# --- staff: service guide --------------------------------------------------------------------


@read_required
def guides(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    runs = can(user, RUN)
    form = GuideForm(request.POST or None, areas=_areas(user, GUIDE_LEVELS)) if runs else None
    if request.method == "POST":
        if form is None:
            raise Forbidden("只有社区工作者可以维护办事指南。")
        if form.is_valid():
            d = dict(form.cleaned_data)
            try:
                guide_service.guide_save(
                    actor=user, area=_area(user, d.pop("area")), is_active=d.pop("is_active"), values=d
                )
            except DomainError as error:
                _error(request, form, error)
            else:
                messages.success(request, "办事指南已保存。")
                return redirect("engage:guides")
    q, category = request.GET.get("q", "").strip()[:50], request.GET.get("category", "").strip()[:50]
    rows = reads.staff_guides(user, q=q, category=category)
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "page": page,
        "q": q,
        "category": category,
        "categories": reads.categories(reads.staff_guides(user)),
        "query": f"q={q}&category={category}" if q or category else "",
    }
    return render(request, "engage/guide/guides.html", context, status=400 if form and form.errors else 200)


@run_required
def guide(request: HttpRequest, guide_id: int) -> HttpResponse:
    user: Any = request.user
    item = reads.staff_guide_get(user=user, guide_id=guide_id)
    if not run_scope(user).covers_path(item.path):
        raise NotFound()
    fields = ["name", "category", "code", "process", "conditions", "materials", "place", "hours", "phone"]
    initial = {"area": item.area_id, "online_url": item.online_url, "is_active": item.is_active}
    initial.update({f: getattr(item, f) for f in fields})
    form = GuideForm(request.POST or None, areas=_areas(user, GUIDE_LEVELS), initial=initial)
    if request.method == "POST" and form.is_valid():
        d = dict(form.cleaned_data)
        try:
            guide_service.guide_save(
                actor=user, area=_area(user, d.pop("area")), is_active=d.pop("is_active"), values=d, guide_id=item.pk
            )
        except DomainError as error:
            _error(request, form, error)
        else:
            messages.success(request, "办事指南已保存。")
            return redirect("engage:guides")
    status = 400 if request.method == "POST" else 200
    return render(request, "engage/guide/guide.html", {"guide": item, "form": form}, status=status)


@run_required
def guide_import(request: HttpRequest) -> HttpResponse:
    """Upload → preview with every row's problems; the confirm step re-checks and writes all or nothing."""
    user: Any = request.user
    form = ImportForm(request.POST or None, request.FILES or None, areas=_areas(user, GUIDE_LEVELS))
    context: dict[str, Any] = {"form": form, "columns": [title for title, _ in guide_service.COLUMNS.values()]}
    context["synonyms"] = [(title, "、".join(words)) for title, words in guide_service.COLUMNS.values()]
    if request.method == "POST" and form.is_valid():
        area = _area(user, form.cleaned_data["area"])
        upload = form.cleaned_data["file"]
        try:
            rows = guide_service.read_guide_rows(read_upload(upload), upload.name or "")
        except DomainError as error:
            form.add_error("file", error.message)
        else:
            preview = guide_service.guide_import_check(area=area, rows=rows)
            context.update(preview=preview, file_name=upload.name, area=area)
            if preview.ok:
                context["token"] = guide_service.preview_token(rows, upload.name or "", area.pk)
            return render(request, "engage/guide/import.html", context)
        return render(request, "engage/guide/import.html", context, status=400)
    return render(request, "engage/guide/import.html", context, status=400 if form.errors else 200)


@require_POST
@run_required
def guide_import_confirm(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    try:
        rows, file_name, area_id = guide_service.rows_from_token(request.POST.get("token", ""))
        preview = guide_service.guide_import_apply(
            actor=user, area=_area(user, area_id), rows=rows, file_name=file_name
        )
    except guide_service.GuideImportError as error:
        context = {
            "form": ImportForm(areas=_areas(user, GUIDE_LEVELS)),
            "columns": [title for title, _ in guide_service.COLUMNS.values()],
            "error": error.message,
            "problems": error.problems,
        }
        return render(request, "engage/guide/import.html", context, status=400)
    messages.success(
        request,
        f"已导入 {len(preview.rows)} 行：新增 {preview.count('新增')}，更新 {preview.count('更新')}，"
        f"无变化 {preview.count('无变化')}。",
    )
    return redirect("engage:guides")


# --- staff: admission lists ------------------------------------------------------------------


def _list_areas(user: Any) -> list[tuple[int, str]]:
    rows = Area.objects.filter(
        admission_service.list_scope(user).path_q("path"), level__in=admission_service.LIST_LEVELS
    ).order_by("path")
    return [(a.pk, f"{a.name}（{a.get_level_display()}）") for a in rows]


def _list_area(user: Any, area_id: int) -> Area:
    area = Area.objects.filter(admission_service.list_scope(user).path_q("path"), pk=area_id).first()
    if area is None:
        raise NotFound()
    return area


@read_required
def admission(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    areas = _list_areas(user) if admission_service.may_edit_lists(user) else []
    form = AdmissionForm(request.POST or None, areas=areas) if areas else None
    if request.method == "POST":
        if form is None:
            raise Forbidden("只有区、街道的工作人员可以维护准入清单。")
        if form.is_valid():
            d = dict(form.cleaned_data)
            try:
                admission_service.admission_save(actor=user, area=_list_area(user, d.pop("area")), **d)
            except DomainError as error:
                _error(request, form, error)
            else:
                messages.success(request, "准入清单已保存。")
                return redirect("engage:admission")
    kind = request.GET.get("kind", "")
    kind = kind if kind in AdmissionKind.values else ""
    q = request.GET.get("q", "").strip()[:50]
    page = Paginator(reads.staff_items(user, kind=kind, q=q), PER_PAGE).get_page(request.GET.get("page"))
    editable = admission_service.list_scope(user)
    context = {
        "form": form,
        "page": page,
        "kind": kind,
        "q": q,
        "kinds": KIND_CHOICES,
        "editable": {i.pk for i in page.object_list if editable.covers_path(i.path)},
        "query": f"kind={kind}&q={q}" if kind or q else "",
    }
    return render(request, "engage/guide/admission.html", context, status=400 if form and form.errors else 200)


@read_required
def admission_item(request: HttpRequest, item_id: int) -> HttpResponse:
    user: Any = request.user
    item = AdmissionItem.objects.select_related("area").filter(pk=item_id).first()
    if item is None or not admission_service.list_scope(user).covers_path(item.path):
        raise NotFound()
    initial = {"area": item.area_id, "kind": item.kind, "name": item.name, "allowed": "1" if item.allowed else "0"}
    initial.update(basis=item.basis, note=item.note)
    form = AdmissionForm(request.POST or None, areas=_list_areas(user), initial=initial)
    if request.method == "POST":
        try:
            if request.POST.get("op") == "delete":
                admission_service.admission_delete(actor=user, item_id=item.pk)
                messages.success(request, "已删除该条目。")
                return redirect("engage:admission")
            if form.is_valid():
                d = dict(form.cleaned_data)
                admission_service.admission_save(actor=user, area=_list_area(user, d.pop("area")), item_id=item.pk, **d)
                messages.success(request, "准入清单已保存。")
                return redirect("engage:admission")
        except DomainError as error:
            _error(request, form, error)
    status = 400 if request.method == "POST" else 200
    return render(request, "engage/guide/admission_item.html", {"item": item, "form": form}, status=status)


@read_required
def admission_ask(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    communities = Area.objects.filter(topic_scope(user).path_q("path"), level=AreaLevel.COMMUNITY).order_by("path")
    chosen = communities.filter(pk=request.GET.get("community") or 0).first() if request.GET.get("community") else None
    if chosen is None and request.GET.get("community"):
        raise NotFound()
    community = chosen or communities.first()
    extra = {"communities": list(communities)}
    return _ask(request, community, "engage/guide/admission_ask.html", extra)


# --- staff: service centres ------------------------------------------------------------------


def _period(request: HttpRequest) -> tuple[Any, Any]:
    end = clock.today()
    start = end - timedelta(days=centre_reads.DEFAULT_PERIOD_DAYS - 1)
    try:
        if request.GET.get("start"):
            start = datetime.strptime(request.GET["start"], "%Y-%m-%d").date()
        if request.GET.get("end"):
            end = datetime.strptime(request.GET["end"], "%Y-%m-%d").date()
    except ValueError:
        messages.error(request, "日期格式应为 年-月-日。")
    return (start, end) if start <= end else (end, start)


@capability_required(READ, RUN, message="您的角色无权查看党群服务中心。")
def centres(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    runs = can(user, RUN)
    form = CentreForm(request.POST or None, communities=_areas(user, (AreaLevel.COMMUNITY,))) if runs else None
    if request.method == "POST":
        if form is None:
            raise Forbidden("只有社区工作者可以登记党群服务中心。")
        if form.is_valid():
            d = dict(form.cleaned_data)
            try:
                centre = centre_service.centre_save(actor=user, community=_area(user, d.pop("community")), **d)
            except DomainError as error:
                _error(request, form, error)
            else:
                messages.success(request, "党群服务中心已保存。")
                return redirect("engage:centre", centre_id=centre.pk)
    start, end = _period(request)
    rows = centre_reads.centre_rows(user, start=start, end=end)
    context = {
        "form": form,
        "rows": rows,
        "start": start,
        "end": end,
        "formula": centre_reads.FORMULA,
        "standard": centre_reads.STANDARD,
    }
    return render(request, "engage/guide/centres.html", context, status=400 if form and form.errors else 200)


@capability_required(READ, RUN, message="您的角色无权查看党群服务中心。")
def centre(request: HttpRequest, centre_id: int) -> HttpResponse:
    user: Any = request.user
    item = centre_reads.centre_get(user=user, centre_id=centre_id)
    runs = centre_reads.runs_centre(user, item)
    rooms = centre_reads.centre_rooms(item)
    visit_form = VisitForm(initial={"on": clock.today()})
    room_form = RoomForm()
    booking_form = BookingForm(rooms=[(r.pk, r.name) for r in rooms])
    status = 200
    if request.method == "POST":
        if not runs:
            raise Forbidden("只有本社区的工作人员可以登记。")
        op = request.POST.get("op", "")
        form: Any = None
        try:
            if op == "visit":
                form = visit_form = VisitForm(request.POST)
                if form.is_valid():
                    centre_service.visit_record(actor=user, centre_id=item.pk, **form.cleaned_data)
                    messages.success(request, "已登记到访。")
                    return redirect("engage:centre", centre_id=item.pk)
            elif op == "room":
                form = room_form = RoomForm(request.POST)
                if form.is_valid():
                    centre_service.room_add(actor=user, centre_id=item.pk, **form.cleaned_data)
                    return redirect("engage:centre", centre_id=item.pk)
            elif op == "book":
                form = booking_form = BookingForm(request.POST, rooms=[(r.pk, r.name) for r in rooms])
                if form.is_valid():
                    d = dict(form.cleaned_data)
                    room_id = d.pop("room")
                    if room_id not in {r.pk for r in rooms}:
                        raise NotFound()
                    centre_service.booking_create(actor=user, room_id=room_id, **d)
                    messages.success(request, "已预约。")
                    return redirect("engage:centre", centre_id=item.pk)
            elif op == "cancel":
                booking_id = int(request.POST.get("booking", "0") or 0)
                if not item.rooms.filter(bookings__pk=booking_id).exists():
                    raise NotFound()
                centre_service.booking_cancel(actor=user, booking_id=booking_id)
                return redirect("engage:centre", centre_id=item.pk)
            else:
                raise DomainError("无效的操作。")
        except DomainError as error:
            _error(request, form, error)
        status = 400
    # compared with every centre the user sees, as on the list page
    row = next(r for r in centre_reads.centre_rows(user) if r.centre.pk == item.pk)
    context = {
        "centre": item,
        "row": row,
        "runs": runs,
        "rooms": rooms,
        "bookings": centre_reads.upcoming_bookings(item),
        "visits": centre_reads.recent_visits(item),
        "visit_form": visit_form,
        "room_form": room_form,
        "booking_form": booking_form,
        "formula": centre_reads.FORMULA,
        "standard": centre_reads.STANDARD,
    }
    return render(request, "engage/guide/centre.html", context, status=status)
