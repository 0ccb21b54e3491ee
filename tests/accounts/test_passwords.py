"""Password policy profiles (等保 and OWASP ASVS), their validators, history, expiry and the change page."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.test import Client

from grassroots.accounts import passwords, services
from grassroots.accounts.models import PasswordHistory, Role, User
from grassroots.accounts.password_profiles import PROFILES, validators_for
from grassroots.audit.models import AuditEntry
from grassroots.audit.services import SYSTEM
from grassroots.core import clock
from grassroots.core.errors import DomainError
from tests.factories import PASSWORD, Tree

PAGE = "/accounts/password/"
API = "/api/v1/places"


def _use(settings: Any, profile: str) -> None:
    settings.GRASSROOTS_PASSWORD_PROFILE = profile
    settings.AUTH_PASSWORD_VALIDATORS = validators_for(profile)


@pytest.fixture
def dengbao(settings: Any) -> None:
    _use(settings, "dengbao")


@pytest.fixture
def asvs(settings: Any) -> None:
    _use(settings, "asvs")


def _refusal(password: str, user: User | None = None) -> str:
    """The Chinese message the configured validators give, or "" if the password passes."""
    try:
        passwords.check(password, user or User(username="zhangsan", display_name="张三"))
    except DomainError as exc:
        assert exc.field == "new_password1"
        return exc.message
    return ""


def _no_latin(text: str) -> bool:
    return not any("a" <= c.lower() <= "z" for c in text)


# --- the profiles ---------------------------------------------------------------------------------


def test_settings_default_to_the_dengbao_profile() -> None:
    from config import settings as configured

    assert configured.GRASSROOTS_PASSWORD_PROFILE == "dengbao"
    assert validators_for("dengbao") == configured.AUTH_PASSWORD_VALIDATORS
    with pytest.raises(ValueError, match="unknown password profile"):
        validators_for("weak")


@pytest.mark.usefixtures("dengbao")
def test_dengbao_profile() -> None:
    assert passwords.profile() == "dengbao"
    assert passwords.max_age() == timedelta(days=90)
    assert _refusal("Ab1!xyz") == "密码太短：至少需要8个字符。"
    assert _refusal("Ab1-qxzw") == ""  # 8 characters, 4 classes
    assert _refusal("qxzwvmkd-7") == ""  # lower, symbol, digit: 3 of 4
    assert _refusal("qxzwvmkdpt7") == "密码须包含大写字母、小写字母、数字、符号中的至少3类。"
    assert "密码不能全是数字。" in _refusal("73920461837")
    assert "这个密码太常见了。" in _refusal("woaini1314")  # a Chinese favourite Django's list lacks
    texts = passwords.help_texts()
    assert "密码至少8个字符。" in texts and "不能与最近5次用过的密码相同。" in texts
    assert "密码每90天须更换一次。" in texts
    assert all(_no_latin(text) for text in texts)


@pytest.mark.usefixtures("asvs")
def test_asvs_profile() -> None:
    assert passwords.profile() == "asvs"
    assert passwords.max_age() is None  # ASVS 2.1.10: no periodic rotation
    assert _refusal("Ab1-qxzw") == "密码太短：至少需要12个字符。"
    # No composition rules (ASVS 2.1.9): one class, or only digits, is fine when long and uncommon.
    assert _refusal("qxzwvmkdptrb") == ""
    assert _refusal("739204618375") == ""
    assert _refusal("password1234") == "这个密码太常见了。"
    assert "不能与最近" not in "".join(passwords.help_texts())
    assert all(_no_latin(text) for text in passwords.help_texts())


def test_each_profile_has_the_rules_the_docs_state() -> None:
    assert PROFILES["dengbao"] == {"min_length": 8, "min_classes": 3, "history": 5, "max_age_days": 90}
    assert PROFILES["asvs"] == {"min_length": 12, "min_classes": 0, "history": 0, "max_age_days": 0}
    names = {p: [v["NAME"].rsplit(".", 1)[1] for v in validators_for(p)] for p in PROFILES}
    for kept in ("CommonPasswordValidator", "UserAttributeSimilarityValidator", "MinimumLengthValidator"):
        assert kept in names["dengbao"] and kept in names["asvs"]
    assert "CharacterClassValidator" not in names["asvs"] and "PasswordHistoryValidator" not in names["asvs"]


# --- each validator -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "classes"),
    [("abcdefgh", 1), ("ABCdef", 2), ("abc123", 2), ("abc12!", 3), ("Abc12!", 4), ("网格员巡查2026", 2), ("Ab 1", 4)],
)
def test_character_classes(password: str, classes: int) -> None:
    assert passwords.character_classes(password) == classes


def test_character_class_validator() -> None:
    validator = passwords.CharacterClassValidator(min_classes=3)
    validator.validate("Abcdefg1")
    validator.validate("abcdef1!")
    with pytest.raises(ValidationError) as excinfo:
        validator.validate("ABCDEFGH1")
    assert excinfo.value.messages == ["密码须包含大写字母、小写字母、数字、符号中的至少3类。"]
    assert validator.get_help_text() == "密码须包含大写字母、小写字母、数字、符号中的至少3类。"
    with pytest.raises(ValueError):
        passwords.CharacterClassValidator(min_classes=5)


def test_chinese_versions_of_djangos_validators() -> None:
    user = User(username="wangxiaoming", display_name="王小明")
    cases = [
        (passwords.MinimumLengthValidator(min_length=12), "short", "密码太短：至少需要12个字符。"),
        (passwords.CommonPasswordValidator(), "Password123", "这个密码太常见了。"),
        (passwords.NumericPasswordValidator(), "20261130", "密码不能全是数字。"),
        (passwords.UserAttributeSimilarityValidator(), "wangxiaoming1", "密码与用户名或姓名太相似。"),
    ]
    for validator, bad, message in cases:
        with pytest.raises(ValidationError) as excinfo:
            validator.validate(bad, user)
        assert excinfo.value.messages == [message]
        validator.validate("Qz7-vercingetorix", user)  # accepted
        assert _no_latin(validator.get_help_text())


def test_extra_blocklist_file(tmp_path: Any) -> None:
    path = tmp_path / "breached.txt"
    path.write_text("qz7-vercingetorix\n")
    validator = passwords.CommonPasswordValidator(extra_list_path=str(path))
    with pytest.raises(ValidationError, match="这个密码太常见了"):
        validator.validate("Qz7-Vercingetorix")
    validator.validate("Qz7-vercingetorixx")


# --- history --------------------------------------------------------------------------------------

P = [f"Gr-{n}-Lxq{n}z-Tpw" for n in range(1, 8)]  # seven distinct passwords passing both profiles' rules


def _change(user: User, old: str, new: str) -> None:
    passwords.password_change(actor=SYSTEM, user=user, old_password=old, new_password=new)


@pytest.mark.django_db
@pytest.mark.usefixtures("dengbao")
def test_history_refuses_the_last_five_and_allows_the_sixth() -> None:
    user = User(username="hist", role=Role.RESIDENT)
    user.set_password(P[0])
    user.save()  # Django's password_changed hook records it
    row = PasswordHistory.objects.get(user=user)
    assert row.password == user.password and P[0] not in row.password  # a salted hash, never the text
    for old, new in itertools.pairwise(P[:5]):  # P1 … P5: P5 is current
        _change(user, old, new)
    assert PasswordHistory.objects.filter(user=user).count() == 5
    with pytest.raises(DomainError, match="新密码不能与原密码相同。"):
        _change(user, P[4], P[4])
    for used in P[0:4]:
        with pytest.raises(DomainError) as excinfo:
            _change(user, P[4], used)
        assert excinfo.value.message == "不能使用最近5次用过的密码。"
    _change(user, P[4], P[5])  # P2 … P6 are now the last five
    assert PasswordHistory.objects.filter(user=user).count() == 5
    _change(user, P[5], P[0])  # the 6th-last password is allowed again
    user.refresh_from_db()
    assert user.check_password(P[0])


@pytest.mark.django_db
@pytest.mark.usefixtures("dengbao")
def test_history_counts_the_current_password_even_without_rows() -> None:
    user = User.objects.create_user(username="legacy", password=P[0], role=Role.RESIDENT)
    PasswordHistory.objects.all().delete()  # as for an account made before the history existed
    with pytest.raises(DomainError, match="不能使用最近5次用过的密码"):
        passwords.password_reset(actor=SYSTEM, user=user, new_password=P[0], reason="测试")


@pytest.mark.django_db
@pytest.mark.usefixtures("asvs")
def test_asvs_keeps_no_history() -> None:
    user = User.objects.create_user(username="asvs", password=P[0], role=Role.RESIDENT)
    _change(user, P[0], P[1])
    assert not PasswordHistory.objects.exists()
    _change(user, P[1], P[0])  # reuse is not an ASVS rule


# --- expiry ---------------------------------------------------------------------------------------


def _age(user: User, days: int) -> None:
    User.objects.filter(pk=user.pk).update(password_changed_at=clock.now() - timedelta(days=days))
    user.refresh_from_db()


@pytest.mark.django_db
def test_setting_a_password_stamps_it(tree: Tree) -> None:
    user = tree.users[Role.GRID_WORKER]  # made by services.user_create, as demo_accounts does
    assert user.password_changed_at is not None
    assert clock.now() - user.password_changed_at < timedelta(minutes=5)
    assert not passwords.expired(user)


@pytest.mark.django_db
@pytest.mark.usefixtures("dengbao")
def test_expiry_counts_from_date_joined_when_never_stamped(tree: Tree) -> None:
    user = tree.users[Role.GRID_WORKER]
    User.objects.filter(pk=user.pk).update(password_changed_at=None, date_joined=clock.now() - timedelta(days=91))
    user.refresh_from_db()
    assert passwords.expired(user)
    User.objects.filter(pk=user.pk).update(password="!unusable")  # no password to change: never expires
    user.refresh_from_db()
    assert not passwords.expired(user)


@pytest.mark.django_db
@pytest.mark.usefixtures("dengbao")
def test_expired_password_sends_to_the_change_page_and_the_change_lets_through(client: Client, tree: Tree) -> None:
    user = tree.users[Role.GRID_WORKER]
    _age(user, 89)
    client.force_login(user)
    assert client.get("/").status_code == 200
    _age(user, 91)
    response = client.get("/places/?q=1")
    assert response.status_code == 302
    assert response.url == f"{PAGE}?next=%2Fplaces%2F%3Fq%3D1"
    page = client.get(response.url)
    assert page.status_code == 200
    body = page.content.decode()
    assert "您的密码已超过90天未修改" in body and "原密码" in body and "再次输入新密码" in body

    def post(**data: str) -> Any:
        fields = {"old_password": PASSWORD, "new_password1": P[0], "new_password2": P[0], "next": "/places/"}
        return client.post(PAGE, {**fields, **data}, REMOTE_ADDR="10.1.2.3")

    wrong = post(old_password="not-my-password")
    assert "原密码不正确。" in wrong.content.decode()
    assert AuditEntry.objects.latest("seq").action == "accounts.password.change_failed"
    assert "两次输入的新密码不一致。" in post(new_password2=P[1]).content.decode()
    weak = post(new_password1="qxzwvmkdpt7", new_password2="qxzwvmkdpt7").content.decode()
    assert "密码须包含大写字母、小写字母、数字、符号中的至少3类。" in weak
    assert client.get("/").status_code == 302  # still expired

    done = post()
    assert done.status_code == 302 and done.url == "/places/"
    user.refresh_from_db()
    assert user.check_password(P[0]) and not passwords.expired(user)
    entry = AuditEntry.objects.latest("seq")
    assert (entry.action, entry.actor_id, entry.object_id, entry.ip) == (
        "accounts.password.change",
        user.pk,
        str(user.pk),
        "10.1.2.3",
    )
    assert P[0] not in str(entry.detail) and PASSWORD not in str(entry.detail)
    assert client.get("/").status_code == 200  # this session was kept (update_session_auth_hash)
    assert PasswordHistory.objects.filter(user=user).count() == 2


@pytest.mark.django_db
@pytest.mark.usefixtures("asvs")
def test_asvs_never_expires(client: Client, tree: Tree) -> None:
    user = tree.users[Role.GRID_WORKER]
    _age(user, 3650)
    client.force_login(user)
    assert client.get("/").status_code == 200


@pytest.mark.django_db
@pytest.mark.usefixtures("dengbao")
def test_expiry_does_not_touch_api_tokens(client: Client, tree: Tree) -> None:
    user = tree.users[Role.GRID_WORKER]
    _age(user, 365)
    _, raw = services.api_token_create(actor=SYSTEM, user=user, name="巡查App")
    assert client.get(f"{API}/areas", headers={"Authorization": f"Bearer {raw}"}).status_code == 200


@pytest.mark.django_db
@pytest.mark.usefixtures("dengbao")
def test_expired_user_can_still_reach_logout_and_two_factor(client: Client, tree: Tree, settings: Any) -> None:
    settings.GRASSROOTS_2FA_REQUIRED = True
    user = tree.users[Role.GRID_WORKER]
    _age(user, 91)
    client.force_login(user)
    # Both policies at once: no redirect loop between the two pages.
    assert client.get("/accounts/2fa/").status_code == 200
    assert client.get(PAGE).status_code == 302  # TwoFactorPolicyMiddleware: enrol first
    assert client.post("/accounts/logout/").status_code == 302


@pytest.mark.django_db
def test_change_page_for_every_user_and_other_sessions_end(tree: Tree) -> None:
    user = tree.users[Role.RESIDENT]
    here, elsewhere = Client(), Client()
    here.force_login(user)
    elsewhere.force_login(user)
    other_key = elsewhere.session.session_key
    assert here.get(PAGE).status_code == 200
    response = here.post(PAGE, {"old_password": PASSWORD, "new_password1": P[2], "new_password2": P[2]})
    assert response.status_code == 302 and response.url == "/"
    assert not Session.objects.filter(session_key=other_key).exists()
    assert elsewhere.get("/").status_code == 302
    assert here.get(PAGE).status_code == 200
    assert AuditEntry.objects.filter(action="accounts.password.change").latest("seq").detail == {"sessions_ended": 1}


@pytest.mark.django_db
def test_change_page_needs_login_and_ignores_an_unsafe_next(client: Client, tree: Tree) -> None:
    assert client.get(PAGE).url.startswith("/accounts/login/")
    client.force_login(tree.users[Role.RESIDENT])
    response = client.post(
        PAGE + "?next=https://evil.example/",
        {"old_password": PASSWORD, "new_password1": P[3], "new_password2": P[3]},
    )
    assert response.url == "/"


def test_changed_at_reads_date_joined() -> None:
    joined = datetime(2026, 1, 1, tzinfo=clock.now().tzinfo)
    assert passwords.changed_at(User(date_joined=joined)) == joined
