"""What the SIGKILL and restore drills share: a scratch database per run and child processes.

Each drill runs its children against its own database, never the test database pytest-django
made: a temporary SQLite file, or (when DATABASE_URL is PostgreSQL) a scratch PostgreSQL database
created for the run and dropped after it. Children get a clean environment: their own var dir
(keys, media) and no GRASSROOTS_* setting of the caller.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
DATABASE_URL = os.environ.get("DATABASE_URL", "")
ON_PG = DATABASE_URL.startswith(("postgres://", "postgresql://"))
# On the PostgreSQL pass only the PostgreSQL variant runs: the SQLite one ran on the SQLite pass.
ENGINES = [
    pytest.param("sqlite", marks=pytest.mark.skipif(ON_PG, reason="runs on the SQLite pass")),
    pytest.param("postgres", marks=pytest.mark.skipif(not ON_PG, reason="needs DATABASE_URL on PostgreSQL")),
]


def pg_url(database: str) -> str:
    return urlunsplit(urlsplit(DATABASE_URL)._replace(path=f"/{database}"))


def _scratch_name(prefix: str) -> str:
    # The caller's database name (h6 here) prefixes every scratch database, so helpers never collide.
    own = urlsplit(DATABASE_URL).path.lstrip("/") or "grassroots"
    return f"{own}_{prefix}_{secrets.token_hex(4)}"


@contextmanager
def scratch_database(engine: str, tmp_path: Path, prefix: str = "drill") -> Iterator[str]:
    """A DATABASE_URL for an empty database that exists for the ``with`` block."""
    if engine == "sqlite":
        yield f"sqlite:///{tmp_path / f'{prefix}_{secrets.token_hex(4)}.sqlite3'}"
        return
    import psycopg

    name = _scratch_name(prefix)
    with psycopg.connect(pg_url("postgres"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield pg_url(name)
    finally:
        with psycopg.connect(pg_url("postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def child_env(var_dir: Path, database_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRASSROOTS_") and k != "DATABASE_URL"}
    env.update(
        GRASSROOTS_VAR_DIR=str(var_dir),
        GRASSROOTS_ENV="development",
        DATABASE_URL=database_url,
        DJANGO_SETTINGS_MODULE="config.settings",
        PYTHONPATH=str(ROOT),
        **extra,
    )
    return env


def run(
    args: list[str], env: dict[str, str], *, ok: bool = True, timeout: int = 300
) -> subprocess.CompletedProcess[str]:
    """Run a child to its end; with ``ok`` it must exit 0."""
    result = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    if ok:
        assert result.returncode == 0, f"{args[1:4]}:\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}"
    return result


def manage(env: dict[str, str], *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    return run([sys.executable, "manage.py", *args], env, ok=ok)


def script(env: dict[str, str], module: str, *args: str) -> str:
    """Run ``python -m tests.reliability.<module> ARGS`` and return its last output line."""
    out = run([sys.executable, "-m", f"tests.reliability.{module}", *args], env).stdout.strip()
    return out.splitlines()[-1] if out else ""


def prepare(env: dict[str, str]) -> None:
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "init_keys")


def query(database_url: str, sql: str) -> list[tuple]:
    """Rows of ``sql`` read straight from a drill's database (no Django: cheap enough to poll)."""
    if database_url.startswith("sqlite:///"):
        import sqlite3

        with sqlite3.connect(database_url.removeprefix("sqlite:///"), timeout=5) as conn:
            return list(conn.execute(sql).fetchall())
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as conn:
        return list(conn.execute(sql).fetchall())  # type: ignore[arg-type]
