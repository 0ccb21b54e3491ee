"""The child of the linkage drill: ``python -m tests.reliability.linkage_drill seed|run|check``.

``seed`` imports two files through the real import pipeline: the police's (valid ID numbers, one
person each) and the civil affairs office's, whose ID numbers are mistyped (held rows): most are
the police's people (same name, phone, address), some are nobody known.
``run PHASE`` runs ``manage.py link_records --held`` and stops it at a known point for the kill:
``engine`` before the engine starts (the run row is committed, nothing else), ``commit`` inside
the run's transaction after every write and before the commit. It prints the phase's name, then
waits for the kill. ``check`` prints what the drill asserts on, as JSON.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db.models import Count  # noqa: E402

from grassroots.audit.models import AuditEntry  # noqa: E402
from grassroots.registry.models import LinkRun, Person, RecordPair, RecordStatus, SourceRecord  # noqa: E402

PEOPLE = 120
HELD_KNOWN = 40
HELD_STRANGERS = 10


def _typo(number: str) -> str:
    digit = "3" if number[15] != "3" else "4"
    return number[:15] + digit + number[16:]


def seed() -> None:
    from datetime import date

    from tests.factories import build_tree
    from tests.registry.imports.helpers import csv_bytes, import_file, person_id, source

    tree = build_tree()
    police, civil = source("police", 90, "公安"), source("civil", 70, "民政")
    names = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂"

    def row(i: int, number: str) -> list[str]:
        name = "张王李赵刘陈杨黄"[i % 8] + names[i % len(names)] + names[(i // len(names)) % len(names)]
        address = f"阳光花园1幢{1 + i % 2}单元{1 + i % 6}0{1 + i % 2}室"
        return [name, number, f"1381234{i:04d}", "男", address, "", "常住", ""]

    people = [row(i, person_id(i + 1, born=date(1960 + i % 40, 1 + i % 12, 1 + i % 28))) for i in range(PEOPLE)]
    import_file(csv_bytes(people), "police.csv", police, tree.yushan)
    held = [[*r[:1], _typo(r[1]), *r[2:]] for r in people[:HELD_KNOWN]]
    for k in range(HELD_STRANGERS):
        number = person_id(500 + k, "F", date(2001, 2, 3 + k))
        held.append([f"欧阳{names[k]}{names[-k - 1]}", _typo(number), f"1399999{k:04d}", "女", "", "", "", ""])
    import_file(csv_bytes(held), "civil.csv", civil, tree.yushan)
    print(SourceRecord.objects.filter(status=RecordStatus.HELD).count())


def _stop(phase: str) -> None:
    print(phase, flush=True)
    time.sleep(120)  # the drill kills us here
    raise SystemExit(f"{phase}: not killed")


def run(phase: str) -> None:
    from grassroots.registry.linkage import pipeline
    from grassroots.registry.services import linking

    if phase == "engine":
        real_link = pipeline.link

        def link(*args: Any, **kwargs: Any) -> Any:
            _stop(phase)
            return real_link(*args, **kwargs)

        pipeline.link = link  # type: ignore[assignment]
    elif phase == "commit":

        def audit_record(**kwargs: Any) -> None:  # the run's last write inside its transaction
            if kwargs.get("action") == "registry.linkage.run":
                _stop(phase)

        linking.audit_record = audit_record  # type: ignore[assignment]
    call_command("link_records", "--held")


def check() -> None:
    records = SourceRecord.objects.all()
    pairs = RecordPair.objects.values_list("left_id", "right_id")
    persons = Person.objects.annotate(
        accepted=Count("source_records", filter=django.db.models.Q(source_records__status=RecordStatus.ACCEPTED)),
        records=Count("source_records"),
    )
    mismatched = [
        r.pk
        for r in records.filter(status=RecordStatus.LINKED).select_related("person")
        if r.person is None or r.person.name != r.name
    ]
    print(
        json.dumps(
            {
                "runs": sorted((run.status, run.finished_at is not None) for run in LinkRun.objects.all()),
                "held": records.filter(status=RecordStatus.HELD).count(),
                "held_with_person": records.filter(status=RecordStatus.HELD, person__isnull=False).count(),
                "linked": records.filter(status=RecordStatus.LINKED).count(),
                "linked_to_someone_else": len(mismatched),
                "accepted": records.filter(status=RecordStatus.ACCEPTED).count(),
                "records": records.count(),
                "rows_twice": records.values("job_id", "row_number").annotate(n=Count("id")).filter(n__gt=1).count(),
                "pairs": len(list(pairs)),
                "distinct_pairs": len(set(pairs)),
                "persons": persons.count(),
                "persons_without_own_row": persons.filter(accepted=0).count(),
                "person_records": sum(p.records for p in persons),
                "run_audits": AuditEntry.objects.filter(action="registry.linkage.run").count(),
            }
        )
    )


if __name__ == "__main__":
    what = sys.argv[1]
    if what == "seed":
        seed()
    elif what == "run":
        run(sys.argv[2])
    else:
        check()
