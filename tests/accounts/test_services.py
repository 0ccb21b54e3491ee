"""Accounts writes: users by role, worker profiles, grid roles, passwords."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import IntegrityError, transaction

from grassroots.accounts import services
from grassroots.accounts.models import GridRoleAssignment, Role, User, WorkerProfile
from grassroots.audit.models import AuditEntry
from grassroots.audit.services import SYSTEM, verify_chain
from grassroots.core.errors import DomainError
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def _create(**kwargs):
    return services.user_create(actor=SYSTEM, password=PASSWORD, **kwargs)


# --- user_create ------------------------------------------------------------------------------

# For each role: one area it may hold, and the levels it may not.
ROLE_AREAS = {
    Role.RESIDENT: ("chengbei", ["city", "district", "yushan", "grid1"]),
    Role.GRID_WORKER: ("grid1", ["city", "district", "yushan", "chengbei"]),
    Role.COMMUNITY_WORKER: ("chengbei", ["city", "district", "yushan", "grid1"]),
    Role.SUBDISTRICT_DISPATCHER: ("yushan", ["city", "district", "chengbei", "grid1"]),
    Role.PARTY_SECRETARY: ("yushan", ["city", "district"]),
    Role.DISTRICT_LEADER: ("district", ["yushan", "chengbei", "grid1"]),
}


@pytest.mark.parametrize("role", list(ROLE_AREAS))
def test_each_area_role_accepts_its_level_and_refuses_others(tree, role):
    good, bad = ROLE_AREAS[role]
    user = _create(username=f"new_{role}", role=role, area=getattr(tree, good))
    assert user.role == role and user.area == getattr(tree, good)
    assert not user.is_staff
    for i, attr in enumerate(bad):
        with pytest.raises(DomainError) as excinfo:
            _create(username=f"bad_{role}_{i}", role=role, area=getattr(tree, attr))
        assert excinfo.value.field == "area"
        assert excinfo.value.message.startswith(f"{Role(role).label}的管辖范围必须是")
    with pytest.raises(DomainError, match="管辖范围必须是"):
        _create(username=f"none_{role}", role=role)
    assert not User.objects.filter(username__startswith="bad_").exists()


def test_party_secretary_may_sit_at_subdistrict_community_or_grid(tree):
    for i, area in enumerate([tree.yushan, tree.chengbei, tree.grid1]):
        assert _create(username=f"ps{i}", role=Role.PARTY_SECRETARY, area=area).area == area


def test_district_leader_may_sit_at_city(tree):
    assert _create(username="mayor", role=Role.DISTRICT_LEADER, area=tree.city).area == tree.city


def test_department_officer_needs_a_department(tree):
    with pytest.raises(DomainError, match="职能部门人员必须指定所属部门。"):
        _create(username="d1", role=Role.DEPARTMENT_OFFICER)
    user = _create(username="d2", role=Role.DEPARTMENT_OFFICER, department=tree.department)
    assert user.department == tree.department


def test_department_officer_may_not_also_hold_an_area(tree):
    with pytest.raises(DomainError) as excinfo:
        _create(username="d3", role=Role.DEPARTMENT_OFFICER, department=tree.department, area=tree.grid1)
    assert excinfo.value.field == "area"
    assert not User.objects.filter(username="d3").exists()


def test_only_department_officers_have_a_department(tree):
    with pytest.raises(DomainError, match="只有职能部门人员可以指定部门。"):
        _create(username="g", role=Role.GRID_WORKER, area=tree.grid1, department=tree.department)


def test_admin_has_no_area_and_is_staff(tree):
    with pytest.raises(DomainError, match="系统管理员的范围是全部区域，不能指定区域。"):
        _create(username="a1", role=Role.ADMIN, area=tree.city)
    admin = _create(username="a2", role=Role.ADMIN)
    assert admin.is_staff and admin.area is None


def test_unknown_role_is_refused(tree):
    with pytest.raises(DomainError, match="未知的角色“boss”。"):
        _create(username="x", role="boss", area=tree.city)


@pytest.mark.parametrize(
    ("password", "fragment"),
    [
        ("short1!", "密码太短：至少需要8个字符。"),
        ("12345678901", "密码不能全是数字。"),
        ("password123", "这个密码太常见了。"),
    ],
)
def test_weak_passwords_are_refused_in_chinese(tree, password, fragment):
    with pytest.raises(DomainError) as excinfo:
        services.user_create(actor=SYSTEM, username="weak", password=password, role=Role.ADMIN)
    assert fragment in excinfo.value.message
    assert not any("a" <= c.lower() <= "z" for c in excinfo.value.message)  # no English left
    assert excinfo.value.field == "password"
    assert not User.objects.filter(username="weak").exists()


def test_duplicate_and_empty_usernames_are_refused(tree):
    with pytest.raises(DomainError, match="用户名“in_admin”已被使用。"):
        _create(username=" in_admin ", role=Role.ADMIN)
    with pytest.raises(DomainError, match="用户名不能为空。"):
        _create(username="  ", role=Role.ADMIN)


def test_user_create_is_audited_and_password_hashed(tree):
    before = AuditEntry.objects.count()
    user = _create(username="  li  ", role=Role.GRID_WORKER, area=tree.grid2, display_name="李四")
    assert user.username == "li"
    assert user.check_password(PASSWORD)
    assert PASSWORD not in user.password
    entry = AuditEntry.objects.latest("seq")
    assert AuditEntry.objects.count() == before + 1
    assert (entry.action, entry.object_id, entry.area_path) == ("accounts.user.create", str(user.pk), tree.grid2.path)
    assert entry.detail == {"username": "li", "role": "grid_worker"}
    assert PASSWORD not in str(entry.detail)
    assert verify_chain().ok


def test_argon2_is_the_production_hasher(tree, settings):
    from config import settings as configured

    assert configured.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    settings.PASSWORD_HASHERS = configured.PASSWORD_HASHERS
    user = _create(username="argon", role=Role.ADMIN)
    user.refresh_from_db()
    assert user.password.startswith("argon2$argon2id$")
    assert user.check_password(PASSWORD)


def test_user_deactivate_revokes_tokens_and_is_audited(tree):
    user = tree.users[Role.GRID_WORKER]
    _, raw = services.api_token_create(actor=SYSTEM, user=user, name="巡查App")
    services.user_deactivate(actor=SYSTEM, user=user, reason="离职")
    user.refresh_from_db()
    assert not user.is_active
    assert user.api_tokens.get().revoked_at is not None
    assert services.api_token_authenticate(raw) is None
    entry = AuditEntry.objects.latest("seq")
    assert (entry.action, entry.detail) == ("accounts.user.deactivate", {"reason": "离职"})


# --- departments ----------------------------------------------------------------------------


def test_department_create_rules(tree):
    with pytest.raises(DomainError, match="部门编码 cgj 已存在。"):
        services.department_create(actor=SYSTEM, area=tree.yushan, code="cgj", name="另一个")
    with pytest.raises(DomainError, match="部门名称不能为空。"):
        services.department_create(actor=SYSTEM, area=tree.yushan, code="new", name=" ")
    dept = services.department_create(actor=SYSTEM, area=tree.yushan, code="new", name=" 玉山镇城管 ")
    assert (dept.name, dept.path) == ("玉山镇城管", tree.yushan.path)
    assert AuditEntry.objects.latest("seq").action == "accounts.department.create"


# --- worker profiles ------------------------------------------------------------------------


@pytest.mark.parametrize("grade", [1, 9, 18])
def test_worker_grade_within_1_to_18(tree, grade):
    user = tree.users[Role.COMMUNITY_WORKER]
    profile = services.worker_profile_set(actor=SYSTEM, user=user, area=tree.chengbei, post="staff", grade=grade)
    assert profile.grade == grade
    assert profile.path == tree.chengbei.path
    assert AuditEntry.objects.latest("seq").detail == {"post": "staff", "grade": grade}


@pytest.mark.parametrize("grade", [0, -1, 19, 100])
def test_worker_grade_outside_1_to_18_is_refused(tree, grade):
    with pytest.raises(DomainError, match="等级应在1到18级之间") as excinfo:
        services.worker_profile_set(
            actor=SYSTEM, user=tree.users[Role.COMMUNITY_WORKER], area=tree.chengbei, post="staff", grade=grade
        )
    assert excinfo.value.field == "grade"
    assert not WorkerProfile.objects.exists()


def test_worker_grade_is_also_a_database_constraint(tree):
    with pytest.raises(IntegrityError), transaction.atomic():
        WorkerProfile.objects.create(
            user=tree.users[Role.COMMUNITY_WORKER], area=tree.chengbei, path=tree.chengbei.path, post="staff", grade=19
        )


def test_worker_profile_post_and_area_rules_and_update(tree):
    user = tree.users[Role.COMMUNITY_WORKER]
    with pytest.raises(DomainError, match="未知的岗位"):
        services.worker_profile_set(actor=SYSTEM, user=user, area=tree.chengbei, post="boss", grade=3)
    with pytest.raises(DomainError, match="社区工作者应隶属于街道或社区。"):
        services.worker_profile_set(actor=SYSTEM, user=user, area=tree.grid1, post="staff", grade=3)
    services.worker_profile_set(actor=SYSTEM, user=user, area=tree.chengbei, post="staff", grade=3)
    profile = services.worker_profile_set(
        actor=SYSTEM, user=user, area=tree.yushan, post="head", grade=12, since=date(2024, 1, 1)
    )
    assert WorkerProfile.objects.count() == 1
    assert (profile.post, profile.grade, profile.path) == ("head", 12, tree.yushan.path)


# --- grid roles -----------------------------------------------------------------------------


def test_grid_role_assign_ends_the_previous_term(tree):
    first = services.grid_role_assign(
        actor=SYSTEM, grid=tree.grid1, kind="grid_worker", name="张三", since=date(2025, 1, 1), phone=" 0512-1 "
    )
    assert first.until is None and first.phone == "0512-1" and first.path == tree.grid1.path
    second = services.grid_role_assign(
        actor=SYSTEM, grid=tree.grid1, kind="grid_worker", name="李四", since=date(2026, 3, 1)
    )
    first.refresh_from_db()
    assert first.until == date(2026, 2, 28)
    assert second.until is None
    current = GridRoleAssignment.objects.filter(grid=tree.grid1, kind="grid_worker", until__isnull=True)
    assert list(current) == [second]
    # Another kind on the same grid is independent.
    police = services.grid_role_assign(
        actor=SYSTEM, grid=tree.grid1, kind="police", name="王警官", since=date(2025, 6, 1)
    )
    assert police.until is None
    assert AuditEntry.objects.filter(action="accounts.grid_role.assign").count() == 3


def test_grid_role_assign_rules(tree):
    with pytest.raises(DomainError, match="只能为网格指派网格四员。"):
        services.grid_role_assign(actor=SYSTEM, grid=tree.chengbei, kind="police", name="x", since=date(2025, 1, 1))
    with pytest.raises(DomainError, match="未知的网格角色"):
        services.grid_role_assign(actor=SYSTEM, grid=tree.grid1, kind="mayor", name="x", since=date(2025, 1, 1))
    with pytest.raises(DomainError, match="姓名不能为空。"):
        services.grid_role_assign(actor=SYSTEM, grid=tree.grid1, kind="police", name=" ", since=date(2025, 1, 1))
    services.grid_role_assign(actor=SYSTEM, grid=tree.grid1, kind="fire", name="甲", since=date(2025, 5, 1))
    with pytest.raises(DomainError, match="新任起始日期必须晚于现任的起始日期。"):
        services.grid_role_assign(actor=SYSTEM, grid=tree.grid1, kind="fire", name="乙", since=date(2025, 5, 1))


def test_one_current_holder_is_a_database_constraint(tree):
    services.grid_role_assign(actor=SYSTEM, grid=tree.grid1, kind="fire", name="甲", since=date(2025, 5, 1))
    with pytest.raises(IntegrityError), transaction.atomic():
        GridRoleAssignment.objects.create(
            grid=tree.grid1, path=tree.grid1.path, kind="fire", name="乙", since=date(2025, 6, 1)
        )


def test_grid_role_assign_refuses_a_retired_grid(tree):
    from grassroots.core import clock
    from grassroots.places.models import Area

    Area.objects.filter(pk=tree.grid1.pk).update(retired_at=clock.now())
    tree.grid1.refresh_from_db()
    with pytest.raises(DomainError, match="已撤销，不能再指派网格四员"):
        services.grid_role_assign(actor=SYSTEM, grid=tree.grid1, kind="police", name="甲", since=date(2025, 1, 1))
    assert not GridRoleAssignment.objects.filter(grid=tree.grid1).exists()


def test_grid_role_end(tree):
    term = services.grid_role_assign(actor=SYSTEM, grid=tree.grid1, kind="fire", name="甲", since=date(2025, 5, 1))
    with pytest.raises(DomainError, match="请说明结束任期的原因"):
        services.grid_role_end(actor=SYSTEM, assignment=term, until=date(2025, 6, 1), reason=" ")
    # A term never ends before it began.
    services.grid_role_end(actor=SYSTEM, assignment=term, until=date(2025, 4, 1), reason="调离")
    term.refresh_from_db()
    assert term.until == date(2025, 5, 1)
    entry = AuditEntry.objects.filter(action="accounts.grid_role.end", object_id=str(term.pk)).get()
    assert entry.detail["reason"] == "调离"
    with pytest.raises(DomainError, match="任期已于2025-05-01结束"):
        services.grid_role_end(actor=SYSTEM, assignment=term, until=date(2025, 6, 1), reason="再次")
    # The grid is free for a new holder the next day.
    services.grid_role_assign(actor=SYSTEM, grid=tree.grid1, kind="fire", name="乙", since=date(2025, 5, 2))
    assert verify_chain().ok
