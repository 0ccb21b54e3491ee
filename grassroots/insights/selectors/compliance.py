"""The compliance report (issue 9): what in an area breaks the documents' size and staffing rules.

Every figure comes from ``selectors/measures.py`` (``area_measures``: households and residents per
grid and community, the size ranges, the split thresholds, workers per 10,000 residents, the
service-centre standard) and from the party app's 一网格一组织 coverage; nothing is redefined here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from grassroots.accounts.scopes import scope_for
from grassroots.cases.selectors.measures import period_for
from grassroots.core.errors import NotFound
from grassroots.core.scope import Scope
from grassroots.engage.models_services import ServiceCentre
from grassroots.engage.selectors.centres import M2_PER_100_HOUSEHOLDS, VILLAGE_MIN_M2
from grassroots.insights.selectors.measures import (
    COMMUNITY_HOUSEHOLDS,
    DEFINITIONS_BY_KEY,
    GRID_HOUSEHOLDS,
    SPLIT_HOUSEHOLDS,
    SPLIT_RESIDENTS,
    WORKERS_PER_10K,
    Figures,
    area_measures,
)
from grassroots.party.selectors.orgs import GridCoverage, coverage
from grassroots.places.models import Area

VIEW = "insights.view"


@dataclass(frozen=True)
class CommunityRow:
    figures: Figures
    in_range: bool
    to_split: bool
    workers_per_10k: float | None
    staffed: bool
    centre_m2: float | None
    m2_per_100: float | None
    centre_ok: bool | None  # None: cannot be assessed (or no centre)
    has_centre: bool

    @property
    def area(self) -> Area:
        assert self.figures.area is not None
        return self.figures.area


@dataclass(frozen=True)
class ComplianceReport:
    area: Area
    grids: list[Figures]  # every comprehensive grid
    grids_out: list[Figures]
    communities: list[CommunityRow]
    without_org: list[GridCoverage]
    org_total: int

    @property
    def communities_out(self) -> list[CommunityRow]:
        return [c for c in self.communities if not c.in_range]

    @property
    def to_split(self) -> list[CommunityRow]:
        return [c for c in self.communities if c.to_split]

    @property
    def understaffed(self) -> list[CommunityRow]:
        return [c for c in self.communities if c.figures.residents > 0 and not c.staffed]

    @property
    def centres_failing(self) -> list[CommunityRow]:
        return [c for c in self.communities if c.centre_ok is False or not c.has_centre]

    @property
    def grid_share(self) -> float | None:
        return (len(self.grids) - len(self.grids_out)) / len(self.grids) if self.grids else None


RULES = {
    "grid": f"综合网格{GRID_HOUSEHOLDS[0]}–{GRID_HOUSEHOLDS[1]}户",
    "community": f"社区{COMMUNITY_HOUSEHOLDS[0]:,}–{COMMUNITY_HOUSEHOLDS[1]:,}户",
    "split": f"户数超过{SPLIT_HOUSEHOLDS:,}户或人口超过{SPLIT_RESIDENTS:,}人的社区应拆分",
    "workers": f"每万名居民不少于{WORKERS_PER_10K}名社区工作者",
    "centre": f"党群服务中心每百户不少于{M2_PER_100_HOUSEHOLDS}平方米（村不少于{VILLAGE_MIN_M2}平方米）",
    "party": "一网格一组织：每个综合网格、专属网格都有党组织",
}


def compliance_report(*, user: Any, area: Area, today: date) -> ComplianceReport:
    """The report of ``area`` (NotFound outside the user's ``insights.view`` scope)."""
    scope = scope_for(user, VIEW)
    if not scope.covers_path(area.path):
        raise NotFound()
    measures = area_measures(area=area, period=period_for("month", today), today=today)
    grids = sorted(
        (g for g in measures.grids.values() if g.area is not None and g.comprehensive_grids),
        key=lambda g: g.area.path if g.area else "",
    )
    centres = {c.path: c for c in ServiceCentre.objects.filter(Scope(area_path=area.path).path_q("path"))}
    rows = []
    for path, c in sorted(measures.communities.items()):
        values = c.values()
        centre = centres.get(path)
        households = c.households or (centre.households_entered if centre else 0) or 0
        m2 = float(centre.floor_area) if centre else None
        rows.append(
            CommunityRow(
                figures=c,
                in_range=bool(c.communities_in_range),
                to_split=bool(c.communities_to_split),
                workers_per_10k=values["workers_per_10k"],
                staffed=bool(c.communities_staffed),
                centre_m2=m2,
                m2_per_100=(m2 * 100 / households) if m2 is not None and households else None,
                centre_ok=bool(c.centres_compliant) if c.centres_assessed else None,
                has_centre=not c.communities_without_centre,
            )
        )
    cover = coverage(scope=scope, area=area)
    return ComplianceReport(
        area=area,
        grids=grids,
        grids_out=[g for g in grids if not g.grids_in_range],
        communities=rows,
        without_org=cover.missing,
        org_total=cover.total,
    )


def definitions() -> list[Any]:
    return [DEFINITIONS_BY_KEY[k] for k in ("population", "grid_size", "community_size", "workers", "centre")]
