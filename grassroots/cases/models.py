"""Tables of the case loop's foundations: the holiday table and the duty lists (事项清单).

The pure engines (``workflow.py``, ``worktime.py``) know nothing of these; selectors turn
rows into a ``WorkCalendar`` and a ``SlaPolicy``. No logic in ``save()``: services write.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from grassroots.accounts.models import Department
from grassroots.cases.workflow import OPEN_STATES, CaseState, EscalationLevel, WhistleKind
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


# --- the case loop ---------------------------------------------------------------------------


class Channel(models.TextChoices):
    RESIDENT_H5 = "resident_h5", "居民随手拍"
    GRID_PATROL = "grid_patrol", "网格巡查"
    HOTLINE_12345 = "hotline_12345", "12345热线"
    VISIT = "visit", "走访"
    WISH_WALL = "wish_wall", "微心愿墙"
    QR_CODE = "qr_code", "楼栋二维码"
    OPEN311 = "open311", "Open311接口"
    # Raised by the platform itself from a hotspot of past cases (未诉先办), before anyone complains.
    PROACTIVE = "proactive", "未诉先办"


CASE_STATE_CHOICES = [(state.value, state.label) for state in CaseState]


class Level(models.IntegerChoices):
    COMMUNITY = EscalationLevel.community.value, "社区"
    SUBDISTRICT = EscalationLevel.subdistrict.value, "街道"
    DISTRICT = EscalationLevel.district.value, "区"


class CaseQuerySet(ScopedQuerySet):
    def open(self) -> CaseQuerySet:
        return self.filter(state__in=[s.value for s in OPEN_STATES])


class Case(models.Model):
    """One reported problem. ``state`` and the deadline columns are derived by the services from the timeline."""

    # "2026-000123" from the primary key, set right after the insert (NULL, not "", keeps UNIQUE happy meanwhile).
    number = models.CharField("编号", max_length=20, unique=True, null=True)  # noqa: DJ001
    channel = models.CharField("来源", max_length=16, choices=Channel.choices)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="cases", verbose_name="事项")
    description = models.TextField("描述")
    lon = models.FloatField(null=True, blank=True)  # WGS-84
    lat = models.FloatField(null=True, blank=True)
    building = models.ForeignKey(
        "places.Building", null=True, blank=True, on_delete=models.SET_NULL, related_name="cases"
    )
    grid = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="cases")
    path = models.CharField(max_length=255)  # the grid's path
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="reported_cases"
    )
    state = models.CharField("状态", max_length=16, choices=CASE_STATE_CHOICES, default=CaseState.submitted.value)
    whistle_kind = models.CharField("哨类", max_length=16, choices=WHISTLE_CHOICES, blank=True)
    level = models.PositiveSmallIntegerField("层级", choices=Level.choices, default=Level.COMMUNITY)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    acknowledge_by = models.DateTimeField("报到时限", null=True, blank=True)
    handle_by = models.DateTimeField("办结时限", null=True, blank=True)
    remind_at = models.DateTimeField(null=True, blank=True)  # the next 80 % reminder; None once sent
    acknowledge_missed = models.BooleanField(default=False)
    handle_missed = models.BooleanField(default=False)
    overdue = models.BooleanField("超期", default=False)
    provisional = models.BooleanField(default=False)  # a deadline used the Monday–Friday fallback calendar
    closed_at = models.DateTimeField(null=True, blank=True)
    evaluation_reopens = models.PositiveSmallIntegerField(default=0)
    evaluated_since_close = models.BooleanField(default=False)
    rating = models.CharField("评价", max_length=24, blank=True)
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged")
    # The order number of an outside system (12345 hotline, an Open311 client): imports are idempotent by it.
    external_ref = models.CharField("外部编号", max_length=64, blank=True)
    # A caller's contact from the hotline or Open311: the phone sealed like the registry's, shown masked.
    contact_name = models.CharField("联系人", max_length=50, blank=True)
    contact_phone_sealed = models.BinaryField(null=True, blank=True)
    contact_phone_masked = models.CharField("联系电话", max_length=20, blank=True)
    address_text = models.CharField("地址", max_length=255, blank=True)  # as the reporter gave it
    version = models.PositiveIntegerField(default=1)  # optimistic concurrency: every transition bumps it
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    objects = CaseQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "案件"
        verbose_name_plural = "案件"
        indexes = [
            models.Index(fields=["path"], name="case_path_prefix", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["state", "created_at"], name="case_state_created"),
            models.Index(fields=["category", "created_at"], name="case_category_created"),
            # The sweep's three set-based scans.
            models.Index(fields=["remind_at"], name="case_remind_at"),
            models.Index(fields=["acknowledge_by"], name="case_acknowledge_by"),
            models.Index(fields=["handle_by"], name="case_handle_by"),
            # The insight rollups' incremental refresh: the cases changed since the last watermark.
            models.Index(fields=["updated_at"], name="case_updated_at"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_ref"],
                condition=~models.Q(external_ref=""),
                name="case_external_ref_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.number or f"#{self.pk}"


class AssignmentState(models.TextChoices):
    DISPATCHED = "dispatched", "已派遣"
    ACKNOWLEDGED = "acknowledged", "已报到"
    REJECTED = "rejected", "已退单"
    RESOLVED = "resolved", "已办结"


class CaseAssignment(models.Model):
    """One department's part in a whistled case."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="assignments")
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="case_assignments")
    state = models.CharField(max_length=16, choices=AssignmentState.choices, default=AssignmentState.DISPATCHED)
    dispatched_at = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    reject_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["case_id", "id"]
        indexes = [models.Index(fields=["department", "state"], name="case_assignment_inbox")]

    def __str__(self) -> str:
        return f"{self.case_id} → {self.department_id}"


class CaseEvent(models.Model):
    """The append-only timeline: services create rows, nothing updates or deletes them."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=150)
    role = models.CharField(max_length=16)
    action = models.CharField(max_length=32)  # a workflow Action, or "submit", "remind", "overdue"
    from_state = models.CharField(max_length=16, blank=True)
    to_state = models.CharField(max_length=16, blank=True)
    department = models.ForeignKey(Department, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    note = models.TextField(blank=True)  # reason, result or comment
    rating = models.CharField(max_length=24, blank=True)
    payload = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["case", "at"], name="case_event_timeline")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.action} {self.at:%Y-%m-%d %H:%M}"


class PhotoStage(models.TextChoices):
    REPORT = "report", "上报"
    RESULT = "result", "办结"
    VERIFY = "verify", "核实"


def _photo_path(photo: CasePhoto, filename: str) -> str:
    # Named by content hash: no user-chosen name ever reaches the file system.
    return f"cases/photos/{photo.sha256[:2]}/{photo.sha256}.{photo.extension}"


class CasePhoto(models.Model):
    """A photo re-encoded without metadata. Uploaded first (``case`` empty), then attached by a case step."""

    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.CASCADE, related_name="photos")
    stage = models.CharField("环节", max_length=8, choices=PhotoStage.choices, blank=True)
    event = models.ForeignKey(CaseEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="photos")
    file = models.FileField(upload_to=_photo_path, max_length=200)
    sha256 = models.CharField(max_length=64)
    extension = models.CharField(max_length=8)  # jpg, png, webp: what we wrote, not what was sent
    content_type = models.CharField(max_length=32)
    size = models.PositiveIntegerField()  # bytes stored
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    original_name = models.CharField(max_length=200, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["case", "stage"], name="case_photo_case_stage"),
            models.Index(fields=["uploaded_by", "created_at"], name="case_photo_staged"),
        ]

    def __str__(self) -> str:
        return f"photo {self.pk} of case {self.case_id}"


# --- smart dispatch (智能分派) -------------------------------------------------------------------


class RoutingModel(models.Model):
    """A trained dispatch model: figures on a time-ordered hold-out, and the model itself.

    ``blob`` is pickled by ``grassroots.cases.routing`` and only ever written by ``routing_train``;
    ``sha256`` is checked before it is loaded. The newest active row whose ``path`` covers a case
    answers for it ("" = the whole platform).
    """

    path = models.CharField(max_length=255, blank=True)  # the area whose cases it learnt; "" = all
    version = models.PositiveIntegerField("版本")
    trained_at = models.DateTimeField("训练时间")
    trained_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    trained_by_label = models.CharField(max_length=150, blank=True)
    samples = models.PositiveIntegerField("样本数")  # labelled cases learnt from (the final fit)
    choice_samples = models.PositiveIntegerField(default=0)  # of which labelled by a recorded dispatcher choice
    train_samples = models.PositiveIntegerField(default=0)  # the hold-out evaluation's split
    test_samples = models.PositiveIntegerField(default=0)
    categories = models.PositiveIntegerField(default=0)
    departments = models.PositiveIntegerField(default=0)
    # {"model": Accuracy.as_dict(), "keywords": Accuracy.as_dict()} on the latest test_samples cases
    accuracy = models.JSONField(default=dict, blank=True)
    train_seconds = models.FloatField(default=0)
    library = models.CharField(max_length=40, blank=True)  # scikit-learn version that pickled it
    blob = models.BinaryField()
    sha256 = models.CharField(max_length=64)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["-trained_at", "-id"]
        verbose_name = "分派模型"
        verbose_name_plural = "分派模型"
        constraints = [models.UniqueConstraint(fields=["path", "version"], name="routing_model_version_unique")]

    def __str__(self) -> str:
        return f"routing v{self.version} {self.path or 'all'}"


class RoutingChoice(models.Model):
    """What was suggested when a case was accepted or whistled, and what the worker chose.

    The chosen labels feed the next training (cases not yet closed included); the ranks measure
    how often the suggestions were taken.
    """

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="routing_choices")
    model = models.ForeignKey(RoutingModel, null=True, blank=True, on_delete=models.SET_NULL, related_name="choices")
    source = models.CharField(max_length=16)  # "model" | "keywords" | "none"
    action = models.CharField(max_length=32)  # accept / whistle / re_dispatch
    # [{"id": 12, "confidence": 0.83}, …], best first
    suggested_categories = models.JSONField(default=list, blank=True)
    suggested_departments = models.JSONField(default=list, blank=True)
    chosen_category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="+")
    chosen_departments = models.JSONField(default=list, blank=True)  # department ids
    category_rank = models.PositiveSmallIntegerField(null=True, blank=True)  # 1..3; None: not suggested
    department_hits = models.PositiveSmallIntegerField(default=0)  # chosen departments among the suggested
    changed_category = models.BooleanField(default=False)  # the worker changed the case's category
    chosen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    chosen_at = models.DateTimeField()

    class Meta:
        ordering = ["case_id", "chosen_at", "id"]
        verbose_name = "分派选择"
        verbose_name_plural = "分派选择"
        indexes = [models.Index(fields=["chosen_at"], name="routing_choice_at")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.action} → {self.chosen_category_id}"
