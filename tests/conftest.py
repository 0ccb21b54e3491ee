"""Shared fixtures: a throw-away keyring, a small place tree and one user per role."""

from __future__ import annotations

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


pytest_plugins = ["tests.factories"]
