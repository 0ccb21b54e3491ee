"""SIGKILL drill: kill ``manage.py link_records`` mid-run, rerun it, nothing half-written.

A run commits its LinkRun row first (status running), scores pairs in DuckDB, then writes every
attachment, review pair, the run's result and its audit entry in ONE transaction. So the drill
kills it at both ends of that window: before the engine (``engine``) and inside the transaction
after its last write (``commit``). Either way the killed run must be left running (stale, no
finish time) with none of its writes visible; a rerun must complete and leave every held row of
a known person linked to that person and nobody else, the strangers held, no pair twice, and
every person with its own row.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

from tests.reliability.drill import ENGINES, ROOT, child_env, manage, prepare, scratch_database, script
from tests.reliability.linkage_drill import HELD_KNOWN, HELD_STRANGERS, PEOPLE

pytestmark = [pytest.mark.slow, pytest.mark.database_url]  # children reach their own databases


def _run_until_killed(env: dict[str, str], phase: str) -> None:
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.reliability.linkage_drill", "run", phase],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert child.stdout is not None
    deadline, reached = time.monotonic() + 120, False
    while not reached and time.monotonic() < deadline:
        line = child.stdout.readline()
        if not line:
            break
        reached = line.strip() == phase
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert reached, f"the run ended before reaching {phase}"


@pytest.mark.parametrize("phase", ["engine", "commit"])
@pytest.mark.parametrize("engine", ENGINES)
def test_sigkill_mid_linkage_run(engine, phase, tmp_path):
    with scratch_database(engine, tmp_path, "link") as url:
        env = child_env(tmp_path, url)
        prepare(env)
        assert int(script(env, "linkage_drill", "seed")) == HELD_KNOWN + HELD_STRANGERS
        before = json.loads(script(env, "linkage_drill", "check"))
        assert before["persons"] == PEOPLE and before["linked"] == 0

        _run_until_killed(env, phase)
        killed = json.loads(script(env, "linkage_drill", "check"))
        # All or nothing: the run row says running and never finished; not one of its writes is in.
        assert killed["runs"] == [["running", False]]
        assert {k: v for k, v in killed.items() if k != "runs"} == {k: v for k, v in before.items() if k != "runs"}
        manage(env, "verify_audit")

        out = manage(env, "link_records", "--held").stdout
        assert f"{HELD_KNOWN} held records linked" in out, out
        final = json.loads(script(env, "linkage_drill", "check"))
        assert final["runs"] == [["done", True], ["running", False]]
        assert (final["linked"], final["held"]) == (HELD_KNOWN, HELD_STRANGERS)
        assert final["linked_to_someone_else"] == final["held_with_person"] == final["rows_twice"] == 0
        assert final["pairs"] == final["distinct_pairs"]
        assert final["persons"] == PEOPLE and final["persons_without_own_row"] == 0
        assert final["person_records"] == PEOPLE + HELD_KNOWN and final["records"] == before["records"]
        assert final["run_audits"] == 1
        manage(env, "verify_audit")
