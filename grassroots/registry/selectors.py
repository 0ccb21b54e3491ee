"""Reads of the registry. Every read of people's details is audited."""

from __future__ import annotations

from datetime import date

from grassroots.audit.services import Actor, audit_record_reads
from grassroots.core.errors import NotFound
from grassroots.core.scope import Scope
from grassroots.places.models import Dwelling
from grassroots.registry.models import Person


def age_on(birth: date, today: date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def dwelling_residents(*, actor: Actor, scope: Scope, dwelling: Dwelling) -> list[Person]:
    """The people living in a dwelling (masked fields only), audited as a read."""
    if not scope.covers_path(dwelling.path):
        raise NotFound()
    people = list(Person.objects.filter(dwelling=dwelling).prefetch_related("tags").order_by("id"))
    audit_record_reads(
        actor=actor,
        object_type="person",
        object_ids=[p.pk for p in people],
        area_path=dwelling.path,
        action="registry.person.view",
    )
    return people


def person_get(*, actor: Actor, scope: Scope, person_id: int) -> Person:
    person = Person.objects.filter(pk=person_id).prefetch_related("tags").first()
    if person is None or not scope.covers_path(person.path):
        raise NotFound()
    audit_record_reads(
        actor=actor, object_type="person", object_ids=[person.pk], area_path=person.path, action="registry.person.view"
    )
    return person


def resident_counts_by_dwelling(*, scope: Scope, dwelling_ids: list[int]) -> dict[int, int]:
    from django.db.models import Count

    rows = (
        Person.objects.in_scope(scope)
        .filter(dwelling_id__in=dwelling_ids)
        .values("dwelling_id")
        .annotate(n=Count("id"))
        .values_list("dwelling_id", "n")
    )
    return dict(rows)
