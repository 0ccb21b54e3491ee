"""Estates pages: owners' committees (业主委员会) and their party-member share.

Thin: the capability is checked before anything is looked up (403), every read goes through a
selector that starts from the user's scope (out of scope → NotFound → 404), every write through a
service. For now reading needs ``party.view`` and writing ``party.manage``: the share of party
members is party-building work. Members are shown by name and masked ID; a page that shows
them is audited.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from grassroots.accounts.scopes import can, scope_for
from grassroots.accounts.views import client_ip
from grassroots.audit.services import Actor, actor_of
from grassroots.core import clock
from grassroots.core.errors import DomainError, Forbidden, NotFound
from grassroots.core.scope import Scope
from grassroots.estates import forms, selectors, services
from grassroots.estates.models import OwnersCommittee
from grassroots.places import selectors as places
from grassroots.places.models import Area
from grassroots.registry import selectors as registry

VIEW, MANAGE = "party.view", "party.manage"
View = Callable[..., HttpResponse]


def capability_required(capability: str) -> Callable[[View], View]:
    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not can(request.user, capability):
                raise Forbidden("您的角色无权使用此功能。")
            return view(request, *args, **kwargs)

        return login_required(wrapper)

    return decorate


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
