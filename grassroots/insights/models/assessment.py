"""The subdistrict's monthly assessment of departments and partner units (街道对部门和共建单位的考核).

- ``AssessmentWeights``: per subdistrict, the weights (percent, each set summing to 100) of the case
  rates and the communities' rating for departments, and of the members' service targets and the
  rating for partner units.
- ``AssessmentRating``: one community's 0–100 rating of one department or one partner unit for a month.
- ``AssessmentMonth``: a subdistrict's closed month; ratings of a closed month can no longer change.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from grassroots.places.models import ScopedQuerySet


class AssessmentWeights(models.Model):
    subdistrict = models.OneToOneField("places.Area", on_delete=models.PROTECT, related_name="+", verbose_name="街道")
    path = models.CharField(max_length=255, db_index=True)
    response = models.PositiveSmallIntegerField("响应率权重", default=20)
    resolution = models.PositiveSmallIntegerField("解决率权重", default=20)
    satisfaction = models.PositiveSmallIntegerField("满意率权重", default=20)
    on_time = models.PositiveSmallIntegerField("按时办结率权重", default=10)
    rating = models.PositiveSmallIntegerField("社区评分权重", default=30)
    unit_service = models.PositiveSmallIntegerField("共建单位党员履职权重", default=40)
    unit_rating = models.PositiveSmallIntegerField("共建单位社区评分权重", default=60)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField()

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "考核权重"
        verbose_name_plural = "考核权重"

    def __str__(self) -> str:
        return f"weights {self.subdistrict_id}"


class TargetKind(models.TextChoices):
    DEPARTMENT = "department", "职能部门"
    UNIT = "unit", "共建单位"


class AssessmentRating(models.Model):
    month = models.DateField("月份")  # first day of the month
    community = models.ForeignKey("places.Area", on_delete=models.PROTECT, related_name="+", verbose_name="社区")
    path = models.CharField(max_length=255, db_index=True)  # the community's path
    target_kind = models.CharField("对象类型", max_length=16, choices=TargetKind.choices)
    department = models.ForeignKey(
        "accounts.Department", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    unit = models.ForeignKey("registry.Unit", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    score = models.PositiveSmallIntegerField("评分")  # 0–100
    comment = models.CharField("评语", max_length=500, blank=True)
    rated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    rated_at = models.DateTimeField()

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["month", "path", "id"]
        verbose_name = "社区评分"
        verbose_name_plural = "社区评分"
        constraints = [
            models.UniqueConstraint(
                fields=["month", "community", "department"],
                condition=models.Q(department__isnull=False),
                name="assessment_one_rating_per_department",
            ),
            models.UniqueConstraint(
                fields=["month", "community", "unit"],
                condition=models.Q(unit__isnull=False),
                name="assessment_one_rating_per_unit",
            ),
            models.CheckConstraint(
                condition=(models.Q(department__isnull=False, unit__isnull=True, target_kind="department"))
                | models.Q(department__isnull=True, unit__isnull=False, target_kind="unit"),
                name="assessment_rating_one_target",
            ),
            models.CheckConstraint(condition=models.Q(score__lte=100), name="assessment_score_range"),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.community_id} {self.department_id or self.unit_id}: {self.score}"


class AssessmentMonth(models.Model):
    subdistrict = models.ForeignKey("places.Area", on_delete=models.PROTECT, related_name="+")
    path = models.CharField(max_length=255, db_index=True)
    month = models.DateField()
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    closed_at = models.DateTimeField()

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "考核月份关闭"
        verbose_name_plural = "考核月份关闭"
        constraints = [
            models.UniqueConstraint(fields=["subdistrict", "month"], name="assessment_month_closed_once"),
        ]

    def __str__(self) -> str:
        return f"{self.subdistrict_id} {self.month:%Y-%m} closed"
