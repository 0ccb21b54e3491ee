"""Accepting a grid plan retires the old grids it emptied (issue 9): they leave the compliance report."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.test import Client

from grassroots.accounts.models import GridRoleAssignment, GridRoleKind, Role
from grassroots.audit.models import AuditEntry
from grassroots.audit.services import SYSTEM
from grassroots.core import clock
from grassroots.core.ids import make_id_number
from grassroots.insights.selectors.compliance import compliance_report
from grassroots.insights.services.planning import proposal_accept, proposal_create
from grassroots.places import services as places
from grassroots.places.models import Area, Building, Dwelling
from grassroots.registry import services as registry
from tests.factories import Tree, centre
from tests.insights.test_planning_platform import map_data

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "now", lambda: NOW)
    monkeypatch.setattr(clock, "today", lambda: NOW.date())


def _building(grid: Area, name: str, households: int, dx: float) -> Building:
    lon, lat = centre(0, 0)
    b = places.building_create(
        actor=SYSTEM,
        grid=grid,
        name=name,
        typology="multi_storey",
        floors=2,
        entrances=1,
        dwellings_per_floor=1,
        lon=lon + dx,
        lat=lat,
    )
    Building.objects.filter(pk=b.pk).update(households=households)
    return b


@pytest.fixture
def city(tree: Tree) -> Tree:
    """城北: grid1 324 households (阳光花园 1幢 24 + two of 150), grid2 one building of 100 beside them.

    424 households make one grid at 300–500: grid1 keeps it (the largest piece), grid2 is emptied.
    """
    _building(tree.grid1, "10幢", 150, 0.0012)
    _building(tree.grid1, "11幢", 150, 0.0024)
    _building(tree.grid2, "12幢", 100, 0.0036)
    return tree


def test_accept_retires_the_emptied_grid_and_the_compliance_report_drops_it(city: Tree) -> None:
    admin = city.users[Role.ADMIN]
    holder = GridRoleAssignment.objects.create(
        grid=city.grid2, path=city.grid2.path, kind=GridRoleKind.GRID_WORKER, name="王网格", since=date(2026, 1, 1)
    )
    before = compliance_report(user=admin, area=city.chengbei, today=NOW.date())
    assert [g.area.name for g in before.grids if g.area] == ["网格一", "网格二"]
    proposal = proposal_accept(actor=SYSTEM, proposal=proposal_create(actor=SYSTEM, area=city.chengbei))
    assert proposal.previous["emptied"] == [city.grid2.path]
    assert proposal.previous["retired"] == [{"path": city.grid2.path, "name": "网格二"}]
    assert proposal.previous["not_retired"] == []
    grid2 = Area.objects.get(pk=city.grid2.pk)
    assert grid2.retired_at == NOW and grid2.path == city.grid2.path  # kept, not deleted
    assert Area.objects.get(pk=city.grid1.pk).retired_at is None
    # the holder's term ended today; the proposal still says who it was and where to go
    holder.refresh_from_db()
    assert holder.until == NOW.date()
    assert [(s["name"], s["old_grid"], s["suggested_grid"]) for s in proposal.staff] == [("王网格", "网格二", "网格一")]
    assert AuditEntry.objects.filter(action="accounts.grid_role.end", object_id=str(holder.pk)).count() == 1
    assert AuditEntry.objects.get(action="places.area.retire").object_id == str(grid2.pk)
    assert AuditEntry.objects.get(action="insights.plan.accept").detail["retired"] == [grid2.path]
    after = compliance_report(user=admin, area=city.chengbei, today=NOW.date())
    assert [g.area.name for g in after.grids if g.area] == ["网格一"]
    assert all(g.area != grid2 for g in after.grids_out)
    assert [c.grid.name for c in after.without_org] == ["网格一"]  # 一网格一组织 no longer asks for 网格二


def test_a_grid_with_people_left_on_it_stays_live_and_keeps_its_staff(city: Tree) -> None:
    from grassroots.registry.models import Person

    person = registry.person_create(
        actor=SYSTEM,
        name="李明",
        id_number=make_id_number("320583", date(1970, 3, 9), 11, "M"),
        dwelling=Dwelling.objects.filter(building__name="12幢").first(),
    )
    Person.objects.filter(pk=person.pk).update(dwelling=None)  # registered on the grid, not in a dwelling
    holder = GridRoleAssignment.objects.create(
        grid=city.grid2, path=city.grid2.path, kind=GridRoleKind.GRID_WORKER, name="王网格", since=date(2026, 1, 1)
    )
    proposal = proposal_accept(actor=SYSTEM, proposal=proposal_create(actor=SYSTEM, area=city.chengbei))
    assert proposal.previous["retired"] == []
    assert proposal.previous["not_retired"] == [
        {"path": city.grid2.path, "name": "网格二", "reason": "仍有1名人员登记在该网格"}
    ]
    assert Area.objects.get(pk=city.grid2.pk).retired_at is None
    holder.refresh_from_db()
    assert holder.until is None
    assert not AuditEntry.objects.filter(action__in=["places.area.retire", "accounts.grid_role.end"]).exists()


def test_the_page_says_which_grids_were_retired(city: Tree) -> None:
    worker = Client()
    worker.force_login(city.users[Role.COMMUNITY_WORKER])
    proposal = proposal_create(actor=SYSTEM, area=city.chengbei)
    response = worker.post(f"/insights/planning/{proposal.pk}/accept/", follow=True)
    page = response.content.decode()
    assert "已撤销无楼栋的原网格：网格二" in page
    assert "采纳时已撤销" in page
    # the planning page no longer lists the retired grid among the current ones
    page = worker.get(f"/insights/planning/?area={city.chengbei.pk}").content.decode()
    assert [f["properties"]["name"] for f in map_data(page)["current"]["features"]] == ["网格一"]
    assert "现有网格（1 个）" in page  # not "2 个, 1 个没有楼栋"
