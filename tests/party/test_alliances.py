"""党建联盟: alliances, member units (join, leave, rejoin), counts, pairings, rotation, five lists, pages."""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from grassroots.accounts.models import Role
from grassroots.accounts.scopes import scope_for
from grassroots.audit.models import AuditEntry
from grassroots.audit.services import SYSTEM, actor_of
from grassroots.core import clock
from grassroots.core.errors import DomainError, NotFound
from grassroots.core.ids import credit_check_char
from grassroots.core.scope import Scope
from grassroots.party.models import (
    AllianceItem,
    AllianceMember,
    ItemStatus,
    ListKind,
    OrgLevel,
    PartyOrg,
    RotationDuty,
)
from grassroots.party.selectors import alliances as selectors
from grassroots.party.services import alliances as services
from grassroots.registry.models import Unit
from grassroots.registry.services import unit_create

pytestmark = pytest.mark.django_db

MANAGE = "party.manage"
YEAR = 2030  # in the future, so every period of the year is still to come
BEFORE = date(YEAR - 1, 12, 1)


def code(n: int) -> str:
    body = f"91320583MA1M{n:04d}0"
    return body + credit_check_char(body)


@pytest.fixture(autouse=True)
def _now(monkeypatch):
    # Time is injected: "today" is 1 December of the year before the one planned.
    monkeypatch.setattr(clock, "now", lambda: datetime(YEAR - 1, 12, 1, 2, 0, tzinfo=UTC))


@dataclass
class Units:
    a: Unit  # three units located in 城北社区
    b: Unit
    c: Unit
    far: Unit  # located in 周市社区 (outside 城北)
    agency: Unit  # a district agency, found by credit code


@pytest.fixture
def units(tree) -> Units:
    def make(name: str, area, n: int, kind: str = "enterprise") -> Unit:
        return unit_create(actor=SYSTEM, scope=Scope.everything(), name=name, kind=kind, area=area, credit_code=code(n))

    return Units(
        make("城北供电所", tree.chengbei, 1, "agency"),
        make("阳光物业", tree.chengbei, 2),
        make("城北小学", tree.chengbei, 3, "agency"),
        make("周市农商行", tree.zhoushi_c, 4),
        make("昆山市市场监管局", tree.district, 5, "agency"),
    )


def manager(tree):
    return tree.users[Role.COMMUNITY_WORKER]


def mscope(user) -> Scope:
    return scope_for(user, MANAGE)


def actions(object_type: str, object_id: object) -> list[str]:
    return list(
        AuditEntry.objects.filter(object_type=object_type, object_id=str(object_id))
        .order_by("seq")
        .values_list("action", flat=True)
    )


def make_alliance(tree, name="城北社区党建联盟", area=None, user=None):
    user = user or manager(tree)
    return services.alliance_create(actor=actor_of(user), scope=mscope(user), area=area or tree.chengbei, name=name)


def join(tree, alliance, unit, on=date(2020, 1, 1), user=None):
    user = user or manager(tree)
    return services.member_add(actor=actor_of(user), scope=mscope(user), alliance=alliance, unit=unit, joined_on=on)


# --- alliances --------------------------------------------------------------------------------


def test_alliance_create_and_edit_validated_scoped_and_audited(tree):
    worker = manager(tree)
    alliance = make_alliance(tree)
    assert alliance.path == tree.chengbei.path
    assert actions("alliance", alliance.pk) == ["party.alliance.create"]
    with pytest.raises(DomainError, match="社区或街道"):
        services.alliance_create(actor=SYSTEM, scope=mscope(worker), area=tree.grid1, name="网格联盟")
    with pytest.raises(DomainError, match="已有名为"):
        make_alliance(tree)
    with pytest.raises(DomainError, match="联盟名称"):
        services.alliance_create(actor=SYSTEM, scope=mscope(worker), area=tree.chengbei, name="  ")
    with pytest.raises(NotFound):
        services.alliance_create(actor=SYSTEM, scope=mscope(worker), area=tree.chengnan, name="城南联盟")
    # A subdistrict alliance, by the subdistrict's own users (the admin here).
    admin = tree.users[Role.ADMIN]
    services.alliance_create(actor=SYSTEM, scope=mscope(admin), area=tree.yushan, name="玉山镇党建联盟")

    far_org = PartyOrg.objects.create(
        level=OrgLevel.COMMUNITY_COMMITTEE,
        name="周市社区党委",
        area=tree.zhoushi_c,
        path=tree.zhoushi_c.path,
        created_at=tree.zhoushi_c.updated_at,
        updated_at=tree.zhoushi_c.updated_at,
        founded_on=date(2020, 1, 1),
    )
    with pytest.raises(DomainError, match="牵头党组织"):
        services.alliance_update(
            actor=SYSTEM, scope=mscope(worker), alliance=alliance, name="城北联盟", lead_org=far_org
        )
    services.alliance_update(actor=actor_of(worker), scope=mscope(worker), alliance=alliance, name="城北共建联盟")
    alliance.refresh_from_db()
    assert alliance.name == "城北共建联盟"
    assert actions("alliance", alliance.pk)[-1] == "party.alliance.update"
    outsider = tree.outsiders[Role.COMMUNITY_WORKER]
    with pytest.raises(NotFound):
        services.alliance_update(actor=SYSTEM, scope=mscope(outsider), alliance=alliance, name="改名")


# --- member units -----------------------------------------------------------------------------


def test_join_leave_and_rejoin_reuse_the_row_with_history_in_the_audit_log(tree, units):
    alliance = make_alliance(tree)
    worker = manager(tree)
    joined = join(tree, alliance, units.agency, on=date(2024, 3, 1))  # a unit outside the scope may join
    assert not joined.rejoined and joined.member.path == alliance.path
    with pytest.raises(DomainError, match="已是本联盟的成员单位"):
        join(tree, alliance, units.agency)
    member = joined.member
    with pytest.raises(DomainError, match="不能早于加入日期"):
        services.member_leave(actor=SYSTEM, scope=mscope(worker), member=member, left_on=date(2024, 2, 1))
    with pytest.raises(DomainError, match="不能晚于今天"):
        services.member_leave(
            actor=SYSTEM, scope=mscope(worker), member=member, left_on=services.today() + timedelta(days=1)
        )
    outsider = tree.outsiders[Role.COMMUNITY_WORKER]
    with pytest.raises(NotFound):
        services.member_leave(actor=SYSTEM, scope=mscope(outsider), member=member, left_on=date(2025, 1, 1))
    services.member_leave(actor=actor_of(worker), scope=mscope(worker), member=member, left_on=date(2025, 1, 1))
    with pytest.raises(DomainError, match="已于 2025-01-01 退出"):
        services.member_leave(actor=SYSTEM, scope=mscope(worker), member=member, left_on=date(2025, 1, 2))
    with pytest.raises(DomainError, match="不能早于退出日期"):
        join(tree, alliance, units.agency, on=date(2024, 12, 1))
    again = join(tree, alliance, units.agency, on=date(2025, 6, 1))
    assert again.rejoined and again.member.pk == member.pk
    assert (again.member.joined_on, again.member.left_on) == (date(2025, 6, 1), None)
    assert AllianceMember.objects.filter(alliance=alliance).count() == 1
    assert actions("alliance_member", member.pk) == [
        "party.alliance.member.join",
        "party.alliance.member.leave",
        "party.alliance.member.rejoin",
    ]
    last = AuditEntry.objects.filter(action="party.alliance.member.rejoin").get()
    assert last.detail["previous"] == {"joined_on": "2024-03-01", "left_on": "2025-01-01"}
    with pytest.raises(DomainError, match="一年以后"):
        join(tree, alliance, units.a, on=services.today() + timedelta(days=400))


def test_member_unit_counts_per_community_and_subdistrict(tree, units):
    admin = tree.users[Role.ADMIN]
    chengbei = make_alliance(tree)
    chengnan = make_alliance(tree, "城南联盟", tree.chengnan, admin)
    yushan = make_alliance(tree, "玉山镇联盟", tree.yushan, admin)
    zhoushi = make_alliance(tree, "周市联盟", tree.zhoushi_c, admin)
    for unit in (units.a, units.b, units.agency):
        join(tree, chengbei, unit)
    join(tree, chengnan, units.agency, user=admin)  # the same unit in two alliances counts once
    join(tree, chengnan, units.c, user=admin)
    join(tree, yushan, units.far, user=admin)
    join(tree, zhoushi, units.far, user=admin)
    gone = join(tree, chengbei, units.c).member
    services.member_leave(actor=SYSTEM, scope=Scope.everything(), member=gone, left_on=date(2021, 1, 1))

    report = selectors.member_unit_counts(Scope.everything())
    by_name = {r.name: r for r in report.rows}
    assert (by_name["城北社区"].alliances, by_name["城北社区"].units) == (1, 3)
    assert by_name["城南社区"].units == 2
    assert (by_name["玉山镇"].alliances, by_name["玉山镇"].units) == (3, 5)  # a, b, c, agency, far
    assert (by_name["周市镇"].alliances, by_name["周市镇"].units) == (1, 1)
    assert report.total_units == 5
    # A community worker sees their community only: no partial subdistrict figure.
    mine = selectors.member_unit_counts(scope_for(manager(tree), "party.view"))
    assert [(r.name, r.units) for r in mine.rows] == [("城北社区", 3)]
    assert mine.total_units == 3
    listed = {a.name: a.active_members for a in selectors.alliances(Scope.everything())}
    assert listed["城北社区党建联盟"] == 3


# --- pairings ---------------------------------------------------------------------------------


def test_pairing_create_end_and_scope(tree, units):
    worker = manager(tree)
    admin = tree.users[Role.ADMIN]
    mine = services.pairing_create(
        actor=actor_of(worker), scope=mscope(worker), unit=units.agency, community=tree.chengbei, since=date(2025, 1, 1)
    )
    theirs = services.pairing_create(
        actor=SYSTEM, scope=mscope(admin), unit=units.agency, community=tree.zhoushi_c, since=date(2025, 1, 1)
    )
    only_far = services.pairing_create(
        actor=SYSTEM, scope=mscope(admin), unit=units.far, community=tree.zhoushi_c, since=date(2025, 2, 1)
    )
    with pytest.raises(DomainError, match="已与城北社区结对"):
        services.pairing_create(
            actor=SYSTEM, scope=mscope(worker), unit=units.agency, community=tree.chengbei, since=date(2025, 3, 1)
        )
    with pytest.raises(DomainError, match="应为社区"):
        services.pairing_create(
            actor=SYSTEM, scope=mscope(admin), unit=units.a, community=tree.yushan, since=date(2025, 3, 1)
        )
    with pytest.raises(NotFound):
        services.pairing_create(
            actor=SYSTEM, scope=mscope(worker), unit=units.a, community=tree.chengnan, since=date(2025, 3, 1)
        )

    view = scope_for(worker, "party.view")
    assert [p.pk for p in selectors.pairings(view)] == [mine.pk]
    assert [p.pk for p in selectors.pairings(view, community_id=tree.chengbei.pk)] == [mine.pk]
    assert list(selectors.pairings(view, community_id=tree.zhoushi_c.pk)) == []
    unit, rows = selectors.unit_pairings(view, units.agency.pk)
    assert unit == units.agency and [p.pk for p in rows] == [mine.pk]  # the 周市 pairing is not shown
    with pytest.raises(NotFound):
        selectors.unit_pairings(view, units.far.pk)  # paired only outside the scope
    with pytest.raises(NotFound):
        selectors.pairing_get(view, theirs.pk)
    assert selectors.unit_pairings(view, units.a.pk) == (units.a, [])  # located in scope, no pairing
    assert len(selectors.pairings(Scope.everything(), unit_id=units.agency.pk)) == 2
    assert only_far.path == tree.zhoushi_c.path

    with pytest.raises(DomainError, match="不能早于结对日期"):
        services.pairing_end(actor=SYSTEM, scope=mscope(worker), pairing=mine, until=date(2024, 1, 1))
    with pytest.raises(NotFound):
        services.pairing_end(actor=SYSTEM, scope=mscope(worker), pairing=theirs, until=date(2025, 6, 1))
    services.pairing_end(actor=actor_of(worker), scope=mscope(worker), pairing=mine, until=date(2025, 6, 1))
    with pytest.raises(DomainError, match="已于 2025-06-01 结束"):
        services.pairing_end(actor=SYSTEM, scope=mscope(worker), pairing=mine, until=date(2025, 7, 1))
    assert list(selectors.pairings(view, live_only=True)) == []
    assert actions("pairing", mine.pk) == ["party.pairing.create", "party.pairing.end"]
    # Once ended, the unit may pair with the community again.
    services.pairing_create(
        actor=SYSTEM, scope=mscope(worker), unit=units.agency, community=tree.chengbei, since=date(2025, 7, 1)
    )


# --- rotation ---------------------------------------------------------------------------------


def chairs(alliance, year=YEAR) -> list[tuple[date, int]]:
    rows = RotationDuty.objects.filter(alliance=alliance, starts_on__year=year).order_by("starts_on")
    return [(r.starts_on, r.unit_id) for r in rows]


def generate(tree, alliance, *, on=BEFORE, year=YEAR, **kwargs):
    worker = manager(tree)
    return services.rotation_generate(
        actor=actor_of(worker), scope=mscope(worker), alliance=alliance, year=year, on=on, **kwargs
    )


def test_rotation_generates_a_fair_year_and_is_audited(tree, units):
    alliance = make_alliance(tree)
    with pytest.raises(DomainError, match="没有在册的成员单位"):
        generate(tree, alliance)
    for unit in (units.a, units.b, units.c):
        join(tree, alliance, unit)
    late = join(tree, alliance, units.agency, on=date(YEAR, 7, 10)).member
    result = generate(tree, alliance)
    assert (result.kept, result.written, result.unassigned) == (0, 12, 0)
    rows = chairs(alliance)
    assert [d for d, _ in rows] == [date(YEAR, m, 1) for m in range(1, 13)]
    ids = [u for _, u in rows]
    assert all(x != y for x, y in itertools.pairwise(ids))
    assert late.unit_id not in ids[:7]  # joined in July: from August
    assert units.agency.pk in ids
    counts = Counter(ids)
    full = [counts[u.pk] for u in (units.a, units.b, units.c)]
    assert max(full) - min(full) <= 1
    entry = AuditEntry.objects.filter(action="party.alliance.rotation.generate").get()
    assert entry.detail["year"] == YEAR and len(entry.detail["schedule"]) == 12
    # The same input gives the same schedule.
    generate(tree, alliance)
    assert chairs(alliance) == rows

    quarters = generate(tree, alliance, length="quarter")
    assert quarters.written == 4 and len(chairs(alliance)) == 4
    with pytest.raises(DomainError, match="周期应为"):
        generate(tree, alliance, length="week")
    outsider = tree.outsiders[Role.COMMUNITY_WORKER]
    with pytest.raises(NotFound):
        services.rotation_generate(actor=SYSTEM, scope=mscope(outsider), alliance=alliance, year=YEAR, on=BEFORE)


def test_rotation_keeps_started_periods_unless_asked(tree, units):
    alliance = make_alliance(tree)
    for unit in (units.a, units.b):
        join(tree, alliance, unit)
    generate(tree, alliance)
    first = chairs(alliance)
    join(tree, alliance, units.c)
    mid_year = date(YEAR, 5, 10)
    result = generate(tree, alliance, on=mid_year)
    after = chairs(alliance)
    assert result.kept == 5 and result.written == 7
    assert after[:5] == first[:5]  # January–May stay as they were
    ids = [u for _, u in after]
    assert units.c.pk in ids[5:]
    assert ids[5] != ids[4]
    assert Counter(ids)[units.c.pk] >= 2  # the newcomer catches up
    with pytest.raises(DomainError, match="重写已开始的期次"):
        generate(tree, alliance, on=mid_year, length="quarter")
    rewritten = generate(tree, alliance, on=mid_year, length="quarter", rewrite_past=True)
    assert (rewritten.kept, rewritten.written) == (0, 4)
    entry = AuditEntry.objects.filter(action="party.alliance.rotation.generate").order_by("-seq").first()
    assert entry.detail["rewrite_past"] is True and len(entry.detail["replaced"]) == 12


def test_rotation_carries_over_last_year_and_avoids_back_to_back_across_years(tree, units):
    alliance = make_alliance(tree)
    for unit in (units.a, units.b, units.c):
        join(tree, alliance, unit)
    # Last year: a and b chaired more than c; b chaired December.
    last = [units.a, units.b] * 5 + [units.a, units.b]
    for month, unit in enumerate(last, start=1):
        start = date(YEAR - 1, month, 1)
        end = (date(YEAR - 1, month + 1, 1) if month < 12 else date(YEAR, 1, 1)) - timedelta(days=1)
        RotationDuty.objects.create(alliance=alliance, unit=unit, starts_on=start, ends_on=end)
    generate(tree, alliance, length="quarter", on=date(YEAR - 1, 12, 31))
    ids = [u for _, u in chairs(alliance)]
    assert ids[0] == units.c.pk  # chaired least last year: first, and the extra turn
    assert Counter(ids)[units.c.pk] == 2
    generate(tree, alliance, on=date(YEAR - 1, 12, 31))
    ids = [u for _, u in chairs(alliance)]
    assert ids[0] == units.c.pk and ids[0] != units.b.pk


# --- the five lists ---------------------------------------------------------------------------


def test_five_lists_owner_overdue_filters_and_audited_status(tree, units):
    worker = manager(tree)
    alliance = make_alliance(tree)
    join(tree, alliance, units.a)
    scope = mscope(worker)
    today = services.today()
    make = services.item_create
    with pytest.raises(DomainError, match="不是本联盟在册的成员单位"):
        make(actor=SYSTEM, scope=scope, alliance=alliance, kind=ListKind.TASKS, title="x", owner_unit=units.b)
    with pytest.raises(DomainError, match="未知的清单"):
        make(actor=SYSTEM, scope=scope, alliance=alliance, kind="wishes", title="x")
    with pytest.raises(DomainError, match="请填写事项"):
        make(actor=SYSTEM, scope=scope, alliance=alliance, kind=ListKind.TASKS, title=" ")
    late = make(
        actor=actor_of(worker),
        scope=scope,
        alliance=alliance,
        kind=ListKind.TASKS,
        title="老旧小区加装电梯协调",
        owner_unit=units.a,
        owner_name="王主任",
        due_on=today - timedelta(days=3),
    )
    on_time = make(
        actor=SYSTEM,
        scope=scope,
        alliance=alliance,
        kind=ListKind.TASKS,
        title="共建书屋",
        due_on=today + timedelta(days=30),
    )
    done_late = make(
        actor=SYSTEM, scope=scope, alliance=alliance, kind=ListKind.TASKS, title="清理楼道", due_on=date(2020, 1, 1)
    )
    risk = make(actor=SYSTEM, scope=scope, alliance=alliance, kind=ListKind.RISKS, title="汛期低洼积水")
    services.item_set_status(actor=actor_of(worker), scope=scope, item=done_late, status=ItemStatus.DONE, note="已完成")
    with pytest.raises(DomainError, match="已是“已完成”"):
        services.item_set_status(actor=SYSTEM, scope=scope, item=done_late, status=ItemStatus.DONE)
    with pytest.raises(DomainError, match="未知的状态"):
        services.item_set_status(actor=SYSTEM, scope=scope, item=late, status="lost")
    with pytest.raises(NotFound):
        services.item_set_status(
            actor=SYSTEM, scope=mscope(tree.outsiders[Role.COMMUNITY_WORKER]), item=late, status=ItemStatus.DONE
        )
    entry = AuditEntry.objects.filter(action="party.alliance.item.status").get()
    assert entry.detail == {"from": "open", "to": "done", "note": "已完成"}

    tasks = selectors.items_of(alliance, kind=ListKind.TASKS, today=today)
    flags = {row.item.title: row.overdue for row in tasks}
    assert flags == {"老旧小区加装电梯协调": True, "共建书屋": False, "清理楼道": False}
    overdue = selectors.items_of(alliance, kind=ListKind.TASKS, status=selectors.OVERDUE, today=today)
    assert [r.item.pk for r in overdue] == [late.pk]
    done = selectors.items_of(alliance, kind=ListKind.TASKS, status=ItemStatus.DONE, today=today)
    assert [r.item.pk for r in done] == [done_late.pk]
    assert [r.item.pk for r in selectors.items_of(alliance, kind=ListKind.RISKS, today=today)] == [risk.pk]

    services.item_update(
        actor=actor_of(worker), scope=scope, item=on_time, title="共建书屋（二期）", due_on=on_time.due_on
    )
    update = AuditEntry.objects.filter(action="party.alliance.item.update").get()
    assert update.detail["changed"] == {"title": ["共建书屋", "共建书屋（二期）"]}
    page = selectors.alliance_page(
        scope_for(worker, "party.view"), alliance.pk, year=YEAR, today=today, kind=ListKind.TASKS
    )
    tab = next(t for t in page.tabs if t["kind"] == ListKind.TASKS)
    assert (tab["count"], tab["overdue"], tab["active"]) == (3, 1, True)
    assert AllianceItem.objects.filter(alliance=alliance).count() == 4


# --- pages ------------------------------------------------------------------------------------


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_capability_first_then_scope(tree, units):
    alliance = make_alliance(tree)
    detail = reverse("party:alliance", args=[alliance.pk])
    # No party.view: 403 before anything is looked up, even for an id that does not exist.
    grid_worker = login(tree.users[Role.GRID_WORKER])
    for url in (reverse("party:alliances"), detail, reverse("party:alliance", args=[99999]), reverse("party:pairings")):
        assert grid_worker.get(url).status_code == 403
    # party.view without party.manage: reads, but every write is 403.
    dispatcher = login(tree.users[Role.SUBDISTRICT_DISPATCHER])
    assert dispatcher.get(detail).status_code == 200
    assert dispatcher.get(reverse("party:alliance_create")).status_code == 403
    assert dispatcher.post(reverse("party:alliance_rotation", args=[alliance.pk]), {"year": YEAR}).status_code == 403
    assert dispatcher.get(reverse("party:pairing_create")).status_code == 403
    # Out of scope: 404, the same as a missing id.
    outsider = login(tree.outsiders[Role.COMMUNITY_WORKER])
    assert outsider.get(detail).status_code == 404
    assert outsider.get(reverse("party:alliance_edit", args=[alliance.pk])).status_code == 404
    assert outsider.get(reverse("party:alliance", args=[99999])).status_code == 404
    assert "城北社区党建联盟" not in outsider.get(reverse("party:alliances")).content.decode()
    # A party secretary of the community sees it.
    secretary = login(tree.users[Role.PARTY_SECRETARY])
    assert "城北社区党建联盟" in secretary.get(reverse("party:alliances")).content.decode()


def test_pages_create_join_rotate_and_lists(tree, units):
    client = login(manager(tree))
    response = client.post(reverse("party:alliance_create"), {"area": tree.chengbei.pk, "name": "城北联盟"})
    assert response.status_code == 302
    alliance = selectors.alliances(Scope.everything()).get(name="城北联盟")
    bad = client.post(reverse("party:alliance_create"), {"area": tree.grid1.pk, "name": "网格联盟"})
    assert bad.status_code == 400
    add = reverse("party:alliance_member_add", args=[alliance.pk])
    assert client.get(add).status_code == 200
    assert client.post(add, {"unit": units.a.pk, "joined_on": "2024-01-01"}).status_code == 302
    # A unit outside the scope is named by its credit code.
    assert client.post(add, {"credit_code": code(5).lower(), "joined_on": "2024-01-01"}).status_code == 302
    wrong = client.post(add, {"credit_code": "91320583MA1M00000X", "joined_on": "2024-01-01"})
    assert wrong.status_code == 400 and "校验位" in wrong.content.decode()
    missing = client.post(add, {"joined_on": "2024-01-01"})
    assert missing.status_code == 400 and "请选择单位" in missing.content.decode()
    members = {m.unit_id: m for m in AllianceMember.objects.filter(alliance=alliance)}
    assert set(members) == {units.a.pk, units.agency.pk}

    rotate = client.post(reverse("party:alliance_rotation", args=[alliance.pk]), {"year": YEAR, "length": "month"})
    assert rotate.status_code == 302 and len(chairs(alliance)) == 12

    item_add = reverse("party:alliance_item_add", args=[alliance.pk]) + "?list=needs"
    assert client.get(item_add).status_code == 200
    posted = client.post(
        item_add, {"kind": "needs", "title": "助老食堂志愿者", "owner_unit": units.a.pk, "due_on": "2020-01-01"}
    )
    assert posted.status_code == 302
    item = AllianceItem.objects.get(alliance=alliance)
    page = client.get(reverse("party:alliance", args=[alliance.pk]), {"list": "needs", "year": YEAR})
    html = page.content.decode()
    assert page.status_code == 200
    assert "助老食堂志愿者" in html and "已逾期" in html and "城北供电所" in html and "12月1日" in html
    status_url = reverse("party:alliance_item_status", args=[alliance.pk, item.pk])
    assert client.post(status_url, {"status": "in_progress"}).status_code == 302
    item.refresh_from_db()
    assert item.status == ItemStatus.IN_PROGRESS
    edit = client.post(
        reverse("party:alliance_item_edit", args=[alliance.pk, item.pk]), {"title": "助老食堂", "owner_name": "李"}
    )
    assert edit.status_code == 302

    leave = reverse("party:alliance_member_leave", args=[alliance.pk, members[units.a.pk].pk])
    assert client.post(leave, {"on": "2025-01-01"}).status_code == 302
    assert AllianceMember.objects.get(pk=members[units.a.pk].pk).left_on == date(2025, 1, 1)

    assert client.get(reverse("party:pairing_create")).status_code == 200
    paired = client.post(
        reverse("party:pairing_create"),
        {"credit_code": code(5), "community": tree.chengbei.pk, "since": "2025-01-01", "content": "共建文明"},
    )
    assert paired.status_code == 302
    listing = client.get(reverse("party:pairings")).content.decode()
    assert "昆山市市场监管局" in listing and "结对中" in listing
    assert client.get(reverse("party:unit_pairings", args=[units.agency.pk])).status_code == 200
    assert client.get(reverse("party:unit_pairings", args=[units.far.pk])).status_code == 404
    listing = client.get(reverse("party:alliances")).content.decode()
    assert "城北联盟" in listing and "各社区、街道成员单位数" in listing


def test_alliance_page_query_count_does_not_grow(tree, units, django_assert_max_num_queries):
    worker = manager(tree)
    alliance = make_alliance(tree)
    join(tree, alliance, units.a)
    generate(tree, alliance)
    services.item_create(
        actor=SYSTEM, scope=mscope(worker), alliance=alliance, kind=ListKind.INFORMATION, title="一", owner_unit=units.a
    )
    client = login(worker)
    url = reverse("party:alliance", args=[alliance.pk])
    params = {"year": YEAR}
    client.get(url, params)  # warm up sessions and caches
    with CaptureQueriesContext(connection) as small:
        assert client.get(url, params).status_code == 200
    for unit in (units.b, units.c, units.agency, units.far):
        join(tree, alliance, unit)
    generate(tree, alliance)
    owners = [units.a, units.b, units.c, units.agency]
    for n in range(12):
        services.item_create(
            actor=SYSTEM,
            scope=mscope(worker),
            alliance=alliance,
            kind=ListKind.INFORMATION,
            title=f"事项{n}",
            owner_unit=owners[n % 4],
            due_on=date(2020, 1, 1),
        )
    services.member_leave(
        actor=SYSTEM, scope=mscope(worker), member=AllianceMember.objects.get(unit=units.far), left_on=date(2025, 1, 1)
    )
    with CaptureQueriesContext(connection) as large:
        response = client.get(url, params)
    assert response.status_code == 200
    assert len(large) == len(small)
    with django_assert_max_num_queries(14):
        client.get(url, params)
