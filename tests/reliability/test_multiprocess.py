"""No hidden single-process state: two web processes and two task workers share one PostgreSQL and one Redis.

The production profile on this machine: two gunicorn servers (``config/gunicorn.conf.py``, one
sync worker each, on two ports), two ``db_worker`` processes, one scratch PostgreSQL database
(``grassroots_mp_<random>``, dropped at the end) and the Redis cache (db 7, a key prefix of its
own, deleted at the end). What one process did, the others must see:

- a session made by logging in on web 1 opens pages on web 2 (sessions live in the database);
- a case a resident reports through web 1 is read and accepted (a transition) on web 2, and
  web 1 then sees the new state;
- the acceptance, handled by web 2, queues the delivery task that tells the reporter: it runs
  once, on one of the two workers, and the reporter's notification is delivered exactly once;
- the data-quality figures cached by web 1 are served by web 2 from the shared cache (the data
  underneath changed in between, so a per-process cache would show the new figure); and
- five wrong passwords on web 1 lock the account on web 2 (django-axes keeps its counts in
  the database); and the per-address login rate limit, counted in the cache, refuses on web 2
  the request over the limit when most of the earlier ones went to web 1.

Skipped on SQLite (one file cannot stand for a database server shared by machines) and when
Redis is not reachable. Marked slow: about 37 s of CPU, most of it ``migrate`` of the scratch
database; 2.5-3 minutes of wall time on a 2-core machine at load average 15-20.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
DATABASE_URL = os.environ.get("DATABASE_URL", "")
ON_PG = DATABASE_URL.startswith(("postgres://", "postgresql://"))
REDIS_HOST, REDIS_PORT, REDIS_DB = "127.0.0.1", 6379, 7
PORTS = range(8270, 8290)  # this test's port range on the shared machine
PASSWORD = "Grassroots-Test-2026"  # tests.factories.PASSWORD
LOGIN_LIMIT = 10


def _redis_up() -> bool:
    try:
        with socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


pytestmark = [
    pytest.mark.slow,
    pytest.mark.database_url,
    pytest.mark.skipif(not ON_PG, reason="needs DATABASE_URL on PostgreSQL: SQLite is one file, not a shared server"),
    pytest.mark.skipif(not _redis_up(), reason=f"needs Redis on {REDIS_HOST}:{REDIS_PORT} for the shared cache"),
]

SEED = """
import json
import django
django.setup()
from django.core.management import call_command
from grassroots.core import crypto
# One process for migrate, keys and seed: each Django start costs seconds on a busy machine.
call_command("migrate", interactive=False, verbosity=0)
call_command("init_keys", verbosity=0)
crypto.keyring.cache_clear()
from grassroots.accounts.models import Role
from grassroots.audit.services import SYSTEM
from grassroots.cases import services
from grassroots.core.scope import Scope
from tests.factories import add_personas, add_resident, build_tree, centre

tree = build_tree()
add_personas(tree)
people = [add_resident(tree, seq=1, name="张伟"), add_resident(tree, seq=2, name="李娜")]
category = services.category_create(actor=SYSTEM, code="road.pothole", name="道路坑洼", kind="event")
services.assignment_save(
    actor=SYSTEM, scope=Scope.everything(), category=category, area=tree.district, departments=[tree.department]
)
lon, lat = centre(0, 0)
print(json.dumps({
    "category": category.pk, "lon": lon, "lat": lat, "person": people[0].pk, "elsewhere": tree.grid4.path,
    "resident": tree.users[Role.RESIDENT].pk,
}))
"""


@dataclass
class Cluster:
    webs: list[str]  # base URLs of the two web servers
    database_url: str
    seed: dict[str, Any]
    prefix: str  # the cache key prefix of this run


def _pg_url(database: str) -> str:
    return urlunsplit(urlsplit(DATABASE_URL)._replace(path=f"/{database}"))


def _admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(_pg_url("postgres"), autocommit=True) as conn:
        conn.execute(sql)


def _run(args: list[str], env: dict[str, str]) -> str:
    result = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180, check=False)
    assert result.returncode == 0, f"{args[1:3]}:\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}"
    return result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""


def _free_ports(n: int) -> list[int]:
    found = []
    for port in PORTS:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        found.append(port)
        if len(found) == n:
            return found
    pytest.fail(f"no {n} free ports in {PORTS}")


def _wait_healthy(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    import requests

    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{base} exited: {log.read_text()[-3000:]}")
        try:
            if requests.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    pytest.fail(f"{base} did not become healthy: {log.read_text()[-3000:]}")


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for p in processes:
        if p.poll() is None:
            p.send_signal(signal.SIGINT)  # gunicorn: quick shutdown; db_worker: after the current task
    for p in processes:
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def _drop_cache_keys(prefix: str, like: str = "*") -> int:
    import redis

    client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=REDIS_DB)
    keys = list(client.scan_iter(match=f"{prefix}:{like}"))
    if keys:
        client.delete(*keys)
    client.close()
    return len(keys)


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    database = f"grassroots_mp_{secrets.token_hex(4)}"
    prefix = f"mp{secrets.token_hex(4)}"
    database_url = _pg_url(database)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRASSROOTS_") and k != "DATABASE_URL"}
    env.update(
        GRASSROOTS_VAR_DIR=str(tmp_path),
        GRASSROOTS_ENV="development",  # plain HTTP on loopback: production insists on HTTPS cookies
        GRASSROOTS_DEBUG="0",
        GRASSROOTS_CACHE_URL=f"redis://{REDIS_HOST}:{REDIS_PORT}/{REDIS_DB}",
        GRASSROOTS_CACHE_KEY_PREFIX=prefix,
        GRASSROOTS_LOG_LEVEL="WARNING",
        # Login POSTs per client address, counted in the cache: a day-long window so the count
        # cannot be reset by a window boundary during the test (see step 6).
        GRASSROOTS_RATE_LIMIT_LOGIN=f"{LOGIN_LIMIT}/86400",
        DATABASE_URL=database_url,
        DJANGO_SETTINGS_MODULE="config.settings",
        PYTHONPATH=str(ROOT),
    )
    _admin(f'CREATE DATABASE "{database}"')
    processes: list[subprocess.Popen[bytes]] = []
    try:
        started = time.monotonic()
        seed = json.loads(_run([sys.executable, "-c", SEED], env))
        print(f"scratch database migrated and seeded in {time.monotonic() - started:.1f} s")
        gunicorn = str(Path(sys.executable).parent / "gunicorn")
        webs = []
        for i, port in enumerate(_free_ports(2), start=1):
            log = tmp_path / f"web{i}.log"
            command = [gunicorn, "-c", "config/gunicorn.conf.py", "--bind", f"127.0.0.1:{port}", "--workers", "1"]
            processes.append(
                subprocess.Popen(command, cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
            )
            webs.append((f"http://127.0.0.1:{port}", processes[-1], log))
        for i in (1, 2):
            log = tmp_path / f"worker{i}.log"
            command = [sys.executable, "manage.py", "db_worker", "--no-reload", "--no-startup-delay"]
            command += ["--interval", "0.2", "--worker-id", f"mpw{i}"]
            processes.append(
                subprocess.Popen(command, cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
            )
        for base, process, log in webs:
            _wait_healthy(base, process, log)
        yield Cluster([w[0] for w in webs], database_url, seed, prefix)
        for p in processes:
            assert p.poll() is None, f"a process died during the test (exit {p.returncode})"
    finally:
        _stop(processes)
        _drop_cache_keys(prefix)
        _admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def _login(base: str, username: str, password: str = PASSWORD) -> tuple[Any, int]:
    """A client that went through the login form on ``base``, and the status of its POST."""
    import requests

    session = requests.Session()
    session.get(f"{base}/accounts/login/", timeout=30)
    form = {"username": username, "password": password, "csrfmiddlewaretoken": session.cookies["csrftoken"]}
    answer = session.post(f"{base}/accounts/login/", data=form, allow_redirects=False, timeout=30)
    return session, answer.status_code


def _moved(session: Any) -> Any:
    """A fresh client carrying only the cookies of ``session``: the browser that switches servers."""
    import requests

    other = requests.Session()
    for name in ("sessionid", "csrftoken"):
        other.cookies.set(name, session.cookies[name])
    other.headers["X-CSRFToken"] = session.cookies["csrftoken"]
    return other


def _persons_card(html: str) -> int:
    match = re.search(r"实有人口</div><div class=\"q-value\">([\d,]+)<", html)
    assert match, html[:2000]
    return int(match.group(1).replace(",", ""))


def test_two_webs_two_workers_share_everything(cluster: Cluster) -> None:
    import psycopg
    import requests

    web1, web2 = cluster.webs
    seed = cluster.seed

    # 1. A session made on web 1 works on web 2.
    worker_on_1, status = _login(web1, "in_community_worker")
    assert status == 302 and "sessionid" in worker_on_1.cookies, "login on web 1 failed"
    worker_on_2 = _moved(worker_on_1)
    assert worker_on_2.get(f"{web2}/api/v1/cases/", timeout=30).status_code == 200
    forged = requests.get(f"{web2}/api/v1/cases/", cookies={"sessionid": "forged"}, timeout=30)
    assert forged.status_code == 401  # the 200 above is the session's doing

    # 2. Reported through web 1, read and moved on web 2, the new state seen back on web 1.
    resident, status = _login(web1, "in_resident")
    assert status == 302
    resident.headers["X-CSRFToken"] = resident.cookies["csrftoken"]
    body = {
        "category_id": seed["category"],
        "description": "路面坑洼，车辆绕行",
        "lon": seed["lon"],
        "lat": seed["lat"],
    }
    reported = resident.post(f"{web1}/api/v1/cases/", json=body, timeout=30)
    assert reported.status_code == 201, reported.text
    case_id = reported.json()["case"]["id"]
    detail = worker_on_2.get(f"{web2}/api/v1/cases/{case_id}", timeout=30)
    assert detail.status_code == 200 and detail.json()["state"] == "submitted"
    assert "accept" in {a["action"] for a in detail.json()["allowed_actions"]}
    accepted = worker_on_2.post(
        f"{web2}/api/v1/cases/{case_id}/actions",
        json={"action": "accept", "expected_version": detail.json()["version"]},
        timeout=30,
    )
    assert accepted.status_code == 200, accepted.text
    assert resident.get(f"{web1}/api/v1/cases/{case_id}", timeout=30).json()["state"] == "accepted"

    # 3. The delivery queued by web 2 runs once, on one worker; the reporter is told once.
    with psycopg.connect(cluster.database_url, autocommit=True) as db:
        deadline = time.monotonic() + 60  # the workers may still be starting on a busy machine
        while time.monotonic() < deadline:
            note = db.execute(
                "SELECT id, status FROM notify_notification WHERE user_id = %s AND kind = 'case.reporter.accept'",
                [seed["resident"]],
            ).fetchall()
            if note and note[0][1] == "sent":
                break
            time.sleep(0.2)
        assert len(note) == 1 and note[0][1] == "sent", note
        deliveries = db.execute("SELECT outcome FROM notify_delivery WHERE notification_id = %s", [note[0][0]])
        assert [d[0] for d in deliveries.fetchall()] == ["sent"]
        tasks = db.execute(
            "SELECT status, worker_ids FROM django_tasks_database_dbtaskresult WHERE task_path LIKE %s",
            ["%deliver_notifications"],
        ).fetchall()
        assert len(tasks) == 1, tasks  # one acceptance, one task
        status, workers = tasks[0]
        assert status == "SUCCESSFUL" and workers in (["mpw1"], ["mpw2"]), tasks

        # 4. The quality figures cached by web 1 are what web 2 serves, though the data moved since.
        assert _persons_card(worker_on_1.get(f"{web1}/registry/quality/", timeout=30).text) == 2
        db.execute("UPDATE registry_person SET path = %s WHERE id = %s", [seed["elsewhere"], seed["person"]])
        assert _persons_card(worker_on_2.get(f"{web2}/registry/quality/", timeout=30).text) == 2
        # The entry is in Redis under this run's prefix; without it web 2 computes the new figure.
        assert _drop_cache_keys(cluster.prefix, "*registry.quality:*") == 1
        assert _persons_card(worker_on_2.get(f"{web2}/registry/quality/", timeout=30).text) == 1

    # 5. Five wrong passwords on web 1 lock the account on web 2.
    assert _login(web2, "in_grid_worker")[1] == 302  # the control: the right password works on web 2
    for _ in range(5):
        assert _login(web1, "in_party_secretary", "wrong-password")[1] in (200, 429)
    locked, status = _login(web2, "in_party_secretary")
    assert status == 429 and "sessionid" not in locked.cookies, status

    # 6. The login rate limit counts in the shared cache: 9 login POSTs so far, 7 of them on web 1.
    # The 10th (on web 2) passes, the 11th is refused; counted per process, web 2 had seen only 3.
    assert _login(web2, "in_grid_worker")[1] == 302
    refused, status = _login(web2, "in_grid_worker")
    assert status == 429 and "sessionid" not in refused.cookies, status
