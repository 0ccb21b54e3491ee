"""API tokens: shown once, stored as a digest, refused when expired, revoked or deactivated."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest

from grassroots.accounts import services
from grassroots.accounts.models import ApiToken, Role
from grassroots.audit.models import AuditEntry
from grassroots.audit.services import SYSTEM
from grassroots.core import clock
from grassroots.core.errors import DomainError

pytestmark = pytest.mark.django_db


@pytest.fixture
def worker(tree):
    return tree.users[Role.GRID_WORKER]


def test_create_returns_the_raw_value_once_and_stores_only_its_digest(worker):
    token, raw = services.api_token_create(actor=SYSTEM, user=worker, name=" 巡查App ")
    assert raw.startswith("gr_") and len(raw) > 40
    stored = ApiToken.objects.get(pk=token.pk)
    assert stored.name == "巡查App"
    assert stored.digest == hashlib.sha256(raw.encode()).hexdigest()
    assert stored.prefix == raw[:8]
    for column in ("name", "prefix", "digest"):
        assert getattr(stored, column) != raw
    assert raw not in str(list(ApiToken.objects.values()))
    entry = AuditEntry.objects.latest("seq")
    assert entry.action == "accounts.token.create"
    assert raw not in str(entry.detail) and stored.digest not in str(entry.detail)
    assert (stored.expires_at - stored.created_at) == timedelta(days=365)


def test_each_token_is_different(worker):
    raws = {services.api_token_create(actor=SYSTEM, user=worker, name=f"t{i}")[1] for i in range(5)}
    assert len(raws) == 5


def test_name_is_required(worker):
    with pytest.raises(DomainError, match="令牌名称不能为空。"):
        services.api_token_create(actor=SYSTEM, user=worker, name="  ")


def test_authenticate_and_last_used_at_at_most_once_a_minute(worker):
    token, raw = services.api_token_create(actor=SYSTEM, user=worker, name="t")
    now = clock.now()
    assert services.api_token_authenticate(raw, now=now) == worker
    token.refresh_from_db()
    assert token.last_used_at == now
    services.api_token_authenticate(raw, now=now + timedelta(seconds=30))
    token.refresh_from_db()
    assert token.last_used_at == now
    later = now + timedelta(minutes=2)
    services.api_token_authenticate(raw, now=later)
    token.refresh_from_db()
    assert token.last_used_at == later


def test_wrong_or_empty_tokens_fail(worker):
    _, raw = services.api_token_create(actor=SYSTEM, user=worker, name="t")
    assert services.api_token_authenticate(raw + "x") is None
    assert services.api_token_authenticate(raw[:-1]) is None
    assert services.api_token_authenticate("") is None
    assert services.api_token_authenticate(hashlib.sha256(raw.encode()).hexdigest()) is None  # the digest is no key


def test_expired_token_fails(worker):
    token, raw = services.api_token_create(actor=SYSTEM, user=worker, name="t", days=1)
    assert services.api_token_authenticate(raw, now=token.expires_at - timedelta(seconds=1)) == worker
    assert services.api_token_authenticate(raw, now=token.expires_at) is None
    assert services.api_token_authenticate(raw, now=token.expires_at + timedelta(days=1)) is None


def test_token_without_expiry(worker):
    token, raw = services.api_token_create(actor=SYSTEM, user=worker, name="t", days=None)
    assert token.expires_at is None
    assert services.api_token_authenticate(raw, now=clock.now() + timedelta(days=3650)) == worker


def test_revoked_token_fails_and_revocation_is_audited(worker):
    token, raw = services.api_token_create(actor=SYSTEM, user=worker, name="t")
    services.api_token_revoke(actor=SYSTEM, token=token)
    assert services.api_token_authenticate(raw) is None
    token.refresh_from_db()
    assert token.revoked_at is not None
    entry = AuditEntry.objects.latest("seq")
    assert (entry.action, entry.object_id) == ("accounts.token.revoke", str(token.pk))


def test_deactivated_users_token_fails_even_if_not_revoked(worker):
    _, raw = services.api_token_create(actor=SYSTEM, user=worker, name="t")
    worker.is_active = False
    worker.save(update_fields=["is_active"])
    assert services.api_token_authenticate(raw) is None
