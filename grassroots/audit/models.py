from django.db import models


class AuditEntry(models.Model):
    """One line of the append-only, hash-chained audit log.

    ``hash`` = SHA-256 over ``prev_hash`` and the canonical form of this row, so
    editing or removing any row breaks every link after it. The database refuses
    UPDATE and DELETE on this table (triggers in migration 0002).
    """

    seq = models.BigIntegerField(unique=True)
    at = models.DateTimeField(db_index=True)
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_label = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=80, db_index=True)
    object_type = models.CharField(max_length=80, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    area_path = models.CharField(max_length=255, blank=True)
    ip = models.CharField(max_length=45, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["seq"]
        verbose_name = "审计记录"
        verbose_name_plural = "审计记录"
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_type}:{self.object_id}"


class AuditCheckpoint(models.Model):
    """A retention purge: the log's prefix up to ``last_seq`` was archived and then deleted.

    Append-only like the log (triggers in migration 0004). The database accepts a checkpoint
    only if it continues the previous one and ``last_hash`` is the hash of the live row
    ``last_seq``; it allows DELETE of log rows only at or below the latest ``last_seq``.
    Chain verification starts from ``last_hash``; the archive file proves the part before it.
    """

    created_at = models.DateTimeField()
    first_seq = models.BigIntegerField()
    last_seq = models.BigIntegerField(unique=True)
    count = models.BigIntegerField()
    first_prev_hash = models.CharField(max_length=64)  # links the archive to the previous checkpoint
    last_hash = models.CharField(max_length=64)
    archive_name = models.CharField(max_length=255)  # a file name under VAR_DIR/audit-archive/
    archive_sha256 = models.CharField(max_length=64)
    retention_days = models.JSONField(default=dict)  # the settings the purge ran with, by class

    class Meta:
        ordering = ["last_seq"]
        verbose_name = "审计归档检查点"
        verbose_name_plural = "审计归档检查点"

    def __str__(self) -> str:
        return f"#{self.first_seq}–#{self.last_seq} → {self.archive_name}"
