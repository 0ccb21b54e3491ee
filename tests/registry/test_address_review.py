"""Unplaced addresses: queued once per text, placed by a worker's choice, remembered for later imports."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from grassroots.accounts.models import Role
from grassroots.audit.models import AuditEntry
from grassroots.audit.services import SYSTEM
from grassroots.core.errors import DomainError, Forbidden, NotFound
from grassroots.core.scope import Scope
from grassroots.places import services as places
from grassroots.registry.addresses import selectors, services
from grassroots.registry.imports import pipeline
from grassroots.registry.imports.address import AddressIndex, normalise_address
from grassroots.registry.imports.mapping import suggest_mapping
from grassroots.registry.imports.validation import validate_row
from grassroots.registry.models import (
    AddressChoice,
    AddressChoiceStatus,
    ChangeOrigin,
    ImportJob,
    Person,
    PersonChange,
    Residence,
    ResidenceKind,
    Separation,
    SourceRecord,
)
from grassroots.registry.services import id_number_hash
from tests.factories import Tree, centre
from tests.registry.conftest import login
from tests.registry.imports.helpers import HEADERS, csv_bytes, import_file, person_id, source

ELSEWHERE = "河南省郑州市金水区文化路1号"
# Three spellings of one ambiguous text: 阳光花园1幢 has room 101 in both of its entrances.
SPELLINGS = ["阳光花园一号楼101室", "阳光花园1幢101室", "阳光花园 1号楼 101室"]
TEXT = normalise_address(SPELLINGS[1])


def row(seq: int, actual: str, registered: str = ELSEWHERE, name: str = "") -> list[str]:
    return [name or f"居民{seq}", person_id(seq), "", "", actual, registered, "常住", "否"]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def queued(tree: Tree) -> ImportJob:
    rows = [row(i + 1, text) for i, text in enumerate(SPELLINGS)]
    return import_file(csv_bytes(rows), "first.csv", source(), tree.yushan)


def dispatcher(tree: Tree) -> Any:
    return tree.users[Role.SUBDISTRICT_DISPATCHER]


def entrance2_101(tree: Tree) -> Any:
    return tree.building1.dwellings.get(entrance__number=2, room="101")


def test_spellings_of_one_text_share_one_choice(tree, queued):
    choice = AddressChoice.objects.get()  # the unmatched registered address is not queued
    assert (choice.path, choice.text, choice.status) == (tree.yushan.path, TEXT, AddressChoiceStatus.PENDING)
    assert choice.seen == 3 and choice.first_job == queued
    assert "2户" in choice.reason
    records = SourceRecord.objects.filter(job=queued)
    assert {r.unplaced_id for r in records} == {choice.pk} and all(r.dwelling_id is None for r in records)
    assert all(p.dwelling_id is None for p in Person.objects.all())
    problem = next(p for p in records[0].problems if p["field"] == "actual_address")
    assert problem["level"] == "warning" and "已加入待确认地址" in problem["message"]
    # The review list shows it with the matcher's own candidates: the two rooms 101 of 1幢.
    scope = Scope(area_path=tree.yushan.path)
    assert [c.pk for c in selectors.choice_list(scope=scope)] == [choice.pk]
    found = selectors.candidates(choice=choice)
    assert {(d.entrance.number, d.room) for d in found.dwellings} == {(1, "101"), (2, "101")}


def test_a_second_file_adds_to_the_same_choice(tree, queued):
    import_file(csv_bytes([row(7, "阳光花园一号楼一〇一室")]), "second.csv", source("civil", name="民政"), tree.yushan)
    choice = AddressChoice.objects.get()
    assert choice.seen == 4 and choice.records.count() == 4 and choice.first_job == queued


def test_choosing_places_the_waiting_records_and_persons(tree, queued):
    dwelling = entrance2_101(tree)
    choice = services.address_choose(actor=dispatcher(tree), choice=AddressChoice.objects.get(), dwelling=dwelling)
    assert (choice.status, choice.dwelling, choice.decided_by) == ("chosen", dwelling, dispatcher(tree))
    for record in SourceRecord.objects.filter(job=queued):
        assert (record.dwelling, record.path, record.match_confidence) == (dwelling, dwelling.path, 1.0)
        person = record.person
        assert (person.dwelling, person.path) == (dwelling, dwelling.path)
        assert person.provenance["dwelling"] == record.pk
        assert person.separation == Separation.LIVES_HERE_REGISTERED_ELSEWHERE  # was NONE: neither place ours
        actual = person.residences.get(kind=ResidenceKind.RESIDENT, until__isnull=True)
        assert (actual.dwelling, actual.path) == (dwelling, dwelling.path)
        registered = person.residences.get(kind=ResidenceKind.REGISTERED)
        assert registered.dwelling is None and registered.address == ELSEWHERE  # another text: untouched
        change = PersonChange.objects.get(person=person, field="dwelling")
        assert (change.origin, change.after, change.source_record) == (ChangeOrigin.EDIT, f"房屋#{dwelling.pk}", record)
    entry = AuditEntry.objects.get(action="registry.address.choose")
    assert entry.object_id == str(choice.pk) and entry.actor_id == dispatcher(tree).pk
    assert entry.detail["dwelling"] == dwelling.pk and entry.detail["records"] == 3 and entry.detail["persons"] == 3
    assert "阳光" not in str(entry.detail)  # no address text in the log


def test_the_next_import_of_the_text_matches_and_queues_nothing(tree, queued):
    dwelling = entrance2_101(tree)
    choice = services.address_choose(actor=dispatcher(tree), choice=AddressChoice.objects.get(), dwelling=dwelling)
    job = import_file(csv_bytes([row(9, "阳光花园1号楼101户")]), "later.csv", source("civil", name="民政"), tree.yushan)
    record = SourceRecord.objects.get(job=job)
    assert (record.dwelling, record.match_confidence, record.unplaced_id) == (dwelling, 1.0, choice.pk)
    assert any("按已确认的地址匹配" in p["message"] for p in record.problems)
    person = Person.objects.get(id_number_hash=id_number_hash(person_id(9)))
    assert person.dwelling == dwelling
    assert AddressChoice.objects.count() == 1
    choice.refresh_from_db()
    assert (choice.status, choice.seen) == (AddressChoiceStatus.CHOSEN, 4)
    # A community inside the subdistrict imports the text too: the choice's dwelling lies inside it.
    job = import_file(csv_bytes([row(10, SPELLINGS[0])]), "chengbei.csv", source("grid", name="网格"), tree.chengbei)
    assert SourceRecord.objects.get(job=job).dwelling == dwelling
    assert AddressChoice.objects.count() == 1


def test_outside_is_remembered_here_and_below(tree, queued):
    choice = services.address_mark_outside(actor=dispatcher(tree), choice=AddressChoice.objects.get())
    assert choice.status == AddressChoiceStatus.OUTSIDE
    assert AuditEntry.objects.filter(action="registry.address.outside", object_id=str(choice.pk)).count() == 1
    later = import_file(csv_bytes([row(11, SPELLINGS[2])]), "later.csv", source("civil", name="民政"), tree.yushan)
    below = import_file(csv_bytes([row(12, SPELLINGS[0])]), "below.csv", source("grid", name="网格"), tree.chengbei)
    assert AddressChoice.objects.count() == 1
    for job in (later, below):
        record = SourceRecord.objects.get(job=job)
        assert record.dwelling is None and record.unplaced_id == choice.pk
        message = next(p["message"] for p in record.problems if p["field"] == "actual_address")
        assert "已确认不在辖区" in message and "待确认" not in message
    choice.refresh_from_db()
    assert choice.status == AddressChoiceStatus.OUTSIDE and choice.seen == 5


def test_changing_a_choice_moves_what_it_placed(tree, queued):
    first, second = entrance2_101(tree), tree.building1.dwellings.get(entrance__number=1, room="101")
    choice = AddressChoice.objects.get()
    services.address_choose(actor=dispatcher(tree), choice=choice, dwelling=first)
    services.address_choose(actor=dispatcher(tree), choice=choice, dwelling=second)
    assert {p.dwelling_id for p in Person.objects.all()} == {second.pk}
    assert {r.dwelling_id for r in SourceRecord.objects.all()} == {second.pk}
    assert {r.dwelling_id for r in Residence.objects.filter(kind=ResidenceKind.RESIDENT)} == {second.pk}
    assert PersonChange.objects.filter(field="dwelling", before=f"房屋#{first.pk}").count() == 3
    # Then it turns out to lie elsewhere: what the choice placed is unplaced again.
    services.address_mark_outside(actor=dispatcher(tree), choice=choice)
    assert {p.dwelling_id for p in Person.objects.all()} == {None}
    assert {p.separation for p in Person.objects.all()} == {Separation.NONE}
    assert {(r.dwelling_id, r.path) for r in SourceRecord.objects.all()} == {(None, tree.yushan.path)}
    assert {r.dwelling_id for r in Residence.objects.all()} == {None}


def test_a_person_placed_by_something_else_keeps_their_dwelling(tree, queued):
    person = SourceRecord.objects.filter(job=queued).order_by("row_number").first().person
    elsewhere = tree.building3.dwellings.order_by("id").first()
    Person.objects.filter(pk=person.pk).update(dwelling=elsewhere, path=elsewhere.path)
    services.address_choose(actor=dispatcher(tree), choice=AddressChoice.objects.get(), dwelling=entrance2_101(tree))
    person.refresh_from_db()
    assert person.dwelling == elsewhere


def test_refusals(tree, queued):
    choice = AddressChoice.objects.get()
    dwelling = entrance2_101(tree)
    with pytest.raises(Forbidden):
        services.address_choose(actor=tree.users[Role.GRID_WORKER], choice=choice, dwelling=dwelling)
    # A community cannot see a choice of the subdistrict above it.
    with pytest.raises(NotFound):
        services.address_mark_outside(actor=tree.users[Role.COMMUNITY_WORKER], choice=choice)
    lon, lat = centre(3, 0)
    far = places.building_create(
        actor=SYSTEM, grid=tree.grid4, name="3幢", typology="multi_storey", floors=2, entrances=1,
        dwellings_per_floor=1, lon=lon, lat=lat,
    )  # fmt: skip
    with pytest.raises(DomainError, match="不在您的辖区或该地址所属的区域内"):
        services.address_choose(actor=tree.users[Role.ADMIN], choice=choice, dwelling=far.dwellings.first())
    # Inside the dispatcher's scope but outside a community's choice: refused too.
    local = AddressChoice.objects.create(path=tree.chengbei.path, text="阳光花园9幢101室", seen=1)
    with pytest.raises(DomainError, match="不在您的辖区或该地址所属的区域内"):
        services.address_choose(actor=dispatcher(tree), choice=local, dwelling=tree.building3.dwellings.first())
    choice.refresh_from_db()
    assert choice.status == AddressChoiceStatus.PENDING and not AuditEntry.objects.filter(object_type="address_choice")


def test_pages(tree, queued):
    choice = AddressChoice.objects.get()
    assert login(tree.users[Role.GRID_WORKER]).get(reverse("addresses:list")).status_code == 403
    outsider = login(tree.outsiders[Role.SUBDISTRICT_DISPATCHER])
    assert outsider.get(reverse("addresses:detail", args=[choice.pk])).status_code == 404
    client = login(dispatcher(tree))
    page = client.get(reverse("addresses:list")).content.decode()
    assert TEXT in page and "first.csv" in page
    detail = client.get(reverse("addresses:detail", args=[choice.pk])).content.decode()
    assert "阳光花园1幢1单元101室" in detail and "阳光花园1幢2单元101室" in detail
    compound = tree.building1.compound_id
    fragment = client.get(reverse("addresses:search", args=[choice.pk]), {"compound": compound}).content.decode()
    assert f'value="{tree.building1.pk}"' in fragment
    fragment = client.get(
        reverse("addresses:search", args=[choice.pk]), {"compound": compound, "building": tree.building1.pk}
    ).content.decode()
    dwelling = entrance2_101(tree)
    assert f'value="{dwelling.pk}"' in fragment
    # The search's select wins over an unchecked (empty) candidate.
    response = client.post(reverse("addresses:choose", args=[choice.pk]), {"dwelling": ["", str(dwelling.pk)]})
    assert response.status_code == 302
    assert Person.objects.filter(dwelling=dwelling).count() == 3
    decided = client.get(reverse("addresses:list"), {"status": "chosen"}).content.decode()
    assert TEXT in decided and "阳光花园1幢2单元101室" in decided
    assert TEXT not in client.get(reverse("addresses:list")).content.decode()


def test_a_batch_queues_in_a_fixed_number_of_queries(tree):
    job = ImportJob.objects.create(
        source=source(), path=tree.yushan.path, file_name="x.csv", file_sha256="0" * 64, file_size=1, total_rows=400
    )
    mapping = suggest_mapping(HEADERS, {})
    index = AddressIndex.for_scope(Scope(area_path=tree.yushan.path))

    def batch(first: int, count: int) -> tuple[int, int]:
        """(inserts, other queries) on the choices table for a batch of ``count`` new texts."""
        rows = [
            validate_row(n, dict(zip(HEADERS, row(n, f"阳光花园1幢{n}单元101室"), strict=True)), mapping, index)
            for n in range(first, first + count)
        ]
        with CaptureQueriesContext(connection) as queries, transaction.atomic():
            pipeline.write_batch(job=job, source=job.source, rows=rows, tag_ids={})
        sql = [q["sql"] for q in queries.captured_queries if "addresschoice" in q["sql"].lower()]
        inserts = sum(q.lstrip().upper().startswith("INSERT") for q in sql)
        return inserts, len(sql) - inserts

    # Inserts are one statement, split only by the database's parameter limit (SQLite: ~100 rows).
    fields = [f for f in AddressChoice._meta.concrete_fields if not f.primary_key]
    per_insert = connection.ops.bulk_batch_size(fields, [AddressChoice()] * 200)
    assert batch(3, 5) == (1, 3)  # read this area's choices, insert the new ones, read them back, count seen
    assert batch(100, 200) == (-(-200 // per_insert), 3)
    assert AddressChoice.objects.count() == 205 and sum(AddressChoice.objects.values_list("seen", flat=True)) == 205


def test_the_job_page_lists_an_address_until_it_is_placed(tree, queued):
    from grassroots.registry.imports.selectors import unmatched_addresses

    choice = AddressChoice.objects.get()
    listed = [u for u in unmatched_addresses(job=queued) if u.label == "现住址"]
    assert [(u.choice_id, u.choice_status) for u in listed] == [(choice.pk, "pending")] * 3
    services.address_choose(actor=dispatcher(tree), choice=choice, dwelling=entrance2_101(tree))
    assert [u for u in unmatched_addresses(job=queued) if u.label == "现住址"] == []
    assert len(unmatched_addresses(job=queued)) == 3  # the registered addresses elsewhere stay listed


def test_a_decision_taken_during_a_run_is_taken_by_the_next_batch(tree, queued):
    stale = AddressIndex.for_scope(Scope(area_path=tree.yushan.path))  # loaded before the decision
    dwelling = entrance2_101(tree)
    choice = services.address_choose(actor=dispatcher(tree), choice=AddressChoice.objects.get(), dwelling=dwelling)
    mapping = suggest_mapping(HEADERS, {})
    late = validate_row(100, dict(zip(HEADERS, row(20, SPELLINGS[0]), strict=True)), mapping, stale)
    assert late.actual is not None and late.actual.needs_review
    with transaction.atomic():
        pipeline.write_batch(job=queued, source=queued.source, rows=[late], tag_ids={})
    record = SourceRecord.objects.get(job=queued, row_number=100)
    assert (record.dwelling, record.match_confidence, record.unplaced_id) == (dwelling, 1.0, choice.pk)
    assert record.person.dwelling == dwelling
    assert not any("待确认" in p["message"] for p in record.problems)
