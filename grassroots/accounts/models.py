from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from grassroots.places.models import Area, ScopedQuerySet


class Role(models.TextChoices):
    RESIDENT = "resident", "居民"
    GRID_WORKER = "grid_worker", "网格员"
    COMMUNITY_WORKER = "community_worker", "社区工作者/书记"
    SUBDISTRICT_DISPATCHER = "subdistrict_dispatcher", "街道调度员/领导"
    DEPARTMENT_OFFICER = "department_officer", "职能部门人员"
    PARTY_SECRETARY = "party_secretary", "党组织书记"
    DISTRICT_LEADER = "district_leader", "区/市领导"
    ADMIN = "admin", "系统管理员"


# The area level each role's scope must sit at (None: no area; the admin sees everything).
ROLE_SCOPE_LEVEL: dict[str, tuple[str, ...] | None] = {
    Role.RESIDENT: ("community",),
    Role.GRID_WORKER: ("grid",),
    Role.COMMUNITY_WORKER: ("community",),
    Role.SUBDISTRICT_DISPATCHER: ("subdistrict",),
    Role.DEPARTMENT_OFFICER: ("city", "district", "subdistrict"),
    Role.PARTY_SECRETARY: ("subdistrict", "community", "grid"),
    Role.DISTRICT_LEADER: ("city", "district"),
    Role.ADMIN: None,
}


class Department(models.Model):
    """A functional department (职能部门) that receives whistled cases within its area."""

    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="departments")
    path = models.CharField(max_length=255, db_index=True)  # the area's path
    code = models.CharField("编码", max_length=32, unique=True)
    name = models.CharField("名称", max_length=100)
    is_active = models.BooleanField(default=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["path", "name"]
        verbose_name = "职能部门"
        verbose_name_plural = "职能部门"

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    role = models.CharField("角色", max_length=32, choices=Role.choices)
    area = models.ForeignKey(Area, null=True, blank=True, on_delete=models.PROTECT, related_name="users")
    department = models.ForeignKey(Department, null=True, blank=True, on_delete=models.PROTECT, related_name="users")
    display_name = models.CharField("姓名", max_length=50, blank=True)

    class Meta:
        verbose_name = "用户"
        verbose_name_plural = "用户"

    def __str__(self) -> str:
        return self.display_name or self.username


class Post(models.TextChoices):
    """三岗: the three posts of the community-worker career ladder."""

    HEAD = "head", "社区正职"
    DEPUTY = "deputy", "社区副职"
    STAFF = "staff", "其他社区工作者"


class WorkerProfile(models.Model):
    """A paid community worker (社区工作者) on the 三岗十八级 ladder."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="worker_profile")
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="workers")
    path = models.CharField(max_length=255, db_index=True)
    post = models.CharField("岗位", max_length=16, choices=Post.choices)
    grade = models.PositiveSmallIntegerField("等级", validators=[MinValueValidator(1), MaxValueValidator(18)])
    since = models.DateField("入职日期", null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "社区工作者档案"
        verbose_name_plural = "社区工作者档案"
        constraints = [
            models.CheckConstraint(condition=models.Q(grade__gte=1, grade__lte=18), name="worker_grade_1_18")
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.get_post_display()} {self.grade}级"


class GridRoleKind(models.TextChoices):
    """The "four members" (四员) of every grid."""

    GRID_WORKER = "grid_worker", "网格员"
    POLICE = "police", "警务员"
    FIRE = "fire", "消防协管员"
    PROPERTY = "property", "物管员"


class GridRoleAssignment(models.Model):
    """Who holds one of the four roles on a grid, and since when.

    Name and phone are the work contact shown on the grid's public signboard, so
    they are kept in clear; a holder with an account is linked through ``user``.
    """

    grid = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="role_assignments")
    path = models.CharField(max_length=255, db_index=True)
    kind = models.CharField("角色", max_length=16, choices=GridRoleKind.choices)
    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="grid_roles")
    name = models.CharField("姓名", max_length=50)
    phone = models.CharField("工作电话", max_length=20, blank=True)
    since = models.DateField("起始日期")
    until = models.DateField("结束日期", null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["path", "kind"]
        verbose_name = "网格四员"
        verbose_name_plural = "网格四员"
        constraints = [
            models.UniqueConstraint(
                fields=["grid", "kind"], condition=models.Q(until__isnull=True), name="one_current_holder_per_grid_role"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.name}"


class ApiToken(models.Model):
    """A bearer token for machine clients; only its SHA-256 is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=8)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API 令牌"
        verbose_name_plural = "API 令牌"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class TwoFactor(models.Model):
    """A staff user's TOTP second factor (RFC 6238), kept beside the user rather than on it.

    A row with no ``totp_confirmed_at`` is an enrolment in progress: the secret was shown
    but no code has proved the authenticator holds it. Resetting deletes the row.
    """

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="two_factor")
    secret_cipher = models.BinaryField()  # base32 secret, AES-GCM (accounts.two_factor.SECRET_CONTEXT)
    created_at = models.DateTimeField()
    totp_confirmed_at = models.DateTimeField(null=True, blank=True)
    # The time-step of the last accepted code: a code of this step or earlier is refused (replay).
    last_step = models.BigIntegerField(null=True, blank=True)
    failed_count = models.PositiveSmallIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "两步验证"
        verbose_name_plural = "两步验证"

    def __str__(self) -> str:
        return f"{self.user} 两步验证"


class RecoveryCode(models.Model):
    """A one-time recovery code; only its password hash is stored."""

    two_factor = models.ForeignKey(TwoFactor, on_delete=models.CASCADE, related_name="recovery_codes")
    code_hash = models.CharField(max_length=128)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "恢复码"
        verbose_name_plural = "恢复码"

    def __str__(self) -> str:
        return f"恢复码 {self.pk}"
