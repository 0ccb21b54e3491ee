"""Party pages: organisation tree and coverage, members, check-in (报到), services, targets, unit report.

Thin: the capability is checked before anything is looked up (403), every read goes through a
selector that starts from the user's scope (out of scope → NotFound → 404), every write through a
service. Members are shown by name and masked ID only; each page that shows members is audited.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from grassroots.accounts.decorators import capability_required
from grassroots.accounts.scopes import can, scope_for
from grassroots.accounts.views import client_ip
from grassroots.audit.services import Actor, actor_of, audit_record
from grassroots.core import clock
from grassroots.core.errors import DomainError, Forbidden, NotFound
from grassroots.core.scope import Scope
from grassroots.party import exports, forms, selectors, services
from grassroots.party.models import CheckinState, MemberKind, PartyMember
from grassroots.places import selectors as places
from grassroots.places.models import Area, AreaLevel
from grassroots.registry import selectors as registry

VIEW, MANAGE = "party.view", "party.manage"
View = Callable[..., HttpResponse]


def _actor(request: HttpRequest) -> Actor:
    return actor_of(request.user, client_ip(request))


def _scope(request: HttpRequest, capability: str = VIEW) -> Scope:
    return scope_for(request.user, capability)


def _year(request: HttpRequest) -> int:
    this = timezone.localdate(clock.now()).year
    try:
        year = int(request.GET.get("year", this))
    except ValueError:
        return this
    return year if 2000 <= year <= this + 1 else this


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def _home_area(scope: Scope) -> Area:
    """The area a page opens on: the scope's own, or the first root for administrators."""
    roots = places.area_roots(scope=scope)
    if not roots:
        raise NotFound()
    return roots[0]


def _area_param(request: HttpRequest, scope: Scope) -> Area:
    area_id = _int(request.GET.get("area"))
    return places.area_get(scope=scope, area_id=area_id) if area_id else _home_area(scope)


def _error(request: HttpRequest, exc: DomainError) -> None:
    messages.error(request, exc.message)


# --- Organisations and coverage ---------------------------------------------------------


@capability_required(VIEW)
def tree(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    area = _area_param(request, scope)
    context = {
        "area": area,
        "roots": selectors.org_tree(scope=Scope(area_path=area.path)),
        "coverage": selectors.coverage(scope=scope, area=area),
        "children": [a for a in places.area_children(scope=scope, area=area) if a.level != AreaLevel.GRID],
        "can_manage": can(request.user, MANAGE),
    }
    return render(request, "party/tree.html", context)


@capability_required(MANAGE)
def org_create(request: HttpRequest) -> HttpResponse:
    scope = _scope(request, MANAGE)
    form = forms.OrgForm(request.POST or None, scope=scope, initial={"area": _int(request.GET.get("area"))})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        building = d["building"]
        area = building.grid if building is not None else d["area"]
        try:
            org = services.org_create(
                actor=_actor(request),
                scope=scope,
                level=d["level"],
                name=d["name"],
                area=area,
                parent=d["parent"],
                building=building,
                unit=d["unit"],
                founded_on=d["founded_on"],
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, f"已成立“{org.name}”。")
            return redirect("party:org", org_id=org.pk)
    return render(request, "party/org_form.html", {"form": form})


@capability_required(VIEW)
def org_detail(request: HttpRequest, org_id: int) -> HttpResponse:
    scope = _scope(request)
    org = selectors.org_get(scope=scope, org_id=org_id)
    can_manage = can(request.user, MANAGE) and _scope(request, MANAGE).covers_path(org.path)
    seat_form, edit_form, reason_form = forms.SeatForm(), forms.OrgEditForm(), forms.ReasonForm()
    if request.method == "POST":
        if not can_manage:
            raise Forbidden("您的角色无权修改党组织。")
        action = request.POST.get("action")
        actor, manage = _actor(request), _scope(request, MANAGE)
        try:
            if action == "seat":
                seat_form = forms.SeatForm(request.POST)
                if seat_form.is_valid():
                    d = seat_form.cleaned_data
                    services.seat_add(
                        actor=actor,
                        scope=manage,
                        org=org,
                        name=d["name"],
                        post=d["post"],
                        since=d["since"],
                        part_time=d["post"] == "兼职委员",
                        from_department=d["from_department"],
                    )
                    messages.success(request, "已增加委员。")
                    return redirect("party:org", org_id=org.pk)
            elif action == "end_seat":
                seat = org.seats.filter(pk=_int(request.POST.get("seat")) or 0).first()
                if seat is None:
                    raise NotFound()
                services.seat_end(actor=actor, scope=manage, seat=seat, until=timezone.localdate(clock.now()))
                messages.success(request, f"{seat.name}已离任。")
                return redirect("party:org", org_id=org.pk)
            elif action == "edit":
                edit_form = forms.OrgEditForm(request.POST)
                if edit_form.is_valid():
                    d = edit_form.cleaned_data
                    services.org_update(
                        actor=actor,
                        scope=manage,
                        org=org,
                        name=d["name"],
                        secretary=org.secretary,
                        founded_on=d["founded_on"],
                    )
                    messages.success(request, "已保存。")
                    return redirect("party:org", org_id=org.pk)
            elif action == "deactivate":
                reason_form = forms.ReasonForm(request.POST)
                if reason_form.is_valid():
                    services.org_deactivate(
                        actor=actor, scope=manage, org=org, reason=reason_form.cleaned_data["reason"]
                    )
                    messages.success(request, f"已撤销“{org.name}”。")
                    return redirect("party:org", org_id=org.pk)
        except DomainError as exc:
            if isinstance(exc, NotFound):
                raise
            _error(request, exc)
    if not edit_form.is_bound:
        edit_form = forms.OrgEditForm(initial={"name": org.name, "founded_on": org.founded_on})
    context = {
        "org": org,
        "seats": list(org.seats.select_related("from_unit").order_by("until", "-part_time", "post", "id")),
        "children": list(org.children.filter(is_active=True).select_related("area")),
        "member_count": org.members.filter(is_active=True).count(),
        "can_manage": can_manage,
        "seat_form": seat_form,
        "edit_form": edit_form,
        "reason_form": reason_form,
    }
    return render(request, "party/org.html", context)


# --- Members ----------------------------------------------------------------------------


@capability_required(VIEW)
def member_list(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    kind = request.GET.get("kind", "")
    checkin = request.GET.get("checkin", "")
    filters = selectors.MemberFilters(
        kind=kind if kind in MemberKind.values else "",
        org_id=_int(request.GET.get("org")),
        q=request.GET.get("q", "").strip()[:50],
        checkin=checkin if checkin in ("none", *CheckinState.values) else "",
    )
    page = selectors.member_page(
        actor=_actor(request), scope=scope, filters=filters, page=_int(request.GET.get("page")) or 1
    )
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "page": page,
        "filters": filters,
        "kinds": MemberKind.choices,
        "states": CheckinState.choices,
        "orgs": selectors.org_choices(scope=scope),
        "query": query.urlencode(),
        "can_manage": can(request.user, MANAGE),
    }
    return render(request, "party/members.html", context)


@capability_required(MANAGE)
def member_create(request: HttpRequest) -> HttpResponse:
    """Step 1: find the person in the registry (within scope); step 2: the member's details."""
    scope = _scope(request, MANAGE)
    person_id = _int(request.GET.get("person") or request.POST.get("person"))
    q = request.GET.get("q", "").strip()[:100]
    results: list[Any] = []
    parsed = registry.parse_query(q)
    if q and person_id is None and parsed.kind not in (registry.Kind.EMPTY, registry.Kind.INVALID):
        people = registry.person_search(actor=_actor(request), scope=scope, query=q, limit=20)
        members = set(PartyMember.objects.filter(person__in=people).values_list("person_id", flat=True))
        results = [(p, p.pk in members) for p in people]
    person = selectors.person_for_member(scope=scope, person_id=person_id) if person_id else None
    form = None
    if person is not None:
        initial = {"kind": MemberKind.EMPLOYED, "residence_area": _grid_or_none(person.path)}
        form = forms.MemberForm(request.POST or None, scope=scope, initial=initial)
        if request.method == "POST" and form.is_valid():
            d = form.cleaned_data
            try:
                member = services.member_create(
                    actor=_actor(request),
                    scope=scope,
                    person=person,
                    kind=d["kind"],
                    org=d["org"],
                    employer=d["employer"],
                    residence_area=d["residence_area"],
                    joined_on=d["joined_on"],
                )
            except DomainError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                messages.success(request, f"已登记党员{person.name}。")
                return redirect("party:member", member_id=member.pk)
    context = {"q": q, "parsed": parsed, "results": results, "person": person, "form": form}
    return render(request, "party/member_form.html", context)


def _grid_or_none(path: str) -> int | None:
    return Area.objects.filter(path=path).values_list("pk", flat=True).first()


@capability_required(VIEW)
def member_detail(request: HttpRequest, member_id: int) -> HttpResponse:
    scope = _scope(request)
    year = _year(request)
    detail = selectors.member_detail(actor=_actor(request), scope=scope, member_id=member_id, year=year)
    can_manage = can(request.user, MANAGE) and _scope(request, MANAGE).covers_path(detail.member.path)
    context = {
        "d": detail,
        "m": detail.member,
        "year": year,
        "can_manage": can_manage,
        "service_form": forms.ServiceForm(scope=scope, member=detail.member) if can_manage else None,
        "reason_form": forms.ReasonForm(),
    }
    return render(request, "party/member.html", context)


@require_POST
@capability_required(MANAGE)
def member_deactivate(request: HttpRequest, member_id: int) -> HttpResponse:
    scope = _scope(request, MANAGE)
    member = selectors.member_get(actor=None, scope=scope, member_id=member_id)
    form = forms.ReasonForm(request.POST)
    try:
        if not form.is_valid():
            raise DomainError("请填写原因。")
        services.member_deactivate(
            actor=_actor(request), scope=scope, member=member, reason=form.cleaned_data["reason"]
        )
        messages.success(request, "已注销该党员。")
    except DomainError as exc:
        _error(request, exc)
    return redirect("party:member", member_id=member.pk)


# --- Check-in (报到) --------------------------------------------------------------------


def _community(community_id: int) -> Area:
    community = Area.objects.filter(pk=community_id, level=AreaLevel.COMMUNITY).first()
    if community is None:
        raise NotFound()
    return community


@login_required
def checkin_start(request: HttpRequest) -> HttpResponse:
    """The navigation's entry for a resident: their own community's check-in page."""
    area = getattr(request.user, "area", None)
    community = services.community_of(area) if area is not None else None
    if community is None:  # an account without a home community: the community's QR code is the way in
        return render(request, "party/checkin_start.html", status=200)
    return redirect("party:checkin", community_id=community.pk)


@login_required
def checkin(request: HttpRequest, community_id: int) -> HttpResponse:
    """An employed member registers with the community where they live (a phone page, from a QR code)."""
    community = _community(community_id)
    form = forms.CheckinForm(request.POST or None)
    done = None
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        actor = _actor(request)
        person = services.checkin_find_person(
            community=community, name=d["name"], id_number=d["id_number"], phone=d["phone"]
        )
        if person is None:
            # Audited without the typed values: they may be someone else's ID and phone.
            audit_record(
                actor=actor,
                action="party.checkin.unmatched",
                object_type="area",
                object_id=community.pk,
                area_path=community.path,
            )
            form.add_error(None, services.UNKNOWN_PERSON)
        else:
            try:
                done = services.checkin_request(
                    actor=actor, community=community, person=person, skills=d["skills"], wishes=d["wishes"]
                )
            except DomainError as exc:
                form.add_error(None, exc.message)
    return render(request, "party/checkin.html", {"community": community, "form": form, "done": done})


def checkin_url(request: HttpRequest, community_id: int) -> str:
    path = reverse("party:checkin", kwargs={"community_id": community_id})
    site = str(getattr(settings, "SITE_URL", "") or "").rstrip("/")
    return f"{site}{path}" if site else request.build_absolute_uri(path)


@capability_required(MANAGE)
def checkin_qr(request: HttpRequest, community_id: int) -> HttpResponse:
    """A printable A4 PDF with the QR code of the community's check-in link."""
    from grassroots.party.qr import qr_data_uri, sheet_pdf

    community = places.area_get(scope=_scope(request, MANAGE), area_id=community_id)
    if community.level != AreaLevel.COMMUNITY:
        raise NotFound()
    url = checkin_url(request, community.pk)
    html = render_to_string("party/checkin_qr.html", {"community": community, "url": url, "qr": qr_data_uri(url)})
    body = sheet_pdf(html, base_url=request.build_absolute_uri("/"))
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="checkin-{community.pk}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response


@capability_required(VIEW)
def checkin_queue(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    state = request.GET.get("state", CheckinState.PENDING)
    if state not in CheckinState.values:
        state = CheckinState.PENDING
    rows = selectors.checkin_queue(actor=_actor(request), scope=scope, state=state)
    context = {
        "rows": rows,
        "state": state,
        "states": CheckinState.choices,
        "communities": selectors.community_areas(scope=scope),
        "can_manage": can(request.user, MANAGE),
        "decision_form": forms.DecisionForm(),
    }
    return render(request, "party/checkins.html", context)


@require_POST
@capability_required(MANAGE)
def checkin_decide(request: HttpRequest, checkin_id: int) -> HttpResponse:
    scope = _scope(request, MANAGE)
    item = selectors.checkin_get(scope=scope, checkin_id=checkin_id)
    note = request.POST.get("note", "").strip()[:300]
    action = request.POST.get("action")
    name = item.member.person.name
    try:
        if action == "confirm":
            services.checkin_confirm(actor=_actor(request), scope=scope, checkin=item, note=note)
            messages.success(request, f"已确认{name}报到。")
        elif action == "return":
            services.checkin_return(actor=_actor(request), scope=scope, checkin=item, reason=note)
            messages.success(request, f"已退回{name}的报到申请。")
        elif action == "end":
            services.checkin_end(actor=_actor(request), scope=scope, checkin=item, reason=note)
            messages.success(request, f"已为{name}办理转出。")
        else:
            raise DomainError("未知的操作。")
    except DomainError as exc:
        if isinstance(exc, NotFound):
            raise
        _error(request, exc)
    back = request.POST.get("next", "")
    if back.startswith("/party/") and not back.startswith("//"):
        return HttpResponseRedirect(back)
    return redirect("party:checkins")


# --- Services ---------------------------------------------------------------------------


def _service_path(member: PartyMember) -> str:
    live = selectors.live_checkin_of(member)
    if live is not None and live.state == CheckinState.CONFIRMED:
        return live.path
    area = member.residence_area
    community = services.community_of(area) if area is not None else None
    return community.path if community is not None else member.path


@capability_required(VIEW)
def service_list(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    can_manage = can(request.user, MANAGE)
    manage = _scope(request, MANAGE)
    form = forms.ServiceForm(request.POST or None, scope=manage) if can_manage else None
    if request.method == "POST":
        if form is None:
            raise Forbidden("您的角色无权记录服务。")
        if form.is_valid():
            d = form.cleaned_data
            member = d["member"]
            path = _service_path(member)
            try:
                if not manage.covers_path(path):
                    raise DomainError("该党员报到的社区不在您的管辖范围内。", field="member")
                services.service_record_add(
                    actor=request.user,
                    member=member,
                    kind=d["kind"],
                    on=d["on"],
                    description=d["description"],
                    path=path,
                    hours=d["hours"] or 0,
                    confirmed=bool(d["confirmed"]),
                )
            except DomainError as exc:
                form.add_error(
                    exc.field if exc.field in ("kind", "description", "hours", "member") else None, exc.message
                )
                if exc.field == "on":
                    form.add_error("on", exc.message)
            else:
                messages.success(request, f"已记录{member.person.name}的服务。")
                back = request.POST.get("next", "")
                if back.startswith("/party/members/"):
                    return HttpResponseRedirect(back)
                return redirect("party:services")
    rows = selectors.services_unconfirmed(actor=_actor(request), scope=scope)
    return render(request, "party/services.html", {"rows": rows, "form": form, "can_manage": can_manage})


@require_POST
@capability_required(MANAGE)
def service_confirm(request: HttpRequest, record_id: int) -> HttpResponse:
    scope = _scope(request, MANAGE)
    record = selectors.service_get(scope=scope, record_id=record_id)
    try:
        services.service_record_confirm(actor=_actor(request), scope=scope, record=record)
        messages.success(request, f"已确认{record.member.person.name}的服务记录。")
    except DomainError as exc:
        _error(request, exc)
    return redirect("party:services")


# --- Targets and the unit report --------------------------------------------------------


@capability_required(VIEW)
def targets(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    area = _area_param(request, scope)
    year = _year(request)
    target, communities = selectors.community_tallies(scope=scope, area=area, year=year)
    _, units = selectors.unit_tallies(scope=Scope(area_path=area.path), year=year)
    context = {"area": area, "year": year, "target": target, "communities": communities, "units": units}
    return render(request, "party/targets.html", context)


@capability_required(VIEW)
def unit_report(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    year = _year(request)
    unit_id = _int(request.GET.get("unit"))
    report = None
    if unit_id:
        report = selectors.unit_report(actor=_actor(request), scope=scope, unit_id=unit_id, year=year)
        fmt = request.GET.get("format", "")
        filename = f"{report.unit.name}-{year}-在职党员报到服务情况"
        if fmt == "xlsx":
            data = exports.unit_report_xlsx(actor=_actor(request), report=report, area_path=scope.area_path or "")
            return _download(data, exports.XLSX_TYPE, f"{filename}.xlsx")
        if fmt == "pdf":
            issued_by = places.area_roots(scope=scope)[0].name if not scope.is_everything else "基层治理平台"
            data = exports.unit_report_pdf(
                actor=_actor(request), report=report, area_path=scope.area_path or "", issued_by=issued_by
            )
            return _download(data, "application/pdf", f"{filename}.pdf")
    context = {"units": selectors.report_units(scope=scope), "report": report, "year": year, "unit_id": unit_id}
    return render(request, "party/unit_report.html", context)


def _download(data: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    response["Cache-Control"] = "no-store"
    return response
