"""Shared fixtures: a throw-away keyring, a small place tree and one user per role."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from grassroots.core import crypto

# Timing is not what property tests check: on a loaded 2-core CI machine generating inputs or one
# example can take seconds, which must not fail a test (it did: too_slow in tests/core/test_ids.py).
hypothesis_settings.register_profile("ci", deadline=None, suppress_health_check=[HealthCheck.too_slow])
hypothesis_settings.load_profile("ci")


@pytest.fixture(autouse=True, scope="session")
def _test_keyring(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("keys") / "keys.json"
    crypto.write_keyring(path, crypto.new_keyring())
    original = settings.KEYS_FILE
    settings.KEYS_FILE = path
    crypto.keyring.cache_clear()
    yield path
    settings.KEYS_FILE = original
    crypto.keyring.cache_clear()


@pytest.fixture(autouse=True)
def _fast_passwords(settings):  # type: ignore[no-untyped-def]
    # Argon2 is exercised by its own test; the rest of the suite needs no slow hashing.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _clear_cache() -> Iterator[None]:
    # Rate-limit counters (grassroots.core.ratelimit) live in the cache: one test's logins and
    # reports must not use up the next one's budget.
    from django.core.cache import cache

    cache.clear()
    yield


pytest_plugins = ["tests.factories"]

# Fixtures through which a test reaches the database configured by DATABASE_URL. (Not
# django_db_blocker: an autouse fixture of pytest-django asks for it in every test; a fixture that
# unblocks the database itself must be used with one of these, or with the database_url mark.)
DATABASE_FIXTURES = {
    "db",
    "transactional_db",
    "django_db_reset_sequences",
    "django_db_serialized_rollback",
    "live_server",
}


def _on_postgresql() -> bool:
    return os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On the PostgreSQL pass, run only the tests that touch the database.

    CI runs the suite twice, on SQLite and on PostgreSQL. A test that never opens a connection
    (a pure engine, a parser, a browser test against its own SQLite server) gives the same answer
    both times, so the second pass skips it: it saved about a third of the PostgreSQL pass. A test
    that reaches the database some other way (a child process given DATABASE_URL, a scratch
    database) carries the ``database_url`` mark and always runs. GRASSROOTS_TEST_ALL=1 runs all.
    """
    if not _on_postgresql() or os.environ.get("GRASSROOTS_TEST_ALL") == "1":
        return
    kept, skipped = [], []
    for item in items:
        uses_db = bool(DATABASE_FIXTURES & set(getattr(item, "fixturenames", ()))) or item.get_closest_marker(
            "django_db"
        )
        if uses_db or item.get_closest_marker("database_url"):
            kept.append(item)
        else:
            skipped.append(item)
    if skipped:
        config.hook.pytest_deselected(items=skipped)
        items[:] = kept
