"""Staff two-factor login: TOTP (RFC 6238) codes and one-time recovery codes.

The secret is sealed with ``core.crypto`` like personal data; recovery codes are stored as
password hashes. A code is accepted for the current 30-second step or one step either side
(clock drift) and only for a step later than the last accepted one, so a code seen over
someone's shoulder cannot be used again. Five wrong codes in a row lock the second step for
15 minutes: a counter on the row, not django-axes, because axes resets its count on every
successful password, which the attacker this guards against already has.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

import pyotp
import segno
from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction

from grassroots.accounts.models import RecoveryCode, Role, TwoFactor, User
from grassroots.audit.services import Actor, audit_record
from grassroots.core import clock, crypto
from grassroots.core.errors import DomainError, Forbidden

SECRET_CONTEXT = "accounts.totp_secret"  # noqa: S105 - an encryption context, not a secret
ISSUER = "基层治理平台"
STEP_SECONDS = 30
DRIFT_STEPS = 1
MAX_FAILURES = 5
LOCK_MINUTES = 15
RECOVERY_CODE_COUNT = 10
# No 0/o, 1/l/i: codes are copied from paper.
_RECOVERY_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
_RECOVERY_LENGTH = 10

Method = Literal["totp", "recovery"]


def required_for(user: User) -> bool:
    """Whether the policy obliges ``user`` to enrol (every role but resident, when switched on)."""
    return bool(settings.GRASSROOTS_2FA_REQUIRED) and user.role != Role.RESIDENT


def offered_to(user: User) -> bool:
    return user.role != Role.RESIDENT


def enrolled(user: User) -> bool:
    return TwoFactor.objects.filter(user=user, totp_confirmed_at__isnull=False).exists()


def current_step() -> int:
    return int(clock.now().timestamp()) // STEP_SECONDS


def _secret(tf: TwoFactor) -> str:
    return crypto.decrypt(bytes(tf.secret_cipher), context=SECRET_CONTEXT)


def _normalise(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


def _matching_step(secret: str, code: str, after: int | None) -> int | None:
    """The step within the drift window whose code is ``code`` and is later than ``after``."""
    totp = pyotp.TOTP(secret)
    now = current_step()
    for step in range(now - DRIFT_STEPS, now + DRIFT_STEPS + 1):
        if (after is None or step > after) and hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


@dataclass(frozen=True)
class Enrolment:
    """What the enrolment page shows: the QR code (inline SVG), the URI and the secret for typing."""

    uri: str
    qr_svg: str
    secret_groups: str


def enrolment_of(tf: TwoFactor) -> Enrolment:
    secret = _secret(tf)
    uri = pyotp.TOTP(secret).provisioning_uri(name=tf.user.get_username(), issuer_name=ISSUER)
    svg = segno.make(uri, error="m", micro=False).svg_inline(scale=5, border=2, omitsize=False)
    groups = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    return Enrolment(uri=uri, qr_svg=str(svg), secret_groups=groups)


@transaction.atomic
def two_factor_begin(*, user: User) -> TwoFactor:
    """The user's row, creating a pending one with a fresh secret if there is none.

    Reloading the page keeps the same pending secret, so an authenticator scanned a moment
    ago still matches.
    """
    if not offered_to(user):
        raise Forbidden("居民账号无需开启两步验证。")
    tf = TwoFactor.objects.select_for_update().filter(user=user).first()
    if tf is None:
        tf = TwoFactor.objects.create(
            user=user,
            secret_cipher=crypto.encrypt(pyotp.random_base32(), context=SECRET_CONTEXT),
            created_at=clock.now(),
        )
    return tf


def _new_recovery_codes(tf: TwoFactor) -> list[str]:
    tf.recovery_codes.all().delete()
    codes = ["".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_LENGTH)) for _ in range(10)]
    RecoveryCode.objects.bulk_create(RecoveryCode(two_factor=tf, code_hash=make_password(code)) for code in codes)
    return [f"{code[:5]}-{code[5:]}" for code in codes]


def two_factor_confirm(*, actor: Actor, user: User, code: str) -> list[str]:
    """Switch the second factor on once a current code proves the authenticator; the recovery codes, once."""
    with transaction.atomic():
        tf = TwoFactor.objects.select_for_update().filter(user=user).first()
        if tf is None:
            raise DomainError("请重新打开两步验证页面扫码。")
        if tf.totp_confirmed_at is not None:
            raise DomainError("两步验证已开启。")
        step = _matching_step(_secret(tf), _normalise(code), None)
        if step is not None:
            tf.totp_confirmed_at = clock.now()
            tf.last_step = step
            tf.failed_count = 0
            tf.save(update_fields=["totp_confirmed_at", "last_step", "failed_count"])
            codes = _new_recovery_codes(tf)
            audit_record(actor=actor, action="accounts.2fa.enable", object_type="user", object_id=user.pk)
            return codes
        audit_record(
            actor=actor, action="accounts.2fa.failed", object_type="user", object_id=user.pk, detail={"stage": "enrol"}
        )
    raise DomainError("验证码不正确，请确认手机时间准确后重新输入当前的6位验证码。", field="code")


def _lock_message(tf: TwoFactor) -> str:
    until = tf.locked_until.astimezone(clock.now().tzinfo) if tf.locked_until else None
    when = f"，请在{until:%H:%M}后再试" if until else ""
    return f"验证码连续错误{MAX_FAILURES}次，两步验证已锁定{LOCK_MINUTES}分钟{when}。"


def two_factor_verify(
    *, actor: Actor, user: User, code: str, stage: str = "login", password: str | None = None
) -> Method:
    """Check a 6-digit code or a recovery code (consumed) for an enrolled user, and the
    password too when one is given (disabling). A wrong password counts as a failure, so a
    stolen session cannot guess passwords here without limit.

    Failures are counted and audited even though the caller sees an error, so they are
    committed before DomainError is raised.
    """
    with transaction.atomic():
        tf = TwoFactor.objects.select_for_update().filter(user=user, totp_confirmed_at__isnull=False).first()
        if tf is None:
            raise DomainError("该账号未开启两步验证。")
        now = clock.now()
        if tf.locked_until is not None and tf.locked_until > now:
            raise DomainError(_lock_message(tf), code="locked", field="code")
        value = _normalise(code)
        method: Method | None = None
        password_ok = password is None or user.check_password(password)
        if not password_ok:
            pass
        elif value.isdigit() and len(value) == 6:
            step = _matching_step(_secret(tf), value, tf.last_step)
            if step is not None:
                tf.last_step = step
                method = "totp"
        elif len(value) == _RECOVERY_LENGTH:
            for rc in tf.recovery_codes.filter(used_at__isnull=True):
                if check_password(value, rc.code_hash):
                    rc.used_at = now
                    rc.save(update_fields=["used_at"])
                    method = "recovery"
                    left = tf.recovery_codes.filter(used_at__isnull=True).count()
                    audit_record(
                        actor=actor,
                        action="accounts.2fa.recovery_used",
                        object_type="user",
                        object_id=user.pk,
                        detail={"stage": stage, "left": left},
                    )
                    break
        if method is not None:
            tf.failed_count = 0
            tf.locked_until = None
            tf.save(update_fields=["last_step", "failed_count", "locked_until"])
            return method
        tf.failed_count += 1
        locked = tf.failed_count >= MAX_FAILURES
        if locked:
            tf.failed_count = 0
            tf.locked_until = now + timedelta(minutes=LOCK_MINUTES)
        tf.save(update_fields=["failed_count", "locked_until"])
        audit_record(
            actor=actor,
            action="accounts.2fa.failed",
            object_type="user",
            object_id=user.pk,
            detail={"stage": stage, "locked": locked, **({} if password_ok else {"reason": "password"})},
        )
    if locked:
        raise DomainError(_lock_message(tf), code="locked", field="code")
    left_tries = MAX_FAILURES - tf.failed_count
    if not password_ok:
        raise DomainError(f"密码不正确，还可再试{left_tries}次。", field="password")
    raise DomainError(f"验证码或恢复码不正确，还可再试{left_tries}次。", field="code")


def recovery_codes_left(user: User) -> int:
    return RecoveryCode.objects.filter(two_factor__user=user, used_at__isnull=True).count()


def two_factor_disable(*, actor: Actor, user: User, password: str, code: str) -> None:
    """The user switches the second factor off: password and a current code (or a recovery code)."""
    two_factor_verify(actor=actor, user=user, code=code, stage="disable", password=password)
    with transaction.atomic():
        TwoFactor.objects.filter(user=user).delete()
        audit_record(actor=actor, action="accounts.2fa.disable", object_type="user", object_id=user.pk)


def two_factor_reset(*, actor: Actor, user: User, reason: str) -> bool:
    """An administrator removes a user's second factor (a lost phone); the user enrols again.

    Returns whether there was one to remove. Audited either way, with the reason.
    """
    if not reason.strip():
        raise DomainError("请填写重置原因。", field="reason")
    with transaction.atomic():
        deleted, _ = TwoFactor.objects.filter(user=user).delete()
        audit_record(
            actor=actor,
            action="accounts.2fa.reset",
            object_type="user",
            object_id=user.pk,
            detail={"username": user.get_username(), "reason": reason.strip(), "had_two_factor": bool(deleted)},
        )
    return bool(deleted)
