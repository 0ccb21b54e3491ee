"""Password policy: the validators of the profiles (Chinese messages) and changing a password.

``GRASSROOTS_PASSWORD_PROFILE`` picks the validators (``password_profiles``); everything else
(the maximum age read by ``PasswordExpiryMiddleware``, the history length) is read back from
``AUTH_PASSWORD_VALIDATORS``, so a test that overrides that one setting gets a coherent policy.

Django calls each validator's ``password_changed`` whenever a saved user's password was set
(``set_password`` then ``save``: our services, ``manage.py changepassword``), which is where the
history and ``password_changed_at`` are written. ``create_user`` writes the hash directly and
records nothing: its account's password then dates from ``date_joined`` (the same moment), and
the history check always counts the current hash, recorded or not.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import password_validation as django_validation
from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError
from django.db import transaction

from grassroots.accounts import sessions
from grassroots.accounts.models import PasswordHistory, Role, User
from grassroots.audit.services import Actor, audit_record
from grassroots.core import clock
from grassroots.core.errors import DomainError

# --- Django's validators, in Chinese -------------------------------------------------------------
# Django 5.2's zh_Hans catalogue leaves some of these texts in English.


class MinimumLengthValidator(django_validation.MinimumLengthValidator):
    def get_error_message(self) -> str:
        return f"密码太短：至少需要{self.min_length}个字符。"

    def get_help_text(self) -> str:
        return f"密码至少{self.min_length}个字符。"


class UserAttributeSimilarityValidator(django_validation.UserAttributeSimilarityValidator):
    DEFAULT_USER_ATTRIBUTES = ("username", "display_name", "first_name", "last_name", "email")

    def __init__(self, user_attributes: tuple[str, ...] = DEFAULT_USER_ATTRIBUTES, max_similarity: float = 0.7):
        super().__init__(user_attributes=user_attributes, max_similarity=max_similarity)

    def get_error_message(self) -> str:
        return "密码与用户名或姓名太相似。"

    def get_help_text(self) -> str:
        return "密码不能与用户名、姓名等个人信息相似。"


# Passwords common in Chinese leaks (CSDN, 2011, and later top lists) that Django's English-centred
# list of 20,000 misses: pinyin phrases, "love you for a lifetime" digits, QQ habits.
CHINESE_COMMON = frozenset(
    {
        "woaini1314",
        "woaini520",
        "woaini123",
        "woaini",
        "5201314",
        "1314520",
        "52013140",
        "5201314520",
        "qq123456",
        "qq5201314",
        "a123456",
        "a1234567",
        "a12345678",
        "a123456789",
        "abc123456",
        "123456abc",
        "123456a",
        "woshishui",
        "wodemima",
        "mima123",
        "mima123456",
        "zhang123",
        "wang123456",
        "li123456",
        "xiazhili",
        "dearbook",
        "147258369",
        "123456789a",
        "1qaz2wsx",
        "1qaz@wsx",
        "1qaz!qaz",
        "qwe123456",
        "p@ssw0rd",
        "admin123",
        "admin@123",
        "admin888",
        "root123",
        "abc@123",
        "abcd@1234",
        "abcd1234",
        "password1",
        "password@123",
        "grassroots",
    }
)


class CommonPasswordValidator(django_validation.CommonPasswordValidator):
    """Django's list of 20,000, a few Chinese favourites, and optionally a local list of breached ones.

    ``extra_list_path`` (``GRASSROOTS_PASSWORD_BLOCKLIST``): one password per line, plain or gzip;
    for example the most common entries of a breach corpus, prepared offline (this server asks no
    online service).
    """

    def __init__(self, password_list_path: Any = None, extra_list_path: str = "") -> None:
        if password_list_path is None:
            super().__init__()
        else:
            super().__init__(password_list_path=password_list_path)
        self.passwords |= CHINESE_COMMON
        if extra_list_path:
            self.passwords |= django_validation.CommonPasswordValidator(password_list_path=extra_list_path).passwords

    def get_error_message(self) -> str:
        return "这个密码太常见了。"

    def get_help_text(self) -> str:
        return "密码不能是常见密码或已泄露的密码。"


class NumericPasswordValidator(django_validation.NumericPasswordValidator):
    def get_error_message(self) -> str:
        return "密码不能全是数字。"

    def get_help_text(self) -> str:
        return "密码不能全是数字。"


# --- Our validators ------------------------------------------------------------------------------


def character_classes(password: str) -> int:
    """How many of upper case, lower case, digit and symbol (anything else, 汉字 included) ``password`` uses."""
    upper = any(c.isascii() and c.isupper() for c in password)
    lower = any(c.isascii() and c.islower() for c in password)
    digit = any(c.isdigit() for c in password)
    symbol = any(not (c.isascii() and c.isalnum()) and not c.isdigit() for c in password)
    return upper + lower + digit + symbol


class CharacterClassValidator:
    """等保: the password mixes at least ``min_classes`` of the four character classes."""

    def __init__(self, min_classes: int = 3) -> None:
        if not 1 <= min_classes <= 4:
            raise ValueError("min_classes must be between 1 and 4")
        self.min_classes = min_classes

    def validate(self, password: str, user: Any = None) -> None:
        if character_classes(password) < self.min_classes:
            raise ValidationError(
                self.get_error_message(), code="password_too_few_classes", params={"min_classes": self.min_classes}
            )

    def get_error_message(self) -> str:
        return f"密码须包含大写字母、小写字母、数字、符号中的至少{self.min_classes}类。"

    def get_help_text(self) -> str:
        return f"密码须包含大写字母、小写字母、数字、符号中的至少{self.min_classes}类。"


class PasswordHistoryValidator:
    """等保: none of the account's last ``keep`` passwords (the current one included) may be used again.

    The history holds the password hashes (salted, the same hasher as the account), never the
    passwords, and only the last ``keep`` of them.
    """

    def __init__(self, keep: int = 5) -> None:
        if keep < 1:
            raise ValueError("keep must be at least 1")
        self.keep = keep

    def _recent_hashes(self, user: User) -> list[str]:
        stored = list(
            PasswordHistory.objects.filter(user_id=user.pk)
            .order_by("-created_at", "-pk")
            .values_list("password", flat=True)[: self.keep]
        )
        # The current hash counts as the newest even when it was set before the history existed.
        current = [user.password] if user.password and user.has_usable_password() else []
        return (current + [h for h in stored if h not in current])[: self.keep]

    def validate(self, password: str, user: Any = None) -> None:
        if user is None or user.pk is None:
            return
        if any(check_password(password, encoded) for encoded in self._recent_hashes(user)):
            raise ValidationError(self.get_error_message(), code="password_reused", params={"keep": self.keep})

    def password_changed(self, password: str, user: Any = None) -> None:
        if user is None or user.pk is None or not user.has_usable_password():
            return
        PasswordHistory.objects.create(user_id=user.pk, password=user.password, created_at=clock.now())
        old = list(
            PasswordHistory.objects.filter(user_id=user.pk)
            .order_by("-created_at", "-pk")
            .values_list("pk", flat=True)[self.keep :]
        )
        if old:
            PasswordHistory.objects.filter(pk__in=old).delete()

    def get_error_message(self) -> str:
        return f"不能使用最近{self.keep}次用过的密码。"

    def get_help_text(self) -> str:
        return f"不能与最近{self.keep}次用过的密码相同。"


class PasswordAgeValidator:
    """Not a check on the text: stamps ``User.password_changed_at`` and carries the profile's maximum age.

    ``max_age_days=0``: passwords never expire (ASVS 2.1.10).
    """

    def __init__(self, max_age_days: int = 0) -> None:
        self.max_age_days = max_age_days

    def validate(self, password: str, user: Any = None) -> None:
        return None

    def password_changed(self, password: str, user: Any = None) -> None:
        if user is None or user.pk is None:
            return
        now = clock.now()
        type(user)._default_manager.filter(pk=user.pk).update(password_changed_at=now)
        user.password_changed_at = now

    def get_help_text(self) -> str:
        return f"密码每{self.max_age_days}天须更换一次。" if self.max_age_days else ""


# --- Reading the policy --------------------------------------------------------------------------


def profile() -> str:
    return str(getattr(settings, "GRASSROOTS_PASSWORD_PROFILE", "dengbao"))


def max_age() -> timedelta | None:
    """The configured maximum password age, or None when passwords do not expire."""
    for validator in django_validation.get_default_password_validators():
        if isinstance(validator, PasswordAgeValidator) and validator.max_age_days > 0:
            return timedelta(days=validator.max_age_days)
    return None


def changed_at(user: User) -> datetime:
    """When the password was last set; before this was recorded, the day the account was made."""
    return user.password_changed_at or user.date_joined


def expired(user: User) -> bool:
    """Whether ``user`` must change their password before going on (only accounts with a usable password)."""
    limit = max_age()
    # Residents are not made to rotate: they mostly sign in by SMS code, and 等保's rotation rule
    # is about the operators of the system; their passwords still meet the profile when set.
    if limit is None or not user.has_usable_password() or user.role == Role.RESIDENT:
        return False
    return bool(clock.now() - changed_at(user) >= limit)


def help_texts() -> list[str]:
    return [text for text in django_validation.password_validators_help_texts() if text]


def check(password: str, user: User) -> None:
    """Apply the configured validators; DomainError with every failed rule, in Chinese."""
    try:
        django_validation.validate_password(password, user)
    except ValidationError as exc:
        raise DomainError("；".join(" ".join(e.messages) for e in exc.error_list), field="new_password1") from None


# --- Writes --------------------------------------------------------------------------------------


def password_change(
    *, actor: Actor, user: User, old_password: str, new_password: str, keep_session_key: str | None = None
) -> int:
    """A user changes their own password. Every other session of the account ends; returns how many."""
    if not user.check_password(old_password):
        # Recorded outside the change's transaction, which a wrong password never opens.
        audit_record(actor=actor, action="accounts.password.change_failed", object_type="user", object_id=user.pk)
        raise DomainError("原密码不正确。", field="old_password")
    if new_password == old_password:
        raise DomainError("新密码不能与原密码相同。", field="new_password1")
    check(new_password, user)
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        ended = sessions.end_sessions(user, except_key=keep_session_key)
        audit_record(
            actor=actor,
            action="accounts.password.change",
            object_type="user",
            object_id=user.pk,
            detail={"sessions_ended": ended},
        )
    return ended


def password_reset(*, actor: Actor, user: User, new_password: str, reason: str) -> int:
    """An administrator sets a new password (forgotten password): every session of the account ends."""
    if not reason.strip():
        raise DomainError("请填写重置原因。", field="reason")
    with transaction.atomic():
        check(new_password, user)
        user.set_password(new_password)
        user.save(update_fields=["password"])
        ended = sessions.end_sessions(user)
        audit_record(
            actor=actor,
            action="accounts.password.reset",
            object_type="user",
            object_id=user.pk,
            detail={"reason": reason.strip(), "sessions_ended": ended},
        )
    return ended
