"""A real race on PostgreSQL: two officers act on the same case version at the same instant.

pytest-django runs each test inside a transaction no other connection can see, so this test
makes its own scratch database (``grassroots_race_<random>``, dropped at the end), migrates and
seeds it in subprocesses, then one subprocess runs two threads, each with its own Django
connection, released together by a barrier to call ``case_act`` with the same
``expected_version``. A third connection holds the case row until both threads have read the
same version and wait in the guarded ``UPDATE``, so every round is a real collision at the
write, not a loser that merely read late. Exactly one must win: the other gets ``Conflict``,
the version goes up by one and the timeline gains one event. The second test runs the same
race over HTTP: two officers' API tokens POST ``/api/v1/cases/{id}/actions`` to two gunicorn
workers (one 200, one 409). Skipped on SQLite.
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
DATABASE_URL = os.environ.get("DATABASE_URL", "")
ROUNDS = 5

pytestmark = [
    pytest.mark.skipif(
        not DATABASE_URL.startswith(("postgres://", "postgresql://")), reason="needs DATABASE_URL on PostgreSQL"
    ),
    pytest.mark.database_url,
]

SEED = """
import json, sys
import django
django.setup()
from grassroots.accounts.models import Role
from grassroots.audit.services import SYSTEM
from grassroots.cases import selectors, services
from grassroots.cases.workflow import Action, Command, Role as WRole
from grassroots.core.scope import Scope
from tests.factories import add_personas, build_tree, centre

tree = build_tree()
add_personas(tree)
category = services.category_create(actor=SYSTEM, code="road.pothole", name="道路坑洼", kind="event")
services.assignment_save(
    actor=SYSTEM, scope=Scope.everything(), category=category, area=tree.district, departments=[tree.department]
)
lon, lat = centre(0, 0)
worker = tree.users[Role.COMMUNITY_WORKER]
both = (tree.department.pk, tree.other_department.pk)
ids = []
for i in range(int(sys.argv[1])):
    case = services.case_submit(
        actor=tree.users[Role.RESIDENT], scope=Scope.everything(), channel="resident_h5", category=category,
        description=f"race {i}", lon=lon + i * 0.001, lat=lat,
    ).case
    case = services.case_act(
        actor=worker, role=WRole.community, case_id=case.pk, expected_version=case.version,
        command=Command(Action.whistle, WRole.community, departments=both),
    )
    ids.append(case.pk)
from grassroots.accounts.services import api_token_create
officers = [tree.users[Role.DEPARTMENT_OFFICER], tree.outsiders[Role.DEPARTMENT_OFFICER]]
print(json.dumps({
    "cases": ids,
    "officers": [o.pk for o in officers],
    "tokens": [api_token_create(actor=SYSTEM, user=o, name="race", days=1)[1] for o in officers],
}))
"""

RACE = """
import json, linecache, sys, threading, time, traceback
import django
django.setup()
from django.db import connection, transaction
from grassroots.accounts.models import User
from grassroots.cases.models import Case, CaseEvent
from grassroots.cases.services import Conflict, case_act
from grassroots.cases.workflow import Action, Command, Role

seed = json.loads(sys.argv[1])
seed["cases"] = seed["cases"][: int(sys.argv[2])]
officers = list(User.objects.filter(pk__in=seed["officers"]).select_related("department", "area"))
rounds = []
for case_id in seed["cases"]:
    before = Case.objects.get(pk=case_id)
    events_before = CaseEvent.objects.filter(case_id=case_id).count()
    barrier = threading.Barrier(len(officers))
    outcomes = []
    where = []
    pids = []

    def run(officer):
        try:
            User.objects.get(pk=officer.pk)  # open this thread's own connection before the start line
            pids.append(connection.connection.info.backend_pid)
            barrier.wait()
            case_act(
                actor=officer, role=Role.department, case_id=case_id, expected_version=before.version,
                command=Command(Action.acknowledge, Role.department),
            )
            outcomes.append("ok")
        except Conflict as error:
            outcomes.append("conflict")
            # Which guard caught it: the version read at the start, or the UPDATE … WHERE version = …
            frame = traceback.extract_tb(error.__traceback__)[-1]  # the `raise Conflict()`; its `if` is above
            line = linecache.getline(frame.filename, (frame.lineno or 1) - 1)
            where.append("update" if ".update(" in line else "read")
        except Exception as error:  # reported, and fails the test
            outcomes.append(f"{type(error).__name__}: {error}")
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(o,)) for o in officers]
    # The parent holds the row (FOR NO KEY UPDATE: the UPDATE's own lock, not the FK checks' KEY SHARE)
    # until both officers have read the same version and wait in the guarded UPDATE, then lets go.
    with transaction.atomic():
        Case.objects.select_for_update(no_key=True).get(pk=case_id)
        for t in threads:
            t.start()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(DISTINCT pid) FROM pg_locks WHERE NOT granted AND pid = ANY(%s)", [pids])
                if cursor.fetchone()[0] >= len(officers):
                    break
            time.sleep(0.01)
    for t in threads:
        t.join(20)
    after = Case.objects.get(pk=case_id)
    rounds.append({
        "outcomes": sorted(outcomes),
        "version_before": before.version,
        "version_after": after.version,
        "new_events": CaseEvent.objects.filter(case_id=case_id).count() - events_before,
        "state": after.state,
        "caught_by": where,
    })
print(json.dumps(rounds))
"""


def _admin_url(database: str) -> str:
    parts = urlsplit(DATABASE_URL)
    return urlunsplit(parts._replace(path=f"/{database}"))


def _admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(_admin_url("postgres"), autocommit=True) as conn:
        conn.execute(sql)


def _run(args: list[str], env: dict[str, str]) -> str:
    result = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    if result.returncode != 0:
        pytest.fail(f"{' '.join(args[1:3])} failed:\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}")
    lines = result.stdout.strip().splitlines()
    return lines[-1] if lines else ""


@dataclass
class Scratch:
    env: dict[str, str]
    database_url: str
    seed: dict[str, Any]


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scratch]:
    """A migrated, seeded scratch database: 2 × ROUNDS whistled cases, both departments' officers, their tokens."""
    database = f"grassroots_race_{secrets.token_hex(4)}"
    _admin(f'CREATE DATABASE "{database}"')
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRASSROOTS_") and k != "DATABASE_URL"}
    env.update(
        GRASSROOTS_VAR_DIR=str(tmp_path_factory.mktemp("race-var")),
        GRASSROOTS_ENV="development",
        GRASSROOTS_DEBUG="0",
        DATABASE_URL=_admin_url(database),
        DJANGO_SETTINGS_MODULE="config.settings",
        PYTHONPATH=str(ROOT),
    )
    try:
        _run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], env)
        _run([sys.executable, "manage.py", "init_keys"], env)
        seed = json.loads(_run([sys.executable, "-c", SEED, str(2 * ROUNDS)], env))
        yield Scratch(env, env["DATABASE_URL"], seed)
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def _check(rounds: list[dict[str, Any]]) -> None:
    assert len(rounds) == ROUNDS
    for r in rounds:
        assert r["outcomes"] == ["conflict", "ok"], r
        assert r["version_after"] == r["version_before"] + 1, r
        assert r["new_events"] == 1, r
        assert r["state"] == "acknowledged", r


def test_two_officers_same_version_exactly_one_wins(scratch: Scratch) -> None:
    seed = json.dumps({**scratch.seed, "cases": scratch.seed["cases"][:ROUNDS]})
    rounds = json.loads(_run([sys.executable, "-c", RACE, seed, str(ROUNDS)], scratch.env))
    _check(rounds)
    for r in rounds:
        # Both read the same version and queued on the row: the loser is refused by the UPDATE's guard.
        assert r["caught_by"] == ["update"], r


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _post(port: int, path: str, token: str, body: dict[str, Any]) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        conn.request("POST", path, body=json.dumps(body), headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


@pytest.fixture
def server(scratch: Scratch) -> Iterator[int]:
    port = _free_port()
    gunicorn = Path(sys.executable).parent / "gunicorn"
    process = subprocess.Popen(
        [str(gunicorn), "config.wsgi", "-w", "2", "-b", f"127.0.0.1:{port}", "--log-level", "warning"],
        cwd=ROOT,
        env=scratch.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail("gunicorn did not start")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


def _one(watcher: Any, sql: str, *params: Any) -> Any:
    row = watcher.execute(sql, list(params)).fetchone()
    assert row is not None
    return row[0] if len(row) == 1 else row


def _http_round(scratch: Scratch, port: int, watcher: Any, case_id: int) -> dict[str, Any]:
    import psycopg

    version = _one(watcher, "SELECT version FROM cases_case WHERE id = %s", case_id)
    events = _one(watcher, "SELECT count(*) FROM cases_caseevent WHERE case_id = %s", case_id)
    statuses: list[int] = []
    barrier = threading.Barrier(2)

    def send(token: str) -> None:
        barrier.wait()
        body = {"action": "acknowledge", "expected_version": version}
        statuses.append(_post(port, f"/api/v1/cases/{case_id}/actions", token, body))

    threads = [threading.Thread(target=send, args=(token,)) for token in scratch.seed["tokens"]]
    # Hold the row until both requests wait in the guarded UPDATE (this database is ours alone).
    with psycopg.connect(scratch.database_url) as holder:
        holder.execute("SELECT 1 FROM cases_case WHERE id = %s FOR NO KEY UPDATE", [case_id])
        for t in threads:
            t.start()
        deadline = time.monotonic() + 15
        waiting = (
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        while (queued := _one(watcher, waiting)) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        holder.commit()
    for t in threads:
        t.join(30)
    version_after, state = _one(watcher, "SELECT version, state FROM cases_case WHERE id = %s", case_id)
    return {
        "outcomes": sorted("conflict" if s == 409 else "ok" if s == 200 else str(s) for s in statuses),
        "version_before": version,
        "version_after": version_after,
        "state": state,
        "new_events": _one(watcher, "SELECT count(*) FROM cases_caseevent WHERE case_id = %s", case_id) - events,
        "queued_at_update": queued,
    }


def test_the_same_race_over_http(scratch: Scratch, server: int) -> None:
    """Two officers POST the same expected_version to two gunicorn workers: one 200, one 409."""
    import psycopg

    with psycopg.connect(scratch.database_url, autocommit=True) as watcher:
        rounds = [_http_round(scratch, server, watcher, case_id) for case_id in scratch.seed["cases"][ROUNDS:]]
    _check(rounds)
    assert all(r["queued_at_update"] == 2 for r in rounds), rounds  # both requests met at the guarded UPDATE
