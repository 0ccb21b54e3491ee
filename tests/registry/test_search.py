"""person_search: each kind of query, in and out of scope for every role, masked and audited."""

from __future__ import annotations

import pytest

from grassroots.accounts.models import Role
from grassroots.accounts.scopes import scope_for
from grassroots.audit.models import AuditEntry
from grassroots.audit.services import actor_of
from grassroots.core.errors import NotFound
from grassroots.registry import selectors
from grassroots.registry.selectors import Kind, parse_query
from tests.registry.conftest import ID_ZHANG, PHONE_ZHANG, create

pytestmark = pytest.mark.django_db

ID15_ZHANG = ID_ZHANG[:6] + ID_ZHANG[8:17]
QUERIES = {
    "id18": ID_ZHANG,
    "id18_spaced_lower": " " + ID_ZHANG[:6] + " " + ID_ZHANG[6:].lower() + " ",
    "id15": ID15_ZHANG,
    "phone": PHONE_ZHANG,
    "phone_formatted": "+86 138-1234-0011",
    "pinyin_full": "zhangsan",
    "pinyin_prefix": "ZhangS",
    "initials": "zs",
    "name_exact": "张三",
    "name_prefix": "张",
    "address": "阳光花园1幢",
    "address_room": "阳光花园1幢101",
    "compound": "阳光花园",
}
INSIDE = [Role.GRID_WORKER, Role.COMMUNITY_WORKER, Role.SUBDISTRICT_DISPATCHER, Role.ADMIN]
OUTSIDE = [Role.GRID_WORKER, Role.COMMUNITY_WORKER, Role.SUBDISTRICT_DISPATCHER]
NO_VIEW = [Role.RESIDENT, Role.DEPARTMENT_OFFICER, Role.PARTY_SECRETARY, Role.DISTRICT_LEADER]


def _search(user, query, **kw):  # type: ignore[no-untyped-def]
    return selectors.person_search(actor=actor_of(user), scope=scope_for(user, "registry.view"), query=query, **kw)


def test_parse_query_kinds():
    assert parse_query(ID_ZHANG).kind == Kind.ID
    assert parse_query(ID15_ZHANG).value == ID_ZHANG
    assert parse_query(PHONE_ZHANG).kind == Kind.PHONE
    assert parse_query("zhang san").value == "zhangsan"
    assert parse_query("张三").kind == Kind.NAME
    assert parse_query("阳光花园3幢").kind == Kind.ADDRESS
    assert parse_query("  ").kind == Kind.EMPTY
    bad = parse_query(ID_ZHANG[:17] + ("0" if ID_ZHANG[17] != "0" else "1"))
    assert bad.kind == Kind.INVALID and "校验位" in bad.error
    assert parse_query("12345").kind == Kind.INVALID


@pytest.mark.parametrize("query", QUERIES.values(), ids=QUERIES.keys())
@pytest.mark.parametrize("role", INSIDE)
def test_found_inside_scope(tree, people, role, query):
    found = _search(tree.users[role], query)
    assert people.zhang in found
    assert people.li not in found or role == Role.ADMIN


@pytest.mark.parametrize("query", QUERIES.values(), ids=QUERIES.keys())
@pytest.mark.parametrize("role", OUTSIDE)
def test_not_found_outside_scope(tree, people, role, query):
    assert people.zhang not in _search(tree.outsiders[role], query)


@pytest.mark.parametrize("role", NO_VIEW)
def test_roles_without_registry_view_cannot_search(tree, people, role):
    with pytest.raises(NotFound):
        _search(tree.users[role], "张三")


def test_outsider_community_finds_its_own(tree, people):
    # 城南社区's worker finds 李四 (网格三) but never 张三.
    found = _search(tree.outsiders[Role.COMMUNITY_WORKER], "李")
    assert found == [people.li]


def test_initials_and_prefix_do_not_overmatch(tree, people):
    worker = tree.users[Role.COMMUNITY_WORKER]
    assert _search(worker, "wf") == [people.wang]
    assert _search(worker, "zx") == []
    assert _search(worker, "张三丰") == []
    assert _search(worker, "阳光花园2幢") == []
    assert _search(worker, "阳光花园1幢999") == []


def test_search_is_audited_with_the_ids_shown_but_not_the_query(tree, people):
    worker = tree.users[Role.GRID_WORKER]
    _search(worker, ID_ZHANG)
    entry = AuditEntry.objects.latest("seq")
    assert entry.action == "registry.person.search"
    assert entry.detail == {"kind": "id", "ids": [str(people.zhang.pk)]}
    assert ID_ZHANG not in str(entry.detail) and entry.actor_id == worker.pk
    start = AuditEntry.objects.count()
    assert _search(worker, "zz") == []
    assert AuditEntry.objects.count() == start + 1  # an empty answer is still a logged search
    _search(worker, "12345")  # invalid: nothing was looked up
    assert AuditEntry.objects.count() == start + 1


def test_results_carry_masked_values_only(tree, people):
    (person,) = _search(tree.users[Role.GRID_WORKER], PHONE_ZHANG)
    assert person.id_number_masked == ID_ZHANG[:4] + "*" * 10 + ID_ZHANG[-4:]
    assert person.phone_masked == "138****0011"
    assert "id_number_cipher" in person.get_deferred_fields()


def test_limit_and_order(tree):
    dwelling = tree.building1.dwellings.order_by("id").first()
    from datetime import date

    from grassroots.core.ids import make_id_number

    for i in range(6):
        create(dwelling, f"赵{'一二三四五六'[i]}", make_id_number("320583", date(1980, 1, 1), 100 + i, "M"))
    worker = tree.users[Role.GRID_WORKER]
    assert len(_search(worker, "zhao", limit=4)) == 4
    assert len(_search(worker, "赵", limit=50)) == 6


def test_search_query_count_is_fixed(tree, people, django_assert_max_num_queries):
    worker = tree.users[Role.COMMUNITY_WORKER]
    # pinyin: two index scans + audit append (~5); address: buildings, dwellings, persons + audit
    with django_assert_max_num_queries(8):
        _search(worker, "zs")
    with django_assert_max_num_queries(9):
        _search(worker, "阳光花园1幢101")
