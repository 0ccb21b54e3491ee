"""``manage.py demo_accounts``: one login per role inside the demo city (idempotent)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from grassroots.accounts import services as accounts
from grassroots.accounts import sms
from grassroots.accounts.models import Department, GridRoleAssignment, GridRoleKind, Post, Role, User
from grassroots.audit.services import SYSTEM
from grassroots.core import clock
from grassroots.demo.cleanup import DEMO_USER_PREFIX
from grassroots.demo.generator import CITY_CODE, DISTRICT_CODE
from grassroots.places.models import Area, AreaLevel, GridKind

# One documented password for every demo login; it passes Django's validators.
DEMO_PASSWORD = "grassroots-demo-2026"  # noqa: S105 (published on purpose, demo only)
# The demo resident's mobile number, for 短信验证码登录 (the code shows in the log in development).
DEMO_RESIDENT_PHONE = "13800000000"


def demo_scopes() -> dict[str, dict[str, Any]]:
    """Where each role's demo account sits: the first subdistrict, community and grid of the demo city."""
    district = Area.objects.filter(path=f"{CITY_CODE}.{DISTRICT_CODE}").first()
    subdistrict = Area.objects.filter(parent=district, level=AreaLevel.SUBDISTRICT).order_by("code").first()
    community = Area.objects.filter(parent=subdistrict, level=AreaLevel.COMMUNITY).order_by("code").first()
    grid = Area.objects.filter(parent=community, grid_kind=GridKind.COMPREHENSIVE).order_by("code").first()
    department = Department.objects.filter(area=district).order_by("code").first()
    if None in (district, subdistrict, community, grid, department):
        raise CommandError("没有找到演示城市，请先运行 manage.py demo_city。", returncode=2)
    return {
        Role.RESIDENT: {"area": community},
        Role.GRID_WORKER: {"area": grid},
        Role.COMMUNITY_WORKER: {"area": community},
        Role.SUBDISTRICT_DISPATCHER: {"area": subdistrict},
        Role.DEPARTMENT_OFFICER: {"department": department},
        Role.PARTY_SECRETARY: {"area": community},
        Role.DISTRICT_LEADER: {"area": district},
        Role.ADMIN: {},
    }


class Command(BaseCommand):
    help = "为每个角色创建一个演示账号（可重复运行，不会重复创建），并打印账号表。"

    def handle(self, *args: Any, **options: Any) -> None:
        rows = []
        for role, scope in demo_scopes().items():
            username = f"{DEMO_USER_PREFIX}{role}"
            user = User.objects.filter(username=username).select_related("area", "department").first()
            if user is None:
                user = accounts.user_create(
                    actor=SYSTEM,
                    username=username,
                    password=DEMO_PASSWORD,
                    role=role,
                    display_name=f"演示{Role(role).label}",
                    **scope,
                )
                state = "created"
            else:
                state = "exists"
            _give_post(user)
            if user.role == Role.RESIDENT and not user.phone_hash:
                sms.user_phone_set(actor=SYSTEM, user=user, phone=DEMO_RESIDENT_PHONE)
            where = user.department.name if user.department else (user.area.name if user.area else "全部区域")
            rows.append((username, DEMO_PASSWORD, Role(role).label, where, state))
        headers = ("username", "password", "role", "scope", "")
        widths = [max(_width(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
        for row in [headers, *rows]:
            self.stdout.write("  ".join(_pad(str(cell), w) for cell, w in zip(row, widths, strict=True)).rstrip())


def _give_post(user: User) -> None:
    """The demo grid worker holds its grid's 网格员 post; the community worker has a ladder profile."""
    if user.role == Role.GRID_WORKER and user.area is not None:
        current = GridRoleAssignment.objects.filter(grid=user.area, kind=GridRoleKind.GRID_WORKER, until__isnull=True)
        holder = current.first()
        if holder is None or holder.user_id != user.pk:
            accounts.grid_role_assign(
                actor=SYSTEM,
                grid=user.area,
                kind=GridRoleKind.GRID_WORKER,
                name=str(user),
                phone=holder.phone if holder else "",
                since=clock.today(),
                user=user,
            )
    if user.role == Role.COMMUNITY_WORKER and user.area is not None and not hasattr(user, "worker_profile"):
        accounts.worker_profile_set(actor=SYSTEM, user=user, area=user.area, post=Post.HEAD, grade=12)


def _width(text: str) -> int:
    # CJK characters take two columns in a terminal.
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))
