"""The dashboards (研判看板) and the command-centre big screen (指挥大屏). Thin: the selectors count."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from grassroots.accounts.decorators import capability_required
from grassroots.cases.selectors.measures import DEFINITIONS as CASE_DEFINITIONS
from grassroots.cases.workflow import TZ
from grassroots.core import clock
from grassroots.core.errors import NotFound
from grassroots.insights.selectors import dashboards
from grassroots.insights.selectors.measures import DEFINITIONS, MEASURES

MESSAGE = "您的角色无权查看研判看板。"
LEVEL_TEMPLATES = {
    "community": "insights/dashboard_community.html",
    "subdistrict": "insights/dashboard_subdistrict.html",
    "grid": "insights/dashboard_community.html",
}
PARTS_LABELS = {"city": "区县", "district": "街道", "subdistrict": "社区", "community": "网格", "grid": "下级区域"}


def _area_id(request: HttpRequest) -> int | None:
    value = request.GET.get("area")
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise NotFound() from None


def _args(request: HttpRequest) -> dict[str, Any]:
    now = clock.now()
    return {
        "user": request.user,
        "area_id": _area_id(request),
        "period_kind": request.GET.get("period", "month"),
        "now": now,
        "today": now.astimezone(TZ).date(),
    }


@capability_required("insights.view", message=MESSAGE)
def dashboard(request: HttpRequest) -> HttpResponse:
    board = dashboards.dashboard(**_args(request))
    template = LEVEL_TEMPLATES.get(board.area.level, "insights/dashboard_district.html")
    context = {
        "board": board,
        "parts_label": PARTS_LABELS.get(board.area.level, "下级区域"),
        "measures": MEASURES,
        "period_kinds": dashboards.PERIOD_KINDS,
        "definitions": DEFINITIONS,
        "case_definitions": CASE_DEFINITIONS,
        "chart_data": board.chart_data(),
    }
    return render(request, template, context)


@capability_required("insights.view", message=MESSAGE)
def bigscreen(request: HttpRequest) -> HttpResponse:
    screen = dashboards.bigscreen(**_args(request))
    measure = request.GET.get("measure", "resolution")
    context = {
        "screen": screen,
        "board": screen.dashboard,
        "measures": MEASURES,
        "measure": measure if any(m.key == measure for m in MEASURES) else "resolution",
        "period_kinds": dashboards.PERIOD_KINDS,
        "definitions": DEFINITIONS,
        "screen_data": {
            "grids": screen.features,
            "points": screen.points,
            "measures": [{"key": m.key, "label": m.label, "unit": m.unit, "up": m.higher_is_better} for m in MEASURES],
            "children": screen.dashboard.chart_data()["children"],
            "trend": screen.dashboard.trend,
            "categories": screen.dashboard.categories,
        },
    }
    return render(request, "insights/bigscreen.html", context)
