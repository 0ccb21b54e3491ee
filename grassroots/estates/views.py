"""Estates pages: owners' committees (业主委员会) and their party-member share.

Thin: the capability is checked before anything is looked up (403), every read goes through a
selector that starts from the user's scope (out of scope → NotFound → 404), every write through a
service. Reading needs ``estates.view`` and writing ``estates.manage``. Residents answer surveys on
the H5 with ``cases.h5``. Members are shown by name
and masked ID; a page that shows them is audited.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from grassroots.accounts.decorators import capability_required
from grassroots.accounts.scopes import can, scope_for
from grassroots.accounts.views import client_ip
from grassroots.audit.services import Actor, actor_of
from grassroots.core import clock
from grassroots.core.errors import DomainError, Forbidden, NotFound
from grassroots.core.scope import Scope
from grassroots.estates import forms, rules, selectors, services
from grassroots.estates.models import OwnersCommittee, ServiceContract
from grassroots.places import selectors as places
from grassroots.places.models import Area, Compound
from grassroots.registry import selectors as registry

VIEW, MANAGE = "estates.view", "estates.manage"
# Residents answer surveys on the phone pages they already use (随手拍).
H5 = "cases.h5"
View = Callable[..., HttpResponse]


def _actor(request: HttpRequest) -> Actor:
    return actor_of(request.user, client_ip(request))


def _scope(request: HttpRequest, capability: str = VIEW) -> Scope:
    return scope_for(request.user, capability)


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def _area_param(request: HttpRequest, scope: Scope) -> Area:
    area_id = _int(request.GET.get("area"))
    if area_id:
        return places.area_get(scope=scope, area_id=area_id)
    roots = places.area_roots(scope=scope)
    if not roots:
        raise NotFound()
    return roots[0]


def _can_manage(request: HttpRequest, committee: OwnersCommittee) -> bool:
    return can(request.user, MANAGE) and _scope(request, MANAGE).covers_path(committee.path)


@capability_required(VIEW)
def committee_list(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    area = _area_param(request, scope)
    context = {
        "area": area,
        "ov": selectors.overview(scope=scope, area=area),
        "breadcrumb": places.area_breadcrumb(scope=scope, area=area),
        "can_manage": can(request.user, MANAGE),
    }
    return render(request, "estates/committees.html", context)


@capability_required(MANAGE)
def committee_create(request: HttpRequest) -> HttpResponse:
    scope = _scope(request, MANAGE)
    form = forms.CommitteeForm(
        request.POST or None, scope=scope, initial={"compound": _int(request.GET.get("compound"))}
    )
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            committee = services.committee_create(
                actor=_actor(request),
                scope=scope,
                compound=d["compound"],
                name=d["name"],
                term_start=d["term_start"],
                term_end=d["term_end"],
                filed_on=d["filed_on"],
            )
        except DomainError as exc:
            if isinstance(exc, NotFound):
                raise
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, f"已登记“{committee.name}”，请添加委员。")
            return redirect("estates:committee", committee_id=committee.pk)
    return render(request, "estates/committee_form.html", {"form": form})


def _post_action(request: HttpRequest, committee: OwnersCommittee, bound: dict[str, Any]) -> HttpResponse | None:
    """Handle one POST of the committee page; a redirect on success, None to show the page with errors."""
    action = request.POST.get("action")
    actor, manage = _actor(request), _scope(request, MANAGE)
    if action == "edit":
        form = bound["edit_form"] = forms.CommitteeEditForm(request.POST)
        if form.is_valid():
            d = form.cleaned_data
            services.committee_update(
                actor=actor,
                scope=manage,
                committee=committee,
                name=d["name"],
                term_start=d["term_start"],
                term_end=d["term_end"],
                filed_on=d["filed_on"],
            )
            messages.success(request, "已保存。")
            return redirect("estates:committee", committee_id=committee.pk)
    elif action == "end_seat":
        end_form = forms.EndSeatForm(request.POST)
        if end_form.is_valid():
            seat = selectors.seat_get(scope=manage, committee=committee, member_id=end_form.cleaned_data["seat"])
            services.member_end(actor=actor, scope=manage, member=seat, until=end_form.cleaned_data["until"])
            messages.success(request, f"{seat.person.name}已离任。")
            return redirect("estates:committee", committee_id=committee.pk)
        messages.error(request, "请填写离任日期。")
    elif action == "end":
        reason_form = bound["reason_form"] = forms.ReasonForm(request.POST)
        if reason_form.is_valid():
            services.committee_end(
                actor=actor, scope=manage, committee=committee, reason=reason_form.cleaned_data["reason"]
            )
            messages.success(request, f"“{committee.name}”已终止。")
            return redirect("estates:committee", committee_id=committee.pk)
    return None


@capability_required(VIEW)
def committee_detail(request: HttpRequest, committee_id: int) -> HttpResponse:
    scope = _scope(request)
    committee = selectors.committee_get(scope=scope, committee_id=committee_id)
    can_manage = _can_manage(request, committee)
    bound: dict[str, Any] = {}
    if request.method == "POST":
        if not can_manage:
            raise Forbidden("您的角色无权修改业主委员会。")
        try:
            done = _post_action(request, committee, bound)
        except DomainError as exc:
            if isinstance(exc, NotFound):
                raise
            messages.error(request, exc.message)
        else:
            if done is not None:
                return done
        committee = selectors.committee_get(scope=scope, committee_id=committee_id)
    detail = selectors.committee_detail(actor=_actor(request), scope=scope, committee_id=committee.pk)
    context = {
        "d": detail,
        "c": detail.committee,
        "today": clock.today(),
        "can_manage": can_manage and committee.is_active,
        "edit_form": bound.get("edit_form") or forms.CommitteeEditForm.for_committee(committee),
        "reason_form": bound.get("reason_form") or forms.ReasonForm(),
    }
    return render(request, "estates/committee.html", context)


@capability_required(MANAGE)
def member_add(request: HttpRequest, committee_id: int) -> HttpResponse:
    """Step 1: find the person in the registry (within scope); step 2: post, date, whom they replace."""
    scope = _scope(request, MANAGE)
    committee = selectors.committee_get(scope=scope, committee_id=committee_id)
    if not committee.is_active:
        messages.error(request, "该业主委员会已终止，不能修改。")
        return redirect("estates:committee", committee_id=committee.pk)
    person_id = _int(request.GET.get("person") or request.POST.get("person"))
    q = request.GET.get("q", "").strip()[:100]
    parsed = registry.parse_query(q)
    results: list[Any] = []
    if q and person_id is None and parsed.kind not in (registry.Kind.EMPTY, registry.Kind.INVALID):
        results = registry.person_search(actor=_actor(request), scope=scope, query=q, limit=20)
    person = registry.person_get(actor=_actor(request), scope=scope, person_id=person_id) if person_id else None
    form = None
    if person is not None:
        initial = {"person": person.pk, "since": clock.today()}
        form = forms.SeatForm(request.POST or None, committee=committee, initial=initial)
        if request.method == "POST" and form.is_valid():
            d = form.cleaned_data
            try:
                if d["replaces"] is not None:
                    seated = services.member_replace(
                        actor=_actor(request),
                        scope=scope,
                        member=d["replaces"],
                        person=person,
                        on=d["since"],
                        post=d["post"],
                    )
                else:
                    seated = services.member_add(
                        actor=_actor(request),
                        scope=scope,
                        committee=committee,
                        person=person,
                        post=d["post"],
                        since=d["since"],
                    )
            except DomainError as exc:
                if isinstance(exc, NotFound):
                    raise
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                messages.success(request, f"{person.name}已任{seated.member.get_post_display()}。")
                for warning in seated.warnings:
                    messages.warning(request, warning)
                return redirect("estates:committee", committee_id=committee.pk)
    context = {"c": committee, "q": q, "parsed": parsed, "results": results, "person": person, "form": form}
    return render(request, "estates/member_form.html", context)


# --- property companies, compounds, surveys ----------------------------------------------------------


def _domain_error(form: Any, exc: DomainError) -> None:
    if isinstance(exc, NotFound):
        raise exc
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


def _manage_covers(request: HttpRequest, path: str) -> bool:
    return can(request.user, MANAGE) and _scope(request, MANAGE).covers_path(path)


@capability_required(VIEW)
def company_list(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    area = _area_param(request, scope)
    context = {
        "area": area,
        "breadcrumb": places.area_breadcrumb(scope=scope, area=area),
        "rows": selectors.company_list(scope=scope),
        "without": selectors.compounds_without_company(scope=scope, area=area),
        "can_manage": can(request.user, MANAGE),
    }
    return render(request, "estates/companies.html", context)


@capability_required(MANAGE)
def company_create(request: HttpRequest) -> HttpResponse:
    scope = _scope(request, MANAGE)
    form = forms.CompanyForm(request.POST or None, scope=scope)
    if request.method == "POST" and form.is_valid():
        try:
            company = services.company_create(
                actor=_actor(request),
                scope=scope,
                unit=form.cleaned_data["unit"],
                qualification=form.cleaned_data["qualification"],
            )
        except DomainError as exc:
            _domain_error(form, exc)
        else:
            messages.success(request, f"已登记物业公司“{company}”。")
            return redirect("estates:company", company_id=company.pk)
    return render(request, "estates/simple_form.html", {"form": form, "title": "登记物业公司"})


@capability_required(VIEW)
def company_detail(request: HttpRequest, company_id: int) -> HttpResponse:
    scope = _scope(request)
    company = selectors.company_get(scope=scope, company_id=company_id)
    can_manage = can(request.user, MANAGE)
    form = None
    if can_manage:
        manage = _scope(request, MANAGE)
        form = forms.ContractForm(request.POST if request.method == "POST" else None, scope=manage)
        if request.method == "POST" and form.is_valid():
            d = form.cleaned_data
            try:
                done = services.contract_create(
                    actor=_actor(request),
                    scope=manage,
                    company=company,
                    compound=d["compound"],
                    start=d["start"],
                    end=d["end"],
                )
            except DomainError as exc:
                _domain_error(form, exc)
            else:
                messages.success(request, f"已登记{company}服务{done.contract.compound.name}。")
                if done.unreported:
                    messages.warning(request, UNREPORTED_CHANGE)
                return redirect("estates:company", company_id=company.pk)
    elif request.method == "POST":
        raise Forbidden("您的角色无权修改物业公司。")
    context = {
        "company": company,
        "contracts": selectors.company_contracts(scope=scope, company=company),
        "form": form,
        "window": rules.REPORT_WINDOW_DAYS,
    }
    return render(request, "estates/company.html", context)


UNREPORTED_CHANGE = f"更换物业公司前{rules.REPORT_WINDOW_DAYS}天内未向社区报告，已标记。"


def _compound_post(request: HttpRequest, compound: Compound, bound: dict[str, Any]) -> HttpResponse | None:
    action = request.POST.get("action")
    actor, manage = _actor(request), _scope(request, MANAGE)
    here = redirect("estates:compound", compound_id=compound.pk)
    form: Any
    try:
        if action == "fee":
            form = bound["fee_form"] = forms.FeeForm(request.POST)
            if form.is_valid():
                d = form.cleaned_data
                services.fee_record(actor=actor, scope=manage, compound=compound, **d)
                messages.success(request, f"已保存{d['year']}年第{d['quarter']}季度物业费收缴。")
                return here
        elif action == "survey":
            form = bound["survey_form"] = forms.SurveyForm(request.POST)
            if form.is_valid():
                d = form.cleaned_data
                survey = services.survey_create(
                    actor=actor,
                    scope=manage,
                    compound=compound,
                    year=d["year"],
                    quarter=d["quarter"],
                    title=d["title"],
                    questions=d["questions"].splitlines(),
                )
                messages.success(request, "已发布测评，居民可在手机上作答。")
                return redirect("estates:survey", survey_id=survey.pk)
        elif action == "report":
            form = bound["report_form"] = forms.ReportForm(request.POST)
            if form.is_valid():
                services.report_record(actor=actor, scope=manage, compound=compound, **form.cleaned_data)
                messages.success(request, "已登记事前报告。")
                return here
        elif action == "revenue_use":
            form = bound["revenue_form"] = forms.RevenueUseForm(request.POST)
            if form.is_valid():
                use = services.revenue_use_record(actor=actor, scope=manage, compound=compound, **form.cleaned_data)
                covered = selectors.revenue_use_covered(scope=manage, use=use)
                if covered:
                    messages.success(request, "已登记公共收益使用，已有事前报告。")
                else:
                    messages.warning(
                        request, "已登记公共收益使用，但此前没有足额的“使用公共收益”报告，已标记为未事前报告。"
                    )
                return here
        elif action == "end_contract":
            form = forms.EndContractForm(request.POST)
            if form.is_valid():
                contract = ServiceContract.objects.in_scope(manage).filter(
                    compound=compound, pk=form.cleaned_data["contract"]
                )
                found = contract.first()
                if found is None:
                    raise NotFound()
                services.contract_end(actor=actor, scope=manage, contract=found, end=form.cleaned_data["end"])
                messages.success(request, "已结束该物业服务合同。")
                return here
            messages.error(request, "请填写服务止日期。")
    except DomainError as exc:
        _domain_error(form, exc)
        if action == "end_contract":
            messages.error(request, exc.message)
    return None


@capability_required(VIEW)
def compound_detail(request: HttpRequest, compound_id: int) -> HttpResponse:
    scope = _scope(request)
    compound = selectors.compound_get(scope=scope, compound_id=compound_id)
    can_manage = _manage_covers(request, compound.path)
    bound: dict[str, Any] = {}
    if request.method == "POST":
        if not can_manage:
            raise Forbidden("您的角色无权修改小区物业信息。")
        done = _compound_post(request, compound, bound)
        if done is not None:
            return done
    year, quarter = rules.quarter_of(clock.today())
    initial = {"year": year, "quarter": quarter}
    context = {
        "e": selectors.compound_estate(scope=scope, compound_id=compound.pk),
        "can_manage": can_manage,
        "fee_form": bound.get("fee_form") or forms.FeeForm(initial=initial),
        "survey_form": bound.get("survey_form")
        or forms.SurveyForm(initial={**initial, "title": f"{compound.name}{year}年第{quarter}季度物业服务满意度测评"}),
        "report_form": bound.get("report_form") or forms.ReportForm(initial={"reported_on": clock.today()}),
        "revenue_form": bound.get("revenue_form") or forms.RevenueUseForm(initial={"used_on": clock.today()}),
        "revenue_window": rules.REVENUE_WINDOW_DAYS,
        "today": clock.today(),
        "window": rules.REPORT_WINDOW_DAYS,
        "satisfied_min": rules.SATISFIED_MIN,
    }
    return render(request, "estates/compound.html", context)


@capability_required(VIEW)
def survey_detail(request: HttpRequest, survey_id: int) -> HttpResponse:
    scope = _scope(request)
    result = selectors.survey_result(scope=scope, survey_id=survey_id)
    can_manage = _manage_covers(request, result.survey.path)
    if request.method == "POST":
        if not can_manage:
            raise Forbidden("您的角色无权修改测评。")
        try:
            services.survey_close(actor=_actor(request), scope=_scope(request, MANAGE), survey=result.survey)
        except DomainError as exc:
            if isinstance(exc, NotFound):
                raise
            messages.error(request, exc.message)
        else:
            messages.success(request, "测评已结束。")
        return redirect("estates:survey", survey_id=survey_id)
    context = {"r": result, "can_manage": can_manage, "satisfied_min": rules.SATISFIED_MIN}
    return render(request, "estates/survey.html", context)


@capability_required(VIEW)
def reports(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    area = _area_param(request, scope)
    context = {
        "area": area,
        "breadcrumb": places.area_breadcrumb(scope=scope, area=area),
        "ov": selectors.reports_overview(scope=scope, area=area),
        "window": rules.REPORT_WINDOW_DAYS,
        "revenue_window": rules.REVENUE_WINDOW_DAYS,
    }
    return render(request, "estates/reports.html", context)


# --- the red/black list ------------------------------------------------------------------------------


def _quarter_param(request: HttpRequest) -> tuple[int, int]:
    """The quarter asked for, else the last complete quarter."""
    year, quarter = _int(request.GET.get("year")), _int(request.GET.get("quarter"))
    if year and quarter in (1, 2, 3, 4) and 2000 <= year <= 2100:
        return year, quarter
    return rules.previous_quarter(*rules.quarter_of(clock.today()))


@capability_required(VIEW)
def red_black(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    area = _area_param(request, scope)
    year, quarter = _quarter_param(request)
    context = {
        "area": area,
        "breadcrumb": places.area_breadcrumb(scope=scope, area=area),
        "rb": selectors.red_black(scope=scope, area=area, year=year, quarter=quarter),
        "previous": rules.previous_quarter(year, quarter),
        "rules": {
            "fee_weight": rules.FEE_WEIGHT,
            "satisfaction_weight": rules.SATISFACTION_WEIGHT,
            "satisfied_min": rules.SATISFIED_MIN,
            "red_top": rules.RED_TOP,
            "red_min": rules.RED_MIN_SCORE,
            "black_max": rules.BLACK_MAX_SCORE,
        },
        "quarters": [1, 2, 3, 4],
        "extra": f"&year={year}&quarter={quarter}",
    }
    return render(request, "estates/red_black.html", context)


# --- 红色业委会 --------------------------------------------------------------------------------------


@capability_required(VIEW)
def red_committees(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    area = _area_param(request, scope)
    context = {
        "area": area,
        "breadcrumb": places.area_breadcrumb(scope=scope, area=area),
        "rows": selectors.red_committees(scope=scope, area=area),
        "cross_min": rules.CROSS_APPOINTMENTS_MIN,
    }
    return render(request, "estates/red_committees.html", context)


@capability_required(VIEW)
def cross(request: HttpRequest, committee_id: int) -> HttpResponse:
    scope = _scope(request)
    committee = selectors.committee_get(scope=scope, committee_id=committee_id)
    can_manage = _can_manage(request, committee) and committee.is_active
    detail = selectors.committee_detail(actor=_actor(request), scope=scope, committee_id=committee.pk)
    members = [r.member for r in detail.current if r.is_party_member]
    form = None
    if can_manage:
        manage = _scope(request, MANAGE)
        posted = request.method == "POST" and request.POST.get("action") == "appoint"
        form = forms.CrossForm(
            request.POST if posted else None,
            scope=manage,
            committee=committee,
            members=members,
            initial={"since": clock.today()},
        )
        if request.method == "POST":
            try:
                if posted and form.is_valid():
                    d = form.cleaned_data
                    seat = next(m for m in members if m.person_id == d["person"])
                    services.cross_appoint(
                        actor=_actor(request),
                        scope=manage,
                        committee=committee,
                        person=seat.person,
                        party_org=d["party_org"],
                        party_post=d["party_post"],
                        direction=d["direction"],
                        since=d["since"],
                    )
                    messages.success(request, f"已登记{seat.person.name}的交叉任职。")
                    return redirect("estates:cross", committee_id=committee.pk)
                if request.POST.get("action") == "end":
                    end_form = forms.EndCrossForm(request.POST)
                    if end_form.is_valid():
                        found = selectors.cross_get(
                            scope=manage, committee=committee, appointment_id=end_form.cleaned_data["appointment"]
                        )
                        services.cross_end(
                            actor=_actor(request), scope=manage, appointment=found, until=end_form.cleaned_data["until"]
                        )
                        messages.success(request, "已结束该交叉任职。")
                        return redirect("estates:cross", committee_id=committee.pk)
                    messages.error(request, "请填写结束日期。")
            except DomainError as exc:
                _domain_error(form, exc)
    elif request.method == "POST":
        raise Forbidden("您的角色无权修改业主委员会。")
    rows = selectors.cross_appointments(scope=scope, committee=committee)
    red = selectors.RedCommittee(committee, detail.share, sum(1 for r in rows if r.current))
    context = {
        "c": committee,
        "red": red,
        "rows": rows,
        "form": form,
        "today": clock.today(),
        "cross_min": rules.CROSS_APPOINTMENTS_MIN,
    }
    return render(request, "estates/cross.html", context)


# --- dormitory zones ----------------------------------------------------------------------------------


@capability_required(VIEW)
def dormitories(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    area = _area_param(request, scope)
    can_manage = can(request.user, MANAGE)
    context = {
        "area": area,
        "breadcrumb": places.area_breadcrumb(scope=scope, area=area),
        "rows": selectors.zone_list(scope=scope, area=area),
        "unrecorded": selectors.dormitory_compounds_without_zone(scope=_scope(request, MANAGE)) if can_manage else [],
        "can_manage": can_manage,
        "limit": rules.DORMITORY_WORKERS_LIMIT,
    }
    return render(request, "estates/dormitories.html", context)


@capability_required(MANAGE)
def zone_edit(request: HttpRequest, compound_id: int) -> HttpResponse:
    scope = _scope(request, MANAGE)
    compound = selectors.compound_get(scope=scope, compound_id=compound_id)
    zone = getattr(compound, "dormitory_zone", None)
    initial = {f: getattr(zone, f) for f in forms.ZoneForm.base_fields} if zone is not None else {"staff_full": False}
    form = forms.ZoneForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            zone = services.zone_save(actor=_actor(request), scope=scope, compound=compound, **form.cleaned_data)
        except DomainError as exc:
            _domain_error(form, exc)
        else:
            messages.success(request, f"已保存集宿区“{compound.name}”。")
            return redirect("estates:dormitory", zone_id=zone.pk)
    title = f"集宿区 · {compound.name}"
    return render(request, "estates/simple_form.html", {"form": form, "title": title})


@capability_required(VIEW)
def dormitory(request: HttpRequest, zone_id: int) -> HttpResponse:
    scope = _scope(request)
    zone = selectors.zone_get(scope=scope, zone_id=zone_id)
    can_manage = _manage_covers(request, zone.path)
    form = None
    results: list[Any] = []
    person = None
    q = request.GET.get("q", "").strip()[:100]
    if request.method == "POST" and not can_manage:
        raise Forbidden("您的角色无权修改集宿区。")
    if can_manage:
        manage = _scope(request, MANAGE)
        if request.method == "POST" and request.POST.get("action") == "remove":
            head = selectors.head_get(scope=manage, zone=zone, head_id=_int(request.POST.get("head")) or 0)
            services.head_remove(actor=_actor(request), scope=manage, head=head)
            messages.success(request, "已移除。")
            return redirect("estates:dormitory", zone_id=zone.pk)
        person_id = _int(request.GET.get("person") or request.POST.get("person"))
        parsed = registry.parse_query(q)
        if q and person_id is None and parsed.kind not in (registry.Kind.EMPTY, registry.Kind.INVALID):
            results = registry.person_search(actor=_actor(request), scope=manage, query=q, limit=20)
        if person_id:
            person = registry.person_get(actor=_actor(request), scope=manage, person_id=person_id)
            form = forms.HeadForm(request.POST or None, zone=zone, initial={"person": person.pk})
            if request.method == "POST" and form.is_valid():
                d = form.cleaned_data
                try:
                    services.head_add(
                        actor=_actor(request),
                        scope=manage,
                        zone=zone,
                        building=d["building"],
                        level=d["level"],
                        person=person,
                        floor=d["floor"],
                        room=d["room"],
                    )
                except DomainError as exc:
                    _domain_error(form, exc)
                else:
                    messages.success(request, f"{person.name}已登记。")
                    return redirect("estates:dormitory", zone_id=zone.pk)
    context = {
        "zone": zone,
        "row": selectors.ZoneRow(zone, {}),
        "heads": selectors.zone_heads(actor=_actor(request), scope=scope, zone=zone),
        "can_manage": can_manage,
        "form": form,
        "person": person,
        "results": results,
        "q": q,
        "limit": rules.DORMITORY_WORKERS_LIMIT,
    }
    return render(request, "estates/dormitory.html", context)


# --- residents' surveys on the phone (H5) -----------------------------------------------------------


def _resident_scope(request: HttpRequest) -> Scope:
    return scope_for(request.user, H5)


@capability_required(H5)
def h5_surveys(request: HttpRequest) -> HttpResponse:
    rows = selectors.resident_surveys(scope=_resident_scope(request), user=request.user)
    return render(request, "estates/h5/surveys.html", {"rows": rows})


@capability_required(H5)
def h5_survey(request: HttpRequest, survey_id: int) -> HttpResponse:
    scope = _resident_scope(request)
    survey = selectors.survey_get(scope=scope, survey_id=survey_id)
    answered = selectors.has_answered(survey=survey, user=request.user)
    questions = list(survey.questions.all())
    error = ""
    chosen: dict[int, int] = {}
    if request.method == "POST" and not answered:
        for q in questions:
            value = _int(request.POST.get(f"q{q.pk}"))
            if value is not None:
                chosen[q.pk] = value
        try:
            services.survey_answer(actor=_actor(request), user=request.user, scope=scope, survey=survey, scores=chosen)
        except DomainError as exc:
            if isinstance(exc, NotFound):
                raise
            error = exc.message
            answered = exc.code == "duplicate"
        else:
            messages.success(request, "感谢您的评价！")
            return redirect("estates:h5_survey", survey_id=survey.pk)
    context = {
        "survey": survey,
        "questions": [(q, chosen.get(q.pk)) for q in questions],
        "answered": answered,
        "error": error,
        "scale": SCALE,
    }
    return render(request, "estates/h5/survey.html", context)


SCALE = [(5, "非常满意"), (4, "满意"), (3, "一般"), (2, "不满意"), (1, "非常不满意")]
