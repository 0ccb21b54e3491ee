"""实有单位: registration with a validated credit code, sealed contact phone, scope and audit."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from grassroots.accounts.scopes import scope_for
from grassroots.audit.models import AuditEntry
from grassroots.audit.services import SYSTEM
from grassroots.core import crypto
from grassroots.core.errors import DomainError, NotFound
from grassroots.core.ids import InvalidCreditCode, credit_check_char, parse_credit_code
from grassroots.core.scope import Scope
from grassroots.registry.models import Unit
from grassroots.registry.services import UNIT_PHONE_CONTEXT, unit_create

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
# 9 = market regulation, 1 = enterprise, 320583 = Kunshan, then a 9-character organisation
# code; the check character is computed by the code under test and checked by mutation below.
BODY = "91320583MA1MXXXX0"


def valid_code(body: str = BODY) -> str:
    return body + credit_check_char(body)


def test_credit_code_round_trip_and_messages():
    code = valid_code()
    assert parse_credit_code(code.lower()) == code
    assert parse_credit_code("９" + code[1:]) == code  # full-width digits typed with an input method
    with pytest.raises(InvalidCreditCode, match="应为18位"):
        parse_credit_code(code[:-1])
    with pytest.raises(InvalidCreditCode, match="不允许的字符"):
        parse_credit_code("I" + code[1:])
    wrong = ALPHABET[(ALPHABET.index(code[-1]) + 1) % 31]
    with pytest.raises(InvalidCreditCode, match="校验位错误"):
        parse_credit_code(code[:-1] + wrong)


@given(
    st.text(alphabet=ALPHABET, min_size=2, max_size=2),
    st.text(alphabet="0123456789", min_size=6, max_size=6),
    st.text(alphabet=ALPHABET, min_size=9, max_size=9),
    st.integers(min_value=0, max_value=16),
    st.integers(min_value=1, max_value=30),
)
def test_any_single_character_error_is_caught(head, region, org, position, shift):
    code = valid_code(head + region + org)
    changed = ALPHABET[(ALPHABET.index(code[position]) + shift) % 31]
    mutated = code[:position] + changed + code[position + 1 :]
    with pytest.raises(InvalidCreditCode):
        parse_credit_code(mutated)


def test_unit_at_a_building_is_scoped_sealed_and_audited(tree):
    worker = tree.users["community_worker"]
    unit = unit_create(
        actor=SYSTEM,
        scope=scope_for(worker, "registry.view"),
        name="阳光便利店",
        kind="shop",
        building=tree.building1,
        credit_code=valid_code(),
        contact_name="王老板",
        contact_phone="13812340000",
    )
    assert unit.path == tree.building1.path and (unit.lon, unit.lat) == (tree.building1.lon, tree.building1.lat)
    stored = Unit.objects.get(pk=unit.pk)
    assert b"13812340000" not in bytes(stored.contact_phone_cipher)
    assert crypto.decrypt(stored.contact_phone_cipher, context=UNIT_PHONE_CONTEXT) == "13812340000"
    assert stored.contact_phone_masked == "138****0000"
    assert AuditEntry.objects.filter(action="registry.unit.create", object_id=str(unit.pk)).exists()


def test_unit_outside_scope_or_bad_input_saves_nothing(tree):
    outsider_scope = scope_for(tree.outsiders["community_worker"], "registry.view")
    with pytest.raises(NotFound):
        unit_create(actor=SYSTEM, scope=outsider_scope, name="某公司", kind="enterprise", building=tree.building1)
    everything = Scope.everything()
    for kwargs, field in [
        ({"name": " ", "kind": "shop", "area": tree.chengbei}, "name"),
        ({"name": "某店", "kind": "bank", "area": tree.chengbei}, "kind"),
        ({"name": "某店", "kind": "shop"}, "building"),
        ({"name": "某店", "kind": "shop", "area": tree.chengbei, "contact_phone": "12345"}, None),
        ({"name": "某店", "kind": "shop", "area": tree.chengbei, "credit_code": "123"}, None),
    ]:
        with pytest.raises(DomainError) as excinfo:
            unit_create(actor=SYSTEM, scope=everything, **kwargs)
        if field:
            assert excinfo.value.field == field
    unit_create(
        actor=SYSTEM, scope=everything, name="甲", kind="enterprise", area=tree.chengbei, credit_code=valid_code()
    )
    with pytest.raises(DomainError, match="已登记"):
        unit_create(
            actor=SYSTEM, scope=everything, name="乙", kind="enterprise", area=tree.chengbei, credit_code=valid_code()
        )
    assert Unit.objects.count() == 1
