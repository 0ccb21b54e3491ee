"""Tables of deliberation (议题, 附议, 评论, 会议, 定事, 办事, 评议) and notices (公告).

Every scoped row carries ``path``, the path of its area (a community or a grid), so a scope
check is one prefix filter. The state columns are written by the services only, which append
a ``TopicEvent`` beside every change.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from grassroots.engage.workflow import DEFAULT_REVIEW_DAYS, DEFAULT_SUPPORT_THRESHOLD, TopicState
from grassroots.places.models import Area, ScopedQuerySet

STATE_CHOICES = [(s.value, s.label) for s in TopicState]
USER = settings.AUTH_USER_MODEL


class DeliberationSetting(models.Model):
    """An area's support threshold and review period; the nearest setting up the tree applies."""

    area = models.OneToOneField(Area, on_delete=models.CASCADE, related_name="deliberation_setting")
    path = models.CharField(max_length=255, db_index=True)
    support_threshold = models.PositiveSmallIntegerField("附议门槛(人)", default=DEFAULT_SUPPORT_THRESHOLD)
    review_days = models.PositiveSmallIntegerField("评议期(天)", default=DEFAULT_REVIEW_DAYS)
    updated_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField()

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["path"]
        verbose_name = "议事设置"
        verbose_name_plural = "议事设置"

    def __str__(self) -> str:
        return f"{self.area} ≥{self.support_threshold}"


class Topic(models.Model):
    """A matter a resident or worker raises (居民提事)."""

    title = models.CharField("议题", max_length=100)
    description = models.TextField("详细说明")
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="topics")  # a grid or a community
    path = models.CharField(max_length=255)
    building = models.ForeignKey(
        "places.Building", null=True, blank=True, on_delete=models.SET_NULL, related_name="topics"
    )
    lon = models.FloatField(null=True, blank=True)  # WGS-84
    lat = models.FloatField(null=True, blank=True)
    place_text = models.CharField("地点", max_length=200, blank=True)
    proposer = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    proposed_by_staff = models.BooleanField(default=False)
    state = models.CharField("状态", max_length=16, choices=STATE_CHOICES, default=TopicState.proposed.value)
    support_count = models.PositiveIntegerField("附议", default=0)
    comment_count = models.PositiveIntegerField("评论", default=0)
    threshold = models.PositiveSmallIntegerField("附议门槛", default=DEFAULT_SUPPORT_THRESHOLD)
    review_until = models.DateTimeField("评议截止", null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "议题"
        verbose_name_plural = "议题"
        indexes = [
            models.Index(fields=["path"], name="topic_path_prefix", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["state", "created_at"], name="topic_state_created"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def state_label(self) -> str:
        return TopicState(self.state).label


class TopicEvent(models.Model):
    """The append-only history of a topic: services create rows, nothing updates or deletes them."""

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    actor = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    actor_label = models.CharField(max_length=150)
    role = models.CharField(max_length=16)  # resident / staff / system
    action = models.CharField(max_length=32)  # a workflow Step, or propose/support/comment/agenda/…
    from_state = models.CharField(max_length=16, blank=True)
    to_state = models.CharField(max_length=16, blank=True)
    note = models.TextField(blank=True)
    payload = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["topic", "at"], name="topic_event_timeline")]

    def __str__(self) -> str:
        return f"{self.topic_id} {self.action}"


def _photo_path(photo: TopicPhoto, filename: str) -> str:
    return f"engage/photos/{photo.sha256[:2]}/{photo.sha256}.{photo.extension}"


class TopicPhoto(models.Model):
    """A photo of a topic, checked and re-encoded without metadata by the case photo checker."""

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="photos")
    file = models.FileField(upload_to=_photo_path, max_length=200)
    sha256 = models.CharField(max_length=64)
    extension = models.CharField(max_length=8)
    content_type = models.CharField(max_length=32)
    size = models.PositiveIntegerField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"photo {self.pk} of topic {self.topic_id}"


class Support(models.Model):
    """附议: one per person and topic."""

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="supports")
    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]
        constraints = [models.UniqueConstraint(fields=["topic", "user"], name="support_once_per_person")]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.topic_id}"


class Comment(models.Model):
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    by_staff = models.BooleanField(default=False)
    body = models.TextField("评论")
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return self.body[:30]


class MeetingKind(models.TextChoices):
    PARLOUR = "parlour", "民生会客厅"
    ROUNDTABLE = "roundtable", "圆桌会议"
    FRIDAY = "friday", "周五说事日"


class Meeting(models.Model):
    """网格议事 / 会议定事: a meeting with its agenda, invitees, attendance and minutes."""

    kind = models.CharField("会议形式", max_length=16, choices=MeetingKind.choices)
    title = models.CharField("会议名称", max_length=100)
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="meetings")
    path = models.CharField(max_length=255, db_index=True)
    starts_at = models.DateTimeField("会议时间")
    place = models.CharField("会议地点", max_length=200, blank=True)
    minutes = models.TextField("会议纪要", blank=True)
    attendance_recorded_at = models.DateTimeField(null=True, blank=True)
    topics: models.ManyToManyField[Topic, AgendaItem] = models.ManyToManyField(
        Topic, through="AgendaItem", related_name="meetings"
    )
    created_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_at", "-id"]
        verbose_name = "议事会议"
        verbose_name_plural = "议事会议"

    def __str__(self) -> str:
        return self.title


class AgendaItem(models.Model):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="agenda")
    topic = models.ForeignKey(Topic, on_delete=models.PROTECT, related_name="agenda_items")
    sort = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["sort", "id"]
        constraints = [models.UniqueConstraint(fields=["meeting", "topic"], name="agenda_topic_once")]

    def __str__(self) -> str:
        return f"{self.meeting_id}: {self.topic_id}"


class Invitee(models.Model):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="invitees")
    name = models.CharField("姓名", max_length=50)
    capacity = models.CharField("身份", max_length=50, blank=True)  # 居民代表, 物业, 职能部门 …
    user = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    attended = models.BooleanField("到会", default=False)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "user"], condition=models.Q(user__isnull=False), name="invitee_user_once"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Decision(models.Model):
    """会议定事: one decision per topic, with the votes of the meeting that took it."""

    topic = models.OneToOneField(Topic, on_delete=models.PROTECT, related_name="decision")
    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, related_name="decisions")
    content = models.TextField("决定事项")
    votes_for = models.PositiveSmallIntegerField("赞成")
    votes_against = models.PositiveSmallIntegerField("反对")
    votes_abstain = models.PositiveSmallIntegerField("弃权")
    present = models.PositiveSmallIntegerField("到会人数")
    adopted = models.BooleanField("通过")
    decided_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField()

    class Meta:
        ordering = ["-decided_at", "-id"]

    def __str__(self) -> str:
        return f"{self.topic_id} {'通过' if self.adopted else '未通过'}"


class ActionKind(models.TextChoices):
    PLAIN = "plain", "一般事项"
    CASE = "case", "转办案件"
    PROJECT = "project", "志愿服务项目"


class Action(models.Model):
    """联动办事: one thing to do for a decision, with an owner, progress and a deadline."""

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="actions")
    decision = models.ForeignKey(Decision, on_delete=models.CASCADE, related_name="actions")
    path = models.CharField(max_length=255, db_index=True)
    kind = models.CharField("类型", max_length=16, choices=ActionKind.choices, default=ActionKind.PLAIN)
    title = models.CharField("事项", max_length=200)
    owner = models.CharField("责任人/单位", max_length=100)
    deadline = models.DateField("完成时限")
    progress = models.PositiveSmallIntegerField("进度(%)", default=0)
    note = models.TextField("进展", blank=True)
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    project = models.ForeignKey("volunteers.Project", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    done_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["deadline", "id"]
        verbose_name = "办理事项"
        verbose_name_plural = "办理事项"

    def __str__(self) -> str:
        return self.title


class ReviewRating(models.TextChoices):
    SATISFIED = "satisfied", "满意"
    BASIC = "basic", "基本满意"
    UNSATISFIED = "unsatisfied", "不满意"


class Review(models.Model):
    """网格评事: one review per person who supported, proposed or attended."""

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="reviews")
    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    rating = models.CharField("评价", max_length=16, choices=ReviewRating.choices)
    comment = models.TextField("意见", blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]
        constraints = [models.UniqueConstraint(fields=["topic", "user"], name="review_once_per_person")]

    def __str__(self) -> str:
        return f"{self.topic_id} {self.rating}"


# --- notices ---------------------------------------------------------------------------------


class NoticeKind(models.TextChoices):
    OUTAGE = "outage", "停水停电"
    POLICY = "policy", "政策"
    SAFETY = "safety", "安全"
    ACTIVITY = "activity", "活动"
    OTHER = "other", "其他"


class NoticeAudience(models.TextChoices):
    RESIDENTS = "residents", "全体居民"
    PARTY_MEMBERS = "party_members", "党员"
    VOLUNTEERS = "volunteers", "志愿者"
    STAFF = "staff", "工作人员"


class NoticeState(models.TextChoices):
    DRAFT = "draft", "草稿"
    PUBLISHED = "published", "已发布"
    WITHDRAWN = "withdrawn", "已撤回"


class Notice(models.Model):
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="notices")
    path = models.CharField(max_length=255)
    kind = models.CharField("类别", max_length=16, choices=NoticeKind.choices)
    audience = models.CharField("对象", max_length=16, choices=NoticeAudience.choices)
    title = models.CharField("标题", max_length=100)
    body = models.TextField("正文")
    pinned = models.BooleanField("置顶", default=False)
    expires_at = models.DateTimeField("有效期至", null=True, blank=True)
    state = models.CharField("状态", max_length=16, choices=NoticeState.choices, default=NoticeState.DRAFT)
    published_at = models.DateTimeField(null=True, blank=True)
    read_count = models.PositiveIntegerField("阅读", default=0)
    created_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-pinned", "-published_at", "-id"]
        verbose_name = "公告"
        verbose_name_plural = "公告"
        indexes = [
            models.Index(fields=["path"], name="notice_path_prefix", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["state", "published_at"], name="notice_state_published"),
        ]

    def __str__(self) -> str:
        return self.title


class NoticeRead(models.Model):
    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="reads")
    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["notice", "user"], name="notice_read_once")]

    def __str__(self) -> str:
        return f"{self.user_id} read {self.notice_id}"


from grassroots.engage.models_services import (  # noqa: E402, F401
    AdmissionItem,
    AdmissionKind,
    CentreRoom,
    CentreVisit,
    RoomBooking,
    ServiceCentre,
    ServiceGuide,
)
