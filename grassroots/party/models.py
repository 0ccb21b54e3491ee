"""Party building (党建引领): the organisation tree over places, members, check-in, service, alliances.

Every row carries ``path``: the materialised path of the area it belongs to, so a user's
``Scope`` filters it with one prefix (a party secretary of a community sees that community's
subtree). No logic in ``save()``: services write, with their audit entries.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from grassroots.places.models import Area, Building, ScopedQuerySet
from grassroots.registry.models import Person, Unit


class OrgLevel(models.TextChoices):
    WORKING_COMMITTEE = "working_committee", "街道党工委"
    COMMUNITY_COMMITTEE = "community_committee", "社区党委（大党委）"
    GRID_BRANCH = "grid_branch", "网格党支部"
    BUILDING_GROUP = "building_group", "楼栋党小组"
    UNIT = "unit", "驻区单位党组织"


class PartyOrg(models.Model):
    """One party organisation; the tree mirrors the place tree (subdistrict → community → grid → building)."""

    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    level = models.CharField("层级", max_length=24, choices=OrgLevel.choices)
    name = models.CharField("名称", max_length=100)
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="party_orgs", verbose_name="所在区域")
    building = models.ForeignKey(
        Building, null=True, blank=True, on_delete=models.PROTECT, related_name="party_orgs", verbose_name="楼栋"
    )
    unit = models.ForeignKey(
        Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="party_orgs", verbose_name="所属单位"
    )
    path = models.CharField(max_length=255, db_index=True)  # the area's path
    secretary = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name="书记"
    )
    founded_on = models.DateField("成立日期", null=True, blank=True)
    is_active = models.BooleanField("有效", default=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["path", "level", "name"]
        verbose_name = "党组织"
        verbose_name_plural = "党组织"
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="party_org_name_unique_in_parent"),
        ]

    def __str__(self) -> str:
        return self.name


class CommitteeSeat(models.Model):
    """A seat on a community committee: full-time, or part-time (兼职委员) from police, city management, a unit."""

    org = models.ForeignKey(PartyOrg, on_delete=models.CASCADE, related_name="seats")
    person = models.ForeignKey(Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    name = models.CharField("姓名", max_length=50)
    post = models.CharField("职务", max_length=50)  # 书记 / 副书记 / 委员 / 兼职委员
    part_time = models.BooleanField("兼职", default=False)
    from_unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    from_department = models.CharField("来自部门", max_length=100, blank=True)  # 派出所 / 城管中队 …
    since = models.DateField("任职起")
    until = models.DateField("任职止", null=True, blank=True)
    path = models.CharField(max_length=255, db_index=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["org_id", "-part_time", "post"]
        verbose_name = "委员"
        verbose_name_plural = "委员"

    def __str__(self) -> str:
        return f"{self.org} {self.post} {self.name}"


class MemberKind(models.TextChoices):
    REGULAR = "regular", "在册党员"
    EMPLOYED = "employed", "在职党员"  # belongs to the employer's organisation, reports to the residence community
    MIGRANT = "migrant", "流动党员"


class PartyMember(models.Model):
    """A party member, linked to the one person in the registry."""

    person = models.OneToOneField(Person, on_delete=models.PROTECT, related_name="party_member")
    kind = models.CharField("类别", max_length=16, choices=MemberKind.choices)
    org = models.ForeignKey(
        PartyOrg, null=True, blank=True, on_delete=models.PROTECT, related_name="members", verbose_name="所在党组织"
    )
    employer = models.ForeignKey(
        Unit, null=True, blank=True, on_delete=models.SET_NULL, related_name="party_members", verbose_name="工作单位"
    )
    residence_area = models.ForeignKey(
        Area, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="居住地网格/社区"
    )
    joined_on = models.DateField("入党日期", null=True, blank=True)
    is_active = models.BooleanField("有效", default=True)
    # Where the member is seen from: the residence's area when known, else the organisation's.
    path = models.CharField(max_length=255, db_index=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["path", "id"]
        verbose_name = "党员"
        verbose_name_plural = "党员"

    def __str__(self) -> str:
        return f"{self.person.name}（{self.get_kind_display()}）"


class CheckinState(models.TextChoices):
    PENDING = "pending", "待社区确认"
    CONFIRMED = "confirmed", "已报到"
    RETURNED = "returned", "已退回"
    ENDED = "ended", "已转出"


class Checkin(models.Model):
    """报到: an employed member registers with the community where they live; the community confirms."""

    member = models.ForeignKey(PartyMember, on_delete=models.CASCADE, related_name="checkins")
    community = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="party_checkins")
    path = models.CharField(max_length=255, db_index=True)  # the community's path
    state = models.CharField("状态", max_length=16, choices=CheckinState.choices, default=CheckinState.PENDING)
    requested_at = models.DateTimeField("申请时间")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField("说明", max_length=300, blank=True)
    skills = models.CharField("特长", max_length=200, blank=True)
    wishes = models.CharField("服务意向", max_length=200, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-requested_at", "-id"]
        verbose_name = "在职党员报到"
        verbose_name_plural = "在职党员报到"
        constraints = [
            # One live check-in per member: pending or confirmed.
            models.UniqueConstraint(
                fields=["member"],
                condition=models.Q(state__in=["pending", "confirmed"]),
                name="party_one_live_checkin",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member} → {self.community}"


class ServiceKind(models.TextChoices):
    VOLUNTEER = "volunteer", "志愿服务"
    PROBLEM = "problem", "解决实际问题"


class ServiceRecord(models.Model):
    """One service a member gave at the residence; counts toward the yearly targets once confirmed."""

    member = models.ForeignKey(PartyMember, on_delete=models.CASCADE, related_name="services")
    kind = models.CharField("类型", max_length=16, choices=ServiceKind.choices)
    date = models.DateField("日期")
    hours = models.DecimalField("时长(小时)", max_digits=6, decimal_places=1, default=0)
    description = models.CharField("内容", max_length=300)
    # Where it came from, e.g. "activity:12" (a volunteers activity) or "case:2026-000123"; unique per member.
    source = models.CharField(max_length=64, blank=True)
    path = models.CharField(max_length=255, db_index=True)  # the community served
    confirmed = models.BooleanField("已确认", default=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-date", "-id"]
        verbose_name = "服务记录"
        verbose_name_plural = "服务记录"
        indexes = [models.Index(fields=["member", "date"], name="party_service_member_date")]
        constraints = [
            models.UniqueConstraint(
                fields=["member", "source"], condition=~models.Q(source=""), name="party_service_source_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member} {self.get_kind_display()} {self.date}"


class TargetRule(models.Model):
    """The yearly targets of employed members (GLOSSARY: ≥ 2 volunteer services, ≥ 1 problem solved)."""

    year = models.PositiveSmallIntegerField("年度", unique=True)
    volunteer_services = models.PositiveSmallIntegerField("志愿服务(次)", default=2)
    problems_solved = models.PositiveSmallIntegerField("解决实际问题(件)", default=1)

    class Meta:
        ordering = ["-year"]
        verbose_name = "年度服务目标"
        verbose_name_plural = "年度服务目标"

    def __str__(self) -> str:
        return f"{self.year}: {self.volunteer_services}/{self.problems_solved}"


# --- partner units and alliances (党建联盟) -------------------------------------------------


class Alliance(models.Model):
    """A party-building alliance of a community or subdistrict and its member units."""

    name = models.CharField("名称", max_length=100)
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="party_alliances")
    path = models.CharField(max_length=255, db_index=True)
    lead_org = models.ForeignKey(PartyOrg, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["path", "name"]
        verbose_name = "党建联盟"
        verbose_name_plural = "党建联盟"

    def __str__(self) -> str:
        return self.name


class AllianceMember(models.Model):
    """A member unit (成员单位) of an alliance."""

    alliance = models.ForeignKey(Alliance, on_delete=models.CASCADE, related_name="members")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="alliance_memberships")
    joined_on = models.DateField("加入日期")
    left_on = models.DateField("退出日期", null=True, blank=True)
    contact_name = models.CharField("联络人", max_length=50, blank=True)
    path = models.CharField(max_length=255, db_index=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["alliance_id", "joined_on", "id"]
        verbose_name = "成员单位"
        verbose_name_plural = "成员单位"
        constraints = [models.UniqueConstraint(fields=["alliance", "unit"], name="party_alliance_unit_once")]

    def __str__(self) -> str:
        return f"{self.alliance} / {self.unit}"


class Pairing(models.Model):
    """挂钩结对: an agency or enterprise paired with a community."""

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="pairings")
    community = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="party_pairings")
    path = models.CharField(max_length=255, db_index=True)
    since = models.DateField("结对起")
    until = models.DateField("结对止", null=True, blank=True)
    content = models.CharField("结对内容", max_length=300, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["path", "since"]
        verbose_name = "挂钩结对"
        verbose_name_plural = "挂钩结对"

    def __str__(self) -> str:
        return f"{self.unit} ↔ {self.community}"


class RotationDuty(models.Model):
    """轮值: which member unit chairs the alliance for a period; generated fairly over a year."""

    alliance = models.ForeignKey(Alliance, on_delete=models.CASCADE, related_name="rotation")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    starts_on = models.DateField("开始")
    ends_on = models.DateField("结束")

    class Meta:
        ordering = ["alliance_id", "starts_on"]
        verbose_name = "轮值安排"
        verbose_name_plural = "轮值安排"
        constraints = [
            models.UniqueConstraint(fields=["alliance", "starts_on"], name="party_rotation_one_per_start"),
        ]

    def __str__(self) -> str:
        return f"{self.alliance} {self.starts_on}–{self.ends_on}: {self.unit}"


class ListKind(models.TextChoices):
    INFORMATION = "information", "信息清单"
    RESOURCES = "resources", "资源清单"
    NEEDS = "needs", "需求清单"
    RISKS = "risks", "风险清单"
    TASKS = "tasks", "任务清单"


class ItemStatus(models.TextChoices):
    OPEN = "open", "待办"
    IN_PROGRESS = "in_progress", "推进中"
    DONE = "done", "已完成"
    DROPPED = "dropped", "已撤销"


class AllianceItem(models.Model):
    """One entry of an alliance's five lists, with its owner and status."""

    alliance = models.ForeignKey(Alliance, on_delete=models.CASCADE, related_name="items")
    kind = models.CharField("清单", max_length=16, choices=ListKind.choices)
    title = models.CharField("事项", max_length=200)
    detail = models.TextField("说明", blank=True)
    owner_unit = models.ForeignKey(
        Unit, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name="责任单位"
    )
    owner_name = models.CharField("责任人", max_length=50, blank=True)
    status = models.CharField("状态", max_length=16, choices=ItemStatus.choices, default=ItemStatus.OPEN)
    due_on = models.DateField("完成时限", null=True, blank=True)
    path = models.CharField(max_length=255, db_index=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["alliance_id", "kind", "status", "due_on"]
        verbose_name = "联盟清单事项"
        verbose_name_plural = "联盟清单事项"

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.title}"
