"""Record linkage on the registry: the pure engine (``registry.linkage``) run over source records.

The import keeps its exact path: a row with a valid ID number finds or makes its person by that
number. Linkage then does what an exact key cannot:

- a *held* row (only its ID number failed: empty, mistyped, cut short by Excel) is attached to
  the person its name, birth date, phone and address point to (status LINKED), or waits;
- pairs the model is unsure of, a person whose records disagree on the name (someone else's ID
  number?), and two persons that look like one go to the review queue (``RecordPair``);
- a reviewer's "same" attaches a held record or merges two persons; "different" keeps two records
  apart for good and splits a record off the person it was wrongly merged into;
- each change of membership re-chooses the person's surviving values (``person_resurvive``).

Runs are incremental: the new records plus the existing records sharing a blocking key with them
(ID number, phone, dwelling, pinyin name), never the whole registry. Every decided pair is passed
to the engine on every run, so a decision is never asked twice.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.db import IntegrityError, models, transaction
from django.db.models import Q

from grassroots.audit.services import SYSTEM, Actor, audit_record
from grassroots.core import clock, crypto
from grassroots.core.errors import DomainError, Forbidden, NotFound
from grassroots.core.masking import mask_phone
from grassroots.core.scope import Scope
from grassroots.registry.imports.pipeline import RAW_CONTEXT
from grassroots.registry.models import (
    ChangeOrigin,
    ImportJob,
    ImportStatus,
    LinkRun,
    LinkRunKind,
    LinkRunStatus,
    PairDecision,
    PairReason,
    Person,
    PersonAlias,
    PersonChange,
    RecordPair,
    RecordStatus,
    Residence,
    ResidenceKind,
    Source,
    SourceRecord,
)
from grassroots.registry.sealing import ID_CONTEXT, PHONE_CONTEXT, seal_phone
from grassroots.registry.search_keys import name_keys
from grassroots.registry.services.people import person_refresh_separation

log = logging.getLogger(__name__)

DEFAULT_MODEL = Path(__file__).resolve().parent.parent / "linkage" / "default_model.json"
LINKABLE = (RecordStatus.ACCEPTED, RecordStatus.LINKED, RecordStatus.HELD)
WITH_PERSON = (RecordStatus.ACCEPTED, RecordStatus.LINKED)
# Fields re-chosen from a person's records; the ID number, sex and birth date stay the person's own.
RESURVIVED = ("name", "phone", "dwelling")
MAX_NOTE = 200


# --- Records for the engine --------------------------------------------------------------


def engine_records(records: Iterable[SourceRecord]) -> list[dict[str, Any]]:
    """Decrypt each record's row and map it to the engine's fields (in memory only, never stored)."""
    out = []
    for record in records:
        raw: dict[str, str] = json.loads(crypto.decrypt(record.raw_cipher, context=RAW_CONTEXT))
        value = {field: raw.get(header, "") for header, field in record.job.mapping.items() if field}
        out.append(
            {
                "record_id": str(record.pk),
                "source": record.source.code,
                "name": value.get("name") or record.name,
                "id_number": value.get("id_number", ""),
                "birth_date": value.get("birth_date", ""),
                "sex": value.get("sex", ""),
                "phone": value.get("phone", ""),
                "address": value.get("actual_address", ""),
                "registered_address": value.get("registered_address", ""),
                "updated_at": record.created_at.isoformat() if record.created_at else "",
                "dwelling": str(record.dwelling_id) if record.dwelling_id else "",
            }
        )
    return out


# Values per IN (...) list: SQLite allows 32,766 parameters a statement and an import has 50,000 rows.
CHUNK = 5000


def _chunks(values: Iterable[Any]) -> Iterator[list[Any]]:
    items = list(values)
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def _key_q(field: str, values: set[Any]) -> Iterator[Q]:
    for chunk in _chunks(values):
        yield Q(**{f"{field}__in": chunk})


def _neighbours(new: list[SourceRecord]) -> list[SourceRecord]:
    """Existing records with a person that share a blocking key with the new ones.

    A person registered by hand (or by the demo) has no record: a baseline record of its current
    values is made first (``_baseline``), so every person can be linked to and reviewed alike.
    Each key is queried on its own, in chunks, so a 50,000-row import stays within SQL limits.
    """
    new_ids = {r.pk for r in new}
    keys: dict[str, set[Any]] = {
        "id_number_hash": {r.id_number_hash for r in new} - {""},
        "phone_hash": {r.phone_hash for r in new} - {""},
        "dwelling_id": {r.dwelling_id for r in new} - {None},
    }
    pinyins = {name_keys(r.name)[0] for r in new if r.name} - {""}
    person_ids: set[int] = set()
    for field, values in [*keys.items(), ("name_pinyin", pinyins)]:
        for q in _key_q(field, values):
            person_ids.update(Person.objects.filter(q).values_list("pk", flat=True))
    recorded: set[int] = set()
    for chunk in _chunks(person_ids):
        rows = SourceRecord.objects.filter(person_id__in=chunk, status__in=WITH_PERSON).values_list("pk", "person_id")
        recorded.update(person for pk, person in rows if pk not in new_ids)
    for chunk in _chunks(person_ids - recorded):
        bare = Person.objects.filter(pk__in=chunk).select_related("dwelling__building__compound", "dwelling__entrance")
        # A person this very import made is described by its new rows already; it needs no baseline.
        _baseline([p for p in bare if p.provenance.get("name") not in new_ids])
    found: dict[int, SourceRecord] = {}
    for q in [q for field, values in keys.items() for q in _key_q(field, values)] + list(
        _key_q("person_id", person_ids)
    ):
        records = SourceRecord.objects.filter(q, status__in=WITH_PERSON, person__isnull=False).select_related(
            "job", "source"
        )
        found.update((r.pk, r) for r in records if r.pk not in new_ids)
    return list(found.values())


BASELINE_SOURCE = "registry"
BASELINE_MAPPING = {"姓名": "name", "身份证号码": "id_number", "联系电话": "phone", "现住址": "actual_address"}


def dwelling_text(person: Person) -> str:
    """The person's flat written as an address: 阳光花园1幢2单元301室."""
    d = person.dwelling
    if d is None:
        return ""
    compound = d.building.compound.name if d.building.compound else ""
    return f"{compound}{d.building.name}{d.entrance.number}单元{d.room}室"


def _baseline(persons: list[Person]) -> None:
    """One record per person of the values the registry holds now (source 登记库, one row per person)."""
    if not persons:
        return
    source, _ = Source.objects.get_or_create(code=BASELINE_SOURCE, defaults={"name": "登记库", "trust": 80})
    job, _ = ImportJob.objects.get_or_create(
        source=source,
        file_sha256="baseline",
        defaults={
            "path": "",
            "file_name": "登记库现有人员（比对基线）",
            "file_size": 0,
            "mapping": BASELINE_MAPPING,
            "status": ImportStatus.DONE,
        },
    )
    rows = []
    for person in persons:
        number = crypto.decrypt(person.id_number_cipher, context=ID_CONTEXT)
        phone = crypto.decrypt(person.phone_cipher, context=PHONE_CONTEXT) if person.phone_cipher else ""
        raw = {"姓名": person.name, "身份证号码": number, "联系电话": phone, "现住址": dwelling_text(person)}
        rows.append(
            SourceRecord(
                job=job,
                source=source,
                row_number=person.pk,
                raw_cipher=crypto.encrypt(json.dumps(raw, ensure_ascii=False), context=RAW_CONTEXT),
                name=person.name,
                id_number_hash=person.id_number_hash,
                phone_hash=person.phone_hash,
                status=RecordStatus.ACCEPTED,
                person=person,
                dwelling_id=person.dwelling_id,
                match_confidence=1.0 if person.dwelling_id else None,
                path=person.path,
                # Sex and birth date come with a valid ID number, which every person has.
                filled=[field for header, field in BASELINE_MAPPING.items() if raw[header]] + ["sex", "birth_date"],
            )
        )
    SourceRecord.objects.bulk_create(rows, ignore_conflicts=True)


def current_model() -> dict[str, Any]:
    """The newest trained model (a full run's), else the one shipped, trained on generated data."""
    run = (
        LinkRun.objects.filter(status=LinkRunStatus.DONE, kind=LinkRunKind.FULL)
        .exclude(model={})
        .order_by("-finished_at")
        .first()
    )
    if run is not None:
        return dict(run.model)
    model: dict[str, Any] = json.loads(DEFAULT_MODEL.read_text())
    return model


def _known_pairs(record_ids: Iterable[int]) -> list[Any]:
    from grassroots.registry.linkage.clustering import KnownPair

    pairs: dict[int, Any] = {}
    for chunk in _chunks(record_ids):
        decided = RecordPair.objects.exclude(decision=PairDecision.PENDING).filter(
            Q(left__in=chunk) | Q(right__in=chunk)
        )
        pairs.update(
            (p.pk, KnownPair(str(p.left_id), str(p.right_id), p.decision == PairDecision.SAME)) for p in decided
        )
    return list(pairs.values())


# --- Runs ----------------------------------------------------------------------------------


@dataclass
class RunOutcome:
    run: LinkRun
    linked: int = 0  # held records attached to a person
    queued: int = 0  # new pairs for review


def link_job(*, job: ImportJob, actor: Actor = SYSTEM) -> RunOutcome:
    """Link an import job's rows against the registry (incremental; queued after each import)."""
    statuses = (RecordStatus.ACCEPTED, RecordStatus.HELD)
    new = list(SourceRecord.objects.filter(job=job, status__in=statuses).select_related("job", "source"))
    return _run(new=new, kind=LinkRunKind.INCREMENTAL, path=job.path, job=job, actor=actor)


def link_held(*, scope: Scope, actor: Actor = SYSTEM) -> RunOutcome:
    """Try again every held record in a scope (after new imports, decisions or corrected data)."""
    held = list(SourceRecord.objects.filter(scope.path_q(), status=RecordStatus.HELD).select_related("job", "source"))
    return _run(new=held, kind=LinkRunKind.INCREMENTAL, path=scope.area_path or "", job=None, actor=actor)


def link_full(*, scope: Scope, actor: Actor = SYSTEM, train: bool = False) -> RunOutcome:
    """Every linkable record of a scope in one run; ``train`` re-estimates the model by EM and keeps it."""
    records = list(SourceRecord.objects.filter(scope.path_q(), status__in=LINKABLE).select_related("job", "source"))
    return _run(new=records, kind=LinkRunKind.FULL, path=scope.area_path or "", job=None, actor=actor, train=train)


# A run still "running" this long after it began was killed (its work is all-or-nothing: one
# transaction), so it is marked failed rather than shown as running for ever.
STALE_AFTER = timedelta(hours=6)


def runs_mark_stale() -> int:
    """Mark runs left ``running`` for longer than ``STALE_AFTER`` as failed; how many."""
    return LinkRun.objects.filter(status=LinkRunStatus.RUNNING, started_at__lt=clock.now() - STALE_AFTER).update(
        status=LinkRunStatus.FAILED,
        finished_at=clock.now(),
        error="interrupted: the run never finished (process killed or machine restarted); nothing of it was kept",
    )


def _run(
    *,
    new: list[SourceRecord],
    kind: str,
    path: str,
    job: ImportJob | None,
    actor: Actor,
    train: bool = False,
) -> RunOutcome:
    from grassroots.registry.linkage.pipeline import LinkSettings, link

    runs_mark_stale()
    run = LinkRun.objects.create(kind=kind, job=job, path=path, started_at=clock.now())
    outcome = RunOutcome(run=run)
    if not new:
        LinkRun.objects.filter(pk=run.pk).update(status=LinkRunStatus.DONE, finished_at=clock.now())
        run.refresh_from_db()
        return outcome
    try:
        # A full run scores every pair; an incremental one only pairs with a new record, the
        # neighbours standing for their persons (kept whole).
        neighbours = [] if kind == LinkRunKind.FULL else _neighbours(new)
        everyone = {r.pk: r for r in [*new, *neighbours]}
        settings = LinkSettings(model=None if train else current_model(), duckdb_threads=1, duckdb_memory_limit="2GB")
        result = link(
            engine_records(everyone.values()),
            settings=settings,
            known_pairs=_known_pairs(everyone),
            existing={str(r.pk): str(r.person_id) for r in neighbours},
        )
        with transaction.atomic():
            outcome.linked = _attach_clusters(result, everyone, actor)
            outcome.queued = _queue(result, everyone, run) + _queue_name_clashes(new, everyone, run)
            stats = {
                "records": result.stats.records,
                "new_records": result.stats.new_records,
                "pairs_scored": result.stats.comparisons,
                "clusters": result.stats.clusters,
                "seconds": round(result.stats.seconds, 2),
                "linked": outcome.linked,
                "queued": outcome.queued,
            }
            LinkRun.objects.filter(pk=run.pk).update(
                status=LinkRunStatus.DONE,
                finished_at=clock.now(),
                stats=stats,
                model=result.model if train else {},
            )
            audit_record(
                actor=actor,
                action="registry.linkage.run",
                object_type="link_run",
                object_id=run.pk,
                area_path=path,
                detail=stats,
            )
    except Exception as exc:
        log.exception("link run %s failed", run.pk)
        LinkRun.objects.filter(pk=run.pk).update(
            status=LinkRunStatus.FAILED, finished_at=clock.now(), error=f"{type(exc).__name__}: {exc}"[:2000]
        )
    run.refresh_from_db()
    return outcome


def _attach_clusters(result: Any, records: dict[int, SourceRecord], actor: Actor) -> int:
    """Held records in a cluster with exactly one person join that person."""
    best: dict[tuple[str, str], float] = {}
    for left, right, p in zip(result.pairs["left"], result.pairs["right"], result.pairs["probability"], strict=True):
        best[(left, right)] = best[(right, left)] = float(p)
    attached = 0
    touched: dict[int, Person] = {}
    for members in result.members().values():
        rows = [records[int(m)] for m in members]
        persons = {r.person_id for r in rows if r.person_id and r.status in WITH_PERSON}
        held = [r for r in rows if r.status == RecordStatus.HELD]
        if len(persons) != 1 or not held:
            continue
        person_id = persons.pop()
        owners = [str(r.pk) for r in rows if r.person_id == person_id]
        for record in held:
            probability = max((best.get((str(record.pk), o), 0.0) for o in owners), default=0.0)
            _attach(record, person_id, probability or None)
            attached += 1
        touched[person_id] = Person.objects.get(pk=person_id)
    for person in touched.values():
        person_resurvive(person=person, actor=actor)
    return attached


def _attach(record: SourceRecord, person_id: int, probability: float | None) -> None:
    record.person_id, record.status, record.link_probability = person_id, RecordStatus.LINKED, probability
    SourceRecord.objects.filter(pk=record.pk).update(
        person_id=person_id, status=RecordStatus.LINKED, link_probability=probability
    )


def _queue(result: Any, records: dict[int, SourceRecord], run: LinkRun) -> int:
    review = result.review
    if review.empty:
        return 0
    pairs = []
    for row in review.itertuples(index=False):
        a, b = sorted((int(row.left), int(row.right)))
        left, right = records[a], records[b]
        if left.person_id and left.person_id == right.person_id and row.reason == PairReason.UNCERTAIN:
            continue  # already one person by their common ID number; only a name clash is worth asking
        levels = {c[len("gamma_") :]: int(getattr(row, c)) for c in review.columns if c.startswith("gamma_")}
        pairs.append(
            RecordPair(
                left=left,
                right=right,
                path=left.path,
                reason=row.reason,
                probability=float(row.probability),
                levels=levels,
                run=run,
            )
        )
    before = RecordPair.objects.count()
    RecordPair.objects.bulk_create(pairs, ignore_conflicts=True)
    return RecordPair.objects.count() - before


def _queue_name_clashes(new: list[SourceRecord], records: dict[int, SourceRecord], run: LinkRun) -> int:
    """A new row whose ID number found a person of an entirely different name: someone else's number?

    The engine scores such a pair low (the names disagree), so it may not reach its review band;
    but the import has already joined them by the number, so people must look.
    """
    from grassroots.registry.linkage.names import NameRelation, compare_names

    fresh = {r.pk for r in new}
    by_person: dict[int, list[SourceRecord]] = {}
    for record in records.values():
        if record.person_id and record.status in WITH_PERSON:
            by_person.setdefault(record.person_id, []).append(record)
    pairs = []
    for record in new:
        if record.status != RecordStatus.ACCEPTED or not record.person_id:
            continue
        others = [o for o in by_person.get(record.person_id, []) if o.pk not in fresh]
        if others and all(compare_names(record.name, o.name) == NameRelation.DIFFERENT for o in others):
            # Prefer a row whose own valid number made the match (accepted) over a linked one.
            first = min(others, key=lambda o: (o.status != RecordStatus.ACCEPTED, o.pk))
            left, right = sorted((first, record), key=lambda r: r.pk)
            pairs.append(
                RecordPair(
                    left=left,
                    right=right,
                    path=left.path,
                    reason=PairReason.NAMES_DIFFER,
                    probability=0.0,
                    levels={"name": 0, "id_number": 3},
                    run=run,
                )
            )
    before = RecordPair.objects.count()
    RecordPair.objects.bulk_create(pairs, ignore_conflicts=True)
    return RecordPair.objects.count() - before


# --- Survivorship ---------------------------------------------------------------------------


def person_resurvive(*, person: Person, actor: Actor = SYSTEM) -> list[str]:
    """Re-choose name, phone and dwelling from the person's records by source trust, then recency.

    Only values that came from a record (``provenance``) or are empty are replaced: what a worker
    typed on a visit stays until a worker changes it. Returns the fields that changed.
    """
    from grassroots.registry.linkage.survivorship import survive

    records = list(person.source_records.filter(status__in=WITH_PERSON).select_related("job", "source"))
    if not records:
        return []
    trust = {r.source.code: r.source.trust for r in records}
    surviving = survive(engine_records(records), source_trust=trust, fields=RESURVIVED)
    changed: list[str] = []
    now = clock.now()

    def replaceable(field: str, current: object) -> bool:
        return not current or isinstance(person.provenance.get(field), int)

    def note(field: str, before: str, after: str, record_id: int) -> None:
        person.provenance[field] = record_id
        changed.append(field)
        PersonChange.objects.create(
            person=person,
            path=person.path,
            at=now,
            actor_id=getattr(actor, "id", None),
            origin=ChangeOrigin.LINK,
            field=field,
            before=before[:255],
            after=after[:255],
            source_record_id=record_id,
        )

    name = surviving.get("name")
    if name and name.value != person.name and replaceable("name", person.name):
        note("name", person.name, name.value, int(name.record_id))
        person.name = name.value
        person.name_pinyin, person.name_initials = name_keys(name.value)
    phone = surviving.get("phone")
    if phone and replaceable("phone", person.phone_hash):
        from grassroots.core.ids import InvalidPhone, parse_mobile

        try:
            sealed = seal_phone(parse_mobile(phone.value))
        except InvalidPhone:
            sealed = None
        if sealed is not None and sealed.hash != person.phone_hash:
            note("phone", person.phone_masked, mask_phone(parse_mobile(phone.value)), int(phone.record_id))
            person.phone_cipher, person.phone_hash, person.phone_masked = sealed.cipher, sealed.hash, sealed.masked
    dwelling = surviving.get("dwelling")
    if dwelling and int(dwelling.value) != person.dwelling_id and replaceable("dwelling", person.dwelling_id):
        target = next(r for r in records if str(r.pk) == dwelling.record_id)
        note("dwelling", f"房屋#{person.dwelling_id or ''}", f"房屋#{target.dwelling_id}", target.pk)
        person.dwelling_id, person.path = target.dwelling_id, target.path
    if changed:
        person.save()
    return changed


# --- Review decisions -------------------------------------------------------------------------


def _check(scope: Scope, may_review: bool, *paths: str) -> None:
    if not may_review:
        raise Forbidden("您的角色无权核对人员比对结果。")
    if not all(scope.covers_path(p) for p in paths if p):
        raise NotFound()


@transaction.atomic
def pair_decide(
    *,
    actor: Actor,
    scope: Scope,
    may_review: bool,
    pair: RecordPair,
    decision: str,
    note: str = "",
    detach: SourceRecord | None = None,
) -> RecordPair:
    """Keep a reviewer's answer and act on it now.

    "same": a held record joins the other's person; two persons become one (``person_merge``).
    "different": when both records sit in one person, ``detach`` (default: the newer record)
    leaves it; otherwise the answer only keeps them apart in every later run.
    """
    pair = RecordPair.objects.select_for_update().select_related("left", "right").get(pk=pair.pk)
    _check(scope, may_review, pair.left.path, pair.right.path)
    if decision not in (PairDecision.SAME, PairDecision.DIFFERENT):
        raise DomainError("请选择“同一人”或“不是同一人”。", field="decision")
    if pair.decision:
        raise DomainError("这对记录已经有人核对过，请刷新页面。")
    if len(note) > MAX_NOTE:
        raise DomainError(f"说明不能超过{MAX_NOTE}个字。", field="note")
    left, right = pair.left, pair.right
    if decision == PairDecision.SAME:
        _decide_same(actor, left, right)
    elif left.person_id and left.person_id == right.person_id:
        leaving = detach or leaving_default(left, right)
        if leaving.pk not in (left.pk, right.pk):
            raise DomainError("要拆出的记录不属于这对记录。", field="detach")
        _detach(actor, leaving)
    pair.decision, pair.decided_by_id, pair.decided_at, pair.note = decision, actor.id, clock.now(), note.strip()
    pair.save(update_fields=["decision", "decided_by", "decided_at", "note"])
    audit_record(
        actor=actor,
        action="registry.linkage.decide",
        object_type="record_pair",
        object_id=pair.pk,
        area_path=pair.path,
        detail={"decision": decision, "reason": pair.reason, "left": left.pk, "right": right.pk},
    )
    return pair


def leaving_default(left: SourceRecord, right: SourceRecord) -> SourceRecord:
    """Which of two records of one person to split off when they are not the same person.

    The one whose name is not the person's (the other gave it); with both or neither, the newer.
    """
    person = left.person
    if person is not None and (left.name == person.name) != (right.name == person.name):
        return right if left.name == person.name else left
    return right if (right.created_at, right.pk) >= (left.created_at, left.pk) else left


def _decide_same(actor: Actor, left: SourceRecord, right: SourceRecord) -> None:
    a, b = left.person_id, right.person_id
    if a and b and a != b:
        keep = _keeper(a, b)
        person_merge(actor=actor, keep=keep, other=Person.objects.get(pk=b if keep.pk == a else a))
    elif a and not b:
        _attach(right, a, None)
        person_resurvive(person=Person.objects.get(pk=a), actor=actor)
    elif b and not a:
        _attach(left, b, None)
        person_resurvive(person=Person.objects.get(pk=b), actor=actor)
    # Neither has a person: the decision is kept; the next run joins them with whoever they match.


def _keeper(a: int, b: int) -> Person:
    """Of two persons to merge, keep the one whose records are most trusted, then the older one."""

    def rank(pk: int) -> tuple[int, int, int]:
        records = SourceRecord.objects.filter(person_id=pk, status=RecordStatus.ACCEPTED)
        top = records.aggregate(t=models.Max("source__trust"))["t"] or 0
        return (top, records.count(), -pk)

    return Person.objects.get(pk=max((a, b), key=rank))


def _detach(actor: Actor, record: SourceRecord) -> Person | None:
    person = record.person
    if person is None:
        return None
    SourceRecord.objects.filter(pk=record.pk).update(person=None, status=RecordStatus.HELD, link_probability=None)
    # Values this record gave must be re-chosen from the records that stay.
    for field, source in list(person.provenance.items()):
        if source == record.pk:
            person.provenance.pop(field)
    Residence.objects.filter(person=person, source_record=record, until__isnull=True).update(until=clock.today())
    person.save(update_fields=["provenance", "updated_at"])
    PersonChange.objects.create(
        person=person,
        path=person.path,
        at=clock.now(),
        actor_id=getattr(actor, "id", None),
        origin=ChangeOrigin.LINK,
        field="source_record",
        before=f"来源记录#{record.pk}",
        after="已拆出",
        source_record=record,
    )
    person_resurvive(person=person, actor=actor)
    person_refresh_separation(person=person)
    return person


@transaction.atomic
def record_split(*, actor: Actor, scope: Scope, may_review: bool, record: SourceRecord, reason: str) -> SourceRecord:
    """Split a wrongly merged record off its person, and keep it apart from that person for good."""
    # No select_related: PostgreSQL refuses FOR UPDATE on the nullable side of an outer join.
    record = SourceRecord.objects.select_for_update().get(pk=record.pk)
    person = record.person
    if person is None:
        raise DomainError("这条记录没有归属任何人员，无需拆分。")
    _check(scope, may_review, person.path, record.path)
    if len(reason.strip()) < 4:
        raise DomainError("拆分必须填写原因（至少4个字）。", field="reason")
    others = list(
        SourceRecord.objects.filter(person=person, status__in=WITH_PERSON).exclude(pk=record.pk).order_by("pk")
    )
    if not others:
        raise DomainError("这是该人员唯一的来源记录，不能拆出。")
    _detach(actor, record)
    # "Not the same" against each record that stays: no later run may put it back.
    decided = []
    for other in others:
        a, b = sorted((record.pk, other.pk))
        decided.append(
            RecordPair(
                left_id=a,
                right_id=b,
                path=person.path,
                reason=PairReason.NAMES_DIFFER,
                probability=0.0,
                decision=PairDecision.DIFFERENT,
                decided_by_id=actor.id,
                decided_at=clock.now(),
                note=reason.strip()[:MAX_NOTE],
            )
        )
    for pair in decided:
        RecordPair.objects.update_or_create(
            left_id=pair.left_id,
            right_id=pair.right_id,
            defaults={
                "decision": PairDecision.DIFFERENT,
                "decided_by_id": actor.id,
                "decided_at": pair.decided_at,
                "note": pair.note,
            },
            create_defaults={f: getattr(pair, f) for f in ("path", "reason", "probability", "decision", "note")}
            | {"decided_by_id": actor.id, "decided_at": pair.decided_at},
        )
    audit_record(
        actor=actor,
        action="registry.linkage.split",
        object_type="source_record",
        object_id=record.pk,
        area_path=person.path,
        detail={"person": person.pk, "reason": reason.strip()},
    )
    record.refresh_from_db()
    return record


@transaction.atomic
def person_merge(*, actor: Actor, keep: Person, other: Person) -> Person:
    """Make two persons one: everything that points to ``other`` points to ``keep``; ``other`` goes.

    ``other``'s ID number is kept as an alias, so a later import of it finds ``keep``.
    """
    if keep.pk == other.pk:
        return keep
    for relation in Person._meta.related_objects:
        model: Any = relation.related_model
        if model is PersonAlias:
            continue
        field: Any = relation.field
        if relation.many_to_many:
            # Reverse many-to-many (a team's members…): move the through rows; a row keep already has goes.
            through: Any = field.remote_field.through
            column = field.m2m_reverse_field_name()
            for row in through._default_manager.filter(**{column: other}):
                try:
                    with transaction.atomic():
                        through._default_manager.filter(pk=row.pk).update(**{column: keep})
                except IntegrityError:
                    row.delete()
            continue
        name = field.name
        try:
            with transaction.atomic():
                model._default_manager.filter(**{name: other}).update(**{name: keep})
        except IntegrityError as exc:
            label = model._meta.verbose_name
            raise DomainError(f"两人都有“{label}”记录，不能自动合并；请先在相应页面处理其中一条。") from exc
    keep.tags.add(*other.tags.all())
    PersonAlias.objects.filter(person=other).update(person=keep)
    PersonAlias.objects.create(
        person=keep, id_number_hash=other.id_number_hash, id_number_masked=other.id_number_masked
    )
    PersonChange.objects.create(
        person=keep,
        path=keep.path,
        at=clock.now(),
        actor_id=getattr(actor, "id", None),
        origin=ChangeOrigin.LINK,
        field="merge",
        before=f"人员#{other.pk} {other.id_number_masked}",
        after=f"并入人员#{keep.pk}",
    )
    audit_record(
        actor=actor,
        action="registry.linkage.merge",
        object_type="person",
        object_id=keep.pk,
        area_path=keep.path,
        detail={"merged": other.pk},
    )
    other.delete()
    keep.refresh_from_db()
    # Two current homes of one kind after the merge: the older one ends today.
    current: dict[str, Residence] = {}
    for res in keep.residences.filter(until__isnull=True).order_by("-id"):
        group = "registered" if res.kind == ResidenceKind.REGISTERED else "actual"
        if group in current:
            Residence.objects.filter(pk=res.pk).update(until=clock.today())
        else:
            current[group] = res
    person_resurvive(person=keep, actor=actor)
    person_refresh_separation(person=keep)
    return keep
