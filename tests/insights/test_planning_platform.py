"""Grid planning in the platform (issue 9): the command, the proposal, accept/discard, scope and capability.

城北社区 gets six loose buildings of 200 households in a row of grid1 (1,200 + the tree's 24 in
阳光花园 1幢 = 1,224 households in grid1, grid2 empty): at 300–500 that is three grids.
"""

from __future__ import annotations

import json
import re
from datetime import date
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from grassroots.accounts.models import GridRoleAssignment, GridRoleKind, Role
from grassroots.audit.models import AuditEntry
from grassroots.audit.services import SYSTEM
from grassroots.core.errors import DomainError
from grassroots.core.ids import make_id_number
from grassroots.insights.models import PlanProposal, ProposalStatus, RegistryRollup
from grassroots.insights.services.planning import proposal_accept, proposal_create, proposal_discard
from grassroots.places import services as places
from grassroots.places.models import Area, Building, Dwelling, Entrance
from grassroots.places.planning import NoPlanError
from grassroots.registry import services as registry
from tests.factories import ORIGIN, Tree

pytestmark = pytest.mark.django_db


def map_data(page: str) -> dict[str, Any]:
    found = re.search(r'<script id="planning-data" type="application/json">(.*?)</script>', page, re.S)
    assert found is not None
    data: dict[str, Any] = json.loads(found.group(1))
    return data


@pytest.fixture
def city(tree: Tree) -> Tree:
    for i in range(6):
        b = places.building_create(
            actor=SYSTEM,
            grid=tree.grid1,
            name=f"{i + 10}幢",
            typology="multi_storey",
            floors=2,
            entrances=1,
            dwellings_per_floor=1,
            lon=ORIGIN[0] + 0.001 + 0.0012 * i,
            lat=ORIGIN[1] + 0.002 + 0.0003 * (i % 2),
        )
        Building.objects.filter(pk=b.pk).update(households=200)
    registry.person_create(
        actor=SYSTEM,
        name="李明",
        id_number=make_id_number("320583", date(1970, 3, 9), 11, "M"),
        phone="13912340001",
        dwelling=Dwelling.objects.filter(building__name="10幢").first(),
    )
    GridRoleAssignment.objects.create(
        grid=tree.grid1, path=tree.grid1.path, kind=GridRoleKind.GRID_WORKER, name="张网格", since=date(2026, 1, 1)
    )
    return tree


def test_command_prints_a_valid_plan_and_saves_it(city: Tree) -> None:
    out = StringIO()
    call_command("plan_grids", city.chengbei.path, "--save", stdout=out)
    text = out.getvalue()
    assert "1224 户" in text and "已保存方案" in text
    proposal = PlanProposal.objects.get()
    units = proposal.result["units"]
    assert len(units) == 3
    assert all(300 <= u["households"] <= 500 and u["within_bounds"] and u["contiguous"] for u in units)
    assert sum(u["households"] for u in units) == 1224
    assert sum(u["residents"] for u in units) == 1
    # every building in exactly one unit; the compound's single building is not split
    buildings = sorted(b for u in units for b in u["buildings"])
    assert buildings == sorted(
        Building.objects.filter(path__startswith=city.chengbei.path).values_list("pk", flat=True)
    )
    assert all(u["polygon"]["type"] in ("Polygon", "MultiPolygon") for u in units)
    # the largest piece keeps grid1 (fewest households moved); the others are new
    assert [u["existing"] for u in units].count(True) == 1
    assert sum(u["households_moved"] for u in units) == proposal.result["households_moved"]
    lon, lat = units[0]["polygon"]["coordinates"][0][0][:2] if units[0]["polygon"]["type"] == "Polygon" else (0, 0)
    assert abs(lon - ORIGIN[0]) < 0.05 and abs(lat - ORIGIN[1]) < 0.05  # back in WGS-84
    for u in units:  # one line per grid
        assert f"{u['name']}\t城北社区\t{u['households']}\t" in text
    assert AuditEntry.objects.filter(action="insights.plan.propose").count() == 1


def test_infeasible_area_is_explained_with_exit_code_2(city: Tree) -> None:
    Building.objects.filter(path__startswith=city.chengbei.path).update(households=0)
    Building.objects.filter(pk=city.building1.pk).update(households=550)
    out, err = StringIO(), StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("plan_grids", str(city.chengbei.pk), stdout=out, stderr=err)
    assert exit_.value.code == 2
    assert "城北社区" in out.getvalue() and "550户" in out.getvalue() and "超过上限500户" in out.getvalue()
    assert "550 households" in err.getvalue()
    assert not PlanProposal.objects.exists()
    with pytest.raises(NoPlanError):
        proposal_create(actor=SYSTEM, area=city.chengbei)


def test_accept_moves_buildings_keeps_history_and_refuses_twice(city: Tree) -> None:
    before = dict(Building.objects.filter(path__startswith=city.chengbei.path).values_list("pk", "path"))
    proposal = proposal_create(actor=SYSTEM, area=city.chengbei)
    grids_before = Area.objects.filter(parent=city.chengbei).count()
    proposal = proposal_accept(actor=SYSTEM, proposal=proposal)
    assert proposal.status == ProposalStatus.ACCEPTED
    assert proposal.previous["buildings"] == {str(k): v for k, v in before.items()}
    assert Area.objects.filter(parent=city.chengbei).count() == grids_before + 2  # two new grids
    paths = proposal.result["grid_paths"]
    for key, label in proposal.result["assignment"].items():
        b = Building.objects.get(pk=int(key))
        assert b.path == paths[label] and b.grid.path == paths[label]
        assert set(Entrance.objects.filter(building=b).values_list("path", flat=True)) == {b.path}
        assert set(Dwelling.objects.filter(building=b).values_list("path", flat=True)) == {b.path}
    per_grid = {}
    for b in Building.objects.filter(path__startswith=city.chengbei.path):
        per_grid[b.path] = per_grid.get(b.path, 0) + b.households
    assert sorted(per_grid.values()) == sorted(u["households"] for u in proposal.result["units"])
    assert all(300 <= h <= 500 for h in per_grid.values())
    # the dashboards' registry rollup follows the buildings
    assert dict(RegistryRollup.objects.filter(path__in=per_grid).values_list("path", "households")) == per_grid
    moved = sum(1 for k, v in before.items() if Building.objects.get(pk=k).path != v)
    assert proposal.previous["buildings_moved"] == moved > 0
    assert AuditEntry.objects.filter(action="places.building.move").count() == moved
    # staff: grid1's worker gets a suggestion (grid1 keeps the largest share, so stays)
    assert proposal.staff == [
        {
            "name": "张网格",
            "kind": "网格员",
            "user_id": None,
            "old_grid": "网格一",
            "old_path": city.grid1.path,
            "suggested_path": city.grid1.path,
            "suggested_grid": "网格一",
            "stays": True,
        }
    ]
    with pytest.raises(DomainError):
        proposal_accept(actor=SYSTEM, proposal=proposal)
    with pytest.raises(DomainError):
        proposal_discard(actor=SYSTEM, proposal=proposal)
    assert Area.objects.filter(parent=city.chengbei).count() == grids_before + 2


def test_stale_proposal_is_refused(city: Tree) -> None:
    proposal = proposal_create(actor=SYSTEM, area=city.chengbei)
    b = Building.objects.filter(name="10幢").get()
    from grassroots.places.replan import building_move

    building_move(actor=SYSTEM, building=b, grid=city.grid2)
    with pytest.raises(DomainError, match="重新生成"):
        proposal_accept(actor=SYSTEM, proposal=proposal)
    assert PlanProposal.objects.get().status == ProposalStatus.PROPOSED


def test_page_scope_capability_and_buttons(city: Tree) -> None:
    worker = Client()
    worker.force_login(city.users[Role.COMMUNITY_WORKER])
    page = worker.get(f"/insights/planning/?area={city.chengbei.pk}")
    assert page.status_code == 200
    assert "生成方案" in page.content.decode()
    assert worker.get(f"/insights/planning/?area={city.chengnan.pk}").status_code == 404
    response = worker.post("/insights/planning/propose/", {"area": city.chengbei.pk, "floor": 300, "ceiling": 500})
    assert response.status_code == 302
    proposal = PlanProposal.objects.get()
    page = worker.get(response["Location"]).content.decode()
    assert "采纳方案" in page and "放弃方案" in page and f"方案 #{proposal.pk}" in page
    data = map_data(page)
    assert [f["properties"]["name"] for f in data["current"]["features"]] == ["网格一"]  # grid2 has no buildings
    assert len(data["proposal"]["features"]) == 3
    assert (data["floor"], data["ceiling"], data["standard"]) == (300, 500, [300, 500])
    # infeasible bounds: explained in Chinese, nothing stored
    response = worker.post(
        "/insights/planning/propose/", {"area": city.chengbei.pk, "floor": 700, "ceiling": 720}, follow=True
    )
    assert "无法生成方案" in response.content.decode()
    assert PlanProposal.objects.count() == 1
    # outside the worker's community: 404 on propose and decide
    other = Client()
    other.force_login(city.outsiders[Role.COMMUNITY_WORKER])
    assert other.post("/insights/planning/propose/", {"area": city.chengbei.pk}).status_code == 404
    assert other.post(f"/insights/planning/{proposal.pk}/accept/").status_code == 404
    # a grid worker may view (insights.view?) but not accept
    grid_worker = Client()
    grid_worker.force_login(city.users[Role.GRID_WORKER])
    assert grid_worker.post(f"/insights/planning/{proposal.pk}/accept/").status_code == 403
    resident = Client()
    resident.force_login(city.users[Role.RESIDENT])
    assert resident.get(f"/insights/planning/?area={city.chengbei.pk}").status_code == 403
    # accept through the page
    response = worker.post(f"/insights/planning/{proposal.pk}/accept/", follow=True)
    assert "已采纳方案" in response.content.decode()
    assert "张网格" in response.content.decode()
    assert PlanProposal.objects.get().status == ProposalStatus.ACCEPTED
    response = worker.post(f"/insights/planning/{proposal.pk}/accept/", follow=True)
    assert "不能再次采纳" in response.content.decode()


def test_people_follow_their_building_to_its_new_grid(city: Tree) -> None:
    from grassroots.registry.models import Person

    for i, name in enumerate(["王芳", "赵强", "孙丽", "周杰", "吴敏"]):
        registry.person_create(
            actor=SYSTEM,
            name=name,
            id_number=make_id_number("320583", date(1980 + i, 5, 9), 21 + i, "F"),
            phone=f"1391234{i + 10:04d}",
            dwelling=Dwelling.objects.filter(building__name=f"{i + 11}幢").first(),
        )
    proposal = proposal_accept(actor=SYSTEM, proposal=proposal_create(actor=SYSTEM, area=city.chengbei))
    moved = proposal.previous["buildings_moved"]
    assert moved > 0
    people = list(Person.objects.filter(dwelling__building__grid__parent=city.chengbei).select_related("dwelling"))
    assert len(people) == 6
    for person in people:
        assert person.path == person.dwelling.path, person.name  # the person's grid is the building's
    assert AuditEntry.objects.filter(action="registry.residents.follow_building").count() == moved
