"""Pages for partner units and alliances (党建联盟): alliances, member units, rotation, five lists, pairings.

Thin: the capability is checked before anything is looked up (``party.view`` to read,
``party.manage`` to write: 403 otherwise); reads go through the selectors, which start from the
user's scope (out of scope → NotFound → 404), and writes through the services, which audit them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from grassroots.accounts.decorators import capability_required
from grassroots.accounts.scopes import can, scope_for
from grassroots.accounts.views import client_ip
from grassroots.audit.services import Actor, actor_of
from grassroots.core.errors import DomainError
from grassroots.core.scope import Scope
from grassroots.party import forms_alliances as forms
from grassroots.party.models import ItemStatus, ListKind
from grassroots.party.selectors import alliances as selectors
from grassroots.party.services import alliances as services

VIEW, MANAGE = "party.view", "party.manage"

View = Callable[..., HttpResponse]


def _actor(request: HttpRequest) -> Actor:
    return actor_of(request.user, client_ip(request))


def _scope(request: HttpRequest, capability: str = VIEW) -> Scope:
    return scope_for(request.user, capability)


def _form_error(form: Any, exc: DomainError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


def _status(request: HttpRequest) -> int:
    return 400 if request.method == "POST" else 200


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


# --- alliances ----------------------------------------------------------------------------


@capability_required(VIEW)
def alliance_list(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    context = {
        "alliances": list(selectors.alliances(scope)),
        "counts": selectors.member_unit_counts(scope),
        "can_manage": can(request.user, MANAGE),
    }
    return render(request, "party/alliances/list.html", context)


@capability_required(MANAGE)
def alliance_create(request: HttpRequest) -> HttpResponse:
    scope = _scope(request, MANAGE)
    form = forms.AllianceForm(request.POST or None, scope=scope)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            alliance = services.alliance_create(
                actor=_actor(request), scope=scope, area=data["area"], name=data["name"], lead_org=data["lead_org"]
            )
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, f"已建立“{alliance.name}”。")
            return redirect("party:alliance", alliance_id=alliance.pk)
    return render(
        request, "party/alliances/form.html", {"form": form, "title": "新建党建联盟"}, status=_status(request)
    )


@capability_required(MANAGE)
def alliance_edit(request: HttpRequest, alliance_id: int) -> HttpResponse:
    scope = _scope(request, MANAGE)
    alliance = selectors.alliance_get(scope, alliance_id)
    initial = {"name": alliance.name, "lead_org": alliance.lead_org_id}
    form = forms.AllianceForm(request.POST or None, scope=scope, editing=True, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.alliance_update(
                actor=_actor(request), scope=scope, alliance=alliance, name=data["name"], lead_org=data["lead_org"]
            )
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, "联盟信息已保存。")
            return redirect("party:alliance", alliance_id=alliance.pk)
    context = {"form": form, "title": f"编辑：{alliance.name}", "alliance": alliance}
    return render(request, "party/alliances/form.html", context, status=_status(request))


@capability_required(VIEW)
def alliance_detail(request: HttpRequest, alliance_id: int) -> HttpResponse:
    today = services.today()
    year = _int(request.GET.get("year")) or today.year
    if not 2000 <= year <= 2100:
        year = today.year
    page = selectors.alliance_page(
        _scope(request),
        alliance_id,
        year=year,
        today=today,
        kind=request.GET.get("list", ListKind.INFORMATION),
        status=request.GET.get("status", ""),
    )
    context = {
        "page": page,
        "a": page.alliance,
        "today": today,
        "can_manage": can(request.user, MANAGE),
        "statuses": ItemStatus.choices,
        "overdue": selectors.OVERDUE,
        "rotation_form": forms.RotationForm(initial={"year": year, "length": "month"}),
        "status_form": forms.ItemStatusForm(),
    }
    return render(request, "party/alliances/detail.html", context)


# --- member units ---------------------------------------------------------------------------


@capability_required(MANAGE)
def member_add(request: HttpRequest, alliance_id: int) -> HttpResponse:
    scope = _scope(request, MANAGE)
    alliance = selectors.alliance_get(scope, alliance_id)
    form = forms.MemberAddForm(request.POST or None, scope=scope, initial={"joined_on": services.today()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            joined = services.member_add(
                actor=_actor(request),
                scope=scope,
                alliance=alliance,
                unit=data["unit"],
                joined_on=data["joined_on"],
                contact_name=data["contact_name"],
            )
        except DomainError as exc:
            _form_error(form, exc)
        else:
            verb = "重新加入" if joined.rejoined else "加入"
            messages.success(request, f"“{joined.member.unit.name}”已{verb}联盟。")
            return redirect("party:alliance", alliance_id=alliance.pk)
    context = {"form": form, "title": f"添加成员单位：{alliance.name}", "alliance": alliance}
    return render(request, "party/alliances/form.html", context, status=_status(request))


@require_POST
@capability_required(MANAGE)
def member_leave(request: HttpRequest, alliance_id: int, member_id: int) -> HttpResponse:
    scope = _scope(request, MANAGE)
    alliance = selectors.alliance_get(scope, alliance_id)
    member = selectors.member_get(scope, alliance, member_id)
    form = forms.DateForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请填写退出日期。")
    else:
        try:
            services.member_leave(actor=_actor(request), scope=scope, member=member, left_on=form.cleaned_data["on"])
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"“{member.unit.name}”已退出联盟。")
    return redirect("party:alliance", alliance_id=alliance.pk)


# --- rotation -------------------------------------------------------------------------------


@require_POST
@capability_required(MANAGE)
def rotation_generate(request: HttpRequest, alliance_id: int) -> HttpResponse:
    scope = _scope(request, MANAGE)
    alliance = selectors.alliance_get(scope, alliance_id)
    form = forms.RotationForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请选择年度和轮值周期。")
        return redirect("party:alliance", alliance_id=alliance.pk)
    data = form.cleaned_data
    try:
        result = services.rotation_generate(
            actor=_actor(request),
            scope=scope,
            alliance=alliance,
            year=data["year"],
            length=data["length"],
            rewrite_past=data["rewrite_past"],
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        text = f"{result.year} 年轮值已排定：新排 {result.written} 期"
        if result.kept:
            text += f"，保留已开始的 {result.kept} 期"
        if result.unassigned:
            text += f"，{result.unassigned} 期暂无可轮值的成员单位"
        messages.success(request, text + "。")
    return redirect(f"{_alliance_url(alliance.pk)}?year={data['year']}#rotation")


def _alliance_url(alliance_id: int) -> str:
    return reverse("party:alliance", kwargs={"alliance_id": alliance_id})


# --- the five lists -------------------------------------------------------------------------


@capability_required(MANAGE)
def item_create(request: HttpRequest, alliance_id: int) -> HttpResponse:
    scope = _scope(request, MANAGE)
    alliance = selectors.alliance_get(scope, alliance_id)
    kind = request.GET.get("list", ListKind.INFORMATION)
    form = forms.ItemForm(request.POST or None, units=selectors.active_member_units(alliance), initial={"kind": kind})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            item = services.item_create(actor=_actor(request), scope=scope, alliance=alliance, **data)
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, f"已添加到{item.get_kind_display()}。")
            return redirect(f"{_alliance_url(alliance.pk)}?list={item.kind}#lists")
    context = {"form": form, "title": f"添加清单事项：{alliance.name}", "alliance": alliance}
    return render(request, "party/alliances/form.html", context, status=_status(request))


@capability_required(MANAGE)
def item_edit(request: HttpRequest, alliance_id: int, item_id: int) -> HttpResponse:
    scope = _scope(request, MANAGE)
    alliance = selectors.alliance_get(scope, alliance_id)
    item = selectors.item_get(scope, alliance, item_id)
    initial = {
        "title": item.title,
        "detail": item.detail,
        "owner_unit": item.owner_unit_id,
        "owner_name": item.owner_name,
        "due_on": item.due_on,
    }
    units = selectors.active_member_units(alliance, keep=item.owner_unit_id)
    form = forms.ItemForm(request.POST or None, units=units, editing=True, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.item_update(actor=_actor(request), scope=scope, item=item, **form.cleaned_data)
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, "事项已保存。")
            return redirect(f"{_alliance_url(alliance.pk)}?list={item.kind}#lists")
    context = {"form": form, "title": f"编辑事项：{item.title}", "alliance": alliance}
    return render(request, "party/alliances/form.html", context, status=_status(request))


@require_POST
@capability_required(MANAGE)
def item_status(request: HttpRequest, alliance_id: int, item_id: int) -> HttpResponse:
    scope = _scope(request, MANAGE)
    alliance = selectors.alliance_get(scope, alliance_id)
    item = selectors.item_get(scope, alliance, item_id)
    form = forms.ItemStatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请选择状态。")
    else:
        try:
            item = services.item_set_status(
                actor=_actor(request),
                scope=scope,
                item=item,
                status=form.cleaned_data["status"],
                note=form.cleaned_data["note"],
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"“{item.title}”已改为“{item.get_status_display()}”。")
    return redirect(f"{_alliance_url(alliance.pk)}?list={item.kind}#lists")


# --- pairings -------------------------------------------------------------------------------


@capability_required(VIEW)
def pairing_list(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    community_id = _int(request.GET.get("community"))
    live_only = request.GET.get("live") == "1"
    context = {
        "pairings": list(selectors.pairings(scope, community_id=community_id, live_only=live_only)),
        "communities": list(selectors.communities(scope)),
        "community_id": community_id,
        "live_only": live_only,
        "can_manage": can(request.user, MANAGE),
        "today": services.today(),
    }
    return render(request, "party/alliances/pairings.html", context)


@capability_required(VIEW)
def unit_pairings(request: HttpRequest, unit_id: int) -> HttpResponse:
    unit, rows = selectors.unit_pairings(_scope(request), unit_id)
    context = {"unit": unit, "pairings": rows, "can_manage": can(request.user, MANAGE), "today": services.today()}
    return render(request, "party/alliances/unit_pairings.html", context)


@capability_required(MANAGE)
def pairing_create(request: HttpRequest) -> HttpResponse:
    scope = _scope(request, MANAGE)
    initial: dict[str, Any] = {"since": services.today(), "community": _int(request.GET.get("community"))}
    form = forms.PairingForm(request.POST or None, scope=scope, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            pairing = services.pairing_create(
                actor=_actor(request),
                scope=scope,
                unit=data["unit"],
                community=data["community"],
                since=data["since"],
                content=data["content"],
            )
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, f"“{pairing.unit.name}”已与{pairing.community.name}结对。")
            return redirect("party:pairings")
    return render(
        request, "party/alliances/form.html", {"form": form, "title": "新建挂钩结对"}, status=_status(request)
    )


@require_POST
@capability_required(MANAGE)
def pairing_end(request: HttpRequest, pairing_id: int) -> HttpResponse:
    scope = _scope(request, MANAGE)
    pairing = selectors.pairing_get(scope, pairing_id)
    form = forms.DateForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请填写结束日期。")
    else:
        try:
            services.pairing_end(actor=_actor(request), scope=scope, pairing=pairing, until=form.cleaned_data["on"])
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"“{pairing.unit.name}”与{pairing.community.name}的结对已结束。")
    return redirect("party:pairings")
