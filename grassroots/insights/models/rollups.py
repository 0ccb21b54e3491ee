"""Pre-aggregated figures the dashboards read instead of the raw tables (see docs/insights.md).

- ``CaseRollup``: the case counts of grassroots/cases/selectors/measures.py per grid × month of
  creation (Asia/Shanghai); a period's rates are sums of these rows.
- ``CategoryRollup``: cases received and closed per community × month × category (the charts).
- ``CaseResponse``: each case's first acceptance and first report-in (a helper of the refresh).
- ``RegistryRollup``: households, residents and complete registry records per grid.
- ``RollupRun``: when each rollup was last refreshed and the watermark of the next incremental run.

Every row is derived: ``services/rollups.py`` deletes and rewrites whole months (or whole grids),
so a refresh can be repeated at will.
"""

from __future__ import annotations

from django.db import models


class CaseResponse(models.Model):
    """Each case's first acceptance and first report-in (the minimum over its timeline), kept so the
    grouped refresh query joins one row per case instead of re-running a subquery per reference."""

    case = models.OneToOneField(
        "cases.Case",
        primary_key=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="insight_response",
    )
    first_accept = models.DateTimeField(null=True)
    first_ack = models.DateTimeField(null=True)

    class Meta:
        verbose_name = "案件首次响应"
        verbose_name_plural = verbose_name

    def __str__(self) -> str:
        return f"{self.case_id}"


class CaseRollup(models.Model):
    path = models.CharField(max_length=255)  # the grid's path (a case's ``path``)
    month = models.DateField()  # first day of the month of creation, Asia/Shanghai
    received = models.PositiveIntegerField(default=0)
    excluded = models.PositiveIntegerField(default=0)
    closed = models.PositiveIntegerField(default=0)
    open = models.PositiveIntegerField(default=0)
    overdue = models.PositiveIntegerField(default=0)
    rated = models.PositiveIntegerField(default=0)
    good = models.PositiveIntegerField(default=0)
    satisfied = models.PositiveIntegerField(default=0)
    with_deadline = models.PositiveIntegerField(default=0)
    in_time = models.PositiveIntegerField(default=0)
    responded_on_time = models.PositiveIntegerField(default=0)
    needed_response = models.PositiveIntegerField(default=0)
    closure_hours = models.FloatField(default=0)  # sum over the closed cases

    class Meta:
        verbose_name = "案件汇总(网格×月)"
        verbose_name_plural = verbose_name
        constraints = [models.UniqueConstraint(fields=["month", "path"], name="insights_caserollup_month_path")]
        indexes = [models.Index(fields=["path"], name="insights_caserollup_path", opclasses=["varchar_pattern_ops"])]

    def __str__(self) -> str:
        return f"{self.path} {self.month:%Y-%m}"


class CategoryRollup(models.Model):
    path = models.CharField(max_length=255)  # the community's path (the grid's parent)
    month = models.DateField()
    category_id = models.IntegerField()
    received = models.PositiveIntegerField(default=0)
    closed = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "案件汇总(社区×月×事项)"
        verbose_name_plural = verbose_name
        constraints = [
            models.UniqueConstraint(fields=["month", "path", "category_id"], name="insights_catrollup_unique")
        ]
        indexes = [models.Index(fields=["path"], name="insights_catrollup_path", opclasses=["varchar_pattern_ops"])]

    def __str__(self) -> str:
        return f"{self.path} {self.month:%Y-%m} {self.category_id}"


class RegistryRollup(models.Model):
    path = models.CharField(max_length=255, unique=True)  # a grid's path
    households = models.PositiveIntegerField(default=0)  # sum of the grid's buildings' households
    residents = models.PositiveIntegerField(default=0)  # persons whose path is the grid
    complete = models.PositiveIntegerField(default=0)  # of which with a complete record

    class Meta:
        verbose_name = "人口房屋汇总(网格)"
        verbose_name_plural = verbose_name
        indexes = [models.Index(fields=["path"], name="insights_regrollup_path", opclasses=["varchar_pattern_ops"])]

    def __str__(self) -> str:
        return self.path


class RollupRun(models.Model):
    """One row per rollup kind: the last refresh and the watermark of the next incremental one."""

    kind = models.CharField(max_length=16, unique=True)  # "cases" | "registry"
    watermark = models.DateTimeField()  # rows updated at or after this are looked at next time
    refreshed_at = models.DateTimeField()
    seconds = models.FloatField(default=0)
    rows = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "汇总刷新"
        verbose_name_plural = verbose_name

    def __str__(self) -> str:
        return self.kind


__all__ = ["CaseResponse", "CaseRollup", "CategoryRollup", "RegistryRollup", "RollupRun"]
