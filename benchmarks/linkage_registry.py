"""Benchmark record linkage inside the registry: one department's file, imported, then linked.

    .venv/bin/python benchmarks/linkage_registry.py [--households 20000] [--rows 5000] [--seed 7]

In a temporary directory (SQLite; the PostgreSQL path is the same code):

1. ``demo_city`` builds a city of ``--households`` households and its people (no source records:
   the first run makes baseline records for the persons it meets).
2. A 民政 file of ``--rows`` rows about those people: 70 % known people with a new phone, 15 % with
   the ID number mistyped by one digit (held, to be linked), 5 % someone else's number under
   another name (to review), 10 % new people.
3. The file goes through the import service, then ``link_job``: the figures are the import's and
   the linkage run's wall time, the records the run compared (the file plus its neighbours),
   candidate pairs scored, held rows linked, pairs queued, and the process's peak RSS.
A second file of the same shape then shows the cost once baselines exist.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEADERS = ["姓名", "身份证号码", "联系电话", "现住址"]
OTHER_NAMES = ["马丽娟", "杜海涛", "龚玉兰", "欧阳峰", "司马娟", "诸葛亮"]


def _typo(number: str, rng: random.Random) -> str:
    at = rng.choice([11, 13, 15, 16])
    return number[:at] + str((int(number[at]) + rng.randint(1, 8)) % 10) + number[at + 1 :]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--households", type=int, default=20000)
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-linkage-registry-"))
    os.environ["DATABASE_URL"] = f"sqlite:///{tmp / 'db.sqlite3'}"
    os.environ["GRASSROOTS_VAR_DIR"] = str(tmp)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    from grassroots.audit.services import Actor
    from grassroots.core import crypto
    from grassroots.core.ids import make_id_number
    from grassroots.core.scope import Scope
    from grassroots.places.models import Area, AreaLevel
    from grassroots.registry.imports import services as imports
    from grassroots.registry.models import Person, Source
    from grassroots.registry.sealing import ID_CONTEXT
    from grassroots.registry.services.linking import dwelling_text, link_job

    call_command("migrate", verbosity=0)
    call_command("init_keys", verbosity=0)
    started = time.perf_counter()
    call_command("demo_city", households=args.households, seed=args.seed, replace=True, verbosity=0)
    print(f"city: {Person.objects.count():,} persons in {time.perf_counter() - started:.0f} s")

    rng = random.Random(args.seed)
    actor = Actor(id=None, label="benchmark")
    subdistrict = Area.objects.filter(level=AreaLevel.SUBDISTRICT).order_by("path").first()
    assert subdistrict is not None
    people = list(
        Person.objects.filter(path__startswith=subdistrict.path + ".")
        .select_related("dwelling__building__compound", "dwelling__entrance")
        .order_by("?")[: args.rows * 2]
    )
    source = Source.objects.create(code="bench_civil", name="民政局", trust=70)

    def phone() -> str:
        return "139" + "".join(str(rng.randint(0, 9)) for _ in range(8))

    for round_ in (1, 2):
        chosen = people[(round_ - 1) * args.rows : round_ * args.rows]
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(HEADERS)
        for i, person in enumerate(chosen):
            number = crypto.decrypt(person.id_number_cipher, context=ID_CONTEXT)
            share = i / len(chosen)
            if share < 0.70:
                writer.writerow([person.name, number, phone(), dwelling_text(person)])
            elif share < 0.85:
                writer.writerow([person.name, _typo(number, rng), phone(), dwelling_text(person)])
            elif share < 0.90:
                writer.writerow([rng.choice(OTHER_NAMES), number, phone(), ""])
            else:
                fresh = make_id_number("320583", person.birth_date, 900 + i % 99, person.sex)
                writer.writerow(["新" + person.name[-2:], fresh, phone(), dwelling_text(person)])
        data = out.getvalue().encode("utf-8")
        t0 = time.perf_counter()
        job, _ = imports.import_job_create(
            actor=actor,
            scope=Scope(area_path=subdistrict.path),
            source=source,
            data=data,
            file_name=f"civil-{round_}.csv",
        )
        imports.import_job_start(actor=actor, job=job, mapping=job.mapping, enqueue=False)
        job = imports.import_job_run(job_id=job.pk, actor=actor)
        t1 = time.perf_counter()
        outcome = link_job(job=job, actor=actor)
        t2 = time.perf_counter()
        stats = outcome.run.stats
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"file {round_}: {args.rows:,} rows; import {t1 - t0:.1f} s ({job.accepted_rows:,} accepted, "
            f"{job.rejected_rows:,} rejected or held); linkage {outcome.run.status} {t2 - t1:.1f} s "
            f"(engine {stats.get('seconds')} s): {stats.get('records', 0):,} records compared, "
            f"{stats.get('pairs_scored', 0):,} pairs scored, {outcome.linked:,} held rows linked, "
            f"{outcome.queued:,} pairs queued; peak RSS {peak:,.0f} MiB"
        )


if __name__ == "__main__":
    main()
