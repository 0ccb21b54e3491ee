"""Residents sign in with their mobile number and a 6-digit code sent by SMS.

Only residents: staff sign in with a password and a second factor (accounts.two_factor). A
resident's number is sealed on the user (``phone_cipher``) with a keyed hash beside it
(``phone_hash``) to find the account, like registry phones (core.crypto).

Codes: 6 digits, stored as a keyed hash with a per-row salt, valid ``CODE_TTL``, single use;
``MAX_ATTEMPTS`` wrong codes void one. Only the newest code of a number counts.

Per number at most ``GRASSROOTS_SMS_LIMITS`` codes (default 1 a minute, 5 an hour, 10 a
day), counted from the ``SmsCode`` rows, so the limits hold across processes and restarts.
The count and the insert run under a per-number lock (a PostgreSQL advisory transaction
lock; on SQLite the IMMEDIATE transaction already holds the database's single write lock),
so two concurrent requests cannot both pass. Windows slide: a code sent at t counts until
t + window, exactly.

No account enumeration: a number no resident has gets the same answer, the same limits and
a row of its own (nothing is sent), and signing in with it fails with the same message.
"""

from __future__ import annotations

import hmac
import logging
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction

from grassroots.accounts.models import Role, SmsCode, User
from grassroots.audit.services import Actor, actor_of, audit_record
from grassroots.core import clock, crypto
from grassroots.core.errors import DomainError
from grassroots.core.ids import parse_mobile
from grassroots.core.masking import mask_phone
from grassroots.core.ratelimit import Rate, parse_rates, wait_text
from grassroots.notify.services import Recipient, notify

logger = logging.getLogger(__name__)

PHONE_CONTEXT = "user.phone"
CODE_CONTEXT = "accounts.sms_code"
CODE_TTL = timedelta(minutes=5)
MAX_ATTEMPTS = 5
DEFAULT_LIMITS = "1/60,5/3600,10/86400"
_LOCK_NAMESPACE = 0x534D53  # "SMS": first key of pg_advisory_xact_lock(int, int), apart from other locks

INVALID_CODE = "验证码错误或已失效，请重新获取。"
VOIDED_CODE = "验证码输错次数过多，已失效，请重新获取。"


class SmsLimited(DomainError):
    """Too many codes for this number; ``retry_after`` seconds until the next may be asked."""

    code = "sms_rate_limited"

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"请 {wait_text(retry_after)}后再获取验证码。", field="phone")
        self.retry_after = retry_after


# --- numbers on accounts ------------------------------------------------------------------


def phone_hash(number: str) -> str:
    return crypto.blind_index(number, context=PHONE_CONTEXT)


def user_phone(user: User) -> str:
    """The unsealed number ("" when the user has none)."""
    return crypto.decrypt(bytes(user.phone_cipher), context=PHONE_CONTEXT) if user.phone_cipher else ""


@transaction.atomic
def user_phone_set(*, actor: Actor, user: User, phone: str) -> User:
    """Give a user a mobile number (SMS-code login for residents), or take it away with ``""``."""
    number = parse_mobile(phone) if phone.strip() else ""
    digest = phone_hash(number) if number else ""
    if digest and User.objects.filter(phone_hash=digest).exclude(pk=user.pk).exists():
        raise DomainError("该手机号已被其他账号使用。", field="phone")
    user.phone_cipher = crypto.encrypt(number, context=PHONE_CONTEXT) if number else None
    user.phone_hash = digest
    user.phone_masked = mask_phone(number) if number else ""
    user.save(update_fields=["phone_cipher", "phone_hash", "phone_masked"])
    audit_record(
        actor=actor,
        action="accounts.user.phone_set",
        object_type="user",
        object_id=user.pk,
        area_path=user.area.path if user.area else "",
        detail={"phone": user.phone_masked},
    )
    return user


def _resident(digest: str) -> User | None:
    return User.objects.filter(phone_hash=digest, role=Role.RESIDENT, is_active=True).first()


# --- sending codes ------------------------------------------------------------------------


def send_limits() -> tuple[Rate, ...]:
    return parse_rates(str(getattr(settings, "GRASSROOTS_SMS_LIMITS", DEFAULT_LIMITS)))


def _lock_number(digest: str) -> None:
    """Serialise code requests for one number until the transaction ends."""
    if connection.vendor == "postgresql":
        key = int.from_bytes(bytes.fromhex(digest[:8]), "big", signed=True)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_NAMESPACE, key])
    # SQLite: the IMMEDIATE transaction (settings) took the single write lock at BEGIN.


def _wait_seconds(digest: str, now: datetime, limits: tuple[Rate, ...]) -> int:
    """Seconds until one more code fits every window (0: it fits now)."""
    longest = max(rate.seconds for rate in limits)
    sent = sorted(
        SmsCode.objects.filter(phone_hash=digest, sent_at__gt=now - timedelta(seconds=longest)).values_list(
            "sent_at", flat=True
        )
    )
    wait = 0.0
    for rate in limits:
        window = timedelta(seconds=rate.seconds)
        inside = [at for at in sent if at > now - window]
        if len(inside) >= rate.count:
            # One more fits once all but count-1 of them have left the window.
            leaves = inside[len(inside) - rate.count] + window
            wait = max(wait, (leaves - now).total_seconds())
    return math.ceil(wait)


def _code_hash(salt: str, code: str) -> str:
    return crypto.blind_index(f"{salt}:{code}", context=CODE_CONTEXT)


def _channel() -> str:
    default = "sms" if getattr(settings, "NOTIFY_SMS_URL", "") else "console"
    return str(getattr(settings, "GRASSROOTS_SMS_CODE_CHANNEL", "") or default)


@dataclass(frozen=True)
class CodeRequested:
    phone_masked: str
    expires_at: datetime


def sms_code_request(*, phone: str, ip: str = "") -> CodeRequested:
    """Send a login code to ``phone`` if a resident has it; the same answer either way.

    Raises ``InvalidPhone`` for a malformed number and ``SmsLimited`` past the per-number limits.
    """
    number = parse_mobile(phone)
    digest = phone_hash(number)
    limits = send_limits()
    now = clock.now()
    with transaction.atomic():
        _lock_number(digest)
        if limits:
            wait = _wait_seconds(digest, now, limits)
            if wait:
                raise SmsLimited(wait)
        # Rows older than the longest window count for nothing any more.
        keep = max([86400, *(rate.seconds for rate in limits)])
        SmsCode.objects.filter(sent_at__lt=now - timedelta(seconds=2 * keep)).delete()
        user = _resident(digest)
        code = f"{secrets.randbelow(10**6):06d}"
        salt = secrets.token_hex(8)
        row = SmsCode.objects.create(
            phone_hash=digest,
            user=user,
            code_hash=_code_hash(salt, code),
            salt=salt,
            sent_at=now,
            expires_at=now + CODE_TTL,
            ip=ip[:45],
        )
        if user is not None:
            _send(row, number, code)
        audit_record(
            actor=Actor(id=None, label="anonymous", ip=ip),
            action="auth.sms_code",
            object_type="sms_code",
            object_id=row.pk,
            detail={"phone": mask_phone(number), "sent": user is not None},
            at=now,
        )
    return CodeRequested(mask_phone(number), now + CODE_TTL)


def _send(row: SmsCode, number: str, code: str) -> None:
    minutes = int(CODE_TTL.total_seconds() // 60)
    channel = _channel()
    notify(
        recipients=[Recipient(address=number)],  # no user id: the code must not show up as an in-app message
        kind="accounts.sms_code",
        subject="",
        body=f"【基层治理平台】您的登录验证码是 {code}，{minutes} 分钟内有效。请勿告诉他人。",
        payload={"code": code, "minutes": minutes},  # template parameters for gateways that use templates
        idempotency_key=f"sms-code:{row.pk}",
        channel=channel,
    )
    if channel == "console":
        if settings.DEBUG:
            logger.info("SMS login code for %s: %s (console channel, development only)", mask_phone(number), code)
        else:
            logger.warning("SMS login codes go to the console channel: set GRASSROOTS_NOTIFY_SMS_URL")


# --- signing in ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Outcome:
    user: User | None
    error: str = ""


def sms_login(*, phone: str, code: str, ip: str = "") -> User:
    """The resident whose newest code for ``phone`` is ``code``; uses the code up.

    Raises ``DomainError`` with one message for every refusal (wrong, expired, used, unknown
    number, not a resident), except the one that says a code was voided by wrong tries.
    """
    number = parse_mobile(phone)
    digest = phone_hash(number)
    code = code.strip()
    now = clock.now()
    # The wrong try must be counted even though the caller gets an error: decide inside, raise outside.
    with transaction.atomic():
        outcome = _check(digest, code, now, ip, mask_phone(number))
    if outcome.user is None:
        raise DomainError(outcome.error, field="code")
    return outcome.user


def _check(digest: str, code: str, now: datetime, ip: str, masked: str) -> _Outcome:
    row = SmsCode.objects.select_for_update().filter(phone_hash=digest).order_by("-sent_at", "-id").first()
    if row is None or row.used_at is not None or row.expires_at <= now:
        _audit_failure(ip, masked, "no_valid_code", now)
        return _Outcome(None, INVALID_CODE)
    if not hmac.compare_digest(_code_hash(row.salt, code), row.code_hash):
        row.attempts += 1
        voided = row.attempts >= MAX_ATTEMPTS
        if voided:
            row.used_at = now
        row.save(update_fields=["attempts", "used_at"])
        _audit_failure(ip, masked, "voided" if voided else "wrong_code", now)
        return _Outcome(None, VOIDED_CODE if voided else INVALID_CODE)
    user = User.objects.filter(pk=row.user_id).first() if row.user_id else None
    if user is None or user.role != Role.RESIDENT or not user.is_active or user.phone_hash != digest:
        _audit_failure(ip, masked, "no_resident", now)
        return _Outcome(None, INVALID_CODE)
    row.used_at = now
    row.save(update_fields=["used_at"])
    audit_record(actor=actor_of(user, ip), action="auth.login", detail={"method": "sms"}, at=now)
    return _Outcome(user)


def _audit_failure(ip: str, masked: str, reason: str, now: datetime) -> None:
    audit_record(
        actor=Actor(id=None, label=masked or "anonymous", ip=ip),
        action="auth.login_failed",
        detail={"method": "sms", "reason": reason},
        at=now,
    )
