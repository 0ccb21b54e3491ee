"""Photos of a case: checked by content, re-encoded without metadata, stored by content hash.

A phone photo carries EXIF with the GPS position of the reporter's home and the phone's make;
we decode the pixels, apply the EXIF orientation and write a fresh file with no metadata at
all, so nothing the phone wrote survives. Uploading and attaching are two steps: an API
client uploads first and names the photo ids in the case step; a page does both in one request.
"""

from __future__ import annotations

import hashlib
import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import IO, Any

from django.core.files.base import ContentFile
from django.db import transaction
from PIL import Image, ImageOps, UnidentifiedImageError

from grassroots.cases.models import Case, CaseEvent, CasePhoto, PhotoStage
from grassroots.cases.workflow import MAX_PHOTOS
from grassroots.core import clock
from grassroots.core.errors import DomainError

logger = logging.getLogger(__name__)

MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 50_000_000  # a 10 MB file may decompress to far more; refuse decompression bombs
MAX_EDGE = 4096  # longer edges are scaled down: enough to read a plate, small enough to store a city's cases
STAGED_TTL = timedelta(days=1)
# What Pillow identifies from the bytes → what we store (never the sender's claimed type or name).
_FORMATS = {"JPEG": ("jpg", "image/jpeg"), "PNG": ("png", "image/png"), "WEBP": ("webp", "image/webp")}
_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"RIFF")


def _refuse(message: str, name: str) -> DomainError:
    return DomainError(f"照片“{name}”{message}", code="photo_invalid", field="photos")


@dataclass(frozen=True)
class CleanImage:
    """An image re-encoded without any metadata, and what we know of it."""

    body: bytes
    sha256: str
    extension: str
    content_type: str
    width: int
    height: int
    label: str  # the sender's file name, shortened, for messages only


def photo_clean(*, upload: IO[bytes], name: str = "", size: int | None = None) -> CleanImage:
    """Check one uploaded image by its content and re-encode it without metadata (nothing stored)."""
    label = (name or "未命名")[:60]
    if size is None:
        upload.seek(0, io.SEEK_END)
        size = upload.tell()
    if size > MAX_PHOTO_BYTES:
        raise _refuse(f"超过 {MAX_PHOTO_BYTES // (1024 * 1024)} MB，请压缩后再上传。", label)
    upload.seek(0)
    data = upload.read(MAX_PHOTO_BYTES + 1)
    if len(data) > MAX_PHOTO_BYTES:
        raise _refuse(f"超过 {MAX_PHOTO_BYTES // (1024 * 1024)} MB，请压缩后再上传。", label)
    if not data.startswith(_MAGIC) or (data.startswith(b"RIFF") and data[8:12] != b"WEBP"):
        raise _refuse("不是 JPEG、PNG 或 WebP 图片。", label)
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format not in _FORMATS:
                raise _refuse("不是 JPEG、PNG 或 WebP 图片。", label)
            if probe.width * probe.height > MAX_PIXELS:
                raise _refuse("像素过多，无法处理。", label)
            probe.verify()  # structure check; the image must be reopened after verify()
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            fmt = image.format or "JPEG"
            clean = ImageOps.exif_transpose(image)  # keep the picture upright once EXIF is gone
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        logger.info("photo refused: %s (%s)", label, error)
        raise _refuse("已损坏或无法识别。", label) from error
    clean.thumbnail((MAX_EDGE, MAX_EDGE))
    extension, content_type = _FORMATS[fmt]
    out = io.BytesIO()
    if fmt == "JPEG":
        clean.convert("RGB").save(out, "JPEG", quality=85, optimize=True)  # no exif= argument: nothing carried over
    elif fmt == "PNG":
        clean.save(out, "PNG", optimize=True)
    else:
        clean.save(out, "WEBP", quality=85)
    body = out.getvalue()
    return CleanImage(body, hashlib.sha256(body).hexdigest(), extension, content_type, clean.width, clean.height, label)


def photo_upload(*, actor: Any, upload: IO[bytes], name: str = "", size: int | None = None) -> CasePhoto:
    """Check one uploaded image and store a clean copy, not yet attached to a case."""
    image = photo_clean(upload=upload, name=name, size=size)
    photo = CasePhoto(
        sha256=image.sha256,
        extension=image.extension,
        content_type=image.content_type,
        size=len(image.body),
        width=image.width,
        height=image.height,
        original_name=image.label,
        uploaded_by=actor if getattr(actor, "is_authenticated", False) else None,
        created_at=clock.now(),
    )
    # The file first: a crash after it leaves an orphan file for the purge, never a row without its file.
    photo.file.save(f"{image.sha256}.{image.extension}", ContentFile(image.body), save=False)
    photo.save()
    return photo


def photos_attach(
    *, actor: Any, case: Case, stage: PhotoStage, photo_ids: Sequence[int | str], event: CaseEvent | None = None
) -> list[CasePhoto]:
    """Attach staged photos the actor uploaded to ``case``; call inside the step's transaction."""
    if not photo_ids:
        return []
    try:
        ids = sorted({int(p) for p in photo_ids})
    except (TypeError, ValueError):
        raise DomainError("照片编号无效。", code="photo_invalid", field="photos") from None
    existing = CasePhoto.objects.filter(case=case, stage=stage).count()
    if existing + len(ids) > MAX_PHOTOS:
        raise DomainError(f"每个环节最多上传 {MAX_PHOTOS} 张照片。", code="too_many_photos", field="photos")
    uploader = actor.pk if getattr(actor, "is_authenticated", False) else None
    rows = list(CasePhoto.objects.select_for_update().filter(pk__in=ids, case__isnull=True, uploaded_by_id=uploader))
    if len(rows) != len(ids):
        raise DomainError("照片不存在、已被使用，或不是您上传的。", code="photo_invalid", field="photos")
    CasePhoto.objects.filter(pk__in=ids).update(case=case, stage=stage, event=event)
    for row in rows:
        row.case, row.stage, row.event = case, stage, event
    return rows


def photos_purge_staged(*, now: datetime | None = None) -> int:
    """Delete photos uploaded but never attached within a day (an abandoned form), files included."""
    now = now or clock.now()
    stale = list(CasePhoto.objects.filter(case__isnull=True, created_at__lt=now - STAGED_TTL))
    for photo in stale:
        with transaction.atomic():
            CasePhoto.objects.filter(pk=photo.pk, case__isnull=True).delete()
        # Content-addressed: another row may hold the same bytes.
        if not CasePhoto.objects.filter(file=photo.file.name).exists():
            photo.file.storage.delete(photo.file.name)
    return len(stale)
