"""Retiring an area (issue 9): only an empty grid, audited; a retired grid leaves every live list
but keeps its id, path and history (an old case still shows it, marked 已撤销)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.test import Client

from grassroots.accounts.models import GridRoleAssignment, GridRoleKind, Role
from grassroots.audit.models import AuditEntry
from grassroots.audit.services import SYSTEM
from grassroots.core import clock
from grassroots.core.errors import DomainError, NotFound
from grassroots.core.scope import Scope
from grassroots.places import selectors
from grassroots.places import services as places
from grassroots.places.models import Area, Building
from grassroots.places.replan import building_move
from tests.factories import Tree, add_resident, centre

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
EVERYTHING = Scope.everything()


@pytest.fixture(autouse=True)
def _clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "now", lambda: NOW)
    monkeypatch.setattr(clock, "today", lambda: NOW.date())


def retire(grid: Area) -> Area:
    return places.area_retire(actor=SYSTEM, area=grid, reason="并入相邻网格")


def test_refused_while_buildings_remain(tree: Tree) -> None:
    with pytest.raises(DomainError, match="“网格一”还有1栋楼栋") as refused:
        retire(tree.grid1)
    assert "迁出或调整后才能撤销" in refused.value.message
    tree.grid1.refresh_from_db()
    assert tree.grid1.retired_at is None
    assert not AuditEntry.objects.filter(action="places.area.retire").exists()


def test_refused_while_residents_remain_on_its_dwellings(tree: Tree) -> None:
    add_resident(tree)
    # A half-done move: the building row left but its dwellings (and their resident) did not.
    Building.objects.filter(pk=tree.building1.pk).update(grid=tree.grid2, path=tree.grid2.path)
    with pytest.raises(DomainError, match="1名居住人员"):
        retire(tree.grid1)


def test_refused_while_a_grid_role_is_held_then_allowed_once_the_term_ends(tree: Tree) -> None:
    holder = GridRoleAssignment.objects.create(
        grid=tree.grid2, path=tree.grid2.path, kind=GridRoleKind.GRID_WORKER, name="王网格", since=date(2026, 1, 1)
    )
    with pytest.raises(DomainError, match="在岗网格四员（王网格）"):
        retire(tree.grid2)
    holder.until = date(2026, 11, 19)
    holder.save()
    assert retire(tree.grid2).retired_at == NOW


def test_refused_while_a_live_micro_grid_remains_and_for_other_levels(tree: Tree) -> None:
    micro = places.area_create(
        actor=SYSTEM, parent=tree.grid2, level="grid", code="01", name="精微一", grid_kind="micro"
    )
    with pytest.raises(DomainError, match="未撤销的精微网格（精微一）"):
        retire(tree.grid2)
    retire(micro)  # a micro-grid is retired like a grid
    retire(tree.grid2)
    with pytest.raises(DomainError, match="只能撤销网格"):
        retire(tree.chengnan)
    with pytest.raises(DomainError, match="必须说明原因"):
        places.area_retire(actor=SYSTEM, area=tree.grid4, reason=" ")


def test_empty_grid_is_retired_audited_kept_and_restorable(tree: Tree) -> None:
    pk, path = tree.grid2.pk, tree.grid2.path
    grid = retire(tree.grid2)
    assert grid.retired_at == NOW and grid.pk == pk and grid.path == path
    assert Area.objects.get(pk=pk).display_name == "网格二（已撤销）"
    entry = AuditEntry.objects.get(action="places.area.retire")
    assert entry.object_id == str(pk) and entry.area_path == path and entry.detail["reason"] == "并入相邻网格"
    with pytest.raises(DomainError, match="已于2026-11-20撤销"):
        retire(grid)
    # nothing new may be put in it
    with pytest.raises(DomainError, match="已撤销"):
        building_move(actor=SYSTEM, building=tree.building1, grid=grid)
    with pytest.raises(DomainError, match="已撤销"):
        places.area_create(actor=SYSTEM, parent=grid, level="grid", code="09", name="精微", grid_kind="micro")
    places.area_restore(actor=SYSTEM, area=grid, reason="误撤销")
    assert Area.objects.get(pk=pk).retired_at is None
    assert AuditEntry.objects.filter(action="places.area.restore", object_id=str(pk)).count() == 1


def test_retired_grid_leaves_tree_map_locator_counts_and_pickers(tree: Tree) -> None:
    from grassroots.cases.selectors.queues import grids_for
    from grassroots.party.forms import _areas
    from grassroots.volunteers.selectors.roles import grids_in_scope

    admin = tree.users[Role.ADMIN]
    lon, lat = centre(1, 0)  # inside 网格二
    assert selectors.grid_at_point(scope=EVERYTHING, lon=lon, lat=lat) == tree.grid2
    stats_before = selectors.area_stats(scope=EVERYTHING, area=tree.yushan)["grids"]
    retire(tree.grid2)
    assert [a.name for a in selectors.area_children(scope=EVERYTHING, area=tree.chengbei)] == ["网格一"]
    assert list(selectors.children_household_counts(scope=EVERYTHING, area=tree.chengbei)) == [tree.grid1.pk]
    assert selectors.area_stats(scope=EVERYTHING, area=tree.yushan)["grids"] == stats_before - 1
    names = {f["properties"]["name"] for f in selectors.grid_features(scope=EVERYTHING, area=tree.chengbei)["features"]}
    assert names == {"网格一"}
    with pytest.raises(NotFound):
        selectors.grid_at_point(scope=EVERYTHING, lon=lon, lat=lat)
    assert selectors.grids_at_point(scope=EVERYTHING, lon=lon, lat=lat) == []
    assert tree.grid2 not in grids_for(admin, "cases.view")
    assert tree.grid1 in grids_for(admin, "cases.view")
    assert tree.grid2 not in grids_in_scope(scope=EVERYTHING)
    assert tree.grid2 not in list(_areas(EVERYTHING, ("community", "grid")))
    assert tree.grid1 in list(_areas(EVERYTHING, ("community", "grid")))
    # still reachable by id or path: history pages open it
    assert selectors.area_get(scope=EVERYTHING, area_id=tree.grid2.pk) == tree.grid2


def test_old_case_keeps_its_retired_grid_and_shows_it_by_name(tree: Tree) -> None:
    from grassroots.cases import services as cases
    from grassroots.cases.models import Case

    category = cases.category_create(actor=SYSTEM, code="road.pothole", name="道路坑洼", kind="event")
    cases.assignment_save(
        actor=SYSTEM, scope=EVERYTHING, category=category, area=tree.district, departments=[tree.department]
    )
    lon, lat = centre(1, 0)
    case = cases.case_submit(
        actor=tree.users[Role.RESIDENT],
        scope=EVERYTHING,
        channel="resident_h5",
        category=category,
        description="路面有坑",
        lon=lon,
        lat=lat,
        now=NOW,
    ).case
    assert case.grid == tree.grid2
    retire(tree.grid2)
    assert Case.objects.get(pk=case.pk).grid_id == tree.grid2.pk
    client = Client()
    client.force_login(tree.users[Role.ADMIN])
    page = client.get(f"/cases/{case.pk}/")
    assert page.status_code == 200
    assert "网格二（已撤销）" in page.content.decode()
