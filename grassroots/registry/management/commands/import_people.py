"""Import a department's people file from the command line, inline, with progress lines.

    manage.py import_people FILE --source CODE [--area PATH] [--sheet NAME] [--create-source NAME]

Bad input ends with exit code 2 and writes nothing. Running the same file again resumes an
interrupted import (after a crash or kill) or reports that it is already done.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from grassroots.audit.services import Actor
from grassroots.core.errors import DomainError
from grassroots.core.scope import Scope
from grassroots.places.models import Area
from grassroots.registry.imports import services
from grassroots.registry.imports.mapping import clean_mapping, suggest_mapping
from grassroots.registry.models import ImportJob, ImportStatus, Source

ACTOR = Actor(id=None, label="command:import_people")


class Command(BaseCommand):
    help = "Import people from an xlsx/xls/csv file into the registry (resumable)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--source", required=True, help="Source code, e.g. police")
        parser.add_argument("--area", default="", help="area path the rows belong to (default: the whole tree)")
        parser.add_argument("--sheet", default="", help="sheet name (default: the first sheet)")
        parser.add_argument("--create-source", default="", metavar="NAME", help="create the source with this name")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"file not found: {path}", returncode=2)
        area = None
        if options["area"]:
            area = Area.objects.filter(path=options["area"]).first()
            if area is None:
                raise CommandError(f"no area with path {options['area']!r}", returncode=2)
        source = Source.objects.filter(code=options["source"]).first()
        if source is None and not options["create_source"]:
            raise CommandError(
                f"no source with code {options['source']!r}; pass --create-source NAME to create it", returncode=2
            )
        data = path.read_bytes()
        try:
            job = self._job(data, path.name, source, options, area)
            if job.status == ImportStatus.DONE:
                self.stdout.write(f"already imported as job {job.pk}: {job.total_rows} rows, nothing to do")
                return
            runner = f"cli:{socket.gethostname()}:{os.getpid()}"
            job = services.import_job_run(job_id=job.pk, actor=ACTOR, runner=runner, on_batch=self._progress)
        except DomainError as exc:
            raise CommandError(exc.message, returncode=2) from None
        if job.status != ImportStatus.DONE:
            raise CommandError(f"job {job.pk} failed: {job.error}", returncode=1)
        self.stdout.write(
            f"job {job.pk} done: {job.total_rows} rows, {job.accepted_rows} accepted, "
            f"{job.rejected_rows} rejected, {job.new_persons} new persons"
        )

    def _job(self, data: bytes, name: str, source: Source | None, options: dict[str, Any], area: Any) -> ImportJob:
        # One transaction: a refused file leaves neither a job nor a newly created source.
        with transaction.atomic():
            if source is None:
                source = Source.objects.create(code=options["source"], name=options["create_source"])
            job, created = services.import_job_create(
                actor=ACTOR,
                scope=Scope.everything(),
                source=source,
                data=data,
                file_name=name,
                area=area,
                sheet=options["sheet"],
                whole_tree=area is None,
            )
            if created or job.status == ImportStatus.UPLOADED:
                preview = services.import_job_preview(job=job, limit=0)
                mapping = suggest_mapping(preview.table.headers, source.column_mapping)
                _, errors = clean_mapping(preview.table.headers, mapping)
                if errors:
                    raise DomainError(" ".join(errors) + f" 表头为：{'、'.join(preview.table.headers)}")
                job = services.import_job_start(actor=ACTOR, job=job, mapping=mapping, enqueue=False)
        self.stdout.write(f"job {job.pk}: {job.file_name}, {job.total_rows} rows, status {job.status}")
        return job

    def _progress(self, job: ImportJob) -> None:
        self.stdout.write(
            f"  {job.processed_rows}/{job.total_rows} rows ({job.accepted_rows} accepted, {job.rejected_rows} rejected)"
        )
