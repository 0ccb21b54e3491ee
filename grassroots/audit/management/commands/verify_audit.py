from django.core.management.base import BaseCommand, CommandError, CommandParser

from grassroots.audit.retention import verify_archives
from grassroots.audit.services import verify_chain


class Command(BaseCommand):
    help = "Check the audit log's hash chain (from the latest retention checkpoint) and report the first broken link."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--archives", action="store_true", help="also check every retention archive against its checkpoint"
        )

    def handle(self, *args: object, **options: object) -> None:
        failures = []
        if options["archives"]:
            for checkpoint, check in verify_archives():
                if check.ok:
                    self.stdout.write(f"archive {checkpoint.archive_name} intact: {check.count} entries")
                else:
                    failures.append(check.reason)
        report = verify_chain()
        if report.ok and not failures:
            since = f" from #{report.start_seq} (earlier entries archived)" if report.start_seq > 1 else ""
            self.stdout.write(f"audit chain intact: {report.checked} entries checked{since}")
            return
        if not report.ok:
            failures.append(
                f"audit chain broken at entry #{report.broken_at}: {report.reason} "
                f"({report.checked} entries before it are intact)"
            )
        raise CommandError("; ".join(failures), returncode=1)
