"""Pages of the forces below the grid: capability first (403), scope (404), flows, query counts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from grassroots.accounts.models import Role
from grassroots.core import clock
from grassroots.volunteers import services
from grassroots.volunteers.models import (
    Activity,
    BuildingRole,
    Match,
    MatchStatus,
    Need,
    Project,
    Signup,
    SignupState,
    TeamKind,
    Volunteer,
)
from tests.volunteers.conftest import World, login

pytestmark = pytest.mark.django_db

LIST_PAGES = [
    "volunteers:roles",
    "volunteers:volunteers",
    "volunteers:teams",
    "volunteers:activities",
    "volunteers:hours",
    "volunteers:needs",
    "volunteers:projects",
]


def activity(world: World, **kwargs) -> Activity:  # type: ignore[no-untyped-def]
    start = kwargs.pop("start", clock.now() + timedelta(days=1))
    return services.activity_create(
        actor=world.worker,
        title=kwargs.pop("title", "义诊"),
        area=kwargs.pop("area", world.tree.grid1),
        place="社区广场",
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        **kwargs,
    )


@pytest.mark.parametrize("name", LIST_PAGES)
def test_lists_capability_first(world: World, name: str) -> None:
    for role in (Role.RESIDENT, Role.DEPARTMENT_OFFICER):
        assert login(world.tree.users[role]).get(reverse(name)).status_code == 403
    for role in (Role.GRID_WORKER, Role.COMMUNITY_WORKER, Role.PARTY_SECRETARY, Role.DISTRICT_LEADER, Role.ADMIN):
        assert login(world.tree.users[role]).get(reverse(name)).status_code == 200, role
    assert login(world.tree.users[Role.COMMUNITY_WORKER]).get(reverse(name)).context["tab"]


def test_anonymous_is_sent_to_login(world: World) -> None:
    from django.test import Client

    response = Client().get(reverse("volunteers:volunteers"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_manage_pages_refuse_viewers(world: World) -> None:
    grid_worker = login(world.tree.users[Role.GRID_WORKER])
    for name in ("volunteers:register", "volunteers:activity_new", "volunteers:need_new", "volunteers:resource_new"):
        assert grid_worker.get(reverse(name)).status_code == 403
    a = activity(world)
    response = grid_worker.post(reverse("volunteers:signup_add", args=[a.pk]), {"person": world.zhang.pk})
    assert response.status_code == 403
    assert not Signup.objects.exists()


def test_out_of_scope_is_404(world: World) -> None:
    a = activity(world)
    team = services.team_create(actor=world.worker, name="城北先锋队", kind=TeamKind.VANGUARD, area=world.tree.chengbei)
    v = services.volunteer_register(actor=world.worker, person=world.zhang)
    outsider = login(world.outsider)
    assert outsider.get(reverse("volunteers:activity", args=[a.pk])).status_code == 404
    assert outsider.get(reverse("volunteers:team", args=[team.pk])).status_code == 404
    assert outsider.get(reverse("volunteers:volunteer", args=[v.pk])).status_code == 404
    assert outsider.get(reverse("volunteers:grid_roles", args=[world.tree.grid1.pk])).status_code == 404
    assert outsider.get(reverse("volunteers:building_roles", args=[world.tree.building1.pk])).status_code == 404
    response = outsider.post(reverse("volunteers:activity_cancel", args=[a.pk]), {"reason": "x"})
    assert response.status_code == 404
    # Signing up a person outside one's scope is 404 too, even on one's own activity.
    response = login(world.worker).post(reverse("volunteers:signup_add", args=[a.pk]), {"person": world.li.pk})
    assert response.status_code == 404


def test_appoint_through_the_page(world: World) -> None:
    client = login(world.worker)
    url = reverse("volunteers:building_roles", args=[world.tree.building1.pk])
    page = client.get(url, {"q": "张三"})
    assert page.status_code == 200 and world.zhang in page.context["found"]
    today = clock.now().date().isoformat()
    response = client.post(url, {"person": world.zhang.pk, "kind": "building_head", "since": today}, follow=True)
    assert "已任命 张三 为楼栋长" in response.content.decode()
    entrance = world.tree.building1.entrances.order_by("number").first()
    client.post(url, {"person": world.wang.pk, "kind": "entrance_head", "entrance": entrance.pk, "since": today})
    assert BuildingRole.objects.filter(until__isnull=True).count() == 2
    grid_page = client.get(reverse("volunteers:grid_roles", args=[world.tree.grid1.pk]))
    assert grid_page.context["data"].without_head == 0
    assert grid_page.context["data"].without_entrance_head == 1
    roles = client.get(reverse("volunteers:roles")).content.decode()
    assert "网格一" in roles


def test_register_and_filter_through_the_pages(world: World) -> None:
    client = login(world.worker)
    legal = world.skills["legal"]
    response = client.post(
        reverse("volunteers:register"),
        {"person": world.zhang.pk, "skills": [legal.pk], "is_talent": "on", "talent_note": "律师", "weekly_hours": 4},
    )
    v = Volunteer.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("volunteers:volunteer", args=[v.pk])
    again = client.post(reverse("volunteers:register"), {"person": world.zhang.pk, "weekly_hours": 2}, follow=True)
    assert "已登记为志愿者" in again.content.decode()
    listing = client.get(reverse("volunteers:volunteers"), {"skill": legal.pk, "talent": "1"})
    assert [row[0].pk for row in listing.context["rows"]] == [v.pk]
    assert client.get(reverse("volunteers:volunteers"), {"skill": world.skills["medical"].pk}).context["rows"] == []


def test_activity_flow_through_the_pages(world: World) -> None:
    client = login(world.worker)
    start = clock.now() + timedelta(days=2)
    response = client.post(
        reverse("volunteers:activity_new"),
        {
            "title": "助老理发",
            "area": world.tree.grid1.pk,
            "place": "活动室",
            "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (start + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"),
            "capacity": 1,
        },
    )
    a = Activity.objects.get()
    assert response["Location"] == reverse("volunteers:activity", args=[a.pk])
    client.post(reverse("volunteers:signup_add", args=[a.pk]), {"person": world.zhang.pk})
    full = client.post(reverse("volunteers:signup_add", args=[a.pk]), {"person": world.wang.pk}, follow=True)
    assert "名额已满" in full.content.decode()
    signup = Signup.objects.get()
    early = client.post(
        reverse("volunteers:attendance", args=[signup.pk]), {"attended": "1", "hours": "1"}, follow=True
    )
    assert "尚未开始" in early.content.decode()
    client.post(reverse("volunteers:signup_withdraw", args=[signup.pk]))
    signup.refresh_from_db()
    assert signup.state == SignupState.WITHDRAWN
    client.post(reverse("volunteers:activity_cancel", args=[a.pk]), {"reason": "下雨"})
    a.refresh_from_db()
    assert a.cancelled


def test_attendance_through_the_page(world: World) -> None:
    client = login(world.worker)
    a = activity(world, start=clock.now() - timedelta(hours=1))
    signup = services.signup_add(actor=world.worker, activity=a, person=world.zhang)
    too_long = client.post(
        reverse("volunteers:attendance", args=[signup.pk]), {"attended": "1", "hours": "3"}, follow=True
    )
    assert "不超过活动时长" in too_long.content.decode()
    client.post(reverse("volunteers:attendance", args=[signup.pk]), {"attended": "1", "hours": "1.5"})
    signup.refresh_from_db()
    assert signup.state == SignupState.ATTENDED and str(signup.hours) == "1.5"
    hours = client.get(reverse("volunteers:hours"))
    assert [(r.person.name, str(r.hours)) for r in hours.context["by_person"]] == [("张三", "1.5")]


def test_match_to_project_through_the_pages(world: World) -> None:
    client = login(world.worker)
    legal = world.skills["legal"]
    client.post(
        reverse("volunteers:need_new"),
        {"title": "遗产咨询", "skill": legal.pk, "area": world.tree.grid1.pk, "demand": 1},
    )
    client.post(
        reverse("volunteers:resource_new"),
        {"title": "律所公益咨询", "skill": legal.pk, "area": world.tree.chengbei.pk, "capacity": 2},
    )
    response = client.post(reverse("volunteers:propose"), {"max_distance_km": ""}, follow=True)
    assert "推荐 1 条对接" in response.content.decode()
    match = Match.objects.get()
    accepted = client.post(reverse("volunteers:match_accept", args=[match.pk]))
    project = Project.objects.get()
    assert accepted["Location"] == reverse("volunteers:project", args=[project.pk])
    match.refresh_from_db()
    assert match.status == MatchStatus.ACCEPTED and Need.objects.get().state == "matched"
    client.post(reverse("volunteers:project", args=[project.pk]), {"progress": 100, "note": "已办结"})
    project.refresh_from_db()
    assert project.done_at is not None and Need.objects.get().state == "closed"
    # Viewers see the project but cannot move it.
    viewer = login(world.tree.users[Role.GRID_WORKER])
    assert viewer.get(reverse("volunteers:project", args=[project.pk])).status_code == 200
    assert viewer.post(reverse("volunteers:project", args=[project.pk]), {"progress": 50}).status_code == 403


def test_decline_through_the_page(world: World) -> None:
    client = login(world.worker)
    legal = world.skills["legal"]
    services.need_create(actor=world.worker, title="咨询", skill=legal, area=world.tree.grid1)
    services.resource_create(actor=world.worker, title="律所", skill=legal, area=world.tree.grid1)
    services.matches_propose(actor=world.worker)
    match = Match.objects.get()
    assert login(world.outsider).post(reverse("volunteers:match_decline", args=[match.pk])).status_code == 404
    client.post(reverse("volunteers:match_decline", args=[match.pk]))
    match.refresh_from_db()
    assert match.status == MatchStatus.DECLINED


def test_team_pages(world: World) -> None:
    client = login(world.worker)
    response = client.post(
        reverse("volunteers:teams"),
        {"name": "城北行动支部", "kind": "action_branch", "area": world.tree.chengbei.pk, "formed_on": "2026-01-05"},
    )
    team_url = response["Location"]
    client.post(team_url, {"person": world.zhang.pk, "as_leader": "on"})
    page = client.get(team_url)
    assert [p.name for p in page.context["members"]] == ["张三"]
    assert page.context["team"].leader_id == world.zhang.pk


# --- query counts: constant whatever the number of rows ---------------------------------------------


def _queries(client, url: str) -> int:  # type: ignore[no-untyped-def]
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def _grow(world: World, n: int) -> None:
    legal, repair = world.skills["legal"], world.skills["repair"]
    people = [world.zhang, world.wang, world.zhao]
    team = services.team_create(actor=world.worker, name=f"队{n}", kind=TeamKind.VOLUNTEER, area=world.tree.grid1)
    for i in range(n):
        a = activity(world, title=f"活动{n}-{i}", skill=legal, team=team)
        services.signup_add(actor=world.worker, activity=a, person=people[i % 3])
        services.need_create(actor=world.worker, title=f"需求{n}-{i}", skill=legal, area=world.tree.grid1)
        services.resource_create(actor=world.worker, title=f"资源{n}-{i}", skill=legal, area=world.tree.grid1)
    for p in people:
        if not Volunteer.objects.filter(person=p).exists():
            services.volunteer_register(actor=world.worker, person=p, skills=[legal, repair])
    services.matches_propose(actor=world.worker)
    for m in list(Match.objects.filter(status=MatchStatus.PROPOSED)[:n]):
        services.match_accept(actor=world.worker, match=m)


def test_list_query_counts_do_not_grow(world: World) -> None:
    client = login(world.worker)
    _grow(world, 1)
    urls = [reverse(name) for name in LIST_PAGES] + [
        reverse("volunteers:grid_roles", args=[world.tree.grid1.pk]),
        reverse("volunteers:building_roles", args=[world.tree.building1.pk]),
    ]
    before = {url: _queries(client, url) for url in urls}
    _grow(world, 4)
    services.building_role_appoint(
        actor=world.worker, kind="building_head", person=world.zhang, building=world.tree.building1
    )
    services.building_role_appoint(
        actor=world.worker, kind="central_household", person=world.wang, building=world.tree.building1
    )
    after = {url: _queries(client, url) for url in urls}
    assert after == before
    assert max(after.values()) <= 16


def test_form_and_detail_pages_render(world: World) -> None:
    client = login(world.worker)
    for name in ("volunteers:register", "volunteers:activity_new", "volunteers:need_new", "volunteers:resource_new"):
        assert client.get(reverse(name)).status_code == 200, name
    v = services.volunteer_register(actor=world.worker, person=world.zhang, skills=[world.skills["legal"]])
    a = activity(world)
    services.signup_add(actor=world.worker, activity=a, person=world.zhang)
    detail = client.get(reverse("volunteers:volunteer", args=[v.pk]))
    assert "义诊" in detail.content.decode()
    page = client.get(reverse("volunteers:activity", args=[a.pk]), {"q": "王芳"})
    assert world.wang in page.context["found"] and world.zhang.pk in page.context["signed"]
    found = client.get(reverse("volunteers:register"), {"q": "张三"})
    assert world.zhang.pk in found.context["registered"]
