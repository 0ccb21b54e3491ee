"""``manage.py registry_quality_snapshot [--day YYYY-MM-DD]``: store the day's data-quality snapshot.

Run it from cron once a day (late in the evening, so the day's imports are in it); running it
again the same day rewrites that day's rows.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from grassroots.audit.services import Actor
from grassroots.core import clock
from grassroots.registry.quality.selectors import quality_warm
from grassroots.registry.quality.services import quality_snapshot


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"日期格式应为 YYYY-MM-DD：{value}", returncode=2) from None


class Command(BaseCommand):
    help = "保存当天的人口数据质量快照（去重率、完整度），供趋势图使用。 Store the registry's quality snapshot."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--day", help="the day to store (YYYY-MM-DD); default today (Asia/Shanghai)")
        parser.add_argument(
            "--no-warm", action="store_true", help="do not compute the district and city pages' figures ahead"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        day = _day(options["day"]) if options.get("day") else clock.today()
        areas = quality_snapshot(day=day, actor=Actor(id=None, label="command:registry_quality_snapshot"))
        self.stdout.write(f"quality snapshot {day.isoformat()}: {areas} areas")
        if not options["no_warm"]:
            # With a shared cache (GRASSROOTS_CACHE_URL) the web processes then serve these at once.
            warmed = quality_warm()
            self.stdout.write(f"figures kept for {len(warmed)} district and city pages")
