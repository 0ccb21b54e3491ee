"""The first check on a file that comes in through a form or the API: its size, before reading it.

Django spools an upload larger than FILE_UPLOAD_MAX_MEMORY_SIZE to a temporary file, so its
size is known before anything is read into memory; the reverse proxy's body limit
(docs/operations.md) bounds what reaches the disk. The content checks that follow are by type:
spreadsheets go through ``grassroots.registry.imports.readers`` (magic bytes, zip-bomb and row
limits), photos through ``grassroots.cases.services.photos`` (Pillow, pixel limit).
"""

from __future__ import annotations

from typing import IO, Protocol

from django.conf import settings

from grassroots.core.errors import DomainError


class Upload(Protocol):
    name: str | None
    size: int | None

    def read(self, size: int = -1) -> bytes: ...


def upload_too_large(size: int, limit: int, *, field: str = "file") -> DomainError:
    return DomainError(
        f"文件过大：{size / 1048576:.1f} MB，最大允许 {limit / 1048576:.1f} MB。", code="upload_too_large", field=field
    )


def read_upload(upload: Upload | IO[bytes], *, limit: int | None = None, field: str = "file") -> bytes:
    """The upload's bytes, refused with a Chinese message before reading if it is over ``limit``.

    ``limit`` defaults to IMPORT_MAX_BYTES. A claimed size that lies is caught too: at most
    ``limit + 1`` bytes are ever read.
    """
    limit = int(settings.IMPORT_MAX_BYTES) if limit is None else limit
    size = getattr(upload, "size", None)
    if size is not None and size > limit:
        raise upload_too_large(size, limit, field=field)
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise upload_too_large(len(data), limit, field=field)
    return data
