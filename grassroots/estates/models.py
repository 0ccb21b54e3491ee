"""Estates (物业与业委会): owners' committees, property companies, fees, surveys, the
红色业委会 cross appointments, reports to the community and dormitory zones (集宿区).

Every row carries ``path``, the path of the compound's community, so a user's ``Scope``
filters it with one prefix. No logic in ``save()``: services write, with their audit entries.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from grassroots.party.models import PartyOrg
from grassroots.places.models import Building, Compound, ScopedQuerySet
from grassroots.registry.models import Person, Unit


class OwnersCommittee(models.Model):
    """One term (届) of a compound's owners' committee (业主委员会); at most one active per compound."""

    compound = models.ForeignKey(
        Compound, on_delete=models.PROTECT, related_name="owners_committees", verbose_name="小区"
    )
    name = models.CharField("名称", max_length=100)
    term_start = models.DateField("任期起")
    term_end = models.DateField("任期止")
    filed_on = models.DateField("备案日期", null=True, blank=True)
    path = models.CharField(max_length=255, db_index=True)  # the compound's community path
    is_active = models.BooleanField("有效", default=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["path", "name", "id"]
        verbose_name = "业主委员会"
        verbose_name_plural = "业主委员会"
        constraints = [
            models.UniqueConstraint(
                fields=["compound"], condition=models.Q(is_active=True), name="estates_one_active_committee"
            ),
            models.CheckConstraint(
                condition=models.Q(term_end__gt=models.F("term_start")), name="estates_committee_term_order"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CommitteePost(models.TextChoices):
    DIRECTOR = "director", "主任"
    DEPUTY = "deputy", "副主任"
    MEMBER = "member", "委员"


class OwnersCommitteeMember(models.Model):
    """A person's seat on a committee from ``since`` to ``until`` (the last day served; open while null)."""

    committee = models.ForeignKey(OwnersCommittee, on_delete=models.CASCADE, related_name="members")
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="owners_committee_seats", verbose_name="人员"
    )
    post = models.CharField("职务", max_length=16, choices=CommitteePost.choices, default=CommitteePost.MEMBER)
    since = models.DateField("任职起")
    until = models.DateField("任职止", null=True, blank=True)
    path = models.CharField(max_length=255, db_index=True)  # the committee's path

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["committee_id", "post", "since", "id"]
        verbose_name = "业委会委员"
        verbose_name_plural = "业委会委员"
        constraints = [
            # A person sits once on a committee at a time (closed periods are checked by the services).
            models.UniqueConstraint(
                fields=["committee", "person"],
                condition=models.Q(until__isnull=True),
                name="estates_member_once_open",
            ),
            models.CheckConstraint(
                condition=models.Q(until__isnull=True) | models.Q(until__gte=models.F("since")),
                name="estates_member_period_order",
            ),
        ]
        indexes = [models.Index(fields=["committee", "until"], name="estates_member_current")]

    def __str__(self) -> str:
        return f"{self.committee} {self.get_post_display()} {self.person.name}"


# --- property companies (物业公司) -----------------------------------------------------------


class Qualification(models.TextChoices):
    GRADE_1 = "grade1", "一级"
    GRADE_2 = "grade2", "二级"
    GRADE_3 = "grade3", "三级"
    NONE = "none", "无资质等级（备案）"


class PropertyCompany(models.Model):
    """A property management company: a registry unit (enterprise) with its qualification.

    ``path`` is the unit's path; the company is also seen from the compounds it serves. The
    contact phone stays in the registry, sealed; pages show the unit's masked number.
    """

    unit = models.OneToOneField(Unit, on_delete=models.PROTECT, related_name="property_company", verbose_name="单位")
    qualification = models.CharField("资质", max_length=16, choices=Qualification.choices, default=Qualification.NONE)
    path = models.CharField(max_length=255, db_index=True)
    is_active = models.BooleanField("有效", default=True)
    created_at = models.DateTimeField()

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["path", "id"]
        verbose_name = "物业公司"
        verbose_name_plural = "物业公司"

    def __str__(self) -> str:
        return self.unit.name


class ServiceContract(models.Model):
    """A company serves a compound from ``start`` to ``end`` (the last day; open while null).

    A compound has at most one contract on any day (checked by the services under a lock).
    """

    company = models.ForeignKey(PropertyCompany, on_delete=models.PROTECT, related_name="contracts")
    compound = models.ForeignKey(Compound, on_delete=models.PROTECT, related_name="service_contracts")
    start = models.DateField("服务起")
    end = models.DateField("服务止", null=True, blank=True)
    path = models.CharField(max_length=255, db_index=True)  # the compound's path
    created_at = models.DateTimeField()

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["compound_id", "start", "id"]
        verbose_name = "物业服务合同"
        verbose_name_plural = "物业服务合同"
        constraints = [
            models.UniqueConstraint(
                fields=["compound"], condition=models.Q(end__isnull=True), name="estates_one_open_contract"
            ),
            models.CheckConstraint(
                condition=models.Q(end__isnull=True) | models.Q(end__gte=models.F("start")),
                name="estates_contract_period_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.company} · {self.compound}"


class FeeCollection(models.Model):
    """Households billed and households paid in a compound for one quarter (entered by staff)."""

    compound = models.ForeignKey(Compound, on_delete=models.PROTECT, related_name="fee_collections")
    year = models.PositiveSmallIntegerField("年度")
    quarter = models.PositiveSmallIntegerField("季度")
    billed = models.PositiveIntegerField("应缴户数")
    paid = models.PositiveIntegerField("实缴户数")
    path = models.CharField(max_length=255, db_index=True)
    updated_at = models.DateTimeField()

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["path", "compound_id", "-year", "-quarter"]
        verbose_name = "物业费收缴"
        verbose_name_plural = "物业费收缴"
        constraints = [
            models.UniqueConstraint(fields=["compound", "year", "quarter"], name="estates_fee_once_per_quarter"),
            models.CheckConstraint(
                condition=models.Q(paid__lte=models.F("billed")) & models.Q(billed__gt=0), name="estates_fee_paid_le"
            ),
            models.CheckConstraint(
                condition=models.Q(quarter__gte=1, quarter__lte=4), name="estates_fee_quarter_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year}年第{self.quarter}季度 {self.paid}/{self.billed}"


class Survey(models.Model):
    """A satisfaction survey (满意度测评) of one compound for one quarter; residents answer on the H5."""

    compound = models.ForeignKey(Compound, on_delete=models.PROTECT, related_name="surveys")
    year = models.PositiveSmallIntegerField("年度")
    quarter = models.PositiveSmallIntegerField("季度")
    title = models.CharField("标题", max_length=100)
    is_open = models.BooleanField("开放作答", default=True)
    path = models.CharField(max_length=255, db_index=True)
    created_at = models.DateTimeField()

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["path", "-year", "-quarter", "id"]
        verbose_name = "满意度测评"
        verbose_name_plural = "满意度测评"
        constraints = [
            models.UniqueConstraint(fields=["compound", "year", "quarter"], name="estates_survey_once_per_quarter"),
            models.CheckConstraint(
                condition=models.Q(quarter__gte=1, quarter__lte=4), name="estates_survey_quarter_range"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class SurveyQuestion(models.Model):
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="questions")
    number = models.PositiveSmallIntegerField("序号")
    text = models.CharField("题目", max_length=200)

    class Meta:
        ordering = ["survey_id", "number"]
        constraints = [models.UniqueConstraint(fields=["survey", "number"], name="estates_question_number")]

    def __str__(self) -> str:
        return self.text


class SurveyResponse(models.Model):
    """One account's answers to a survey: once per account."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="responses")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    path = models.CharField(max_length=255, db_index=True)
    submitted_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["survey", "user"], name="estates_response_once")]

    def __str__(self) -> str:
        return f"{self.survey_id}/{self.user_id}"


class SurveyAnswer(models.Model):
    response = models.ForeignKey(SurveyResponse, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(SurveyQuestion, on_delete=models.CASCADE, related_name="answers")
    score = models.PositiveSmallIntegerField("评分")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["response", "question"], name="estates_answer_once"),
            models.CheckConstraint(condition=models.Q(score__gte=1, score__lte=5), name="estates_answer_scale"),
        ]

    def __str__(self) -> str:
        return str(self.score)


# --- 红色业委会: cross appointments ---------------------------------------------------------------


class PartyPost(models.TextChoices):
    SECRETARY = "secretary", "书记"
    DEPUTY = "deputy", "副书记"
    MEMBER = "member", "委员"


class CrossDirection(models.TextChoices):
    INTO_PARTY = "into_party", "业委会委员进入党组织班子"
    INTO_COMMITTEE = "into_committee", "党组织班子成员进入业委会"


class CrossAppointment(models.Model):
    """A person who sits on the owners' committee and holds a post in the compound's party organisation."""

    committee = models.ForeignKey(OwnersCommittee, on_delete=models.CASCADE, related_name="cross_appointments")
    party_org = models.ForeignKey(PartyOrg, on_delete=models.PROTECT, related_name="+", verbose_name="党组织")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+", verbose_name="人员")
    party_post = models.CharField("党内职务", max_length=16, choices=PartyPost.choices)
    direction = models.CharField("方向", max_length=16, choices=CrossDirection.choices)
    since = models.DateField("起")
    until = models.DateField("止", null=True, blank=True)
    path = models.CharField(max_length=255, db_index=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["committee_id", "since", "id"]
        verbose_name = "交叉任职"
        verbose_name_plural = "交叉任职"
        constraints = [
            models.UniqueConstraint(
                fields=["committee", "person"], condition=models.Q(until__isnull=True), name="estates_cross_once_open"
            ),
            models.CheckConstraint(
                condition=models.Q(until__isnull=True) | models.Q(until__gte=models.F("since")),
                name="estates_cross_period_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} {self.get_party_post_display()}"


# --- reports to the community (事前报告) -------------------------------------------------------


class ReportKind(models.TextChoices):
    CHANGE_COMPANY = "change_company", "更换物业公司"
    COMMON_REVENUE = "common_revenue", "使用公共收益"


class EstateReport(models.Model):
    """A matter reported to the community before it happens."""

    compound = models.ForeignKey(Compound, on_delete=models.PROTECT, related_name="estate_reports")
    kind = models.CharField("事项", max_length=16, choices=ReportKind.choices)
    reported_on = models.DateField("报告日期")
    description = models.CharField("内容", max_length=500)
    amount = models.DecimalField("金额(元)", max_digits=12, decimal_places=2, null=True, blank=True)
    path = models.CharField(max_length=255, db_index=True)
    created_at = models.DateTimeField()

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["path", "-reported_on", "-id"]
        verbose_name = "事前报告"
        verbose_name_plural = "事前报告"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.reported_on}"


class RevenueUse(models.Model):
    """A use of the compound's common revenue (公共收益), checked against the reports made before it."""

    compound = models.ForeignKey(Compound, on_delete=models.PROTECT, related_name="revenue_uses")
    used_on = models.DateField("使用日期")
    amount = models.DecimalField("金额(元)", max_digits=12, decimal_places=2)
    purpose = models.CharField("用途", max_length=500)
    path = models.CharField(max_length=255, db_index=True)
    created_at = models.DateTimeField()

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["path", "-used_on", "-id"]
        verbose_name = "公共收益使用"
        verbose_name_plural = "公共收益使用"

    def __str__(self) -> str:
        return f"{self.used_on} {self.amount}"


# --- dormitory zones (集宿区) -------------------------------------------------------------------


class DormitoryZone(models.Model):
    """A worker dormitory zone: a compound of kind 集宿区 with its workers, staff and joint committee."""

    compound = models.OneToOneField(Compound, on_delete=models.PROTECT, related_name="dormitory_zone")
    workers = models.PositiveIntegerField("入住员工数")
    staff_full = models.BooleanField("管理人员配齐", default=False)
    staff_note = models.CharField("管理人员情况", max_length=200, blank=True)
    joint_committee_on = models.DateField("联合管委会成立日期", null=True, blank=True)
    joint_committee_note = models.CharField("联合管委会组成", max_length=200, blank=True)
    path = models.CharField(max_length=255, db_index=True)
    updated_at = models.DateTimeField()

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["path", "id"]
        verbose_name = "集宿区"
        verbose_name_plural = "集宿区"

    def __str__(self) -> str:
        return self.compound.name


class HeadLevel(models.TextChoices):
    BUILDING = "building", "楼栋长"
    FLOOR = "floor", "楼层长"
    ROOM = "room", "寝室长"


class DormitoryHead(models.Model):
    """A building, floor or room head of a dormitory zone (a registry person)."""

    zone = models.ForeignKey(DormitoryZone, on_delete=models.CASCADE, related_name="heads")
    building = models.ForeignKey(Building, on_delete=models.PROTECT, related_name="+", verbose_name="楼栋")
    level = models.CharField("类别", max_length=16, choices=HeadLevel.choices)
    floor = models.PositiveSmallIntegerField("楼层", null=True, blank=True)
    room = models.CharField("寝室", max_length=20, blank=True)
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+", verbose_name="人员")
    path = models.CharField(max_length=255, db_index=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["zone_id", "building_id", "level", "floor", "room", "id"]
        verbose_name = "集宿区楼栋/楼层/寝室长"
        verbose_name_plural = "集宿区楼栋/楼层/寝室长"
        constraints = [
            models.UniqueConstraint(fields=["building", "level", "floor", "room"], name="estates_one_head_per_place"),
        ]

    def __str__(self) -> str:
        return f"{self.get_level_display()} {self.person_id}"
