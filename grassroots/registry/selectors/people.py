"""Reads of people: residents of a dwelling, one person, and the rows pages show.

Every read of people's details is audited; pages show only the masked columns, so the
ciphertexts are deferred wherever a list is loaded.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from grassroots.audit.services import Actor, audit_record_reads
from grassroots.core import clock
from grassroots.core.errors import NotFound
from grassroots.core.scope import Scope
from grassroots.places.models import Area, Dwelling
from grassroots.registry.models import Household, Person, Visit

# Never needed to show a list: pages print the masked columns.
CIPHERS = ("id_number_cipher", "phone_cipher")


def age_on(birth: date, today: date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def today() -> date:
    return timezone.localdate(clock.now())


def list_queryset() -> QuerySet[Person]:
    """Persons with what a results table shows: dwelling, building, compound; no ciphertexts."""
    return Person.objects.defer(*CIPHERS).select_related("dwelling__entrance", "dwelling__building__compound")


@dataclass(frozen=True)
class PersonRow:
    """One person as a table shows them (masked), with age and grid."""

    person: Person
    age: int
    grid: Area | None

    @property
    def address(self) -> str:
        return dwelling_label(self.person.dwelling)


def dwelling_label(dwelling: Dwelling | None) -> str:
    if dwelling is None:
        return ""
    building = dwelling.building
    compound = building.compound.name if building.compound_id and building.compound else ""
    return f"{compound}{building.name}{dwelling.entrance.number}单元{dwelling.room}室"


def grids_by_path(paths: Iterable[str]) -> dict[str, Area]:
    wanted = set(paths)
    return {a.path: a for a in Area.objects.filter(path__in=wanted)} if wanted else {}


def person_rows(people: list[Person]) -> list[PersonRow]:
    """Rows for a table: one more query for the grids, whatever the number of people."""
    grids = grids_by_path(p.path for p in people)
    day = today()
    return [PersonRow(p, age_on(p.birth_date, day), grids.get(p.path)) for p in people]


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
    person = (
        Person.objects.filter(pk=person_id)
        .select_related("dwelling__entrance", "dwelling__building__compound")
        .prefetch_related("tags")
        .first()
    )
    if person is None or not scope.covers_path(person.path):
        raise NotFound()
    audit_record_reads(
        actor=actor, object_type="person", object_ids=[person.pk], area_path=person.path, action="registry.person.view"
    )
    return person


def resident_counts_by_dwelling(*, scope: Scope, dwelling_ids: list[int]) -> dict[int, int]:
    rows = (
        Person.objects.in_scope(scope)
        .filter(dwelling_id__in=dwelling_ids)
        .values("dwelling_id")
        .annotate(n=Count("id"))
        .values_list("dwelling_id", "n")
    )
    return dict(rows)


def grid_residents(*, actor: Actor, scope: Scope, grid: Area, offset: int = 0, limit: int = 100) -> list[Person]:
    """A page of the people attached to a grid (and its micro-grids), audited."""
    if not scope.covers_path(grid.path):
        raise NotFound()
    inside = Scope(area_path=grid.path).path_q()
    people = list(list_queryset().filter(inside).order_by("dwelling_id", "id")[offset : offset + limit])
    audit_record_reads(
        actor=actor,
        object_type="person",
        object_ids=[p.pk for p in people],
        area_path=grid.path,
        action="registry.person.view",
    )
    return people


def grid_resident_count(*, scope: Scope, grid: Area) -> int:
    if not scope.covers_path(grid.path):
        raise NotFound()
    return Person.objects.in_scope(Scope(area_path=grid.path)).count()


def dwelling_members(*, actor: Actor, scope: Scope, dwelling: Dwelling) -> list[Person]:
    """Who lives in a dwelling, and its household's members who have moved out; audited."""
    if not scope.covers_path(dwelling.path):
        raise NotFound()
    household_ids = list(Household.objects.filter(dwelling=dwelling).values_list("id", flat=True))
    people = list(
        Person.objects.defer(*CIPHERS)
        .filter(Q(dwelling=dwelling) | Q(household_id__in=household_ids))
        .prefetch_related("tags")
        .order_by("household_id", "id")
    )
    audit_record_reads(
        actor=actor,
        object_type="person",
        object_ids=[p.pk for p in people],
        area_path=dwelling.path,
        action="registry.person.view",
    )
    return people


def dwelling_visits(*, scope: Scope, dwelling: Dwelling, limit: int = 10) -> list[Visit]:
    if not scope.covers_path(dwelling.path):
        raise NotFound()
    return list(Visit.objects.filter(dwelling=dwelling).select_related("visited_by").order_by("-visited_at")[:limit])
