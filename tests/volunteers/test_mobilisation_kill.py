"""The SIGKILL drill: kill the fan-out between batches, start it again, nobody is called twice.

The fan-out runs as ``manage.py mobilisation_fanout`` in a child process against its own database
(a temporary SQLite file; and a scratch PostgreSQL database when DATABASE_URL is PostgreSQL),
seeded with a few thousand volunteers. ``--pause`` holds the child after each committed batch so
the kill lands between batches with some committed; a second run finishes the job. Every
recipient must then have exactly one Recipient row and exactly one outbox row, and the
mobilisation must be marked fanned out.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.database_url]

ROOT = Path(__file__).resolve().parents[2]
DATABASE_URL = os.environ.get("DATABASE_URL", "")
ON_PG = DATABASE_URL.startswith(("postgres://", "postgresql://"))
PEOPLE = 1500
BATCH = 100

SEED = """
import sys
import django
django.setup()
from datetime import date, timedelta
from django.utils import timezone
from grassroots.accounts.models import Role
from grassroots.core.ids import make_id_number
from grassroots.registry.models import Person
from grassroots.registry.sealing import seal_id_number, seal_phone
from grassroots.volunteers.models import Audience, BuildingRole, Volunteer
from grassroots.volunteers.services.mobilisation import mobilisation_start
from tests.factories import add_personas, build_tree

n = int(sys.argv[1])
tree = build_tree()
add_personas(tree)
dwellings = list(tree.building1.dwellings.order_by("id"))
people = []
for i in range(n):
    number = make_id_number("320583", date(1950, 1, 1) + timedelta(days=i), i % 999 + 1, "MF"[i % 2])
    sid, phone = seal_id_number(number), seal_phone(f"139{i:08d}")
    d = dwellings[i % len(dwellings)]
    people.append(Person(
        name=f"志愿者{i}", sex="M", birth_date=date(1980, 1, 1), id_number_cipher=sid.cipher,
        id_number_hash=sid.hash, id_number_masked=sid.masked, phone_cipher=phone.cipher,
        phone_hash=phone.hash, phone_masked=phone.masked, dwelling=d, path=d.path,
    ))
Person.objects.bulk_create(people, batch_size=500)
today = timezone.now().date()
Volunteer.objects.bulk_create(
    [Volunteer(person=p, registered_on=today, path=p.path) for p in Person.objects.order_by("id")], batch_size=500
)
mob = mobilisation_start(
    actor=tree.users[Role.COMMUNITY_WORKER], area=tree.chengbei, mode="drill",
    audiences=[Audience.VOLUNTEERS, Audience.GRID_WORKERS, Audience.COMMUNITY_WORKERS],
    title="演练", message="请集合", fan_out=False,
)
print(mob.pk)
"""

CHECK = """
import json, sys
import django
django.setup()
from django.db.models import Count
from grassroots.notify.models import Notification
from grassroots.volunteers.models import Mobilisation, Recipient
mob = Mobilisation.objects.get(pk=int(sys.argv[1]))
recipients = list(Recipient.objects.filter(mobilisation=mob).values_list("pk", "person_id", "notified_at"))
notes = list(Notification.objects.filter(kind="volunteers.mobilisation").values_list("idempotency_key", flat=True))
per = {}
for key in notes:
    rid = int(key.split("|")[0].split(":r")[1])
    per[rid] = per.get(rid, 0) + 1
print(json.dumps({
    "recipients": len(recipients),
    "distinct_people": len({p for _, p, _ in recipients if p}),
    "unnotified": sum(1 for r in recipients if r[2] is None),
    "notes": len(notes),
    "per_recipient": sorted(set(per.get(r[0], 0) for r in recipients)),
    "orphans": len(set(per) - {r[0] for r in recipients}),
    "fanned_out": mob.fanned_out_at is not None,
}))
"""


def _env(tmp_path: Path, database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRASSROOTS_") and k != "DATABASE_URL"}
    env.update(
        GRASSROOTS_VAR_DIR=str(tmp_path),
        GRASSROOTS_ENV="development",
        DATABASE_URL=database_url,
        DJANGO_SETTINGS_MODULE="config.settings",
        PYTHONPATH=str(ROOT),
    )
    return env


def _run(args: list[str], env: dict[str, str]) -> str:
    result = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, f"{args[1:3]}:\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}"
    return result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""


def _drill(env: dict[str, str]) -> None:
    _run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], env)
    _run([sys.executable, "manage.py", "init_keys"], env)
    mob_id = _run([sys.executable, "-c", SEED, str(PEOPLE)], env)
    command = [sys.executable, "manage.py", "mobilisation_fanout", mob_id, "--batch-size", str(BATCH)]
    child = subprocess.Popen(
        [*command, "--pause", "0.3"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    committed = 0
    deadline = time.monotonic() + 120
    assert child.stdout is not None
    while committed < 3 and time.monotonic() < deadline:
        line = child.stdout.readline()
        if not line:
            break
        if line.startswith("batch "):
            committed = int(line.split()[1])
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert committed == 3, "the fan-out did not commit three batches before the kill"
    half = json.loads(_run([sys.executable, "-c", CHECK, mob_id], env))
    assert not half["fanned_out"]
    assert BATCH * 3 <= half["notes"] < PEOPLE, half
    out = _run([*command], env)
    assert out.endswith("done"), out
    final = json.loads(_run([sys.executable, "-c", CHECK, mob_id], env))
    expected = PEOPLE + 3  # the volunteers, two grid-worker users of 城北 and its community worker
    assert final == {
        "recipients": expected,
        "distinct_people": PEOPLE,
        "unnotified": 0,
        "notes": expected,
        "per_recipient": [1],
        "orphans": 0,
        "fanned_out": True,
    }, final
    again = _run([*command], env)
    assert "already fanned out" in again
    assert json.loads(_run([sys.executable, "-c", CHECK, mob_id], env)) == final
    _run([sys.executable, "manage.py", "verify_audit"], env)


def test_sigkill_mid_fanout_sqlite(tmp_path):
    _drill(_env(tmp_path, f"sqlite:///{tmp_path / 'drill.sqlite3'}"))


def _pg_url(database: str) -> str:
    return urlunsplit(urlsplit(DATABASE_URL)._replace(path=f"/{database}"))


@pytest.mark.skipif(not ON_PG, reason="needs DATABASE_URL on PostgreSQL")
def test_sigkill_mid_fanout_postgres(tmp_path):
    import psycopg

    database = f"grassroots_mobkill_{secrets.token_hex(4)}"
    with psycopg.connect(_pg_url("postgres"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{database}"')
    try:
        _drill(_env(tmp_path, _pg_url(database)))
    finally:
        with psycopg.connect(_pg_url("postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
