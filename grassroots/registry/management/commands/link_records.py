"""``manage.py link_records``: run record linkage over the registry's source records.

Imports queue an incremental run on their own; this command is for the rest:

- ``--job N``: link one import job again (after a failed run);
- ``--held``: try every held record again (e.g. nightly, after the day's imports);
- ``--full [--train]``: every record of the area in one run; ``--train`` re-estimates the model
  by EM on the real registry and keeps it for all later runs (instead of the shipped one).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from grassroots.audit.services import Actor
from grassroots.core.scope import Scope
from grassroots.places.models import Area
from grassroots.registry.models import ImportJob, LinkRunStatus
from grassroots.registry.services import linking

ACTOR = Actor(id=None, label="command:link_records")


class Command(BaseCommand):
    help = "人员记录比对（增量、待核实重试或全量）。 Run record linkage over source records."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--area", default="", help="area path, e.g. 320583.001; default: everywhere")
        what = parser.add_mutually_exclusive_group(required=True)
        what.add_argument("--job", type=int, help="link one import job")
        what.add_argument("--held", action="store_true", help="try every held record again")
        what.add_argument("--full", action="store_true", help="link every record in one run")
        parser.add_argument("--train", action="store_true", help="with --full: re-estimate the model by EM and keep it")

    def handle(self, *args: Any, **options: Any) -> None:
        path = options["area"]
        if path and not Area.objects.filter(path=path).exists():
            raise CommandError(f"no area with path {path!r}")
        scope = Scope(area_path=path)
        if options["train"] and not options["full"]:
            raise CommandError("--train goes with --full")
        if options["job"]:
            job = ImportJob.objects.filter(pk=options["job"]).first()
            if job is None:
                raise CommandError(f"no import job {options['job']}")
            outcome = linking.link_job(job=job, actor=ACTOR)
        elif options["held"]:
            outcome = linking.link_held(scope=scope, actor=ACTOR)
        else:
            outcome = linking.link_full(scope=scope, actor=ACTOR, train=options["train"])
        run = outcome.run
        if run.status != LinkRunStatus.DONE:
            raise CommandError(f"link run {run.pk} failed: {run.error}")
        stats = run.stats or {"records": 0}
        self.stdout.write(
            f"run {run.pk}: {stats.get('records', 0)} records, {stats.get('pairs_scored', 0)} pairs scored, "
            f"{outcome.linked} held records linked, {outcome.queued} pairs queued for review, "
            f"{stats.get('seconds', 0)} s"
        )
