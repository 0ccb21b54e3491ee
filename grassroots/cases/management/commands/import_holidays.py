"""Import one year's holiday schedule (日期, 类型 放假/上班, 名称) into the holiday table.

    manage.py import_holidays FILE --year 2027 [--incomplete]

The file replaces the year's entries and marks the year complete (unless --incomplete).
Bad input ends with exit code 2, every bad row listed, and nothing changed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from grassroots.audit.services import Actor
from grassroots.cases import services
from grassroots.core.errors import DomainError

ACTOR = Actor(id=None, label="command:import_holidays")


class Command(BaseCommand):
    help = "Import a year's official holiday schedule from an xlsx/xls/csv file (replaces that year's entries)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--year", type=int, required=True)
        parser.add_argument("--incomplete", action="store_true", help="do not mark the year as completely entered")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"file not found: {path}", returncode=2)
        try:
            result = services.calendar_import(
                actor=ACTOR,
                data=path.read_bytes(),
                file_name=path.name,
                year=options["year"],
                mark_complete=not options["incomplete"],
            )
        except services.CalendarImportError as exc:
            lines = [exc.message, *(f"  第{row}行：{problem}" for row, problem in exc.problems)]
            raise CommandError("\n".join(lines), returncode=2) from None
        except DomainError as exc:
            raise CommandError(exc.message, returncode=2) from None
        self.stdout.write(
            f"{result.year}: {result.holidays} holidays, {result.workdays} adjusted working days saved, "
            f"{result.removed} old entries removed; "
            + ("year marked complete" if not options["incomplete"] else "year not marked complete")
        )
