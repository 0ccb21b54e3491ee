"""Benchmark one-tap mobilisation at 50,000 recipients: fan-out, SMS delivery, acknowledgements.

    .venv/bin/python benchmarks/mobilisation.py [--recipients 50000] [--acks 10000]
        [--backends sqlite postgres] [--quick]

For each backend, against an empty database (SQLite in a temporary directory; PostgreSQL in a
scratch database ``bench_mob`` on ``BENCH_PG_URL``, dropped afterwards):

1. seed: the test place tree and ``--recipients`` volunteers (persons with sealed phones,
   written with ``bulk_create``); not timed as part of the figures.
2. fan-out: ``mobilisation_start`` then ``mobilisation_fanout`` (batches of 1,000): time to write
   every ``Recipient`` row and enqueue every outbox row (one ``notify()`` per recipient).
   The task backend is django-tasks' dummy backend here, so the per-``notify`` on-commit
   enqueue of the delivery task costs nothing (see the report for that overhead).
3. delivery: a fake SMS gateway (``http.server`` in a thread on 127.0.0.1, answering 200) is
   the SMS channel's URL (``GRASSROOTS_NOTIFY_SMS_URL``); ``deliver_due`` sweeps (500 rows each)
   until the outbox is empty: messages/s, every SMS one HTTP POST.
4. acknowledgements: ``recipient_answer(token=…, answer="acknowledge")`` called directly (the
   service the link page calls: token lookup by SHA-256, row lock, update, audit row) for
   ``--acks`` recipients: acknowledgements/s.

``--quick``: 2,000 recipients, 500 acknowledgements.
The child process is this same file run as ``mobilisation.py _child``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
PG_DATABASE = "bench_mob"


def _pg(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG_ADMIN_URL}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def _env(var: Path, database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRASSROOTS_") and k != "DATABASE_URL"}
    env.update(
        GRASSROOTS_VAR_DIR=str(var),
        GRASSROOTS_ENV="development",
        DATABASE_URL=database_url,
        DJANGO_SETTINGS_MODULE="config.settings",
        PYTHONPATH=str(ROOT),
        GRASSROOTS_TASK_BACKEND="django_tasks.backends.dummy.DummyBackend",
        GRASSROOTS_LOG_LEVEL="WARNING",
    )
    return env


def _run(args: list[str], env: dict[str, str]) -> str:
    result = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"{args[1:3]} failed:\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}")
    return result.stdout


def run_one(backend: str, recipients: int, acks: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-mob-") as tmp:
        var = Path(tmp)
        if backend == "sqlite":
            url = f"sqlite:///{var / 'bench.sqlite3'}"
        else:
            _pg(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)')
            _pg(f'CREATE DATABASE "{PG_DATABASE}"')
            url = f"{PG_ADMIN_URL}/{PG_DATABASE}"
        env = _env(var, url)
        try:
            _run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], env)
            _run([sys.executable, "manage.py", "init_keys"], env)
            out = _run([sys.executable, __file__, "_child", str(recipients), str(acks)], env)
            report: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
        finally:
            if backend == "postgres":
                _pg(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)')
    report["backend"] = backend
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipients", type=int, default=50_000)
    parser.add_argument("--acks", type=int, default=10_000)
    parser.add_argument("--backends", nargs="+", choices=["sqlite", "postgres"], default=["sqlite", "postgres"])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.recipients, args.acks = 2_000, 500
    results = []
    for backend in args.backends:
        print(f"{backend}: seeding {args.recipients:,} volunteers …", flush=True)
        results.append(run_one(backend, args.recipients, args.acks))
    print()
    print(f"recipients: {args.recipients:,} volunteers (+ the tree's staff); acknowledgements timed: {args.acks:,}")
    head = f"{'backend':<10}{'recipients':>11}{'fan-out s':>11}{'recip./s':>10}{'SMS sent':>10}{'deliver s':>11}"
    print(head + f"{'msg/s':>8}{'acks':>7}{'ack s':>8}{'acks/s':>8}")
    for r in results:
        print(
            f"{r['backend']:<10}{r['recipients']:>11,}{r['fanout_s']:>11.1f}{r['recipients'] / r['fanout_s']:>10.0f}"
            f"{r['sent']:>10,}{r['deliver_s']:>11.1f}{r['sent'] / r['deliver_s']:>8.0f}"
            f"{r['acks']:>7,}{r['ack_s']:>8.1f}{r['acks'] / r['ack_s']:>8.0f}"
        )


# --- child side -----------------------------------------------------------------------------


def child(recipients: int, acks: int) -> None:
    import threading
    from datetime import date, timedelta
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Gateway(BaseHTTPRequestHandler):
        received = 0

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            Gateway.received += 1
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Gateway)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    os.environ["GRASSROOTS_NOTIFY_SMS_URL"] = f"http://127.0.0.1:{server.server_address[1]}/sms"

    import django

    django.setup()
    from django.conf import settings
    from django.utils import timezone

    settings.NOTIFY_SMS_URL = os.environ["GRASSROOTS_NOTIFY_SMS_URL"]
    import logging

    logging.disable(logging.INFO)

    from grassroots.accounts.models import Role
    from grassroots.core.ids import make_id_number
    from grassroots.notify.models import Notification, Status
    from grassroots.notify.services import deliver_due
    from grassroots.registry.models import Person
    from grassroots.registry.sealing import seal_id_number, seal_phone
    from grassroots.volunteers.models import Audience, MobilisationMode, Recipient, Volunteer
    from grassroots.volunteers.selectors.mobilisation import roster_candidates
    from grassroots.volunteers.services import mobilisation as svc
    from tests.factories import add_personas, build_tree

    tree = build_tree()
    add_personas(tree)
    dwellings = list(tree.building1.dwellings.order_by("id")) + list(tree.building3.dwellings.order_by("id"))
    chunk: list[Person] = []
    for i in range(recipients):
        number = make_id_number("320583", date(1940, 1, 1) + timedelta(days=i % 29000), i // 29000 + 1, "MF"[i % 2])
        sid, phone = seal_id_number(number), seal_phone(f"139{i:08d}")
        d = dwellings[i % len(dwellings)]
        chunk.append(
            Person(
                name=f"志愿者{i}",
                sex="MF"[i % 2],
                birth_date=date(1980, 1, 1),
                id_number_cipher=sid.cipher,
                id_number_hash=sid.hash,
                id_number_masked=sid.masked,
                phone_cipher=phone.cipher,
                phone_hash=phone.hash,
                phone_masked=phone.masked,
                dwelling=d,
                path=d.path,
            )
        )
        if len(chunk) == 5000:
            Person.objects.bulk_create(chunk)
            chunk = []
    Person.objects.bulk_create(chunk)
    today = timezone.now().date()
    Volunteer.objects.bulk_create(
        [
            Volunteer(person_id=pk, registered_on=today, path=path)
            for pk, path in Person.objects.values_list("pk", "path")
        ],
        batch_size=5000,
    )

    started = time.perf_counter()
    mob = svc.mobilisation_start(
        actor=tree.users[Role.SUBDISTRICT_DISPATCHER],
        area=tree.yushan,
        mode=MobilisationMode.DRILL,
        audiences=[Audience.VOLUNTEERS, Audience.GRID_WORKERS, Audience.COMMUNITY_WORKERS],
        title="防汛演练",
        message="请到社区党群服务中心集合",
        assembly_point="党群服务中心",
        fan_out=False,
    )
    report = svc.mobilisation_fanout(mobilisation_id=mob.pk, size=1000)
    fanout_s = time.perf_counter() - started
    count = Recipient.objects.filter(mobilisation=mob).count()
    outbox = Notification.objects.filter(kind=svc.NOTIFY_KIND).count()
    assert count == outbox == report.notified, (count, outbox, report.notified)

    started = time.perf_counter()
    sent = 0
    while True:
        sweep = deliver_due(limit=500)
        sent += sweep.sent
        if not sweep.claimed:
            break
    deliver_s = time.perf_counter() - started
    sms_sent = Notification.objects.filter(kind=svc.NOTIFY_KIND, channel="sms", status=Status.SENT).count()
    assert Gateway.received >= sms_sent

    candidates = [c for c in roster_candidates(mob) if c.reachable][:acks]
    tokens = [svc.link_token(mob.pk, c.key) for c in candidates]
    started = time.perf_counter()
    for token in tokens:
        svc.recipient_answer(token=token, answer="acknowledge")
    ack_s = time.perf_counter() - started
    server.shutdown()
    print(
        json.dumps(
            {
                "recipients": count,
                "fanout_s": fanout_s,
                "sent": sms_sent,
                "deliver_s": deliver_s,
                "acks": len(tokens),
                "ack_s": ack_s,
            }
        )
    )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_child":
        sys.path.insert(0, str(ROOT))
        child(int(sys.argv[2]), int(sys.argv[3]))
    else:
        main()
