"""Working days and deadlines over real holidays, adjusted weekends (调休) and years nobody has entered."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import chinese_calendar
import pytest
from hypothesis import given
from hypothesis import strategies as st

from grassroots.cases.workflow import (
    DEFAULT_POLICIES,
    TZ,
    ClockSpan,
    EscalationLevel,
    SlaPolicy,
    SlaStatus,
    WhistleKind,
    WorkingDays,
    case_deadlines,
    deadline,
    escalate,
    escalation_level,
    is_provisional,
    policy_for,
    reminder_at,
    status,
)
from grassroots.cases.worktime import FALLBACK_NOTICE, OFFICIAL_YEARS, DaySource, WorkCalendar

CAL = WorkCalendar()


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=TZ)


def end_of(day: date) -> datetime:
    return datetime.combine(day, time.max, tzinfo=TZ)


def adjusted_workdays(year: int, month: int) -> list[date]:
    """Weekend days the package says are working days (调休), looked up rather than typed in."""
    first = date(year, month, 1)
    days = [first + timedelta(days=i) for i in range(31) if (first + timedelta(days=i)).month == month]
    return [d for d in days if d.weekday() >= 5 and chinese_calendar.is_workday(d)]


# --- the calendar ---------------------------------------------------------------------------


def test_known_2024_national_day_and_its_adjusted_saturday() -> None:
    # Checked against the package itself, so a wrong memory of the schedule cannot pass silently.
    assert chinese_calendar.is_holiday(date(2024, 10, 1)) and chinese_calendar.is_workday(date(2024, 10, 12))
    assert date(2024, 10, 12).weekday() == 5
    assert not CAL.is_workday(date(2024, 10, 1))
    assert CAL.is_workday(date(2024, 10, 12))
    assert CAL.day_info(date(2024, 10, 12)).source is DaySource.official


def test_every_day_the_package_knows_agrees_with_it() -> None:
    day = date(OFFICIAL_YEARS.start, 1, 1)
    while day.year < OFFICIAL_YEARS.stop:
        assert CAL.is_workday(day) == chinese_calendar.is_workday(day), day
        assert CAL.day_info(day).source is DaySource.official
        day += timedelta(days=1)


def test_2026_national_day_week_follows_the_package() -> None:
    for offset in range(-14, 21):
        day = date(2026, 10, 1) + timedelta(days=offset)
        assert CAL.is_workday(day) == chinese_calendar.is_workday(day), day
    assert not CAL.is_workday(date(2026, 10, 1))
    assert adjusted_workdays(2026, 9) + adjusted_workdays(2026, 10), "2026 National Day has adjusted weekends"
    for day in adjusted_workdays(2026, 9) + adjusted_workdays(2026, 10):
        assert CAL.is_workday(day)


def test_a_year_nobody_entered_falls_back_to_monday_to_friday_and_says_so() -> None:
    assert 2027 not in OFFICIAL_YEARS
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_holiday(date(2027, 1, 1))
    new_year = date(2027, 1, 1)  # a Friday: the fallback cannot know it is a holiday
    assert CAL.is_workday(new_year) and CAL.is_fallback(new_year)
    assert not CAL.is_workday(date(2027, 1, 2))
    assert CAL.day_info(new_year).source.label == "按周一至周五推算"
    assert FALLBACK_NOTICE == "该年度节假日安排尚未录入，按周一至周五计算"
    assert not CAL.is_fallback(date(2026, 12, 31))
    assert CAL.fallback_days(date(2026, 12, 30), date(2027, 1, 2)) == [date(2027, 1, 1), date(2027, 1, 2)]
    assert CAL.is_fallback(date(2003, 12, 31))  # before the package's first year too


def test_overrides_win_over_the_package_and_the_fallback() -> None:
    calendar = WorkCalendar({date(2024, 10, 1): True, date(2024, 10, 8): False, date(2027, 1, 1): False})
    assert calendar.is_workday(date(2024, 10, 1)) and not calendar.is_workday(date(2024, 10, 8))
    assert calendar.day_info(date(2027, 1, 1)).source is DaySource.override
    assert not calendar.is_workday(date(2027, 1, 1)) and not calendar.is_fallback(date(2027, 1, 1))
    assert calendar.is_fallback(date(2027, 1, 4))  # an override for one day does not vouch for the year


def test_an_entered_year_is_no_longer_flagged() -> None:
    calendar = WorkCalendar({date(2027, 1, 1): False}, entered_years={2027})
    assert not calendar.uses_fallback(date(2027, 1, 1), date(2027, 12, 31))
    assert calendar.is_workday(date(2027, 1, 4)) and not calendar.is_workday(date(2027, 1, 1))


def test_add_workdays_skips_the_holiday_and_counts_the_adjusted_saturday() -> None:
    # 2024-09-30 (Mon) + 1 working day: 10-01..07 are off, so the 8th.
    assert CAL.add_workdays(date(2024, 9, 30), 1) == date(2024, 10, 8)
    # From 10-08 (Tue) the 4th working day is Saturday 10-12, an adjusted working day.
    assert CAL.add_workdays(date(2024, 10, 8), 4) == date(2024, 10, 12)
    assert CAL.add_workdays(date(2024, 10, 12), -4) == date(2024, 10, 8)
    assert CAL.add_workdays(date(2024, 10, 3), 0) == date(2024, 10, 3)
    assert CAL.workdays_between(date(2024, 9, 30), date(2024, 10, 12)) == 5
    assert CAL.workdays_between(date(2024, 10, 12), date(2024, 9, 30)) == -5
    assert CAL.next_workday(date(2024, 10, 3)) == date(2024, 10, 8)


dates = st.dates(min_value=date(2003, 6, 1), max_value=date(2028, 6, 30))
override_maps = st.dictionaries(dates, st.booleans(), max_size=20)


@given(day=dates, n=st.integers(min_value=1, max_value=60), overrides=override_maps)
def test_add_workdays_lands_on_a_working_day_and_inverts(day: date, n: int, overrides: dict[date, bool]) -> None:
    calendar = WorkCalendar(overrides)
    later = calendar.add_workdays(day, n)
    assert later > day and calendar.is_workday(later)
    assert calendar.workdays_between(day, later) == n
    assert calendar.workdays_between(later, day) == -n
    # Going back n lands on the last working day on or before ``day``.
    back = calendar.add_workdays(later, -n)
    assert back <= day and calendar.is_workday(back) and calendar.workdays_between(back, day) == 0


@given(a=dates, b=dates)
def test_workdays_between_is_additive(a: date, b: date) -> None:
    middle = min(a, b) + (max(a, b) - min(a, b)) / 2
    assert CAL.workdays_between(a, b) == CAL.workdays_between(a, middle) + CAL.workdays_between(middle, b)


# --- deadlines ------------------------------------------------------------------------------


def test_default_policies() -> None:
    assert DEFAULT_POLICIES[WhistleKind.emergency] == SlaPolicy(
        ClockSpan(timedelta(minutes=30)), ClockSpan(timedelta(hours=2))
    )
    assert DEFAULT_POLICIES[WhistleKind.key] == SlaPolicy(ClockSpan(timedelta(hours=2)), ClockSpan(timedelta(hours=24)))
    assert DEFAULT_POLICIES[WhistleKind.routine] == SlaPolicy(ClockSpan(timedelta(hours=24)), WorkingDays(7))
    assert DEFAULT_POLICIES[WhistleKind.coordination] == SlaPolicy(ClockSpan(timedelta(hours=24)), WorkingDays(15))
    labels = [(p.acknowledge.label, p.handle.label) for p in DEFAULT_POLICIES.values()]
    assert labels == [("30分钟", "2小时"), ("2小时", "24小时"), ("24小时", "7个工作日"), ("24小时", "15个工作日")]
    assert WhistleKind.coordination.label == "协调哨"


def test_policies_are_configurable() -> None:
    custom = {WhistleKind.routine: SlaPolicy(ClockSpan(timedelta(hours=4)), WorkingDays(3))}
    assert policy_for(WhistleKind.routine, custom).handle == WorkingDays(3)
    assert policy_for(WhistleKind.key, custom) == DEFAULT_POLICIES[WhistleKind.key]


def test_clock_deadlines_run_through_nights_and_holidays() -> None:
    start = at(2024, 10, 1, 23, 45)
    assert deadline(start, ClockSpan(timedelta(minutes=30)), CAL) == at(2024, 10, 2, 0, 15)
    utc_start = datetime(2024, 10, 1, 15, 45, tzinfo=UTC)  # the same instant
    due = deadline(utc_start, ClockSpan(timedelta(hours=2)), CAL)
    assert due == at(2024, 10, 2, 1, 45) and due.tzinfo == TZ


def test_working_day_deadline_ends_with_the_nth_working_day_after_the_start_day() -> None:
    # Dispatched Monday 2024-09-30 at 16:00; the start day never counts, 10-01..07 are off,
    # 10-08..11 and the adjusted Saturday 10-12 count, then 10-14, 10-15.
    start = at(2024, 9, 30, 16, 0)
    assert deadline(start, WorkingDays(7), CAL) == end_of(date(2024, 10, 15))
    # The hour of dispatch does not matter, nor does dispatching on a holiday.
    assert deadline(at(2024, 9, 30, 0, 1), WorkingDays(7), CAL) == end_of(date(2024, 10, 15))
    assert deadline(at(2024, 10, 3, 9, 0), WorkingDays(1), CAL) == end_of(date(2024, 10, 8))


def test_2026_national_day_deadline_is_computed_from_the_package() -> None:
    start = at(2026, 9, 30, 10, 0)
    expected = date(2026, 9, 30)
    for _ in range(15):
        expected += timedelta(days=1)
        while not chinese_calendar.is_workday(expected):
            expected += timedelta(days=1)
    assert deadline(start, WorkingDays(15), CAL) == end_of(expected)
    assert not is_provisional(start, end_of(expected), CAL)


def test_a_deadline_crossing_into_2027_does_not_crash_and_is_flagged() -> None:
    start = at(2026, 12, 25, 9, 0)  # Friday
    due = deadline(start, WorkingDays(7), CAL)
    # 12-28..31 are 2026 working days (package); 2027-01-01 (Fri), 01-04, 01-05 come from the fallback.
    assert due == end_of(date(2027, 1, 5))
    assert is_provisional(start, due, CAL)
    deadlines = case_deadlines(start, DEFAULT_POLICIES[WhistleKind.routine], CAL)
    assert deadlines.acknowledge_by == at(2026, 12, 26, 9, 0)
    assert deadlines.handle_by == due and deadlines.provisional
    # Once the administrators enter New Year's Day, it stops counting and the flag goes.
    entered = WorkCalendar({date(2027, 1, 1): False}, entered_years={2027})
    assert deadline(start, WorkingDays(7), entered) == end_of(date(2027, 1, 6))
    assert not case_deadlines(start, DEFAULT_POLICIES[WhistleKind.routine], entered).provisional


def test_clock_deadlines_are_never_provisional_inside_known_years() -> None:
    start = at(2026, 6, 1, 9, 0)
    assert not case_deadlines(start, DEFAULT_POLICIES[WhistleKind.emergency], CAL).provisional


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        deadline(datetime(2026, 1, 5, 9, 0), ClockSpan(timedelta(hours=2)), CAL)


# --- reminders, status, escalation ----------------------------------------------------------


def test_reminder_at_eighty_percent() -> None:
    start = at(2026, 3, 2, 9, 0)
    assert reminder_at(start, start + timedelta(hours=2)) == at(2026, 3, 2, 10, 36)
    assert reminder_at(start, start + timedelta(minutes=30)) == at(2026, 3, 2, 9, 24)


@pytest.mark.parametrize(
    ("minutes_after_start", "expected"),
    [
        (0, SlaStatus.on_time),
        (95, SlaStatus.on_time),
        (96, SlaStatus.due_soon),  # 80 % of 120 minutes
        (120, SlaStatus.due_soon),  # at the deadline itself: still in time
        (121, SlaStatus.overdue),
    ],
)
def test_status(minutes_after_start: int, expected: SlaStatus) -> None:
    start = at(2026, 3, 2, 9, 0)
    due = start + timedelta(hours=2)
    assert status(start + timedelta(minutes=minutes_after_start), start, due) is expected


def test_status_of_a_working_day_deadline_over_a_holiday() -> None:
    start = at(2024, 9, 30, 16, 0)
    due = deadline(start, WorkingDays(7), CAL)
    assert status(at(2024, 10, 7, 12, 0), start, due) is SlaStatus.on_time
    assert status(at(2024, 10, 15, 23, 59), start, due) is SlaStatus.due_soon
    assert status(at(2024, 10, 16, 0, 0), start, due) is SlaStatus.overdue


@pytest.mark.parametrize(
    ("missed", "start", "expected"),
    [
        (0, EscalationLevel.community, EscalationLevel.community),
        (1, EscalationLevel.community, EscalationLevel.subdistrict),
        (2, EscalationLevel.community, EscalationLevel.district),
        (5, EscalationLevel.community, EscalationLevel.district),
        (1, EscalationLevel.subdistrict, EscalationLevel.district),
        (3, EscalationLevel.district, EscalationLevel.district),
    ],
)
def test_escalation_climbs_one_level_per_missed_deadline_and_stops_at_district(
    missed: int, start: EscalationLevel, expected: EscalationLevel
) -> None:
    assert escalation_level(missed, start) is expected
    level = start
    for _ in range(missed):
        level = escalate(level)
    assert level is expected


def test_escalation_labels_and_bad_input() -> None:
    assert [level.label for level in EscalationLevel] == ["社区", "街道", "区"]
    with pytest.raises(ValueError, match="negative"):
        escalation_level(-1)
