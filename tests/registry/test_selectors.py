"""Reads of the registry are scoped and audited."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection

from grassroots.accounts.models import Role
from grassroots.accounts.scopes import scope_for
from grassroots.audit.models import AuditEntry
from grassroots.audit.services import actor_of
from grassroots.core.errors import NotFound
from grassroots.registry import selectors
from tests.factories import add_resident

pytestmark = pytest.mark.django_db


def test_age_on():
    assert selectors.age_on(date(1950, 3, 9), date(2026, 3, 8)) == 75
    assert selectors.age_on(date(1950, 3, 9), date(2026, 3, 9)) == 76
    assert selectors.age_on(date(2000, 2, 29), date(2026, 2, 28)) == 25
    assert selectors.age_on(date(2000, 2, 29), date(2026, 3, 1)) == 26


def test_dwelling_residents_audits_the_read(tree):
    a = add_resident(tree, seq=1, name="张伟")
    b = add_resident(tree, seq=2, name="李娜")
    worker = tree.users[Role.GRID_WORKER]
    dwelling = a.dwelling
    start = AuditEntry.objects.count()
    people = selectors.dwelling_residents(
        actor=actor_of(worker), scope=scope_for(worker, "registry.view"), dwelling=dwelling
    )
    assert [p.name for p in people] == ["张伟", "李娜"]
    entry = AuditEntry.objects.get(seq=start + 1)
    assert (entry.action, entry.actor_id, entry.object_type, entry.area_path) == (
        "registry.person.view",
        worker.pk,
        "person",
        dwelling.path,
    )
    assert entry.detail == {"ids": [str(a.pk), str(b.pk)]}
    assert AuditEntry.objects.count() == start + 1


def test_dwelling_residents_prefetches_tags(tree, django_assert_num_queries):
    from grassroots.registry.models import Tag

    people = [add_resident(tree, seq=i, name=f"人{i}") for i in range(1, 5)]
    tag, _ = Tag.objects.get_or_create(code="elderly", defaults={"name": "老年人"})
    for p in people:
        p.tags.add(tag)
    worker = tree.users[Role.GRID_WORKER]
    scope = scope_for(worker, "registry.view")
    # people, tags, and the audit append (savepoint, [PostgreSQL advisory lock], last entry, insert,
    # release): a fixed number, not one per person
    with django_assert_num_queries(6 + (connection.vendor == "postgresql")):
        result = selectors.dwelling_residents(actor=actor_of(worker), scope=scope, dwelling=people[0].dwelling)
        assert all([t.code for t in p.tags.all()] == ["elderly"] for p in result)


@pytest.mark.parametrize("role", [Role.GRID_WORKER, Role.COMMUNITY_WORKER, Role.SUBDISTRICT_DISPATCHER])
def test_out_of_scope_reads_are_not_found_and_not_audited(tree, role):
    person = add_resident(tree)
    outsider = tree.outsiders[role]
    scope = scope_for(outsider, "registry.view")
    start = AuditEntry.objects.count()
    with pytest.raises(NotFound):
        selectors.dwelling_residents(actor=actor_of(outsider), scope=scope, dwelling=person.dwelling)
    with pytest.raises(NotFound):
        selectors.person_get(actor=actor_of(outsider), scope=scope, person_id=person.pk)
    assert AuditEntry.objects.count() == start


@pytest.mark.parametrize("role", [Role.RESIDENT, Role.DEPARTMENT_OFFICER, Role.PARTY_SECRETARY, Role.DISTRICT_LEADER])
def test_roles_without_registry_view_see_nobody(tree, role):
    person = add_resident(tree)
    user = tree.users[role]
    with pytest.raises(NotFound):
        selectors.person_get(actor=actor_of(user), scope=scope_for(user, "registry.view"), person_id=person.pk)


def test_person_get_audits_one_read(tree):
    person = add_resident(tree)
    worker = tree.users[Role.COMMUNITY_WORKER]
    got = selectors.person_get(actor=actor_of(worker), scope=scope_for(worker, "registry.view"), person_id=person.pk)
    assert got == person
    entry = AuditEntry.objects.latest("seq")
    assert (entry.action, entry.object_id, entry.detail) == ("registry.person.view", str(person.pk), {})
    with pytest.raises(NotFound):
        selectors.person_get(actor=actor_of(worker), scope=scope_for(worker, "registry.view"), person_id=999_999)


def test_resident_counts_by_dwelling_are_scoped(tree):
    a = add_resident(tree, seq=1)
    add_resident(tree, seq=2)
    inside = scope_for(tree.users[Role.GRID_WORKER], "registry.view")
    outside = scope_for(tree.outsiders[Role.GRID_WORKER], "registry.view")
    assert selectors.resident_counts_by_dwelling(scope=inside, dwelling_ids=[a.dwelling_id]) == {a.dwelling_id: 2}
    assert selectors.resident_counts_by_dwelling(scope=outside, dwelling_ids=[a.dwelling_id]) == {}
