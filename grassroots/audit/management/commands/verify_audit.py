from django.core.management.base import BaseCommand, CommandError

from grassroots.audit.services import verify_chain


class Command(BaseCommand):
    help = "Check the audit log's hash chain and report the first broken link."

    def handle(self, *args: object, **options: object) -> None:
        report = verify_chain()
        if report.ok:
            self.stdout.write(f"audit chain intact: {report.checked} entries checked")
            return
        raise CommandError(
            f"audit chain broken at entry #{report.broken_at}: {report.reason} "
            f"({report.checked} entries before it are intact)",
            returncode=1,
        )
