"""Staff two-factor login (TOTP): enrolment, the second login step, replay, drift, recovery
codes, lockout, the required policy, disable and the administrator's reset."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pyotp
import pytest
from django.core.management import call_command
from django.db import connection

from grassroots.accounts import two_factor
from grassroots.accounts.models import RecoveryCode, Role, TwoFactor, User
from grassroots.audit.models import AuditEntry
from grassroots.audit.services import SYSTEM, verify_chain
from grassroots.core import clock, crypto
from grassroots.core.errors import DomainError
from tests.factories import PASSWORD, Tree

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
CODE = "/accounts/login/code/"
ENROL = "/accounts/2fa/"
# The start of a 30-second step, so ±1 step stays inside a clear window.
T0 = datetime(2026, 11, 30, 2, 0, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.at = T0

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(clock, "now", fake)
    return fake


def _secret(user: User) -> str:
    tf = TwoFactor.objects.get(user=user)
    return crypto.decrypt(bytes(tf.secret_cipher), context=two_factor.SECRET_CONTEXT)


def _code(secret: str, at: datetime, steps: int = 0) -> str:
    return pyotp.TOTP(secret).at(at + timedelta(seconds=30 * steps))


def _enrol(user: User, fixed_clock: Clock) -> tuple[str, list[str]]:
    """Enrol ``user`` through the services five minutes before T0, so login codes at T0 are fresh."""
    two_factor.two_factor_begin(user=user)
    secret = _secret(user)
    saved = fixed_clock.at
    fixed_clock.at = T0 - timedelta(minutes=5)
    codes = two_factor.two_factor_confirm(actor=SYSTEM, user=user, code=_code(secret, fixed_clock.at))
    fixed_clock.at = saved
    return secret, codes


def _actions(user: User) -> list[str]:
    return list(AuditEntry.objects.filter(object_id=str(user.pk)).order_by("seq").values_list("action", flat=True))


def _password_step(client: Any, user: User) -> Any:
    return client.post(LOGIN, {"username": user.username, "password": PASSWORD}, REMOTE_ADDR="10.1.2.3")


# --- Enrolment -------------------------------------------------------------------------


def test_enrolment_page_shows_qr_and_secret_and_confirms_only_with_a_right_code(
    client: Any, tree: Tree, fixed_clock: Clock
) -> None:
    user = tree.users[Role.GRID_WORKER]
    client.force_login(user)
    page = client.get(ENROL)
    assert page.status_code == 200
    body = page.content.decode()
    secret = _secret(user)
    assert "<svg" in body and "两步验证" in body
    assert " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)) in body
    # The same pending secret on a reload: a phone scanned a moment ago still matches.
    client.get(ENROL)
    assert _secret(user) == secret
    enrolment = two_factor.enrolment_of(TwoFactor.objects.get(user=user))
    assert enrolment.uri.startswith("otpauth://totp/")
    assert pyotp.parse_uri(enrolment.uri).issuer == "基层治理平台"
    assert pyotp.parse_uri(enrolment.uri).name == user.username

    wrong = str((int(_code(secret, T0)) + 1) % 1_000_000).zfill(6)
    response = client.post(ENROL, {"action": "confirm", "code": wrong})
    assert "验证码不正确" in response.content.decode()
    assert TwoFactor.objects.get(user=user).totp_confirmed_at is None
    assert not two_factor.enrolled(user)

    response = client.post(ENROL, {"action": "confirm", "code": _code(secret, T0)})
    body = response.content.decode()
    assert response.status_code == 200
    assert two_factor.enrolled(user)
    assert TwoFactor.objects.get(user=user).totp_confirmed_at == T0
    shown = re.findall(r"<li>([2-9a-z]{5}-[2-9a-z]{5})</li>", body)
    assert len(shown) == 10 == RecoveryCode.objects.filter(two_factor__user=user).count()
    hashes = list(RecoveryCode.objects.filter(two_factor__user=user).values_list("code_hash", flat=True))
    assert not any(code.replace("-", "") in h for code in shown for h in hashes)
    # Shown once: the page afterwards has the status and no codes.
    again = client.get(ENROL).content.decode()
    assert "已开启" in again and shown[0] not in again
    assert _actions(user)[-2:] == ["accounts.2fa.failed", "accounts.2fa.enable"]


def test_secret_is_not_stored_in_clear(tree: Tree, fixed_clock: Clock) -> None:
    user = tree.users[Role.COMMUNITY_WORKER]
    secret, _ = _enrol(user, fixed_clock)
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret_cipher FROM accounts_twofactor WHERE user_id = %s", [user.pk])
        raw = bytes(cursor.fetchone()[0])
    assert secret.encode() not in raw
    assert secret.lower().encode() not in raw
    assert crypto.decrypt(raw, context=two_factor.SECRET_CONTEXT) == secret


def test_residents_are_not_offered_two_factor(client: Any, tree: Tree) -> None:
    client.force_login(tree.users[Role.RESIDENT])
    assert client.get(ENROL).status_code == 403
    assert not TwoFactor.objects.exists()
    assert client.get("/").context["two_factor_offered"] is False
    client.force_login(tree.users[Role.GRID_WORKER])
    assert client.get("/").context["two_factor_offered"] is True


# --- Login ---------------------------------------------------------------------------------


def test_login_of_an_enrolled_user_needs_the_code(client: Any, tree: Tree, fixed_clock: Clock) -> None:
    user = tree.users[Role.SUBDISTRICT_DISPATCHER]
    secret, _ = _enrol(user, fixed_clock)
    response = client.post(
        f"{LOGIN}?next=/places/", {"username": user.username, "password": PASSWORD}, REMOTE_ADDR="10.1.2.3"
    )
    assert response.status_code == 302 and response.url == CODE
    assert "_auth_user_id" not in client.session
    assert client.get("/").status_code == 302  # not logged in yet
    page = client.get(CODE)
    assert page.status_code == 200 and "6位验证码" in page.content.decode()

    response = client.post(CODE, {"code": "000000" if _code(secret, T0) != "000000" else "111111"})
    assert "验证码或恢复码不正确，还可再试4次。" in response.content.decode()
    assert "_auth_user_id" not in client.session

    response = client.post(CODE, {"code": _code(secret, T0)}, REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 302 and response.url == "/places/"
    assert int(client.session["_auth_user_id"]) == user.pk
    login = AuditEntry.objects.filter(action="auth.login", actor_id=user.pk).get()
    assert login.detail == {"second_factor": "totp"} and login.ip == "10.1.2.3"
    assert _actions(user)[-1] == "accounts.2fa.failed"
    assert verify_chain().ok


def test_users_without_two_factor_still_log_in_with_the_password_alone(client: Any, tree: Tree) -> None:
    user = tree.users[Role.GRID_WORKER]
    response = _password_step(client, user)
    assert response.status_code == 302 and response.url == "/"
    assert int(client.session["_auth_user_id"]) == user.pk


def test_the_code_page_expires_after_five_minutes(client: Any, tree: Tree, fixed_clock: Clock) -> None:
    user = tree.users[Role.ADMIN]
    secret, _ = _enrol(user, fixed_clock)
    before = TwoFactor.objects.get(user=user).last_step
    _password_step(client, user)
    fixed_clock.at = T0 + timedelta(minutes=4, seconds=59)
    assert client.get(CODE).status_code == 200
    fixed_clock.at = T0 + timedelta(minutes=5, seconds=1)
    response = client.post(CODE, {"code": _code(secret, fixed_clock.at)})
    assert response.status_code == 302 and response.url == LOGIN
    assert "_auth_user_id" not in client.session
    assert TwoFactor.objects.get(user=user).last_step == before  # the code was never tried


def test_the_code_page_without_a_password_step_goes_back_to_login(client: Any, tree: Tree) -> None:
    response = client.get(CODE)
    assert response.status_code == 302 and response.url == LOGIN
    client.cookies.clear()
    session = client.session
    session["accounts_2fa_pending"] = '{"uid": 1}'  # not signed by the server
    session.save()
    assert client.post(CODE, {"code": "123456"}).url == LOGIN


def test_a_code_is_refused_a_second_time(client: Any, tree: Tree, fixed_clock: Clock) -> None:
    user = tree.users[Role.PARTY_SECRETARY]
    secret, _ = _enrol(user, fixed_clock)
    code = _code(secret, T0)
    _password_step(client, user)
    assert client.post(CODE, {"code": code}).status_code == 302
    client.post("/accounts/logout/")
    _password_step(client, user)
    response = client.post(CODE, {"code": code})
    assert response.status_code == 200 and "验证码或恢复码不正确" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # An earlier step's code, still inside the drift window, is refused too.
    with pytest.raises(DomainError):
        two_factor.two_factor_verify(actor=SYSTEM, user=user, code=_code(secret, T0, -1))


@pytest.mark.parametrize(("steps", "accepted"), [(-2, False), (-1, True), (0, True), (1, True), (2, False)])
def test_clock_drift_of_one_step_is_accepted_and_two_refused(
    tree: Tree, fixed_clock: Clock, steps: int, accepted: bool
) -> None:
    user = tree.users[Role.DISTRICT_LEADER]
    secret, _ = _enrol(user, fixed_clock)
    code = _code(secret, T0, steps)
    if accepted:
        assert two_factor.two_factor_verify(actor=SYSTEM, user=user, code=code) == "totp"
        assert TwoFactor.objects.get(user=user).last_step == two_factor.current_step() + steps
    else:
        with pytest.raises(DomainError):
            two_factor.two_factor_verify(actor=SYSTEM, user=user, code=code)


def test_a_recovery_code_logs_in_once(client: Any, tree: Tree, fixed_clock: Clock) -> None:
    user = tree.users[Role.DEPARTMENT_OFFICER]
    _, codes = _enrol(user, fixed_clock)
    _password_step(client, user)
    response = client.post(CODE, {"code": codes[3].upper()}, follow=True)  # case and hyphen do not matter
    assert int(client.session["_auth_user_id"]) == user.pk
    assert "还剩9个" in response.content.decode()
    assert RecoveryCode.objects.filter(two_factor__user=user, used_at=T0).count() == 1
    used = AuditEntry.objects.get(action="accounts.2fa.recovery_used", object_id=str(user.pk))
    assert used.detail == {"stage": "login", "left": 9}
    assert AuditEntry.objects.get(action="auth.login", actor_id=user.pk).detail == {"second_factor": "recovery"}

    client.post("/accounts/logout/")
    _password_step(client, user)
    response = client.post(CODE, {"code": codes[3]})
    assert "验证码或恢复码不正确" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert client.post(CODE, {"code": codes[4].replace("-", "")}).status_code == 302


def test_five_wrong_codes_lock_the_second_step_for_fifteen_minutes(client: Any, tree: Tree, fixed_clock: Clock) -> None:
    user = tree.users[Role.COMMUNITY_WORKER]
    secret, codes = _enrol(user, fixed_clock)
    right = _code(secret, T0)
    wrong = str((int(right) + 500_000) % 1_000_000).zfill(6)
    _password_step(client, user)
    for left in (4, 3, 2, 1):
        assert f"还可再试{left}次" in client.post(CODE, {"code": wrong}).content.decode()
    response = client.post(CODE, {"code": wrong})
    assert response.status_code == 429
    assert "验证码连续错误5次，两步验证已锁定15分钟" in response.content.decode()
    # Locked: the right code and a recovery code are refused, and the password step does not unlock it.
    response = client.post(CODE, {"code": right})
    assert response.status_code == 429 and "_auth_user_id" not in client.session
    _password_step(client, user)
    assert client.post(CODE, {"code": codes[0]}).status_code == 429
    assert RecoveryCode.objects.filter(two_factor__user=user, used_at__isnull=False).count() == 0
    failed = AuditEntry.objects.filter(action="accounts.2fa.failed", object_id=str(user.pk)).order_by("seq")
    assert [e.detail["locked"] for e in failed] == [False, False, False, False, True]

    fixed_clock.at = T0 + timedelta(minutes=15)
    assert two_factor.two_factor_verify(actor=SYSTEM, user=user, code=_code(secret, fixed_clock.at)) == "totp"
    assert TwoFactor.objects.get(user=user).failed_count == 0


def test_a_right_code_resets_the_failure_count(tree: Tree, fixed_clock: Clock) -> None:
    user = tree.users[Role.GRID_WORKER]
    secret, _ = _enrol(user, fixed_clock)
    wrong = str((int(_code(secret, T0)) + 1) % 1_000_000).zfill(6)
    for _ in range(4):
        with pytest.raises(DomainError):
            two_factor.two_factor_verify(actor=SYSTEM, user=user, code=wrong)
    two_factor.two_factor_verify(actor=SYSTEM, user=user, code=_code(secret, T0))
    fixed_clock.at = T0 + timedelta(seconds=30)
    with pytest.raises(DomainError) as err:
        two_factor.two_factor_verify(actor=SYSTEM, user=user, code=wrong)
    assert err.value.code != "locked" and "还可再试4次" in err.value.message


# --- Policy --------------------------------------------------------------------------------


def test_required_policy_sends_unenrolled_staff_to_enrolment_but_not_residents(
    client: Any, tree: Tree, fixed_clock: Clock, settings: Any
) -> None:
    settings.GRASSROOTS_2FA_REQUIRED = True
    staff = tree.users[Role.GRID_WORKER]
    response = _password_step(client, staff)
    assert response.status_code == 302
    for path in ("/", "/places/", "/cases/queue/"):
        response = client.get(path)
        assert response.status_code == 302 and response.url == ENROL, path
    assert client.get(ENROL).status_code == 200
    client.post(ENROL, {"action": "confirm", "code": _code(_secret(staff), T0)})
    assert client.get("/").status_code == 200
    client.post("/accounts/logout/")

    resident = tree.users[Role.RESIDENT]
    _password_step(client, resident)
    assert client.get("/").status_code == 200
    assert not TwoFactor.objects.filter(user=resident).exists()


def test_policy_off_lets_unenrolled_staff_in(client: Any, tree: Tree, settings: Any) -> None:
    settings.GRASSROOTS_2FA_REQUIRED = False
    client.force_login(tree.users[Role.ADMIN])
    assert client.get("/").status_code == 200


# --- Disable and reset ---------------------------------------------------------------------


def test_disable_needs_the_password_and_a_current_code(client: Any, tree: Tree, fixed_clock: Clock) -> None:
    user = tree.users[Role.SUBDISTRICT_DISPATCHER]
    secret, _ = _enrol(user, fixed_clock)
    client.force_login(user)
    response = client.post(ENROL, {"action": "disable", "password": "wrong-password", "code": _code(secret, T0)})
    assert "密码不正确，还可再试4次" in response.content.decode() and two_factor.enrolled(user)
    assert TwoFactor.objects.get(user=user).failed_count == 1  # counts towards the lockout
    assert AuditEntry.objects.filter(action="accounts.2fa.failed").order_by("seq").last().detail == {
        "stage": "disable",
        "locked": False,
        "reason": "password",
    }
    response = client.post(ENROL, {"action": "disable", "password": PASSWORD, "code": "12345"})
    assert "验证码或恢复码不正确，还可再试3次" in response.content.decode() and two_factor.enrolled(user)
    response = client.post(ENROL, {"action": "disable", "password": PASSWORD, "code": _code(secret, T0)})
    assert response.status_code == 302 and not two_factor.enrolled(user)
    assert RecoveryCode.objects.filter(two_factor__user=user).count() == 0
    assert _actions(user)[-3:] == ["accounts.2fa.failed", "accounts.2fa.failed", "accounts.2fa.disable"]
    # Password only again: no second page.
    client.logout()
    assert _password_step(client, user).url == "/"


def test_reset_command_removes_the_second_factor_and_is_audited(tree: Tree, fixed_clock: Clock) -> None:
    user = tree.users[Role.PARTY_SECRETARY]
    _enrol(user, fixed_clock)
    call_command("reset_2fa", user.username, reason="工单 2026-118：手机丢失")
    assert not TwoFactor.objects.filter(user=user).exists()
    assert not RecoveryCode.objects.exists()
    entry = AuditEntry.objects.get(action="accounts.2fa.reset")
    assert entry.actor_label == "manage.py reset_2fa" and entry.object_id == str(user.pk)
    assert entry.detail == {"username": user.username, "reason": "工单 2026-118：手机丢失", "had_two_factor": True}
    with pytest.raises(DomainError):
        two_factor.two_factor_reset(actor=SYSTEM, user=user, reason="  ")
