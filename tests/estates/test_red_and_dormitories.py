"""红色业委会 cross appointments and dormitory zones (集宿区), through the services."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from grassroots.audit.models import AuditEntry
from grassroots.audit.services import SYSTEM
from grassroots.core.errors import DomainError, NotFound
from grassroots.core.scope import Scope
from grassroots.estates import selectors, services
from grassroots.estates.models import DormitoryHead
from grassroots.party import services as party
from grassroots.places import services as places
from grassroots.places.models import Compound
from tests.estates.conftest import ALL, TODAY, Estate, make_compound
from tests.factories import Tree, centre

pytestmark = pytest.mark.django_db


@pytest.fixture
def org(tree: Tree) -> Any:
    party.org_create(actor=SYSTEM, scope=ALL, level="working_committee", name="玉山镇党工委", area=tree.yushan)
    return party.org_create(
        actor=SYSTEM, scope=ALL, level="community_committee", name="城北社区党委", area=tree.chengbei
    )


def _appoint(estate: Estate, person: Any, org: Any, **kw: Any) -> Any:
    args: dict[str, Any] = {"party_post": "member", "direction": "into_party", "since": date(2024, 3, 1)} | kw
    return services.cross_appoint(
        actor=SYSTEM, scope=ALL, committee=estate.committee, person=person, party_org=org, **args
    )


def test_red_committee_needs_a_cross_appointment_and_a_party_majority(estate: Estate, org: Any) -> None:
    a = estate.seat("甲", party_member=True, post="director")
    estate.seat("乙", party_member=True)
    estate.seat("丙")
    [row] = selectors.red_committees(scope=ALL, on=TODAY)
    assert (row.share.members, row.share.party_members, row.cross, row.meets) == (3, 2, 0, False)
    assert row.problems == ["无交叉任职"]
    _appoint(estate, a.person, org, party_post="secretary", direction="into_committee")
    [row] = selectors.red_committees(scope=ALL, on=TODAY)
    assert (row.cross, row.meets, row.problems) == (1, True, [])
    # A fourth, non-party member: 2 of 4 is not more than half.
    estate.seat("丁")
    [row] = selectors.red_committees(scope=ALL, on=TODAY)
    assert (row.meets, row.problems) == (False, ["党员委员未过半"])
    assert AuditEntry.objects.filter(action="estates.cross.appoint").count() == 1


def test_cross_appointment_checks(tree: Tree, estate: Estate, org: Any) -> None:
    member = estate.seat("甲", party_member=True)
    plain = estate.seat("乙")
    outsider = estate.person("丙", party_member=True)  # not on the committee
    with pytest.raises(DomainError, match="不是有效党员"):
        _appoint(estate, plain.person, org)
    with pytest.raises(DomainError, match="不是本届业主委员会委员"):
        _appoint(estate, outsider, org)
    with pytest.raises(DomainError, match="不是本届业主委员会委员"):
        _appoint(estate, member.person, org, since=date(2023, 12, 31))
    far = party.org_create(
        actor=SYSTEM, scope=ALL, level="community_committee", name="城南社区党委", area=tree.chengnan
    )
    with pytest.raises(DomainError, match="所在社区"):
        _appoint(estate, member.person, far)
    with pytest.raises(NotFound):
        services.cross_appoint(
            actor=SYSTEM,
            scope=Scope(area_path=tree.chengnan.path),
            committee=estate.committee,
            person=member.person,
            party_org=org,
            party_post="member",
            direction="into_party",
            since=date(2024, 3, 1),
        )
    appointment = _appoint(estate, member.person, org)
    with pytest.raises(DomainError, match="已登记"):
        _appoint(estate, member.person, org)
    # The person leaves the committee: the appointment no longer counts.
    services.member_end(actor=SYSTEM, scope=ALL, member=member, until=date(2026, 5, 1))
    [row] = selectors.cross_appointments(scope=ALL, committee=estate.committee, on=TODAY)
    assert row.appointment.pk == appointment.pk and not row.current
    assert selectors.red_committees(scope=ALL, on=TODAY)[0].cross == 0
    services.cross_end(actor=SYSTEM, scope=ALL, appointment=appointment, until=date(2026, 5, 1))
    with pytest.raises(DomainError, match="已结束"):
        services.cross_end(actor=SYSTEM, scope=ALL, appointment=appointment, until=date(2026, 5, 1))


# --- dormitory zones ---------------------------------------------------------------------------------


@pytest.fixture
def dorm(tree: Tree) -> Compound:
    compound = make_compound(tree, "城北集宿区", kind="dormitory")
    lon, lat = centre(0, 0)
    places.building_create(
        actor=SYSTEM,
        grid=tree.grid1,
        compound=compound,
        name="A栋",
        typology="multi_storey",
        floors=5,
        entrances=1,
        dwellings_per_floor=2,
        lon=lon,
        lat=lat,
    )
    return compound


def _zone(compound: Compound, workers: int, staff_full: bool = False, joint: date | None = None) -> Any:
    return services.zone_save(
        actor=SYSTEM, scope=ALL, compound=compound, workers=workers, staff_full=staff_full, joint_committee_on=joint
    )


def test_large_zone_needs_staff_and_a_joint_committee(tree: Tree, dorm: Compound) -> None:
    with pytest.raises(DomainError, match="集宿区"):
        _zone(Compound.objects.get(name="阳光花园"), 100)
    _zone(dorm, 3000)
    [row] = selectors.zone_list(scope=Scope(area_path=tree.chengbei.path))
    assert row.problems == []
    _zone(dorm, 3001)
    [row] = selectors.zone_list(scope=ALL)
    assert row.problems == ["管理人员未配齐", "未成立联合管委会"]
    _zone(dorm, 3001, staff_full=True, joint=date(2026, 1, 5))
    [row] = selectors.zone_list(scope=ALL)
    assert row.problems == [] and row.zone.workers == 3001
    assert selectors.zone_list(scope=Scope(area_path=tree.zhoushi.path)) == []
    with pytest.raises(NotFound):
        services.zone_save(
            actor=SYSTEM, scope=Scope(area_path=tree.chengnan.path), compound=dorm, workers=1, staff_full=True
        )


def test_building_floor_and_room_heads(tree: Tree, estate: Estate, dorm: Compound) -> None:
    zone = _zone(dorm, 4000)
    building = dorm.buildings.get()
    people = [estate.person(n) for n in ("楼长", "层长", "室长", "又一个")]
    kw: dict[str, Any] = {"actor": SYSTEM, "scope": ALL, "zone": zone, "building": building}
    services.head_add(level="building", person=people[0], **kw)
    with pytest.raises(DomainError, match="请填写楼层"):
        services.head_add(level="floor", person=people[1], **kw)
    with pytest.raises(DomainError, match="共5层"):
        services.head_add(level="floor", person=people[1], floor=6, **kw)
    services.head_add(level="floor", person=people[1], floor=3, **kw)
    with pytest.raises(DomainError, match="寝室号"):
        services.head_add(level="room", person=people[2], floor=3, **kw)
    services.head_add(level="room", person=people[2], floor=3, room="302", **kw)
    with pytest.raises(DomainError, match="已有负责人"):
        services.head_add(level="building", person=people[3], **kw)
    with pytest.raises(DomainError, match="不属于"):
        services.head_add(level="building", person=people[3], **{**kw, "building": tree.building1})
    [row] = selectors.zone_list(scope=ALL)
    assert row.heads == {"building": 1, "floor": 1, "room": 1}
    heads = selectors.zone_heads(actor=SYSTEM, scope=ALL, zone=zone)
    assert [(h.level, h.floor, h.room, h.person.name) for h in heads] == [
        ("building", None, "", "楼长"),
        ("floor", 3, "", "层长"),
        ("room", 3, "302", "室长"),
    ]
    assert AuditEntry.objects.filter(action="estates.zone.heads.view").exists()
    services.head_remove(actor=SYSTEM, scope=ALL, head=heads[0])
    assert DormitoryHead.objects.filter(zone=zone).count() == 2
