"""Decisions on hotspots (未诉先办): a hotspot turned into a proactive case, or dismissed with a reason.

Hotspots themselves are not stored: ``hotspots_engine.detect`` recomputes them from the cases. A
decision keeps the hotspot's ``signature`` (kind, category, subject) and its evidence case ids, so the
same evidence is never offered again; ``key`` (signature + evidence) makes conversion idempotent.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from grassroots.places.models import ScopedQuerySet


class HotspotOutcome(models.TextChoices):
    CONVERTED = "converted", "已转为未诉先办案件"
    DISMISSED = "dismissed", "已忽略"


class HotspotDecision(models.Model):
    key = models.CharField(max_length=255, unique=True)  # signature + sorted evidence ids (hashed if long)
    signature = models.CharField(max_length=255, db_index=True)  # "building:12:345"
    kind = models.CharField("类型", max_length=16)
    category = models.ForeignKey("cases.Category", on_delete=models.PROTECT, related_name="+", verbose_name="事项")
    subject = models.CharField(max_length=255, blank=True)
    subject_label = models.CharField("地点/区域", max_length=200, blank=True)
    path = models.CharField(max_length=255, db_index=True)  # the anchor case's grid path (scope)
    evidence = models.JSONField("证据案件", default=list)  # case ids
    outcome = models.CharField("处理", max_length=16, choices=HotspotOutcome.choices)
    reason = models.CharField("忽略理由", max_length=300, blank=True)
    case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="未诉先办案件"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name="处理人"
    )
    decided_at = models.DateTimeField("处理时间")

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-decided_at", "-id"]
        verbose_name = "热点处理记录"
        verbose_name_plural = "热点处理记录"

    def __str__(self) -> str:
        return f"{self.signature} {self.outcome}"
