"""``manage.py demo_forces``: the party tree, members, alliances and volunteers for the demo accounts (idempotent)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from grassroots.demo.forces import demo_forces, describe


class Command(BaseCommand):
    help = "为演示街道和社区生成党组织、党员、报到、联盟与志愿力量（可重复运行，不会重复生成）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = demo_forces(seed=options["seed"])
        except ValueError as error:
            raise CommandError(str(error), returncode=2) from error
        if not report.counts:
            self.stdout.write("demo forces already present: nothing added")
            return
        self.stdout.write(describe(report.counts))
