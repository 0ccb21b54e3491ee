"""Import a duty list (事项清单) from an xlsx/xls/csv file, all rows or none.

    manage.py import_duty_list FILE [--dry-run]

Columns: 大类, 小类, 事项编码, 事项名称, 责任部门, 适用区域, 哨类, 报到时限, 办结时限.
Bad input ends with exit code 2, every bad row listed, and nothing changed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from grassroots.audit.services import Actor
from grassroots.cases import services
from grassroots.core.errors import DomainError
from grassroots.core.scope import Scope

ACTOR = Actor(id=None, label="command:import_duty_list")


class Command(BaseCommand):
    help = "Import duty-list assignments (category → departments per area) from a spreadsheet."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--dry-run", action="store_true", help="check every row and write nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"file not found: {path}", returncode=2)
        scope = Scope.everything()
        try:
            rows = services.read_duty_rows(path.read_bytes(), path.name)
            if options["dry_run"]:
                preview = services.duty_import_check(scope=scope, rows=rows)
                if preview.problems:
                    raise services.DutyImportError(f"有 {len(preview.problems)} 处问题。", preview.problems)
            else:
                preview = services.duty_import_apply(actor=ACTOR, scope=scope, rows=rows, file_name=path.name)
        except services.DutyImportError as exc:
            lines = [exc.message, *(f"  第{row}行：{problem}" for row, problem in exc.problems)]
            raise CommandError("\n".join(lines), returncode=2) from None
        except DomainError as exc:
            raise CommandError(exc.message, returncode=2) from None
        verb = "would import" if options["dry_run"] else "imported"
        self.stdout.write(f"{verb} {len(preview.rows)} duty assignments from {path.name}")
