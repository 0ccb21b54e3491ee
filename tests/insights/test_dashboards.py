"""The dashboards and the big screen: scope, content, a fixed number of queries."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from grassroots.accounts.models import Role
from grassroots.audit.services import SYSTEM
from grassroots.cases.workflow import Action
from grassroots.insights.services.rollups import rollups_refresh
from grassroots.places import services as places
from tests.cases.test_cases_services import act
from tests.cases.test_measures import NOW, T, submit
from tests.factories import square
from tests.insights.conftest import InsightWorld

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _now(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("grassroots.core.clock.now", lambda: NOW)


def client_for(user: object) -> Client:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    return client


def get(client: Client, name: str = "insights:dashboard", **params: object) -> tuple[int, str]:
    response = client.get(reverse(name), params)
    return response.status_code, response.content.decode()


def test_each_role_sees_its_own_area(insight_world: InsightWorld) -> None:
    tree = insight_world.tree
    rollups_refresh(now=NOW, full=True)
    status, html = get(client_for(tree.users[Role.COMMUNITY_WORKER]))
    assert status == 200
    assert "研判看板 · 城北社区" in html and "本社区关注" in html and "网格明细" in html
    assert "网格一" in html and "网格二" in html and "城南社区" not in html.split("网格明细")[1]
    status, html = get(client_for(tree.users[Role.SUBDISTRICT_DISPATCHER]))
    assert status == 200 and "研判看板 · 玉山镇" in html and "本街道关注" in html and "社区明细" in html
    # 玉山镇's November: 解决率 3/6 = 50.0 %, 响应率 2/5 = 40.0 %; 2 communities, 1 within 2,000–3,000.
    assert "50.0%" in html and "40.0%" in html
    assert "社区 2 个：规模在2000–3000户之间的 1 个" in html
    status, html = get(client_for(tree.users[Role.DISTRICT_LEADER]))
    assert status == 200 and "研判看板 · 昆山市" in html and "全区合规概览" in html and "周市镇" in html
    # The help shows every definition, and the case measures' too.
    assert "<summary>指标口径</summary>" in html and "登记完整率" in html and "按时办结率" in html


def test_out_of_scope_is_404_and_other_roles_403(insight_world: InsightWorld) -> None:
    tree = insight_world.tree
    worker = client_for(tree.users[Role.COMMUNITY_WORKER])
    assert get(worker, area=tree.chengnan.pk)[0] == 404  # the other community
    assert get(worker, area=tree.yushan.pk)[0] == 404  # above one's own
    assert get(worker, "insights:bigscreen", area=tree.grid3.pk)[0] == 404
    assert get(worker, area="x")[0] == 404
    assert get(worker, area=tree.grid1.pk)[0] == 200  # below one's own
    assert get(client_for(tree.outsiders[Role.SUBDISTRICT_DISPATCHER]), area=tree.yushan.pk)[0] == 404
    for role in (Role.GRID_WORKER, Role.PARTY_SECRETARY, Role.DEPARTMENT_OFFICER, Role.RESIDENT):
        assert get(client_for(tree.users[role]))[0] == 403, role
    assert Client().get(reverse("insights:dashboard")).status_code == 302  # to the login page


def test_first_visit_builds_the_rollups(insight_world: InsightWorld) -> None:
    status, html = get(client_for(insight_world.tree.users[Role.SUBDISTRICT_DISPATCHER]))
    assert status == 200 and "50.0%" in html  # no refresh had run: the page ran one


def test_bigscreen_map_and_points(insight_world: InsightWorld) -> None:
    tree = insight_world.tree
    rollups_refresh(now=NOW, full=True)
    status, html = get(client_for(tree.users[Role.DISTRICT_LEADER]), "insights:bigscreen", measure="completeness")
    assert status == 200 and "一网统管指挥大屏" in html
    assert "tile" not in html.lower()  # our GeoJSON only
    data = json.loads(html.split('id="bigscreen-data" type="application/json">')[1].split("</script>")[0])
    features = {f["properties"]["name"]: f["properties"] for f in data["grids"]["features"]}
    assert set(features) == {"网格一", "网格二", "网格三", "网格四"}
    assert features["网格一"]["values"]["completeness"] == pytest.approx(1 / 3)
    assert features["网格一"]["labels"]["households"] == "400"
    assert features["网格三"]["values"]["centre"] == 1.0  # 城南's centre meets the standard
    # November's open cases: F and H (submitted), G (dispatched), J (acknowledged); I is October's.
    assert sum(p["n"] for p in data["points"]) == 4
    assert '<option value="completeness" selected>' in html


def _grow(world: InsightWorld, n: int) -> None:
    """``n`` more communities with a grid each under 玉山镇, cases in them, a fresh refresh."""
    tree = world.tree
    for i in range(n):
        community = places.area_create(
            actor=SYSTEM, parent=tree.yushan, level="community", code=f"1{i:02d}", name=f"新社区{i}"
        )
        places.area_create(
            actor=SYSTEM,
            parent=community,
            level="grid",
            code="01",
            name=f"新网格{i}",
            grid_kind="comprehensive",
            geometry=square(5 + i, 1),
        )
    env = world.cases.env
    for i in range(n):
        act(env, submit(env, T, col=i % 3), Role.ADMIN, Action.accept, at=T)
    rollups_refresh(now=NOW, full=True)


@pytest.mark.parametrize("name", ["insights:dashboard", "insights:bigscreen"])
def test_queries_do_not_grow_with_grids_or_cases(insight_world: InsightWorld, name: str) -> None:
    tree = insight_world.tree
    rollups_refresh(now=NOW, full=True)
    client = client_for(tree.users[Role.SUBDISTRICT_DISPATCHER])
    with CaptureQueriesContext(connection) as before:
        assert get(client, name)[0] == 200
    _grow(insight_world, 6)
    with CaptureQueriesContext(connection) as after:
        status, html = get(client, name)
    assert status == 200 and ("新社区5" in html or json.dumps("新社区5")[1:-1] in html)
    assert len(after) == len(before), [q["sql"][:100] for q in after.captured_queries]
    assert len(after) <= 40
