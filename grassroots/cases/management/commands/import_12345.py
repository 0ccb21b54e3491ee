"""Import 12345 hotline work orders from an xlsx/xls/csv export as cases.

    manage.py import_12345 FILE --area PATH [--coord gcj02|wgs84] [--dry-run]

Each row becomes a case on the hotline channel, keyed by its order number: running the same
file twice adds nothing. Rows outside ``--area`` or that cannot be located are refused and
listed; the good rows are imported regardless. Prints the counts created / existing / refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from grassroots.audit.services import Actor
from grassroots.cases.services import hotline
from grassroots.core.errors import DomainError
from grassroots.core.scope import Scope
from grassroots.places.models import Area

ACTOR = Actor(id=None, label="command:import_12345")


class Command(BaseCommand):
    help = "Import 12345 hotline work orders (one case per order number, idempotent) from a spreadsheet."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--area", required=True, help="area path the orders must fall in, e.g. 3205.320583.001")
        parser.add_argument("--coord", choices=hotline.COORDS, default="gcj02", help="datum of 经度/纬度 columns")
        parser.add_argument("--dry-run", action="store_true", help="check every row and write nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"file not found: {path}", returncode=2)
        area = Area.objects.filter(path=options["area"]).first()
        if area is None:
            raise CommandError(f"unknown area path: {options['area']}", returncode=2)
        scope = Scope(area_path=area.path)
        try:
            rows = hotline.read_hotline_rows(path.read_bytes(), path.name)
            if options["dry_run"]:
                preview = hotline.hotline_import_check(scope=scope, rows=rows, coord=options["coord"])
                refused = [(r.row, r.order, "；".join(r.problems)) for r in preview.refused]
                counts = {"created": len(preview.ready), "existing": len(preview.existing), "refused": len(refused)}
            else:
                result = hotline.hotline_import_apply(
                    actor=ACTOR, user=None, scope=scope, rows=rows, file_name=path.name, coord=options["coord"]
                )
                refused, counts = result.refused, result.counts
        except DomainError as exc:
            raise CommandError(exc.message, returncode=2) from None
        for row, order, reason in refused:
            self.stderr.write(f"  第{row}行{f'（{order}）' if order else ''}：{reason}")
        verb = "would create" if options["dry_run"] else "created"
        self.stdout.write(
            f"{verb} {counts['created']}, existing {counts['existing']}, refused {counts['refused']} "
            f"from {path.name}（新增 {counts['created']} 条，已存在 {counts['existing']} 条，"
            f"未导入 {counts['refused']} 条）"
        )
