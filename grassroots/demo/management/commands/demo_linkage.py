"""``manage.py demo_linkage``: two departments' files about the demo community's people.

They are imported through the real pipeline and linked by the real engine, so the review queue,
the held list, the address review and the data-quality page show true work:

- 民政 (trust 70): known people with new phones, ID numbers mistyped by one digit (held, then
  linked by name, phone and address), someone else's number under another name (a wrong merge
  to review), flats that do not exist in the tree (addresses to place), and strangers with
  broken numbers (held);
- 卫健 (trust 60): exact repeats of people already known (the deduplication rate).

Idempotent: a second run finds the same files already imported and stops.
"""

from __future__ import annotations

import csv
import io
import random
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from grassroots.accounts.models import Role, User
from grassroots.audit.services import Actor
from grassroots.core import crypto
from grassroots.core.scope import Scope
from grassroots.registry.imports import services as imports
from grassroots.registry.models import ImportJob, Person, Source
from grassroots.registry.sealing import ID_CONTEXT, PHONE_CONTEXT
from grassroots.registry.services.linking import link_job

ACTOR = Actor(id=None, label="command:demo_linkage")
HEADERS = ["姓名", "身份证号码", "联系电话", "现住址"]
STRANGERS = ["欧阳晓峰", "司马娟", "诸葛明轩"]
WRONG_NAMES = ["马丽娟", "杜海涛", "龚玉兰"]


def _typo(number: str, rng: random.Random) -> str:
    """One digit of the birth date or sequence changed: the check digit betrays it."""
    at = rng.choice([11, 13, 15, 16])
    digit = str((int(number[at]) + rng.randint(1, 8)) % 10)
    return number[:at] + digit + number[at + 1 :]


def _csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADERS)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


class Command(BaseCommand):
    help = "为演示社区导入民政、卫健两份名单并自动比对（可重复运行，不会重复导入）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args: Any, **options: Any) -> None:
        rng = random.Random(options["seed"])
        worker = User.objects.filter(username__startswith="demo_", role=Role.COMMUNITY_WORKER).first()
        if worker is None or worker.area is None:
            raise CommandError("demo accounts are missing: run manage.py demo_accounts first", returncode=2)
        community = worker.area
        civil, _ = Source.objects.get_or_create(code="demo_civil", defaults={"name": "民政局（演示）", "trust": 70})
        health, _ = Source.objects.get_or_create(code="demo_health", defaults={"name": "卫健局（演示）", "trust": 60})
        if ImportJob.objects.filter(source__in=[civil, health]).exists():
            self.stdout.write("demo linkage files already imported")
            return
        people = list(
            Person.objects.filter(path__startswith=community.path + ".", phone_cipher__isnull=False)
            .select_related("dwelling__building__compound", "dwelling__entrance")
            .order_by("id")[:120]
        )
        if len(people) < 100:
            raise CommandError("the demo community has too few people: run manage.py demo_city first", returncode=2)
        rng.shuffle(people)
        number = {p.pk: crypto.decrypt(p.id_number_cipher, context=ID_CONTEXT) for p in people}
        phone = {p.pk: crypto.decrypt(p.phone_cipher, context=PHONE_CONTEXT) for p in people}

        def new_phone() -> str:
            return "139" + "".join(str(rng.randint(0, 9)) for _ in range(8))

        civil_rows: list[list[str]] = []
        civil_rows += [[p.name, number[p.pk], new_phone(), ""] for p in people[:40]]
        civil_rows += [[p.name, _typo(number[p.pk], rng), phone[p.pk], ""] for p in people[40:52]]
        civil_rows += [[n, number[p.pk], new_phone(), ""] for n, p in zip(WRONG_NAMES, people[52:55], strict=True)]
        compound = (
            people[0].dwelling.building.compound.name
            if people[0].dwelling and people[0].dwelling.building.compound
            else "阳光花园"
        )
        civil_rows += [
            [p.name, number[p.pk], phone[p.pk], f"{compound}{90 + i}幢1单元{101 + i}室"]
            for i, p in enumerate(people[55:59])
        ]
        civil_rows += [
            [n, _typo(number[p.pk], rng)[:17], new_phone(), ""] for n, p in zip(STRANGERS, people[59:62], strict=True)
        ]
        health_rows = [[p.name, number[p.pk], phone[p.pk], ""] for p in people[62:100]]

        scope = Scope(area_path=community.path)
        for source, rows, name in (
            (civil, civil_rows, "民政低保名单（演示）.csv"),
            (health, health_rows, "卫健家医签约（演示）.csv"),
        ):
            job, _ = imports.import_job_create(
                actor=ACTOR, scope=scope, source=source, data=_csv(rows), file_name=name, area=community
            )
            imports.import_job_start(actor=ACTOR, job=job, mapping=job.mapping, enqueue=False)
            job = imports.import_job_run(job_id=job.pk, actor=ACTOR)
            outcome = link_job(job=job, actor=ACTOR)
            self.stdout.write(
                f"{name}: {job.accepted_rows} accepted, {job.rejected_rows} rejected or held; "
                f"linkage {outcome.run.status}: {outcome.linked} linked, {outcome.queued} pairs to review"
            )
