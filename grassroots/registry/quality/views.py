"""The data-quality page (数据质量): aggregates only, never a person.

Thin: the capability is checked before anything is looked up (403); the area comes from the
user's scope (outside it, or a grid: 404); the selectors count, this module only formats.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from grassroots.accounts.decorators import capability_required
from grassroots.accounts.scopes import can, scope_for
from grassroots.core import clock
from grassroots.core.errors import NotFound
from grassroots.places import selectors as places
from grassroots.places.models import AreaLevel
from grassroots.registry.models import RecordStatus
from grassroots.registry.quality import selectors
from grassroots.registry.quality.selectors import CAPABILITY, PERSON_FIELDS, AreaRow, Figures

MESSAGE = "您的角色无权查看人口数据质量。"
CHILD_LABELS = {
    AreaLevel.CITY: "区县",
    AreaLevel.DISTRICT: "街道",
    AreaLevel.SUBDISTRICT: "社区",
}


def pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


def _area_id(request: HttpRequest) -> int | None:
    raw = request.GET.get("area", "")
    if not raw:
        return None
    if not raw.isdigit():
        raise NotFound()
    return int(raw)


def _row(row: AreaRow, fields: list[tuple[str, str]]) -> dict[str, Any]:
    f: Figures = row.figures
    shares = f.by_field
    return {
        "area": row.area,
        "community": row.community,
        "persons": f.persons,
        "records": f.records,
        "dedup_rate": pct(f.dedup_rate),
        "completeness": pct(f.completeness),
        "fields": [pct(shares.get(k)) for k, _ in fields],
        "held": f.held,
        "lives_here": f.lives_here,
        "registered_here": f.registered_here,
    }


def _last(moment: datetime | None) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d") if moment else "—"


@capability_required(CAPABILITY, message=MESSAGE)
def quality(request: HttpRequest) -> HttpResponse:
    scope = scope_for(request.user, CAPABILITY)
    area = selectors.quality_area(scope=scope, area_id=_area_id(request))
    figures = selectors.area_quality_cached(scope=scope, area=area)
    today = clock.today()
    trend = selectors.quality_trend(scope=scope, area=area, today=today, live=figures.total)
    total = figures.total
    varying = figures.varying_fields
    statuses = [RecordStatus.ACCEPTED, RecordStatus.LINKED, RecordStatus.HELD, RecordStatus.REJECTED]
    context = {
        "area": area,
        "breadcrumb": places.area_breadcrumb(scope=scope, area=area),
        "total": total,
        "cards": [
            ("来源记录", f"{total.records:,}", "已接收＋已关联"),
            ("实有人口", f"{total.persons:,}", "人"),
            ("去重率", pct(total.dedup_rate), "多份记录合并为一人"),
            ("人员信息完整度", pct(total.completeness), "8项关键信息平均"),
            ("待核实记录", f"{total.held:,}", "身份证号待核实"),
            ("待核对记录对", f"{total.pending_pairs:,}", "是否同一人"),
            ("待指定地址", f"{total.pending_addresses:,}", "未匹配到房屋"),
        ],
        "field_shares": [(label, pct(total.by_field.get(k))) for k, label, _ in PERSON_FIELDS],
        "distribution": [
            (n, persons, pct(persons / total.persons if total.persons else None)) for n, persons in figures.distribution
        ],
        "key_count": len(PERSON_FIELDS),
        "statuses": [(s, RecordStatus(s).label) for s in statuses],
        "sources": [
            {
                "name": r.source.name,
                "rows": r.figures.rows,
                "by_status": [r.figures.by_status[s] for s in statuses],
                "completeness": pct(r.figures.completeness),
                "weakest": "、".join(f"{label} {pct(v)}" for label, v in r.weakest) or "—",
                "last": _last(r.figures.last),
            }
            for r in figures.sources
        ],
        "children_label": CHILD_LABELS.get(AreaLevel(area.level), "下级区域"),
        "children": [_row(c, varying) for c in figures.children],
        "varying": varying,
        "grids": [_row(g, varying) for g in figures.grids],
        "grid_count": figures.grid_count,
        "grids_cut": figures.grid_count > len(figures.grids),
        "max_grid_rows": selectors.MAX_GRID_ROWS,
        "can_view_people": can(request.user, "registry.view"),
        "trend": trend,
        "snapshots": sum(1 for p in trend if not p["live"]),
        "definitions": selectors.DEFINITIONS,
        "today": today,
        "computed_at": figures.computed_at,
        "cache_minutes": max(1, selectors.cache_seconds(area) // 60) if selectors.cache_seconds(area) > 0 else 0,
    }
    return render(request, "registry/quality.html", context)
