"""Every measure of an area and of its parts over a period, in a fixed number of queries.

The case figures come from the rollups (models/rollups.py), which hold the very counts of
``grassroots.cases.selectors.measures`` per grid and month; the rates are rebuilt from them with the
same ``measures_of`` function the case measures page uses. The other measures read the other apps'
own selectors and rules (party targets, volunteer hours, mobilisation response, service-centre
standard, the red/black list) or small tables (areas, workers, centres).

``DEFINITIONS`` is the one text of what each measure means: the pages' help shows it and
``docs/insights.md`` repeats it word for word (tests/insights/test_measures.py checks).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, Sum

from grassroots.accounts.models import WorkerProfile
from grassroots.cases.selectors.measures import COUNT_KEYS, Measures, Period, measures_of
from grassroots.cases.workflow import TZ
from grassroots.core.scope import Scope
from grassroots.engage.models_services import ServiceCentre
from grassroots.engage.selectors.centres import M2_PER_100_HOUSEHOLDS, VILLAGE_MIN_M2, compliance
from grassroots.estates.selectors import red_black
from grassroots.insights.models import CaseRollup, RegistryRollup
from grassroots.party.selectors.reports import community_tallies
from grassroots.places.models import Area, AreaLevel, GridKind
from grassroots.volunteers.models import Recipient
from grassroots.volunteers.selectors.activities import hours_by_area

# --- the numbers (GLOSSARY.md) ---------------------------------------------------------------

GRID_HOUSEHOLDS = (300, 500)  # a comprehensive grid
COMMUNITY_HOUSEHOLDS = (2000, 3000)
SPLIT_HOUSEHOLDS, SPLIT_RESIDENTS = 5000, 15000  # above either: the community must be reviewed for a split
WORKERS_PER_10K = 18


@dataclass(frozen=True)
class Definition:
    key: str
    name: str
    text: str


DEFINITIONS: tuple[Definition, ...] = (
    Definition(
        "cases",
        "案件四率与办结用时",
        "响应率、解决率、满意率、按时办结率与「案件指标」页同一口径（见其「指标口径」）：统计期内新上报、位于所选区域的案件，"
        "按网格×上报月份预先汇总后相加，所以统计期只能是整月（本月、上月、本年）；办结用时在此给平均数（小时）。",
    ),
    Definition(
        "completeness",
        "登记完整率",
        "现住址在所选区域内的实有人口中，手机号、现住房屋（户室）、所属户、民族四项均已登记的人数所占比例。",
    ),
    Definition(
        "population",
        "户数与人口",
        "户数为区域内楼栋登记户数之和（地名地址库），人口为现住址在区域内的实有人口（人口库）。",
    ),
    Definition(
        "grid_size",
        "网格规模达标率",
        f"户数在{GRID_HOUSEHOLDS[0]}至{GRID_HOUSEHOLDS[1]}户之间（含两端）的综合网格 ÷ 全部综合网格；"
        "专属网格和精微网格不计入。",
    ),
    Definition(
        "community_size",
        "社区规模达标率",
        f"户数在{COMMUNITY_HOUSEHOLDS[0]}至{COMMUNITY_HOUSEHOLDS[1]}户之间（含两端）的社区 ÷ 全部社区；"
        f"户数超过{SPLIT_HOUSEHOLDS}户或人口超过{SPLIT_RESIDENTS}人的社区另计为「需拆分」。",
    ),
    Definition(
        "workers",
        "每万人社区工作者",
        f"在区域内社区和网格任职的社区工作者人数 ÷ 实有人口 × 10000，标准为不少于{WORKERS_PER_10K}人；"
        f"社区达标率为达到{WORKERS_PER_10K}人的社区 ÷ 有人口的社区。",
    ),
    Definition(
        "centre",
        "党群服务中心面积达标率",
        f"建筑面积达到每百户{M2_PER_100_HOUSEHOLDS}平方米（村不少于{VILLAGE_MIN_M2}平方米）的党群服务中心"
        " ÷ 可评估的服务中心；"
        "户数取社区楼栋户数之和，没有楼栋户数时取手工填报的服务户数，两者都没有的不可评估；未建服务中心的社区另计。",
    ),
    Definition(
        "checkin",
        "在职党员报到率",
        "居住在区域内的有效在职党员中，已到居住地社区报到并经社区确认的人数所占比例。",
    ),
    Definition(
        "targets",
        "年度目标完成率",
        "居住在区域内的有效在职党员中，统计期所在年度经确认的志愿服务次数和解决实际问题件数都达到年度目标"
        "（未另行设定时为志愿服务2次、解决实际问题1件）的人数所占比例。",
    ),
    Definition(
        "volunteer_hours",
        "志愿服务时长",
        "统计期所在年度内开始、在区域内举办的志愿活动中，已签到人员的服务时长之和（小时）。",
    ),
    Definition(
        "mobilisation",
        "动员响应",
        "统计期内在区域内发起的一键动员（含演练）中：响应率为确认收到的人数 ÷ 被动员人数（表示无法参加的不算）；"
        "响应用时为从收到通知（未记录时从发起动员）到确认的分钟数的中位数。",
    ),
    Definition(
        "red_black",
        "物业红黑榜",
        "统计期最后一天所在季度，按物业服务评分（收费率与满意度）评出的红榜、黑榜企业数，以及连续两个季度上黑榜、应予清退的企业数；"
        "只计所选区域内的小区。",
    ),
)
DEFINITIONS_BY_KEY = {d.key: d for d in DEFINITIONS}


@dataclass(frozen=True)
class MeasureKey:
    key: str  # a value of ``Figures.values()``
    label: str
    unit: str  # "%", "小时", "分钟", "人", "户", "件", ""
    definition: str  # the key of its Definition
    higher_is_better: bool = True


MEASURES: tuple[MeasureKey, ...] = (
    MeasureKey("received", "受理量", "件", "cases", False),
    MeasureKey("response", "响应率", "%", "cases"),
    MeasureKey("resolution", "解决率", "%", "cases"),
    MeasureKey("satisfaction", "满意率", "%", "cases"),
    MeasureKey("on_time", "按时办结率", "%", "cases"),
    MeasureKey("closure_hours", "平均办结用时", "小时", "cases", False),
    MeasureKey("overdue", "超期件数", "件", "cases", False),
    MeasureKey("completeness", "登记完整率", "%", "completeness"),
    MeasureKey("households", "户数", "户", "population"),
    MeasureKey("residents", "实有人口", "人", "population"),
    MeasureKey("grid_size", "网格规模达标率", "%", "grid_size"),
    MeasureKey("community_size", "社区规模达标率", "%", "community_size"),
    MeasureKey("workers_per_10k", "每万人社区工作者", "人", "workers"),
    MeasureKey("centre", "服务中心面积达标率", "%", "centre"),
    MeasureKey("checkin", "在职党员报到率", "%", "checkin"),
    MeasureKey("targets", "年度目标完成率", "%", "targets"),
    MeasureKey("volunteer_hours", "志愿服务时长", "小时", "volunteer_hours"),
    MeasureKey("mobilisation_response", "动员响应率", "%", "mobilisation"),
    MeasureKey("mobilisation_minutes", "动员响应用时(中位)", "分钟", "mobilisation", False),
)
MEASURES_BY_KEY = {m.key: m for m in MEASURES}


# --- figures -----------------------------------------------------------------------------------


def _rate(part: int, whole: int) -> float | None:
    return None if whole == 0 else part / whole


@dataclass
class Figures:
    """Sums over one area (or a part of it); ``values()`` turns them into the measures."""

    area: Area | None = None
    cases: dict[str, float] = field(default_factory=lambda: dict.fromkeys((*COUNT_KEYS, "closure_hours"), 0.0))
    households: int = 0
    residents: int = 0
    complete: int = 0
    comprehensive_grids: int = 0
    grids_in_range: int = 0
    communities: int = 0
    communities_in_range: int = 0
    communities_to_split: int = 0
    communities_with_people: int = 0
    communities_staffed: int = 0  # ≥ WORKERS_PER_10K per 10,000 residents
    workers: int = 0
    centres_assessed: int = 0
    centres_compliant: int = 0
    communities_without_centre: int = 0
    party_members: int = 0
    checked_in: int = 0
    met_targets: int = 0
    volunteer_hours: Decimal = Decimal(0)
    called: int = 0
    acknowledged: int = 0
    ack_minutes: list[float] = field(default_factory=list)
    red: int | None = None
    black: int | None = None
    removal: int | None = None

    @property
    def measures(self) -> Measures:
        row: dict[str, Any] = {k: int(self.cases[k]) for k in COUNT_KEYS}
        row["closure_sum"] = timedelta(hours=self.cases["closure_hours"]) if self.cases["closed"] else None
        return measures_of(row)

    def values(self) -> dict[str, float | None]:
        m = self.measures
        return {
            "received": m.received,
            "response": m.response.rate,
            "resolution": m.resolution.rate,
            "satisfaction": m.satisfaction.rate,
            "on_time": m.on_time.rate,
            "closure_hours": m.closure.mean_hours,
            "overdue": m.overdue,
            "completeness": _rate(self.complete, self.residents),
            "households": self.households,
            "residents": self.residents,
            "grid_size": _rate(self.grids_in_range, self.comprehensive_grids),
            "community_size": _rate(self.communities_in_range, self.communities),
            "workers_per_10k": self.workers * 10000 / self.residents if self.residents else None,
            "centre": _rate(self.centres_compliant, self.centres_assessed),
            "checkin": _rate(self.checked_in, self.party_members),
            "targets": _rate(self.met_targets, self.party_members),
            "volunteer_hours": float(self.volunteer_hours),
            "mobilisation_response": _rate(self.acknowledged, self.called),
            "mobilisation_minutes": statistics.median(self.ack_minutes) if self.ack_minutes else None,
        }


def display(key: str, value: float | None) -> str:
    """A value as the pages show it: rates in per cent with one decimal, "—" for no value."""
    if value is None:
        return "—"
    unit = MEASURES_BY_KEY[key].unit
    if unit == "%":
        return f"{value * 100:.1f}%"
    if unit in ("小时", "分钟"):
        return f"{value:.1f}"
    if key == "workers_per_10k":
        return f"{value:.1f}"
    return f"{int(value):,}"


@dataclass
class AreaMeasures:
    area: Area
    period: Period
    total: Figures
    parts: list[Figures]  # one per child area, in code order
    grids: dict[str, Figures]  # per grid path (with its community's rates folded in), for the map
    communities: dict[str, Figures]

    def rows(self) -> list[tuple[Figures, dict[str, float | None]]]:
        return [(p, p.values()) for p in self.parts]


def _under(path: str) -> Q:
    return Scope(area_path=path).path_q("path")


def _prefix(path: str, parts: int) -> str:
    return ".".join(path.split(".")[:parts])


def area_measures(*, area: Area, period: Period, today: date) -> AreaMeasures:
    """Every measure of ``area``, of each child and of each grid and community below it.

    The caller has checked scope (selectors/dashboards.py). About a dozen queries whatever the size.
    """
    start_month = period.start.replace(day=1)
    n = area.path.count(".") + 2  # path parts of a child
    areas = list(
        # Live areas only: a retired grid is no longer a grid to count, though its cases still add up.
        Area.objects.active()
        .filter(_under(area.path), level__in=[AreaLevel.GRID, AreaLevel.COMMUNITY])
        .order_by("path")
        .only("id", "path", "name", "code", "level", "grid_kind", "is_rural", "parent_id", "depth")
    )
    children = list(Area.objects.active().filter(parent=area).order_by("code", "path"))
    grids = {a.path: Figures(a) for a in areas if a.level == AreaLevel.GRID}
    communities = {a.path: Figures(a) for a in areas if a.level == AreaLevel.COMMUNITY}
    if area.level == AreaLevel.GRID:
        grids[area.path] = Figures(area)
    if area.level == AreaLevel.COMMUNITY:
        communities[area.path] = Figures(area)

    def community_of(path: str) -> Figures | None:
        for c in (_prefix(path, k) for k in range(path.count(".") + 1, 0, -1)):
            if c in communities:
                return communities[c]
        return None

    # 1. cases, per grid
    sums = {k: Sum(k) for k in (*COUNT_KEYS, "closure_hours")}
    for row in (
        CaseRollup.objects.filter(_under(area.path), month__gte=start_month, month__lt=period.end)
        .order_by()
        .values("path")
        .annotate(**{f"s_{k}": v for k, v in sums.items()})
    ):
        target = grids.setdefault(row["path"], Figures())
        for k in sums:
            target.cases[k] += row[f"s_{k}"] or 0
    # 2. registry, per grid
    for path, households, residents, complete in RegistryRollup.objects.filter(_under(area.path)).values_list(
        "path", "households", "residents", "complete"
    ):
        g = grids.setdefault(path, Figures())
        g.households, g.residents, g.complete = households, residents, complete
    for g in grids.values():
        if g.area is not None and g.area.grid_kind == GridKind.COMPREHENSIVE:
            g.comprehensive_grids = 1
            g.grids_in_range = int(GRID_HOUSEHOLDS[0] <= g.households <= GRID_HOUSEHOLDS[1])
    # 3. workers, counted where they serve (a grid's worker counts for the grid and its community)
    for path, count in (
        WorkerProfile.objects.filter(_under(area.path))
        .order_by()
        .values("path")
        .annotate(n=Count("pk"))
        .values_list("path", "n")
    ):
        serving: Figures | None = grids.get(path) or communities.get(path) or community_of(path)
        if serving is not None:
            serving.workers += count
    # 4. communities: size, staffing, centres (from their grids)
    for path, g in grids.items():
        c = community_of(path)
        if c is not None:
            c.households += g.households
            c.residents += g.residents
            c.complete += g.complete
            c.workers += g.workers
    centres = {
        c.path: c
        for c in ServiceCentre.objects.filter(_under(area.path)).only(
            "path", "floor_area", "households_entered", "is_village"
        )
    }
    for path, c in communities.items():
        c.communities = 1
        c.communities_in_range = int(COMMUNITY_HOUSEHOLDS[0] <= c.households <= COMMUNITY_HOUSEHOLDS[1])
        c.communities_to_split = int(c.households > SPLIT_HOUSEHOLDS or c.residents > SPLIT_RESIDENTS)
        c.communities_with_people = int(c.residents > 0)
        c.communities_staffed = int(c.residents > 0 and c.workers * 10000 >= WORKERS_PER_10K * c.residents)
        centre = centres.get(path)
        if centre is None:
            c.communities_without_centre = 1
        else:
            households = c.households or centre.households_entered
            ok = compliance(centre.floor_area, households, is_village=centre.is_village)
            c.centres_assessed = int(ok is not None)
            c.centres_compliant = int(bool(ok))
    # 5. party: employed members per community (the party app's own tally)
    _, tallies = community_tallies(scope=Scope(area_path=area.path), area=area, year=period.start.year)
    by_pk = {f.area.pk: f for f in communities.values() if f.area is not None}
    by_pk.update({f.area.pk: f for f in grids.values() if f.area is not None and area.level == AreaLevel.GRID})
    for t in tallies:
        if t.key in by_pk:
            f = by_pk[t.key]
            f.party_members, f.checked_in, f.met_targets = t.members, t.checked_in, t.met
    # 6. mobilisation response, per recipient's grid
    start, end = period.bounds
    for path, notified, started, acknowledged, declined in Recipient.objects.filter(
        _under(area.path), mobilisation__started_at__gte=start, mobilisation__started_at__lt=end
    ).values_list("path", "notified_at", "mobilisation__started_at", "acknowledged_at", "declined"):
        target = grids.get(path) or communities.get(path) or community_of(path) or grids.setdefault(path, Figures())
        target.called += 1
        if acknowledged is not None and not declined:
            target.acknowledged += 1
            target.ack_minutes.append((acknowledged - (notified or started)).total_seconds() / 60)

    # fold: the whole area and each child
    total = Figures(area)
    parts = {c.path: Figures(c) for c in children}

    grid_sums = ("households", "residents", "complete", "comprehensive_grids", "grids_in_range")
    community_sums = (
        "communities",
        "communities_in_range",
        "communities_to_split",
        "communities_with_people",
        "communities_staffed",
        "centres_assessed",
        "centres_compliant",
        "communities_without_centre",
        "party_members",
        "checked_in",
        "met_targets",
        "workers",  # a community's own workers and its grids'
    )

    def fold(into: Iterable[Figures], f: Figures, names: tuple[str, ...]) -> None:
        for t in into:
            if names is grid_sums:
                for k, v in f.cases.items():
                    t.cases[k] += v
            for name in names:
                setattr(t, name, getattr(t, name) + getattr(f, name))
            t.called += f.called
            t.acknowledged += f.acknowledged
            t.ack_minutes.extend(f.ack_minutes)

    for path, g in grids.items():
        fold([total, *([parts[_prefix(path, n)]] if _prefix(path, n) in parts else [])], g, grid_sums)
    for path, c in communities.items():
        fold([total, *([parts[_prefix(path, n)]] if _prefix(path, n) in parts else [])], c, community_sums)
    if area.level == AreaLevel.GRID:
        total = grids[area.path]
    # 7. volunteer hours per child (the volunteers app's own sums) and the red/black list of the area
    for h in hours_by_area(scope=Scope(area_path=area.path), area=area, year=period.start.year):
        total.volunteer_hours += h.hours
        if h.area.path in parts:
            parts[h.area.path].volunteer_hours += h.hours
    last = period.last_day
    rb = red_black(scope=Scope(area_path=area.path), area=area, year=last.year, quarter=(last.month - 1) // 3 + 1)
    total.red, total.black = len(rb.red), len(rb.black)
    total.removal = sum(1 for r in rb.rows if r.removal)
    return AreaMeasures(area, period, total, [parts[c.path] for c in children], grids, communities)


def month_start(moment: datetime) -> date:
    return moment.astimezone(TZ).date().replace(day=1)
