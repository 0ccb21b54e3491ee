"""The grid planning page and the compliance report (issue 9). Thin: selectors read, services write."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from grassroots.accounts.decorators import capability_required
from grassroots.core import clock
from grassroots.core.errors import DomainError, NotFound
from grassroots.insights.models import ProposalStatus
from grassroots.insights.selectors import compliance as compliance_selectors
from grassroots.insights.selectors import planning as selectors
from grassroots.insights.services import planning as services
from grassroots.places.models import AreaLevel
from grassroots.places.planning import GRID, NoPlanError

log = logging.getLogger(__name__)


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value else default
    except ValueError:
        return default


def _feature(geometry: Any, **properties: Any) -> dict[str, Any]:
    return {"type": "Feature", "geometry": geometry, "properties": properties}


@capability_required("insights.view", message="您的角色无权查看网格规划。")
def planning(request: HttpRequest) -> HttpResponse:
    area = selectors.area_for(user=request.user, area_id=request.GET.get("area"))
    plannable = area.level in selectors.PLANNABLE_LEVELS
    current = selectors.current_grids(area) if plannable else []
    proposals = selectors.proposals_for(user=request.user, area=area)
    chosen = None
    if request.GET.get("proposal"):
        chosen = selectors.proposal_for(user=request.user, pk=_int(request.GET.get("proposal"), 0))
        if chosen.area_id != area.pk:
            raise NotFound()
    elif proposals:
        chosen = proposals[0]
    bounds = chosen.params if chosen else {"floor": GRID.floor, "ceiling": GRID.ceiling}
    map_data = {
        "standard": [GRID.floor, GRID.ceiling],
        "floor": bounds.get("floor", GRID.floor),
        "ceiling": bounds.get("ceiling", GRID.ceiling),
        "current": {
            "type": "FeatureCollection",
            "features": [
                _feature(g["geometry"], name=g["name"], households=g["households"])
                for g in current
                if g["geometry"] and g["buildings"]
            ],
        },
        "proposal": {
            "type": "FeatureCollection",
            "features": [
                _feature(u["polygon"], name=u["name"], households=u["households"], existing=u["existing"])
                for u in (chosen.result.get("units", []) if chosen else [])
                if u["polygon"]
            ],
        },
    }
    context = {
        "area": area,
        "plannable": plannable,
        "current": current,
        "empty_grids": [g["name"] for g in current if not g["buildings"]],
        "proposals": proposals,
        "chosen": chosen,
        "pending": chosen is not None and chosen.status == ProposalStatus.PROPOSED,
        "may_plan": selectors.may_plan(request.user, area),
        "floor": _int(request.GET.get("floor"), GRID.floor),
        "ceiling": _int(request.GET.get("ceiling"), GRID.ceiling),
        "map_data": map_data,
        "children": list(area.children.filter(level__in=[AreaLevel.COMMUNITY, AreaLevel.SUBDISTRICT]).order_by("code"))
        if area.level != AreaLevel.COMMUNITY
        else [],
    }
    return render(request, "insights/planning.html", context)


def _back(area_id: int, proposal: int | None = None) -> str:
    url = f"{reverse('insights:planning')}?area={area_id}"
    return f"{url}&proposal={proposal}" if proposal else url


@require_POST
@capability_required("places.edit", message="只有有权维护区域划分的人员可以生成或采纳网格方案。")
def planning_propose(request: HttpRequest) -> HttpResponse:
    area = selectors.area_for(user=request.user, area_id=request.POST.get("area"), capability=selectors.EDIT)
    floor = _int(request.POST.get("floor"), GRID.floor)
    ceiling = _int(request.POST.get("ceiling"), GRID.ceiling)
    try:
        proposal = services.proposal_create(actor=request.user, area=area, floor=floor, ceiling=ceiling)
    except NoPlanError as error:
        log.info("no grid plan for %s: %s", area.path, error)
        messages.error(request, f"无法生成方案：{error.message}")
        return redirect(f"{_back(area.pk)}&floor={floor}&ceiling={ceiling}")
    except DomainError as error:
        messages.error(request, error.message)
        return redirect(_back(area.pk))
    messages.success(request, f"已生成方案：{len(proposal.result['units'])} 个网格，请核对后采纳或放弃。")
    return redirect(_back(area.pk, proposal.pk))


@require_POST
@capability_required("places.edit", message="只有有权维护区域划分的人员可以生成或采纳网格方案。")
def planning_decide(request: HttpRequest, pk: int, decision: str) -> HttpResponse:
    if decision not in ("accept", "discard"):
        raise NotFound()
    proposal = selectors.proposal_for(user=request.user, pk=pk, capability=selectors.EDIT)
    try:
        if decision == "accept":
            proposal = services.proposal_accept(actor=request.user, proposal=proposal)
            moved = proposal.previous.get("buildings_moved", 0)
            retired = "、".join(g["name"] for g in proposal.previous.get("retired", []))
            kept = "；".join(f"{g['name']}（{g['reason']}）" for g in proposal.previous.get("not_retired", []))
            messages.success(
                request,
                f"已采纳方案：{moved} 栋楼栋调整了网格；原划分已保存在方案记录中。"
                + (f"已撤销无楼栋的原网格：{retired}。" if retired else "")
                + (f"无楼栋但未撤销的原网格：{kept}。" if kept else ""),
            )
        else:
            services.proposal_discard(actor=request.user, proposal=proposal)
            messages.success(request, "已放弃该方案，网格划分未改变。")
    except DomainError as error:
        messages.error(request, error.message)
    return redirect(_back(proposal.area_id, proposal.pk))


@capability_required("insights.view", message="您的角色无权查看合规报告。")
def compliance(request: HttpRequest) -> HttpResponse:
    area = selectors.area_for(user=request.user, area_id=request.GET.get("area"))
    report = compliance_selectors.compliance_report(user=request.user, area=area, today=clock.today())
    context = {
        "area": area,
        "report": report,
        "rules": compliance_selectors.RULES,
        "definitions": compliance_selectors.definitions(),
        "children": list(area.children.exclude(level=AreaLevel.GRID).order_by("code")),
    }
    return render(request, "insights/compliance.html", context)
