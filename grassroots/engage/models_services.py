"""Tables of the service side of engage: the service guide (办事指南), the community admission
lists (社区工作准入) and the party-and-masses service centres (党群服务中心) with their visits,
rooms and room bookings.

Like the deliberation tables every scoped row carries ``path``, its area's path. The services
write these tables; see ``services/guide.py``, ``services/admission.py`` and ``services/centres.py``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from grassroots.places.models import Area, ScopedQuerySet

USER = settings.AUTH_USER_MODEL


class ServiceGuide(models.Model):
    """One government service (办事指南): what it takes, where and when; idempotent by code, else name."""

    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="service_guides")
    path = models.CharField(max_length=255, db_index=True)
    code = models.CharField("事项编码", max_length=64, blank=True)
    name = models.CharField("事项名称", max_length=200)
    category = models.CharField("类别", max_length=50)
    process = models.TextField("办理流程", blank=True)  # one step a line
    conditions = models.TextField("办理条件", blank=True)
    materials = models.TextField("所需材料", blank=True)
    place = models.CharField("办理地点", max_length=200, blank=True)
    hours = models.CharField("办理时间", max_length=200, blank=True)
    phone = models.CharField("咨询电话", max_length=100, blank=True)
    online_url = models.URLField("网上办理", max_length=500, blank=True)
    is_active = models.BooleanField("在用", default=True)
    updated_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["category", "name", "id"]
        verbose_name = "办事指南"
        verbose_name_plural = "办事指南"
        constraints = [
            models.UniqueConstraint(fields=["area", "name"], name="guide_name_once_per_area"),
            models.UniqueConstraint(
                fields=["area", "code"], condition=~models.Q(code=""), name="guide_code_once_per_area"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def steps(self) -> list[str]:
        return [line.strip() for line in self.process.splitlines() if line.strip()]

    @property
    def material_list(self) -> list[str]:
        return [line.strip() for line in self.materials.splitlines() if line.strip()]


class AdmissionKind(models.TextChoices):
    DUTY = "duty", "工作事项"
    ASSISTANCE = "assistance", "协助事项"
    PLAQUE = "plaque", "挂牌"
    CERTIFICATE = "certificate", "证明事项"


class AdmissionItem(models.Model):
    """One line of a district's (or, overriding it, a subdistrict's) community admission list."""

    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="admission_items")
    path = models.CharField(max_length=255, db_index=True)
    kind = models.CharField("类型", max_length=16, choices=AdmissionKind.choices)
    name = models.CharField("名称", max_length=200)
    allowed = models.BooleanField("准入", default=True)
    basis = models.TextField("依据/规则")
    note = models.TextField("说明", blank=True)
    updated_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField()

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["kind", "name", "path"]
        verbose_name = "社区工作准入事项"
        verbose_name_plural = "社区工作准入事项"
        constraints = [models.UniqueConstraint(fields=["area", "kind", "name"], name="admission_item_once")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.name}"


class ServiceCentre(models.Model):
    """A community's party-and-masses service centre (党群服务中心)."""

    community = models.OneToOneField(Area, on_delete=models.PROTECT, related_name="service_centre")
    path = models.CharField(max_length=255, db_index=True)
    name = models.CharField("名称", max_length=100)
    address = models.CharField("地址", max_length=200, blank=True)
    floor_area = models.DecimalField("建筑面积(㎡)", max_digits=8, decimal_places=2)
    households_entered = models.PositiveIntegerField("服务户数(手工填报)", null=True, blank=True)
    is_village = models.BooleanField("村(农村社区)", default=False)
    updated_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField()

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["path"]
        verbose_name = "党群服务中心"
        verbose_name_plural = "党群服务中心"

    def __str__(self) -> str:
        return self.name


class CentreVisit(models.Model):
    """Visits on one day: a count (1 for a single visit), with a satisfaction 1–5 when asked."""

    centre = models.ForeignKey(ServiceCentre, on_delete=models.CASCADE, related_name="visits")
    on = models.DateField("日期")
    count = models.PositiveIntegerField("人次", default=1)
    satisfaction = models.PositiveSmallIntegerField("满意度(1-5)", null=True, blank=True)
    note = models.CharField("备注", max_length=200, blank=True)
    recorded_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["-on", "-id"]
        indexes = [models.Index(fields=["centre", "on"], name="centre_visit_day")]
        constraints = [
            models.CheckConstraint(condition=models.Q(count__gte=1), name="centre_visit_count_positive"),
            models.CheckConstraint(
                condition=models.Q(satisfaction__isnull=True) | models.Q(satisfaction__gte=1, satisfaction__lte=5),
                name="centre_visit_satisfaction_1_5",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.centre_id} {self.on} ×{self.count}"


class CentreRoom(models.Model):
    centre = models.ForeignKey(ServiceCentre, on_delete=models.CASCADE, related_name="rooms")
    name = models.CharField("功能室", max_length=50)
    capacity = models.PositiveSmallIntegerField("容纳人数", null=True, blank=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["centre", "name"], name="centre_room_name_once")]

    def __str__(self) -> str:
        return self.name


class RoomBooking(models.Model):
    """A room booked for [starts_at, ends_at); the service refuses overlaps under a lock on the room."""

    room = models.ForeignKey(CentreRoom, on_delete=models.CASCADE, related_name="bookings")
    starts_at = models.DateTimeField("开始")
    ends_at = models.DateTimeField("结束")
    purpose = models.CharField("用途", max_length=200)
    booker = models.CharField("预约人/单位", max_length=100)
    booked_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    cancelled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["starts_at", "id"]
        indexes = [models.Index(fields=["room", "starts_at"], name="room_booking_start")]
        constraints = [
            models.CheckConstraint(condition=models.Q(ends_at__gt=models.F("starts_at")), name="booking_ends_after")
        ]

    def __str__(self) -> str:
        return f"{self.room_id} {self.starts_at:%Y-%m-%d %H:%M}"


__all__ = [
    "AdmissionItem",
    "AdmissionKind",
    "CentreRoom",
    "CentreVisit",
    "RoomBooking",
    "ServiceCentre",
    "ServiceGuide",
]
