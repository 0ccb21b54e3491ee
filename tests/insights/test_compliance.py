"""The compliance report (issue 9) on the hand-counted registry of tests/insights/conftest.py.

grid1 400 households (in 300–500), grid2 0, grid3 2,500 (both out); grid4 is in 周市 (outside 玉山镇)
城北社区 400 households (out of 2,000–3,000), 3 residents, 1 worker → 3,333 per 10,000
城南社区 2,500 households (in), 1 resident, 1 worker (at grid3)
centres: 城北 100 m² for 400 households = 25 m² per 100 (fails 30); 城南 800 m² for 2,500 = 32 (meets)
party: one grid branch, on grid1 → grid2 and grid3 have none
"""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client

from grassroots.accounts.models import Role
from grassroots.accounts.scopes import can
from grassroots.audit.services import SYSTEM
from grassroots.core.errors import NotFound
from grassroots.core.scope import Scope
from grassroots.insights.selectors.compliance import compliance_report
from grassroots.insights.services.rollups import rollups_refresh
from grassroots.party.services.orgs import org_create
from grassroots.places.models import Building
from tests.factories import Tree
from tests.insights.conftest import add_registry

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 20)


@pytest.fixture
def world(tree: Tree) -> Tree:
    add_registry(tree)
    everything = Scope.everything()
    org_create(actor=SYSTEM, scope=everything, level="working_committee", name="玉山镇党工委", area=tree.yushan)
    org_create(actor=SYSTEM, scope=everything, level="community_committee", name="城北社区党委", area=tree.chengbei)
    org_create(actor=SYSTEM, scope=everything, level="grid_branch", name="网格一党支部", area=tree.grid1)
    rollups_refresh(full=True)
    return tree


def test_figures_by_hand(world: Tree) -> None:
    admin = world.users[Role.ADMIN]
    report = compliance_report(user=admin, area=world.yushan, today=TODAY)
    assert [g.area.name for g in report.grids if g.area] == ["网格一", "网格二", "网格三"]
    assert [(g.area.name, g.households) for g in report.grids_out if g.area] == [("网格二", 0), ("网格三", 2500)]
    assert report.grid_share == pytest.approx(1 / 3)
    rows = {c.area.name: c for c in report.communities}
    assert set(rows) == {"城北社区", "城南社区"}
    assert [c.area.name for c in report.communities_out] == ["城北社区"]
    assert report.to_split == []
    assert rows["城北社区"].workers_per_10k == pytest.approx(10000 / 3)
    assert rows["城南社区"].workers_per_10k == pytest.approx(10000)
    assert report.understaffed == []
    assert rows["城北社区"].m2_per_100 == pytest.approx(25.0)
    assert rows["城北社区"].centre_ok is False
    assert rows["城南社区"].m2_per_100 == pytest.approx(32.0)
    assert rows["城南社区"].centre_ok is True
    assert [c.area.name for c in report.centres_failing] == ["城北社区"]
    assert sorted(r.grid.name for r in report.without_org) == ["网格三", "网格二"]
    assert report.org_total == 3


def test_split_and_understaffing_thresholds(world: Tree) -> None:
    # 5,001 households: over the split threshold (and out of range); residents unchanged.
    Building.objects.filter(pk=world.building3.pk).update(households=5001)
    rollups_refresh(full=True)
    report = compliance_report(user=world.users[Role.ADMIN], area=world.chengnan, today=TODAY)
    assert [c.area.name for c in report.to_split] == ["城南社区"]
    # 5,000 exactly is not over the threshold.
    Building.objects.filter(pk=world.building3.pk).update(households=5000)
    rollups_refresh(full=True)
    report = compliance_report(user=world.users[Role.ADMIN], area=world.chengnan, today=TODAY)
    assert report.to_split == []


def test_scope(world: Tree) -> None:
    with pytest.raises(NotFound):
        compliance_report(user=world.outsiders[Role.COMMUNITY_WORKER], area=world.chengbei, today=TODAY)


def test_page(world: Tree) -> None:
    client = Client()
    client.force_login(world.users[Role.COMMUNITY_WORKER])
    page = client.get(f"/insights/compliance/?area={world.chengbei.pk}")
    assert page.status_code == 200
    text = page.content.decode()
    assert "网格二" in text and "城北社区" in text and "25.0" in text
    assert client.get(f"/insights/compliance/?area={world.chengnan.pk}").status_code == 404
    resident = Client()
    resident.force_login(world.users[Role.RESIDENT])
    assert resident.get(f"/insights/compliance/?area={world.chengbei.pk}").status_code == 403


@pytest.mark.parametrize("role", list(Role))
def test_pages_open_without_an_area_for_every_role_that_may_view(tree: Tree, role: str) -> None:
    """The navigation links carry no ?area=: each page opens on the user's own area (or refuses with 403)."""
    client = Client()
    user = tree.users[role]
    client.force_login(user)
    for url in ("/insights/planning/", "/insights/compliance/"):
        expected = 200 if can(user, "insights.view") else 403
        assert client.get(url).status_code == expected, (role, url)
