"""Writing one batch of validated rows: source records, persons, residences, changes, tags.

The caller runs ``write_batch`` inside the transaction that also advances the job's
``processed_rows``, so a batch is either all written with its progress or not at all.
Everything is bulk: a batch of 500 rows costs a fixed handful of queries.

Survivorship: a value fills an empty field, or replaces the current one when this
source's trust is at least that of the source that gave it (``Person.provenance`` maps
field → SourceRecord id; a value with no provenance was typed by hand or predates it and
may be replaced). Every change to an existing person is a PersonChange row, with the
phone masked.

An actual address that found no dwelling is queued for a worker: each such record points
(``SourceRecord.unplaced``) at the ``AddressChoice`` of its normalised text in the job's area,
created on first sight; records the matcher placed through a decided choice point at it too,
so a later change of the decision moves them (grassroots/registry/addresses/services.py).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from django.db import connection
from django.db.models import Case, F, PositiveIntegerField, Value, When

from grassroots.core import clock, crypto
from grassroots.core.masking import mask_phone
from grassroots.core.scope import Scope
from grassroots.registry.imports.address import REMEMBERED_REASON, AddressMatch, normalise_address
from grassroots.registry.imports.validation import RowResult, address_problem
from grassroots.registry.models import (
    AddressChoice,
    AddressChoiceStatus,
    ChangeOrigin,
    ImportJob,
    Person,
    PersonAlias,
    PersonChange,
    RecordStatus,
    Residence,
    ResidenceKind,
    Source,
    SourceRecord,
    Tag,
)
from grassroots.registry.search_keys import name_keys
from grassroots.registry.services import PHONE_CONTEXT, id_number_hash, seal_id_number, seal_phone, separation_between

RAW_CONTEXT = "source_record.raw"
# What survivorship may change on an existing person → the columns each change touches.
UPDATE_COLUMNS = {
    "name": ("name", "name_pinyin", "name_initials"),
    "phone_hash": ("phone_cipher", "phone_hash", "phone_masked"),
    "ethnicity": ("ethnicity",),
    "relation": ("relation",),
    "dwelling_id": ("dwelling", "path"),
    "path": ("path",),
    "provenance": ("provenance",),
    "separation": ("separation",),
}
SNAPSHOT_FIELDS = list(UPDATE_COLUMNS)
ACTUAL_KINDS = (ResidenceKind.RESIDENT, ResidenceKind.FLOATING)
# The key fields a row may give; SourceRecord.filled names those it gave (per-source completeness).
FILLED_FIELDS = (
    "name",
    "id_number",
    "sex",
    "birth_date",
    "phone",
    "ethnicity",
    "relation",
    "registered_address",
    "actual_address",
)


@dataclass
class BatchOutcome:
    accepted: int = 0
    rejected: int = 0  # held rows included: the department still has an ID number to fix
    held: int = 0
    new_persons: int = 0
    skipped: int = 0  # rows already written by an earlier, interrupted run


@dataclass
class _Context:
    job: ImportJob
    source: Source
    today: date
    trust_of: dict[int, int]  # SourceRecord id → its source's trust
    tag_ids: dict[str, int]
    changes: list[PersonChange] = field(default_factory=list)
    new_residences: list[Residence] = field(default_factory=list)
    closed_residences: list[Residence] = field(default_factory=list)
    current: dict[str, list[Residence]] = field(default_factory=dict)  # id hash → current residences
    tag_links: set[tuple[str, int]] = field(default_factory=set)


def _group(kind: str) -> str:
    return "actual" if kind in ACTUAL_KINDS else "registered"


def _may_replace(ctx: _Context, record_id: int | None) -> bool:
    return record_id is None or ctx.source.trust >= ctx.trust_of.get(record_id, 0)


def _set(ctx: _Context, person: Person, record: SourceRecord, name: str, before: str, after: str) -> None:
    person.provenance[name] = record.pk
    if person.pk is not None:
        ctx.changes.append(
            PersonChange(
                person=person,
                path=person.path,
                at=clock.now(),
                actor_id=ctx.job.created_by_id,
                origin=ChangeOrigin.IMPORT,
                field=name,
                before=before[:255],
                after=after[:255],
                source_record=record,
            )
        )


def _merge(
    ctx: _Context, person: Person, row: RowResult, record: SourceRecord, dwelling: tuple[int, str] | None
) -> None:
    """Apply the row's values to a person under the survivorship rule."""
    prov = person.provenance
    if row.name and row.name != person.name and _may_replace(ctx, prov.get("name")):
        _set(ctx, person, record, "name", person.name, row.name)
        person.name = row.name
        person.name_pinyin, person.name_initials = name_keys(row.name)
    if row.phone:
        sealed = seal_phone(row.phone)
        if sealed.hash != person.phone_hash and (not person.phone_hash or _may_replace(ctx, prov.get("phone"))):
            _set(ctx, person, record, "phone", person.phone_masked, mask_phone(row.phone))
            person.phone_cipher, person.phone_hash, person.phone_masked = sealed.cipher, sealed.hash, sealed.masked
    for name in ("ethnicity", "relation"):
        value, current = getattr(row, name), getattr(person, name)
        if value and value != current and (not current or _may_replace(ctx, prov.get(name))):
            _set(ctx, person, record, name, current, value)
            setattr(person, name, value)
    moves = dwelling is not None and dwelling[0] != person.dwelling_id
    if dwelling is not None and moves and (person.dwelling_id is None or _may_replace(ctx, prov.get("dwelling"))):
        before = f"房屋#{person.dwelling_id}" if person.dwelling_id else ""
        _set(ctx, person, record, "dwelling", before, f"房屋#{dwelling[0]}")
        person.dwelling_id, person.path = dwelling


def _new_person(ctx: _Context, row: RowResult, record: SourceRecord, dwelling: tuple[int, str] | None) -> Person:
    sealed_id = seal_id_number(row.id_number)
    sealed_phone = seal_phone(row.phone) if row.phone else None
    pinyin, initials = name_keys(row.name)
    given = {"name", "phone", "ethnicity", "relation", "dwelling"}
    values = {"name": row.name, "phone": row.phone, "ethnicity": row.ethnicity, "relation": row.relation}
    return Person(
        name=row.name,
        sex=row.sex,
        birth_date=row.birth_date,  # type: ignore[misc]  # set whenever the row is accepted
        id_number_cipher=sealed_id.cipher,
        id_number_hash=sealed_id.hash,
        id_number_masked=sealed_id.masked,
        phone_cipher=sealed_phone.cipher if sealed_phone else None,
        phone_hash=sealed_phone.hash if sealed_phone else "",
        phone_masked=sealed_phone.masked if sealed_phone else "",
        ethnicity=row.ethnicity,
        relation=row.relation,
        dwelling_id=dwelling[0] if dwelling else None,
        path=dwelling[1] if dwelling else ctx.job.path,
        name_pinyin=pinyin,
        name_initials=initials,
        provenance={f: record.pk for f in given if (values.get(f) if f != "dwelling" else dwelling)},
    )


def _wanted_residences(row: RowResult) -> list[tuple[str, int | None, str, str]]:
    """(kind, dwelling id, path, address text) the row states."""
    wanted: list[tuple[str, int | None, str, str]] = []
    actual = row.actual
    if row.registered_address and row.registered:
        wanted.append(
            (ResidenceKind.REGISTERED, row.registered.dwelling_id, row.registered.path, row.registered_address)
        )
    elif row.kind == ResidenceKind.REGISTERED and row.actual_address and actual:
        # 户籍人口 with no separate registered address: registered where they live.
        wanted.append((ResidenceKind.REGISTERED, actual.dwelling_id, actual.path, row.actual_address))
    if row.actual_address and actual:
        kind = row.kind if row.kind in ACTUAL_KINDS else ResidenceKind.RESIDENT
        wanted.append((kind, actual.dwelling_id, actual.path, row.actual_address))
    return wanted


def _residences(ctx: _Context, person: Person, key: str, row: RowResult, record: SourceRecord) -> None:
    current = ctx.current.setdefault(key, [])
    for kind, dwelling_id, path, address in _wanted_residences(row):
        group = [r for r in current if _group(r.kind) == _group(kind)]
        same = [
            r
            for r in group
            if r.kind == kind
            and (
                r.dwelling_id == dwelling_id if (dwelling_id or r.dwelling_id) else r.address.strip() == address.strip()
            )
        ]
        if same or not all(_may_replace(ctx, r.source_record_id) for r in group):
            continue  # reuse the identical current one; never displace a more trusted one
        for old in group:
            old.until = ctx.today
            current.remove(old)
            if old.pk is not None:
                ctx.closed_residences.append(old)
            else:
                ctx.new_residences.remove(old)
        new = Residence(
            person=person,
            kind=kind,
            dwelling_id=dwelling_id,
            address=address[:255],
            path=path if dwelling_id else "",
            source_record=record,
        )
        ctx.new_residences.append(new)
        current.append(new)


def _separation(ctx: _Context, key: str) -> str:
    current = ctx.current.get(key, [])
    registered = next((r for r in current if r.kind == ResidenceKind.REGISTERED), None)
    actual = next((r for r in current if r.kind in ACTUAL_KINDS), None)
    return separation_between(registered, actual)


def names_clash(current: str, given: str) -> bool:
    """Entirely different names (not a homophone, traditional form or one-character typo)."""
    from grassroots.registry.linkage.names import NameRelation, compare_names

    return bool(current and given) and compare_names(current, given) == NameRelation.DIFFERENT


def is_held(row: RowResult) -> bool:
    """Only the ID number failed, and the row names someone: record linkage may still place it."""
    errors = {p["field"] for p in row.problems if p["level"] == "error"}
    return errors == {"id_number"} and bool(row.name)


def _status(row: RowResult) -> str:
    if row.accepted:
        return RecordStatus.ACCEPTED
    return RecordStatus.HELD if is_held(row) else RecordStatus.REJECTED


def _filled(row: RowResult) -> list[str]:
    # A held row's sex and birth date may still come from its own columns (the raw cells).
    return [f for f in FILLED_FIELDS if getattr(row, f, None)]


def _record(job: ImportJob, source: Source, row: RowResult, id_hash: str) -> SourceRecord:
    match = row.actual if row.actual and row.actual.dwelling_id else row.registered
    dwelling_id = match.dwelling_id if match else None
    return SourceRecord(
        job=job,
        source=source,
        sheet=job.sheet_name,
        row_number=row.row_number,
        raw_cipher=crypto.encrypt(json.dumps(row.raw, ensure_ascii=False), context=RAW_CONTEXT),
        name=row.name,
        id_number_hash=id_hash,
        phone_hash=crypto.blind_index(row.phone, context=PHONE_CONTEXT) if row.phone else "",
        status=_status(row),
        problems=row.problems,
        filled=_filled(row),
        dwelling_id=dwelling_id,
        match_confidence=match.confidence if match and dwelling_id else None,
        path=match.path if match and dwelling_id else job.path,
    )


def write_batch(*, job: ImportJob, source: Source, rows: list[RowResult], tag_ids: dict[str, int]) -> BatchOutcome:
    """Write one batch; call inside a transaction. Rows already stored for this job are skipped."""
    outcome = BatchOutcome()
    done = set(
        SourceRecord.objects.filter(
            job=job, sheet=job.sheet_name, row_number__in=[r.row_number for r in rows]
        ).values_list("row_number", flat=True)
    )
    outcome.skipped = len(done)
    rows = [r for r in rows if r.row_number not in done]
    hashes = [id_number_hash(r.id_number) if r.id_number else "" for r in rows]
    choice_of = _address_choices(job, rows)
    records = [_record(job, source, row, h) for row, h in zip(rows, hashes, strict=True)]
    for row, record in zip(rows, records, strict=True):
        record.unplaced_id = choice_of.get(row.row_number)
    SourceRecord.objects.bulk_create(records)
    _count_seen(records)

    wanted = {h for row, h in zip(rows, hashes, strict=True) if row.accepted}
    persons = {p.id_number_hash: p for p in Person.objects.filter(id_number_hash__in=wanted)}
    # A number merged away by a reviewer (two numbers, one person) still finds its person.
    for alias in PersonAlias.objects.filter(id_number_hash__in=wanted - persons.keys()).select_related("person"):
        persons[alias.id_number_hash] = alias.person
    ctx = _Context(job=job, source=source, today=clock.today(), trust_of={}, tag_ids=tag_ids)
    hash_of = {p.pk: h for h, p in persons.items()}
    for res in Residence.objects.filter(person_id__in=hash_of, until__isnull=True).order_by("id"):
        ctx.current.setdefault(hash_of[res.person_id], []).append(res)
    record_ids = {v for p in persons.values() for v in p.provenance.values() if isinstance(v, int)}
    record_ids |= {r.source_record_id for rs in ctx.current.values() for r in rs if r.source_record_id}
    ctx.trust_of = dict(SourceRecord.objects.filter(id__in=record_ids).values_list("id", "source__trust"))
    ctx.trust_of.update({r.pk: source.trust for r in records})

    new: dict[str, Person] = {}
    before: dict[str, tuple[object, ...]] = {}  # existing persons as they were, to update only real changes
    for row, h, record in zip(rows, hashes, records, strict=True):
        if not row.accepted:
            outcome.rejected += 1
            outcome.held += is_held(row)
            continue
        outcome.accepted += 1
        lives = row.actual if row.actual_address else row.registered
        dwelling = (lives.dwelling_id, lives.path) if lives and lives.dwelling_id else None
        person = persons.get(h) or new.get(h)
        if person is None:
            person = new[h] = _new_person(ctx, row, record, dwelling)
        elif names_clash(person.name, row.name):
            # The number belongs to someone of another name: perhaps the wrong person's number.
            # Keep the row with the person (record linkage queues the pair for review) but change
            # nothing of theirs until a reviewer decides.
            record.person = person
            continue
        else:
            if person.pk is not None and h not in before:
                before[h] = _snapshot(person)
            _merge(ctx, person, row, record, dwelling)
        record.person = person
        _residences(ctx, person, h, row, record)
        ctx.tag_links.update((h, ctx.tag_ids[code]) for code in row.tags if code in ctx.tag_ids)

    now = clock.now()
    for h, person in new.items():
        person.separation, person.updated_at = _separation(ctx, h), now
    touched, columns = [], {"updated_at"}
    for h in before:
        person = persons[h]
        person.separation = _separation(ctx, h)
        after = _snapshot(person)
        if after != before[h]:
            person.updated_at = now
            touched.append(person)
            # Only the columns that changed: bulk_update's cost grows with rows × columns.
            for name, old, value in zip(SNAPSHOT_FIELDS, before[h], after, strict=True):
                if old != value:
                    columns.update(UPDATE_COLUMNS[name])
    Person.objects.bulk_create(new.values())
    if touched:
        Person.objects.bulk_update(touched, sorted(columns))
    if ctx.closed_residences:
        Residence.objects.bulk_update(ctx.closed_residences, ["until"])
    Residence.objects.bulk_create(ctx.new_residences)
    PersonChange.objects.bulk_create(ctx.changes)
    everyone = {**persons, **new}
    Person.tags.through.objects.bulk_create(
        [Person.tags.through(person_id=everyone[h].pk, tag_id=t) for h, t in ctx.tag_links], ignore_conflicts=True
    )
    _link_records([(r.pk, r.person.pk) for r in records if r.person is not None])
    outcome.new_persons = len(new)
    return outcome


def _address_choices(job: ImportJob, rows: list[RowResult]) -> dict[int, int]:
    """Row number → the AddressChoice its actual address belongs to; new texts are queued.

    A fixed handful of queries per batch: one read of this area's choices for the batch's
    texts, and for texts never seen here one insert (conflicts ignored: a parallel job may
    queue the same text) and one read back.
    """
    choice_of: dict[int, int] = {}
    waiting: dict[str, list[RowResult]] = {}
    reasons: dict[str, str] = {}
    for row in rows:
        found = row.actual
        if not row.actual_address or found is None or not (row.accepted or is_held(row)):
            continue  # a rejected row places no one; it comes back corrected in a later file
        if found.choice_id is not None:
            choice_of[row.row_number] = found.choice_id
        elif found.needs_review:
            text = normalise_address(row.actual_address)[:255]
            waiting.setdefault(text, []).append(row)
            reasons.setdefault(text, found.reason[:200])
    if not waiting:
        return choice_of
    choices = {c.text: c for c in _choices(job.path, list(waiting))}
    new = [
        AddressChoice(path=job.path, text=text, reason=reason, first_job=job)
        for text, reason in reasons.items()
        if text not in choices
    ]
    if new:
        AddressChoice.objects.bulk_create(new, ignore_conflicts=True)
        choices.update({c.text: c for c in _choices(job.path, [c.text for c in new])})
    scope = Scope(area_path=job.path)
    for text, group in waiting.items():
        choice = choices[text]
        for row in group:
            choice_of[row.row_number] = choice.pk
            if choice.status != AddressChoiceStatus.PENDING:
                _decided_meanwhile(row, choice, scope)
    return choice_of


def _choices(path: str, texts: list[str]) -> list[AddressChoice]:
    return list(
        AddressChoice.objects.filter(path=path, text__in=texts)
        .select_related("dwelling")
        .only("id", "text", "status", "dwelling__path")
    )


def _decided_meanwhile(row: RowResult, choice: AddressChoice, scope: Scope) -> None:
    """A worker decided the text after this job loaded its index: take the decision now."""
    dwelling = choice.dwelling
    if choice.status == AddressChoiceStatus.CHOSEN and dwelling is not None and scope.covers_path(dwelling.path):
        found = AddressMatch(dwelling.pk, dwelling.path, 1.0, "matched", REMEMBERED_REASON, choice.pk)
    else:
        assert row.actual is not None
        found = AddressMatch(None, "", 0.0, row.actual.status, row.actual.reason, choice.pk)
    row.actual = found
    row.problems = [p for p in row.problems if p["field"] != "actual_address"]
    address_problem(row, "actual_address", found)


def _count_seen(records: list[SourceRecord]) -> None:
    counts = Counter(r.unplaced_id for r in records if r.unplaced_id is not None)
    if counts:
        bump = Case(*(When(pk=pk, then=Value(n)) for pk, n in counts.items()), output_field=PositiveIntegerField())
        AddressChoice.objects.filter(pk__in=list(counts)).update(seen=F("seen") + bump)


def _snapshot(person: Person) -> tuple[object, ...]:
    # provenance is mutated in place: copy it, or the snapshot would change with the person.
    return tuple(dict(v) if isinstance(v := getattr(person, f), dict) else v for f in SNAPSHOT_FIELDS)


def _link_records(pairs: list[tuple[int, int]]) -> None:
    """Set SourceRecord.person for a batch in one statement.

    Django's bulk_update builds a CASE expression through the ORM, which cost most of an
    import's time; this is the same SQL built directly, with parameters only.
    """
    if not pairs:
        return
    table = connection.ops.quote_name(SourceRecord._meta.db_table)
    whens = " ".join(["WHEN %s THEN %s"] * len(pairs))
    marks = ", ".join(["%s"] * len(pairs))
    params = [value for pair in pairs for value in pair] + [pk for pk, _ in pairs]
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET person_id = CASE id {whens} END WHERE id IN ({marks})", params)  # noqa: S608


def tag_ids() -> dict[str, int]:
    return dict(Tag.objects.values_list("code", "id"))
