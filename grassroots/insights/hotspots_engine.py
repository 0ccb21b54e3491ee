"""Hotspot detection (未诉先办): plain case records in, hotspots out. No Django imports.

Four kinds of hotspot, each a recurring problem of ONE category (事项) with its evidence cases:

- ``building``: at least ``min_count`` cases in the same building within ``window_days``;
- ``compound``: at least ``min_count`` cases in the same compound (小区) within the window, spread over
  more than one building or with cases not tied to a building (otherwise the building hotspot says it);
- ``place``: at least ``min_count`` cases within ``radius_m`` metres of one of them (the centre is the case
  with the most neighbours; clusters are taken greedily, largest first, and their cases removed) within
  the window, not already all evidence of a building or compound hotspot;
- ``rising``: a category in a community whose count in the last ``period_days`` is at least
  ``rising_min_count``, at least ``rising_ratio`` times its baseline, and unlikely under a Poisson law with
  that baseline (upper tail P(X ≥ n) < ``rising_alpha``). The baseline is the larger of the previous period
  (the ``period_days`` before) and the same period one year earlier (the season), floored at
  ``baseline_floor`` so that a category never seen before needs several cases to count as rising.
  Nothing is rising while the cases given do not reach back over the whole previous period (the
  platform went live recently): an empty previous period would only mean "no data yet".

Every hotspot carries a stable ``signature`` (kind, category, subject) and its evidence case ids; a
caller can suppress hotspots whose evidence was already acted on (see ``new_evidence``).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

EARTH_RADIUS_M = 6_371_008.8

KIND_LABELS: Mapping[str, str] = {
    "building": "同一楼栋反复发生",
    "compound": "同一小区反复发生",
    "place": "同一地点反复发生",
    "rising": "类别数量上升",
}


@dataclass(frozen=True)
class CaseRecord:
    """One past case, as the engine needs it (WGS-84 coordinates; ``community_path`` of its grid's community)."""

    id: int
    category_id: int
    created_at: datetime
    lon: float | None = None
    lat: float | None = None
    building_id: int | None = None
    compound_id: int | None = None
    community_path: str = ""


@dataclass(frozen=True)
class Rules:
    window_days: int = 90
    min_count: int = 3
    radius_m: float = 100.0
    period_days: int = 30
    rising_min_count: int = 5
    rising_ratio: float = 1.5
    rising_alpha: float = 0.05
    baseline_floor: float = 1.0

    def problems(self) -> list[str]:
        """What is wrong with these rules, in Chinese (empty when they are usable)."""
        found = []
        if not 1 <= self.window_days <= 730:
            found.append("统计窗口应在1到730天之间。")
        if not 2 <= self.min_count <= 1000:
            found.append("最少件数应在2到1000之间。")
        if not 10 <= self.radius_m <= 2000:
            found.append("同一地点的半径应在10到2000米之间。")
        if not 7 <= self.period_days <= 183:
            found.append("上升类别的比较周期应在7到183天之间。")
        if self.rising_min_count < 2 or self.rising_ratio <= 1 or not 0 < self.rising_alpha < 1:
            found.append("上升类别的判定条件无效。")
        return found


@dataclass(frozen=True)
class Hotspot:
    kind: str  # building | compound | place | rising
    category_id: int
    subject: str  # building id, compound id, community path, or "" for a place
    evidence: tuple[int, ...]  # case ids, oldest first
    anchor: int  # the evidence case nearest the evidence's centre: where a proactive case is located
    first_at: datetime
    last_at: datetime
    lon: float | None = None
    lat: float | None = None
    # rising only: the counts compared and the test's p-value
    current: int = 0
    previous: int = 0
    last_year: int = 0
    baseline: float = 0.0
    p_value: float | None = None
    radius_m: float | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return len(self.evidence)

    @property
    def signature(self) -> str:
        return f"{self.kind}:{self.category_id}:{self.subject}"

    @property
    def key(self) -> str:
        """Signature plus evidence: the identity of this exact hotspot (for idempotent conversion)."""
        return f"{self.signature}:{','.join(str(i) for i in sorted(self.evidence))}"

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def poisson_upper_tail(n: int, mean: float) -> float:
    """P(X ≥ n) for X ~ Poisson(mean)."""
    if n <= 0:
        return 1.0
    if mean <= 0:
        return 0.0
    term = math.exp(-mean)
    below = term
    for k in range(1, n):
        term *= mean / k
        below += term
    return max(0.0, 1.0 - below)


def _located(cases: Iterable[CaseRecord]) -> list[CaseRecord]:
    return [c for c in cases if c.lon is not None and c.lat is not None]


def _anchor(cases: Sequence[CaseRecord]) -> tuple[int, float | None, float | None]:
    located = _located(cases)
    if not located:
        latest = max(cases, key=lambda c: (c.created_at, c.id))
        return latest.id, None, None
    lon = sum(c.lon for c in located if c.lon is not None) / len(located)
    lat = sum(c.lat for c in located if c.lat is not None) / len(located)
    best = min(located, key=lambda c: (distance_m(lon, lat, c.lon or 0.0, c.lat or 0.0), c.id))
    return best.id, lon, lat


def _hotspot(kind: str, category_id: int, subject: str, cases: Sequence[CaseRecord], **extra: object) -> Hotspot:
    ordered = sorted(cases, key=lambda c: (c.created_at, c.id))
    anchor, lon, lat = _anchor(ordered)
    return Hotspot(
        kind=kind,
        category_id=category_id,
        subject=subject,
        evidence=tuple(c.id for c in ordered),
        anchor=anchor,
        first_at=ordered[0].created_at,
        last_at=ordered[-1].created_at,
        lon=lon,
        lat=lat,
        **extra,  # type: ignore[arg-type]
    )


def _place_clusters(cases: list[CaseRecord], rules: Rules) -> list[list[CaseRecord]]:
    """Greedy clusters of one category: the case with most neighbours within the radius, then the rest."""
    located = _located(cases)
    if len(located) < rules.min_count:
        return []
    # Bucket into cells about one radius wide so each case looks only at the 3×3 cells around it.
    cell_lat = rules.radius_m / 111_000
    mean_lat = sum(c.lat or 0.0 for c in located) / len(located)
    cell_lon = cell_lat / max(math.cos(math.radians(mean_lat)), 0.01)
    cells: dict[tuple[int, int], list[CaseRecord]] = defaultdict(list)

    def cell(c: CaseRecord) -> tuple[int, int]:
        return math.floor((c.lon or 0.0) / cell_lon), math.floor((c.lat or 0.0) / cell_lat)

    for c in located:
        cells[cell(c)].append(c)
    neighbours: dict[int, set[int]] = {}
    by_id = {c.id: c for c in located}
    for c in located:
        x, y = cell(c)
        near = set()
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                for o in cells.get((x + dx, y + dy), ()):
                    if distance_m(c.lon or 0.0, c.lat or 0.0, o.lon or 0.0, o.lat or 0.0) <= rules.radius_m:
                        near.add(o.id)
        neighbours[c.id] = near  # includes the case itself
    taken: set[int] = set()
    clusters = []
    while True:
        best_id: int | None = None
        best: set[int] = set()
        for cid in sorted(neighbours):
            if cid in taken:
                continue
            free = neighbours[cid] - taken
            if len(free) > len(best):
                best_id, best = cid, free
        if best_id is None or len(best) < rules.min_count:
            break
        taken |= best
        clusters.append([by_id[i] for i in best])
    return clusters


def detect(cases: Iterable[CaseRecord], *, now: datetime, rules: Rules | None = None) -> list[Hotspot]:
    """All hotspots among ``cases`` as of ``now``, strongest first (more evidence, then more recent)."""
    rules = rules or Rules()
    every = list(cases)
    window_start = now - timedelta(days=rules.window_days)
    recent = [c for c in every if window_start <= c.created_at <= now]
    by_category: dict[int, list[CaseRecord]] = defaultdict(list)
    for c in recent:
        by_category[c.category_id].append(c)

    found: list[Hotspot] = []
    for category_id, group in sorted(by_category.items()):
        covered: list[frozenset[int]] = []
        buildings: dict[int, list[CaseRecord]] = defaultdict(list)
        compounds: dict[int, list[CaseRecord]] = defaultdict(list)
        for c in group:
            if c.building_id is not None:
                buildings[c.building_id].append(c)
            if c.compound_id is not None:
                compounds[c.compound_id].append(c)
        for building_id, rows in sorted(buildings.items()):
            if len(rows) >= rules.min_count:
                found.append(_hotspot("building", category_id, str(building_id), rows))
                covered.append(frozenset(c.id for c in rows))
        for compound_id, rows in sorted(compounds.items()):
            if len(rows) < rules.min_count:
                continue
            ids = frozenset(c.id for c in rows)
            if any(ids <= seen for seen in covered):
                continue  # all in one building: the building hotspot already says it
            found.append(_hotspot("compound", category_id, str(compound_id), rows))
            covered.append(ids)
        for rows in _place_clusters(group, rules):
            ids = frozenset(c.id for c in rows)
            if any(ids <= seen for seen in covered):
                continue
            found.append(_hotspot("place", category_id, "", rows, radius_m=rules.radius_m))

    found.extend(rising(every, now=now, rules=rules))
    return sorted(found, key=lambda h: (-h.count, -h.last_at.timestamp(), h.key))


def rising(cases: Iterable[CaseRecord], *, now: datetime, rules: Rules | None = None) -> list[Hotspot]:
    """Categories rising in a community against the previous period and the same season last year."""
    rules = rules or Rules()
    span = timedelta(days=rules.period_days)
    current_start, previous_start = now - span, now - 2 * span
    year_ago = now - timedelta(days=365)
    season_start = year_ago - span
    every = list(cases)
    if not every or min(c.created_at for c in every) > previous_start:
        return []  # the history does not reach back over the previous period: nothing to compare with
    current: dict[tuple[str, int], list[CaseRecord]] = defaultdict(list)
    previous: dict[tuple[str, int], int] = defaultdict(int)
    season: dict[tuple[str, int], int] = defaultdict(int)
    for c in every:
        if not c.community_path:
            continue
        key = (c.community_path, c.category_id)
        if current_start < c.created_at <= now:
            current[key].append(c)
        elif previous_start < c.created_at <= current_start:
            previous[key] += 1
        if season_start < c.created_at <= year_ago:
            season[key] += 1
    found = []
    for (path, category_id), rows in sorted(current.items()):
        n = len(rows)
        baseline = max(float(previous[(path, category_id)]), float(season[(path, category_id)]), rules.baseline_floor)
        if n < rules.rising_min_count or n < rules.rising_ratio * baseline:
            continue
        p = poisson_upper_tail(n, baseline)
        if p >= rules.rising_alpha:
            continue
        found.append(
            _hotspot(
                "rising",
                category_id,
                path,
                rows,
                current=n,
                previous=previous[(path, category_id)],
                last_year=season[(path, category_id)],
                baseline=baseline,
                p_value=p,
            )
        )
    return found


def category_key(category_id: int) -> str:
    return f"category:{category_id}"


def new_evidence(hotspot: Hotspot, decided: Mapping[str, frozenset[int]]) -> tuple[int, ...]:
    """The evidence not yet covered by earlier decisions on the same signature (kind, category, subject).

    Place hotspots have no fixed subject: their decisions are kept under ``place:<category>:`` and cover
    any place cluster of that category sharing those cases. A rising category also counts as covered
    the cases any decision of the same category already acted on (``category:<id>``): a building
    hotspot turned into a case is not raised a second time as "rising".
    """
    seen = decided.get(hotspot.signature, frozenset())
    if hotspot.kind == "rising":
        seen = seen | decided.get(category_key(hotspot.category_id), frozenset())
    return tuple(i for i in hotspot.evidence if i not in seen)


def still_open(hotspot: Hotspot, decided: Mapping[str, frozenset[int]], rules: Rules | None = None) -> bool:
    """Offered (again) only while no decision covers it, or when enough NEW cases recurred since."""
    rules = rules or Rules()
    fresh = new_evidence(hotspot, decided)
    if len(fresh) == len(hotspot.evidence):
        return True
    needed = rules.rising_min_count if hotspot.kind == "rising" else rules.min_count
    return len(fresh) >= needed
