"""Data-quality figures of the registry, live, from a fixed number of grouped SQL aggregates.

Every figure is a sum over *path groups*: persons grouped by their path (a grid, or the
importer's area when no dwelling was found), the records that made them grouped by the same
path, and each source's rows grouped by the row's own path (the dwelling it matched, else the
importer's area). A group is added to every area whose path is a
prefix of it, so an area's figures, each of its grids' and the nightly snapshots' (services.py)
come from the same few queries whatever the number of grids or persons: no person is loaded.

``DEFINITIONS`` is the one text of what each figure means (口径): the page shows it and
``docs/quality.md`` repeats it word for word (tests/registry/test_quality.py checks).
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import BooleanField, Case, Count, F, Func, IntegerField, Max, Q, QuerySet, Sum, Value, When

from grassroots.core import clock
from grassroots.core.errors import NotFound
from grassroots.core.scope import Scope
from grassroots.places.models import Area, AreaLevel
from grassroots.places.selectors import area_asked
from grassroots.registry.models import (
    AddressChoice,
    AddressChoiceStatus,
    PairDecision,
    Person,
    QualitySnapshot,
    RecordPair,
    RecordStatus,
    Separation,
    Source,
    SourceRecord,
)

CAPABILITY = "registry.quality"
TREND_DAYS = 365
CACHE_SECONDS = 300
LARGE_CACHE_SECONDS = 6 * 3600
LARGE_LEVELS = (AreaLevel.DISTRICT, AreaLevel.CITY)
MAX_GRID_ROWS = 300  # a district's page lists its weakest grids, not thousands of rows

# A person's key fields (the linkage engine's KEY_FIELDS idea, on the stored person): what
# "has it" means for each, as a filter on Person columns (no join, no decryption).
PERSON_FIELDS: tuple[tuple[str, str, Q], ...] = (
    ("name", "姓名", ~Q(name="")),
    ("id_number", "身份证号", ~Q(id_number_hash="")),
    ("sex", "性别", ~Q(sex="")),
    ("birth_date", "出生日期", Q(birth_date__isnull=False)),
    ("phone", "手机号", ~Q(phone_hash="")),
    ("dwelling", "现住房屋", Q(dwelling__isnull=False)),
    ("household", "所属户", Q(household__isnull=False)),
    ("ethnicity", "民族", ~Q(ethnicity="")),
)
PERSON_FIELD_KEYS = tuple(k for k, _, _ in PERSON_FIELDS)
PERSON_FIELD_LABELS = {k: label for k, label, _ in PERSON_FIELDS}

# The key fields a spreadsheet row may give (SourceRecord.filled; the import pipeline's FILLED_FIELDS).
RECORD_FIELDS: tuple[tuple[str, str], ...] = (
    ("name", "姓名"),
    ("id_number", "身份证号"),
    ("sex", "性别"),
    ("birth_date", "出生日期"),
    ("phone", "手机号"),
    ("ethnicity", "民族"),
    ("relation", "与户主关系"),
    ("registered_address", "户籍地址"),
    ("actual_address", "现住地址"),
)
RECORD_FIELD_KEYS = tuple(k for k, _ in RECORD_FIELDS)
RECORD_FIELD_LABELS = dict(RECORD_FIELDS)

COUNTED = (RecordStatus.ACCEPTED, RecordStatus.LINKED)  # the rows that made persons

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Definition:
    key: str
    name: str
    text: str


DEFINITIONS: tuple[Definition, ...] = (
    Definition(
        "records",
        "来源记录",
        "各部门导入的人员记录中，已接收（身份证号有效）或经比对关联到某人的行数，按所属人员的现住区域计入；"
        "待核实、已拒收的行不计入。",
    ),
    Definition(
        "dedup_rate",
        "去重率",
        "1 − 有来源记录的人数 ÷ 来源记录数，即多份记录合并为同一人的比例（南京口径，如去重率25.7%）。"
        "同一人在多个部门、多次导入中出现只算一人。",
    ),
    Definition(
        "completeness",
        "人员信息完整度",
        "每人8项关键信息（姓名、身份证号、性别、出生日期、手机号、现住房屋、所属户、民族）中已登记的项数所占比例，"
        "对所选区域内全部实有人口取平均；各项登记率为已登记该项的人数所占比例。",
    ),
    Definition(
        "source_completeness",
        "来源完整度",
        "某来源每行给出的关键字段（姓名、身份证号、性别、出生日期、手机号、民族、与户主关系、户籍地址、现住地址，共9项）"
        "所占比例的平均，含待核实、已拒收的行；未记录字段清单的早期导入行不计入。各行按其匹配到的房屋所在网格计入区域，"
        "未匹配到房屋的按导入时的区域计入。",
    ),
    Definition("held", "待核实记录", "仅身份证号校验未通过、等待记录比对或人工核实的行数。"),
    Definition(
        "pending",
        "待核对",
        "记录比对把握不足、等待人工判断是否同一人的记录对数；未能匹配到房屋、等待人工指定的地址数。",
    ),
    Definition(
        "separation",
        "人户分离",
        "按人员登记的人户分离情况计数：人在户不在＝在本网格居住、户籍在别处；户在人不在＝登记在本网格、实际在外居住。",
    ),
    Definition(
        "trend",
        "趋势",
        "每天为每个市、区、街道、社区保存一份快照（定时任务），图中为近365天；今天尚无快照时，最后一点为当前实时数据。",
    ),
)


# --- SQL helpers --------------------------------------------------------------------------------


class JSONArrayLength(Func):
    """Length of a JSON list column (0 for anything that is not a list)."""

    function = "JSON_ARRAY_LENGTH"
    output_field = IntegerField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, template="COALESCE(JSON_ARRAY_LENGTH(%(expressions)s), 0)", **extra)

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        template = (
            "(CASE WHEN JSONB_TYPEOF(%(expressions)s) = 'array' THEN JSONB_ARRAY_LENGTH(%(expressions)s) ELSE 0 END)"
        )
        return self.as_sql(compiler, connection, template=template, **extra)


class JSONListHas(Func):
    """True when a JSON list column holds ``item`` (a plain string)."""

    output_field = BooleanField()

    def __init__(self, field: str, item: str) -> None:
        super().__init__(F(field))
        self.item = item

    def as_sql(  # type: ignore[override]  # takes no function/template: the SQL is fixed
        self, compiler: Any, connection: Any, **extra: Any
    ) -> Any:
        # SQLite keeps JSON as text: the quoted item appears in it exactly when the list holds it.
        sql, params = compiler.compile(self.get_source_expressions()[0])
        return f"(INSTR({sql}, %s) > 0)", [*params, json.dumps(self.item)]

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        sql, params = compiler.compile(self.get_source_expressions()[0])
        return f"({sql} @> %s::jsonb)", [*params, json.dumps([self.item])]


def _prefixes(path: str) -> Iterator[str]:
    """The path and every ancestor path: "a.b.c" → "a", "a.b", "a.b.c"."""
    parts = path.split(".")
    for i in range(1, len(parts) + 1):
        yield ".".join(parts[:i])


# --- figures ------------------------------------------------------------------------------------


@dataclass
class Figures:
    """Additive counts of one path group or one area; the rates are derived."""

    persons: int = 0
    fields: Counter[str] = field(default_factory=Counter)
    lives_here: int = 0  # 人在户不在
    registered_here: int = 0  # 户在人不在
    records: int = 0  # accepted + linked records of the persons here
    linked_persons: int = 0  # persons here with at least one such record
    held: int = 0
    pending_pairs: int = 0
    pending_addresses: int = 0

    def add(self, other: Figures) -> None:
        self.persons += other.persons
        self.fields.update(other.fields)
        self.lives_here += other.lives_here
        self.registered_here += other.registered_here
        self.records += other.records
        self.linked_persons += other.linked_persons
        self.held += other.held
        self.pending_pairs += other.pending_pairs
        self.pending_addresses += other.pending_addresses

    @property
    def dedup_rate(self) -> float | None:
        return 1 - self.linked_persons / self.records if self.records else None

    @property
    def completeness(self) -> float | None:
        if not self.persons:
            return None
        return sum(self.fields[k] for k in PERSON_FIELD_KEYS) / (len(PERSON_FIELD_KEYS) * self.persons)

    @property
    def by_field(self) -> dict[str, float]:
        if not self.persons:
            return {}
        return {k: self.fields[k] / self.persons for k in PERSON_FIELD_KEYS}


@dataclass
class SourceFigures:
    """One source's rows in one area."""

    by_status: Counter[str] = field(default_factory=Counter)
    filled_rows: int = 0  # rows that carry their list of filled fields
    filled_total: int = 0  # sum of the lists' lengths
    fields: Counter[str] = field(default_factory=Counter)
    last: datetime | None = None

    def add(self, other: SourceFigures) -> None:
        self.by_status.update(other.by_status)
        self.filled_rows += other.filled_rows
        self.filled_total += other.filled_total
        self.fields.update(other.fields)
        if other.last is not None and (self.last is None or other.last > self.last):
            self.last = other.last

    @property
    def rows(self) -> int:
        return sum(self.by_status.values())

    @property
    def records(self) -> int:
        return sum(self.by_status[s] for s in COUNTED)

    @property
    def completeness(self) -> float | None:
        return self.filled_total / (len(RECORD_FIELD_KEYS) * self.filled_rows) if self.filled_rows else None

    @property
    def by_field(self) -> dict[str, float]:
        if not self.filled_rows:
            return {}
        return {k: self.fields[k] / self.filled_rows for k in RECORD_FIELD_KEYS}


@dataclass
class PathGroups:
    """The grouped query results: per path, and per (path, source)."""

    figures: dict[str, Figures] = field(default_factory=dict)
    sources: dict[tuple[str, int], SourceFigures] = field(default_factory=dict)

    def at(self, path: str) -> Figures:
        return self.figures.setdefault(path, Figures())


def _in(inside: Scope, name: str) -> Q:
    return inside.path_q(name)


def _person_groups(inside: Scope, groups: PathGroups) -> None:
    counts: dict[str, Any] = {f"f_{k}": Count("pk", filter=q) for k, _, q in PERSON_FIELDS}
    rows = (
        Person.objects.filter(_in(inside, "path"))
        .order_by()
        .values("path")
        .annotate(
            n=Count("pk"),
            here=Count("pk", filter=Q(separation=Separation.LIVES_HERE_REGISTERED_ELSEWHERE)),
            away=Count("pk", filter=Q(separation=Separation.REGISTERED_HERE_LIVES_ELSEWHERE)),
            **counts,
        )
    )
    for row in rows:
        fig = groups.at(row["path"])
        fig.persons += row["n"]
        fig.lives_here += row["here"]
        fig.registered_here += row["away"]
        fig.fields.update({k: row[f"f_{k}"] for k in PERSON_FIELD_KEYS})


def _record_groups(inside: Scope, groups: PathGroups) -> None:
    # Grouped by the person's path, so "distinct persons" adds up across groups (one path a person).
    rows = (
        SourceRecord.objects.filter(status__in=COUNTED, person__isnull=False)
        .filter(_in(inside, "person__path"))
        .order_by()
        .values("person__path")
        .annotate(n=Count("pk"), p=Count("person_id", distinct=True))
    )
    for row in rows:
        fig = groups.at(row["person__path"])
        fig.records += row["n"]
        fig.linked_persons += row["p"]


def _source_groups(inside: Scope, groups: PathGroups) -> None:
    # By the record's own path (the dwelling it matched, else the importer's area): no join, so it
    # stays one scan of the records; the per-field counts test list membership, not text.
    has: dict[str, Any] = {f"has_{k}": JSONListHas("filled", k) for k in RECORD_FIELD_KEYS}
    counts: dict[str, Any] = {f"r_{k}": Count("pk", filter=Q(**{f"has_{k}": True})) for k in RECORD_FIELD_KEYS}
    rows = (
        SourceRecord.objects.filter(_in(inside, "path"))
        .annotate(nfilled=JSONArrayLength("filled"), **has)
        .order_by()
        .values("path", "source_id", "status")
        .annotate(
            n=Count("pk"),
            filled_rows=Count("pk", filter=Q(nfilled__gt=0)),
            filled_total=Sum("nfilled"),
            last=Max("created_at"),
            **counts,
        )
    )
    for row in rows:
        src = groups.sources.setdefault((row["path"], row["source_id"]), SourceFigures())
        src.by_status[row["status"]] += row["n"]
        src.filled_rows += row["filled_rows"]
        src.filled_total += row["filled_total"] or 0
        src.fields.update({k: row[f"r_{k}"] for k in RECORD_FIELD_KEYS})
        if row["last"] is not None and (src.last is None or row["last"] > src.last):
            src.last = row["last"]
        if row["status"] == RecordStatus.HELD:
            groups.at(row["path"]).held += row["n"]


def _pending_groups(inside: Scope, groups: PathGroups) -> None:
    pairs = (
        RecordPair.objects.filter(_in(inside, "path"), decision=PairDecision.PENDING)
        .order_by()
        .values("path")
        .annotate(n=Count("pk"))
    )
    for row in pairs:
        groups.at(row["path"]).pending_pairs += row["n"]
    addresses = (
        AddressChoice.objects.filter(_in(inside, "path"), status=AddressChoiceStatus.PENDING)
        .order_by()
        .values("path")
        .annotate(n=Count("pk"))
    )
    for row in addresses:
        groups.at(row["path"]).pending_addresses += row["n"]


def path_groups(inside: Scope) -> PathGroups:
    """Every figure at or below ``inside``, grouped by path: five grouped queries."""
    groups = PathGroups()
    _person_groups(inside, groups)
    _record_groups(inside, groups)
    _source_groups(inside, groups)
    _pending_groups(inside, groups)
    return groups


def rollup(groups: PathGroups, targets: Iterable[str]) -> dict[str, tuple[Figures, dict[int, SourceFigures]]]:
    """Each target path's totals: the sum of the groups at or below it (a path prefix)."""
    out: dict[str, tuple[Figures, dict[int, SourceFigures]]] = {t: (Figures(), {}) for t in targets}
    for path, fig in groups.figures.items():
        for prefix in _prefixes(path):
            if prefix in out:
                out[prefix][0].add(fig)
    for (path, source_id), src in groups.sources.items():
        for prefix in _prefixes(path):
            if prefix in out:
                out[prefix][1].setdefault(source_id, SourceFigures()).add(src)
    return out


# --- the page -----------------------------------------------------------------------------------


def quality_area(*, scope: Scope, area_id: int | None) -> Area:
    """The area asked about (default: the top of the scope). Grids and areas outside: ``NotFound``."""
    area = area_asked(scope=scope, area_id=area_id)
    if area.level == AreaLevel.GRID:
        raise NotFound()
    return area


@dataclass(frozen=True)
class SourceRow:
    source: Source
    figures: SourceFigures

    @property
    def weakest(self) -> list[tuple[str, float]]:
        """The three fields the source gives least often (label, share)."""
        shares = sorted(self.figures.by_field.items(), key=lambda kv: (kv[1], RECORD_FIELD_KEYS.index(kv[0])))
        return [(RECORD_FIELD_LABELS[k], v) for k, v in shares[:3] if v < 1]


@dataclass(frozen=True)
class AreaRow:
    area: Area
    community: Area | None
    figures: Figures


@dataclass
class AreaQuality:
    area: Area
    total: Figures
    sources: list[SourceRow]
    children: list[AreaRow]  # the areas one level down (none below a community: see grids)
    grids: list[AreaRow]
    grid_count: int
    distribution: list[tuple[int, int]]  # (key fields a person has, persons)
    computed_at: datetime = field(default_factory=lambda: clock.now())

    @property
    def varying_fields(self) -> list[tuple[str, str]]:
        """The person fields not complete everywhere: the grid table shows only these."""
        shares = self.total.by_field
        return [(k, label) for k, label, _ in PERSON_FIELDS if shares.get(k, 1.0) < 1.0]


def _distribution(inside: Scope) -> list[tuple[int, int]]:
    """How many persons have 8, 7, 6… key fields: one grouped query on a per-person score."""
    score = sum(
        (Case(When(q, then=Value(1)), default=Value(0), output_field=IntegerField()) for _, _, q in PERSON_FIELDS),
        start=Value(0),
    )
    rows = (
        Person.objects.filter(_in(inside, "path"))
        .annotate(score=score)
        .order_by()
        .values("score")
        .annotate(n=Count("pk"))
        .values_list("score", "n")
    )
    return sorted(((int(s), int(n)) for s, n in rows), reverse=True)


def area_quality(*, scope: Scope, area: Area) -> AreaQuality:
    """The live figures of ``area`` and of each source, child area and grid in it (fixed query count)."""
    if not scope.covers_path(area.path) or area.level == AreaLevel.GRID:
        raise NotFound()
    inside = Scope(area_path=area.path)
    groups = path_groups(inside)
    below = list(
        Area.objects.active()
        .filter(inside.path_q("path"), level__in=[AreaLevel.COMMUNITY, AreaLevel.GRID])
        .exclude(pk=area.pk)
        .order_by("path")
    )
    children = [a for a in Area.objects.filter(parent=area).order_by("code") if a.level != AreaLevel.GRID]
    communities = {a.path: a for a in below if a.level == AreaLevel.COMMUNITY}
    if area.level == AreaLevel.COMMUNITY:
        communities[area.path] = area
    grids = [a for a in below if a.level == AreaLevel.GRID]
    totals = rollup(groups, [area.path, *(c.path for c in children), *(g.path for g in grids)])
    total, by_source = totals[area.path]
    sources = {s.pk: s for s in Source.objects.filter(pk__in=list(by_source))}
    source_rows = sorted(
        (SourceRow(sources[pk], fig) for pk, fig in by_source.items() if pk in sources),
        key=lambda r: (-r.figures.rows, r.source.code),
    )

    def community_of(a: Area) -> Area | None:
        return next((communities[p] for p in _prefixes(a.path) if p in communities), None)

    grid_rows = [AreaRow(g, community_of(g), totals[g.path][0]) for g in grids]
    if len(grid_rows) > MAX_GRID_ROWS:
        # Weakest first, so the long list a district would get shows where to act.
        grid_rows.sort(key=lambda r: (r.figures.completeness is None, r.figures.completeness or 0.0, r.area.path))
        grid_rows = sorted(grid_rows[:MAX_GRID_ROWS], key=lambda r: r.area.path)
    return AreaQuality(
        area=area,
        total=total,
        sources=source_rows,
        children=[AreaRow(c, None, totals[c.path][0]) for c in children],
        grids=grid_rows,
        grid_count=len(grids),
        distribution=_distribution(inside),
    )


def cache_seconds(area: Area | None = None) -> int:
    """How long an area's figures are kept: ``REGISTRY_QUALITY_CACHE_SECONDS`` (default 300), or for
    a district or a city ``REGISTRY_QUALITY_LARGE_CACHE_SECONDS`` (default 6 hours): a million
    persons cost about 16 s of full scans, and the nightly snapshot warms them (``quality_warm``)."""
    seconds = int(getattr(settings, "REGISTRY_QUALITY_CACHE_SECONDS", CACHE_SECONDS))
    if area is not None and area.level in LARGE_LEVELS and seconds > 0:
        return int(getattr(settings, "REGISTRY_QUALITY_LARGE_CACHE_SECONDS", LARGE_CACHE_SECONDS))
    return seconds


def _cache_key(area: Area) -> str:
    return f"registry.quality:{area.path}"


def quality_warm(levels: Iterable[str] = LARGE_LEVELS) -> list[Area]:
    """Compute and keep the figures of every live area of ``levels`` (the nightly job's second half),
    so the first leader to open a district's page in the morning does not wait for the scans."""
    warmed = []
    for area in Area.objects.active().filter(level__in=list(levels)).order_by("path"):
        seconds = cache_seconds(area)
        if seconds <= 0:
            continue
        figures = area_quality(scope=Scope.everything(), area=area)
        try:
            cache.set(_cache_key(area), figures, seconds)
        except Exception:  # a cache that is down: the pages recount as before
            logger.warning("quality cache unavailable; %s not warmed", area.path, exc_info=True)
            continue
        warmed.append(area)
    return warmed


def area_quality_cached(*, scope: Scope, area: Area) -> AreaQuality:
    """``area_quality`` kept for ``REGISTRY_QUALITY_CACHE_SECONDS`` (default 300) per area.

    A district of a million persons costs several seconds of full scans; the figures are the same
    for every viewer of the area (aggregates only), so the scope is checked first and the result
    is shared. 0 turns the cache off.
    """
    if not scope.covers_path(area.path) or area.level == AreaLevel.GRID:
        raise NotFound()
    seconds = cache_seconds(area)
    if seconds <= 0:
        return area_quality(scope=scope, area=area)
    key = _cache_key(area)
    try:
        cached = cache.get(key)
    except Exception:  # a shared cache that is down costs a recount, not the page
        logger.warning("quality cache unavailable for %s; computing live", area.path, exc_info=True)
        return area_quality(scope=scope, area=area)
    if isinstance(cached, AreaQuality) and cached.area.pk == area.pk:
        return cached
    result = area_quality(scope=scope, area=area)
    try:
        cache.set(key, result, seconds)
    except Exception:
        logger.warning("quality cache unavailable for %s; figures not kept", area.path, exc_info=True)
    return result


# --- the trend ----------------------------------------------------------------------------------


def _pct(value: float | None) -> float | None:
    return None if value is None else round(100 * value, 1)


def quality_trend(*, scope: Scope, area: Area, today: date, live: Figures | None = None) -> list[dict[str, Any]]:
    """The area's snapshots of the last ``TREND_DAYS`` days (percentages), oldest first; ``live``
    is appended as today's point when there is no snapshot for today yet."""
    if not scope.covers_path(area.path):
        raise NotFound()
    snapshots: QuerySet[QualitySnapshot] = QualitySnapshot.objects.filter(
        area=area, day__gt=today - timedelta(days=TREND_DAYS), day__lte=today
    ).order_by("day")
    points = [
        {
            "day": s.day.isoformat(),
            "dedup_rate": _pct(s.dedup_rate),
            "completeness": _pct(s.completeness),
            "records": s.records,
            "persons": s.persons,
            "live": False,
        }
        for s in snapshots
    ]
    if live is not None and (not points or points[-1]["day"] != today.isoformat()):
        points.append(
            {
                "day": today.isoformat(),
                "dedup_rate": _pct(live.dedup_rate),
                "completeness": _pct(live.completeness),
                "records": live.records,
                "persons": live.persons,
                "live": True,
            }
        )
    return points
