"""Deciding where an unplaced address is: a dwelling (CHOSEN) or outside the area (OUTSIDE).

A decision applies at once, in one transaction, to the records that wait for it (and, when a
decision changes, to those it placed before), and is remembered: the importer's AddressIndex
loads it, so the next file with the same text is placed without asking (docs/addresses.md).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import OuterRef, Subquery

from grassroots.accounts.scopes import can, scope_for
from grassroots.audit.services import actor_of, audit_record
from grassroots.core import clock
from grassroots.core.errors import DomainError, Forbidden, NotFound
from grassroots.core.scope import Scope
from grassroots.places.models import Dwelling
from grassroots.registry.imports.address import normalise_address
from grassroots.registry.models import (
    AddressChoice,
    AddressChoiceStatus,
    ChangeOrigin,
    ImportJob,
    Person,
    PersonChange,
    RecordStatus,
    Residence,
    SourceRecord,
)
from grassroots.registry.services import person_refresh_separation

CAPABILITY = "registry.review"
PLACED_STATUSES = (RecordStatus.ACCEPTED, RecordStatus.LINKED)


def _check(actor: Any, choice: AddressChoice) -> Scope:
    if not can(actor, CAPABILITY):
        raise Forbidden("您的角色无权确认待定地址。")
    scope = scope_for(actor, CAPABILITY)
    if not scope.covers_path(choice.path):
        raise NotFound()
    return scope


def _label(dwelling_id: int | None) -> str:
    return f"房屋#{dwelling_id}" if dwelling_id else ""


def _apply(actor: Any, choice: AddressChoice, dwelling: Dwelling | None, previous: int | None) -> dict[str, int]:
    """Place (``dwelling``) or unplace (None) what waits for the choice or came from it before.

    Records: all of the choice's take the dwelling (the actual address wins over the registered
    one, as at import); unplacing clears only those it had placed. Residences: the current ones
    those records stated with this text, while unplaced or placed by the previous decision.
    Persons: one without a dwelling gets it; one whose dwelling came from these records and the
    previous decision moves with it; anyone placed by something else keeps their dwelling.
    """
    now = clock.now()
    rows = SourceRecord.objects.filter(unplaced=choice).select_related("job")
    records = list(rows.only("id", "person_id", "status", "job__path"))
    ids = [r.pk for r in records]
    if dwelling is not None:
        SourceRecord.objects.filter(pk__in=ids).update(dwelling=dwelling, path=dwelling.path, match_confidence=1.0)
    elif previous is not None:
        job_path = Subquery(ImportJob.objects.filter(pk=OuterRef("job_id")).values("path")[:1])
        SourceRecord.objects.filter(pk__in=ids, dwelling_id=previous).update(
            dwelling=None, path=job_path, match_confidence=None
        )

    residences = [
        r
        for r in Residence.objects.filter(source_record_id__in=ids, until__isnull=True)
        if normalise_address(r.address)[:255] == choice.text and r.dwelling_id in (None, previous)
    ]
    for residence in residences:
        residence.dwelling = dwelling
        residence.path = dwelling.path if dwelling else ""
    Residence.objects.bulk_update(residences, ["dwelling", "path"])

    record_of: dict[int, SourceRecord] = {}
    for record in records:
        if record.person_id and record.status in PLACED_STATUSES:
            record_of[record.person_id] = record  # the latest row of each person
    moved = 0
    for person in Person.objects.filter(pk__in=list(record_of)).order_by("id"):
        record = record_of[person.pk]
        from_here = person.provenance.get("dwelling") in ids
        if dwelling is not None:
            takes = person.dwelling_id is None or (person.dwelling_id == previous and from_here)
            if not takes or person.dwelling_id == dwelling.pk:
                continue
            before, person.dwelling, person.path = person.dwelling_id, dwelling, dwelling.path
            person.provenance["dwelling"] = record.pk
        else:
            if previous is None or person.dwelling_id != previous or not from_here:
                continue
            before, person.dwelling, person.path = person.dwelling_id, None, record.job.path
            person.provenance.pop("dwelling", None)
        person.updated_at = now
        person.save(update_fields=["dwelling", "path", "provenance", "updated_at"])
        PersonChange.objects.create(
            person=person,
            path=person.path,
            at=now,
            actor_id=actor.pk,
            origin=ChangeOrigin.EDIT,
            field="dwelling",
            before=_label(before),
            after=_label(person.dwelling_id),
            source_record=record,
        )
        person_refresh_separation(person=person)
        moved += 1
    return {"records": len(records), "residences": len(residences), "persons": moved}


def _audit(
    actor: Any, action: str, choice: AddressChoice, before: tuple[str, int | None], counts: dict[str, int]
) -> None:
    # No address text in the log: it is a person's address.
    audit_record(
        actor=actor_of(actor),
        action=action,
        object_type="address_choice",
        object_id=choice.pk,
        area_path=choice.path,
        detail={
            "status_before": before[0],
            "dwelling_before": before[1],
            "dwelling": choice.dwelling_id,
            **counts,
        },
    )


@transaction.atomic
def address_choose(*, actor: Any, choice: AddressChoice, dwelling: Dwelling) -> AddressChoice:
    """The text is this dwelling: place its waiting records and persons, and remember it."""
    scope = _check(actor, choice)
    if not (scope.covers_path(dwelling.path) and Scope(area_path=choice.path).covers_path(dwelling.path)):
        raise DomainError("所选房屋不在您的辖区或该地址所属的区域内，不能指定。", field="dwelling")
    choice = AddressChoice.objects.select_for_update().get(pk=choice.pk)
    before = (choice.status, choice.dwelling_id)
    if before == (AddressChoiceStatus.CHOSEN, dwelling.pk):
        return choice
    previous = choice.dwelling_id if choice.status == AddressChoiceStatus.CHOSEN else None
    choice.status, choice.dwelling = AddressChoiceStatus.CHOSEN, dwelling
    choice.decided_by_id, choice.decided_at = actor.pk, clock.now()
    choice.save(update_fields=["status", "dwelling", "decided_by", "decided_at"])
    counts = _apply(actor, choice, dwelling, previous)
    _audit(actor, "registry.address.choose", choice, before, counts)
    return choice


@transaction.atomic
def address_mark_outside(*, actor: Any, choice: AddressChoice) -> AddressChoice:
    """The text lies outside the area: stop asking; what an earlier choice placed is unplaced."""
    _check(actor, choice)
    choice = AddressChoice.objects.select_for_update().get(pk=choice.pk)
    before = (choice.status, choice.dwelling_id)
    if choice.status == AddressChoiceStatus.OUTSIDE:
        return choice
    previous = choice.dwelling_id if choice.status == AddressChoiceStatus.CHOSEN else None
    choice.status, choice.dwelling = AddressChoiceStatus.OUTSIDE, None
    choice.decided_by_id, choice.decided_at = actor.pk, clock.now()
    choice.save(update_fields=["status", "dwelling", "decided_by", "decided_at"])
    counts = _apply(actor, choice, None, previous)
    _audit(actor, "registry.address.outside", choice, before, counts)
    return choice
