"""Data-subject requests (个人信息主体权利请求, PIPL art. 44–47): a resident asks for a copy of
their data, a correction or a deletion, and the request is answered within 15 working days.

Imported by ``grassroots.registry.models`` so the model belongs to the registry app. What the
resident typed (name, ID number, the request) and what was answered are personal data: they are
stored AES-GCM encrypted like the registry's own columns, with a keyed hash of the ID number
(the registry's, so the request finds the registered person by exact match) and its masked form.
"""

from __future__ import annotations

from django.db import models


class SubjectRequestKind(models.TextChoices):
    COPY = "copy", "查阅、复制个人信息"
    CORRECTION = "correction", "更正、补充个人信息"
    DELETION = "deletion", "删除个人信息"


class SubjectRequestStatus(models.TextChoices):
    SUBMITTED = "submitted", "已提交"
    IN_PROGRESS = "in_progress", "办理中"
    ANSWERED = "answered", "已答复"
    REFUSED = "refused", "不予办理"


OPEN_STATUSES = (SubjectRequestStatus.SUBMITTED, SubjectRequestStatus.IN_PROGRESS)

# AES-GCM contexts: each binds a ciphertext to its column.
NAME_CONTEXT = "subject_request.name"
ID_CONTEXT = "subject_request.id_number"
DETAILS_CONTEXT = "subject_request.details"
ANSWER_CONTEXT = "subject_request.answer"
COPY_CONTEXT = "subject_request.copy"


class SubjectRequest(models.Model):
    kind = models.CharField("请求类型", max_length=16, choices=SubjectRequestKind.choices)
    status = models.CharField(
        "状态", max_length=16, choices=SubjectRequestStatus.choices, default=SubjectRequestStatus.SUBMITTED
    )
    requester = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="subject_requests")
    path = models.CharField(max_length=255, db_index=True)  # the requester's community: scopes the staff queue
    name_cipher = models.BinaryField()
    id_number_cipher = models.BinaryField()
    id_number_hash = models.CharField(max_length=64, db_index=True)  # the registry's blind index
    id_number_masked = models.CharField("身份证号", max_length=18)
    details_cipher = models.BinaryField()  # what the resident asks, in their words
    person = models.ForeignKey(
        "registry.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="subject_requests"
    )
    submitted_at = models.DateTimeField("提交时间")
    due_on = models.DateField("答复期限")
    due_provisional = models.BooleanField(default=False)  # the due date used the Monday–Friday fallback calendar
    started_at = models.DateTimeField(null=True, blank=True)
    started_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    answered_at = models.DateTimeField("答复时间", null=True, blank=True)
    answered_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    answer_cipher = models.BinaryField(null=True, blank=True)  # the answer, or the reason for refusing
    corrected_fields = models.JSONField(default=list, blank=True)  # field names only (a correction)
    copy_cipher = models.BinaryField(null=True, blank=True)  # the copy (JSON) handed to the resident
    copy_name = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["due_on", "id"]
        verbose_name = "个人信息主体请求"
        verbose_name_plural = "个人信息主体请求"
        indexes = [
            models.Index(fields=["status", "due_on"], name="subject_request_status_due"),
            models.Index(fields=["path"], name="subject_request_path_prefix", opclasses=["varchar_pattern_ops"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"
