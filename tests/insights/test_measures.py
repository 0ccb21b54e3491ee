"""The insight measures on the hand-counted world of conftest.py, and the rollups against the case measures."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from django.core.management import call_command

from grassroots.cases.selectors import measures as case_measures
from grassroots.cases.workflow import Action
from grassroots.insights.models import CaseRollup, RollupRun
from grassroots.insights.selectors.measures import DEFINITIONS, MEASURES, area_measures, display
from grassroots.insights.services.rollups import rollups_refresh
from tests.cases.test_cases_services import act
from tests.cases.test_measures import END, NOW, START
from tests.insights.conftest import InsightWorld

pytestmark = pytest.mark.django_db

NOVEMBER = case_measures.period_for("month", date(2026, 11, 15))
DOCS = Path(__file__).resolve().parents[2] / "docs" / "insights.md"


def same(a: case_measures.Measures, b: case_measures.Measures) -> None:
    for name in ("received", "excluded", "closed", "open", "overdue"):
        assert getattr(a, name) == getattr(b, name), name
    for name in ("response", "resolution", "satisfaction", "satisfaction_strict", "on_time"):
        assert getattr(a, name) == getattr(b, name), name
    assert a.closure.mean_hours == pytest.approx(b.closure.mean_hours)


def test_case_rates_from_the_rollups_equal_the_case_measures(insight_world: InsightWorld) -> None:
    tree = insight_world.tree
    rollups_refresh(now=NOW, full=True)
    for area in (tree.yushan, tree.district, tree.chengbei):
        report = case_measures.area_report(area=area, start=START, end=END, now=NOW)
        figures = area_measures(area=area, period=NOVEMBER, today=NOW.date())
        same(figures.total.measures, report.measures)
        by_area = {p.area.pk: p.measures for p in figures.parts if p.area is not None}
        for row in report.children:
            assert row.area is not None
            same(by_area[row.area.pk], row.measures)
    # The hand-counted figures of tests/cases/test_measures.py, through the rollups.
    m = area_measures(area=tree.yushan, period=NOVEMBER, today=NOW.date()).total.measures
    assert (m.received, m.excluded, m.closed, m.open, m.overdue) == (8, 2, 3, 3, 1)
    assert (m.response.numerator, m.response.denominator) == (2, 5)
    assert m.closure.mean_hours == pytest.approx((10 + 48 + 360) / 3)


def test_registry_size_workers_and_centres(insight_world: InsightWorld) -> None:
    tree = insight_world.tree
    rollups_refresh(now=NOW, full=True)
    t = area_measures(area=tree.yushan, period=NOVEMBER, today=NOW.date()).total
    assert (t.households, t.residents, t.complete) == (2900, 4, 1)
    assert (t.comprehensive_grids, t.grids_in_range) == (3, 1)  # only grid1's 400 lies in 300–500
    assert (t.communities, t.communities_in_range, t.communities_to_split) == (2, 1, 0)  # 城南 2,500
    assert t.workers == 2
    assert (t.communities_with_people, t.communities_staffed) == (2, 2)
    assert (t.centres_assessed, t.centres_compliant, t.communities_without_centre) == (2, 1, 0)
    v = t.values()
    assert v["completeness"] == pytest.approx(1 / 4)
    assert v["grid_size"] == pytest.approx(1 / 3)
    assert v["community_size"] == pytest.approx(1 / 2)
    assert v["workers_per_10k"] == pytest.approx(2 * 10000 / 4)
    assert v["centre"] == pytest.approx(1 / 2)
    assert v["checkin"] is None and v["mobilisation_minutes"] is None  # nothing to measure: no value, not 0
    assert display("completeness", v["completeness"]) == "25.0%" and display("checkin", None) == "—"

    district = area_measures(area=tree.district, period=NOVEMBER, today=NOW.date())
    assert (district.total.communities, district.total.communities_without_centre) == (3, 1)
    assert (district.total.comprehensive_grids, district.total.grids_in_range) == (4, 1)
    # Per community: 城北 400 households, 3 residents, 1 worker; 城南 2,500 households.
    bei = district.communities[tree.chengbei.path]
    assert (bei.households, bei.residents, bei.workers, bei.centres_compliant) == (400, 3, 1, 0)
    nan = district.communities[tree.chengnan.path]
    assert (nan.households, nan.communities_in_range, nan.centres_compliant) == (2500, 1, 1)
    # One grid's own figures.
    g1 = district.grids[tree.grid1.path]
    assert (g1.households, g1.residents, g1.complete, g1.grids_in_range) == (400, 3, 1, 1)


def test_a_community_above_the_split_line(insight_world: InsightWorld) -> None:
    from grassroots.places.models import Building

    tree = insight_world.tree
    Building.objects.filter(pk=tree.building3.pk).update(households=5001)
    rollups_refresh(now=NOW, full=True)
    t = area_measures(area=tree.chengnan, period=NOVEMBER, today=NOW.date()).total
    assert (t.communities, t.communities_in_range, t.communities_to_split) == (1, 0, 1)
    assert t.values()["centre"] == 0.0  # 800 m² < 30 × 5001 / 100


def test_incremental_refresh_rewrites_the_changed_months(insight_world: InsightWorld) -> None:
    tree = insight_world.tree
    first = rollups_refresh(now=NOW, full=True)
    assert first.months == [date(2026, 10, 1), date(2026, 11, 1)]
    october = CaseRollup.objects.get(month=date(2026, 10, 1))
    assert october.received == 1  # case I, 10-31 23:30 Shanghai
    later = NOW + timedelta(hours=1)
    act(
        insight_world.cases.env,
        insight_world.cases.cases["F"],
        "resident",
        Action.cancel,
        reason="已自行解决",
        at=later,
    )
    again = rollups_refresh(now=later)
    # 12-01 00:30 in Shanghai: November changed (and is the previous month), December is current;
    # October is left alone.
    assert again.months == [date(2026, 11, 1), date(2026, 12, 1)]
    assert CaseRollup.objects.get(month=date(2026, 10, 1)).pk == october.pk
    m = area_measures(area=tree.yushan, period=NOVEMBER, today=NOW.date()).total.measures
    report = case_measures.area_report(area=tree.yushan, start=START, end=END, now=later)
    same(m, report.measures)
    assert m.excluded == 3
    assert RollupRun.objects.get(kind="cases").watermark == later


def test_the_command(insight_world: InsightWorld, capsys: pytest.CaptureFixture[str]) -> None:
    call_command("refresh_insights", "--full")
    assert "grid-month rows" in capsys.readouterr().out
    assert CaseRollup.objects.exists()


def test_every_measure_has_a_definition_and_docs_repeat_it_word_for_word() -> None:
    keys = {d.key for d in DEFINITIONS}
    assert all(m.definition in keys for m in MEASURES)
    docs = DOCS.read_text(encoding="utf-8")
    for d in DEFINITIONS:
        assert d.name in docs, d.key
        assert d.text in docs, d.key
