"""The dashboards and the big screen: who sees which area, and the page's figures and charts.

Every read starts from ``scope_for(user, "insights.view")``; an area outside it is ``NotFound``.
The figures come from ``selectors/measures.py`` (rollups); the charts from the rollups too, so a
page is a fixed number of queries whatever the number of grids or cases (tested).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Avg, Count, F, Sum
from django.db.models.functions import Floor

from grassroots.accounts.scopes import scope_for
from grassroots.cases.models import Case, Category
from grassroots.cases.selectors.measures import OPEN_STATES, Period, period_for
from grassroots.core.scope import Scope
from grassroots.insights.models import CaseRollup, CategoryRollup
from grassroots.insights.selectors.measures import MEASURES, AreaMeasures, area_measures, display
from grassroots.insights.services.rollups import STALE_AFTER, last_refreshed, rollups_refresh
from grassroots.places.models import Area, AreaLevel
from grassroots.places.selectors import area_asked

logger = logging.getLogger(__name__)

CAPABILITY = "insights.view"
PERIOD_KINDS = {"month": "本月", "last_month": "上月", "year": "本年"}  # whole months: the rollups' grain
TREND_MONTHS = 12
# Values a grid on the map takes from its community (they are community measures).
COMMUNITY_KEYS = ("community_size", "workers_per_10k", "centre", "checkin", "targets")
CLUSTER_CELL = 200  # points are binned in cells of 1/200° (about 500 m) before the browser clusters them


def dashboard_area(*, user: Any, area_id: int | None) -> Area:
    """The area asked about (default: the user's own); outside the user's scope: ``NotFound``."""
    return area_asked(scope=scope_for(user, CAPABILITY), area_id=area_id)


def dashboard_period(kind: str, today: date) -> Period:
    return period_for(kind if kind in PERIOD_KINDS else "month", today)


def ensure_fresh(now: datetime) -> datetime | None:
    """Refresh on demand: at once when never done, in the background when older than ``STALE_AFTER``."""
    last = last_refreshed()
    if last is None:
        rollups_refresh(now=now)
        return now
    if now - last > STALE_AFTER:
        try:
            from grassroots.insights.tasks import refresh_insights

            refresh_insights.enqueue()
        except Exception:  # the page still answers from the rollups it has
            logger.exception("could not enqueue refresh_insights")
    return last


@dataclass
class Dashboard:
    area: Area
    period: Period
    measures: AreaMeasures
    crumbs: list[Area]
    trend: list[dict[str, Any]] = field(default_factory=list)
    categories: list[dict[str, Any]] = field(default_factory=list)
    refreshed_at: datetime | None = None

    @property
    def cards(self) -> list[dict[str, str]]:
        values = self.measures.total.values()
        return [
            {"key": m.key, "label": m.label, "value": display(m.key, values[m.key]), "unit": m.unit} for m in MEASURES
        ]

    def table(self) -> list[dict[str, Any]]:
        rows = []
        for part, values in self.measures.rows():
            assert part.area is not None
            rows.append(
                {
                    "area": part.area,
                    "cells": [display(m.key, values[m.key]) for m in MEASURES],
                    "raw": {m.key: values[m.key] for m in MEASURES},
                }
            )
        return rows

    def chart_data(self) -> dict[str, Any]:
        return {
            "children": [{"name": r["area"].name, "values": r["raw"]} for r in self.table()],
            "measures": [{"key": m.key, "label": m.label, "unit": m.unit} for m in MEASURES],
            "trend": self.trend,
            "categories": self.categories,
        }


def _crumbs(area: Area, scope: Scope) -> list[Area]:
    parts = area.path.split(".")
    paths = [".".join(parts[: i + 1]) for i in range(len(parts))]
    return [a for a in Area.objects.filter(path__in=paths).order_by("depth") if scope.covers_path(a.path)]


def trend(area: Area, period: Period) -> list[dict[str, Any]]:
    end = period.end
    first = end.replace(day=1)
    for _ in range(TREND_MONTHS):
        first = (first - timedelta(days=1)).replace(day=1)
    rows = (
        CaseRollup.objects.filter(Scope(area_path=area.path).path_q("path"), month__gte=first, month__lt=end)
        .order_by("month")
        .values("month")
        .annotate(
            received=Sum("received"),
            excluded=Sum("excluded"),
            closed=Sum("closed"),
            good=Sum("good"),
            rated=Sum("rated"),
        )
    )
    out = []
    for r in rows:
        valid = (r["received"] or 0) - (r["excluded"] or 0)
        out.append(
            {
                "month": r["month"].strftime("%Y-%m"),
                "received": r["received"] or 0,
                "closed": r["closed"] or 0,
                "resolution": round(100 * r["closed"] / valid, 1) if valid else None,
                "satisfaction": round(100 * r["good"] / r["rated"], 1) if r["rated"] else None,
            }
        )
    return out


def categories(area: Area, period: Period, limit: int = 10) -> list[dict[str, Any]]:
    # The category rollup is per community: a grid shows its community's categories.
    path = area.path.rsplit(".", 1)[0] if area.level == AreaLevel.GRID else area.path
    rows = list(
        CategoryRollup.objects.filter(
            Scope(area_path=path).path_q("path"), month__gte=period.start.replace(day=1), month__lt=period.end
        )
        .order_by()
        .values("category_id")
        .annotate(received=Sum("received"), closed=Sum("closed"))
        .order_by("-received", "category_id")[:limit]
    )
    names = dict(Category.objects.filter(pk__in=[r["category_id"] for r in rows]).values_list("pk", "name"))
    return [
        {"name": names.get(r["category_id"], str(r["category_id"])), "received": r["received"], "closed": r["closed"]}
        for r in rows
    ]


def dashboard(*, user: Any, area_id: int | None, period_kind: str, now: datetime, today: date) -> Dashboard:
    area = dashboard_area(user=user, area_id=area_id)
    period = dashboard_period(period_kind, today)
    refreshed = ensure_fresh(now)
    figures = area_measures(area=area, period=period, today=today)
    return Dashboard(
        area,
        period,
        figures,
        _crumbs(area, scope_for(user, CAPABILITY)),
        trend(area, period),
        categories(area, period),
        refreshed,
    )


# --- the big screen -------------------------------------------------------------------------------


def grid_features(measures: AreaMeasures) -> dict[str, Any]:
    """Our own GeoJSON: every grid below the area with its measures as properties."""
    features = []
    shapes = dict(
        Area.objects.grids()
        .filter(Scope(area_path=measures.area.path).path_q("path"))
        .exclude(geometry=None)
        .values_list("path", "geometry")
    )
    for path, g in measures.grids.items():
        if g.area is None or path not in shapes:
            continue
        values = g.values()
        community = next(
            (c for p, c in measures.communities.items() if path.startswith(p + ".")),
            None,
        )
        if community is not None:
            cv = community.values()
            values.update({k: cv[k] for k in COMMUNITY_KEYS})
        features.append(
            {
                "type": "Feature",
                "geometry": shapes[path],
                "properties": {
                    "id": g.area.pk,
                    "name": g.area.name,
                    "community": community.area.name if community and community.area else "",
                    "values": values,
                    "labels": {k: display(k, v) for k, v in values.items()},
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


def case_points(*, area: Area, period: Period) -> list[dict[str, Any]]:
    """The period's cases still open, binned into small cells (one GROUP BY); the browser clusters them.

    Open cases only: they are what a command centre acts on, and the (state, created_at) index of
    cases finds them without reading the closed million (all cases of a month took 5 s on SQLite).
    """
    start, end = period.bounds
    rows = (
        Case.objects.filter(
            Scope(area_path=area.path).path_q("path"),
            state__in=[s.value for s in OPEN_STATES],
            created_at__gte=start,
            created_at__lt=end,
            lon__isnull=False,
            lat__isnull=False,
        )
        .annotate(cx=Floor(F("lon") * CLUSTER_CELL), cy=Floor(F("lat") * CLUSTER_CELL))
        .order_by()
        .values("cx", "cy")
        .annotate(n=Count("pk"), lon=Avg("lon"), lat=Avg("lat"))
    )
    return [{"lon": round(r["lon"], 5), "lat": round(r["lat"], 5), "n": r["n"]} for r in rows]


@dataclass
class BigScreen:
    dashboard: Dashboard
    features: dict[str, Any]
    points: list[dict[str, Any]]


def bigscreen(*, user: Any, area_id: int | None, period_kind: str, now: datetime, today: date) -> BigScreen:
    board = dashboard(user=user, area_id=area_id, period_kind=period_kind, now=now, today=today)
    return BigScreen(board, grid_features(board.measures), case_points(area=board.area, period=board.period))
