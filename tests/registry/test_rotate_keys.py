"""``manage.py rotate_keys``: re-sealing every encrypted column under a new data key, in batches."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from grassroots.audit.models import AuditEntry
from grassroots.core import crypto
from grassroots.core.ids import make_id_number
from grassroots.registry import services as registry
from grassroots.registry.management.commands.rotate_keys import SOURCE_RECORD_CONTEXT, UNIT_PHONE_CONTEXT
from grassroots.registry.models import ImportJob, Person, Source, SourceRecord, Unit

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db


@pytest.fixture
def keys_file(settings, tmp_path, _test_keyring):
    """A copy of the session keys file: rows sealed by the session keyring stay readable."""
    path = tmp_path / "keys.json"
    shutil.copy(_test_keyring, path)
    settings.KEYS_FILE = path
    crypto.keyring.cache_clear()
    yield path
    crypto.keyring.cache_clear()


def _person(seq: int, *, phone: bool = True) -> Person:
    number = make_id_number("320583", date(1980, 1, 1 + seq % 28), seq, "M")
    sealed_id = registry.seal_id_number(number)
    sealed_phone = registry.seal_phone(f"1391234{seq:04d}") if phone else None
    return Person.objects.create(
        name=f"测试{seq}",
        sex="M",
        birth_date=date(1980, 1, 1 + seq % 28),
        id_number_cipher=sealed_id.cipher,
        id_number_hash=sealed_id.hash,
        id_number_masked=sealed_id.masked,
        phone_cipher=sealed_phone.cipher if sealed_phone else None,
        phone_hash=sealed_phone.hash if sealed_phone else "",
        phone_masked=sealed_phone.masked if sealed_phone else "",
        path="3205.320583",
    )


@pytest.fixture
def sealed_rows(keys_file):
    """Seven people (two without a phone), two source records and two units, all under k1."""
    people = [_person(i, phone=i % 3 != 0) for i in range(1, 8)]
    source = Source.objects.create(code="gaj", name="公安")
    job = ImportJob.objects.create(
        source=source, path="3205", file="imports/x.csv", file_name="x.csv", file_sha256="0" * 64, file_size=1
    )
    records = [
        SourceRecord.objects.create(
            job=job,
            source=source,
            row_number=n,
            raw_cipher=crypto.encrypt(
                json.dumps({"姓名": f"测试{n}", "手机号": f"1391234{n:04d}"}), context=SOURCE_RECORD_CONTEXT
            ),
            status="accepted",
            path="3205",
        )
        for n in (2, 3)
    ]
    units = [
        Unit.objects.create(
            name="便民超市",
            kind="shop",
            path="3205",
            contact_phone_cipher=crypto.encrypt("13900001111", context=UNIT_PHONE_CONTEXT),
            contact_phone_hash=crypto.blind_index("13900001111", context=UNIT_PHONE_CONTEXT),
        ),
        Unit.objects.create(name="街道办", kind="agency", path="3205"),
    ]
    return people, records, units


def _blobs() -> list[tuple[str, bytes]]:
    """Every sealed value in the database with its context."""
    out = []
    for p in Person.objects.order_by("id"):
        out.append((registry.ID_CONTEXT, bytes(p.id_number_cipher)))
        if p.phone_cipher:
            out.append((registry.PHONE_CONTEXT, bytes(p.phone_cipher)))
    out += [(SOURCE_RECORD_CONTEXT, bytes(r.raw_cipher)) for r in SourceRecord.objects.order_by("id")]
    out += [
        (UNIT_PHONE_CONTEXT, bytes(u.contact_phone_cipher)) for u in Unit.objects.exclude(contact_phone_cipher=None)
    ]
    return out


def _plain() -> list[str]:
    return [crypto.decrypt(blob, context=context) for context, blob in _blobs()]


def _key_ids() -> list[str]:
    return [crypto.key_id_of(blob) for _, blob in _blobs()]


def _hashes() -> list[tuple[str, str, str]]:
    rows = Person.objects.order_by("id").values_list("id_number_hash", "phone_hash", "name_pinyin")
    return [*rows, *Unit.objects.order_by("id").values_list("contact_phone_hash", "name", "path")]


def _run(*args: str) -> str:
    from io import StringIO

    out = StringIO()
    call_command("rotate_keys", *args, stdout=out)
    return out.getvalue()


def test_new_key_reencrypts_people_source_records_and_units(sealed_rows, keys_file):
    plain, hashes = _plain(), _hashes()
    index_key = crypto.read_keyring(keys_file).index_key
    assert set(_key_ids()) == {"k1"}
    assert len(_blobs()) == 7 + 5 + 2 + 1

    out = _run("--new-key", "--batch-size", "2")

    ring = crypto.read_keyring(keys_file)
    assert ring.current == "k2" and set(ring.data_keys) == {"k1", "k2"} and ring.index_key == index_key
    assert set(_key_ids()) == {"k2"}
    assert _plain() == plain
    assert _hashes() == hashes
    # The stored hashes still find the people they belong to.
    number = make_id_number("320583", date(1980, 1, 2), 1, "M")
    assert Person.objects.get(id_number_hash=registry.id_number_hash(number)).name == "测试1"
    assert "registry_person: 7 rows" in out and "done" in out


def test_rows_already_under_the_current_key_are_skipped(sealed_rows, keys_file):
    _run("--new-key")
    before = _blobs()
    out = _run()
    assert _blobs() == before  # nothing sealed again: a fresh nonce would change every blob
    assert "registry_person: 0 rows with values under another key" in out


def test_resumes_after_stopping_after_one_batch(sealed_rows, keys_file):
    plain = _plain()
    _run("--new-key", "--no-reencrypt")
    assert set(_key_ids()) == {"k1"}

    out = _run("--batch-size", "3", "--max-batches", "1")
    assert "run rotate_keys again" in out
    person_keys = [crypto.key_id_of(p.id_number_cipher) for p in Person.objects.order_by("id")]
    assert person_keys == ["k2"] * 3 + ["k1"] * 4
    assert AuditEntry.objects.order_by("-seq").first().detail["complete"] is False

    _run("--batch-size", "3")
    assert set(_key_ids()) == {"k2"}
    assert _plain() == plain
    assert AuditEntry.objects.order_by("-seq").first().detail["complete"] is True


def test_resumes_after_a_crash_mid_run(sealed_rows, keys_file, monkeypatch):
    plain = _plain()
    _run("--new-key", "--no-reencrypt")
    real = crypto.reencrypt
    calls = {"n": 0}

    def dying(blob, *, context):
        calls["n"] += 1
        if calls["n"] == 5:  # in the second batch of two people
            raise RuntimeError("worker killed")
        return real(blob, context=context)

    monkeypatch.setattr(crypto, "reencrypt", dying)
    with pytest.raises(RuntimeError):
        _run("--batch-size", "2")
    monkeypatch.setattr(crypto, "reencrypt", real)
    # The first batch committed, the second rolled back whole.
    person_keys = [crypto.key_id_of(p.id_number_cipher) for p in Person.objects.order_by("id")]
    assert person_keys == ["k2", "k2"] + ["k1"] * 5
    entry = AuditEntry.objects.order_by("-seq").first()
    assert entry.action == "crypto.keys.reencrypt" and entry.detail["error"] == "RuntimeError"

    _run("--batch-size", "2")
    assert set(_key_ids()) == {"k2"}
    assert _plain() == plain


def test_an_edit_made_during_re_encryption_is_kept(sealed_rows, keys_file, monkeypatch):
    people = sealed_rows[0]
    _run("--new-key", "--no-reencrypt")
    edited = registry.seal_phone("13700000000")  # sealed under k2 by the (restarted) site
    real = crypto.reencrypt

    def racing(blob, *, context):
        result = real(blob, context=context)
        if context == registry.PHONE_CONTEXT and not Person.objects.filter(phone_hash=edited.hash).exists():
            Person.objects.filter(pk=people[0].pk).update(phone_cipher=edited.cipher, phone_hash=edited.hash)
        return result

    monkeypatch.setattr(crypto, "reencrypt", racing)
    _run()
    monkeypatch.setattr(crypto, "reencrypt", real)
    person = Person.objects.get(pk=people[0].pk)
    assert crypto.decrypt(person.phone_cipher, context=registry.PHONE_CONTEXT) == "13700000000"
    detail = AuditEntry.objects.order_by("-seq").first().detail
    assert detail["tables"]["registry_person"]["changed_concurrently"] == 1
    # Its ID number, left under k1 by the refused write, is picked up by the next run.
    _run()
    assert set(_key_ids()) == {"k2"}


def test_staged_then_activated_key(sealed_rows, keys_file):
    out = _run("--new-key", "--stage")
    ring = crypto.read_keyring(keys_file)
    assert ring.current == "k1" and "k2" in ring.data_keys
    assert "--activate k2" in out
    assert set(_key_ids()) == {"k1"}

    _run("--activate", "k2", "--no-reencrypt")
    assert crypto.read_keyring(keys_file).current == "k2"
    assert set(_key_ids()) == {"k1"}
    assert crypto.key_id_of(crypto.encrypt("x", context="c")) == "k2"  # this process reloaded the file

    _run()
    assert set(_key_ids()) == {"k2"}
    status = _run("--status")
    assert "registry_person.id_number_cipher: k1: 0, k2: 7" in status
    assert "registry_unit.contact_phone_cipher: k1: 0, k2: 1" in status


def test_retire_refuses_while_rows_use_the_key_and_succeeds_after(sealed_rows, keys_file):
    _run("--new-key", "--no-reencrypt")
    before = keys_file.read_bytes()
    with pytest.raises(CommandError, match="仍有 15 个值") as excinfo:
        _run("--retire", "k1")
    assert excinfo.value.returncode == 2
    assert "registry_person.id_number_cipher 7" in str(excinfo.value)
    assert keys_file.read_bytes() == before

    _run("--batch-size", "4", "--max-batches", "1")
    with pytest.raises(CommandError, match="仍有 8 个值") as excinfo:
        _run("--retire", "k1")
    assert excinfo.value.returncode == 2

    _run()
    plain = _plain()
    out = _run("--retire", "k1")
    assert "retired data key k1" in out
    ring = crypto.read_keyring(keys_file)
    assert set(ring.data_keys) == {"k2"} and ring.retired == ("k1",)
    crypto.keyring.cache_clear()
    assert _plain() == plain
    entry = AuditEntry.objects.order_by("-seq").first()
    assert entry.action == "crypto.keys.retire" and entry.object_id == "k1"


def test_audit_entry_counts_tables_and_names_keys_but_holds_no_personal_data(sealed_rows, keys_file):
    plain = _plain()
    seq = AuditEntry.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    _run("--new-key")
    entries = list(AuditEntry.objects.filter(seq__gt=seq))
    assert [e.action for e in entries] == ["crypto.keys.reencrypt"]
    detail = entries[0].detail
    assert detail["added"] == "k2" and detail["current"] == "k2" and detail["previous_current"] == "k1"
    assert detail["complete"] is True
    assert {name: t["rows"] for name, t in detail["tables"].items()} == {
        "registry_person": 7,
        "registry_sourcerecord": 2,
        "registry_unit": 1,
        "notify_notification": 0,
        "accounts_twofactor": 0,
        "accounts_user": 0,
        "registry_subjectrequest": 0,
    }
    assert detail["tables"]["registry_person"]["values"] == 12
    text = json.dumps(detail, ensure_ascii=False)
    for value in plain:
        assert value not in text
    assert "1391234" not in text and "测试" not in text


@pytest.mark.parametrize(
    "args",
    [
        ["--stage"],
        ["--new-key", "--activate", "k1"],
        ["--retire", "k1", "--new-key"],
        ["--status", "--retire", "k1"],
        ["--status", "--no-reencrypt"],
        ["--no-reencrypt"],
        ["--batch-size", "0"],
        ["--batch-size", "1000000"],
        ["--max-batches", "0"],
        ["--pause", "-1"],
        ["--activate", "k9"],
        ["--retire", "k9"],
        ["--retire", "k1"],  # the current key
        ["--retire", ""],
    ],
)
def test_bad_input_exits_2_and_changes_nothing(sealed_rows, keys_file, args):
    before_file, before_blobs = keys_file.read_bytes(), _blobs()
    audit_count = AuditEntry.objects.count()
    with pytest.raises(CommandError) as excinfo:
        _run(*args)
    assert excinfo.value.returncode == 2
    assert keys_file.read_bytes() == before_file
    assert _blobs() == before_blobs
    assert AuditEntry.objects.count() == audit_count


def test_missing_keys_file_exits_2(settings, tmp_path):
    settings.KEYS_FILE = tmp_path / "absent.json"
    with pytest.raises(CommandError, match=r"absent\.json") as excinfo:
        _run("--new-key")
    assert excinfo.value.returncode == 2
    assert not settings.KEYS_FILE.exists()


def test_a_value_that_does_not_decrypt_is_reported_and_the_rest_done(sealed_rows, keys_file):
    people = sealed_rows[0]
    broken = crypto.encrypt("13912340001", context="wrong.context")
    Person.objects.filter(pk=people[1].pk).update(phone_cipher=broken)
    with pytest.raises(CommandError, match=str(people[1].pk)) as excinfo:
        _run("--new-key")
    assert excinfo.value.returncode == 1
    assert crypto.key_id_of(Person.objects.get(pk=people[1].pk).phone_cipher) == "k1"
    assert _key_ids().count("k1") == 1
    assert AuditEntry.objects.order_by("-seq").first().detail["tables"]["registry_person"]["failed"] == 1


def test_bad_flags_exit_2_from_the_command_line(keys_file):
    env = {**os.environ, "GRASSROOTS_KEYS_FILE": str(keys_file)}
    before = keys_file.read_bytes()
    result = subprocess.run(
        [sys.executable, "manage.py", "rotate_keys", "--stage"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert "--stage" in result.stderr
    assert keys_file.read_bytes() == before


def test_rotation_refuses_keys_from_the_environment(settings):
    from django.core.management import CommandError, call_command

    settings.KEYS_JSON = '{"current": "k1"}'
    with pytest.raises(CommandError) as excinfo:
        call_command("rotate_keys", "--new-key")
    assert excinfo.value.returncode == 2 and "GRASSROOTS_KEYS_JSON" in str(excinfo.value)


def test_pending_notifications_phone_is_reencrypted_too(keys_file):
    from django.db import transaction

    from grassroots.notify.models import Notification
    from grassroots.notify.services import ADDRESS_CONTEXT, Recipient, notify

    with transaction.atomic():
        notify(
            recipients=[Recipient(address="13812349999")],
            kind="test",
            subject="停水通知",
            body="明日停水",
            idempotency_key="rotate-test",
            channel="sms",
        )
    before = Notification.objects.get()
    old_kid = crypto.key_id_of(before.address_cipher)
    _run("--new-key")
    after = Notification.objects.get()
    assert crypto.key_id_of(after.address_cipher) != old_kid
    assert crypto.decrypt(after.address_cipher, context=ADDRESS_CONTEXT) == "13812349999"
