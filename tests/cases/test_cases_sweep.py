"""The SLA sweep: 80 % reminders, overdue and one escalation level per missed deadline, idempotent."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command

from grassroots.accounts import services as accounts
from grassroots.accounts.models import Role as AccountRole
from grassroots.audit.services import SYSTEM
from grassroots.cases import services
from grassroots.cases.models import Case, CaseEvent
from grassroots.cases.workflow import Action, CaseState
from grassroots.notify.models import Notification
from tests.cases.test_cases_services import NOW, Env, act, make_env, submit
from tests.factories import Tree

pytestmark = pytest.mark.django_db


@pytest.fixture
def env(tree: Tree) -> Env:
    return make_env(tree)


def whistled(env: Env) -> Case:
    return act(env, submit(env), AccountRole.COMMUNITY_WORKER, Action.whistle)


def test_nothing_due_nothing_done(env: Env) -> None:
    whistled(env)
    assert services.sla_sweep(now=NOW + timedelta(hours=1)) == services.SweepReport(0, 0)


def test_reminder_at_80_percent_once(env: Env) -> None:
    case = whistled(env)
    at = NOW + timedelta(hours=19, minutes=12)  # 80 % of the 24 h report-in deadline
    assert services.sla_sweep(now=at - timedelta(seconds=1)).reminded == 0
    assert services.sla_sweep(now=at).reminded == 1
    assert services.sla_sweep(now=at + timedelta(minutes=5)).reminded == 0
    officer = env.user(AccountRole.DEPARTMENT_OFFICER)
    assert Notification.objects.filter(kind="case.remind", user_id=officer.pk).count() == 1  # type: ignore[attr-defined]
    assert CaseEvent.objects.filter(case=case, action="remind").count() == 1
    # After reporting in, the next reminder is for the handling deadline.
    case = act(env, case, AccountRole.DEPARTMENT_OFFICER, Action.acknowledge, at=at)
    assert case.remind_at is not None and case.handle_by is not None and case.remind_at < case.handle_by


def test_overdue_escalates_one_level_per_deadline_and_is_idempotent(env: Env) -> None:
    leader = accounts.user_create(
        actor=SYSTEM,
        username="district_dispatch",
        password="x-Pass-2026!",
        role=AccountRole.DISTRICT_LEADER,
        area=env.tree.district,
    )
    case = whistled(env)
    late = NOW + timedelta(hours=25)
    report = services.sla_sweep(now=late)
    assert report.overdue == 1
    case.refresh_from_db()
    assert case.overdue and case.acknowledge_missed and case.level == 1 and case.state == CaseState.dispatched
    dispatcher = env.user(AccountRole.SUBDISTRICT_DISPATCHER)
    assert Notification.objects.filter(kind="case.overdue", user_id=dispatcher.pk).count() == 1  # type: ignore[attr-defined]
    # Running again changes nothing.
    before = (Notification.objects.count(), CaseEvent.objects.count())
    assert services.sla_sweep(now=late + timedelta(minutes=1)) == services.SweepReport(0, 0)
    assert (Notification.objects.count(), CaseEvent.objects.count()) == before
    # The handling deadline passes too: district level, whose leader is told.
    much_later = case.handle_by + timedelta(seconds=1)  # type: ignore[operator]
    assert services.sla_sweep(now=much_later).overdue == 1
    case.refresh_from_db()
    assert case.level == 2 and case.handle_missed
    assert Notification.objects.filter(kind="case.overdue", user_id=leader.pk).count() == 1
    # Never past the district: a fresh dispatch that is missed again stays at district level.
    case = act(env, case, AccountRole.DEPARTMENT_OFFICER, Action.reject, reason="非本部门", at=much_later)
    case = act(env, case, AccountRole.COMMUNITY_WORKER, Action.re_dispatch, at=much_later)
    assert not case.overdue and case.level == 2
    assert services.sla_sweep(now=much_later + timedelta(days=2)).overdue == 1
    case.refresh_from_db()
    assert case.level == 2 and case.overdue


def test_closed_and_accepted_cases_are_left_alone(env: Env) -> None:
    accepted = act(env, submit(env), AccountRole.COMMUNITY_WORKER, Action.accept)
    case = whistled(env)
    Case.objects.filter(pk=case.pk).update(state=CaseState.closed.value)
    assert services.sla_sweep(now=NOW + timedelta(days=30)) == services.SweepReport(0, 0)
    accepted.refresh_from_db()
    assert not accepted.overdue


def test_command_and_task_run_the_sweep(env: Env) -> None:
    import io

    from grassroots.cases.tasks import sla_sweep

    out = io.StringIO()
    call_command("sla_sweep", stdout=out)
    assert "reminded 0, overdue 0" in out.getvalue()
    assert sla_sweep.func() == {"reminded": 0, "overdue": 0}
