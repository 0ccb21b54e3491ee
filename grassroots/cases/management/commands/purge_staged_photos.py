"""``manage.py purge_staged_photos``: delete photos uploaded but never attached to a case within a day."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from grassroots.cases.services.photos import photos_purge_staged


class Command(BaseCommand):
    help = "清理上传后一天内未提交的照片。 Delete staged photos older than a day (run hourly from cron)."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"purged {photos_purge_staged()}")
