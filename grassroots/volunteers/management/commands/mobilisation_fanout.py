"""manage.py mobilisation_fanout: run (or finish) a mobilisation's fan-out in this process.

The worker normally runs it as a task; this command is the cron fallback (``--pending``: every
mobilisation not yet fanned out) and the handle of the SIGKILL drill (``--pause`` sleeps after
each committed batch so a test can kill the process between batches).
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from grassroots.core.errors import NotFound
from grassroots.volunteers.models import Mobilisation
from grassroots.volunteers.services.mobilisation import mobilisation_fanout


class Command(BaseCommand):
    help = "Fan out one mobilisation (or every pending one); safe to repeat and to run after a crash."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("mobilisation_id", nargs="?", type=int)
        parser.add_argument("--pending", action="store_true", help="every mobilisation not yet fanned out")
        parser.add_argument("--batch-size", type=int, default=None)
        parser.add_argument("--pause", type=float, default=0.0, help="seconds to sleep after each batch")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["pending"]:
            ids = list(
                Mobilisation.objects.filter(fanned_out_at__isnull=True, ended_at__isnull=True)
                .order_by("pk")
                .values_list("pk", flat=True)
            )
        elif options["mobilisation_id"] is not None:
            ids = [options["mobilisation_id"]]
        else:
            raise CommandError("give a mobilisation id or --pending", returncode=2)
        pause = float(options["pause"])

        def after_batch(n: int) -> None:
            self.stdout.write(f"batch {n} committed")
            self.stdout.flush()
            if pause:
                time.sleep(pause)

        for mobilisation_id in ids:
            try:
                report = mobilisation_fanout(
                    mobilisation_id=mobilisation_id, size=options["batch_size"], after_batch=after_batch
                )
            except NotFound:
                raise CommandError(f"no mobilisation {mobilisation_id}", returncode=2) from None
            if report.already_done:
                self.stdout.write(f"mobilisation {mobilisation_id}: already fanned out")
            else:
                self.stdout.write(
                    f"mobilisation {mobilisation_id}: {report.notified} notified in {report.batches} batches, "
                    f"{report.unreachable} unreachable, done"
                )
