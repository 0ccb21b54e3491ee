"""Demo cases: every stage of the loop for the demo accounts, made through the services, once."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from grassroots.accounts.models import Role, User
from grassroots.cases import selectors
from grassroots.cases.models import Case, CaseAssignment, CaseEvent, DutyAssignment
from grassroots.cases.workflow import CaseState
from tests.demo.test_demo_city import demo_city

pytestmark = pytest.mark.django_db


def _demo_cases(count: int = 120) -> str:
    out = io.StringIO()
    call_command("demo_cases", count=count, seed=3, stdout=out)
    return out.getvalue()


def test_demo_cases_cover_the_loop_and_run_once() -> None:
    with pytest.raises(CommandError) as info:
        call_command("demo_cases", stdout=io.StringIO())
    assert info.value.returncode == 2  # no demo city, no demo accounts
    demo_city(2000)
    call_command("demo_accounts", stdout=io.StringIO())
    call_command("seed_categories", stdout=io.StringIO())
    assert "cases 120" in _demo_cases()
    states = set(Case.objects.values_list("state", flat=True))
    assert {CaseState.submitted, CaseState.dispatched, CaseState.in_progress, CaseState.closed} <= states
    assert Case.objects.exclude(rating="").exists() and Case.objects.filter(overdue=True).exists()
    # Everything went through the services: every case has its submit event, every whistle its assignments.
    assert CaseEvent.objects.filter(action="submit").count() == 120
    whistled = Case.objects.exclude(state__in=["submitted", "accepted"]).exclude(dispatched_at=None)
    assert not whistled.exclude(pk__in=CaseAssignment.objects.values("case_id")).exists()
    # The demo accounts see them: the community worker all, the resident their own reports.
    community_worker = User.objects.get(username="demo_community_worker")
    assert selectors.case_list(user=community_worker).total == 120
    resident = User.objects.get(username="demo_resident")
    assert 0 < selectors.case_list(user=resident).total < 120
    officer = User.objects.get(username="demo_department_officer")
    assert selectors.case_list(user=officer, inbox=True).total > 0
    assert "cases 0" in _demo_cases()  # a second run adds nothing
    assert Case.objects.count() == 120
    # Replacing the city removes its cases and duty lists too.
    demo_city(2000, 2, replace=True)
    assert not Case.objects.exists() and not DutyAssignment.objects.exists()
    assert not User.objects.filter(role=Role.DEPARTMENT_OFFICER, username__startswith="demo_officer_").exists()
