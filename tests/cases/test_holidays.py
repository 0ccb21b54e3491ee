"""The holiday table: it overrides the package, vouches for whole years, imports all or nothing."""

from __future__ import annotations

import io
from datetime import date, datetime
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from openpyxl import Workbook

from grassroots.accounts.models import Role
from grassroots.audit.models import AuditEntry
from grassroots.audit.services import SYSTEM
from grassroots.cases import selectors, services
from grassroots.cases.models import CalendarDay, CalendarYear
from grassroots.cases.workflow import DEFAULT_POLICIES, TZ, WhistleKind, case_deadlines
from grassroots.cases.worktime import FALLBACK_NOTICE, DaySource
from tests.factories import Tree

pytestmark = pytest.mark.django_db

NEW_YEAR_EVE = datetime(2026, 12, 31, 10, 0, tzinfo=TZ)  # a Thursday
ROUTINE = DEFAULT_POLICIES[WhistleKind.routine]  # 24 h / 7 working days


def csv_bytes(text: str) -> bytes:
    return text.encode("utf-8-sig")


def xlsx_bytes(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_new_year_2027_deadline_moves_when_entered_and_marked_complete() -> None:
    before = case_deadlines(NEW_YEAR_EVE, ROUTINE, selectors.work_calendar())
    # Monday–Friday guess: Fri 1 Jan counts, so the seventh working day is Mon 11 Jan.
    assert before.handle_by.date() == date(2027, 1, 11)
    assert before.provisional

    services.calendar_day_set(actor=SYSTEM, day=date(2027, 1, 1), is_workday=False, name="元旦")
    entered = case_deadlines(NEW_YEAR_EVE, ROUTINE, selectors.work_calendar())
    assert entered.handle_by.date() == date(2027, 1, 12)
    assert entered.provisional  # one day does not vouch for the rest of the year

    services.calendar_year_mark(actor=SYSTEM, year=2027, complete=True)
    complete = case_deadlines(NEW_YEAR_EVE, ROUTINE, selectors.work_calendar())
    assert complete.handle_by.date() == date(2027, 1, 12)
    assert not complete.provisional


def test_override_beats_the_package() -> None:
    calendar = selectors.work_calendar()
    national_day = date(2026, 10, 1)
    assert not calendar.is_workday(national_day)
    services.calendar_day_set(actor=SYSTEM, day=national_day, is_workday=True, name="演练值班")
    info = selectors.work_calendar().day_info(national_day)
    assert info.is_workday and info.source is DaySource.override


def test_calendar_is_cached_until_the_table_changes() -> None:
    first = selectors.work_calendar()
    assert selectors.work_calendar() is first
    services.calendar_day_set(actor=SYSTEM, day=date(2027, 2, 6), is_workday=True, name="调休上班")
    second = selectors.work_calendar()
    assert second is not first and second.is_workday(date(2027, 2, 6))
    services.calendar_day_clear(actor=SYSTEM, day=date(2027, 2, 6))
    assert not selectors.work_calendar().is_workday(date(2027, 2, 6))  # a Saturday again


def test_writes_are_audited() -> None:
    services.calendar_day_set(actor=SYSTEM, day=date(2027, 1, 1), is_workday=False, name="元旦")
    services.calendar_year_mark(actor=SYSTEM, year=2027, complete=True)
    actions = list(AuditEntry.objects.order_by("seq").values_list("action", flat=True))
    assert actions[-2:] == ["cases.calendar.day_set", "cases.calendar.year_mark"]


GOOD_CSV = "日期,类型,名称\n2027-01-01,放假,元旦\n2027/2/6,上班,调休上班\n2027年2月11日,放假,春节\n"


def test_import_replaces_the_year_and_marks_it_complete() -> None:
    services.calendar_day_set(actor=SYSTEM, day=date(2027, 5, 3), is_workday=False, name="旧的")
    result = services.calendar_import(actor=SYSTEM, data=csv_bytes(GOOD_CSV), file_name="2027.csv", year=2027)
    assert (result.saved, result.holidays, result.workdays, result.removed) == (3, 2, 1, 1)
    assert set(CalendarDay.objects.values_list("date", flat=True)) == {
        date(2027, 1, 1),
        date(2027, 2, 6),
        date(2027, 2, 11),
    }
    assert CalendarYear.objects.get(year=2027).complete
    assert not selectors.work_calendar().uses_fallback(date(2027, 1, 1), date(2027, 12, 31))


def test_import_reads_xlsx_dates() -> None:
    data = xlsx_bytes([["日期", "类型", "名称"], [datetime(2027, 1, 1), "放假", "元旦"], ["2027-02-06", "上班", ""]])
    result = services.calendar_import(actor=SYSTEM, data=data, file_name="2027.xlsx", year=2027, mark_complete=False)
    assert result.saved == 2
    assert not CalendarYear.objects.filter(year=2027, complete=True).exists()


def test_bad_rows_give_chinese_errors_and_save_nothing() -> None:
    services.calendar_day_set(actor=SYSTEM, day=date(2027, 5, 3), is_workday=False, name="保留")
    before = AuditEntry.objects.count()
    bad = (
        "日期,类型,名称\n2027-01-01,放假,元旦\n2027-13-01,放假,x\n"
        "2028-01-01,放假,元旦\n2027-02-06,加班,\n2027-01-01,上班,\n"
    )
    with pytest.raises(services.CalendarImportError) as caught:
        services.calendar_import(actor=SYSTEM, data=csv_bytes(bad), file_name="bad.csv", year=2027)
    problems = dict(caught.value.problems)
    assert "无法识别" in problems[3]
    assert "不在 2027 年内" in problems[4]
    assert "只能填“放假”或“上班”" in problems[5]
    assert "与第2行重复" in problems[6]
    assert list(CalendarDay.objects.values_list("name", flat=True)) == ["保留"]
    assert not CalendarYear.objects.exists()
    assert AuditEntry.objects.count() == before


def test_missing_columns_are_named() -> None:
    with pytest.raises(services.CalendarImportError, match="缺少列：类型"):
        services.calendar_import(
            actor=SYSTEM, data=csv_bytes("日期,名称\n2027-01-01,元旦\n"), file_name="a.csv", year=2027
        )


def test_command_imports_and_exits_2_on_bad_input(tmp_path: Path) -> None:
    good = tmp_path / "2027.csv"
    good.write_bytes(csv_bytes(GOOD_CSV))
    out = io.StringIO()
    call_command("import_holidays", str(good), "--year", "2027", stdout=out)
    assert "2 holidays, 1 adjusted working days" in out.getvalue()
    assert CalendarYear.objects.get(year=2027).complete

    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes("日期,类型,名称\n2028-01-01,放假,元旦\n"))
    with pytest.raises(CommandError) as caught:
        call_command("import_holidays", str(bad), "--year", "2029")
    assert caught.value.returncode == 2
    assert "第2行" in str(caught.value)
    assert not CalendarDay.objects.filter(date__year__gte=2028).exists()

    with pytest.raises(CommandError) as missing:
        call_command("import_holidays", str(tmp_path / "nope.csv"), "--year", "2028")
    assert missing.value.returncode == 2


def _admin(tree: Tree) -> Client:
    client = Client()
    client.force_login(tree.users[Role.ADMIN])
    return client


def test_page_shows_the_fallback_for_years_nobody_entered(tree: Tree) -> None:
    client = _admin(tree)
    page = client.get(reverse("cases:calendar")).content.decode()
    assert "2027" in page and FALLBACK_NOTICE in page
    services.calendar_year_mark(actor=SYSTEM, year=2027, complete=True)
    page = client.get(reverse("cases:calendar")).content.decode()
    row = page.split('data-label="年度" class="num">2027</td>')[1].split("</tr>")[0]
    assert "已录入" in row and FALLBACK_NOTICE not in row
    year_page = client.get(reverse("cases:calendar_year", args=[2026])).content.decode()
    assert "春节" in year_page and "国务院节假日安排" in year_page


def test_page_import_with_bad_rows_lists_them(tree: Tree) -> None:
    client = _admin(tree)
    upload = io.BytesIO(csv_bytes("日期,类型,名称\n2027-01-01,休假日了,元旦\n"))
    upload.name = "bad.csv"
    response = client.post(reverse("cases:calendar"), {"year": 2027, "file": upload, "mark_complete": "on"})
    assert response.status_code == 400
    assert "第2行" in response.content.decode()
    assert not CalendarDay.objects.exists()


def test_page_sets_and_clears_a_day(tree: Tree) -> None:
    client = _admin(tree)
    url = reverse("cases:calendar_year", args=[2027])
    response = client.post(url, {"date": "2027-01-01", "kind": "holiday", "name": "元旦", "note": ""})
    assert response.status_code == 302
    assert CalendarDay.objects.get(date=date(2027, 1, 1)).name == "元旦"
    assert client.post(url, {"date": "2028-01-01", "kind": "holiday"}).status_code == 400
    client.post(reverse("cases:calendar_year_mark", args=[2027]), {"complete": "1"})
    assert CalendarYear.objects.get(year=2027).complete
    client.post(reverse("cases:calendar_day_clear", args=[2027]), {"date": "2027-01-01"})
    assert not CalendarDay.objects.exists()


@pytest.mark.parametrize("role", [r for r in Role if r != Role.ADMIN])
def test_calendar_pages_only_for_administrators(tree: Tree, role: Role) -> None:
    client = Client()
    client.force_login(tree.users[role])
    assert client.get(reverse("cases:calendar")).status_code == 403
    assert client.get(reverse("cases:calendar_year", args=[2027])).status_code == 403
    assert client.post(reverse("cases:calendar_year_mark", args=[2027]), {"complete": "1"}).status_code == 403
    assert not CalendarYear.objects.exists()


def test_anonymous_is_sent_to_login() -> None:
    response = Client().get(reverse("cases:calendar"))
    assert response.status_code == 302 and "login" in response["Location"]
