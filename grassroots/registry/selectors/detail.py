"""The person page: one audited read, then a fixed number of queries whatever the history."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q

from grassroots.audit.services import Actor
from grassroots.core.scope import Scope
from grassroots.places.models import Area
from grassroots.registry.models import Person, PersonChange, Residence, SourceRecord, Tag, Visit
from grassroots.registry.selectors.people import (
    CIPHERS,
    age_on,
    grids_by_path,
    person_get,
    today,
)

FIELD_LABELS = {
    "name": "姓名",
    "id_number": "身份证号",
    "phone": "手机号",
    "sex": "性别",
    "birth_date": "出生日期",
    "ethnicity": "民族",
    "dwelling": "住址",
    "household": "所属户",
    "relation": "与户主关系",
    "residence": "实际居住地",
    "registered": "户籍地",
}


def field_label(name: str) -> str:
    if name.startswith("tag:"):
        return "标签"
    return FIELD_LABELS.get(name, name)


@dataclass(frozen=True)
class ProvenanceRow:
    field: str
    label: str
    record: SourceRecord | None
    change: PersonChange | None  # a later visit or edit set the value


@dataclass
class PersonDetail:
    person: Person
    age: int
    grid: Area | None
    tags: list[Tag]
    members: list[Person]
    residences: list[Residence]
    provenance: list[ProvenanceRow]
    records: list[SourceRecord]
    changes: list[PersonChange]
    visits: list[Visit]
    hidden_tags: int = 0  # sensitive tags withheld from this viewer


def _sensitive_codes() -> set[str]:
    return set(Tag.objects.filter(is_sensitive=True).values_list("code", flat=True))


def person_detail(*, actor: Actor, scope: Scope, person_id: int, see_sensitive: bool) -> PersonDetail:
    """Everything the person page shows, masked; NotFound outside scope (the read is audited)."""
    person = person_get(actor=actor, scope=scope, person_id=person_id)
    all_tags = list(person.tags.all())
    tags = [t for t in all_tags if see_sensitive or not t.is_sensitive]
    members: list[Person] = []
    if person.household_id:
        members = list(
            Person.objects.defer(*CIPHERS)
            .filter(household_id=person.household_id)
            .filter(scope.path_q("path"))
            .exclude(pk=person.pk)
            .order_by("id")
        )
    residences = list(
        Residence.objects.filter(person=person)
        .select_related("dwelling__entrance", "dwelling__building__compound")
        .order_by("-until", "-since", "-id")
    )
    # Current rows (no end date) first: order_by("-until") puts NULLs first on PostgreSQL only.
    residences.sort(key=lambda r: r.until is not None)
    changes = list(
        PersonChange.objects.filter(person=person).select_related("actor", "visit", "source_record__source")[:200]
    )
    if not see_sensitive:
        hidden = {f"tag:{code}" for code in _sensitive_codes()}
        changes = [c for c in changes if c.field not in hidden]
    record_ids = {int(v) for v in person.provenance.values() if isinstance(v, int) or str(v).isdigit()}
    records = list(
        SourceRecord.objects.filter(Q(person=person) | Q(pk__in=record_ids))
        .select_related("source", "job")
        .defer("raw_cipher")
        .order_by("-created_at", "-id")[:100]
    )
    by_id = {r.pk: r for r in records}
    latest_change: dict[str, PersonChange] = {}
    for change in changes:  # newest first
        latest_change.setdefault(change.field, change)
    provenance = []
    changed = {f for f in latest_change if not f.startswith("tag:")}
    for name in sorted(set(person.provenance) | changed):
        raw = person.provenance.get(name)
        record = by_id.get(int(raw)) if raw is not None and str(raw).isdigit() else None
        provenance.append(ProvenanceRow(name, field_label(name), record, latest_change.get(name)))
    visit_filter = Q(changes__person=person)
    if person.household_id:
        visit_filter |= Q(household_id=person.household_id)
    visits = list(
        Visit.objects.filter(visit_filter).filter(scope.path_q("path")).select_related("visited_by").distinct()[:50]
    )
    grid = grids_by_path([person.path]).get(person.path)
    return PersonDetail(
        person=person,
        age=age_on(person.birth_date, today()),
        grid=grid,
        tags=tags,
        members=members,
        residences=residences,
        provenance=provenance,
        records=records,
        changes=changes,
        visits=visits,
        hidden_tags=len(all_tags) - len(tags),
    )
