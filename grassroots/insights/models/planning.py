"""Grid plans proposed by the planner (issue 9) and what happened to them.

A proposal keeps everything needed to show it and to undo-by-reading it: the parameters, the
planner's units with their measures and polygons (GeoJSON, WGS-84), and once accepted the old
assignment of every building (``previous``: building id -> old grid path) and the staff suggestions.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from grassroots.places.models import Area


class ProposalStatus(models.TextChoices):
    PROPOSED = "proposed", "待定"
    ACCEPTED = "accepted", "已采纳"
    DISCARDED = "discarded", "已放弃"


class PlanProposal(models.Model):
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="plan_proposals")
    path = models.CharField(max_length=255, db_index=True)  # the area's path (scope filter)
    params = models.JSONField("参数", default=dict)
    status = models.CharField("状态", max_length=16, choices=ProposalStatus.choices, default=ProposalStatus.PROPOSED)
    result = models.JSONField("方案", default=dict)
    previous = models.JSONField("原划分", default=dict, blank=True)
    staff = models.JSONField("人员调整建议", default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "网格划分方案"
        verbose_name_plural = verbose_name

    def __str__(self) -> str:
        return f"{self.area} {self.created_at:%Y-%m-%d %H:%M} {self.get_status_display()}"
