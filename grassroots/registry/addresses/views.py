"""The address review list (待确认地址): pick the dwelling of an address the import could not place.

Thin: the capability is checked before anything is looked up (403); choices come from the
reviewer's scope (outside it: 404); the search lists only the choice's area; writes go
through the services. The cascading search (compound → building → room) is htmx partials
over plain GET parameters, so it also works without JavaScript.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from grassroots.accounts.decorators import capability_required
from grassroots.accounts.scopes import scope_for
from grassroots.core.errors import DomainError
from grassroots.core.scope import Scope
from grassroots.places.models import Dwelling
from grassroots.registry.addresses import selectors, services
from grassroots.registry.addresses.selectors import CAPABILITY, STATUSES
from grassroots.registry.models import AddressChoice, AddressChoiceStatus

MESSAGE = "您的角色无权确认待定地址。"
PER_PAGE = 30
LOOSE = "none"  # the compound select's value for buildings outside any compound


def _scope(request: HttpRequest) -> Scope:
    return scope_for(request.user, CAPABILITY)


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


@capability_required(CAPABILITY, message=MESSAGE)
def choice_list(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    status = request.GET.get("status", AddressChoiceStatus.PENDING)
    if status not in STATUSES:
        status = AddressChoiceStatus.PENDING
    page = Paginator(selectors.choice_list(scope=scope, status=status), PER_PAGE).get_page(request.GET.get("page"))
    choices: list[AddressChoice] = list(page.object_list)
    jobs = selectors.choice_jobs(choices)
    counts = selectors.status_counts(scope=scope)
    context = {
        "status": status,
        "tabs": [(key, label, counts[key]) for key, label in STATUSES.items()],
        "page": page,
        "query": f"status={status}",
        "rows": [
            {
                "choice": c,
                "jobs": jobs[c.pk],
                "dwelling": selectors.dwelling_label(c.dwelling) if c.dwelling else "",
            }
            for c in choices
        ],
    }
    return render(request, "registry/addresses.html", context)


def _search(request: HttpRequest, choice: AddressChoice, preset_compound: int | None) -> dict[str, Any]:
    """The cascading selects, filled from GET (no JavaScript) or from the compound the text names."""
    area = Scope(area_path=choice.path)
    raw_compound = request.GET.get("compound", "")
    compound = LOOSE if raw_compound == LOOSE else _int(raw_compound)
    if not raw_compound and preset_compound:
        compound = preset_compound
    building = _int(request.GET.get("building"))
    context: dict[str, Any] = {
        "compounds": selectors.compound_list(area=area),
        "loose": selectors.has_loose_buildings(area=area),
        "compound": compound,
        "buildings": [],
        "building": building,
        "dwellings": [],
    }
    if compound is not None:
        listed = selectors.building_list(area=area, compound_id=compound if isinstance(compound, int) else None)
        context["buildings"] = listed
        if building is not None and building in {b.pk for b in listed}:
            context["dwellings"] = selectors.dwelling_list(area=area, building_id=building)
    return context


@capability_required(CAPABILITY, message=MESSAGE)
def choice_detail(request: HttpRequest, choice_id: int) -> HttpResponse:
    choice = selectors.choice_get(scope=_scope(request), choice_id=choice_id)
    found = selectors.candidates(choice=choice)
    context = {
        "choice": choice,
        "dwelling": selectors.dwelling_label(choice.dwelling) if choice.dwelling else "",
        "candidates": [(d, selectors.dwelling_label(d)) for d in found.dwellings],
        "candidate_total": found.total,
        "records": selectors.choice_records(choice=choice),
        "max_records": selectors.MAX_RECORDS,
        **_search(request, choice, found.compound_id),
    }
    return render(request, "registry/address_detail.html", context)


@capability_required(CAPABILITY, message=MESSAGE)
def search(request: HttpRequest, choice_id: int) -> HttpResponse:
    """The search fragment for htmx: the next select filled for the compound/building given."""
    choice = selectors.choice_get(scope=_scope(request), choice_id=choice_id)
    return render(request, "registry/address_search.html", {"choice": choice, **_search(request, choice, None)})


@require_POST
@capability_required(CAPABILITY, message=MESSAGE)
def choose(request: HttpRequest, choice_id: int) -> HttpResponse:
    choice = selectors.choice_get(scope=_scope(request), choice_id=choice_id)
    # A candidate's radio and the search's select share the name; the select comes last and wins.
    given = [v for v in request.POST.getlist("dwelling") if v]
    dwelling_id = _int(given[-1]) if given else None
    dwelling = Dwelling.objects.filter(pk=dwelling_id).first() if dwelling_id else None
    try:
        if dwelling is None:
            raise DomainError("请选择房屋。", field="dwelling")
        services.address_choose(actor=request.user, choice=choice, dwelling=dwelling)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("addresses:detail", choice_id=choice.pk)
    messages.success(request, f"已将该地址指定为{selectors.dwelling_label(dwelling)}，等待中的人员已落到该房屋。")
    return redirect("addresses:list")


@require_POST
@capability_required(CAPABILITY, message=MESSAGE)
def outside(request: HttpRequest, choice_id: int) -> HttpResponse:
    choice = selectors.choice_get(scope=_scope(request), choice_id=choice_id)
    services.address_mark_outside(actor=request.user, choice=choice)
    messages.success(request, "已标记为不在辖区，以后导入同一地址不再询问。")
    return redirect("addresses:list")
