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


class Separation(models.TextChoices):
    """人户分离: the registered and the actual residence differ."""

    NONE = "", "人户一致"
    LIVES_HERE_REGISTERED_ELSEWHERE = "lives_here", "人在户不在(户籍在外)"
    REGISTERED_HERE_LIVES_ELSEWHERE = "registered_here", "户在人不在(外出居住)"


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
    name = models.CharField("姓名", max_length=50, db_index=True)
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
    # Search keys for names typed in pinyin: 张三 → "zhangsan" and "zs".
    name_pinyin = models.CharField(max_length=200, blank=True, db_index=True)
    name_initials = models.CharField(max_length=50, blank=True, db_index=True)
    ethnicity = models.CharField("民族", max_length=20, blank=True)
    separation = models.CharField("人户分离", max_length=24, choices=Separation.choices, blank=True, db_index=True)
    # Where each surviving value came from: {"phone": <SourceRecord id>, ...}.
    provenance = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["path", "id"]
        constraints = [models.UniqueConstraint(fields=["id_number_hash"], name="person_id_number_unique")]
        indexes = [
            # Prefix search on PostgreSQL whatever the collation (LIKE 'zhang%').
            models.Index(fields=["name_pinyin"], name="person_pinyin_prefix", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["name_initials"], name="person_initials_prefix", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["path"], name="person_path_prefix", opclasses=["varchar_pattern_ops"]),
        ]
        verbose_name = "人员"
        verbose_name_plural = "人员"

    def __str__(self) -> str:
        return self.name


class ResidenceKind(models.TextChoices):
    REGISTERED = "registered", "户籍"
    RESIDENT = "resident", "常住(实际居住)"
    FLOATING = "floating", "流动人口"


class Residence(models.Model):
    """Where a person is registered or actually lives, over time.

    ``dwelling`` is set when the address lies in our place tree; otherwise ``address``
    keeps the text (e.g. a registered household in another province) and ``path`` is "".
    """

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="residences")
    kind = models.CharField("类型", max_length=16, choices=ResidenceKind.choices)
    dwelling = models.ForeignKey(Dwelling, null=True, blank=True, on_delete=models.PROTECT, related_name="residences")
    address = models.CharField("地址", max_length=255, blank=True)
    path = models.CharField(max_length=255, blank=True, db_index=True)
    since = models.DateField("起始", null=True, blank=True)
    until = models.DateField("截止", null=True, blank=True)
    source_record = models.ForeignKey(
        "SourceRecord", null=True, blank=True, on_delete=models.SET_NULL, related_name="residences"
    )

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["person_id", "kind", "-since"]
        verbose_name = "居住登记"
        verbose_name_plural = "居住登记"
        indexes = [models.Index(fields=["person", "kind", "until"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.address}"


class Source(models.Model):
    """A department or channel that sends people data (公安, 民政, 卫健, 网格走访…)."""

    code = models.SlugField("编码", max_length=32, unique=True)
    name = models.CharField("名称", max_length=100)
    department = models.ForeignKey(
        "accounts.Department", null=True, blank=True, on_delete=models.PROTECT, related_name="sources"
    )
    # Higher wins when sources disagree (used by linkage and survivorship).
    trust = models.PositiveSmallIntegerField("可信度", default=50)
    # The saved column mapping: {"身份证号码": "id_number", "姓名": "name", ...}.
    column_mapping = models.JSONField("列映射", default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]
        verbose_name = "数据来源"
        verbose_name_plural = "数据来源"

    def __str__(self) -> str:
        return self.name


class ImportStatus(models.TextChoices):
    UPLOADED = "uploaded", "已上传"
    QUEUED = "queued", "排队中"
    RUNNING = "running", "导入中"
    DONE = "done", "已完成"
    FAILED = "failed", "失败"


class ImportJob(models.Model):
    """One uploaded file and its import; the same file (by SHA-256) for a source is imported once."""

    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="jobs")
    created_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="import_jobs"
    )
    path = models.CharField(max_length=255, db_index=True)  # the importer's scope: rows match inside it
    file = models.FileField(upload_to="imports/%Y/%m/")
    file_name = models.CharField("文件名", max_length=255)
    file_sha256 = models.CharField(max_length=64)
    file_size = models.PositiveBigIntegerField()
    sheet_name = models.CharField(max_length=100, blank=True)
    mapping = models.JSONField(default=dict, blank=True)  # header text → field, fixed when the job starts
    status = models.CharField(max_length=16, choices=ImportStatus.choices, default=ImportStatus.UPLOADED)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)  # committed rows: where a restarted job resumes
    accepted_rows = models.PositiveIntegerField(default=0)
    rejected_rows = models.PositiveIntegerField(default=0)
    new_persons = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)  # Chinese, for the page
    task_id = models.CharField(max_length=64, blank=True)
    # Touched by the running import after each batch; a stale one means its worker died.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "导入任务"
        verbose_name_plural = "导入任务"
        constraints = [models.UniqueConstraint(fields=["source", "file_sha256"], name="import_file_once_per_source")]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_status_display()})"


class RecordStatus(models.TextChoices):
    ACCEPTED = "accepted", "已接收"  # valid ID number: the person is found or made by it
    LINKED = "linked", "已比对关联"  # no valid ID number of its own: record linkage attached it to a person
    HELD = "held", "待核实"  # only the ID number failed: waits for record linkage or a worker
    REJECTED = "rejected", "已拒收"


class SourceRecord(models.Model):
    """One imported row, kept as it came (encrypted: it holds ID numbers and phones)."""

    job = models.ForeignKey(ImportJob, on_delete=models.PROTECT, related_name="records")
    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="records")
    sheet = models.CharField(max_length=100, blank=True)
    row_number = models.PositiveIntegerField("行号")  # as the spreadsheet shows it (header = 1)
    raw_cipher = models.BinaryField()  # JSON {header: cell text}, AES-GCM
    name = models.CharField("姓名", max_length=50, blank=True)
    id_number_hash = models.CharField(max_length=64, blank=True, db_index=True)
    phone_hash = models.CharField(max_length=64, blank=True, db_index=True)
    status = models.CharField(max_length=16, choices=RecordStatus.choices)
    problems = models.JSONField(default=list, blank=True)  # [{"field": ..., "message": ...}], no personal data
    person = models.ForeignKey(Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="source_records")
    dwelling = models.ForeignKey(Dwelling, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    match_confidence = models.FloatField(null=True, blank=True)
    # The address review item this record waits on (its actual address found no dwelling).
    unplaced = models.ForeignKey(
        "AddressChoice", null=True, blank=True, on_delete=models.SET_NULL, related_name="records"
    )
    link_probability = models.FloatField(null=True, blank=True)  # set when status is LINKED
    filled = models.JSONField(default=list, blank=True)  # the key fields the row gave (names only, no values)
    path = models.CharField(max_length=255, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["job_id", "sheet", "row_number"]
        verbose_name = "来源记录"
        verbose_name_plural = "来源记录"
        constraints = [
            models.UniqueConstraint(fields=["job", "sheet", "row_number"], name="source_record_row_once_per_job")
        ]

    def __str__(self) -> str:
        return f"{self.job_id}:{self.sheet}:{self.row_number}"


class Visit(models.Model):
    """A grid worker's household visit (四进四排查)."""

    dwelling = models.ForeignKey(Dwelling, on_delete=models.PROTECT, related_name="visits")
    household = models.ForeignKey(Household, null=True, blank=True, on_delete=models.SET_NULL, related_name="visits")
    path = models.CharField(max_length=255, db_index=True)
    visited_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="visits")
    visited_at = models.DateTimeField("走访时间")
    nobody_home = models.BooleanField("无人在家", default=False)
    notes = models.TextField("走访记录", blank=True)
    findings = models.JSONField("排查发现", default=list, blank=True)  # e.g. ["safety_hazard", "dispute"]

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-visited_at"]
        verbose_name = "入户走访"
        verbose_name_plural = "入户走访"

    def __str__(self) -> str:
        return f"走访 {self.dwelling_id} {self.visited_at:%Y-%m-%d}"


class ChangeOrigin(models.TextChoices):
    IMPORT = "import", "导入"
    VISIT = "visit", "走访"
    EDIT = "edit", "编辑"
    LINK = "link", "比对合并/拆分"


class PersonChange(models.Model):
    """History of a person's facts: one row per changed field. Sensitive values are kept masked."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="changes")
    path = models.CharField(max_length=255, db_index=True)
    at = models.DateTimeField()
    actor = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    origin = models.CharField(max_length=16, choices=ChangeOrigin.choices)
    field = models.CharField(max_length=32)
    before = models.CharField(max_length=255, blank=True)
    after = models.CharField(max_length=255, blank=True)
    source_record = models.ForeignKey(SourceRecord, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    visit = models.ForeignKey(Visit, null=True, blank=True, on_delete=models.SET_NULL, related_name="changes")

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = "人员信息变更"
        verbose_name_plural = "人员信息变更"

    def __str__(self) -> str:
        return f"{self.person_id} {self.field}"


class UnitKind(models.TextChoices):
    ENTERPRISE = "enterprise", "企业"
    AGENCY = "agency", "机关事业单位"
    SHOP = "shop", "商铺/个体户"
    SOCIAL_ORG = "social_org", "社会组织"


class Unit(models.Model):
    """实有单位: an organisation located here. The contact phone is a person's, so it is sealed too."""

    name = models.CharField("名称", max_length=200)
    kind = models.CharField("类型", max_length=16, choices=UnitKind.choices)
    credit_code = models.CharField("统一社会信用代码", max_length=18, blank=True, db_index=True)
    address = models.CharField("地址", max_length=255, blank=True)
    building = models.ForeignKey(
        "places.Building", null=True, blank=True, on_delete=models.SET_NULL, related_name="units"
    )
    path = models.CharField(max_length=255, db_index=True)
    contact_name = models.CharField("联系人", max_length=50, blank=True)
    contact_phone_cipher = models.BinaryField(null=True, blank=True)
    contact_phone_hash = models.CharField(max_length=64, blank=True, db_index=True)
    contact_phone_masked = models.CharField("联系电话", max_length=11, blank=True)
    lon = models.FloatField(null=True, blank=True)
    lat = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["path", "name"]
        verbose_name = "实有单位"
        verbose_name_plural = "实有单位"

    def __str__(self) -> str:
        return self.name


class PersonAlias(models.Model):
    """Another ID number of a person, kept when two persons were merged as one (a reviewer's decision).

    The import looks numbers up here too, so a row with the merged-away number finds the person.
    """

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="aliases")
    id_number_hash = models.CharField(max_length=64, unique=True)
    id_number_masked = models.CharField("身份证号", max_length=18)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "人员曾用身份证号"
        verbose_name_plural = "人员曾用身份证号"

    def __str__(self) -> str:
        return self.id_number_masked


class LinkRunKind(models.TextChoices):
    FULL = "full", "全量比对"
    INCREMENTAL = "incremental", "导入后增量比对"


class LinkRunStatus(models.TextChoices):
    RUNNING = "running", "运行中"
    DONE = "done", "已完成"
    FAILED = "failed", "失败"


class LinkRun(models.Model):
    """One run of record linkage; a finished full run's trained model is reused by later runs."""

    kind = models.CharField(max_length=16, choices=LinkRunKind.choices)
    job = models.ForeignKey(ImportJob, null=True, blank=True, on_delete=models.SET_NULL, related_name="link_runs")
    path = models.CharField(max_length=255, db_index=True)
    status = models.CharField(max_length=16, choices=LinkRunStatus.choices, default=LinkRunStatus.RUNNING)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    stats = models.JSONField(default=dict, blank=True)  # counts and seconds; no personal data
    model = models.JSONField(default=dict, blank=True)  # the engine's trained parameters (LinkResult.model)
    error = models.TextField(blank=True)  # English, for operators

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = "比对运行"
        verbose_name_plural = "比对运行"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.started_at:%Y-%m-%d %H:%M}"


class PairReason(models.TextChoices):
    UNCERTAIN = "uncertain", "把握不足"
    NAMES_DIFFER = "names_differ", "姓名不一致"
    DIFFERENT_VALID_ID = "different_valid_id", "身份证号不同"
    WOULD_MERGE_EXISTING = "would_merge_existing", "将合并已有两人"


class PairDecision(models.TextChoices):
    PENDING = "", "待定"
    SAME = "same", "同一人"
    DIFFERENT = "different", "不是同一人"


class RecordPair(models.Model):
    """Two source records the linkage could not decide alone; a reviewer's answer is kept for good.

    ``left`` is always the smaller id, so a pair is stored once. Every run passes every decided
    pair to the engine: "same" joins the two records, "different" keeps them apart.
    """

    left = models.ForeignKey(SourceRecord, on_delete=models.CASCADE, related_name="+")
    right = models.ForeignKey(SourceRecord, on_delete=models.CASCADE, related_name="+")
    path = models.CharField(max_length=255, db_index=True)  # the left record's place: scopes the queue
    reason = models.CharField("原因", max_length=24, choices=PairReason.choices)
    probability = models.FloatField("匹配概率")
    levels = models.JSONField(default=dict, blank=True)  # comparison → level (gamma); no values
    run = models.ForeignKey(LinkRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="pairs")
    decision = models.CharField("结论", max_length=16, choices=PairDecision.choices, blank=True, db_index=True)
    decided_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField("说明", max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-probability", "id"]
        verbose_name = "待核对记录对"
        verbose_name_plural = "待核对记录对"
        constraints = [
            models.UniqueConstraint(fields=["left", "right"], name="record_pair_once"),
            models.CheckConstraint(condition=models.Q(left__lt=models.F("right")), name="record_pair_ordered"),
        ]

    def __str__(self) -> str:
        return f"{self.left_id}~{self.right_id}"


class AddressChoiceStatus(models.TextChoices):
    PENDING = "pending", "待确认"
    CHOSEN = "chosen", "已指定房屋"
    OUTSIDE = "outside", "不在辖区"


class AddressChoice(models.Model):
    """An address text the matcher could not place, and the dwelling a worker chose for it.

    Keyed by the normalised text inside an area (the importer's scope): a later import meeting
    the same text takes the remembered dwelling instead of asking again.
    """

    path = models.CharField(max_length=255, db_index=True)
    text = models.CharField("地址", max_length=255)  # normalised (normalise_address)
    status = models.CharField(
        max_length=16, choices=AddressChoiceStatus.choices, default=AddressChoiceStatus.PENDING, db_index=True
    )
    reason = models.CharField("未匹配原因", max_length=200, blank=True)
    dwelling = models.ForeignKey(Dwelling, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    seen = models.PositiveIntegerField("出现次数", default=0)
    first_job = models.ForeignKey(ImportJob, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    decided_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-seen", "id"]
        verbose_name = "待确认地址"
        verbose_name_plural = "待确认地址"
        constraints = [models.UniqueConstraint(fields=["path", "text"], name="address_choice_once_per_area")]

    def __str__(self) -> str:
        return self.text


class QualitySnapshot(models.Model):
    """The registry's data quality in one area on one day, kept to draw the trend (one row a day)."""

    area = models.ForeignKey("places.Area", on_delete=models.CASCADE, related_name="quality_snapshots")
    path = models.CharField(max_length=255, db_index=True)
    day = models.DateField()
    records = models.PositiveIntegerField(default=0)  # accepted + linked source records
    persons = models.PositiveIntegerField(default=0)
    held_records = models.PositiveIntegerField(default=0)
    dedup_rate = models.FloatField(null=True, blank=True)  # 1 − persons / records
    completeness = models.FloatField(null=True, blank=True)  # mean share of key fields a person has
    pending_pairs = models.PositiveIntegerField(default=0)
    pending_addresses = models.PositiveIntegerField(default=0)
    by_source = models.JSONField(default=dict, blank=True)  # source code → {"records": n, "completeness": x}
    by_field = models.JSONField(default=dict, blank=True)  # field → share of persons that have it

    class Meta:
        ordering = ["path", "day"]
        verbose_name = "数据质量快照"
        verbose_name_plural = "数据质量快照"
        constraints = [models.UniqueConstraint(fields=["area", "day"], name="quality_snapshot_once_a_day")]

    def __str__(self) -> str:
        return f"{self.path} {self.day}"


# Data-subject requests live in their own module; importing them here registers the model with the app.
from grassroots.registry.subject_request_models import SubjectRequest as SubjectRequest  # noqa: E402
