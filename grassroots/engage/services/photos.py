"""Topic photos: the case photo checker cleans them, then they move to the engage app's own table.

``grassroots.cases.services.photos.photo_upload`` checks the bytes, strips every piece of
metadata and writes a staged ``CasePhoto``; we copy the clean file under ``engage/photos/`` and
drop the staged row (and its file when nothing else uses it), so the case purge never touches
a topic's photo.
"""

from __future__ import annotations

from typing import IO, Any

from django.core.files.base import ContentFile

from grassroots.cases.models import CasePhoto
from grassroots.cases.services.photos import photo_upload
from grassroots.core import clock
from grassroots.engage.models import Topic, TopicPhoto


def topic_photo_add(
    *, actor: Any, topic: Topic, upload: IO[bytes], name: str = "", size: int | None = None
) -> TopicPhoto:
    """Check one image and attach a clean copy to ``topic``; call inside the proposal's transaction."""
    staged = photo_upload(actor=actor, upload=upload, name=name, size=size)
    with staged.file.open("rb") as handle:
        body = handle.read()
    photo = TopicPhoto(
        topic=topic,
        sha256=staged.sha256,
        extension=staged.extension,
        content_type=staged.content_type,
        size=staged.size,
        width=staged.width,
        height=staged.height,
        uploaded_by=staged.uploaded_by,
        created_at=clock.now(),
    )
    photo.file.save(f"{staged.sha256}.{staged.extension}", ContentFile(body), save=False)
    photo.save()
    file_name = staged.file.name
    staged.delete()
    if not CasePhoto.objects.filter(file=file_name).exists():
        staged.file.storage.delete(file_name)
    return photo
