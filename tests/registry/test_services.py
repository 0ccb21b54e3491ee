"""Registering people: values from the ID, encryption at rest, masked forms, audited unmasking."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection

from grassroots.accounts.models import Role
from grassroots.accounts.scopes import can, scope_for
from grassroots.audit.models import AuditEntry
from grassroots.audit.services import SYSTEM, actor_of, verify_chain
from grassroots.core import crypto
from grassroots.core.errors import DomainError, Forbidden, NotFound
from grassroots.core.ids import InvalidIdNumber, InvalidPhone, make_id_number
from grassroots.registry import services
from grassroots.registry.models import Household, Person
from tests.factories import add_resident

pytestmark = pytest.mark.django_db

ID_M = make_id_number("320583", date(1950, 3, 9), 1, "M")
ID_F = make_id_number("320583", date(1988, 12, 31), 2, "F")


@pytest.fixture
def dwelling(tree):
    return tree.building1.dwellings.order_by("id").first()


def _create(dwelling, **kwargs):
    defaults = {"actor": SYSTEM, "name": "王芳", "id_number": ID_F, "dwelling": dwelling}
    return services.person_create(**{**defaults, **kwargs})


def test_sex_and_birth_date_come_from_the_id(dwelling):
    person = _create(dwelling)
    assert (person.sex, person.birth_date) == ("F", date(1988, 12, 31))
    assert person.path == dwelling.path
    male = _create(dwelling, name="张伟", id_number=ID_M, sex="M", birth_date=date(1950, 3, 9))
    assert (male.sex, male.birth_date) == ("M", date(1950, 3, 9))


def test_mismatched_sex_or_birth_date_is_refused(dwelling):
    with pytest.raises(DomainError, match="性别与身份证号不一致。") as excinfo:
        _create(dwelling, sex="M")
    assert excinfo.value.field == "sex"
    with pytest.raises(DomainError, match="出生日期与身份证号不一致。") as excinfo:
        _create(dwelling, birth_date=date(1988, 12, 30))
    assert excinfo.value.field == "birth_date"
    assert not Person.objects.exists()


def test_invalid_id_or_phone_or_name_is_refused_and_nothing_saved(dwelling):
    audits = AuditEntry.objects.count()
    with pytest.raises(InvalidIdNumber, match="校验位错误"):
        _create(dwelling, id_number=ID_F[:17] + ("0" if ID_F[17] != "0" else "1"))
    with pytest.raises(InvalidPhone, match="手机号"):
        _create(dwelling, phone="12345")
    with pytest.raises(DomainError, match="姓名不能为空。"):
        _create(dwelling, name=" ")
    assert not Person.objects.exists()
    assert AuditEntry.objects.count() == audits


def test_duplicate_id_is_refused_in_any_written_form(dwelling):
    _create(dwelling)
    for variant in [ID_F, ID_F.lower(), " " + ID_F + " ", "".join(chr(0xFF10 + int(c)) for c in ID_F[:17]) + ID_F[17]]:
        with pytest.raises(DomainError, match="该身份证号已登记。"):
            _create(dwelling, id_number=variant, name="另一人")
    assert Person.objects.count() == 1


def test_15_digit_id_is_stored_as_its_18_digit_form(dwelling):
    person = _create(dwelling, id_number="110105491231002", name="老王")
    assert crypto.decrypt(person.id_number_cipher, context=services.ID_CONTEXT) == "11010519491231002X"
    with pytest.raises(DomainError, match="已登记"):
        _create(dwelling, id_number="11010519491231002X", name="老王")


def test_id_and_phone_are_encrypted_at_rest_with_masked_forms(dwelling):
    person = _create(dwelling, phone="+86 139-0000-1234")
    row = Person.objects.filter(pk=person.pk).values().get()
    flat = repr(row)
    assert ID_F not in flat and "13900001234" not in flat
    assert ID_F[6:14] not in flat  # not even the birth date digits as text in a ciphertext
    assert row["id_number_masked"] == ID_F[:4] + "*" * 10 + ID_F[-4:]
    assert row["phone_masked"] == "139****1234"
    assert row["id_number_hash"] == services.id_number_hash(ID_F)
    assert row["phone_hash"] == crypto.blind_index("13900001234", context=services.PHONE_CONTEXT)
    assert crypto.decrypt(row["id_number_cipher"], context=services.ID_CONTEXT) == ID_F
    assert crypto.decrypt(row["phone_cipher"], context=services.PHONE_CONTEXT) == "13900001234"


def test_plaintext_is_not_in_the_database_file_row(dwelling):
    """Read the raw column bytes with SQL, past the ORM."""
    person = _create(dwelling, phone="13900001234")
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM registry_person WHERE id = %s", [person.pk])
        raw = cursor.fetchone()
    dumped = b"".join(bytes(v) if isinstance(v, (bytes, memoryview)) else str(v).encode() for v in raw)
    assert ID_F.encode() not in dumped
    assert b"13900001234" not in dumped


def test_person_without_phone(dwelling):
    person = _create(dwelling, phone="  ")
    assert (person.phone_cipher, person.phone_hash, person.phone_masked) == (None, "", "")


def test_person_create_is_audited_without_personal_data(dwelling):
    person = _create(dwelling, phone="13900001234")
    entry = AuditEntry.objects.latest("seq")
    assert (entry.action, entry.object_type, entry.object_id, entry.area_path) == (
        "registry.person.create",
        "person",
        str(person.pk),
        dwelling.path,
    )
    text = repr(AuditEntry.objects.filter(pk=entry.pk).values().get())
    assert ID_F not in text and "13900001234" not in text
    assert verify_chain().ok


def test_path_from_household_when_no_dwelling(tree):
    household = Household.objects.create(path=tree.grid2.path, head_name="户主")
    person = services.person_create(actor=SYSTEM, name="李", id_number=ID_M, household=household, relation="本人")
    assert person.path == tree.grid2.path


# --- unmasking -----------------------------------------------------------------------------------


def _reveal(user, person, field="id_number", reason="入户走访核对身份"):
    return services.person_reveal(
        actor=actor_of(user),
        scope=scope_for(user, "registry.view"),
        may_unmask=can(user, "registry.view"),
        person=person,
        field=field,
        reason=reason,
    )


def test_reveal_returns_the_value_and_audits_who_what_and_why(tree):
    person = add_resident(tree)
    worker = tree.users[Role.GRID_WORKER]
    start = AuditEntry.objects.count()
    number = _reveal(worker, person)
    assert number == make_id_number("320583", date(1950, 3, 9), 1, "M")
    assert _reveal(worker, person, field="phone") == "13812340001"
    entries = list(AuditEntry.objects.filter(seq__gt=start).order_by("seq"))
    assert [e.action for e in entries] == ["registry.person.unmask"] * 2
    assert entries[0].actor_id == worker.pk
    assert entries[0].object_id == str(person.pk)
    assert entries[0].detail == {"field": "id_number", "reason": "入户走访核对身份"}
    assert entries[1].detail["field"] == "phone"
    assert number not in repr(entries[0].detail)


@pytest.mark.parametrize("role", [Role.RESIDENT, Role.DEPARTMENT_OFFICER, Role.PARTY_SECRETARY, Role.DISTRICT_LEADER])
def test_reveal_needs_permission(tree, role):
    person = add_resident(tree)
    start = AuditEntry.objects.count()
    with pytest.raises(Forbidden, match="您的角色无权查看完整的敏感信息。"):
        _reveal(tree.users[role], person)
    assert AuditEntry.objects.count() == start


@pytest.mark.parametrize("role", [Role.GRID_WORKER, Role.COMMUNITY_WORKER, Role.SUBDISTRICT_DISPATCHER])
def test_reveal_needs_scope(tree, role):
    person = add_resident(tree)
    start = AuditEntry.objects.count()
    with pytest.raises(NotFound):
        _reveal(tree.outsiders[role], person)
    assert AuditEntry.objects.count() == start


@pytest.mark.parametrize("role", [Role.GRID_WORKER, Role.COMMUNITY_WORKER, Role.SUBDISTRICT_DISPATCHER, Role.ADMIN])
def test_reveal_allowed_inside_scope_for_registry_roles(tree, role):
    person = add_resident(tree)
    assert _reveal(tree.users[role], person).startswith("320583")


@pytest.mark.parametrize("reason", ["", "   ", "看看", "查 看"])
def test_reveal_needs_a_reason_of_four_characters(tree, reason):
    person = add_resident(tree)
    start = AuditEntry.objects.count()
    with pytest.raises(DomainError, match="查看完整信息必须填写事由（至少4个字）。"):
        _reveal(tree.users[Role.GRID_WORKER], person, reason=reason)
    assert AuditEntry.objects.count() == start


def test_reveal_only_known_fields(tree):
    person = add_resident(tree)
    with pytest.raises(DomainError, match="字段“name”不能解密查看。"):
        _reveal(tree.users[Role.GRID_WORKER], person, field="name")


def test_reveal_of_a_missing_phone_is_empty_but_audited(tree):
    person = services.person_create(
        actor=SYSTEM, name="无电话", id_number=ID_F, dwelling=tree.building1.dwellings.first()
    )
    start = AuditEntry.objects.count()
    assert _reveal(tree.users[Role.GRID_WORKER], person, field="phone") == ""
    assert AuditEntry.objects.count() == start + 1


def test_person_without_any_place_is_refused_and_nothing_saved(tree):
    with pytest.raises(DomainError, match="请指定住址"):
        services.person_create(actor=SYSTEM, name="无处", id_number=ID_F)
    assert not Person.objects.exists()


def test_the_database_refuses_a_second_person_with_the_same_id(dwelling):
    """The service checks first; the unique constraint closes the race between two requests."""
    from django.db import IntegrityError, transaction

    first = _create(dwelling)
    clone = Person(
        name="重复",
        sex=first.sex,
        birth_date=first.birth_date,
        id_number_cipher=first.id_number_cipher,
        id_number_hash=first.id_number_hash,
        id_number_masked=first.id_number_masked,
        path=first.path,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        clone.save()


def test_separation_is_named_from_where_the_person_lives(tree):
    from grassroots.registry.models import Residence, ResidenceKind, Separation

    person = add_resident(tree)
    here, other = list(tree.building1.dwellings.order_by("id")[:2])
    assert services.person_refresh_separation(person=person) == Separation.NONE  # no residences yet
    registered = Residence.objects.create(person=person, kind=ResidenceKind.REGISTERED, dwelling=here, path=here.path)
    actual = Residence.objects.create(person=person, kind=ResidenceKind.RESIDENT, dwelling=here, path=here.path)
    assert services.person_refresh_separation(person=person) == Separation.NONE
    registered.dwelling, registered.address, registered.path = None, "河南省郑州市金水区文化路1号", ""
    registered.save()
    assert services.person_refresh_separation(person=person) == Separation.LIVES_HERE_REGISTERED_ELSEWHERE
    person.refresh_from_db()
    assert person.separation == Separation.LIVES_HERE_REGISTERED_ELSEWHERE
    registered.dwelling, registered.path = other, other.path
    registered.save()
    assert services.person_refresh_separation(person=person) == Separation.LIVES_HERE_REGISTERED_ELSEWHERE
    actual.dwelling, actual.address, actual.path = None, "上海市浦东新区世纪大道100号", ""
    actual.save()
    assert services.person_refresh_separation(person=person) == Separation.REGISTERED_HERE_LIVES_ELSEWHERE
    actual.until = date(2026, 1, 1)  # moved back: no current actual residence, nothing to compare
    actual.save()
    assert services.person_refresh_separation(person=person) == Separation.NONE
