"""Topic photos: checked and stripped of metadata by the cases app's photo cleaner, stored here."""

from __future__ import annotations

from typing import IO, Any

from django.core.files.base import ContentFile

from grassroots.cases.services.photos import photo_clean
from grassroots.core import clock
from grassroots.engage.models import Topic, TopicPhoto


def topic_photo_add(
    *, actor: Any, topic: Topic, upload: IO[bytes], name: str = "", size: int | None = None
) -> TopicPhoto:
    """Check one image and attach a clean copy to ``topic``; call inside the proposal's transaction."""
    image = photo_clean(upload=upload, name=name, size=size)
    photo = TopicPhoto(
        topic=topic,
        sha256=image.sha256,
        extension=image.extension,
        content_type=image.content_type,
        size=len(image.body),
        width=image.width,
        height=image.height,
        uploaded_by=actor if getattr(actor, "is_authenticated", False) else None,
        created_at=clock.now(),
    )
    photo.file.save(f"{image.sha256}.{image.extension}", ContentFile(image.body), save=False)
    photo.save()
    return photo
