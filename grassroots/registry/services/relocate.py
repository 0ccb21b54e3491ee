"""People follow their building when it moves to another grid (a grid plan is accepted).

Every scoped row of the registry carries its area's path, so the persons, households and current
residences of the building's dwellings take the new grid's path. ``updated_at`` is set explicitly:
a bulk update does not touch ``auto_now`` fields, and the insight refresh reads it.
"""

from __future__ import annotations

from django.db import transaction

from grassroots.audit.services import Actor, audit_record
from grassroots.core import clock
from grassroots.places.models import Building, Dwelling
from grassroots.registry.models import Household, Person, Residence


@transaction.atomic
def residents_follow_building(*, actor: Actor, building: Building) -> int:
    """Give the people of ``building`` its (new) path; answers how many persons moved."""
    dwellings = Dwelling.objects.filter(building_id=building.pk).values("pk")
    path = building.path
    persons = Person.objects.filter(dwelling__in=dwellings).exclude(path=path).update(path=path, updated_at=clock.now())
    households = Household.objects.filter(dwelling__in=dwellings).exclude(path=path).update(path=path)
    residences = (
        Residence.objects.filter(dwelling__in=dwellings, until__isnull=True).exclude(path=path).update(path=path)
    )
    audit_record(
        actor=actor,
        action="registry.residents.follow_building",
        object_type="building",
        object_id=building.pk,
        area_path=path,
        detail={"persons": persons, "households": households, "residences": residences},
    )
    return persons
