"""Writes to the holiday table: one day, a year's completeness, a whole year's schedule from a file.

Every write is audited in its own transaction; an import with any bad row saves nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db import transaction

from grassroots.audit.services import Actor, audit_record
from grassroots.cases.models import CalendarDay, CalendarYear
from grassroots.core import clock
from grassroots.core.errors import DomainError
from grassroots.registry.imports.readers import Table, cell_text, read_table

MIN_YEAR, MAX_YEAR = 2000, 2100
HOLIDAY_WORDS = {"放假", "休息", "假日", "节假日", "休", "假"}
WORKDAY_WORDS = {"上班", "调休上班", "工作日", "补班", "班"}
COLUMNS = {"date": "日期", "type": "类型", "name": "名称"}
_DATE_TEXT = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")


class CalendarImportError(DomainError):
    """The file or some rows are wrong; ``problems`` lists (row, message) and nothing was saved."""

    code = "calendar_import"

    def __init__(self, message: str, problems: list[tuple[int, str]] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


@dataclass
class CalendarImportResult:
    year: int
    saved: int
    removed: int
    holidays: int
    workdays: int
    problems: list[tuple[int, str]] = field(default_factory=list)


def _check_year(year: int) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise DomainError(f"年度必须在{MIN_YEAR}到{MAX_YEAR}之间。", field="year")


@transaction.atomic
def calendar_day_set(*, actor: Actor, day: date, is_workday: bool, name: str = "", note: str = "") -> CalendarDay:
    """Record that ``day`` is (not) a working day, whatever the package says."""
    _check_year(day.year)
    name, note = name.strip(), note.strip()
    if len(name) > 50 or len(note) > 200:
        raise DomainError("名称不超过50个字，备注不超过200个字。", field="name")
    row, created = CalendarDay.objects.update_or_create(
        date=day, defaults={"is_workday": is_workday, "name": name, "note": note}
    )
    audit_record(
        actor=actor,
        action="cases.calendar.day_set",
        object_type="calendar_day",
        object_id=day.isoformat(),
        detail={"is_workday": is_workday, "name": name, "note": note, "created": created},
    )
    return row


@transaction.atomic
def calendar_day_clear(*, actor: Actor, day: date) -> None:
    """Drop an override: the package (or the fallback) answers for ``day`` again."""
    deleted, _ = CalendarDay.objects.filter(date=day).delete()
    if not deleted:
        raise DomainError(f"{day.isoformat()} 没有录入的安排。", field="date")
    audit_record(actor=actor, action="cases.calendar.day_clear", object_type="calendar_day", object_id=day.isoformat())


@transaction.atomic
def calendar_year_mark(*, actor: Actor, year: int, complete: bool) -> CalendarYear:
    """Vouch (or stop vouching) that every day of ``year`` without an override is a plain Mon–Fri day."""
    _check_year(year)
    row, _ = CalendarYear.objects.select_for_update().get_or_create(year=year)
    row.complete = complete
    row.entered_by_id = actor.id
    row.entered_by_label = actor.label[:150]
    row.entered_at = clock.now()
    row.save()
    audit_record(
        actor=actor,
        action="cases.calendar.year_mark",
        object_type="calendar_year",
        object_id=year,
        detail={"complete": complete},
    )
    return row


def parse_date(value: object) -> date | None:
    """A date cell (Excel date) or text 2027-01-01 / 2027/1/1 / 2027年1月1日."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    match = _DATE_TEXT.match(cell_text(value))
    if match is None:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def _day_type(text: str) -> bool | None:
    if text in WORKDAY_WORDS:
        return True
    if text in HOLIDAY_WORDS:
        return False
    return None


def check_calendar_rows(table: Table, year: int) -> tuple[dict[date, tuple[bool, str]], list[tuple[int, str]]]:
    """Rows → {date: (is_workday, name)}, and (row number, Chinese problem) for every bad row."""
    missing = [title for title in (COLUMNS["date"], COLUMNS["type"]) if title not in table.headers]
    if missing:
        raise CalendarImportError(f"缺少列：{'、'.join(missing)}。表头应为：日期、类型（放假/上班）、名称。")
    days: dict[date, tuple[bool, str]] = {}
    first_row: dict[date, int] = {}
    problems: list[tuple[int, str]] = []
    for number, cells in table.rows:
        raw_date = cells.get(COLUMNS["date"])
        day = parse_date(raw_date)
        kind_text = cell_text(cells.get(COLUMNS["type"]))
        name = cell_text(cells.get(COLUMNS["name"]))
        if day is None:
            problems.append((number, f"日期“{cell_text(raw_date)}”无法识别，请写成 {year}-01-01 的格式。"))
            continue
        if day.year != year:
            problems.append((number, f"日期 {day.isoformat()} 不在 {year} 年内。"))
            continue
        is_workday = _day_type(kind_text)
        if is_workday is None:
            problems.append((number, f"类型“{kind_text}”无法识别，只能填“放假”或“上班”。"))
            continue
        if len(name) > 50:
            problems.append((number, "名称不能超过50个字。"))
            continue
        if day in days:
            problems.append((number, f"日期 {day.isoformat()} 与第{first_row[day]}行重复。"))
            continue
        days[day], first_row[day] = (is_workday, name), number
    if not days and not problems:
        problems.append((table.header_row, "文件里没有任何日期。"))
    return days, problems


@transaction.atomic
def calendar_import(
    *, actor: Actor, data: bytes, file_name: str, year: int, mark_complete: bool = True
) -> CalendarImportResult:
    """Replace ``year``'s overrides with the file's schedule; any bad row raises and saves nothing.

    The file is the whole official schedule of the year, so days of that year it does not
    list lose their override (an import is a replacement, never a merge with stale rows).
    """
    _check_year(year)
    table = read_table(data, file_name)
    days, problems = check_calendar_rows(table, year)
    if problems:
        raise CalendarImportError(f"有 {len(problems)} 行有问题，未导入任何数据。", problems)
    removed, _ = CalendarDay.objects.filter(date__year=year).exclude(date__in=list(days)).delete()
    for day, (is_workday, name) in sorted(days.items()):
        CalendarDay.objects.update_or_create(date=day, defaults={"is_workday": is_workday, "name": name, "note": ""})
    holidays = sum(1 for is_workday, _ in days.values() if not is_workday)
    result = CalendarImportResult(year, len(days), removed, holidays, len(days) - holidays)
    audit_record(
        actor=actor,
        action="cases.calendar.import",
        object_type="calendar_year",
        object_id=year,
        detail={"file": file_name, "saved": result.saved, "removed": removed, "complete": mark_complete},
    )
    if mark_complete:
        calendar_year_mark(actor=actor, year=year, complete=True)
    return result
