"""``manage.py close_reviews``: close every deliberation topic whose review period has ended (idempotent)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from grassroots.engage.services import topics_close_due


class Command(BaseCommand):
    help = "关闭评议期已满的议题（可重复运行）。 Close topics whose review period has ended; run hourly from cron."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"closed {topics_close_due()}")
