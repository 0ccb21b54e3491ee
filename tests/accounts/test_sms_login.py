"""短信验证码登录: residents sign in with their number and a 6-digit code (accounts.sms).

Time is the project's clock, moved by hand (``Clock``); the per-number limits are checked at
the exact edges of their windows. Codes are read back from the notify outbox row, as the
SMS gateway would receive them.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django.core.cache import cache
from django.db import connection, connections
from django.test import Client
from django.urls import reverse

from grassroots.accounts import sms
from grassroots.accounts.models import Role, SmsCode, User
from grassroots.audit.models import AuditEntry
from grassroots.audit.services import SYSTEM, verify_chain
from grassroots.core import clock, crypto
from grassroots.core.errors import DomainError
from grassroots.notify.models import Notification
from tests.factories import Tree

PHONE = "13812345678"
OTHER = "13987654321"
T0 = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
LOGIN_SMS = "/accounts/login/sms/"
SEND = "/accounts/login/sms/send/"
SENT_TEXT = "如该号码已开通居民账号，验证码已发送，5 分钟内有效。"

pytestmark = pytest.mark.django_db


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at

    def set(self, seconds: float) -> None:
        self.at = T0 + timedelta(seconds=seconds)


@pytest.fixture(autouse=True)
def _clear_cache() -> Iterator[None]:
    cache.clear()  # rate-limit counters must not leak from one test to the next
    yield
    cache.clear()


@pytest.fixture
def now(monkeypatch: pytest.MonkeyPatch) -> Clock:
    c = Clock(T0)
    monkeypatch.setattr(clock, "now", c.now)
    return c


@pytest.fixture
def resident(tree: Tree) -> User:
    return sms.user_phone_set(actor=SYSTEM, user=tree.users[Role.RESIDENT], phone=PHONE)


def _sent_codes() -> list[str]:
    return [n.payload["code"] for n in Notification.objects.filter(kind="accounts.sms_code").order_by("id")]


def _last_code() -> str:
    return _sent_codes()[-1]


def _send(client: Client, phone: str = PHONE, ip: str = "10.0.0.7") -> tuple[int, str]:
    response = client.post(SEND, {"phone": phone}, REMOTE_ADDR=ip)
    return response.status_code, response.content.decode()


def _login(client: Client, code: str, phone: str = PHONE, **extra: str) -> tuple[int, str]:
    response = client.post(LOGIN_SMS, {"phone": phone, "code": code, **extra}, REMOTE_ADDR="10.0.0.7")
    return response.status_code, response.get("Location", "") or response.content.decode()


# --- numbers on accounts ---------------------------------------------------------------------


def test_the_phone_is_sealed_found_by_its_keyed_hash_and_unique(tree: Tree, resident: User) -> None:
    resident.refresh_from_db()
    assert PHONE.encode() not in bytes(resident.phone_cipher)
    assert resident.phone_hash == crypto.blind_index(PHONE, context=sms.PHONE_CONTEXT)
    assert resident.phone_masked == "138****5678"
    assert sms.user_phone(resident) == PHONE
    with pytest.raises(DomainError, match="已被其他账号使用"):
        sms.user_phone_set(actor=SYSTEM, user=tree.outsiders[Role.RESIDENT], phone="+86 138-1234-5678")
    sms.user_phone_set(actor=SYSTEM, user=resident, phone="")
    resident.refresh_from_db()
    assert (resident.phone_cipher, resident.phone_hash, resident.phone_masked) == (None, "", "")


# --- the pages --------------------------------------------------------------------------------


def test_the_login_page_links_to_sms_login(client: Client) -> None:
    body = client.get("/accounts/login/").content.decode()
    assert f'href="{LOGIN_SMS}"' in body and "短信验证码登录" in body
    page = client.get(LOGIN_SMS)
    assert page.status_code == 200
    text = page.content.decode()
    assert "手机号" in text and "获取验证码" in text and "验证码" in text


def test_happy_path_sends_a_code_and_signs_the_resident_in(client: Client, resident: User, now: Clock) -> None:
    status, body = _send(client)
    assert status == 200 and SENT_TEXT in body
    code = _last_code()
    assert len(code) == 6 and code.isdigit()
    note = Notification.objects.get(kind="accounts.sms_code")
    assert note.user_id is None  # never an in-app message
    assert note.address_masked == "138****5678" and code in note.body
    row = SmsCode.objects.get()
    assert row.user_id == resident.pk and code not in row.code_hash and row.ip == "10.0.0.7"
    assert row.expires_at == T0 + timedelta(minutes=5)
    status, location = _login(client, code)
    assert (status, location) == (302, reverse("home"))
    assert int(client.session["_auth_user_id"]) == resident.pk
    entry = AuditEntry.objects.filter(action="auth.login").latest("seq")
    assert (entry.actor_id, entry.ip, entry.detail) == (resident.pk, "10.0.0.7", {"method": "sms"})
    assert verify_chain().ok


def test_a_safe_next_is_honoured_and_an_unsafe_one_ignored(client: Client, resident: User, now: Clock) -> None:
    _send(client)
    assert _login(client, _last_code(), next="/cases/h5/mine/") == (302, "/cases/h5/mine/")
    client.logout()
    now.set(60)
    _send(client)
    assert _login(client, _last_code(), next="https://evil.example/") == (302, reverse("home"))


def test_an_unknown_number_gets_the_same_answers_and_no_sms(client: Client, resident: User, now: Clock) -> None:
    known = _send(client, PHONE)
    unknown = _send(client, OTHER)
    assert known[0] == unknown[0] == 200
    assert SENT_TEXT in unknown[1]
    assert _sent_codes() == [_last_code()] and len(_sent_codes()) == 1  # only the known number got one
    assert SmsCode.objects.filter(user__isnull=True).count() == 1  # but the unknown one counts too
    # The limits answer alike.
    now.set(20)
    again_known, again_unknown = _send(client, PHONE), _send(client, OTHER)
    assert again_known[0] == again_unknown[0] == 429
    assert "请 40 秒后再获取验证码。" in again_known[1] and "请 40 秒后再获取验证码。" in again_unknown[1]
    # And signing in fails alike, whatever the code.
    answers = [_login(client, "123456", number) for number in (OTHER, "13700000000")]
    assert [status for status, _ in answers] == [400, 400]
    assert all("验证码错误或已失效，请重新获取。" in body for _, body in answers)
    # The pages differ only in the number typed in (and the per-request CSRF token and CSP nonce).
    pages = [re.sub(r'(value|nonce)="[^"]*"', "", body) for _, body in answers]
    assert pages[0].replace(OTHER, "") == pages[1].replace("13700000000", "")


def test_a_malformed_number_is_refused_in_chinese(client: Client) -> None:
    status, body = _send(client, "12345")
    assert status == 400 and "格式不正确" in body
    assert not SmsCode.objects.exists()


def test_staff_cannot_use_sms_login(client: Client, tree: Tree, now: Clock) -> None:
    worker = sms.user_phone_set(actor=SYSTEM, user=tree.users[Role.GRID_WORKER], phone=PHONE)
    status, body = _send(client)
    assert status == 200 and SENT_TEXT in body  # the answer of an unknown number
    assert _sent_codes() == []
    assert SmsCode.objects.get().user_id is None
    with pytest.raises(DomainError, match="验证码错误或已失效"):
        sms.sms_login(phone=PHONE, code="000000")
    # Even a resident whose role changed after the code was sent cannot use it.
    resident = sms.user_phone_set(actor=SYSTEM, user=tree.users[Role.RESIDENT], phone=OTHER)
    now.set(60)
    sms.sms_code_request(phone=OTHER)
    User.objects.filter(pk=resident.pk).update(role=Role.GRID_WORKER)
    with pytest.raises(DomainError, match="验证码错误或已失效"):
        sms.sms_login(phone=OTHER, code=_last_code())
    assert worker.pk != resident.pk


def test_a_disabled_resident_gets_no_code(client: Client, resident: User, now: Clock) -> None:
    User.objects.filter(pk=resident.pk).update(is_active=False)
    assert _send(client)[0] == 200
    assert _sent_codes() == []


# --- codes: single use, expiry, wrong tries ------------------------------------------------------


def test_a_code_is_single_use(client: Client, resident: User, now: Clock) -> None:
    sms.sms_code_request(phone=PHONE)
    code = _last_code()
    assert sms.sms_login(phone=PHONE, code=code) == resident
    with pytest.raises(DomainError, match="验证码错误或已失效"):
        sms.sms_login(phone=PHONE, code=code)


def test_a_code_is_valid_for_exactly_five_minutes(resident: User, now: Clock) -> None:
    sms.sms_code_request(phone=PHONE)
    now.set(300 - 0.001)
    assert sms.sms_login(phone=PHONE, code=_last_code()) == resident
    now.set(400)
    sms.sms_code_request(phone=PHONE)
    now.set(400 + 300)
    with pytest.raises(DomainError, match="验证码错误或已失效"):
        sms.sms_login(phone=PHONE, code=_last_code())


def test_only_the_newest_code_counts(resident: User, now: Clock) -> None:
    sms.sms_code_request(phone=PHONE)
    first = _last_code()
    now.set(60)
    sms.sms_code_request(phone=PHONE)
    second = _last_code()
    if first != second:
        with pytest.raises(DomainError):
            sms.sms_login(phone=PHONE, code=first)
    assert sms.sms_login(phone=PHONE, code=second) == resident


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def test_four_wrong_tries_leave_the_code_usable(resident: User, now: Clock) -> None:
    sms.sms_code_request(phone=PHONE)
    code = _last_code()
    for _ in range(4):
        with pytest.raises(DomainError, match="验证码错误或已失效"):
            sms.sms_login(phone=PHONE, code=_wrong(code))
    assert SmsCode.objects.get().attempts == 4
    assert sms.sms_login(phone=PHONE, code=code) == resident


def test_the_fifth_wrong_try_voids_the_code(client: Client, resident: User, now: Clock) -> None:
    sms.sms_code_request(phone=PHONE)
    code = _last_code()
    for _ in range(4):
        assert _login(client, _wrong(code))[0] == 400
    status, body = _login(client, _wrong(code))
    assert status == 400 and "验证码输错次数过多，已失效" in body
    status, body = _login(client, code)
    assert status == 400 and "验证码错误或已失效" in body
    assert "_auth_user_id" not in client.session
    failures = AuditEntry.objects.filter(action="auth.login_failed").order_by("seq")
    assert [e.detail["reason"] for e in failures] == ["wrong_code"] * 4 + ["voided", "no_valid_code"]
    assert {e.actor_label for e in failures} == {"138****5678"}


# --- per-number limits, exact at the edges -----------------------------------------------------


def _asked(now: Clock, at: float, phone: str = PHONE) -> int:
    """0 when a code was issued at ``at`` seconds after T0, else the seconds to wait."""
    now.set(at)
    try:
        sms.sms_code_request(phone=phone)
    except sms.SmsLimited as limited:
        return limited.retry_after
    return 0


def test_one_code_a_minute_exactly(resident: User, now: Clock) -> None:
    assert _asked(now, 0) == 0
    assert _asked(now, 1) == 59
    assert _asked(now, 59) == 1
    assert _asked(now, 59.999) == 1
    assert _asked(now, 60) == 0
    assert _asked(now, 60.5) == 60


def test_five_codes_an_hour_exactly(resident: User, now: Clock) -> None:
    for i in range(5):
        assert _asked(now, i * 60) == 0
    assert _asked(now, 300) == 3300  # the first of the five leaves the hour at 3600
    assert _asked(now, 3599) == 1
    assert _asked(now, 3600) == 0
    assert _asked(now, 3601) == 59  # the minute
    assert _asked(now, 3660) == 0  # the second of the five left the hour at 3660
    assert [_asked(now, 3720), _asked(now, 3780), _asked(now, 3840)] == [0, 0, 0]
    assert _asked(now, 3900) == 86400 - 3900  # five in the hour again, but ten today: the day binds
    assert SmsCode.objects.count() == 10


def test_ten_codes_a_day_exactly(resident: User, now: Clock) -> None:
    for i in range(5):
        assert _asked(now, i * 60) == 0
    for i in range(5):
        assert _asked(now, 3600 + i * 60) == 0
    assert SmsCode.objects.count() == 10
    assert _asked(now, 7200) == 86400 - 7200
    assert _asked(now, 86399) == 1
    assert _asked(now, 86400) == 0  # the first code has left the day
    assert _asked(now, 86460) == 0  # and the second
    assert _asked(now, 86461) == 59  # the minute still holds


def test_limits_are_per_number(resident: User, now: Clock) -> None:
    assert _asked(now, 0, PHONE) == 0
    assert _asked(now, 1, OTHER) == 0
    assert _asked(now, 2, PHONE) == 58


def test_the_refusal_says_when_in_chinese(client: Client, resident: User, now: Clock) -> None:
    _send(client)
    now.set(17)
    response = client.post(SEND, {"phone": PHONE}, REMOTE_ADDR="10.0.0.7")
    assert response.status_code == 429 and response["Retry-After"] == "43"
    assert "请 43 秒后再获取验证码。" in response.content.decode()
    for i in range(1, 5):
        now.set(i * 60)
        assert _send(client)[0] == 200
    now.set(301)
    assert "请 55 分钟后再获取验证码。" in _send(client)[1]


def test_limits_come_from_settings(settings, resident: User, now: Clock) -> None:  # type: ignore[no-untyped-def]
    settings.GRASSROOTS_SMS_LIMITS = "2/30"
    assert [_asked(now, 0), _asked(now, 1), _asked(now, 2)] == [0, 0, 28]
    assert _asked(now, 30) == 0


def test_old_rows_are_purged(resident: User, now: Clock) -> None:
    assert _asked(now, 0) == 0
    assert _asked(now, 2 * 86400 + 1, OTHER) == 0
    assert SmsCode.objects.count() == 1


# --- per-IP limit on code requests ----------------------------------------------------------------


def test_per_ip_limit_on_code_requests(client: Client, now: Clock) -> None:
    for i in range(20):
        assert _send(client, f"1390000{i:04d}")[0] == 200
    response = client.post(SEND, {"phone": "13900009999"}, REMOTE_ADDR="10.0.0.7")
    assert response.status_code == 429
    assert "操作过于频繁" in response.content.decode() and int(response["Retry-After"]) > 0
    assert SmsCode.objects.count() == 20  # refused before any row
    assert _send(client, "13900009999", ip="10.0.0.8")[0] == 200  # another client is not affected
    now.set(3600)  # the next hour window
    assert _send(client, "13900008888")[0] == 200


def test_code_login_posts_are_rate_limited_per_ip(client: Client, settings, now: Clock) -> None:  # type: ignore[no-untyped-def]
    settings.GRASSROOTS_RATE_LIMITS = {**settings.GRASSROOTS_RATE_LIMITS, "login": "3/60"}
    for _ in range(3):
        assert _login(client, "123456")[0] == 400
    status, body = _login(client, "123456")
    assert status == 429 and "操作过于频繁" in body


# --- concurrency ---------------------------------------------------------------------------------

ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))


@pytest.mark.skipif(not ON_POSTGRES, reason="a real race needs PostgreSQL (SQLite's test database is one connection)")
def test_two_concurrent_requests_for_one_number_only_one_passes() -> None:
    """Two threads, each with its own connection, ask for a code for one number at once.

    The test holds the per-number lock until both threads wait for it, then lets them go
    together. Without the lock neither would wait (the test fails waiting for two waiters),
    and both would count no earlier code and both insert one. The threads commit for real,
    outside the test's transaction: the number belongs to no one (nothing is sent), the audit
    write is stubbed out (the audit tables are append-only), and the rows are deleted at the end.
    """
    digest = sms.phone_hash(PHONE)
    key = int.from_bytes(bytes.fromhex(digest[:8]), "big", signed=True)
    results: list[str] = []

    def ask() -> None:
        try:
            sms.sms_code_request(phone=PHONE, ip="10.0.0.9")
            results.append("sent")
        except sms.SmsLimited:
            results.append("limited")
        finally:
            connections.close_all()

    def count_and_clean() -> None:
        try:
            results.append(f"rows={SmsCode.objects.filter(phone_hash=digest).count()}")
            SmsCode.objects.filter(phone_hash=digest).delete()
        finally:
            connections.close_all()

    waiting = 0
    with mock.patch.object(sms, "audit_record"), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s, %s)", [sms._LOCK_NAMESPACE, key])
        threads = [threading.Thread(target=ask) for _ in range(2)]
        try:
            for thread in threads:
                thread.start()
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                cursor.execute(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND classid = %s",
                    [sms._LOCK_NAMESPACE],
                )
                waiting = cursor.fetchone()[0]
                if waiting == 2:
                    break
                time.sleep(0.02)
        finally:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [sms._LOCK_NAMESPACE, key])
            for thread in threads:
                thread.join(timeout=15)
            cleaner = threading.Thread(target=count_and_clean)
            cleaner.start()
            cleaner.join(timeout=15)
    assert waiting == 2
    assert sorted(results) == ["limited", "rows=1", "sent"]
