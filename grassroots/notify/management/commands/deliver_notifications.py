"""``manage.py deliver_notifications``: one sweep of the outbox.

Run it from cron (every minute) so retries go out when they fall due: the task queued on
commit sends new rows at once, but nothing else wakes up for a retry scheduled later.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from grassroots.notify import services


class Command(BaseCommand):
    help = "发送到期的通知（一轮）。 Sends due notifications once; run it from cron for retries."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--limit", type=int, default=None, help="at most this many rows (default NOTIFY_BATCH_SIZE)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        report = services.deliver_due(limit=options["limit"])
        self.stdout.write(
            f"claimed {report.claimed}, sent {report.sent}, retrying {report.retrying}, "
            f"dead {report.dead}, lost {report.lost_claims}"
        )
