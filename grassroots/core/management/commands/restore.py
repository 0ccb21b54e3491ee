"""``manage.py restore ARCHIVE``: verify an encrypted archive whole, then restore it.

Nothing is touched until the archive has been decrypted and every part authenticated and every
checksum matched. A database that holds data, or a non-empty MEDIA_ROOT, is replaced only with
``--force`` (the old media folder is kept aside). Stop the web and task processes first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from grassroots.core import backup


class Command(BaseCommand):
    help = "从加密备份恢复。 Restore the database and MEDIA_ROOT from an encrypted archive."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("archive", help="the .grbk file written by manage.py backup")
        parser.add_argument("--key-file", help="backup key file (default: GRASSROOTS_BACKUP_KEY[_FILE])")
        parser.add_argument("--force", action="store_true", help="replace a database that holds data")
        parser.add_argument("--verify-only", action="store_true", help="check the archive, restore nothing")
        parser.add_argument("--work-dir", help="where the archive is unpacked (default: beside MEDIA_ROOT)")

    def handle(self, *args: Any, **options: Any) -> None:
        archive = Path(options["archive"])
        work_dir = Path(options["work_dir"]) if options["work_dir"] else None
        try:
            key = backup.load_key(options["key_file"])
            if options["verify_only"]:
                manifest = backup.verify(archive, key=key, work_dir=work_dir)
                rows = sum(manifest["tables"].values())
                self.stdout.write(
                    f"archive OK: made {manifest['created_at']} on {manifest['engine']}, "
                    f"{len(manifest['tables'])} tables, {rows:,} rows, {len(manifest['files'])} files"
                )
                return
            result = backup.restore(
                archive, key=key, force=options["force"], work_dir=work_dir, log=lambda line: self.stderr.write(line)
            )
        except backup.BackupError as exc:
            raise CommandError(str(exc), returncode=2) from exc
        for table, count in sorted(result.counts.items()):
            if count:
                self.stdout.write(f"{table:<48} {count:>12,}")
        self.stdout.write(
            f"restored the backup of {result.created_at}: {len(result.counts)} tables, "
            f"{sum(result.counts.values()):,} rows, {result.media_files} files"
        )
        if result.media_moved_to:
            self.stdout.write(f"the previous media folder is kept at {result.media_moved_to}")
        if result.migrations_ahead:
            self.stdout.write(
                f"this code has {len(result.migrations_ahead)} migrations the archive lacks: run `manage.py migrate`"
            )
