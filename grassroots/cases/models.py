"""Tables of the case loop's foundations: the holiday table and the duty lists (事项清单).

The pure engines (``workflow.py``, ``worktime.py``) know nothing of these; selectors turn
rows into a ``WorkCalendar`` and a ``SlaPolicy``. No logic in ``save()``: services write.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from grassroots.accounts.models import Department
from grassroots.cases.workflow import WhistleKind
from grassroots.places.models import Area, ScopedQuerySet

WHISTLE_CHOICES = [(kind.value, kind.label) for kind in WhistleKind]


class CalendarDay(models.Model):
    """An administrator's answer for one date; it beats the chinese-calendar package."""

    date = models.DateField("日期", unique=True)
    is_workday = models.BooleanField("上班")
    name = models.CharField("名称", max_length=50, blank=True)  # 春节, 调休上班 …
    note = models.CharField("备注", max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["date"]
        verbose_name = "节假日安排"
        verbose_name_plural = "节假日安排"

    def __str__(self) -> str:
        return f"{self.date} {'上班' if self.is_workday else '放假'} {self.name}".strip()


class CalendarYear(models.Model):
    """A year's schedule state: ``complete`` vouches for every day of the year without an override."""

    year = models.PositiveSmallIntegerField("年度", unique=True)
    complete = models.BooleanField("已完整录入", default=False)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    entered_by_label = models.CharField(max_length=150, blank=True)  # also names commands, which have no user
    entered_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["year"]
        verbose_name = "节假日年度"
        verbose_name_plural = "节假日年度"

    def __str__(self) -> str:
        return f"{self.year}{'（已录入）' if self.complete else ''}"


class CategoryKind(models.TextChoices):
    EVENT = "event", "城市管理事件"
    COMPONENT = "component", "城市管理部件"
    COMMUNITY = "community", "社区事务"


class DeadlineOverrides(models.Model):
    """Optional report-in / handling deadlines: minutes around the clock, or working days (one of the two)."""

    acknowledge_minutes = models.PositiveIntegerField("报到时限(分钟)", null=True, blank=True)
    acknowledge_workdays = models.PositiveSmallIntegerField("报到时限(工作日)", null=True, blank=True)
    handle_minutes = models.PositiveIntegerField("办结时限(分钟)", null=True, blank=True)
    handle_workdays = models.PositiveSmallIntegerField("办结时限(工作日)", null=True, blank=True)

    class Meta:
        abstract = True
        constraints = [
            models.CheckConstraint(
                condition=models.Q(acknowledge_minutes__isnull=True) | models.Q(acknowledge_workdays__isnull=True),
                name="%(app_label)s_%(class)s_one_acknowledge_unit",
            ),
            models.CheckConstraint(
                condition=models.Q(handle_minutes__isnull=True) | models.Q(handle_workdays__isnull=True),
                name="%(app_label)s_%(class)s_one_handle_unit",
            ),
        ]


class Category(DeadlineOverrides):
    """A kind of matter on the duty list: 大类 → 小类 (→ 事项)."""

    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    code = models.CharField("编码", max_length=64, unique=True)
    name = models.CharField("名称", max_length=100)
    kind = models.CharField("类型", max_length=16, choices=CategoryKind.choices)
    default_whistle_kind = models.CharField(
        "默认哨类", max_length=16, choices=WHISTLE_CHOICES, default=WhistleKind.routine.value
    )
    is_active = models.BooleanField("启用", default=True)
    sort = models.PositiveSmallIntegerField("排序", default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta(DeadlineOverrides.Meta):
        ordering = ["sort", "code"]
        verbose_name = "事项分类"
        verbose_name_plural = "事项分类"
        constraints = [
            *DeadlineOverrides.Meta.constraints,
            models.UniqueConstraint(fields=["parent", "name"], name="category_name_unique_in_parent"),
        ]

    def __str__(self) -> str:
        return self.name


class DutyAssignment(DeadlineOverrides):
    """Who answers for a category in an area (and everything below it, unless a finer area says otherwise)."""

    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="assignments")
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="duty_assignments")
    path = models.CharField(max_length=255, db_index=True)  # the area's path
    departments = models.ManyToManyField(Department, related_name="duty_assignments", verbose_name="责任部门")
    whistle_kind = models.CharField("哨类", max_length=16, choices=WHISTLE_CHOICES, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()

    class Meta(DeadlineOverrides.Meta):
        ordering = ["category_id", "path"]
        verbose_name = "事项责任"
        verbose_name_plural = "事项责任"
        constraints = [
            *DeadlineOverrides.Meta.constraints,
            models.UniqueConstraint(fields=["category", "area"], name="duty_one_assignment_per_area"),
        ]

    def __str__(self) -> str:
        return f"{self.category} @ {self.area}"
