"""The organisation tree: placement rules, names, deactivation, seats, coverage and scope."""

from __future__ import annotations

from datetime import date

import pytest

from grassroots.accounts.models import Role
from grassroots.accounts.scopes import scope_for
from grassroots.audit.models import AuditEntry
from grassroots.audit.services import SYSTEM
from grassroots.core.errors import DomainError, NotFound
from grassroots.core.scope import Scope
from grassroots.party import selectors, services
from grassroots.places import services as places
from tests.party.conftest import ALL, Party

pytestmark = pytest.mark.django_db


def test_the_tree_hangs_each_level_under_the_area_above(party: Party) -> None:
    assert party.chengbei.parent == party.working
    assert party.branch1.parent == party.chengbei
    group = services.org_create(
        actor=SYSTEM,
        scope=ALL,
        level="building_group",
        name="1幢党小组",
        area=party.tree.grid1,
        building=party.tree.building1,
    )
    assert group.parent == party.branch1 and group.path == party.tree.grid1.path
    assert AuditEntry.objects.filter(action="party.org.create", object_id=str(group.pk)).exists()


@pytest.mark.parametrize(
    ("level", "area_name", "message"),
    [
        ("community_committee", "yushan", "应设在社区"),
        ("grid_branch", "chengbei", "应设在网格"),
        ("working_committee", "chengbei", "应设在街道"),
        ("grid_branch", "grid3", "城南社区的社区党委"),  # 城南社区 has no committee yet
        ("building_group", "grid1", "须指定楼栋"),
        ("unit", "grid1", "须指定所属单位"),
        ("nonsense", "grid1", "未知的组织层级"),
    ],
)
def test_placement_errors(party: Party, level: str, area_name: str, message: str) -> None:
    with pytest.raises(DomainError) as exc:
        services.org_create(actor=SYSTEM, scope=ALL, level=level, name="新组织", area=getattr(party.tree, area_name))
    assert message in exc.value.message


def test_one_branch_per_grid_and_names_unique_under_a_parent(party: Party) -> None:
    with pytest.raises(DomainError, match="已有有效的网格党支部"):
        services.org_create(actor=SYSTEM, scope=ALL, level="grid_branch", name="另一个支部", area=party.tree.grid1)
    with pytest.raises(DomainError, match="已有名为“网格一党支部”"):
        services.org_create(actor=SYSTEM, scope=ALL, level="grid_branch", name="网格一党支部", area=party.tree.grid2)
    with pytest.raises(DomainError, match="不能为空"):
        services.org_create(actor=SYSTEM, scope=ALL, level="grid_branch", name="  ", area=party.tree.grid2)
    services.org_update(actor=SYSTEM, scope=ALL, org=party.working, name="周市镇党工委")  # another area: allowed
    # Renaming to a sibling's name under the same parent is refused.
    grid2 = services.org_create(
        actor=SYSTEM, scope=ALL, level="grid_branch", name="网格二党支部", area=party.tree.grid2
    )
    with pytest.raises(DomainError, match="已有名为"):
        services.org_update(actor=SYSTEM, scope=ALL, org=grid2, name="网格一党支部")


def test_micro_grids_get_no_branch_and_their_buildings_hang_under_the_grid(party: Party) -> None:
    micro = places.area_create(
        actor=SYSTEM, parent=party.tree.grid1, level="grid", code="01", name="精微网格1", grid_kind="micro"
    )
    with pytest.raises(DomainError, match="精微网格不单独设立党支部"):
        services.org_create(actor=SYSTEM, scope=ALL, level="grid_branch", name="精微支部", area=micro)
    cov = selectors.coverage(scope=ALL, area=party.tree.chengbei)
    assert [r.grid.name for r in cov.rows] == ["网格一", "网格二"]  # the micro-grid does not count


def test_a_unit_org_and_the_wrong_parent(party: Party) -> None:
    unit_org = services.org_create(
        actor=SYSTEM,
        scope=ALL,
        level="unit",
        name="税务局党支部",
        area=party.tree.chengbei,
        unit=party.unit,
        parent=party.chengbei,
    )
    assert unit_org.parent == party.chengbei
    with pytest.raises(DomainError, match="上级应为"):
        services.org_create(
            actor=SYSTEM,
            scope=ALL,
            level="unit",
            name="错挂",
            area=party.tree.chengbei,
            unit=party.unit,
            parent=party.zhoushi,
        )


def test_deactivate_needs_no_active_children_and_a_reason(party: Party) -> None:
    with pytest.raises(DomainError, match="下级党组织"):
        services.org_deactivate(actor=SYSTEM, scope=ALL, org=party.chengbei, reason="合并")
    with pytest.raises(DomainError, match="撤销原因"):
        services.org_deactivate(actor=SYSTEM, scope=ALL, org=party.branch1, reason="")
    services.org_deactivate(actor=SYSTEM, scope=ALL, org=party.branch1, reason="网格调整")
    party.branch1.refresh_from_db()
    assert not party.branch1.is_active
    # The grid is uncovered again and a new branch may be founded there.
    assert selectors.coverage(scope=ALL, area=party.tree.grid1).covered == 0
    services.org_create(actor=SYSTEM, scope=ALL, level="grid_branch", name="网格一党支部（新）", area=party.tree.grid1)


def test_out_of_scope_writes_are_not_found(party: Party) -> None:
    scope = Scope(area_path=party.tree.chengnan.path)
    with pytest.raises(NotFound):
        services.org_create(actor=SYSTEM, scope=scope, level="grid_branch", name="x", area=party.tree.grid2)
    with pytest.raises(NotFound):
        services.org_update(actor=SYSTEM, scope=scope, org=party.branch1, name="x")


def test_seats_with_part_time_members(party: Party) -> None:
    seat = services.seat_add(
        actor=SYSTEM,
        scope=ALL,
        org=party.chengbei,
        name="李警官",
        post="兼职委员",
        since=date(2025, 1, 1),
        from_department="玉山派出所",
    )
    assert seat.part_time and seat.path == party.chengbei.path
    with pytest.raises(DomainError, match="来自的单位或部门"):
        services.seat_add(
            actor=SYSTEM, scope=ALL, org=party.chengbei, name="王", post="兼职委员", since=date(2025, 1, 1)
        )
    services.seat_add(actor=SYSTEM, scope=ALL, org=party.chengbei, name="赵书记", post="书记", since=date(2024, 1, 1))
    with pytest.raises(DomainError, match="已有在任书记"):
        services.seat_add(actor=SYSTEM, scope=ALL, org=party.chengbei, name="钱", post="书记", since=date(2025, 1, 1))
    with pytest.raises(DomainError, match="不能早于"):
        services.seat_end(actor=SYSTEM, scope=ALL, seat=seat, until=date(2024, 1, 1))
    services.seat_end(actor=SYSTEM, scope=ALL, seat=seat, until=date(2025, 6, 30))
    seats = {n.org.name: [s.name for s in n.seats] for n in _walk(selectors.org_tree(scope=ALL))}
    assert seats["城北社区党委"] == ["赵书记"]  # the part-time member has left


def test_coverage_counts_grids_with_an_active_branch(party: Party) -> None:
    cov = selectors.coverage(scope=ALL, area=party.tree.yushan)
    assert (cov.covered, cov.total, cov.percent) == (1, 3, 33.3)
    assert [r.grid.name for r in cov.missing] == ["网格二", "网格三"]
    assert cov.missing[1].community == party.tree.chengnan


def test_tree_scope_for_every_role(party: Party) -> None:
    """A party secretary sees their subtree only; departments and residents see nothing."""
    tree = party.tree
    expected = {
        Role.PARTY_SECRETARY: {"城北社区党委", "网格一党支部"},
        Role.COMMUNITY_WORKER: {"城北社区党委", "网格一党支部"},
        Role.SUBDISTRICT_DISPATCHER: {"玉山镇党工委", "城北社区党委", "网格一党支部"},
        Role.DISTRICT_LEADER: {"玉山镇党工委", "城北社区党委", "网格一党支部", "周市镇党工委"},
        Role.ADMIN: {"玉山镇党工委", "城北社区党委", "网格一党支部", "周市镇党工委"},
    }
    for role in Role:
        scope = scope_for(tree.users[role], "party.view")
        if role in expected:
            seen = {n.org.name for n in _walk(selectors.org_tree(scope=scope))}
            assert seen == expected[role], role
        else:
            with pytest.raises(NotFound):
                selectors.org_tree(scope=scope)
    outsider = scope_for(tree.outsiders[Role.PARTY_SECRETARY], "party.view")
    assert {n.org.name for n in _walk(selectors.org_tree(scope=outsider))} == set()
    with pytest.raises(NotFound):
        selectors.org_get(scope=outsider, org_id=party.chengbei.pk)


def _walk(nodes: list[selectors.OrgNode]) -> list[selectors.OrgNode]:
    out = []
    for n in nodes:
        out.append(n)
        out.extend(_walk(n.children))
    return out
