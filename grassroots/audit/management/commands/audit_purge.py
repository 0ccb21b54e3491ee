from django.core.management.base import BaseCommand, CommandError, CommandParser

from grassroots.audit.retention import PurgeError, RetentionConfigError, audit_purge, retention_days


class Command(BaseCommand):
    help = (
        "Archive the audit log's entries past their retention (access 180 days, processing and export "
        "3 years by default; GRASSROOTS_AUDIT_RETENTION_DAYS) to VAR_DIR/audit-archive/, then delete them."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="report what would be archived; change nothing")
        parser.add_argument("--limit", type=int, default=200_000, help="at most this many entries per run")

    def handle(self, *args: object, **options: object) -> None:
        try:
            days = retention_days()
            report = audit_purge(dry_run=bool(options["dry_run"]), limit=int(options["limit"]))  # type: ignore[call-overload]
        except (RetentionConfigError, PurgeError) as exc:
            raise CommandError(str(exc)) from exc
        plan = report.plan
        kept = ", ".join(f"{k.value} {v} days" for k, v in days.items())
        classes = ", ".join(f"{k} {n}" for k, n in sorted(plan.by_class.items())) or "none"
        if not plan.count:
            where = f"; entry #{plan.stopped_at} is still within retention" if plan.stopped_at else ""
            self.stdout.write(f"nothing to purge (retention: {kept}){where}")
            return
        if report.dry_run:
            self.stdout.write(
                f"would archive and delete entries #{plan.first_seq}-#{plan.last_seq} ({plan.count}: {classes}); "
                f"retention: {kept}"
            )
            return
        self.stdout.write(
            f"archived and deleted entries #{plan.first_seq}-#{plan.last_seq} ({plan.count}: {classes}) "
            f"to {report.archive} (sha256 {report.sha256})"
        )
