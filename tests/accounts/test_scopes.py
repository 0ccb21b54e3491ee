"""Users to scopes, and role capabilities."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from grassroots.accounts import selectors
from grassroots.accounts import services as accounts
from grassroots.accounts.models import Role
from grassroots.accounts.scopes import CAPABILITIES, can, scope_for
from grassroots.audit.services import SYSTEM
from grassroots.core.errors import NotFound
from grassroots.core.scope import Scope

pytestmark = pytest.mark.django_db

EXPECTED_INSIDE = {
    Role.RESIDENT: "3205.320583.001.001",
    Role.GRID_WORKER: "3205.320583.001.001.01",
    Role.COMMUNITY_WORKER: "3205.320583.001.001",
    Role.SUBDISTRICT_DISPATCHER: "3205.320583.001",
    Role.DEPARTMENT_OFFICER: "3205.320583",
    Role.PARTY_SECRETARY: "3205.320583.001.001",
    Role.DISTRICT_LEADER: "3205.320583",
    Role.ADMIN: "",
}


@pytest.mark.parametrize("role", list(Role))
def test_scope_for_every_role_without_capability(tree, role):
    user = tree.users[role]
    scope = scope_for(user)
    assert scope.area_path == EXPECTED_INSIDE[role]
    if role == Role.DEPARTMENT_OFFICER:
        assert scope.department_id == tree.department.pk
    else:
        assert scope.department_id is None


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("capability", ["places.browse", "registry.view", "places.edit", "accounts.manage"])
def test_scope_for_a_capability_is_nothing_without_it(tree, role, capability):
    user = tree.users[role]
    scope = scope_for(user, capability)
    if capability in CAPABILITIES[role]:
        assert can(user, capability)
        assert scope == scope_for(user)
    else:
        assert not can(user, capability)
        assert scope == Scope.nothing()


def test_capability_table():
    assert CAPABILITIES[Role.RESIDENT] == frozenset({"cases.h5"})  # the phone pages' links, no data
    assert "registry.view" not in CAPABILITIES[Role.DEPARTMENT_OFFICER]
    assert "registry.view" in CAPABILITIES[Role.GRID_WORKER]
    assert CAPABILITIES[Role.ADMIN] >= set().union(*CAPABILITIES.values())
    assert set(CAPABILITIES) == set(Role)


@pytest.mark.parametrize("role", list(Role))
def test_inactive_users_see_nothing_and_can_nothing(tree, role):
    user = tree.users[role]
    accounts.user_deactivate(actor=SYSTEM, user=user, reason="测试")
    assert scope_for(user) == Scope.nothing()
    assert scope_for(user, "places.browse") == Scope.nothing()
    assert not can(user, "places.browse")


def test_anonymous_and_none_see_nothing():
    for user in (None, AnonymousUser()):
        assert scope_for(user) == Scope.nothing()
        assert not can(user, "places.browse")


def test_outsiders_scopes_do_not_cover_the_inside_branch(tree):
    for role, user in tree.outsiders.items():
        if role == Role.DEPARTMENT_OFFICER:
            continue  # both departments sit at the district: they differ by department, not area
        scope = scope_for(user)
        assert not scope.covers_path(tree.grid1.path), role
    assert scope_for(tree.outsiders[Role.DEPARTMENT_OFFICER]).department_id == tree.other_department.pk


def test_user_whose_area_or_department_is_missing_sees_nothing(tree):
    user = tree.users[Role.GRID_WORKER]
    user.area = None
    assert scope_for(user) == Scope.nothing()
    officer = tree.users[Role.DEPARTMENT_OFFICER]
    officer.department = None
    assert scope_for(officer) == Scope.nothing()


# --- accounts selectors ------------------------------------------------------------------------


def test_grid_roles_by_scope(tree):
    from datetime import date

    accounts.grid_role_assign(actor=SYSTEM, grid=tree.grid1, kind="police", name="王", since=date(2025, 1, 1))
    accounts.grid_role_assign(actor=SYSTEM, grid=tree.grid1, kind="police", name="赵", since=date(2025, 9, 1))
    accounts.grid_role_assign(actor=SYSTEM, grid=tree.grid1, kind="fire", name="钱", since=date(2025, 1, 1))
    holders = selectors.grid_roles(scope=scope_for(tree.users[Role.GRID_WORKER]), grid=tree.grid1)
    assert [(h.kind, h.name) for h in holders] == [("fire", "钱"), ("police", "赵")]
    with pytest.raises(NotFound):
        selectors.grid_roles(scope=scope_for(tree.outsiders[Role.GRID_WORKER]), grid=tree.grid1)


def test_staffing_counts_workers_at_or_below(tree):
    cw = tree.users[Role.COMMUNITY_WORKER]
    other = tree.outsiders[Role.COMMUNITY_WORKER]
    accounts.worker_profile_set(actor=SYSTEM, user=cw, area=tree.chengbei, post="staff", grade=2)
    accounts.worker_profile_set(actor=SYSTEM, user=other, area=tree.chengnan, post="head", grade=10)
    scope = scope_for(tree.users[Role.SUBDISTRICT_DISPATCHER])
    assert selectors.staffing(scope=scope, area=tree.yushan) == {"total": 2, "by_post": {"staff": 1, "head": 1}}
    assert selectors.staffing(scope=scope, area=tree.chengbei) == {"total": 1, "by_post": {"staff": 1}}
    with pytest.raises(NotFound):
        selectors.staffing(scope=scope_for(cw), area=tree.yushan)


def test_officers_of_an_inactive_department_see_nothing(tree):
    officer = tree.users[Role.DEPARTMENT_OFFICER]
    tree.department.is_active = False
    tree.department.save()
    officer.refresh_from_db()
    assert scope_for(officer, "places.browse") == Scope.nothing()
