"""Reads for the address review list: every read starts from the reviewer's scope.

A choice is visible to a user whose scope contains the choice's area (``AddressChoice.path``,
the area of the import that met the text): a subdistrict's choices are reviewed at the
subdistrict, a community's by the community and the subdistrict above it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, QuerySet

from grassroots.core.errors import NotFound
from grassroots.core.scope import Scope
from grassroots.places.models import Building, Compound, Dwelling
from grassroots.registry.imports.address import AddressIndex, building_number, normalise_address, parse_address
from grassroots.registry.models import AddressChoice, AddressChoiceStatus, SourceRecord

CAPABILITY = "registry.review"
MAX_CANDIDATES = 40
MAX_RECORDS = 50
STATUSES = {s.value: s.label for s in AddressChoiceStatus}


def choice_list(*, scope: Scope, status: str = AddressChoiceStatus.PENDING) -> QuerySet[AddressChoice]:
    """Pending: most often met first; decided: latest decision first."""
    rows = (
        AddressChoice.objects.filter(scope.path_q(), status=status)
        .annotate(waiting=Count("records"))
        .select_related("first_job", "decided_by", "dwelling__building__compound", "dwelling__entrance")
    )
    if status == AddressChoiceStatus.PENDING:
        return rows.order_by("-seen", "id")
    return rows.order_by("-decided_at", "-id")


def status_counts(*, scope: Scope) -> dict[str, int]:
    rows = AddressChoice.objects.filter(scope.path_q()).order_by().values("status").annotate(n=Count("id"))
    counts = {row["status"]: row["n"] for row in rows}
    return {s: counts.get(s, 0) for s in STATUSES}


@dataclass(frozen=True)
class JobRef:
    id: int
    file_name: str


def choice_jobs(choices: list[AddressChoice]) -> dict[int, list[JobRef]]:
    """The imports each choice's records came from, in one query for a page of choices."""
    found: dict[int, list[JobRef]] = {c.pk: [] for c in choices}
    rows = (
        SourceRecord.objects.filter(unplaced__in=[c.pk for c in choices])
        .values_list("unplaced_id", "job_id", "job__file_name")
        .distinct()
        .order_by("unplaced_id", "job_id")
    )
    for choice_id, job_id, file_name in rows:
        found[choice_id].append(JobRef(job_id, file_name))
    return found


def choice_get(*, scope: Scope, choice_id: int) -> AddressChoice:
    choice = (
        AddressChoice.objects.filter(scope.path_q(), pk=choice_id)
        .annotate(waiting=Count("records"))
        .select_related("first_job", "decided_by", "dwelling__building__compound", "dwelling__entrance")
        .first()
    )
    if choice is None:
        raise NotFound()
    return choice


def choice_records(*, choice: AddressChoice, limit: int = MAX_RECORDS) -> list[SourceRecord]:
    """The rows that wait for (or were placed by) the choice: which file and row, and the name."""
    rows = SourceRecord.objects.filter(unplaced=choice).select_related("job").order_by("job_id", "row_number")
    return list(rows.only("id", "row_number", "name", "status", "job__id", "job__file_name")[:limit])


def dwelling_label(dwelling: Dwelling) -> str:
    building = dwelling.building
    compound = building.compound.name if building.compound_id and building.compound else ""
    return f"{compound}{building.name}{dwelling.entrance.number}单元{dwelling.room}室"


def _dwellings(ids: list[int]) -> list[Dwelling]:
    rows = Dwelling.objects.filter(pk__in=ids).select_related("building__compound", "entrance")

    def order(d: Dwelling) -> tuple[str, int, str, int, int, str]:
        compound = d.building.compound.name if d.building.compound else ""
        return (compound, building_number(d.building.name) or 0, d.building.name, d.entrance.number, d.floor, d.room)

    return sorted(rows, key=order)


def _room_variants(room: str) -> set[str]:
    return {room, room.zfill(3), room.zfill(4)}


def _compounds_named(area: Scope, text: str) -> list[int]:
    """Compounds of the area whose name the text gives (the longest name wins, as in the matcher)."""
    named: dict[str, list[int]] = {}
    for compound_id, name in compound_list(area=area).values_list("id", "name"):
        if (key := normalise_address(name)) and key in text:
            named.setdefault(key, []).append(compound_id)
    return named[max(named, key=len)] if named else []


@dataclass(frozen=True)
class Candidates:
    dwellings: list[Dwelling]
    total: int  # how many there are; at most ``limit`` are listed
    compound_id: int | None  # the compound the text names: the search starts there


def candidates(*, choice: AddressChoice, limit: int = MAX_CANDIDATES) -> Candidates:
    """Dwellings the text could be: the matcher's own candidates for an ambiguous text; for an
    unmatched one, the dwellings of the building (and entrance) it names in the compound it names."""
    area = Scope(area_path=choice.path)
    parsed = parse_address(choice.text)
    ids: list[int] = []
    if parsed.room:
        index = AddressIndex.for_scope(area, rooms=_room_variants(parsed.room), choices=False)
        ids = index.candidates(choice.text)
    compounds = _compounds_named(area, parsed.text)
    if not ids and parsed.building is not None:
        buildings = Building.objects.filter(area.path_q())
        if compounds:
            buildings = buildings.filter(compound_id__in=compounds)
        numbered = [b for b, name in buildings.values_list("id", "name") if building_number(name) == parsed.building]
        rows = Dwelling.objects.filter(building_id__in=numbered)
        if parsed.entrance is not None:
            rows = rows.filter(entrance__number=parsed.entrance)
        ids = list(rows.values_list("id", flat=True)[:1000])
    return Candidates(_dwellings(ids[:1000])[:limit], len(ids), compounds[0] if len(compounds) == 1 else None)


def compound_list(*, area: Scope) -> QuerySet[Compound]:
    """Compounds with a building inside the area (a compound carries its community's path)."""
    inside = Building.objects.filter(area.path_q(), compound__isnull=False).values("compound_id")
    return Compound.objects.filter(id__in=inside).order_by("name")


def has_loose_buildings(*, area: Scope) -> bool:
    return Building.objects.filter(area.path_q(), compound__isnull=True).exists()


def building_list(*, area: Scope, compound_id: int | None) -> list[Building]:
    """Buildings of one compound in the area, by number; ``None``: the buildings outside any compound."""
    rows = Building.objects.filter(area.path_q())
    rows = rows.filter(compound__isnull=True) if compound_id is None else rows.filter(compound_id=compound_id)
    return sorted(rows.only("id", "name", "compound_id"), key=lambda b: (building_number(b.name) or 0, b.name, b.pk))


def dwelling_list(*, area: Scope, building_id: int) -> list[Dwelling]:
    rows = Dwelling.objects.filter(area.path_q(), building_id=building_id)
    return list(rows.select_related("entrance").order_by("entrance__number", "floor", "room"))
