"""The case measures (三率 and friends) for an area or a department over a period.

Pure aggregation: every figure is a COUNT/SUM with a filter, computed in the database in a
fixed number of queries whatever the number of cases (no loop over cases in Python). The
definitions below are the single source of the words the page's help and docs/measures.md
show; tests/cases/test_measures.py checks each numerator and denominator by hand.

The case set of a period: cases *created* in ``[start, end)`` (Asia/Shanghai dates), at or
below the area's path, or (department view) cases sent to the department whose assignment
was not finally rejected. Merged (已合并) and cancelled (已作废) cases are counted as
received but left out of every other figure.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import (
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    FilteredRelation,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Sum,
)

from grassroots.accounts.models import Department
from grassroots.accounts.models import Role as AccountRole
from grassroots.accounts.scopes import can, scope_for
from grassroots.cases.models import AssignmentState, Case, CaseAssignment
from grassroots.cases.workflow import (
    DEFAULT_POLICIES,
    OPEN_STATES,
    TZ,
    Action,
    CaseState,
    ClockSpan,
    Rating,
    WhistleKind,
)
from grassroots.core.errors import Forbidden, NotFound
from grassroots.places.models import Area, AreaLevel

# --- definitions ---------------------------------------------------------------------------

_routine_ack = DEFAULT_POLICIES[WhistleKind.routine].acknowledge
assert isinstance(_routine_ack, ClockSpan)
# A case the community never whistled must have been accepted within the routine report-in time.
COMMUNITY_RESPONSE_WINDOW: timedelta = _routine_ack.span  # 24 hours
EXCLUDED_STATES = (CaseState.merged.value, CaseState.cancelled.value)
MEASURE_CAPABILITIES = ("cases.view", "cases.dispatch", "cases.handle", "cases.department")


@dataclass(frozen=True)
class Definition:
    key: str
    name: str
    numerator: str
    denominator: str
    note: str = ""


_HOURS = int(COMMUNITY_RESPONSE_WINDOW.total_seconds() // 3600)
DEFINITIONS: tuple[Definition, ...] = (
    Definition(
        "period",
        "统计口径",
        "",
        "",
        "统计期内（按北京时间日期，含起止两日）新上报的案件，位于所选区域及其下级区域；部门视图为派给该部门且未被最终退单的案件。"
        "已合并、已作废的案件计入受理量，但不计入其他任何指标的分子和分母。"
        "办结、评价等结果按查询时的当前状态计算：上月的案件本月办结，上月的解决率随之上升。",
    ),
    Definition(
        "response",
        "响应率",
        "按时响应的案件：第一次响应为社区受理自办、且在上报后"
        f"{_HOURS}小时内（常规哨默认报到时限）；或第一次响应为部门报到、且不晚于案件的报到时限。",
        "需要响应的案件：已响应的案件，加上未响应但响应时限已过的案件"
        f"（已派遣的按报到时限，未派遣的按上报后{_HOURS}小时）。",
        "部门视图和按部门统计只看本部门自己的报到时间与报到时限；时限未到且未响应的案件暂不计入。",
    ),
    Definition(
        "resolution",
        "解决率",
        "已结案（核实通过，当前状态为「已结案」）的案件；结案后因不满意被重启的不算。",
        "受理的案件（不含已合并、已作废）。",
    ),
    Definition(
        "satisfaction",
        "满意率",
        "最近一次评价为「满意」或「基本满意」的案件。",
        "有评价的案件。",
        "同时给出只计「满意」的严格满意率。",
    ),
    Definition(
        "on_time",
        "按时办结率",
        "结案时间不晚于办结时限的已结案案件。",
        "有办结时限（曾吹哨派遣）的已结案案件；社区自办的案件没有办结时限，不计入。",
    ),
    Definition(
        "closure",
        "办结用时",
        "",
        "",
        "已结案案件从上报到结案的小时数：中位数、平均数和第90百分位（最近秩法：按用时排序后的第⌈0.9n⌉个）。",
    ),
    Definition(
        "counts",
        "件数",
        "",
        "",
        "受理：统计期内新上报的全部案件；已结案：当前状态为「已结案」；办理中：尚未结案且未合并、未作废；"
        "超期：当前带有超期标记（错过报到或办结时限，由时限巡检标记）。",
    ),
)
DEFINITIONS_BY_KEY = {d.key: d for d in DEFINITIONS}


# --- results -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ratio:
    numerator: int
    denominator: int

    @property
    def rate(self) -> float | None:
        return None if self.denominator == 0 else self.numerator / self.denominator

    @property
    def label(self) -> str:
        rate = self.rate
        return "—" if rate is None else f"{rate * 100:.1f}%"


@dataclass(frozen=True)
class ClosureTimes:
    closed: int
    mean_hours: float | None
    median_hours: float | None = None
    p90_hours: float | None = None


@dataclass(frozen=True)
class Measures:
    received: int
    excluded: int  # merged + cancelled
    closed: int
    open: int
    overdue: int
    response: Ratio
    resolution: Ratio
    satisfaction: Ratio
    satisfaction_strict: Ratio
    on_time: Ratio
    closure: ClosureTimes

    @property
    def rates(self) -> list[tuple[str, Ratio]]:
        return [
            ("响应率", self.response),
            ("解决率", self.resolution),
            ("满意率", self.satisfaction),
            ("按时办结率", self.on_time),
        ]

    @property
    def worst(self) -> float | None:
        known = [r.rate for _, r in self.rates if r.rate is not None]
        return min(known) if known else None


@dataclass(frozen=True)
class Row:
    label: str
    measures: Measures
    area: Area | None = None
    department_id: int | None = None


@dataclass(frozen=True)
class Period:
    kind: str
    start: date
    end: date  # exclusive

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        return datetime.combine(self.start, time.min, tzinfo=TZ), datetime.combine(self.end, time.min, tzinfo=TZ)

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    @property
    def label(self) -> str:
        return f"{self.start:%Y-%m-%d} 至 {self.last_day:%Y-%m-%d}"


PERIOD_KINDS = {"month": "本月", "last_month": "上月", "year": "本年", "custom": "自定义"}


def period_for(kind: str, today: date, start: date | None = None, end: date | None = None) -> Period:
    """A named period around ``today``; ``custom`` takes inclusive dates ``start``..``end``."""
    first = today.replace(day=1)
    if kind == "last_month":
        previous = first - timedelta(days=1)
        return Period(kind, previous.replace(day=1), first)
    if kind == "year":
        return Period(kind, date(today.year, 1, 1), date(today.year + 1, 1, 1))
    if kind == "custom" and start is not None and end is not None and start <= end:
        return Period(kind, start, end + timedelta(days=1))
    days = calendar.monthrange(today.year, today.month)[1]
    return Period("month", first, first + timedelta(days=days))


@dataclass
class Report:
    measures: Measures
    children: list[Row] = field(default_factory=list)
    departments: list[Row] = field(default_factory=list)


# --- the queries ---------------------------------------------------------------------------

_OPEN = [s.value for s in OPEN_STATES]
_GOOD = [Rating.satisfied.value, Rating.basically_satisfied.value]


def _duration(prefix: str) -> ExpressionWrapper:
    return ExpressionWrapper(F(f"{prefix}closed_at") - F(f"{prefix}created_at"), output_field=DurationField())


def common_counts(p: str, within: Q | None = None) -> dict[str, Any]:
    """Aggregates shared by the case view (``p=""``) and the assignment view (``p="case__"``).

    ``within`` narrows every figure to a part of the rows (one child area), so one query
    answers the whole area and each of its children side by side.
    """
    every = within or Q()
    valid = every & ~Q(**{f"{p}state__in": EXCLUDED_STATES})
    closed = valid & Q(**{f"{p}state": CaseState.closed.value})
    rated = valid & ~Q(**{f"{p}rating": ""})
    with_deadline = closed & Q(**{f"{p}handle_by__isnull": False})
    return {
        "received": Count("pk", filter=within),
        "excluded": Count("pk", filter=every & Q(**{f"{p}state__in": EXCLUDED_STATES})),
        "closed": Count("pk", filter=closed),
        "open": Count("pk", filter=every & Q(**{f"{p}state__in": _OPEN})),
        "overdue": Count("pk", filter=valid & Q(**{f"{p}overdue": True})),
        "rated": Count("pk", filter=rated),
        "good": Count("pk", filter=rated & Q(**{f"{p}rating__in": _GOOD})),
        "satisfied": Count("pk", filter=rated & Q(**{f"{p}rating": Rating.satisfied.value})),
        "with_deadline": Count("pk", filter=with_deadline),
        "in_time": Count("pk", filter=with_deadline & Q(**{f"{p}closed_at__lte": F(f"{p}handle_by")})),
        "closure_sum": Sum(_duration(p), filter=closed),
    }


def with_first_responses(cases: QuerySet[Case]) -> QuerySet[Case]:
    """Each case with its first acceptance and first report-in: one LEFT JOIN on the response events,
    grouped by case (not two correlated subqueries per case, five times slower at 200,000 cases)."""
    return cases.annotate(
        responses=FilteredRelation(
            "events", condition=Q(events__action__in=[Action.accept.value, Action.acknowledge.value])
        ),
        first_accept=Min("responses__at", filter=Q(responses__action=Action.accept.value)),
        first_ack=Min("responses__at", filter=Q(responses__action=Action.acknowledge.value)),
    ).annotate(accept_delay=ExpressionWrapper(F("first_accept") - F("created_at"), output_field=DurationField()))


def case_response(now: datetime, within: Q | None = None) -> dict[str, Any]:
    """Response counts over cases annotated by ``with_first_responses``."""
    valid = (within or Q()) & ~Q(state__in=EXCLUDED_STATES)
    accepted, acknowledged = Q(first_accept__isnull=False), Q(first_ack__isnull=False)
    accepted_first = accepted & (Q(first_ack__isnull=True) | Q(first_accept__lte=F("first_ack")))
    acknowledged_first = acknowledged & (Q(first_accept__isnull=True) | Q(first_ack__lt=F("first_accept")))
    on_time = (accepted_first & Q(accept_delay__lte=COMMUNITY_RESPONSE_WINDOW)) | (
        acknowledged_first & Q(first_ack__lte=F("acknowledge_by"))
    )
    responded = accepted | acknowledged
    late_silence = Q(dispatched_at__isnull=False, acknowledge_by__lt=now) | Q(
        dispatched_at__isnull=True, created_at__lt=now - COMMUNITY_RESPONSE_WINDOW
    )
    return {
        "responded_on_time": Count("pk", filter=valid & on_time),
        "needed_response": Count("pk", filter=valid & (responded | late_silence)),
    }


def _department_response(now: datetime) -> dict[str, Any]:
    """Response counts over assignments: the department's own report-in against the case's deadline."""
    valid = ~Q(case__state__in=EXCLUDED_STATES)
    acknowledged = Q(acknowledged_at__isnull=False)
    return {
        "responded_on_time": Count(
            "pk", filter=valid & acknowledged & Q(acknowledged_at__lte=F("case__acknowledge_by"))
        ),
        "needed_response": Count("pk", filter=valid & (acknowledged | Q(case__acknowledge_by__lt=now))),
    }


def hours_of(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, timedelta):
        return value.total_seconds() / 3600
    return float(value) / 3_600_000_000  # microseconds, should a backend answer a bare number


def measures_of(row: dict[str, Any], closure: ClosureTimes | None = None) -> Measures:
    closed = row["closed"]
    mean = hours_of(row["closure_sum"])
    return Measures(
        received=row["received"],
        excluded=row["excluded"],
        closed=closed,
        open=row["open"],
        overdue=row["overdue"],
        response=Ratio(row["responded_on_time"], row["needed_response"]),
        resolution=Ratio(closed, row["received"] - row["excluded"]),
        satisfaction=Ratio(row["good"], row["rated"]),
        satisfaction_strict=Ratio(row["satisfied"], row["rated"]),
        on_time=Ratio(row["in_time"], row["with_deadline"]),
        closure=closure or ClosureTimes(closed, mean / closed if mean is not None and closed else None),
    )


COUNT_KEYS = (
    "received",
    "excluded",
    "closed",
    "open",
    "overdue",
    "rated",
    "good",
    "satisfied",
    "with_deadline",
    "in_time",
    "responded_on_time",
    "needed_response",
)
_FIGURES = (*COUNT_KEYS, "closure_sum")


def _closure_times(cases: QuerySet[Case], closed: int, mean: float | None) -> ClosureTimes:
    """Median and nearest-rank 90th percentile in SQL: ORDER BY the duration, OFFSET k, LIMIT 2 / 1."""
    if closed == 0:
        return ClosureTimes(0, None)
    durations = (
        cases.exclude(state__in=EXCLUDED_STATES)
        .filter(state=CaseState.closed.value)
        .annotate(duration=_duration(""))
        .order_by("duration", "pk")
        .values_list("duration", flat=True)
    )
    middle = [hours_of(d) for d in durations[(closed - 1) // 2 : closed // 2 + 1]]
    median = sum(h for h in middle if h is not None) / len(middle) if middle else None
    rank = max(1, -(-closed * 9 // 10))  # ceil(0.9 n)
    p90 = hours_of(durations[rank - 1 : rank].first())
    return ClosureTimes(closed, mean, median, p90)


def _cases(area_path: str, start: datetime, end: datetime) -> QuerySet[Case]:
    return Case.objects.filter(_under(area_path) if area_path else Q(), created_at__gte=start, created_at__lt=end)


def _assignments(cases: QuerySet[Case]) -> QuerySet[CaseAssignment]:
    return CaseAssignment.objects.filter(case__in=cases.values("pk")).exclude(state=AssignmentState.REJECTED)


def _sorted(rows: list[Row]) -> list[Row]:
    # The worst rate first; areas with nothing to rate last, in their natural order.
    return sorted(rows, key=lambda r: (r.measures.worst is None, r.measures.worst or 0.0))


CHILDREN_PER_QUERY = 40  # 13 columns each: well inside SQLite's 2,000-column limit


def _under(path: str) -> Q:
    return Q(path=path) | Q(path__path_startswith=path + ".")


def area_report(*, area: Area, start: datetime, end: datetime, now: datetime) -> Report:
    """The measures of ``area`` and everything below, one row per child area and per department.

    The area and its first children come from one aggregate query (conditional counts per child
    path); an area with more than ``CHILDREN_PER_QUERY`` children takes one more query per batch.
    """
    cases = _cases(area.path, start, end)
    responses = with_first_responses(cases)
    children = list(Area.objects.filter(parent=area).order_by("path"))
    batches = [children[i : i + CHILDREN_PER_QUERY] for i in range(0, len(children), CHILDREN_PER_QUERY)] or [[]]
    rows: dict[str, dict[str, Any]] = {}
    for n, batch in enumerate(batches):
        # Aliases are prefixed: a bare "overdue" would shadow the column in the next filters.
        figures = {} if n else {f"all_{k}": v for k, v in {**common_counts(""), **case_response(now)}.items()}
        for i, child in enumerate(batch):
            within = _under(child.path)
            figures.update(
                {f"c{i}_{k}": v for k, v in {**common_counts("", within), **case_response(now, within)}.items()}
            )
        answer = responses.aggregate(**figures)
        if not n:
            rows[""] = {k: answer[f"all_{k}"] for k in _FIGURES}
        for i, child in enumerate(batch):
            rows[child.path] = {k: answer[f"c{i}_{k}"] for k in _FIGURES}
    summary = measures_of(rows[""])
    summary = measures_of(rows[""], _closure_times(cases, summary.closed, summary.closure.mean_hours))
    child_rows = [Row(child.name, measures_of(rows[child.path]), area=child) for child in children]
    return Report(summary, _sorted(child_rows), department_rows(cases=cases, now=now))


def department_rows(*, cases: QuerySet[Case], now: datetime) -> list[Row]:
    grouped = (
        _assignments(cases)
        .order_by()
        .values("department_id")
        .annotate(**common_counts("case__"), **_department_response(now))
    )
    by_id = {row["department_id"]: row for row in grouped}
    names = dict(Department.objects.filter(pk__in=by_id).values_list("pk", "name"))
    rows = [Row(names.get(pk, str(pk)), measures_of(row), department_id=pk) for pk, row in by_id.items()]
    return _sorted(sorted(rows, key=lambda r: r.label))


def department_report(*, department: Department, start: datetime, end: datetime, now: datetime) -> Report:
    """The figures of the cases sent to ``department`` (not finally rejected) in the period."""
    assignments = _assignments(_cases("", start, end)).filter(department=department)
    row = assignments.aggregate(**common_counts("case__"), **_department_response(now))
    summary = measures_of(row)
    cases = Case.objects.filter(Exists(assignments.filter(case_id=OuterRef("pk"))))
    closure = _closure_times(cases, summary.closed, summary.closure.mean_hours)
    return Report(measures_of(row, closure))


# --- who may see what ----------------------------------------------------------------------


@dataclass(frozen=True)
class MeasuresTarget:
    area: Area | None = None
    department: Department | None = None
    choices: list[Area] = field(default_factory=list)  # areas the user may pick (no grids)


def measures_target(*, user: Any, area_id: int | None) -> MeasuresTarget:
    """The area (or department) ``user`` asks about; anything out of reach is ``NotFound``."""
    if not any(can(user, capability) for capability in MEASURE_CAPABILITIES):
        raise Forbidden("您没有查看案件指标的权限。")
    if user.role == AccountRole.DEPARTMENT_OFFICER:
        scope = scope_for(user, "cases.department")
        if scope.department_id is None or area_id is not None:
            raise NotFound()
        return MeasuresTarget(department=Department.objects.get(pk=scope.department_id))
    path = next(
        (p for c in MEASURE_CAPABILITIES[:3] if (p := scope_for(user, c).area_path) is not None),
        None,
    )
    if path is None:
        raise NotFound()
    in_scope = Area.objects.filter(Q() if path == "" else Q(path=path) | Q(path__path_startswith=path + "."))
    if area_id is not None:
        area = in_scope.filter(pk=area_id).first()
    elif path:
        area = in_scope.filter(path=path).first()
    else:
        area = in_scope.order_by("depth", "path").first()
    if area is None:
        raise NotFound()
    choices = list(in_scope.exclude(level=AreaLevel.GRID).order_by("path")[:500])
    return MeasuresTarget(area=area, choices=choices)
