"""Reads of the subdistrict's monthly assessment (考核) of departments and partner units.

Score of a department for a subdistrict and a month (each part 0–100, weights from ``AssessmentWeights``):

    score = Σ wᵢ·xᵢ / Σ wᵢ   over the parts i that have a value

    parts: 响应率, 解决率, 满意率, 按时办结率 of the cases created in the subdistrict in the month and sent
    to the department (``cases.selectors.measures.department_rows``: the same figures as the case measures
    page), each × 100; and the mean of the communities' ratings (0–100) of the department for the month.

A part without a value (a rate whose denominator is 0, no rating yet) is left out and the remaining
weights are renormalised, so a department is never punished for having had no case of some kind.
Partner units (共建单位) handle no cases: their case part is replaced by their employed party members'
yearly-target completion (``party.selectors.reports.unit_tallies``: members in the subdistrict who met
both targets, percent, as of today) besides the communities' rating.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Q

from grassroots.accounts.models import Department
from grassroots.accounts.scopes import scope_for
from grassroots.cases.models import Case
from grassroots.cases.selectors.measures import Measures, department_rows
from grassroots.cases.workflow import TZ
from grassroots.core.errors import NotFound
from grassroots.core.scope import Scope
from grassroots.insights.models import AssessmentMonth, AssessmentRating, AssessmentWeights, TargetKind
from grassroots.party.models import AllianceMember, Pairing
from grassroots.party.selectors.reports import unit_tallies
from grassroots.places.models import Area, AreaLevel
from grassroots.registry.models import Unit

DEPARTMENT_PARTS = (
    ("response", "响应率"),
    ("resolution", "解决率"),
    ("satisfaction", "满意率"),
    ("on_time", "按时办结率"),
    ("rating", "社区评分"),
)
UNIT_PARTS = (("unit_service", "党员履职"), ("unit_rating", "社区评分"))
DEFAULT_WEIGHTS = {"response": 20, "resolution": 20, "satisfaction": 20, "on_time": 10, "rating": 30}
DEFAULT_UNIT_WEIGHTS = {"unit_service": 40, "unit_rating": 60}
FORMULA = (
    "得分 = Σ(权重ᵢ × 分项ᵢ) ÷ Σ权重ᵢ，只计有数值的分项（某项没有数据时，其余分项的权重按比例放大）；各分项为0–100分。"
)


# --- months ---------------------------------------------------------------------------------


def month_start(value: date) -> date:
    return value.replace(day=1)


def month_bounds(month: date) -> tuple[datetime, datetime]:
    days = calendar.monthrange(month.year, month.month)[1]
    start = datetime.combine(month, time.min, tzinfo=TZ)
    return start, start + timedelta(days=days)


def parse_month(text: str | None, today: date) -> date:
    """``YYYY-MM`` (default: last month, the month usually assessed)."""
    if text:
        try:
            year, month = (int(p) for p in text.split("-")[:2])
            return date(year, month, 1)
        except ValueError:
            raise NotFound("月份格式应为“年-月”，例如2026-10。") from None
    return month_start(month_start(today) - timedelta(days=1))


# --- scoring (plain arithmetic, tested by hand) ---------------------------------------------


@dataclass(frozen=True)
class Part:
    key: str
    label: str
    weight: int
    value: float | None  # 0–100, None: no data
    note: str = ""


def combine(parts: Sequence[Part]) -> float | None:
    """Σ wᵢ·xᵢ / Σ wᵢ over the parts with a value and a positive weight; None when there is none."""
    present = [p for p in parts if p.value is not None and p.weight > 0]
    total = sum(p.weight for p in present)
    if total == 0:
        return None
    return sum(p.weight * (p.value or 0.0) for p in present) / total


def _rate(measures: Measures | None, key: str) -> tuple[float | None, str]:
    if measures is None:
        return None, "本月无案件"
    ratio = getattr(measures, key)
    if ratio.rate is None:
        return None, "无数据"
    return ratio.rate * 100, f"{ratio.numerator}/{ratio.denominator}"


def _mean(scores: list[int]) -> float | None:
    return sum(scores) / len(scores) if scores else None


# --- who and what ---------------------------------------------------------------------------


def weights_of(subdistrict: Area) -> dict[str, int]:
    row = AssessmentWeights.objects.filter(subdistrict=subdistrict).first()
    if row is None:
        return {**DEFAULT_WEIGHTS, **DEFAULT_UNIT_WEIGHTS}
    return {k: getattr(row, k) for k in (*DEFAULT_WEIGHTS, *DEFAULT_UNIT_WEIGHTS)}


def is_closed(subdistrict: Area, month: date) -> bool:
    return AssessmentMonth.objects.filter(subdistrict=subdistrict, month=month).exists()


def subdistrict_of(area: Area) -> Area | None:
    if area.level == AreaLevel.SUBDISTRICT:
        return area
    return Area.objects.filter(path__in=area.ancestor_paths(), level=AreaLevel.SUBDISTRICT).first()


def departments_for(area: Area) -> list[Department]:
    """Active departments serving ``area``: located at it or above (district bureaus, the subdistrict's own)."""
    return list(
        Department.objects.filter(path__in=[*area.ancestor_paths(), area.path], is_active=True).order_by("path", "name")
    )


def partner_units_for(community: Area, month: date) -> list[Unit]:
    """Units paired with the community, or members of an alliance covering it, during the month."""
    start, end = month, month_bounds(month)[1].date()
    live = Q(since__lt=end) & (Q(until__isnull=True) | Q(until__gte=start))
    paired = Pairing.objects.filter(live, community=community).values("unit_id")
    allied = AllianceMember.objects.filter(
        Q(joined_on__lt=end) & (Q(left_on__isnull=True) | Q(left_on__gte=start)),
        alliance__path__in=[*community.ancestor_paths(), community.path],
    ).values("unit_id")
    return list(Unit.objects.filter(Q(pk__in=paired) | Q(pk__in=allied)).order_by("name"))


def communities_of(subdistrict: Area) -> list[Area]:
    return list(Area.objects.filter(parent=subdistrict, level=AreaLevel.COMMUNITY).order_by("path"))


# --- the ranking page -----------------------------------------------------------------------


def ranking_subdistricts(*, user: Any) -> list[Area]:
    """Subdistricts whose ranking ``user`` may read (insights.view): in scope, or the one a community sits in."""
    scope = scope_for(user, "insights.view")
    if scope.area_path is None:
        raise NotFound()
    inside = list(Area.objects.filter(scope.path_q("path"), level=AreaLevel.SUBDISTRICT).order_by("path")[:500])
    if inside:
        return inside
    own = Area.objects.filter(path=scope.area_path).first()
    above = subdistrict_of(own) if own is not None else None
    if above is None:
        raise NotFound()
    return [above]


def ranking_subdistrict(*, user: Any, area_id: int | None) -> tuple[Area, list[Area]]:
    choices = ranking_subdistricts(user=user)
    if area_id is None:
        return choices[0], choices
    for area in choices:
        if area.pk == area_id:
            return area, choices
    raise NotFound()


@dataclass
class RankRow:
    kind: str
    key: int
    name: str
    parts: list[Part]
    score: float | None
    ratings: int
    rank: int | None = None

    @property
    def rating_only(self) -> bool:
        """Scored on the communities' rating alone (no case or member figure this month)."""
        return self.score is not None and all(p.value is None for p in self.parts if "rating" not in p.key)


@dataclass
class Ranking:
    subdistrict: Area
    month: date
    closed: bool
    weights: dict[str, int]
    departments: list[RankRow] = field(default_factory=list)
    units: list[RankRow] = field(default_factory=list)
    communities: int = 0
    rated_communities: int = 0
    formula: str = FORMULA


def _ranked(rows: list[RankRow]) -> list[RankRow]:
    rows.sort(key=lambda r: (r.score is None, -(r.score or 0.0), r.name))
    for i, row in enumerate(rows, start=1):
        row.rank = i if row.score is not None else None
    return rows


def ranking(*, subdistrict: Area, month: date, now: datetime) -> Ranking:
    """Departments and partner units of ``subdistrict`` scored and ranked for ``month``."""
    weights = weights_of(subdistrict)
    start, end = month_bounds(month)
    inside = Scope(area_path=subdistrict.path)
    cases = Case.objects.filter(inside.path_q("path"), created_at__gte=start, created_at__lt=end)
    by_department = {row.department_id: row.measures for row in department_rows(cases=cases, now=now)}
    ratings = list(
        AssessmentRating.objects.filter(inside.path_q("path"), month=month).values_list(
            "target_kind", "department_id", "unit_id", "score", "path"
        )
    )
    dept_scores: dict[int, list[int]] = defaultdict(list)
    unit_scores: dict[int, list[int]] = defaultdict(list)
    for kind, department_id, unit_id, score, _path in ratings:
        if kind == TargetKind.DEPARTMENT:
            dept_scores[department_id].append(score)
        else:
            unit_scores[unit_id].append(score)
    departments = {d.pk: d for d in departments_for(subdistrict)}
    departments.update({d.pk: d for d in Department.objects.filter(pk__in=set(by_department) | set(dept_scores))})
    result = Ranking(subdistrict, month, is_closed(subdistrict, month), weights)
    for pk, department in departments.items():
        measures = by_department.get(pk)
        parts = []
        for key, label in DEPARTMENT_PARTS[:4]:
            value, note = _rate(measures, key)
            parts.append(Part(key, label, weights[key], value, note))
        scores = dept_scores.get(pk, [])
        parts.append(Part("rating", "社区评分", weights["rating"], _mean(scores), f"{len(scores)}个社区评分"))
        result.departments.append(RankRow("department", pk, department.name, parts, combine(parts), len(scores)))
    communities = communities_of(subdistrict)
    unit_ids: set[int] = set(unit_scores)
    for community in communities:
        unit_ids.update(u.pk for u in partner_units_for(community, month))
    _, tallies = unit_tallies(scope=inside, year=month.year)
    service = {t.key: t for t in tallies}
    for unit in Unit.objects.filter(pk__in=unit_ids).order_by("name"):
        tally = service.get(unit.pk)
        value = tally.met_percent if tally is not None and tally.members else None
        note = (
            f"{tally.met}/{tally.members}名在职党员完成年度目标"
            if tally is not None and tally.members
            else "无在职党员"
        )
        scores = unit_scores.get(unit.pk, [])
        parts = [
            Part("unit_service", "党员履职", weights["unit_service"], value, note),
            Part("unit_rating", "社区评分", weights["unit_rating"], _mean(scores), f"{len(scores)}个社区评分"),
        ]
        result.units.append(RankRow("unit", unit.pk, unit.name, parts, combine(parts), len(scores)))
    _ranked(result.departments)
    _ranked(result.units)
    result.communities = len(communities)
    result.rated_communities = len({p for *_, p in ratings})
    return result


# --- the rating form ------------------------------------------------------------------------


def rating_community(*, user: Any, area_id: int | None) -> Area:
    """The community ``user`` rates for (``insights.rate``): their own, or one in scope they name (admin)."""
    scope = scope_for(user, "insights.rate")
    if scope.area_path is None:
        raise NotFound()
    rows = Area.objects.filter(scope.path_q("path"), level=AreaLevel.COMMUNITY)
    community = rows.filter(pk=area_id).first() if area_id is not None else rows.order_by("path").first()
    if community is None:
        raise NotFound()
    return community


@dataclass
class RatingTarget:
    kind: str
    key: int
    name: str
    score: int | None
    comment: str


def rating_targets(*, community: Area, month: date) -> list[RatingTarget]:
    existing = {
        (r.target_kind, r.department_id or r.unit_id): r
        for r in AssessmentRating.objects.filter(community=community, month=month)
    }
    found = []
    for d in departments_for(community):
        r = existing.get((TargetKind.DEPARTMENT, d.pk))
        found.append(RatingTarget("department", d.pk, d.name, r.score if r else None, r.comment if r else ""))
    for u in partner_units_for(community, month):
        r = existing.get((TargetKind.UNIT, u.pk))
        found.append(RatingTarget("unit", u.pk, u.name, r.score if r else None, r.comment if r else ""))
    return found


def weights_subdistrict(*, user: Any, area_id: int | None) -> Area:
    """The subdistrict whose weights and month ``user`` may set (``insights.assess``)."""
    scope = scope_for(user, "insights.assess")
    if scope.area_path is None:
        raise NotFound()
    rows = Area.objects.filter(scope.path_q("path"), level=AreaLevel.SUBDISTRICT)
    area = rows.filter(pk=area_id).first() if area_id is not None else rows.order_by("path").first()
    if area is None:
        raise NotFound()
    return area
