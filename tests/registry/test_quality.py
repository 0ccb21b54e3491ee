"""The data-quality page and snapshots: hand-counted figures, upserts, the trend, scope and query counts.

Fixture (tests.factories tree), counted by hand:

    网格一 (城北社区): A 8/8 key fields, 2 records; B 6/8, 2 records; C 5/8, 1 record
    网格二 (城北社区): E 5/8, registered by hand: no record (counts for completeness, not dedup)
                        → 城北: 5 records of 3 persons: dedup 40 %; completeness 24/32
    网格三 (城南社区): D 6/8, 1 record; one held and one rejected row
    玉山镇 = both: 6 records of 4 persons → dedup 1/3, completeness 30/40; 周市镇: nothing
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from grassroots.accounts.models import Role
from grassroots.audit.models import AuditEntry
from grassroots.audit.services import SYSTEM
from grassroots.core import clock
from grassroots.core.errors import NotFound
from grassroots.core.ids import make_id_number
from grassroots.core.scope import Scope
from grassroots.places import services as places
from grassroots.places.models import Area
from grassroots.registry import services as registry
from grassroots.registry.imports.pipeline import FILLED_FIELDS
from grassroots.registry.models import (
    AddressChoice,
    Household,
    ImportJob,
    Person,
    QualitySnapshot,
    RecordPair,
    Separation,
    Source,
    SourceRecord,
)
from grassroots.registry.quality import selectors
from grassroots.registry.quality.services import quality_snapshot
from tests.factories import Tree, centre
from tests.registry.conftest import login

pytestmark = pytest.mark.django_db

URL = "/registry/quality/"
ALL = list(FILLED_FIELDS)
FEW = ["name", "id_number", "phone"]
TODAY = date(2026, 3, 20)
IMPORTED = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)  # 12:00 in Beijing


@pytest.fixture(autouse=True)
def _fixed_clock(monkeypatch, settings):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(clock, "now", lambda: datetime(2026, 3, 20, 2, 0, tzinfo=UTC))
    monkeypatch.setattr(clock, "today", lambda: TODAY)
    settings.REGISTRY_QUALITY_CACHE_SECONDS = 0  # every test sees the figures of its own data


@dataclass
class Fixture:
    tree: Tree
    a: Person
    b: Person
    c: Person
    d: Person
    e: Person
    police: Source
    civil: Source


def _person(dwelling, seq: int, *, phone: str = "", household: bool = False, ethnicity: str = "") -> Person:  # type: ignore[no-untyped-def]
    hh = Household.objects.create(dwelling=dwelling, path=dwelling.path) if household else None
    person = registry.person_create(
        actor=SYSTEM,
        name=f"测试{seq}",
        id_number=make_id_number("320583", date(1980, 1, seq), seq, "M"),
        phone=phone,
        dwelling=dwelling,
        household=hh,
    )
    if ethnicity:
        Person.objects.filter(pk=person.pk).update(ethnicity=ethnicity)
        person.refresh_from_db()
    return person


_rows = iter(range(1, 10_000))


def _record(source: Source, status: str, *, person: Person | None, path: str, filled: list[str]) -> SourceRecord:
    job = ImportJob.objects.filter(source=source).first() or ImportJob.objects.create(
        source=source, path="3205.320583", file="x.xlsx", file_name="x.xlsx", file_sha256="0" * 64, file_size=1
    )
    record = SourceRecord.objects.create(
        job=job,
        source=source,
        row_number=next(_rows),
        raw_cipher=b"x",
        status=status,
        person=person,
        path=path,
        filled=filled,
    )
    SourceRecord.objects.filter(pk=record.pk).update(created_at=IMPORTED)
    return record


@pytest.fixture
def fx(tree: Tree) -> Fixture:
    d1 = list(tree.building1.dwellings.order_by("id")[:3])
    d3 = tree.building3.dwellings.order_by("id").first()
    a = _person(d1[0], 1, phone="13812340001", household=True, ethnicity="汉族")  # 8/8
    b = _person(d1[1], 2, household=True)  # 6/8: no phone, no ethnicity
    c = _person(d1[2], 3)  # 5/8: no phone, household, ethnicity
    d = _person(d3, 4, phone="13812340004")  # 6/8: no household, no ethnicity
    grid2 = places.building_create(
        actor=SYSTEM, grid=tree.grid2, name="2幢", typology="low", floors=1, entrances=1,
        dwellings_per_floor=1, lon=centre(1, 0)[0], lat=centre(1, 0)[1],
    )  # fmt: skip
    e = _person(grid2.dwellings.first(), 5)  # 5/8 and no source record
    Person.objects.filter(pk=a.pk).update(separation=Separation.LIVES_HERE_REGISTERED_ELSEWHERE)
    Person.objects.filter(pk=d.pk).update(separation=Separation.REGISTERED_HERE_LIVES_ELSEWHERE)
    police = Source.objects.create(code="police", name="公安户籍")
    civil = Source.objects.create(code="civil", name="民政救助")
    g1, g3 = tree.grid1.path, tree.grid3.path
    ra = _record(police, "accepted", person=a, path=g1, filled=ALL)
    # Kept at the importer's area (no dwelling found): still counted where its person lives.
    rb = _record(civil, "accepted", person=a, path=tree.chengbei.path, filled=FEW)
    _record(police, "accepted", person=b, path=g1, filled=ALL)
    _record(civil, "linked", person=b, path=g1, filled=FEW)
    _record(police, "accepted", person=c, path=g1, filled=ALL)
    _record(police, "accepted", person=d, path=g3, filled=ALL)
    _record(civil, "held", person=None, path=g3, filled=["name", "phone"])
    _record(civil, "rejected", person=None, path=g3, filled=[])
    RecordPair.objects.create(left=ra, right=rb, path=g1, reason="uncertain", probability=0.7)
    r1, r2 = SourceRecord.objects.filter(person=b).order_by("id")
    RecordPair.objects.create(left=r1, right=r2, path=g1, reason="uncertain", probability=0.7, decision="same")
    AddressChoice.objects.create(path=tree.chengnan.path, text="某路1号")
    AddressChoice.objects.create(path=tree.chengnan.path, text="某路2号", status="outside")
    for p in (a, b, c, d):
        p.refresh_from_db()
    return Fixture(tree, a, b, c, d, e, police, civil)


def _everything() -> Scope:
    return Scope.everything()


# --- figures --------------------------------------------------------------------------------------


def test_community_figures_are_hand_counted(fx):
    q = selectors.area_quality(scope=_everything(), area=fx.tree.chengbei)
    t = q.total
    assert (t.records, t.persons, t.linked_persons, t.held) == (5, 4, 3, 0)
    assert t.dedup_rate == pytest.approx(0.4)
    assert t.completeness == pytest.approx(24 / 32)
    assert t.by_field["phone"] == pytest.approx(1 / 4)
    assert t.by_field["household"] == pytest.approx(2 / 4)
    assert t.by_field["ethnicity"] == pytest.approx(1 / 4)
    assert t.by_field["dwelling"] == t.by_field["name"] == 1.0
    assert (t.pending_pairs, t.pending_addresses, t.lives_here, t.registered_here) == (1, 0, 1, 0)
    assert q.distribution == [(8, 1), (6, 1), (5, 2)]
    grids = {r.area.pk: r for r in q.grids}
    assert set(grids) == {fx.tree.grid1.pk, fx.tree.grid2.pk}
    assert grids[fx.tree.grid1.pk].figures.completeness == pytest.approx(19 / 24)
    assert grids[fx.tree.grid1.pk].figures.dedup_rate == pytest.approx(0.4)
    assert grids[fx.tree.grid1.pk].community == fx.tree.chengbei
    assert grids[fx.tree.grid2.pk].figures.persons == 1
    assert grids[fx.tree.grid2.pk].figures.completeness == pytest.approx(5 / 8)
    assert grids[fx.tree.grid2.pk].figures.dedup_rate is None  # no record there
    assert q.children == []  # a community's parts are its grids


def test_subdistrict_figures_sources_and_children(fx):
    q = selectors.area_quality(scope=_everything(), area=fx.tree.yushan)
    t = q.total
    assert (t.records, t.persons, t.held, t.pending_pairs, t.pending_addresses) == (6, 5, 1, 1, 1)
    assert t.dedup_rate == pytest.approx(1 / 3)
    assert t.completeness == pytest.approx(30 / 40)
    assert t.registered_here == 1
    children = {r.area.pk: r.figures for r in q.children}
    assert children[fx.tree.chengbei.pk].dedup_rate == pytest.approx(0.4)
    assert children[fx.tree.chengnan.pk].dedup_rate == 0.0
    assert children[fx.tree.chengnan.pk].completeness == pytest.approx(6 / 8)
    sources = {r.source.code: r.figures for r in q.sources}
    civil, police = sources["civil"], sources["police"]
    assert dict(civil.by_status) == {"accepted": 1, "linked": 1, "held": 1, "rejected": 1}
    assert (civil.rows, civil.records, civil.filled_rows) == (4, 2, 3)
    assert civil.completeness == pytest.approx(8 / 27)  # 3 + 3 + 2 of 9; the row without a list left out
    assert civil.by_field["phone"] == 1.0 and civil.by_field["sex"] == 0.0
    assert civil.by_field["id_number"] == pytest.approx(2 / 3)
    assert (police.rows, police.completeness) == (4, 1.0)
    assert police.last == IMPORTED
    assert [r.source.code for r in q.sources] == ["civil", "police"]  # most rows first, then code
    assert q.sources[0].weakest[0] == ("性别", 0.0)


def test_empty_area_has_no_rates(fx):
    t = selectors.area_quality(scope=_everything(), area=fx.tree.zhoushi).total
    assert (t.records, t.persons) == (0, 0)
    assert t.dedup_rate is None and t.completeness is None and t.by_field == {}


def test_record_fields_are_the_import_pipelines():
    assert tuple(FILLED_FIELDS) == selectors.RECORD_FIELD_KEYS


# --- snapshots ------------------------------------------------------------------------------------


def _snaps(day: date) -> dict[str, QualitySnapshot]:
    return {s.path: s for s in QualitySnapshot.objects.filter(day=day)}


def test_snapshot_one_row_per_area_and_level(fx):
    t = fx.tree
    assert quality_snapshot(day=TODAY) == 7  # city, district, 2 subdistricts, 3 communities
    snaps = _snaps(TODAY)
    assert set(snaps) == {
        a.path for a in (t.city, t.district, t.yushan, t.zhoushi, t.chengbei, t.chengnan, t.zhoushi_c)
    }
    chengbei, yushan, district = snaps[t.chengbei.path], snaps[t.yushan.path], snaps[t.district.path]
    assert chengbei.area == t.chengbei
    assert (chengbei.records, chengbei.persons, chengbei.pending_pairs) == (5, 4, 1)
    assert chengbei.dedup_rate == pytest.approx(0.4)
    assert chengbei.completeness == pytest.approx(24 / 32, abs=1e-6)
    assert (yushan.records, yushan.persons, yushan.held_records, yushan.pending_addresses) == (6, 5, 1, 1)
    assert yushan.dedup_rate == pytest.approx(1 / 3, abs=1e-6)
    assert district.records == yushan.records and district.completeness == yushan.completeness
    assert snaps[t.zhoushi.path].dedup_rate is None and snaps[t.zhoushi.path].records == 0
    assert yushan.by_field["phone"] == pytest.approx(2 / 5)
    assert yushan.by_source["civil"]["rows"] == 4 and yushan.by_source["civil"]["held"] == 1
    assert yushan.by_source["civil"]["completeness"] == pytest.approx(8 / 27, abs=1e-6)
    assert yushan.by_source["police"]["records"] == 4
    assert AuditEntry.objects.filter(action="registry.quality_snapshot").count() == 1


def test_snapshot_is_idempotent_and_upserts(fx):
    quality_snapshot(day=TODAY)
    quality_snapshot(day=TODAY)
    assert QualitySnapshot.objects.filter(day=TODAY).count() == 7
    ids = set(QualitySnapshot.objects.values_list("pk", flat=True))
    _record(fx.police, "accepted", person=fx.c, path=fx.tree.grid1.path, filled=ALL)  # C now has 2 records
    quality_snapshot(day=TODAY)
    assert set(QualitySnapshot.objects.values_list("pk", flat=True)) == ids  # rewritten in place
    assert _snaps(TODAY)[fx.tree.chengbei.path].records == 6
    assert _snaps(TODAY)[fx.tree.chengbei.path].dedup_rate == pytest.approx(0.5)
    quality_snapshot(day=TODAY - timedelta(days=1))
    assert QualitySnapshot.objects.count() == 14


def test_snapshot_query_count_does_not_grow_with_areas(fx):
    with CaptureQueriesContext(connection) as before:
        quality_snapshot(day=TODAY)
    _more_grids(fx.tree, 6)
    extra = places.area_create(actor=SYSTEM, parent=fx.tree.zhoushi, level="community", code="009", name="新社区")
    assert extra.pk
    with CaptureQueriesContext(connection) as after:
        quality_snapshot(day=TODAY)
    assert len(after) == len(before)
    assert len(before) <= 16  # five aggregates, areas, sources, the upsert, the audit entry


def test_command_stores_the_day(fx, capsys):
    call_command("registry_quality_snapshot", "--day", "2026-03-01")
    assert QualitySnapshot.objects.filter(day=date(2026, 3, 1)).count() == 7
    assert "2026-03-01: 7 areas" in capsys.readouterr().out
    call_command("registry_quality_snapshot")
    assert QualitySnapshot.objects.filter(day=TODAY).count() == 7
    with pytest.raises(CommandError):
        call_command("registry_quality_snapshot", "--day", "2026-13-01")


# --- trend ----------------------------------------------------------------------------------------


def _snapshot(area: Area, day: date, dedup: float, completeness: float) -> None:
    QualitySnapshot.objects.create(
        area=area, path=area.path, day=day, records=10, persons=8, dedup_rate=dedup, completeness=completeness
    )


def test_trend_is_drawn_from_snapshots_with_today_live(fx):
    area = fx.tree.chengbei
    _snapshot(area, TODAY - timedelta(days=400), 0.1, 0.1)  # older than a year: left out
    _snapshot(area, TODAY - timedelta(days=10), 0.2, 0.5)
    _snapshot(area, TODAY - timedelta(days=1), 0.25, 0.6)
    _snapshot(fx.tree.chengnan, TODAY - timedelta(days=2), 0.9, 0.9)  # another area
    live = selectors.area_quality(scope=_everything(), area=area).total
    points = selectors.quality_trend(scope=_everything(), area=area, today=TODAY, live=live)
    assert [p["day"] for p in points] == ["2026-03-10", "2026-03-19", "2026-03-20"]
    assert [p["dedup_rate"] for p in points] == [20.0, 25.0, 40.0]
    assert [p["completeness"] for p in points] == [50.0, 60.0, 75.0]
    assert [p["live"] for p in points] == [False, False, True]
    quality_snapshot(day=TODAY)  # today's snapshot replaces the live point
    points = selectors.quality_trend(scope=_everything(), area=area, today=TODAY, live=live)
    assert [p["live"] for p in points] == [False, False, False] and points[-1]["dedup_rate"] == 40.0


def test_page_carries_the_trend(fx):
    _snapshot(fx.tree.chengbei, TODAY - timedelta(days=3), 0.3, 0.7)
    page = login(fx.tree.users[Role.COMMUNITY_WORKER]).get(URL).content.decode()
    data = json.loads(
        re.search(r'<script id="quality-trend-data" type="application/json">(.*?)</script>', page, re.S)[1]
    )
    assert [(p["day"], p["dedup_rate"], p["live"]) for p in data] == [
        ("2026-03-17", 30.0, False),
        ("2026-03-20", 40.0, True),
    ]
    assert 'id="quality-trend"' in page and "vendor/echarts/echarts.min.js" in page


# --- the page -------------------------------------------------------------------------------------


def test_page_for_a_community_worker(fx):
    page = login(fx.tree.users[Role.COMMUNITY_WORKER]).get(URL).content.decode()
    assert "人口数据质量 · 城北社区" in page
    assert "40.0%" in page and "75.0%" in page
    assert reverse("registry:grid", args=[fx.tree.grid1.pk]) in page
    assert "公安户籍" in page and "民政救助" in page and "2026-03-02" in page
    for d in selectors.DEFINITIONS:
        assert d.text in page
    # Aggregates only: no name, no masked ID or phone, not even the other community's grid.
    for p in (fx.a, fx.b, fx.c, fx.d, fx.e):
        assert p.name not in page and p.id_number_masked not in page
    assert fx.a.phone_masked not in page
    assert "网格三" not in page


def test_subdistrict_page_lists_communities_and_picks_one(fx):
    client = login(fx.tree.users[Role.SUBDISTRICT_DISPATCHER])
    page = client.get(URL).content.decode()
    assert "人口数据质量 · 玉山镇" in page and "城北社区" in page and "城南社区" in page
    assert f'?area={fx.tree.chengnan.pk}"' in page
    assert f"{100 / 3:.1f}%" in page
    page = client.get(URL, {"area": fx.tree.chengnan.pk}).content.decode()
    assert "人口数据质量 · 城南社区" in page and "网格三" in page and "网格一" not in page


def test_district_leader_sees_grids_without_person_links(fx):
    page = login(fx.tree.users[Role.DISTRICT_LEADER]).get(URL).content.decode()
    assert "人口数据质量 · 昆山市" in page and "网格一" in page
    assert reverse("registry:grid", args=[fx.tree.grid1.pk]) not in page  # no registry.view


def test_admin_starts_at_the_top(fx):
    page = login(fx.tree.users[Role.ADMIN]).get(URL).content.decode()
    assert "人口数据质量 · 苏州市" in page


@pytest.mark.parametrize(
    ("role", "area"),
    [
        (Role.COMMUNITY_WORKER, "chengnan"),  # a sibling community
        (Role.COMMUNITY_WORKER, "yushan"),  # above the scope
        (Role.SUBDISTRICT_DISPATCHER, "zhoushi_c"),
        (Role.DISTRICT_LEADER, "city"),
        (Role.COMMUNITY_WORKER, "grid1"),  # grids have no quality page of their own
    ],
)
def test_areas_outside_scope_are_not_found(fx, role, area):
    response = login(fx.tree.users[role]).get(URL, {"area": getattr(fx.tree, area).pk})
    assert response.status_code == 404


def test_bad_area_and_outsiders(fx):
    assert login(fx.tree.users[Role.COMMUNITY_WORKER]).get(URL, {"area": "x1"}).status_code == 404
    assert login(fx.tree.users[Role.COMMUNITY_WORKER]).get(URL, {"area": "999999"}).status_code == 404
    outsider = login(fx.tree.outsiders[Role.COMMUNITY_WORKER])
    assert outsider.get(URL, {"area": fx.tree.chengbei.pk}).status_code == 404
    assert "城南社区" in outsider.get(URL).content.decode()
    with pytest.raises(NotFound):
        selectors.area_quality(scope=Scope(area_path=fx.tree.chengnan.path), area=fx.tree.chengbei)


@pytest.mark.parametrize("role", [Role.GRID_WORKER, Role.RESIDENT, Role.DEPARTMENT_OFFICER, Role.PARTY_SECRETARY])
def test_roles_without_the_capability_are_refused(fx, role):
    response = login(fx.tree.users[role]).get(URL)
    assert response.status_code == 403
    assert "40.0%" not in response.content.decode()


def test_anonymous_is_sent_to_login(fx):
    from django.test import Client

    response = Client().get(URL)
    assert response.status_code == 302 and "login" in response["Location"]


def _more_grids(tree: Tree, n: int) -> None:
    """``n`` more grids in 城北社区, each with a building and a resident with a record."""
    source = Source.objects.get_or_create(code="more", defaults={"name": "更多"})[0]
    for i in range(n):
        grid = places.area_create(
            actor=SYSTEM, parent=tree.chengbei, level="grid", code=f"9{i}", name=f"加网格{i}", grid_kind="comprehensive"
        )
        lon, lat = centre(10 + i, 0)
        building = places.building_create(
            actor=SYSTEM, grid=grid, name=f"{i}幢", typology="low", floors=1, entrances=1,
            dwellings_per_floor=1, lon=lon, lat=lat,
        )  # fmt: skip
        person = _person(building.dwellings.first(), 10 + i, phone=f"1381234{i:04d}")
        _record(source, "accepted", person=person, path=grid.path, filled=FEW)


def test_page_query_count_does_not_grow_with_grids(fx):
    client = login(fx.tree.users[Role.COMMUNITY_WORKER])
    client.get(URL)  # warm the session and caches
    with CaptureQueriesContext(connection) as before:
        assert client.get(URL).status_code == 200
    _more_grids(fx.tree, 8)
    with CaptureQueriesContext(connection) as after:
        page = client.get(URL).content.decode()
    assert "加网格7" in page
    assert len(after) == len(before)
    assert len(before) <= 20


def test_figures_are_cached_per_area_but_scope_is_checked_first(fx, settings):
    settings.REGISTRY_QUALITY_CACHE_SECONDS = 300
    cache.clear()
    scope = Scope(area_path=fx.tree.yushan.path)
    first = selectors.area_quality_cached(scope=scope, area=fx.tree.chengbei)
    _record(fx.police, "accepted", person=fx.c, path=fx.tree.grid1.path, filled=ALL)
    with CaptureQueriesContext(connection) as queries:
        again = selectors.area_quality_cached(scope=scope, area=fx.tree.chengbei)
    assert len(queries) == 0 and again.total.records == first.total.records == 5
    assert again.computed_at == datetime(2026, 3, 20, 2, 0, tzinfo=UTC)
    with pytest.raises(NotFound):  # a cached area is still refused outside the scope
        selectors.area_quality_cached(scope=Scope(area_path=fx.tree.chengnan.path), area=fx.tree.chengbei)
    settings.REGISTRY_QUALITY_CACHE_SECONDS = 0
    assert selectors.area_quality_cached(scope=scope, area=fx.tree.chengbei).total.records == 6
    cache.clear()


def test_districts_are_kept_longer_and_warmed_by_the_nightly_job(fx, settings):
    settings.REGISTRY_QUALITY_CACHE_SECONDS = 300
    settings.REGISTRY_QUALITY_LARGE_CACHE_SECONDS = 6 * 3600
    assert selectors.cache_seconds(fx.tree.chengbei) == 300
    assert selectors.cache_seconds(fx.tree.district) == selectors.cache_seconds(fx.tree.city) == 6 * 3600
    cache.clear()
    out = StringIO()
    call_command("registry_quality_snapshot", stdout=out)
    assert "figures kept for 2 district and city pages" in out.getvalue()
    # The district page now reads the kept figures: no scan, not even the scope's.
    with CaptureQueriesContext(connection) as queries:
        kept = selectors.area_quality_cached(scope=Scope.everything(), area=fx.tree.district)
    assert len(queries) == 0
    assert kept.total == selectors.area_quality(scope=Scope.everything(), area=fx.tree.district).total
    # A community's figures were not computed ahead.
    assert cache.get(f"registry.quality:{fx.tree.chengbei.path}") is None
    # 0 still turns every cache off, districts included.
    settings.REGISTRY_QUALITY_CACHE_SECONDS = 0
    assert selectors.cache_seconds(fx.tree.district) == 0
    cache.clear()


def test_a_shared_cache_that_is_down_costs_a_recount_not_the_page(fx, settings, monkeypatch):
    settings.REGISTRY_QUALITY_CACHE_SECONDS = 300

    def down(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(selectors.cache, "get", down)
    monkeypatch.setattr(selectors.cache, "set", down)
    figures = selectors.area_quality_cached(scope=Scope(area_path=fx.tree.yushan.path), area=fx.tree.chengbei)
    assert figures.total.records == 5


def test_docs_repeat_the_definitions():
    doc = (Path(__file__).resolve().parents[2] / "docs" / "quality.md").read_text(encoding="utf-8")
    for d in selectors.DEFINITIONS:
        assert d.text in doc, d.key
    assert "registry_quality_snapshot" in doc
