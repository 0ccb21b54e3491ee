"""Regressions for what the permission matrix found (each fix is listed in the report of issue 10)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db.models import Q
from django.urls import reverse

from grassroots.accounts.models import Role
from grassroots.cases import selectors, services
from grassroots.cases.models import Case
from grassroots.cases.staff_forms import ActionForm
from grassroots.cases.workflow import Action, Command
from grassroots.cases.workflow import Role as CaseRole
from grassroots.core.errors import DomainError
from grassroots.core.scope import Scope
from grassroots.estates.models import PropertyCompany, ServiceContract
from grassroots.places.models import Area

pytestmark = pytest.mark.django_db


def test_the_whole_tree_stays_whole_when_combined_with_another_filter(world: Any) -> None:
    # An empty Q() vanished in ``path_q() | other``: the administrator then saw only ``other``.
    everything = Scope.everything().path_q()
    assert Area.objects.filter(everything | Q(pk__in=[])).count() == Area.objects.count()
    assert Area.objects.filter(everything & Q(pk=world.a.grid.pk)).get() == world.a.grid
    assert not Area.objects.filter(Scope.nothing().path_q() | Q(pk__in=[])).exists()


def test_the_administrator_sees_a_company_that_serves_no_compound(world: Any) -> None:
    company = world.a.objects["company"]
    assert not ServiceContract.objects.filter(company=company).exists()
    page = world.clients[Role.ADMIN].get(reverse("estates:company", args=[company.pk]))
    assert page.status_code == 200
    assert PropertyCompany.objects.filter(pk=company.pk).exists()


def test_a_case_is_never_dispatched_to_another_districts_department(world: Any) -> None:
    case = Case.objects.get(pk=world.a.pk("case"))
    form = ActionForm(action=Action.whistle, role=CaseRole.community, version=1, case_path=case.path)
    offered = set(form.fields["departments"].queryset)
    assert world.a.department in offered and world.b.department not in offered
    fresh = services.case_submit(
        actor=world.a.resident,
        scope=Scope.everything(),
        channel="resident_h5",
        category=world.category,
        description="井盖缺失",
        lon=world.a.building.lon,
        lat=world.a.building.lat,
    ).case
    worker = world.users[Role.COMMUNITY_WORKER]
    role = selectors.acting_roles(worker)[0]
    whistle = Command(action=Action.whistle, role=role, departments=(world.b.department.pk,))
    with pytest.raises(DomainError, match="不负责本案件所在区域"):
        services.case_act(actor=worker, role=role, case_id=fresh.pk, expected_version=fresh.version, command=whistle)
    fresh.refresh_from_db()
    assert fresh.state == "submitted"
