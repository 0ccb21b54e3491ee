"""The case loop through the services: submit, every step, scope per role, conflicts, outbox."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pytest
from django.db import transaction

from grassroots.accounts.models import Role as AccountRole
from grassroots.audit.services import SYSTEM
from grassroots.cases import selectors, services
from grassroots.cases.coords import distance_m, gcj02_to_wgs84, wgs84_to_gcj02
from grassroots.cases.models import AssignmentState, Case, CaseAssignment, CaseEvent, Category
from grassroots.cases.workflow import TZ, Action, CaseState, Command, Rating, Role
from grassroots.core.errors import DomainError, Forbidden, NotFound
from grassroots.core.scope import Scope
from grassroots.notify.models import Notification
from tests.factories import Tree, centre

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=TZ)  # a Monday
EVERYTHING = Scope.everything()


@dataclass
class Env:
    tree: Tree
    category: Category

    def user(self, role: str) -> object:
        return self.tree.users[role]


def make_env(tree: Tree) -> Env:
    """A pothole category assigned to 城管局 at the district; shared by the other test_cases_* files."""
    category = services.category_create(actor=SYSTEM, code="road.pothole", name="道路坑洼", kind="event")
    services.assignment_save(
        actor=SYSTEM, scope=EVERYTHING, category=category, area=tree.district, departments=[tree.department]
    )
    return Env(tree, category)


@pytest.fixture
def env(tree: Tree) -> Env:
    return make_env(tree)


def submit(env: Env, *, at: datetime = NOW, offset_m: float = 0.0, reporter: str = AccountRole.RESIDENT) -> Case:
    lon, lat = centre(0, 0)
    return services.case_submit(
        actor=env.user(reporter),
        scope=EVERYTHING,
        channel="resident_h5",
        category=env.category,
        description="路面有坑",
        lon=lon + offset_m / 95_000,  # ~95 km per degree of longitude at 31° N
        lat=lat,
        now=at,
    ).case


def act(env: Env, case: Case, user_role: str, action: Action, *, at: datetime = NOW, **fields: object) -> Case:
    user = env.user(user_role)
    role = selectors.acting_roles(user)[0]
    fresh = Case.objects.get(pk=case.pk)
    return services.case_act(
        actor=user,
        role=role,
        case_id=case.pk,
        expected_version=fresh.version,
        command=Command(action=action, role=role, **fields),  # type: ignore[arg-type]
        now=at,
    )


# --- coordinates --------------------------------------------------------------------------


def test_gcj02_to_wgs84_known_point() -> None:
    # A published pair (Shanghai): WGS-84 (121.5272106, 31.1774276) shows as this point on GCJ-02 maps.
    gcj = (121.531541859215, 31.17530398364597)
    assert wgs84_to_gcj02(121.5272106, 31.1774276) == pytest.approx(gcj, abs=1e-9)
    lon, lat = gcj02_to_wgs84(*gcj)
    assert distance_m(lon, lat, 121.5272106, 31.1774276) < 0.01
    assert gcj02_to_wgs84(2.35, 48.85) == (2.35, 48.85)  # outside China nothing shifts


# --- submit -------------------------------------------------------------------------------


def test_submit_locates_the_grid_and_numbers_the_case(env: Env) -> None:
    case = submit(env)
    assert case.grid == env.tree.grid1 and case.path == env.tree.grid1.path
    assert case.number == f"2026-{case.pk:06d}" and case.state == CaseState.submitted
    assert [e.action for e in CaseEvent.objects.filter(case=case)] == ["submit"]


def test_submit_from_a_building(env: Env) -> None:
    result = services.case_submit(
        actor=env.user(AccountRole.GRID_WORKER),
        scope=EVERYTHING,
        channel="qr_code",
        category=env.category,
        description="楼道堆物",
        building=env.tree.building3,
        now=NOW,
    )
    assert result.case.grid == env.tree.grid3 and result.case.lon == env.tree.building3.lon


def test_submit_outside_every_grid_is_refused(env: Env) -> None:
    with pytest.raises(DomainError, match="不在本平台的任何网格内"):
        services.case_submit(
            actor=env.user(AccountRole.RESIDENT),
            scope=EVERYTHING,
            channel="resident_h5",
            category=env.category,
            description="路面有坑",
            lon=121.9,
            lat=31.9,
            now=NOW,
        )
    assert not Case.objects.exists()


def test_submit_outside_the_workers_area_is_forbidden(env: Env) -> None:
    lon, lat = centre(3, 0)
    with pytest.raises(Forbidden):
        services.case_submit(
            actor=env.user(AccountRole.GRID_WORKER),
            scope=Scope(area_path=env.tree.grid1.path),
            channel="grid_patrol",
            category=env.category,
            description="x",
            lon=lon,
            lat=lat,
            now=NOW,
        )


def test_duplicates_within_50_m_and_7_days_only(env: Env) -> None:
    first = submit(env, at=NOW - timedelta(days=6))
    submit(env, at=NOW - timedelta(days=8))  # too old
    far = submit(env, at=NOW - timedelta(days=1), offset_m=120)
    lon, lat = centre(0, 0)
    result = services.case_submit(
        actor=env.user(AccountRole.RESIDENT),
        scope=EVERYTHING,
        channel="resident_h5",
        category=env.category,
        description="又见坑",
        lon=lon + 30 / 95_000,
        lat=lat,
        now=NOW,
    )
    assert result.duplicates == [first]
    assert far not in result.duplicates
    other = services.category_create(actor=SYSTEM, code="road.light", name="路灯", kind="component")
    assert selectors.duplicate_candidates(category=other, lon=lon, lat=lat, now=NOW) == []
    assert Case.objects.count() == 4  # suggested, never merged automatically


# --- the loop -----------------------------------------------------------------------------


def test_whole_loop_with_whistle_and_evaluation_reopen(env: Env) -> None:
    case = submit(env)
    case = act(env, case, AccountRole.COMMUNITY_WORKER, Action.whistle)
    assert case.state == CaseState.dispatched and case.whistle_kind == "routine"
    assert case.acknowledge_by == NOW + timedelta(hours=24)
    assert case.handle_by == datetime(2026, 12, 2, 23, 59, 59, 999999, tzinfo=TZ)
    assert case.remind_at == NOW + timedelta(hours=24) * 0.8
    assignment = CaseAssignment.objects.get(case=case)
    assert assignment.department == env.tree.department and assignment.state == AssignmentState.DISPATCHED
    officer = env.user(AccountRole.DEPARTMENT_OFFICER)
    assert Notification.objects.filter(user_id=officer.pk, kind="case.dispatch").count() == 1  # type: ignore[attr-defined]

    case = act(env, case, AccountRole.DEPARTMENT_OFFICER, Action.acknowledge)
    assert case.state == CaseState.acknowledged
    case = act(env, case, AccountRole.DEPARTMENT_OFFICER, Action.start)
    with pytest.raises(DomainError, match="办理结果"):
        act(env, case, AccountRole.DEPARTMENT_OFFICER, Action.resolve)
    case = act(env, case, AccountRole.DEPARTMENT_OFFICER, Action.resolve, result="已修补")
    assert case.state == CaseState.resolved and case.remind_at is None
    assert CaseAssignment.objects.get(case=case).state == AssignmentState.RESOLVED
    case = act(env, case, AccountRole.GRID_WORKER, Action.begin_verification)
    case = act(env, case, AccountRole.GRID_WORKER, Action.verify_pass)
    assert case.state == CaseState.closed and case.closed_at == NOW
    # The reporter heard twice: accepted (the whistle) and closed, asking for a rating.
    reporter = env.user(AccountRole.RESIDENT)
    news = Notification.objects.filter(user_id=reporter.pk).order_by("id")  # type: ignore[attr-defined]
    assert [n.kind for n in news] == ["case.reporter.whistle", "case.reporter.verify_pass"]
    assert case.number in news.last().body and "评价" in news.last().subject

    later = NOW + timedelta(days=2)
    case = act(env, case, AccountRole.RESIDENT, Action.evaluate, rating=Rating.unsatisfied, at=later)
    assert case.state == CaseState.reopened and case.evaluation_reopens == 1
    events = list(CaseEvent.objects.filter(case=case).values_list("action", "to_state"))
    assert events[-2:] == [("evaluate", "closed"), ("reopen", "reopened")]
    # Only once in a case's life: the second unsatisfied rating is recorded and the case stays closed.
    case = act(env, case, AccountRole.COMMUNITY_WORKER, Action.start, at=later)
    case = act(env, case, AccountRole.COMMUNITY_WORKER, Action.resolve, result="重新修补", at=later)
    case = act(env, case, AccountRole.GRID_WORKER, Action.begin_verification, at=later)
    case = act(env, case, AccountRole.GRID_WORKER, Action.verify_pass, at=later)
    case = act(env, case, AccountRole.RESIDENT, Action.evaluate, rating=Rating.unsatisfied, at=later)
    assert case.state == CaseState.closed and case.rating == "unsatisfied"
    assert case.version == 1 + CaseEvent.objects.filter(case=case).exclude(action__in=["submit", "reopen"]).count()


def test_accept_and_handle_in_the_community(env: Env) -> None:
    case = act(env, submit(env), AccountRole.COMMUNITY_WORKER, Action.accept)
    case = act(env, case, AccountRole.COMMUNITY_WORKER, Action.start)
    case = act(env, case, AccountRole.COMMUNITY_WORKER, Action.resolve, result="已处理")
    assert case.state == CaseState.resolved and not CaseAssignment.objects.exists()


def test_reject_then_arbitration(env: Env) -> None:
    case = act(env, submit(env), AccountRole.COMMUNITY_WORKER, Action.whistle)
    with pytest.raises(DomainError, match="原因"):
        act(env, case, AccountRole.DEPARTMENT_OFFICER, Action.reject)
    case = act(env, case, AccountRole.DEPARTMENT_OFFICER, Action.reject, reason="不属本部门职责")
    assert case.state == CaseState.rejected
    assert CaseAssignment.objects.get(case=case).reject_reason == "不属本部门职责"
    case = act(env, case, AccountRole.COMMUNITY_WORKER, Action.escalate_to_arbitration, reason="职责不清")
    with pytest.raises(Forbidden):
        act(env, case, AccountRole.COMMUNITY_WORKER, Action.arbitrate, departments=(env.tree.other_department.pk,))
    case = act(
        env, case, AccountRole.SUBDISTRICT_DISPATCHER, Action.arbitrate, departments=(env.tree.other_department.pk,)
    )
    assert case.state == CaseState.dispatched
    states = dict(CaseAssignment.objects.filter(case=case).values_list("department_id", "state"))
    assert states == {env.tree.department.pk: "rejected", env.tree.other_department.pk: "dispatched"}
    # The first department no longer acts; the ruled one does.
    with pytest.raises(DomainError):
        act(env, case, AccountRole.DEPARTMENT_OFFICER, Action.acknowledge)


def test_two_departments_each_report_in_and_the_last_resolution_moves_the_case(env: Env) -> None:
    both = (env.tree.department.pk, env.tree.other_department.pk)
    case = act(env, submit(env), AccountRole.COMMUNITY_WORKER, Action.whistle, departments=both)
    other = env.tree.outsiders[AccountRole.DEPARTMENT_OFFICER]
    env.tree.users["other_officer"] = other
    case = act(env, case, AccountRole.DEPARTMENT_OFFICER, Action.acknowledge)
    case = act(env, case, "other_officer", Action.acknowledge)
    case = act(env, case, AccountRole.DEPARTMENT_OFFICER, Action.start)
    case = act(env, case, AccountRole.DEPARTMENT_OFFICER, Action.resolve, result="本部门完成")
    assert case.state == CaseState.in_progress
    case = act(env, case, "other_officer", Action.resolve, result="完成")
    assert case.state == CaseState.resolved


def test_merge_links_the_duplicate(env: Env) -> None:
    first, second = submit(env), submit(env, offset_m=10)
    with pytest.raises(DomainError, match="合并到的案件"):
        act(env, second, AccountRole.COMMUNITY_WORKER, Action.merge)
    merged = act(env, second, AccountRole.COMMUNITY_WORKER, Action.merge, target_case_id=first.pk)
    assert merged.state == CaseState.merged and merged.merged_into == first


def test_cancel_by_the_reporter_only_while_submitted(env: Env) -> None:
    case = submit(env)
    cancelled = act(env, case, AccountRole.RESIDENT, Action.cancel, reason="误报")
    assert cancelled.state == CaseState.cancelled
    accepted = act(env, submit(env), AccountRole.COMMUNITY_WORKER, Action.accept)
    with pytest.raises(DomainError, match="无法撤回"):
        act(env, accepted, AccountRole.RESIDENT, Action.cancel, reason="不需要了")


# --- scope --------------------------------------------------------------------------------


def test_scope_for_every_role_in_and_out(env: Env) -> None:
    case = act(env, submit(env), AccountRole.COMMUNITY_WORKER, Action.whistle)
    for role, user in env.tree.users.items():
        visible = Case.objects.filter(selectors.visible_q(user), pk=case.pk).exists()
        assert visible is (role != AccountRole.PARTY_SECRETARY), role
        selectors.case_get(user=user, case_id=case.pk) if visible else None
    for role, user in env.tree.outsiders.items():
        with pytest.raises(NotFound):
            selectors.case_get(user=user, case_id=case.pk)
        assert selectors.case_list(user=user).total == 0, role
    # A department sees only what was sent to it.
    undispatched = submit(env)
    officer = env.user(AccountRole.DEPARTMENT_OFFICER)
    with pytest.raises(NotFound):
        selectors.case_get(user=officer, case_id=undispatched.pk)
    assert [c.pk for c in selectors.case_list(user=officer, inbox=True).items] == [case.pk]
    # Outsiders cannot act either, and say nothing about the case.
    outsider = env.tree.outsiders[AccountRole.COMMUNITY_WORKER]
    with pytest.raises(NotFound):
        services.case_act(
            actor=outsider,
            role=Role.community,
            case_id=undispatched.pk,
            expected_version=1,
            command=Command(Action.accept, Role.community),
            now=NOW,
        )


def test_a_leader_sees_but_cannot_act(env: Env) -> None:
    case = submit(env)
    leader = env.user(AccountRole.DISTRICT_LEADER)
    assert selectors.caller_actions(user=leader, case=case) == []
    with pytest.raises(Forbidden):
        services.case_act(
            actor=leader,
            role=Role.dispatcher,
            case_id=case.pk,
            expected_version=1,
            command=Command(Action.accept, Role.dispatcher),
            now=NOW,
        )


# --- concurrency, deadlines, outbox -------------------------------------------------------


def test_two_actors_same_version_exactly_one_wins(env: Env) -> None:
    case = submit(env)
    dispatcher = env.user(AccountRole.SUBDISTRICT_DISPATCHER)
    worker = env.user(AccountRole.COMMUNITY_WORKER)
    won = services.case_act(
        actor=worker,
        role=Role.community,
        case_id=case.pk,
        expected_version=1,
        command=Command(Action.accept, Role.community),
        now=NOW,
    )
    with pytest.raises(services.Conflict) as lost:
        services.case_act(
            actor=dispatcher,
            role=Role.dispatcher,
            case_id=case.pk,
            expected_version=1,
            command=Command(Action.whistle, Role.dispatcher),
            now=NOW,
        )
    assert "已被他人处理" in lost.value.message
    assert won.version == 2 and Case.objects.get(pk=case.pk).state == CaseState.accepted
    assert not CaseAssignment.objects.exists()


def test_handling_deadline_skips_holidays_from_the_calendar_table(env: Env) -> None:
    for day in (date(2026, 11, 24), date(2026, 11, 25)):
        services.calendar_day_set(actor=SYSTEM, day=day, is_workday=False, name="临时放假")
    case = act(env, submit(env), AccountRole.COMMUNITY_WORKER, Action.whistle)
    assert case.handle_by == datetime(2026, 12, 4, 23, 59, 59, 999999, tzinfo=TZ)


def test_notifications_roll_back_with_the_change(env: Env) -> None:
    case = submit(env)
    with pytest.raises(RuntimeError), transaction.atomic():
        act(env, case, AccountRole.COMMUNITY_WORKER, Action.whistle)
        assert Notification.objects.filter(kind="case.dispatch").count() == 1
        assert Notification.objects.filter(kind="case.reporter.whistle").count() == 1
        raise RuntimeError("the request fails after the whistle")
    assert not Notification.objects.exists()
    assert Case.objects.get(pk=case.pk).state == CaseState.submitted


def test_emergency_mode_puts_new_dispatches_on_the_emergency_clock(env: Env) -> None:
    from grassroots.places import services as places_services

    places_services.area_set_mode(actor=SYSTEM, area=env.tree.chengbei, mode="emergency", reason="防汛应急动员")
    case = act(env, submit(env), AccountRole.COMMUNITY_WORKER, Action.whistle)
    assert case.whistle_kind == "emergency"
    assert case.acknowledge_by == NOW + timedelta(minutes=30) and case.handle_by == NOW + timedelta(hours=2)
    # Back to normal: the duty list's routine deadlines again.
    places_services.area_set_mode(actor=SYSTEM, area=env.tree.chengbei, mode="normal", reason="解除")
    case = act(env, submit(env, offset_m=500), AccountRole.COMMUNITY_WORKER, Action.whistle)
    assert case.whistle_kind == "routine" and case.acknowledge_by == NOW + timedelta(hours=24)


def test_a_point_in_a_dedicated_grid_outside_every_comprehensive_grid_belongs_to_it(env: Env) -> None:
    from grassroots.places import services as places_services
    from tests.factories import square

    school = places_services.area_create(
        actor=SYSTEM,
        parent=env.tree.chengbei,
        level="grid",
        code="91",
        name="实验小学专属网格",
        grid_kind="dedicated",
        geometry=square(0, 1),  # north of 网格一, inside no comprehensive grid
    )
    lon, lat = centre(0, 1)
    case = services.case_submit(
        actor=env.user(AccountRole.RESIDENT),
        scope=EVERYTHING,
        channel="resident_h5",
        category=env.category,
        description="校门口路面塌陷",
        lon=lon,
        lat=lat,
        now=NOW,
    ).case
    assert case.grid == school and case.path == school.path
