"""The forces below the grid and one-tap mobilisation (一键动员).

Building heads, volunteers, talents and teams are people of the registry; activities record
sign-up, attendance and hours (feeding party members' yearly targets through the party
services); needs meet resources through matches that become projects; a mobilisation fans a
message out to a roster through the notify outbox and records who acknowledged and arrived.
Every row carries ``path`` for scope. No logic in ``save()``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from grassroots.places.models import Area, Building, Entrance, ScopedQuerySet
from grassroots.registry.models import Person, Unit


class BuildingRoleKind(models.TextChoices):
    BUILDING_HEAD = "building_head", "楼栋长"
    ENTRANCE_HEAD = "entrance_head", "单元长"
    CENTRAL_HOUSEHOLD = "central_household", "中心户"


class BuildingRole(models.Model):
    """A resident volunteer below the grid: 楼栋长 of a building, 单元长 of an entrance, 中心户."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="building_roles")
    kind = models.CharField("类别", max_length=24, choices=BuildingRoleKind.choices)
    building = models.ForeignKey(Building, on_delete=models.PROTECT, related_name="roles")
    entrance = models.ForeignKey(Entrance, null=True, blank=True, on_delete=models.PROTECT, related_name="roles")
    since = models.DateField("任职起")
    until = models.DateField("任职止", null=True, blank=True)
    path = models.CharField(max_length=255, db_index=True)  # the building's grid path

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["path", "building_id", "kind"]
        verbose_name = "楼栋力量"
        verbose_name_plural = "楼栋力量"
        constraints = [
            # One current building head per building and one current entrance head per entrance.
            models.UniqueConstraint(
                fields=["building", "kind"],
                condition=models.Q(kind="building_head", until__isnull=True),
                name="volunteers_one_building_head",
            ),
            models.UniqueConstraint(
                fields=["entrance", "kind"],
                condition=models.Q(kind="entrance_head", until__isnull=True),
                name="volunteers_one_entrance_head",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.building} {self.get_kind_display()} {self.person.name}"


class Skill(models.Model):
    """A kind of help: legal, medical, elder care, repair, culture, psychological, …"""

    code = models.CharField("编码", max_length=32, unique=True)
    name = models.CharField("名称", max_length=50)
    sort = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["sort", "code"]
        verbose_name = "技能"
        verbose_name_plural = "技能"

    def __str__(self) -> str:
        return self.name


class Volunteer(models.Model):
    """A registered volunteer; ``is_talent`` marks a skilled resident (社区能人) the community can call on."""

    person = models.OneToOneField(Person, on_delete=models.PROTECT, related_name="volunteer")
    skills = models.ManyToManyField(Skill, blank=True, related_name="volunteers", verbose_name="技能")
    is_talent = models.BooleanField("社区能人", default=False)
    talent_note = models.CharField("专长说明", max_length=200, blank=True)
    weekly_hours = models.PositiveSmallIntegerField("每周可服务(小时)", default=2)
    registered_on = models.DateField("登记日期")
    is_active = models.BooleanField("有效", default=True)
    path = models.CharField(max_length=255, db_index=True)  # where they live (grid or community)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["path", "id"]
        verbose_name = "志愿者"
        verbose_name_plural = "志愿者"

    def __str__(self) -> str:
        return self.person.name


class TeamKind(models.TextChoices):
    VOLUNTEER = "volunteer", "志愿服务队"
    VANGUARD = "vanguard", "先锋队"
    ACTION_BRANCH = "action_branch", "行动支部"


class Team(models.Model):
    name = models.CharField("名称", max_length=100)
    kind = models.CharField("类别", max_length=16, choices=TeamKind.choices)
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="volunteer_teams")
    path = models.CharField(max_length=255, db_index=True)
    leader = models.ForeignKey(Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    members = models.ManyToManyField(Person, blank=True, related_name="volunteer_teams", verbose_name="队员")
    formed_on = models.DateField("成立日期")
    dissolved_on = models.DateField("解散日期", null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["path", "name"]
        verbose_name = "队伍"
        verbose_name_plural = "队伍"

    def __str__(self) -> str:
        return self.name


class Activity(models.Model):
    """A volunteer activity with sign-up and attendance; attended hours feed members' yearly targets."""

    title = models.CharField("名称", max_length=100)
    description = models.TextField("内容", blank=True)
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="volunteer_activities")
    path = models.CharField(max_length=255, db_index=True)
    place = models.CharField("地点", max_length=200)
    starts_at = models.DateTimeField("开始时间")
    ends_at = models.DateTimeField("结束时间")
    capacity = models.PositiveIntegerField("名额", default=0)  # 0: no limit
    skill = models.ForeignKey(Skill, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="activities")
    # Counts as solving a practical problem (解决实际问题) for party members, not only as a service.
    solves_problem = models.BooleanField("解决实际问题", default=False)
    cancelled = models.BooleanField("已取消", default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_at", "-id"]
        verbose_name = "志愿活动"
        verbose_name_plural = "志愿活动"

    def __str__(self) -> str:
        return self.title


class SignupState(models.TextChoices):
    SIGNED_UP = "signed_up", "已报名"
    ATTENDED = "attended", "已签到"
    ABSENT = "absent", "缺席"
    WITHDRAWN = "withdrawn", "已取消报名"


class Signup(models.Model):
    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="signups")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="activity_signups")
    state = models.CharField("状态", max_length=16, choices=SignupState.choices, default=SignupState.SIGNED_UP)
    hours = models.DecimalField("时长(小时)", max_digits=5, decimal_places=1, default=0)
    signed_up_at = models.DateTimeField()
    attended_at = models.DateTimeField(null=True, blank=True)
    path = models.CharField(max_length=255, db_index=True)  # the activity's path

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["activity_id", "signed_up_at", "id"]
        verbose_name = "报名"
        verbose_name_plural = "报名"
        constraints = [models.UniqueConstraint(fields=["activity", "person"], name="volunteers_signup_once")]

    def __str__(self) -> str:
        return f"{self.activity} / {self.person.name}"


# --- needs ↔ resources -------------------------------------------------------------------


class MatchState(models.TextChoices):
    OPEN = "open", "待对接"
    PROPOSED = "proposed", "已推荐"
    MATCHED = "matched", "已对接"
    CLOSED = "closed", "已关闭"


class Need(models.Model):
    """A need raised by residents or a community (微心愿, help for an elderly household, …)."""

    title = models.CharField("需求", max_length=200)
    detail = models.TextField("说明", blank=True)
    skill = models.ForeignKey(Skill, on_delete=models.PROTECT, related_name="needs", verbose_name="类别")
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="volunteer_needs")
    path = models.CharField(max_length=255, db_index=True)
    lon = models.FloatField(null=True, blank=True)
    lat = models.FloatField(null=True, blank=True)
    demand = models.PositiveSmallIntegerField("需要(人次/份)", default=1)
    raised_by = models.ForeignKey(Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    state = models.CharField("状态", max_length=16, choices=MatchState.choices, default=MatchState.OPEN)
    due_on = models.DateField("期望完成", null=True, blank=True)
    created_at = models.DateTimeField()

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "需求"
        verbose_name_plural = "需求"

    def __str__(self) -> str:
        return self.title


class Resource(models.Model):
    """What a partner unit, talent or volunteer offers, with its capacity."""

    title = models.CharField("资源", max_length=200)
    skill = models.ForeignKey(Skill, on_delete=models.PROTECT, related_name="resources", verbose_name="类别")
    unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.SET_NULL, related_name="resources")
    volunteer = models.ForeignKey(Volunteer, null=True, blank=True, on_delete=models.SET_NULL, related_name="resources")
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="volunteer_resources")
    path = models.CharField(max_length=255, db_index=True)
    lon = models.FloatField(null=True, blank=True)
    lat = models.FloatField(null=True, blank=True)
    capacity = models.PositiveSmallIntegerField("可提供(人次/份)", default=1)
    is_active = models.BooleanField("有效", default=True)
    created_at = models.DateTimeField()

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["path", "title"]
        verbose_name = "资源"
        verbose_name_plural = "资源"

    def __str__(self) -> str:
        return self.title


class MatchStatus(models.TextChoices):
    PROPOSED = "proposed", "推荐"
    ACCEPTED = "accepted", "已接受"
    DECLINED = "declined", "已拒绝"


class Match(models.Model):
    """A proposed or accepted pairing of a need and a resource, with the amount and the score behind it."""

    need = models.ForeignKey(Need, on_delete=models.CASCADE, related_name="matches")
    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="matches")
    amount = models.PositiveSmallIntegerField("数量", default=1)
    distance_m = models.FloatField(null=True, blank=True)
    score = models.FloatField()
    status = models.CharField("状态", max_length=16, choices=MatchStatus.choices, default=MatchStatus.PROPOSED)
    path = models.CharField(max_length=255, db_index=True)  # the need's path
    created_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-score", "id"]
        verbose_name = "供需对接"
        verbose_name_plural = "供需对接"

    def __str__(self) -> str:
        return f"{self.need} ← {self.resource}"


class Project(models.Model):
    """An accepted match becomes a project with progress until it is done."""

    match = models.OneToOneField(Match, on_delete=models.PROTECT, related_name="project")
    title = models.CharField("项目", max_length=200)
    progress = models.PositiveSmallIntegerField("进度(%)", default=0)
    note = models.TextField("进展", blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    path = models.CharField(max_length=255, db_index=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "服务项目"
        verbose_name_plural = "服务项目"

    def __str__(self) -> str:
        return self.title


# --- mobilisation (一键动员, 平战转换) -------------------------------------------------------


class Audience(models.TextChoices):
    GRID_WORKERS = "grid_workers", "网格员"
    COMMUNITY_WORKERS = "community_workers", "社区工作者"
    PARTY_MEMBERS = "party_members", "报到党员"
    VOLUNTEERS = "volunteers", "志愿者"
    BUILDING_HEADS = "building_heads", "楼栋长/单元长"
    UNIT_CONTACTS = "unit_contacts", "共建单位联络人"


class MobilisationMode(models.TextChoices):
    NORMAL = "normal", "日常动员"
    EMERGENCY = "emergency", "应急（战时）"
    DRILL = "drill", "演练"


class Mobilisation(models.Model):
    """One call-out: an area, who, a message, an assembly point; the roster is its recipients."""

    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="mobilisations")
    path = models.CharField(max_length=255, db_index=True)
    mode = models.CharField("模式", max_length=16, choices=MobilisationMode.choices)
    audiences = models.JSONField("动员对象", default=list)  # Audience values
    title = models.CharField("标题", max_length=100)
    message = models.TextField("动员内容")
    assembly_point = models.CharField("集合地点", max_length=200, blank=True)
    assemble_by = models.DateTimeField("集合时间", null=True, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField()
    fanned_out_at = models.DateTimeField(null=True, blank=True)  # every recipient has its outbox row
    ended_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = "一键动员"
        verbose_name_plural = "一键动员"

    def __str__(self) -> str:
        return self.title


class Recipient(models.Model):
    """One person called out: notified once, acknowledging through a link, reporting arrival."""

    mobilisation = models.ForeignKey(Mobilisation, on_delete=models.CASCADE, related_name="recipients")
    person = models.ForeignKey(Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    name = models.CharField("姓名", max_length=50)
    audience = models.CharField("身份", max_length=24, choices=Audience.choices)
    grid = models.ForeignKey(Area, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    path = models.CharField(max_length=255, db_index=True)  # the recipient's grid (or the area's) path
    token_hash = models.CharField(max_length=64, unique=True)  # SHA-256 of the link's token
    notified_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    declined = models.BooleanField("无法参加", default=False)
    arrived_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["path", "name", "id"]
        verbose_name = "动员对象"
        verbose_name_plural = "动员对象"
        constraints = [
            models.UniqueConstraint(
                fields=["mobilisation", "person"], condition=models.Q(person__isnull=False), name="mob_person_once"
            ),
            models.UniqueConstraint(
                fields=["mobilisation", "user"], condition=models.Q(user__isnull=False), name="mob_user_once"
            ),
        ]
        indexes = [models.Index(fields=["mobilisation", "path"], name="mob_roster")]

    def __str__(self) -> str:
        return f"{self.mobilisation} → {self.name}"
