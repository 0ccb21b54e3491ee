"""SIGKILL drill: kill a burst of case transitions mid-way, restart it, lose and repeat nothing.

A child process (tests/reliability/case_burst.py) walks cases through the whole loop with the real
services and prints ``acked <case id> <state>`` after each committed step. The drill kills it with
SIGKILL right after an acknowledgement, when the next step's transaction is usually open, then
checks: every acknowledged step is in the case's history; no step is there twice; each case's
state is its history's last state; version, dispatch time, deadlines, reminder and closing time
agree with the history; the audit chain holds. The burst is then resumed and must finish.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

from tests.reliability.drill import ENGINES, ROOT, child_env, manage, prepare, scratch_database, script

pytestmark = [pytest.mark.slow, pytest.mark.database_url]  # children reach their own databases

CASES = 30
STEPS_PER_CASE = 8  # submit and seven transitions
KILL_AFTER = 90


def _burst_until_killed(env: dict[str, str]) -> list[tuple[int, str]]:
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.reliability.case_burst", "burst", str(CASES)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    acked: list[tuple[int, str]] = []
    deadline = time.monotonic() + 120
    assert child.stdout is not None
    while len(acked) < KILL_AFTER and time.monotonic() < deadline:
        line = child.stdout.readline()
        if not line:
            break
        if line.startswith("acked "):
            _, case_id, state = line.split()
            acked.append((int(case_id), state))
    child.send_signal(signal.SIGKILL)
    child.wait()
    # Steps acknowledged between the last line read and the kill are still in the pipe.
    for line in child.stdout.read().splitlines():
        if line.startswith("acked "):
            _, case_id, state = line.split()
            acked.append((int(case_id), state))
    return acked


def _assert_consistent(report: dict, acked: list[tuple[int, str]]) -> None:
    assert report["problems"] == [], report["problems"]
    assert report["refs"] == report["cases"]
    assert report["duplicate_notifications"] == 0
    history = {int(pk): states for pk, states in report["history"].items()}
    # Every acknowledged step is there: the n-th ack of a case is the n-th state of its history.
    seen: dict[int, list[str]] = {}
    for case_id, state in acked:
        seen.setdefault(case_id, []).append(state)
    for case_id, states in seen.items():
        assert history[case_id][: len(states)] == states, (case_id, states, history[case_id])


@pytest.mark.parametrize("engine", ENGINES)
def test_sigkill_mid_case_burst(engine, tmp_path):
    with scratch_database(engine, tmp_path, "cases") as url:
        env = child_env(tmp_path, url)
        prepare(env)
        script(env, "case_burst", "seed")
        acked = _burst_until_killed(env)
        assert len(acked) >= KILL_AFTER, f"the burst stopped after {len(acked)} steps before the kill"

        half = json.loads(script(env, "case_burst", "check", str(CASES)))
        _assert_consistent(half, acked)
        # The kill landed mid-burst: at most one step beyond the last acknowledgement was committed.
        assert len(acked) <= half["events"] <= len(acked) + 1, (len(acked), half["events"])
        assert half["finished"] < CASES
        manage(env, "verify_audit")

        assert script(env, "case_burst", "burst", str(CASES)) == "done"
        final = json.loads(script(env, "case_burst", "check", str(CASES)))
        _assert_consistent(final, acked)
        assert (final["cases"], final["finished"], final["events"]) == (CASES, CASES, CASES * STEPS_PER_CASE)
        manage(env, "verify_audit")
