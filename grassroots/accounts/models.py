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
    # A resident's mobile number, for SMS-code login (accounts.sms): sealed like registry phones,
    # found by its keyed hash (one account per number), shown masked.
    phone_cipher = models.BinaryField(null=True, blank=True, editable=False)
    phone_hash = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    phone_masked = models.CharField("手机号", max_length=11, blank=True, editable=False)
    # Stamped by passwords.PasswordAgeValidator whenever the password is set; null: never recorded
    # (read as date_joined). Accounts that existed before were stamped by migration passwords_sessions.
    password_changed_at = models.DateTimeField("密码修改时间", null=True, blank=True)

    class Meta:
        verbose_name = "用户"
        verbose_name_plural = "用户"
        constraints = [
            models.UniqueConstraint(fields=["phone_hash"], condition=~models.Q(phone_hash=""), name="user_phone_unique")
        ]

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


class SmsCode(models.Model):
    """One SMS login code asked for a number, whether or not a resident has that number.

    The rows are also the count the per-number send limits read (1 a minute, 5 an hour, 10 a
    day), so they hold across processes and restarts. A number no resident has gets a row
    too (``user`` empty, nothing sent): its answers and limits are those of a known number.
    """

    phone_hash = models.CharField(max_length=64)  # keyed hash of the number (accounts.sms.PHONE_CONTEXT)
    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    code_hash = models.CharField(max_length=64)  # keyed hash of the row's salt and the code
    salt = models.CharField(max_length=32)
    sent_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)  # wrong codes tried against this row
    used_at = models.DateTimeField(null=True, blank=True)  # signed in with it, or voided
    ip = models.CharField(max_length=45, blank=True)

    class Meta:
        verbose_name = "短信验证码"
        verbose_name_plural = "短信验证码"
        indexes = [
            models.Index(fields=["phone_hash", "sent_at"], name="smscode_phone_sent"),
            models.Index(fields=["sent_at"], name="smscode_sent"),
        ]

    def __str__(self) -> str:
        return f"短信验证码 {self.pk}"


class PasswordHistory(models.Model):
    """One of an account's recent password hashes (never the password), kept to the profile's last N."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="password_history")
    password = models.CharField(max_length=128)  # the hash, as in User.password
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = "历史密码"
        verbose_name_plural = "历史密码"
        indexes = [models.Index(fields=["user", "-created_at"], name="password_history_recent")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.created_at:%Y-%m-%d}"


class UserSession(models.Model):
    """Which sessions an account holds, written at login, so they can all be ended at once.

    The session engine stays the source of truth: a row whose session has gone is harmless and is
    pruned at the account's next login.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="login_sessions")
    session_key = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = "登录会话"
        verbose_name_plural = "登录会话"

    def __str__(self) -> str:
        return f"{self.user_id} {self.session_key[:6]}…"
