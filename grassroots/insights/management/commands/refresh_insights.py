"""``manage.py refresh_insights [--full]``: bring the dashboards' rollups up to date.

Run it from cron every few minutes (incremental) and ``--full`` once a night.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from grassroots.audit.services import Actor
from grassroots.insights.services.rollups import rollups_refresh


class Command(BaseCommand):
    help = "刷新研判汇总表（默认增量；--full 全量重建）。 Refresh the insight rollups."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--full", action="store_true", help="rebuild every rollup from scratch")

    def handle(self, *args: Any, **options: Any) -> None:
        result = rollups_refresh(actor=Actor(id=None, label="command:refresh_insights"), full=options["full"])
        months = ", ".join(m.strftime("%Y-%m") for m in result.months[-6:])
        self.stdout.write(
            f"cases: {result.case_rows} grid-month rows over {len(result.months)} months ({months}); "
            f"registry: {result.grids} grids; {result.seconds:.2f} s"
        )
