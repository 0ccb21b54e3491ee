"""People and households (实有人口). ID numbers and phones are encrypted at rest.

Each sensitive value is stored three ways: AES-GCM ciphertext (``*_cipher``), a keyed
hash for exact search (``*_hash``), and the masked form pages show (``*_masked``), so
lists never decrypt anything.
"""

from __future__ import annotations

from django.db import models

from grassroots.places.models import Dwelling, ScopedQuerySet


class Sex(models.TextChoices):
    MALE = "M", "男"
    FEMALE = "F", "女"


class Tag(models.Model):
    """A key-population tag (重点人群); sensitive tags are shown only to those who may unmask."""

    code = models.SlugField(max_length=32, unique=True)
    name = models.CharField("名称", max_length=50)
    is_sensitive = models.BooleanField("敏感", default=False)
    is_derived = models.BooleanField("自动计算", default=False, help_text="如60岁以上老人由出生日期计算")

    class Meta:
        ordering = ["code"]
        verbose_name = "标签"
        verbose_name_plural = "标签"

    def __str__(self) -> str:
        return self.name


class Household(models.Model):
    dwelling = models.ForeignKey(Dwelling, null=True, blank=True, on_delete=models.PROTECT, related_name="households")
    path = models.CharField(max_length=255, db_index=True)
    head_name = models.CharField("户主", max_length=50, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "户"
        verbose_name_plural = "户"

    def __str__(self) -> str:
        return f"户 {self.pk} {self.head_name}"


class Person(models.Model):
    name = models.CharField("姓名", max_length=50)
    sex = models.CharField("性别", max_length=1, choices=Sex.choices)
    birth_date = models.DateField("出生日期")
    id_number_cipher = models.BinaryField()
    id_number_hash = models.CharField(max_length=64)
    id_number_masked = models.CharField("身份证号", max_length=18)
    phone_cipher = models.BinaryField(null=True, blank=True)
    phone_hash = models.CharField(max_length=64, blank=True, db_index=True)
    phone_masked = models.CharField("手机号", max_length=11, blank=True)
    household = models.ForeignKey(Household, null=True, blank=True, on_delete=models.SET_NULL, related_name="members")
    relation = models.CharField("与户主关系", max_length=16, blank=True)
    dwelling = models.ForeignKey(Dwelling, null=True, blank=True, on_delete=models.PROTECT, related_name="residents")
    path = models.CharField(max_length=255, db_index=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="persons")

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["path", "id"]
        constraints = [models.UniqueConstraint(fields=["id_number_hash"], name="person_id_number_unique")]
        verbose_name = "人员"
        verbose_name_plural = "人员"

    def __str__(self) -> str:
        return self.name
