"""``manage.py backup``: an encrypted archive of the database and the uploaded files.

The archive is sealed with the backup key (GRASSROOTS_BACKUP_KEY or GRASSROOTS_BACKUP_KEY_FILE,
or ``--key-file``), never with the personal-data keys; see grassroots/core/backup.py for the
format and docs/operations.md ("Backup and restore") for keys, schedule and rehearsal.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from grassroots.core import backup


class Command(BaseCommand):
    help = "数据备份（加密）。 Write an encrypted archive of the database and MEDIA_ROOT."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", help="archive path (default: BACKUP_DIR/grassroots-<UTC time>.grbk)")
        parser.add_argument("--key-file", help="backup key file (default: GRASSROOTS_BACKUP_KEY[_FILE])")
        parser.add_argument("--no-media", action="store_true", help="the database only")
        parser.add_argument("--work-dir", help="where the database copy is staged (default: beside the archive)")
        parser.add_argument(
            "--generate-key", metavar="FILE", help="write a new backup key to FILE (must not exist) and stop"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["generate_key"]:
                print_ = backup.generate_key_file(Path(options["generate_key"]))
                self.stdout.write(
                    f"backup key written to {options['generate_key']} (fingerprint {print_}); keep a copy away "
                    "from this server: archives cannot be opened without it"
                )
                return
            key = backup.load_key(options["key_file"])
            output = Path(options["output"]) if options["output"] else self._default_output()
            result = backup.backup(
                output,
                key=key,
                media=not options["no_media"],
                work_dir=Path(options["work_dir"]) if options["work_dir"] else None,
                log=lambda line: self.stderr.write(line),
            )
        except FileExistsError:
            raise CommandError(f"{options['generate_key']} exists already; refused", returncode=2) from None
        except backup.BackupError as exc:
            raise CommandError(str(exc), returncode=2) from exc
        self.stdout.write(
            f"backup written: {result.path} ({result.size:,} bytes, key {result.key_fingerprint}); "
            f"{result.tables} tables, {result.rows:,} rows, {result.media_files} files "
            f"({result.media_bytes:,} bytes), {result.seconds:.1f} s"
        )

    def _default_output(self) -> Path:
        folder = Path(getattr(settings, "BACKUP_DIR", Path(settings.MEDIA_ROOT).parent / "backups"))
        return folder / f"grassroots-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}.grbk"
