"""Writes to accounts: users, API tokens, worker profiles and grid roles."""

from __future__ import annotations

import hashlib
import secrets
from datetime import date, datetime, timedelta

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from grassroots.accounts import sessions
from grassroots.accounts.models import (
    ROLE_SCOPE_LEVEL,
    ApiToken,
    Department,
    GridRoleAssignment,
    GridRoleKind,
    Post,
    Role,
    User,
    WorkerProfile,
)
from grassroots.audit.services import Actor, audit_record
from grassroots.core import clock
from grassroots.core.errors import DomainError
from grassroots.places.models import Area, AreaLevel


def _check_role_scope(role: str, area: Area | None, department: Department | None) -> None:
    if role not in Role.values:
        raise DomainError(f"未知的角色“{role}”。", field="role")
    if role == Role.DEPARTMENT_OFFICER:
        if department is None:
            raise DomainError("职能部门人员必须指定所属部门。", field="department")
        if area is not None:
            raise DomainError("职能部门人员的范围由所属部门决定，不能另外指定区域。", field="area")
        return
    if department is not None:
        raise DomainError("只有职能部门人员可以指定部门。", field="department")
    levels = ROLE_SCOPE_LEVEL[role]
    if levels is None:
        if area is not None:
            raise DomainError("系统管理员的范围是全部区域，不能指定区域。", field="area")
        return
    if area is None or area.level not in levels:
        names = "、".join(AreaLevel(level).label for level in levels)
        raise DomainError(f"{Role(role).label}的管辖范围必须是{names}。", field="area")


# Django's own texts are not all translated (the minimum-length one is English in
# Django 5.2's zh_Hans catalogue), so the known validator codes get our own wording.
_PASSWORD_MESSAGES = {
    "password_too_short": "密码太短：至少需要{min_length}个字符。",
    "password_too_common": "这个密码太常见了。",
    "password_entirely_numeric": "密码不能全是数字。",
    "password_too_similar": "密码与用户名或姓名太相似。",
}


def _check_password(password: str, user: User) -> None:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        messages = []
        for error in exc.error_list:
            template = _PASSWORD_MESSAGES.get(error.code or "")
            messages.append(template.format(**(error.params or {})) if template else " ".join(error.messages))
        raise DomainError("；".join(messages), field="password") from None


@transaction.atomic
def department_create(*, actor: Actor, area: Area, code: str, name: str) -> Department:
    if Department.objects.filter(code=code).exists():
        raise DomainError(f"部门编码 {code} 已存在。", field="code")
    if not name.strip():
        raise DomainError("部门名称不能为空。", field="name")
    dept = Department.objects.create(area=area, path=area.path, code=code, name=name.strip())
    audit_record(
        actor=actor,
        action="accounts.department.create",
        object_type="department",
        object_id=dept.pk,
        area_path=dept.path,
        detail={"name": dept.name},
    )
    return dept


@transaction.atomic
def user_create(
    *,
    actor: Actor,
    username: str,
    password: str,
    role: str,
    area: Area | None = None,
    department: Department | None = None,
    display_name: str = "",
) -> User:
    username = username.strip()
    if not username:
        raise DomainError("用户名不能为空。", field="username")
    if User.objects.filter(username=username).exists():
        raise DomainError(f"用户名“{username}”已被使用。", field="username")
    _check_role_scope(role, area, department)
    user = User(username=username, role=role, area=area, department=department, display_name=display_name)
    _check_password(password, user)
    user.set_password(password)
    user.is_staff = role == Role.ADMIN
    user.save()
    audit_record(
        actor=actor,
        action="accounts.user.create",
        object_type="user",
        object_id=user.pk,
        area_path=area.path if area else "",
        detail={"username": username, "role": role},
    )
    return user


@transaction.atomic
def user_deactivate(*, actor: Actor, user: User, reason: str) -> User:
    user.is_active = False
    user.save(update_fields=["is_active"])
    ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=clock.now())
    sessions.end_sessions(user)  # signed-in browsers too, not only machine clients
    audit_record(
        actor=actor, action="accounts.user.deactivate", object_type="user", object_id=user.pk, detail={"reason": reason}
    )
    return user


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def api_token_create(*, actor: Actor, user: User, name: str, days: int | None = 365) -> tuple[ApiToken, str]:
    """Create a token; the raw value is returned once and never stored."""
    if not name.strip():
        raise DomainError("令牌名称不能为空。", field="name")
    raw = "gr_" + secrets.token_urlsafe(32)
    now = clock.now()
    token = ApiToken.objects.create(
        user=user,
        name=name.strip(),
        prefix=raw[:8],
        digest=_digest(raw),
        created_at=now,
        expires_at=now + timedelta(days=days) if days else None,
    )
    audit_record(
        actor=actor,
        action="accounts.token.create",
        object_type="api_token",
        object_id=token.pk,
        detail={"user": user.username, "name": token.name},
    )
    return token, raw


def api_token_authenticate(raw: str, *, now: datetime | None = None) -> User | None:
    """The active user behind a bearer token, or None."""
    now = now or clock.now()
    token = ApiToken.objects.select_related("user").filter(digest=_digest(raw), revoked_at__isnull=True).first()
    if token is None or not token.user.is_active or (token.expires_at and token.expires_at <= now):
        return None
    # Record use at most once a minute: a busy client must not turn every read into a write.
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


@transaction.atomic
def api_token_revoke(*, actor: Actor, token: ApiToken) -> None:
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=clock.now())
    audit_record(actor=actor, action="accounts.token.revoke", object_type="api_token", object_id=token.pk)


@transaction.atomic
def worker_profile_set(
    *, actor: Actor, user: User, area: Area, post: str, grade: int, since: date | None = None
) -> WorkerProfile:
    if post not in Post.values:
        raise DomainError(f"未知的岗位“{post}”。", field="post")
    if not 1 <= grade <= 18:
        raise DomainError("等级应在1到18级之间（三岗十八级）。", field="grade")
    if area.level not in (AreaLevel.SUBDISTRICT, AreaLevel.COMMUNITY):
        raise DomainError("社区工作者应隶属于街道或社区。", field="area")
    profile, _ = WorkerProfile.objects.update_or_create(
        user=user, defaults={"area": area, "path": area.path, "post": post, "grade": grade, "since": since}
    )
    audit_record(
        actor=actor,
        action="accounts.worker.set",
        object_type="worker_profile",
        object_id=profile.pk,
        area_path=area.path,
        detail={"post": post, "grade": grade},
    )
    return profile


@transaction.atomic
def grid_role_assign(
    *, actor: Actor, grid: Area, kind: str, name: str, since: date, phone: str = "", user: User | None = None
) -> GridRoleAssignment:
    """Give one of the four grid roles to someone; the previous holder's term ends the day before."""
    if grid.level != AreaLevel.GRID:
        raise DomainError("只能为网格指派网格四员。", field="grid")
    if grid.retired_at is not None:
        raise DomainError(f"「{grid.name}」已撤销，不能再指派网格四员。", field="grid")
    if kind not in GridRoleKind.values:
        raise DomainError(f"未知的网格角色“{kind}”。", field="kind")
    if not name.strip():
        raise DomainError("姓名不能为空。", field="name")
    current = GridRoleAssignment.objects.filter(grid=grid, kind=kind, until__isnull=True).first()
    if current is not None:
        if since <= current.since:
            raise DomainError("新任起始日期必须晚于现任的起始日期。", field="since")
        current.until = since - timedelta(days=1)
        current.save(update_fields=["until"])
    assignment = GridRoleAssignment.objects.create(
        grid=grid, path=grid.path, kind=kind, user=user, name=name.strip(), phone=phone.strip(), since=since
    )
    audit_record(
        actor=actor,
        action="accounts.grid_role.assign",
        object_type="grid_role",
        object_id=assignment.pk,
        area_path=grid.path,
        detail={"kind": kind, "name": assignment.name},
    )
    return assignment


def grid_role_end(*, actor: Actor, assignment: GridRoleAssignment, until: date, reason: str) -> GridRoleAssignment:
    """End a current grid-role term on ``until`` (not before it began), audited with the reason."""
    if assignment.until is not None:
        raise DomainError(f"{assignment.name}的任期已于{assignment.until:%Y-%m-%d}结束。", code="conflict")
    if not reason.strip():
        raise DomainError("请说明结束任期的原因。", field="reason")
    assignment.until = max(until, assignment.since)
    assignment.save(update_fields=["until"])
    audit_record(
        actor=actor,
        action="accounts.grid_role.end",
        object_type="grid_role",
        object_id=assignment.pk,
        area_path=assignment.path,
        detail={"kind": assignment.kind, "name": assignment.name, "reason": reason},
    )
    return assignment
