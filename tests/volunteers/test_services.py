"""Services of the forces below the grid: validation, scope by role, capacity, hours, party records, matching."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError

from grassroots.accounts.models import Role
from grassroots.audit.models import AuditEntry
from grassroots.core import clock
from grassroots.core.errors import DomainError, Forbidden, NotFound
from grassroots.core.scope import Scope
from grassroots.party.models import PartyMember, ServiceKind, ServiceRecord
from grassroots.volunteers import selectors, services
from grassroots.volunteers.models import (
    BuildingRole,
    BuildingRoleKind,
    MatchState,
    MatchStatus,
    Need,
    SignupState,
    TeamKind,
    Volunteer,
)
from tests.volunteers.conftest import World

pytestmark = pytest.mark.django_db


def member(person, path: str) -> PartyMember:  # type: ignore[no-untyped-def]
    now = clock.now()
    return PartyMember.objects.create(person=person, kind="employed", path=path, created_at=now, updated_at=now)


def past_activity(world: World, **kwargs):  # type: ignore[no-untyped-def]
    start = clock.now() - timedelta(hours=1)  # under way: sign-up still open, attendance allowed
    return services.activity_create(
        actor=world.worker,
        title=kwargs.pop("title", "楼道清理"),
        area=world.tree.grid1,
        place="阳光花园",
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        **kwargs,
    )


# --- building roles ------------------------------------------------------------------------------


def test_appoint_replace_and_history(world: World) -> None:
    b1 = world.tree.building1
    today = clock.now().date()
    first = services.building_role_appoint(
        actor=world.worker,
        kind=BuildingRoleKind.BUILDING_HEAD,
        person=world.zhang,
        building=b1,
        since=today - timedelta(days=30),
    )
    assert first.warnings == [] and first.replaced is None
    second = services.building_role_appoint(
        actor=world.worker, kind=BuildingRoleKind.BUILDING_HEAD, person=world.wang, building=b1, since=today
    )
    assert second.replaced is not None and second.replaced.pk == first.role.pk
    first.role.refresh_from_db()
    assert first.role.until == today - timedelta(days=1)
    history = selectors.building_history(scope=Scope(area_path=world.tree.chengbei.path), building=b1)
    assert [r.person.name for r in history] == ["王芳", "张三"]
    assert AuditEntry.objects.filter(action="volunteers.building_role.appoint").count() == 2


def test_one_current_head_enforced_by_the_database(world: World) -> None:
    b1 = world.tree.building1
    services.building_role_appoint(
        actor=world.worker, kind=BuildingRoleKind.BUILDING_HEAD, person=world.zhang, building=b1
    )
    with pytest.raises(IntegrityError):
        BuildingRole.objects.create(
            person=world.wang, kind=BuildingRoleKind.BUILDING_HEAD, building=b1, since=clock.now().date(), path=b1.path
        )


def test_entrance_head_and_central_household_rules(world: World) -> None:
    b1, b3 = world.tree.building1, world.tree.building3
    entrance = b1.entrances.order_by("number").first()
    with pytest.raises(DomainError, match="请选择单元"):
        services.building_role_appoint(
            actor=world.worker, kind=BuildingRoleKind.ENTRANCE_HEAD, person=world.zhang, building=b1
        )
    with pytest.raises(DomainError, match="不属于该楼栋"):
        services.building_role_appoint(
            actor=world.worker,
            kind=BuildingRoleKind.ENTRANCE_HEAD,
            person=world.zhang,
            building=b1,
            entrance=b3.entrances.first(),
        )
    services.building_role_appoint(
        actor=world.worker, kind=BuildingRoleKind.ENTRANCE_HEAD, person=world.zhang, building=b1, entrance=entrance
    )
    services.building_role_appoint(
        actor=world.worker, kind=BuildingRoleKind.CENTRAL_HOUSEHOLD, person=world.wang, building=b1
    )
    services.building_role_appoint(
        actor=world.worker, kind=BuildingRoleKind.CENTRAL_HOUSEHOLD, person=world.zhao, building=b1
    )
    with pytest.raises(DomainError, match="已是该中心户"):
        services.building_role_appoint(
            actor=world.worker, kind=BuildingRoleKind.CENTRAL_HOUSEHOLD, person=world.wang, building=b1
        )
    roles = selectors.grid_roles(scope=Scope(area_path=world.tree.chengbei.path), grid=world.tree.grid1)
    assert roles.without_head == 1 and roles.entrances == 2 and roles.without_entrance_head == 1
    assert roles.central_households == 2
    gaps = {g.grid.pk: g for g in selectors.gaps_by_grid(scope=Scope(area_path=world.tree.chengbei.path))}
    assert gaps[world.tree.grid1.pk].without_head == 1 and gaps[world.tree.grid1.pk].without_entrance_head == 1
    assert gaps[world.tree.grid2.pk].buildings == 0


def test_non_resident_warned_and_scope_checked(world: World) -> None:
    admin = world.tree.users[Role.ADMIN]
    result = services.building_role_appoint(
        actor=admin, kind=BuildingRoleKind.BUILDING_HEAD, person=world.li, building=world.tree.building1
    )
    assert result.warnings and "不是" in result.warnings[0]
    # 城北's worker cannot reach 李四 (城南) nor 8幢; a grid worker may not manage at all.
    with pytest.raises(NotFound):
        services.building_role_appoint(
            actor=world.worker, kind=BuildingRoleKind.BUILDING_HEAD, person=world.zhang, building=world.tree.building3
        )
    with pytest.raises(Forbidden):
        services.building_role_appoint(
            actor=world.tree.users[Role.GRID_WORKER],
            kind=BuildingRoleKind.BUILDING_HEAD,
            person=world.zhang,
            building=world.tree.building1,
        )


def test_end_term(world: World) -> None:
    role = services.building_role_appoint(
        actor=world.worker, kind=BuildingRoleKind.BUILDING_HEAD, person=world.zhang, building=world.tree.building1
    ).role
    services.building_role_end(actor=world.worker, role=role)
    with pytest.raises(DomainError, match="已结束"):
        services.building_role_end(actor=world.worker, role=role)


# --- volunteers and teams ------------------------------------------------------------------------


def test_register_once_with_skills_and_filter(world: World) -> None:
    v = services.volunteer_register(
        actor=world.worker,
        person=world.zhang,
        skills=[world.skills["legal"], world.skills["repair"]],
        is_talent=True,
        talent_note="退休律师",
    )
    with pytest.raises(DomainError, match="已登记"):
        services.volunteer_register(actor=world.worker, person=world.zhang)
    with pytest.raises(DomainError, match="专长说明"):
        services.volunteer_register(actor=world.worker, person=world.wang, is_talent=True)
    services.volunteer_register(actor=world.worker, person=world.wang, skills=[world.skills["medical"]])
    scope = Scope(area_path=world.tree.chengbei.path)
    legal = selectors.volunteer_queryset(scope=scope, skill=world.skills["legal"])
    assert [x.pk for x in legal] == [v.pk]
    assert selectors.volunteer_queryset(scope=scope, talent=True).count() == 1
    assert selectors.volunteer_queryset(scope=scope, grid=world.tree.grid1).count() == 2
    assert selectors.volunteer_queryset(scope=scope, grid=world.tree.grid2).count() == 0
    # Out of scope: the 城南 worker sees none of them, and cannot register 张三.
    assert selectors.volunteer_queryset(scope=Scope(area_path=world.tree.chengnan.path)).count() == 0
    with pytest.raises(NotFound):
        services.volunteer_update(
            actor=world.outsider, volunteer=v, skills=[], is_talent=False, talent_note="", weekly_hours=1
        )
    counts = {c.skill.code: (c.volunteers, c.talents) for c in selectors.skill_counts(scope=scope)}
    assert counts["legal"] == (1, 1) and counts["medical"] == (1, 0)


def test_lapsed_volunteer_reactivated(world: World) -> None:
    v = services.volunteer_register(actor=world.worker, person=world.zhang)
    services.volunteer_update(
        actor=world.worker, volunteer=v, skills=[], is_talent=False, talent_note="", weekly_hours=2, is_active=False
    )
    again = services.volunteer_register(actor=world.worker, person=world.zhang)
    assert again.pk == v.pk and again.is_active
    assert Volunteer.objects.count() == 1


def test_teams(world: World) -> None:
    team = services.team_create(
        actor=world.worker, name="城北先锋队", kind=TeamKind.VANGUARD, area=world.tree.chengbei, leader=world.zhang
    )
    assert list(team.members.all()) == [world.zhang]
    with pytest.raises(DomainError, match="已有名为"):
        services.team_create(actor=world.worker, name="城北先锋队", kind=TeamKind.VANGUARD, area=world.tree.chengbei)
    services.team_member_add(actor=world.worker, team=team, person=world.wang)
    with pytest.raises(DomainError, match="已是该队伍队员"):
        services.team_member_add(actor=world.worker, team=team, person=world.wang)
    services.team_member_add(actor=world.worker, team=team, person=world.wang, as_leader=True)
    team.refresh_from_db()
    assert team.leader_id == world.wang.pk
    services.team_member_remove(actor=world.worker, team=team, person=world.wang)
    team.refresh_from_db()
    assert team.leader_id is None
    listed = selectors.team_list(scope=Scope(area_path=world.tree.chengbei.path))
    assert [(t.name, t.member_count) for t in listed] == [("城北先锋队", 1)]
    services.team_dissolve(actor=world.worker, team=team)
    with pytest.raises(DomainError, match="已解散"):
        services.team_member_add(actor=world.worker, team=team, person=world.zhao)


# --- activities ----------------------------------------------------------------------------------


def test_activity_validation(world: World) -> None:
    start = clock.now() + timedelta(days=1)
    with pytest.raises(DomainError, match="结束时间"):
        services.activity_create(
            actor=world.worker, title="义诊", area=world.tree.grid1, place="广场", starts_at=start, ends_at=start
        )
    with pytest.raises(NotFound):
        services.activity_create(
            actor=world.worker,
            title="义诊",
            area=world.tree.grid3,
            place="广场",
            starts_at=start,
            ends_at=start + timedelta(hours=1),
        )


def test_capacity_withdraw_and_resignup(world: World) -> None:
    start = clock.now() + timedelta(days=1)
    activity = services.activity_create(
        actor=world.worker,
        title="义诊",
        area=world.tree.grid1,
        place="广场",
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        capacity=2,
        skill=world.skills["medical"],
    )
    a = services.signup_add(actor=world.worker, activity=activity, person=world.zhang)
    services.signup_add(actor=world.worker, activity=activity, person=world.wang)
    with pytest.raises(DomainError, match="名额已满"):
        services.signup_add(actor=world.worker, activity=activity, person=world.zhao)
    with pytest.raises(DomainError, match="已报名"):
        services.signup_add(actor=world.worker, activity=activity, person=world.wang)
    services.signup_withdraw(actor=world.worker, signup=a)
    services.signup_add(actor=world.worker, activity=activity, person=world.zhao)
    with pytest.raises(DomainError, match="名额已满"):
        services.signup_add(actor=world.worker, activity=activity, person=world.zhang)
    row = selectors.activity_queryset(scope=Scope(area_path=world.tree.chengbei.path)).get(pk=activity.pk)
    assert row.taken == 2
    with pytest.raises(DomainError, match="尚未开始"):
        services.attendance_record(actor=world.worker, signup=a)
    services.activity_cancel(actor=world.worker, activity=activity, reason="天气")
    with pytest.raises(DomainError, match="已取消"):
        services.signup_add(actor=world.worker, activity=activity, person=world.zhang)
    assert selectors.activity_queryset(scope=Scope(area_path=world.tree.chengbei.path), when="cancelled").count() == 1


def test_signup_locks_the_activity_row(world: World, django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    start = clock.now() + timedelta(days=1)
    activity = services.activity_create(
        actor=world.worker,
        title="义诊",
        area=world.tree.grid1,
        place="广场",
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        capacity=1,
    )
    with CaptureQueriesContext(connection) as ctx:
        services.signup_add(actor=world.worker, activity=activity, person=world.zhang)
    sql = [q["sql"] for q in ctx.captured_queries if "volunteers_activity" in q["sql"]]
    if connection.features.has_select_for_update:
        assert any("FOR UPDATE" in s for s in sql)


def test_attendance_hours_and_party_records(world: World) -> None:
    activity = past_activity(world)
    problem = past_activity(world, title="加装扶手", solves_problem=True)
    m = member(world.zhang, world.tree.grid1.path)
    s1 = services.signup_add(actor=world.worker, activity=activity, person=world.zhang)
    s2 = services.signup_add(actor=world.worker, activity=activity, person=world.wang)
    with pytest.raises(DomainError, match="不超过活动时长"):
        services.attendance_record(actor=world.worker, signup=s1, hours="2.5")
    services.attendance_record(actor=world.worker, signup=s1, hours="1.5")
    services.attendance_record(actor=world.worker, signup=s1, hours="1.5")  # again: still one record
    services.attendance_record(actor=world.worker, signup=s2, attended=False)
    records = list(ServiceRecord.objects.filter(member=m))
    assert len(records) == 1
    assert records[0].kind == ServiceKind.VOLUNTEER and records[0].source == f"activity:{activity.pk}"
    assert records[0].hours == Decimal("1.5") and records[0].confirmed
    s3 = services.signup_add(actor=world.worker, activity=problem, person=world.zhang)
    services.attendance_record(actor=world.worker, signup=s3)  # default: the whole length
    s3.refresh_from_db()
    assert s3.hours == Decimal("2.0") and s3.state == SignupState.ATTENDED
    assert ServiceRecord.objects.get(member=m, source=f"activity:{problem.pk}").kind == ServiceKind.PROBLEM
    # 王芳 is no party member and absent: no record, no hours.
    assert ServiceRecord.objects.count() == 2
    scope = Scope(area_path=world.tree.chengbei.path)
    per_person = selectors.hours_by_person(scope=scope)
    assert [(p.person.name, p.hours, p.activities) for p in per_person] == [("张三", Decimal("3.5"), 2)]
    per_area = {a.area.name: a.hours for a in selectors.hours_by_area(scope=scope, area=world.tree.chengbei)}
    assert per_area == {"网格一": Decimal("3.5"), "网格二": Decimal(0)}
    with pytest.raises(DomainError, match="已有人签到"):
        services.activity_cancel(actor=world.worker, activity=activity, reason="x")


# --- needs, resources, matches, projects ----------------------------------------------------------


def test_propose_accept_decline_and_project(world: World) -> None:
    grid1, legal, repair = world.tree.grid1, world.skills["legal"], world.skills["repair"]
    lon, lat = world.tree.building1.lon, world.tree.building1.lat
    n1 = services.need_create(actor=world.worker, title="遗嘱咨询", skill=legal, area=grid1, lon=lon, lat=lat)
    n2 = services.need_create(
        actor=world.worker, title="修水管", skill=repair, area=grid1, demand=2, lon=lon + 0.02, lat=lat
    )
    volunteer = services.volunteer_register(actor=world.worker, person=world.zhang, skills=[legal])
    r_near = services.resource_create(
        actor=world.worker, title="张三法律咨询", skill=legal, area=grid1, volunteer=volunteer
    )
    r_repair = services.resource_create(
        actor=world.worker, title="物业维修", skill=repair, area=grid1, capacity=1, lon=lon + 0.021, lat=lat
    )
    assert (r_near.lon, r_near.lat) == (lon, lat)  # from the volunteer's building
    proposal = services.matches_propose(actor=world.worker)
    assert (proposal.needs, proposal.demand, proposal.covered) == (2, 3, 2)
    pairs = {(m.need_id, m.resource_id): m for m in proposal.matches}
    assert set(pairs) == {(n1.pk, r_near.pk), (n2.pk, r_repair.pk)}
    assert pairs[(n1.pk, r_near.pk)].distance_m == 0 and pairs[(n1.pk, r_near.pk)].score == 1.0
    n1.refresh_from_db()
    assert n1.state == MatchState.PROPOSED
    # Proposing again replaces, never duplicates.
    services.matches_propose(actor=world.worker)
    assert selectors.match_queryset(scope=Scope(area_path=grid1.path)).count() == 2
    m1 = selectors.match_queryset(scope=Scope(area_path=grid1.path)).get(need=n1)
    m2 = selectors.match_queryset(scope=Scope(area_path=grid1.path)).get(need=n2)
    with pytest.raises(NotFound):
        services.match_accept(actor=world.outsider, match=m1)
    project = services.match_accept(actor=world.worker, match=m1)
    n1.refresh_from_db()
    m1.refresh_from_db()
    assert n1.state == MatchState.MATCHED and m1.status == MatchStatus.ACCEPTED
    with pytest.raises(DomainError, match="已接受"):
        services.match_decline(actor=world.worker, match=m1)
    services.match_decline(actor=world.worker, match=m2)
    n2.refresh_from_db()
    assert n2.state == MatchState.OPEN
    # The declined pairing is not proposed again; the accepted resource is used up.
    again = services.matches_propose(actor=world.worker)
    assert again.matches == [] and again.needs == 1
    services.project_update(actor=world.worker, project=project, progress=40, note="已联系")
    with pytest.raises(DomainError, match="倒退"):
        services.project_update(actor=world.worker, project=project, progress=10)
    done = services.project_update(actor=world.worker, project=project, progress=100, note="完成")
    assert done.done_at is not None and "已联系" in done.note
    n1.refresh_from_db()
    assert n1.state == MatchState.CLOSED
    with pytest.raises(DomainError, match="已完成"):
        services.project_update(actor=world.worker, project=project, progress=100)


def test_propose_respects_max_distance_and_validation(world: World) -> None:
    grid1, legal = world.tree.grid1, world.skills["legal"]
    with pytest.raises(DomainError, match="需要数量"):
        services.need_create(actor=world.worker, title="x", skill=legal, area=grid1, demand=0)
    with pytest.raises(DomainError, match="经度和纬度"):
        services.need_create(actor=world.worker, title="x", skill=legal, area=grid1, lon=120.0)
    services.need_create(actor=world.worker, title="咨询", skill=legal, area=grid1, lon=120.95, lat=31.38)
    services.resource_create(actor=world.worker, title="律所", skill=legal, area=grid1, lon=120.95, lat=31.40)
    assert services.matches_propose(actor=world.worker, max_distance_m=1000).covered == 0
    assert services.matches_propose(actor=world.worker, max_distance_m=5000).covered == 1
    with pytest.raises(Forbidden):
        services.matches_propose(actor=world.tree.users[Role.GRID_WORKER])
    assert Need.objects.get().state == MatchState.PROPOSED
