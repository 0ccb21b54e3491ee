"""``manage.py demo_cases``: duty lists and cases at every stage for the demo accounts (idempotent)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from grassroots.cases import services
from grassroots.demo.cases import demo_cases


class Command(BaseCommand):
    help = "为演示社区生成事项责任和各环节的案件（可重复运行，不会重复生成）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--count", type=int, default=300)
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = demo_cases(count=options["count"], seed=options["seed"])
        except ValueError as error:
            raise CommandError(str(error), returncode=2) from error
        swept = services.sla_sweep()
        self.stdout.write(
            f"duty assignments {report.assignments}, cases {report.cases}, "
            f"reminded {swept.reminded}, overdue {swept.overdue}"
        )
