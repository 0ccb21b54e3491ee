"""The monthly report: figures against the hand-counted November, scope, the month check, files."""

from __future__ import annotations

import io
from datetime import date

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from grassroots.accounts.models import Role
from grassroots.audit.models import AuditEntry
from grassroots.core.errors import DomainError, NotFound
from grassroots.insights.selectors import reports
from grassroots.insights.services.rollups import rollups_refresh
from tests.cases.test_measures import NOW
from tests.insights.conftest import InsightWorld

pytestmark = pytest.mark.django_db
URL = "insights:monthly_report"


@pytest.fixture(autouse=True)
def _now(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("grassroots.core.clock.now", lambda: NOW)


def client_for(user: object) -> Client:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    return client


def test_parse_month() -> None:
    today = date(2026, 11, 30)
    assert reports.parse_month("", today) == (2026, 10)  # the last complete month
    assert reports.parse_month(None, date(2026, 1, 5)) == (2025, 12)
    assert reports.parse_month("2026-11", today) == (2026, 11)
    for bad, message in (("2026-12", "已经开始"), ("1999-05", "已经开始"), ("2026-13", "格式"), ("十一月", "格式")):
        with pytest.raises(DomainError, match=message):
            reports.parse_month(bad, today)


def test_the_report_gives_the_months_figures_and_the_change(insight_world: InsightWorld) -> None:
    tree = insight_world.tree
    rollups_refresh(now=NOW, full=True)
    report = reports.monthly_report(
        user=tree.users[Role.SUBDISTRICT_DISPATCHER], area_id=None, year=2026, month=11, now=NOW
    )
    assert report.area == tree.yushan and report.title == "玉山镇2026年11月基层治理月度报告"
    lines = {line.measure.key: line for line in report.lines}
    # tests/cases/test_measures.py counts 8 cases in November and one (case I) on 31 October.
    assert (lines["received"].value, lines["received"].previous, lines["received"].change) == (8, 1, "+7")
    # November: 2 of 5 responded in time; October: case I, not responded.
    assert (lines["response"].shown, lines["response"].previous_shown) == ("40.0%", "0.0%")
    assert lines["response"].change == "+40.0个百分点" and lines["response"].better is True
    assert lines["mobilisation_response"].change == "—"  # no mobilisation in either month
    assert lines["households"].change == "+0"  # the registry is as of today in both columns
    assert [area.name for area, _, _ in report.parts()] == ["城北社区", "城南社区"]
    months = {t["month"]: t["received"] for t in report.trend}
    assert (months["2026-10"], months["2026-11"]) == (1, 8)
    assert sum(c["received"] for c in report.categories) == 8


def test_a_change_is_marked_better_or_worse_by_the_measures_direction() -> None:
    from grassroots.insights.selectors.measures import MEASURES_BY_KEY

    up = reports.Line(MEASURES_BY_KEY["satisfaction"], 0.9, 0.8)
    assert up.better is True and up.change == "+10.0个百分点"
    slower = reports.Line(MEASURES_BY_KEY["closure_hours"], 30.0, 20.0)
    assert slower.better is False and slower.change == "+10.0"
    assert reports.Line(MEASURES_BY_KEY["overdue"], 3, 3).better is None


def test_scope_roles_and_the_month(insight_world: InsightWorld) -> None:
    tree = insight_world.tree
    worker = client_for(tree.users[Role.COMMUNITY_WORKER])
    assert worker.get(reverse(URL), {"month": "2026-11"}).status_code == 200
    assert worker.get(reverse(URL), {"month": "2026-11", "area": tree.zhoushi_c.pk}).status_code == 404
    assert worker.get(reverse(URL), {"area": "x"}).status_code == 404
    for role in (Role.RESIDENT, Role.DEPARTMENT_OFFICER, Role.GRID_WORKER):
        assert client_for(tree.users[role]).get(reverse(URL)).status_code == 403, role
    future = worker.get(reverse(URL), {"month": "2026-12"})
    assert future.status_code == 400 and "只能生成已经开始的月份的报告" in future.content.decode()
    with pytest.raises(NotFound):
        reports.monthly_report(
            user=tree.outsiders[Role.SUBDISTRICT_DISPATCHER], area_id=tree.yushan.pk, year=2026, month=11, now=NOW
        )


def test_page_and_files(insight_world: InsightWorld) -> None:
    tree = insight_world.tree
    client = client_for(tree.users[Role.SUBDISTRICT_DISPATCHER])
    page = client.get(reverse(URL), {"month": "2026-11"})
    html = page.content.decode()
    assert page.status_code == 200 and "玉山镇2026年11月基层治理月度报告" in html
    assert html.count("<svg") == 3  # parts, trend and categories, drawn on the server as in the PDF
    assert "附：指标口径" in html

    xlsx = client.get(reverse(URL), {"month": "2026-11", "area": tree.yushan.pk, "format": "xlsx"})
    assert xlsx.status_code == 200 and "attachment" in xlsx["Content-Disposition"]
    book = load_workbook(io.BytesIO(xlsx.content))
    assert book.sheetnames == ["概要", "下级区域", "案件趋势", "高发事项", "指标口径"]
    summary = {row[0]: row[1:] for row in book["概要"].iter_rows(min_row=4, values_only=True)}
    assert summary["受理量"] == ("8", "1", "+7")
    assert len(book["案件趋势"]._charts) == 2 and len(book["高发事项"]._charts) == 1  # native Excel charts
    parts = list(book["下级区域"].iter_rows(min_row=2, values_only=True))
    assert [p[0] for p in parts] == ["城北社区", "城南社区"]

    pdf = client.get(reverse(URL), {"month": "2026-11", "format": "pdf"})
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    exports = AuditEntry.objects.filter(action="insights.report.export").order_by("seq")
    assert [e.detail["format"] for e in exports] == ["xlsx", "pdf"]
    assert all(e.area_path == tree.yushan.path and e.detail["month"] == "2026-11" for e in exports)
