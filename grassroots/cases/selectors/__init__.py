"""Reads for the holiday table and the duty lists.

``work_calendar()`` is what every deadline computation uses; ``duty_for()`` is what dispatch
asks. The duty lists are configuration (administrators see all of it); assignments a
scoped user may see are filtered by the area path like every other scoped row.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

import chinese_calendar
from django.db.models import Count, Max, Prefetch

from grassroots.accounts.models import Department
from grassroots.cases.models import CalendarDay, CalendarYear, Category, DutyAssignment
from grassroots.cases.services.deadlines import spec_from_fields
from grassroots.cases.workflow import SlaPolicy, WhistleKind, policy_for
from grassroots.cases.worktime import FALLBACK_NOTICE, OFFICIAL_YEARS, DaySource, WorkCalendar
from grassroots.core import clock
from grassroots.core.errors import DomainError, NotFound
from grassroots.core.scope import Scope
from grassroots.places.models import Area

# --- the working calendar -----------------------------------------------------------------

_lock = threading.Lock()
_cached: tuple[Any, WorkCalendar] | None = None


def _table_version() -> tuple[Any, ...]:
    days = CalendarDay.objects.aggregate(n=Count("id"), last=Max("updated_at"))
    years = CalendarYear.objects.aggregate(n=Count("id"), last=Max("updated_at"))
    return days["n"], days["last"], years["n"], years["last"]


def work_calendar() -> WorkCalendar:
    """The pure calendar built from the holiday table; rebuilt only when the table changed.

    Two aggregate queries per call check the version (count + latest change of each table),
    so another process's edit is seen on the next call without any signal.
    """
    global _cached
    version = _table_version()
    with _lock:
        if _cached is not None and _cached[0] == version:
            return _cached[1]
        overrides = dict(CalendarDay.objects.values_list("date", "is_workday"))
        entered = CalendarYear.objects.filter(complete=True).values_list("year", flat=True)
        calendar = WorkCalendar(overrides, entered_years=list(entered))
        _cached = (version, calendar)
        return calendar


HOLIDAY_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利纪念日",
}


class YearStatus:
    ENTERED = "entered"
    OFFICIAL = "official"
    FALLBACK = "fallback"


YEAR_STATUS_LABELS = {
    YearStatus.ENTERED: "已录入",
    YearStatus.OFFICIAL: "国务院安排（内置）",
    YearStatus.FALLBACK: "未完整录入",
}


@dataclass(frozen=True)
class YearRow:
    year: int
    status: str
    overrides: int
    entered_by: str
    entered_at: Any
    in_package: bool

    @property
    def status_label(self) -> str:
        return YEAR_STATUS_LABELS[self.status]

    @property
    def notice(self) -> str:
        return FALLBACK_NOTICE if self.status == YearStatus.FALLBACK else ""


def calendar_years(*, today: date | None = None) -> list[YearRow]:
    """The package's last two years, this year and the next, and every year anyone entered."""
    today = today or clock.today()
    marked = {row.year: row for row in CalendarYear.objects.all()}
    counts: dict[int, int] = {}
    for day in CalendarDay.objects.values_list("date", flat=True):
        counts[day.year] = counts.get(day.year, 0) + 1
    first = OFFICIAL_YEARS.stop - 2
    last = max(today.year + 1, OFFICIAL_YEARS.stop)
    years = set(range(first, last + 1)) | set(marked) | set(counts)
    rows = []
    for year in sorted(years):
        mark = marked.get(year)
        if mark is not None and mark.complete:
            status = YearStatus.ENTERED
        elif year in OFFICIAL_YEARS:
            status = YearStatus.OFFICIAL
        else:
            status = YearStatus.FALLBACK
        rows.append(
            YearRow(
                year=year,
                status=status,
                overrides=counts.get(year, 0),
                entered_by=mark.entered_by_label if mark else "",
                entered_at=mark.entered_at if mark else None,
                in_package=year in OFFICIAL_YEARS,
            )
        )
    return rows


def calendar_year_row(year: int) -> YearRow:
    for row in calendar_years():
        if row.year == year:
            return row
    mark = CalendarYear.objects.filter(year=year).first()
    status = YearStatus.OFFICIAL if year in OFFICIAL_YEARS else YearStatus.FALLBACK
    if mark and mark.complete:
        status = YearStatus.ENTERED
    return YearRow(year, status, 0, mark.entered_by_label if mark else "", mark.entered_at if mark else None, False)


@dataclass(frozen=True)
class DayRow:
    day: date
    is_workday: bool
    name: str
    note: str
    source: DaySource
    overridden: bool


def calendar_special_days(year: int) -> list[DayRow]:
    """The days of ``year`` that differ from Mon–Fri, plus every override, with where the answer comes from."""
    calendar = work_calendar()
    stored = {row.date: row for row in CalendarDay.objects.filter(date__year=year)}
    rows = []
    day = date(year, 1, 1)
    while day.year == year:
        info = calendar.day_info(day)
        row = stored.get(day)
        if row is not None or info.is_workday != (day.weekday() < 5):
            if row is not None:
                name, note = row.name, row.note
            elif day in chinese_calendar.holidays:
                name, note = HOLIDAY_NAMES.get(chinese_calendar.holidays[day], ""), ""
            elif day in chinese_calendar.workdays:
                name, note = f"调休上班（{HOLIDAY_NAMES.get(chinese_calendar.workdays[day], '')}）", ""
            else:
                name, note = "", ""
            rows.append(DayRow(day, info.is_workday, name, note, info.source, row is not None))
        day += timedelta(days=1)
    return rows


# --- duty lists ---------------------------------------------------------------------------


@dataclass
class CategoryNode:
    category: Category
    depth: int
    assignments: int
    children: list[CategoryNode]


def category_tree() -> list[CategoryNode]:
    """Every category (active or not) as a tree, in sort/code order; two queries."""
    categories = list(Category.objects.annotate(n_assignments=Count("assignments")).order_by("sort", "code"))
    nodes = {c.pk: CategoryNode(c, 0, c.n_assignments, []) for c in categories}
    roots: list[CategoryNode] = []
    for category in categories:
        node = nodes[category.pk]
        (nodes[category.parent_id].children if category.parent_id else roots).append(node)

    def set_depth(items: list[CategoryNode], depth: int) -> None:
        for item in items:
            item.depth = depth
            set_depth(item.children, depth + 1)

    set_depth(roots, 0)
    return roots


def flatten(nodes: list[CategoryNode]) -> list[CategoryNode]:
    result: list[CategoryNode] = []
    for node in nodes:
        result.append(node)
        result.extend(flatten(node.children))
    return result


def category_get(*, category_id: int) -> Category:
    category = Category.objects.select_related("parent").filter(pk=category_id).first()
    if category is None:
        raise NotFound()
    return category


def category_ancestors(category: Category) -> list[Category]:
    """``category``'s parents, nearest first (a few queries: the tree is two or three levels deep)."""
    result: list[Category] = []
    seen = {category.pk}
    current = category
    while current.parent_id is not None and current.parent_id not in seen:
        parent = Category.objects.get(pk=current.parent_id)
        result.append(parent)
        seen.add(parent.pk)
        current = parent
    return result


def assignment_list(*, scope: Scope, category: Category) -> list[DutyAssignment]:
    return list(
        DutyAssignment.objects.in_scope(scope)
        .filter(category=category)
        .select_related("area")
        .prefetch_related(Prefetch("departments", queryset=Department.objects.order_by("name")))
        .order_by("path")
    )


def assignment_get(*, scope: Scope, assignment_id: int) -> DutyAssignment:
    assignment = DutyAssignment.objects.select_related("area", "category").filter(pk=assignment_id).first()
    if assignment is None or not scope.covers_path(assignment.path):
        raise NotFound()
    return assignment


@dataclass(frozen=True)
class Duty:
    """What dispatch needs for one category in one area."""

    category: Category
    area: Area
    assignment: DutyAssignment | None  # None: nobody is assigned; the dispatcher chooses by hand
    departments: tuple[Department, ...]
    whistle_kind: WhistleKind
    policy: SlaPolicy


def _override(row: Any, prefix: str) -> Any:
    return spec_from_fields(getattr(row, f"{prefix}_minutes"), getattr(row, f"{prefix}_workdays"))


def duty_for(*, category: Category, area: Area) -> Duty:
    """Departments, whistle kind and SLA for ``category`` at ``area``.

    The assignment of the category itself wins over one of a parent category; among
    those, the most specific area up ``area``'s path wins (community beats district).
    The whistle kind is the assignment's, else the category's default; deadlines are the
    assignment's overrides, then (only when the category's own whistle kind applies) the
    category's, then the whistle kind's defaults.
    """
    chain = [category, *category_ancestors(category)]
    if any(not c.is_active for c in chain):
        raise DomainError(f"事项“{category.name}”已停用，不能派遣。", code="category_inactive", field="category")
    paths = [*area.ancestor_paths(), area.path]
    candidates = list(
        DutyAssignment.objects.filter(category__in=chain, path__in=paths).prefetch_related(
            Prefetch("departments", queryset=Department.objects.filter(is_active=True).order_by("name"))
        )
    )
    rank = {c.pk: i for i, c in enumerate(chain)}
    candidates.sort(key=lambda a: (rank[a.category_id], -len(a.path.split("."))))
    assignment = candidates[0] if candidates else None
    if assignment is not None and assignment.whistle_kind:
        kind = WhistleKind(assignment.whistle_kind)
        layers: list[Any] = [assignment]
    else:
        kind = WhistleKind(category.default_whistle_kind)
        layers = [row for row in (assignment, category) if row is not None]
    base = policy_for(kind)
    acknowledge = next((s for s in (_override(r, "acknowledge") for r in layers) if s), base.acknowledge)
    handle = next((s for s in (_override(r, "handle") for r in layers) if s), base.handle)
    departments = tuple(assignment.departments.all()) if assignment else ()
    return Duty(category, area, assignment, departments, kind, replace(base, acknowledge=acknowledge, handle=handle))


def active_departments() -> list[Department]:
    return list(Department.objects.filter(is_active=True).select_related("area").order_by("path", "name"))


from grassroots.cases.selectors.cases import (  # noqa: E402
    ACTING_ROLES,
    CasePage,
    acting_roles,
    caller_actions,
    case_assignments,
    case_get,
    case_list,
    case_queryset,
    case_timeline,
    duplicate_candidates,
    may_act,
    may_report,
    visible_q,
)

__all__ = [
    "ACTING_ROLES",
    "CasePage",
    "acting_roles",
    "caller_actions",
    "case_assignments",
    "case_get",
    "case_list",
    "case_queryset",
    "case_timeline",
    "duplicate_candidates",
    "may_act",
    "may_report",
    "visible_q",
]
