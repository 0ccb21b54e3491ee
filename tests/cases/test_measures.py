"""The case measures (三率) on hand-computed fixtures built through the services at injected times.

November 2026 (Asia/Shanghai), measured at ``NOW`` = 2026-11-30 23:30. Cases in 玉山镇:

    A 城北 created 11-01 00:10, accepted +2 h, closed +10 h, rated 满意             (on-time response)
    B 城北 created 11-02 09:00, whistled +1 h, reported in +2 h, closed +48 h, 基本满意
    C 城北 created 11-02 09:00, whistled +1 h, reported in +30 h (late), closed +360 h
           (after the handling deadline 11-11), rated 不满意 9 days later (no reopen)
    D 城北 merged into B            E 城北 cancelled by the resident (both out of the rates)
    F 城南 created 11-02 09:00, never touched                                       (late: 24 h passed)
    G 城北 created 11-03 09:00, whistled at once, never reported in, swept overdue
    H 城北 created 11-30 23:00, not yet due for a response
    I 城北 created 10-31 23:30 (Shanghai; 11-01 in no zone that matters): outside the period
    J 周市 created 11-02 09:00, whistled by the administrator, reported in on time (open)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from grassroots.accounts.models import Role as AccountRole
from grassroots.cases import services
from grassroots.cases.models import Case
from grassroots.cases.selectors import measures
from grassroots.cases.workflow import TZ, Action, Rating
from grassroots.core.errors import Forbidden, NotFound
from tests.cases.test_cases_services import EVERYTHING, Env, act, make_env
from tests.factories import Tree, centre

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 30, 23, 30, tzinfo=TZ)
START, END = datetime(2026, 11, 1, tzinfo=TZ), datetime(2026, 12, 1, tzinfo=TZ)
T = datetime(2026, 11, 2, 9, 0, tzinfo=TZ)
H = timedelta(hours=1)
CW, DEPT, GRID, RES, ADMIN = (
    AccountRole.COMMUNITY_WORKER,
    AccountRole.DEPARTMENT_OFFICER,
    AccountRole.GRID_WORKER,
    AccountRole.RESIDENT,
    AccountRole.ADMIN,
)


def submit(env: Env, at: datetime, col: int = 0) -> Case:
    lon, lat = centre(col, 0)
    return services.case_submit(
        actor=env.user(RES),
        scope=EVERYTHING,
        channel="resident_h5",
        category=env.category,
        description=f"问题 {at:%m%d%H%M} {col}",
        lon=lon,
        lat=lat,
        now=at,
    ).case


def close(env: Env, case: Case, handler: str, at: datetime) -> Case:
    case = act(env, case, handler, Action.start, at=at)
    case = act(env, case, handler, Action.resolve, result="已处理", at=at)
    case = act(env, case, GRID, Action.begin_verification, at=at)
    return act(env, case, GRID, Action.verify_pass, at=at)


@dataclass
class World:
    env: Env
    cases: dict[str, Case]


def build(tree: Tree) -> World:
    env = make_env(tree)
    c: dict[str, Case] = {}
    a0 = datetime(2026, 11, 1, 0, 10, tzinfo=TZ)
    c["A"] = act(env, submit(env, a0), CW, Action.accept, at=a0 + 2 * H)
    c["A"] = close(env, c["A"], CW, a0 + 10 * H)
    act(env, c["A"], RES, Action.evaluate, rating=Rating.satisfied, at=a0 + 24 * H)

    c["B"] = act(env, submit(env, T), CW, Action.whistle, at=T + H)
    c["B"] = act(env, c["B"], DEPT, Action.acknowledge, at=T + 2 * H)
    c["B"] = close(env, c["B"], DEPT, T + 48 * H)
    act(env, c["B"], RES, Action.evaluate, rating=Rating.basically_satisfied, at=T + 50 * H)

    c["C"] = act(env, submit(env, T), CW, Action.whistle, at=T + H)
    c["C"] = act(env, c["C"], DEPT, Action.acknowledge, at=T + 30 * H)
    c["C"] = close(env, c["C"], DEPT, T + 360 * H)
    act(env, c["C"], RES, Action.evaluate, rating=Rating.unsatisfied, at=T + (360 + 9 * 24) * H)

    c["D"] = act(env, submit(env, T + 3 * H), CW, Action.merge, target_case_id=c["B"].pk, at=T + 4 * H)
    c["E"] = act(env, submit(env, T + 3 * H), RES, Action.cancel, reason="误报", at=T + 3 * H)
    c["F"] = submit(env, T, col=2)
    g0 = T + 24 * H
    c["G"] = act(env, submit(env, g0), CW, Action.whistle, at=g0)
    c["H"] = submit(env, NOW - 30 * timedelta(minutes=1))
    c["I"] = submit(env, datetime(2026, 10, 31, 23, 30, tzinfo=TZ))
    c["J"] = act(env, submit(env, T, col=3), ADMIN, Action.whistle, at=T + H)
    c["J"] = act(env, c["J"], DEPT, Action.acknowledge, at=T + 5 * H)
    services.sla_sweep(now=NOW)
    return World(env, c)


@pytest.fixture
def world(tree: Tree) -> World:
    return build(tree)


def ratio(r: measures.Ratio) -> tuple[int, int]:
    return r.numerator, r.denominator


def test_fixture_states(world: World) -> None:
    states = {k: Case.objects.get(pk=v.pk).state for k, v in world.cases.items()}
    assert states == {
        "A": "closed",
        "B": "closed",
        "C": "closed",
        "D": "merged",
        "E": "cancelled",
        "F": "submitted",
        "G": "dispatched",
        "H": "submitted",
        "I": "submitted",
        "J": "acknowledged",
    }
    assert Case.objects.get(pk=world.cases["G"].pk).overdue


def test_subdistrict_figures(world: World) -> None:
    report = measures.area_report(area=world.env.tree.yushan, start=START, end=END, now=NOW)
    m = report.measures
    assert (m.received, m.excluded, m.closed, m.open, m.overdue) == (8, 2, 3, 3, 1)
    assert ratio(m.response) == (2, 5)  # A, B on time; C late, F and G silent past their deadlines; H not yet due
    assert ratio(m.resolution) == (3, 6)
    assert ratio(m.satisfaction) == (2, 3) and ratio(m.satisfaction_strict) == (1, 3)
    assert ratio(m.on_time) == (1, 2)  # B and C had a deadline; A (community) had none
    assert m.resolution.rate == 0.5 and m.resolution.label == "50.0%"
    assert m.closure.closed == 3
    assert m.closure.median_hours == pytest.approx(48)
    assert m.closure.mean_hours == pytest.approx((10 + 48 + 360) / 3)
    assert m.closure.p90_hours == pytest.approx(360)

    # Children sorted by the worst rate: 城南 (0 %) before 城北.
    (nan, nan_m), (bei, bei_m) = [(r.area, r.measures) for r in report.children]
    assert (nan, bei) == (world.env.tree.chengnan, world.env.tree.chengbei)
    assert (nan_m.received, ratio(nan_m.response), ratio(nan_m.resolution)) == (1, (0, 1), (0, 1))
    assert ratio(nan_m.satisfaction) == (0, 0) and nan_m.satisfaction.rate is None and nan_m.satisfaction.label == "—"
    assert (bei_m.received, bei_m.excluded, ratio(bei_m.response), ratio(bei_m.resolution)) == (7, 2, (2, 4), (3, 5))
    assert bei_m.closure.mean_hours == pytest.approx((10 + 48 + 360) / 3)

    # Departments: 城管局 had B, C and G (J is in 周市镇).
    (dept,) = report.departments
    d = dept.measures
    assert dept.department_id == world.env.tree.department.pk
    assert (d.received, d.closed, d.open, d.overdue) == (3, 2, 1, 1)
    assert ratio(d.response) == (1, 3) and ratio(d.resolution) == (2, 3)
    assert ratio(d.satisfaction) == (1, 2) and ratio(d.satisfaction_strict) == (0, 2) and ratio(d.on_time) == (1, 2)


def test_district_includes_the_other_subdistrict(world: World) -> None:
    report = measures.area_report(area=world.env.tree.district, start=START, end=END, now=NOW)
    assert (report.measures.received, ratio(report.measures.response)) == (9, (3, 6))
    # 周市镇 (J open: 解决率 0/1) is worse than 玉山镇 (worst: 响应率 2/5).
    assert [r.area for r in report.children] == [world.env.tree.zhoushi, world.env.tree.yushan]
    # An empty period: every rate is undefined, never 0 %.
    empty = measures.area_report(area=world.env.tree.district, start=END, end=END + timedelta(days=30), now=NOW)
    assert empty.measures.received == 0
    assert all(r.rate is None and r.label == "—" for _, r in empty.measures.rates)
    assert empty.measures.closure.median_hours is None


def test_department_view(world: World) -> None:
    report = measures.department_report(department=world.env.tree.department, start=START, end=END, now=NOW)
    d = report.measures
    assert (d.received, d.closed, d.open) == (4, 2, 2)
    assert ratio(d.response) == (2, 4) and ratio(d.resolution) == (2, 4) and ratio(d.on_time) == (1, 2)
    assert d.closure.median_hours == pytest.approx((48 + 360) / 2)
    other = measures.department_report(department=world.env.tree.other_department, start=START, end=END, now=NOW)
    assert other.measures.received == 0 and other.measures.response.rate is None


def test_a_rejected_assignment_leaves_the_departments_figures(tree: Tree) -> None:
    env = make_env(tree)
    case = act(env, submit(env, T), CW, Action.whistle, at=T + H)
    act(env, case, DEPT, Action.reject, reason="不属本部门", at=T + 2 * H)
    report = measures.area_report(area=tree.yushan, start=START, end=END, now=NOW)
    assert report.departments == []
    assert ratio(report.measures.response) == (0, 1)  # the case still waited past its report-in deadline


def test_periods() -> None:
    today = datetime(2026, 1, 15).date()
    assert measures.period_for("month", today).label == "2026-01-01 至 2026-01-31"
    assert measures.period_for("last_month", today).label == "2025-12-01 至 2025-12-31"
    assert measures.period_for("year", today).label == "2026-01-01 至 2026-12-31"
    custom = measures.period_for("custom", today, today, today)
    assert custom.bounds == (datetime(2026, 1, 15, tzinfo=TZ), datetime(2026, 1, 16, tzinfo=TZ))
    assert measures.period_for("custom", today, today, today - timedelta(days=1)).kind == "month"


# --- scope and the page ---------------------------------------------------------------------


def test_scope(world: World) -> None:
    tree = world.env.tree
    worker = tree.users[CW]
    assert measures.measures_target(user=worker, area_id=None).area == tree.chengbei
    assert measures.measures_target(user=worker, area_id=tree.grid1.pk).area == tree.grid1
    with pytest.raises(NotFound):
        measures.measures_target(user=worker, area_id=tree.chengnan.pk)
    with pytest.raises(NotFound):
        measures.measures_target(user=tree.users[AccountRole.SUBDISTRICT_DISPATCHER], area_id=tree.zhoushi.pk)
    officer = measures.measures_target(user=tree.users[DEPT], area_id=None)
    assert officer.department == tree.department and officer.area is None
    with pytest.raises(NotFound):
        measures.measures_target(user=tree.users[DEPT], area_id=tree.yushan.pk)
    with pytest.raises(Forbidden):
        measures.measures_target(user=tree.users[AccountRole.PARTY_SECRETARY], area_id=None)
    assert measures.measures_target(user=tree.users[ADMIN], area_id=None).area == tree.city


def _client(user: object) -> Client:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    return client


def _get(client: Client, **params: str | int) -> tuple[int, str]:
    query: dict[str, str | int] = {"period": "custom", "start": "2026-11-01", "end": "2026-11-30", **params}
    response = client.get(reverse("cases:measures"), query)
    return response.status_code, response.content.decode()


def test_page(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("grassroots.core.clock.now", lambda: NOW)
    tree = world.env.tree
    status, html = _get(_client(tree.users[AccountRole.SUBDISTRICT_DISPATCHER]))
    assert status == 200
    assert "案件指标 · 玉山镇" in html and "40.0%" in html and "2 / 5" in html and "城南社区" in html
    assert "昆山市城管局" in html and "<summary>指标口径</summary>" in html
    assert f"?area={tree.chengnan.pk}&amp;period=custom&amp;start=2026-11-01&amp;end=2026-11-30" in html
    assert measures.DEFINITIONS_BY_KEY["response"].numerator in html
    # Default period is this month (November at NOW).
    assert "2026-11-01 至 2026-11-30" in _client(tree.users[CW]).get(reverse("cases:measures")).content.decode()
    worker = _client(tree.users[CW])
    assert _get(worker, area=tree.chengnan.pk)[0] == 404
    assert _get(worker, area="x")[0] == 404
    status, html = _get(worker, area=tree.grid2.pk)
    assert status == 200 and "—" in html  # nothing in 网格二: no rate is 0 %
    status, html = _get(_client(tree.users[DEPT]))
    assert status == 200 and "案件指标 · 昆山市城管局" in html and "2 / 4" in html
    assert _get(_client(tree.users[AccountRole.PARTY_SECRETARY]))[0] == 403


def test_page_query_count_does_not_grow_with_cases(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("grassroots.core.clock.now", lambda: NOW)
    client = _client(world.env.tree.users[ADMIN])
    area = world.env.tree.district.pk
    with CaptureQueriesContext(connection) as before:
        assert _get(client, area=area)[0] == 200
    for i in range(5):
        act(world.env, submit(world.env, T + i * H, col=i % 4), ADMIN, Action.whistle, at=T + i * H)
    with CaptureQueriesContext(connection) as after:
        assert _get(client, area=area)[0] == 200
    # About 10 are the page's own (target, aggregate, median, P90, children, per path, departments, names);
    # the rest are the session, the user and the base template's.
    assert len(after) == len(before) <= 20, [q["sql"][:120] for q in after.captured_queries]


def test_docs_carry_the_definitions_verbatim() -> None:
    from pathlib import Path

    docs = (Path(__file__).resolve().parents[2] / "docs" / "measures.md").read_text(encoding="utf-8")
    for d in measures.DEFINITIONS:
        for text in (d.name, d.numerator, d.denominator, d.note):
            assert text in docs, (d.key, text)


def test_children_in_batches_give_the_same_figures(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    whole = measures.area_report(area=world.env.tree.district, start=START, end=END, now=NOW)
    monkeypatch.setattr(measures, "CHILDREN_PER_QUERY", 1)
    batched = measures.area_report(area=world.env.tree.district, start=START, end=END, now=NOW)
    assert batched == whole
    assert [ratio(r.measures.response) for r in batched.children] == [(1, 1), (2, 5)]
