"""Record linkage on the registry: held rows attached, wrong merges queued and split, decisions kept.

Each test imports real files through the import pipeline and runs the real engine (DuckDB);
a run costs a few seconds, so each test makes only the runs it needs.
"""

from __future__ import annotations

from datetime import date

import pytest

from grassroots.accounts.models import Role
from grassroots.audit.models import AuditEntry
from grassroots.audit.services import SYSTEM, actor_of
from grassroots.core.errors import DomainError, Forbidden
from grassroots.core.ids import make_id_number
from grassroots.core.scope import Scope
from grassroots.registry.models import (
    LinkRunStatus,
    PairDecision,
    PairReason,
    Person,
    PersonAlias,
    PersonChange,
    RecordPair,
    RecordStatus,
    SourceRecord,
)
from grassroots.registry.services import id_number_hash
from grassroots.registry.services.linking import link_held, link_job, pair_decide, record_split
from grassroots.volunteers.models import Team, Volunteer
from tests.registry.imports.helpers import csv_bytes, import_file, person_id, source

pytestmark = pytest.mark.django_db

ADDRESS = "阳光花园1幢1单元101室"
PHONE = "13812340001"


def typo(number: str) -> str:
    """One digit of the sequence changed: the check digit no longer fits."""
    digit = "3" if number[15] != "3" else "4"
    return number[:15] + digit + number[16:]


@pytest.fixture
def sources(tree):  # type: ignore[no-untyped-def]
    return source("police", 90, "公安"), source("civil", 70, "民政")


def test_a_held_row_joins_the_person_its_name_phone_and_address_point_to(tree, sources):
    police, civil = sources
    import_file(csv_bytes([["张三", person_id(1), PHONE, "男", ADDRESS, "", "常住", ""]]), "p.csv", police, tree.yushan)
    zhang = Person.objects.get()
    job = import_file(
        csv_bytes([["张三", typo(person_id(1)), PHONE, "男", ADDRESS, "", "常住", ""]]), "c.csv", civil, tree.yushan
    )
    record = SourceRecord.objects.get(job=job)
    assert record.status == RecordStatus.HELD and record.person is None

    outcome = link_job(job=job)

    record.refresh_from_db()
    assert outcome.run.status == LinkRunStatus.DONE, outcome.run.error
    assert (record.status, record.person_id) == (RecordStatus.LINKED, zhang.pk)
    assert record.link_probability is not None and record.link_probability >= 0.9
    assert outcome.linked == 1 and Person.objects.count() == 1
    assert AuditEntry.objects.filter(action="registry.linkage.run", object_id=str(outcome.run.pk)).exists()


def test_a_held_row_with_nobody_like_it_waits(tree, sources):
    police, civil = sources
    import_file(csv_bytes([["张三", person_id(1), PHONE, "男", ADDRESS, "", "常住", ""]]), "p.csv", police, tree.yushan)
    job = import_file(
        csv_bytes([["欧阳娜娜", typo(person_id(7, "F", date(2001, 2, 3))), "13999990000", "女", "", "", "", ""]]),
        "c.csv",
        civil,
        tree.yushan,
    )
    outcome = link_job(job=job)
    record = SourceRecord.objects.get(job=job)
    assert outcome.run.status == LinkRunStatus.DONE, outcome.run.error
    assert (record.status, record.person_id, outcome.linked) == (RecordStatus.HELD, None, 0)


def test_someone_elses_id_number_is_queued_and_a_different_answer_splits_it_off(tree, sources):
    users = tree.users
    police, civil = sources
    li_id = make_id_number("341221", date(1985, 6, 1), 12, "M")
    import_file(
        csv_bytes([["李四", li_id, "13912340012", "男", ADDRESS, "", "常住", ""]]), "p.csv", police, tree.yushan
    )
    li = Person.objects.get()
    # The civil-affairs row carries 李四's number for a woman with another name, phone and flat.
    job = import_file(
        csv_bytes([["王芳", li_id, "13700001111", "", "阳光花园1幢1单元102室", "", "常住", ""]]),
        "c.csv",
        civil,
        tree.yushan,
    )
    wrong = SourceRecord.objects.get(job=job)
    assert wrong.person_id == li.pk  # the import keys on the ID number alone

    link_job(job=job)

    pair = RecordPair.objects.get()
    assert pair.reason == PairReason.NAMES_DIFFER and pair.decision == PairDecision.PENDING
    assert {pair.left_id, pair.right_id} == {wrong.pk, li.source_records.exclude(pk=wrong.pk).get().pk}
    assert pair.levels["name"] == 0  # levels are kept for the page, values are not

    reviewer = actor_of(users[Role.COMMUNITY_WORKER])
    scope = Scope(area_path=tree.yushan.path)
    pair_decide(actor=reviewer, scope=scope, may_review=True, pair=pair, decision=PairDecision.DIFFERENT, note="另一人")

    wrong.refresh_from_db()
    li.refresh_from_db()
    assert (wrong.status, wrong.person_id) == (RecordStatus.HELD, None)
    assert li.source_records.count() == 1
    assert PersonChange.objects.filter(person=li, origin="link", field="source_record").exists()
    assert AuditEntry.objects.filter(action="registry.linkage.decide", object_id=str(pair.pk)).exists()

    # The decision is kept: trying the held rows again does not put her back.
    again = link_held(scope=scope)
    wrong.refresh_from_db()
    assert again.run.status == LinkRunStatus.DONE, again.run.error
    assert (wrong.status, wrong.person_id) == (RecordStatus.HELD, None)
    assert RecordPair.objects.filter(decision=PairDecision.PENDING).count() == 0


def test_a_split_is_remembered_and_names_are_chosen_again(tree, sources):
    users = tree.users
    police, civil = sources
    import_file(csv_bytes([["张三", person_id(1), PHONE, "男", ADDRESS, "", "常住", ""]]), "p.csv", police, tree.yushan)
    zhang = Person.objects.get()
    # A more trusted source? No: the civil source is less trusted but the import still keys on the ID.
    job = import_file(
        csv_bytes([["张叁", typo(person_id(1)), PHONE, "男", ADDRESS, "", "常住", ""]]), "c.csv", civil, tree.yushan
    )
    link_job(job=job)
    linked = SourceRecord.objects.get(job=job)
    assert (linked.status, linked.person_id) == (RecordStatus.LINKED, zhang.pk)

    scope = Scope(area_path=tree.yushan.path)
    with pytest.raises(DomainError, match="原因"):
        record_split(
            actor=actor_of(users[Role.COMMUNITY_WORKER]), scope=scope, may_review=True, record=linked, reason="错"
        )
    with pytest.raises(Forbidden):
        record_split(
            actor=actor_of(users[Role.GRID_WORKER]), scope=scope, may_review=False, record=linked, reason="不是同一个人"
        )
    record_split(
        actor=actor_of(users[Role.COMMUNITY_WORKER]), scope=scope, may_review=True, record=linked, reason="不是同一个人"
    )

    linked.refresh_from_db()
    assert (linked.status, linked.person_id) == (RecordStatus.HELD, None)
    kept = RecordPair.objects.get()
    assert kept.decision == PairDecision.DIFFERENT and kept.note == "不是同一个人"
    assert AuditEntry.objects.filter(action="registry.linkage.split", object_id=str(linked.pk)).exists()
    link_held(scope=scope)
    linked.refresh_from_db()
    assert linked.person_id is None  # not attached again

    only = SourceRecord.objects.filter(person=zhang).get()
    with pytest.raises(DomainError, match="唯一"):
        record_split(
            actor=actor_of(users[Role.COMMUNITY_WORKER]),
            scope=scope,
            may_review=True,
            record=only,
            reason="不是同一个人",
        )


def test_a_same_answer_merges_two_persons_and_keeps_the_other_number(tree, sources):
    users = tree.users
    police, civil = sources
    first = person_id(1)
    second = make_id_number("320583", date(1980, 5, 17), 21, "M")  # valid too: a person with two numbers
    import_file(csv_bytes([["张三", first, PHONE, "男", ADDRESS, "", "常住", ""]]), "p.csv", police, tree.yushan)
    job = import_file(csv_bytes([["张三", second, PHONE, "男", ADDRESS, "", "常住", ""]]), "c.csv", civil, tree.yushan)
    assert Person.objects.count() == 2

    link_job(job=job)

    pair = RecordPair.objects.get()
    assert pair.reason == PairReason.DIFFERENT_VALID_ID
    pair_decide(
        actor=actor_of(users[Role.COMMUNITY_WORKER]),
        scope=Scope(area_path=tree.yushan.path),
        may_review=True,
        pair=pair,
        decision=PairDecision.SAME,
    )
    keep = Person.objects.get()
    assert keep.id_number_hash == id_number_hash(first)  # the police number: the more trusted source
    assert keep.source_records.count() == 2
    assert PersonAlias.objects.get().id_number_hash == id_number_hash(second)
    assert AuditEntry.objects.filter(action="registry.linkage.merge", object_id=str(keep.pk)).exists()

    # A later row with the merged-away number finds the same person.
    import_file(csv_bytes([["张三", second, PHONE, "男", ADDRESS, "", "户籍", ""]]), "c2.csv", civil, tree.yushan)
    assert Person.objects.count() == 1 and keep.source_records.count() == 3


def _two_numbers_one_person(tree, sources):  # type: ignore[no-untyped-def]
    """Two persons made from two valid numbers of one man, and the pair the linkage run asks about."""
    police, civil = sources
    first, second = person_id(1), make_id_number("320583", date(1980, 5, 17), 21, "M")
    import_file(csv_bytes([["张三", first, PHONE, "男", ADDRESS, "", "常住", ""]]), "p.csv", police, tree.yushan)
    job = import_file(csv_bytes([["张三", second, PHONE, "男", ADDRESS, "", "常住", ""]]), "c.csv", civil, tree.yushan)
    link_job(job=job)
    a, b = Person.objects.order_by("id")
    return a, b, RecordPair.objects.get()


def _volunteer(person: Person) -> Volunteer:
    return Volunteer.objects.create(person=person, registered_on=date(2025, 1, 1), path=person.path)


def test_a_merge_is_refused_when_both_persons_hold_a_one_to_one_record(tree, sources):
    a, b, pair = _two_numbers_one_person(tree, sources)
    _volunteer(a), _volunteer(b)
    worker = actor_of(tree.users[Role.COMMUNITY_WORKER])
    with pytest.raises(DomainError, match="两人都有“志愿者”记录，不能自动合并"):
        pair_decide(
            actor=worker,
            scope=Scope(area_path=tree.yushan.path),
            may_review=True,
            pair=pair,
            decision=PairDecision.SAME,
        )
    # Nothing of the half-done merge is left: both persons, their records and the open pair stay.
    assert Person.objects.count() == 2
    assert a.source_records.count() == 1 and b.source_records.count() == 1
    assert Volunteer.objects.filter(person=a).exists() and Volunteer.objects.filter(person=b).exists()
    pair.refresh_from_db()
    assert pair.decision == ""
    assert not PersonAlias.objects.exists()
    assert not AuditEntry.objects.filter(action="registry.linkage.merge").exists()

    # Once one of them is dealt with (here: the duplicate volunteer entry removed), the merge goes through
    # and the other's relations, a team membership included, move to the person kept.
    Volunteer.objects.filter(person=b).delete()
    team = Team.objects.create(
        name="巡逻队", kind="volunteer", area=tree.yushan, path=tree.yushan.path, formed_on=date(2025, 1, 1)
    )
    team.members.add(a, b)
    pair_decide(
        actor=worker, scope=Scope(area_path=tree.yushan.path), may_review=True, pair=pair, decision=PairDecision.SAME
    )
    keep = Person.objects.get()
    assert list(team.members.all()) == [keep]
    assert Volunteer.objects.get().person == keep


def test_decisions_are_checked_against_the_scope_and_asked_once(tree, sources):
    users = tree.users
    police, civil = sources
    li_id = make_id_number("341221", date(1985, 6, 1), 12, "M")
    import_file(
        csv_bytes([["李四", li_id, "13912340012", "男", ADDRESS, "", "常住", ""]]), "p.csv", police, tree.yushan
    )
    job = import_file(csv_bytes([["王芳", li_id, "13700001111", "", "", "", "", ""]]), "c.csv", civil, tree.yushan)
    link_job(job=job)
    pair = RecordPair.objects.get()
    elsewhere = Scope(area_path=tree.zhoushi.path)
    with pytest.raises(Exception) as caught:
        pair_decide(actor=SYSTEM, scope=elsewhere, may_review=True, pair=pair, decision=PairDecision.SAME)
    assert type(caught.value).__name__ == "NotFound"
    scope = Scope(area_path=tree.yushan.path)
    with pytest.raises(DomainError, match="请选择"):
        pair_decide(
            actor=actor_of(users[Role.COMMUNITY_WORKER]), scope=scope, may_review=True, pair=pair, decision="maybe"
        )
    pair_decide(
        actor=actor_of(users[Role.COMMUNITY_WORKER]),
        scope=scope,
        may_review=True,
        pair=pair,
        decision=PairDecision.SAME,
    )
    with pytest.raises(DomainError, match="已经有人核对"):
        pair_decide(
            actor=actor_of(users[Role.COMMUNITY_WORKER]),
            scope=scope,
            may_review=True,
            pair=pair,
            decision=PairDecision.SAME,
        )


def test_a_person_registered_by_hand_is_linked_through_a_baseline_record(tree, sources, monkeypatch):
    from grassroots.registry.services import linking, person_create

    # One value per IN list: the chunking that keeps a 50,000-row import within SQLite's limits.
    monkeypatch.setattr(linking, "CHUNK", 1)

    police, civil = sources
    dwelling = tree.building1.dwellings.get(entrance__number=1, room="101")
    zhang = person_create(actor=SYSTEM, name="张三", id_number=person_id(1), phone=PHONE, dwelling=dwelling)
    job = import_file(
        csv_bytes([["张三", typo(person_id(1)), PHONE, "男", ADDRESS, "", "常住", ""]]), "c.csv", civil, tree.yushan
    )
    outcome = link_job(job=job)
    held = SourceRecord.objects.get(job=job)
    assert outcome.run.status == LinkRunStatus.DONE, outcome.run.error
    assert (held.status, held.person_id) == (RecordStatus.LINKED, zhang.pk)
    baseline = SourceRecord.objects.get(source__code="registry")
    assert (baseline.person_id, baseline.row_number, baseline.name) == (zhang.pk, zhang.pk, "张三")

    # Someone else's name under 张三's number: the import changes nothing of his and review is asked.
    job = import_file(
        csv_bytes([["马丽娟", person_id(1), "13700001111", "", "", "", "", ""]]), "p.csv", police, tree.yushan
    )
    zhang.refresh_from_db()
    assert (zhang.name, zhang.phone_masked) == ("张三", "138****0001")
    second = link_job(job=job)
    assert second.run.status == LinkRunStatus.DONE, second.run.error
    pair = RecordPair.objects.get(decision=PairDecision.PENDING)
    assert pair.reason == PairReason.NAMES_DIFFER
    assert {pair.left_id, pair.right_id} == {baseline.pk, SourceRecord.objects.get(job=job).pk}


def test_a_run_left_running_is_marked_failed_once_stale(tree, sources):
    from datetime import timedelta

    from grassroots.core import clock
    from grassroots.registry.models import LinkRun, LinkRunKind, LinkRunStatus
    from grassroots.registry.services.linking import STALE_AFTER, runs_mark_stale

    now = clock.now()
    killed = LinkRun.objects.create(kind=LinkRunKind.FULL, path=tree.yushan.path, started_at=now - STALE_AFTER * 2)
    recent = LinkRun.objects.create(
        kind=LinkRunKind.FULL, path=tree.yushan.path, started_at=now - STALE_AFTER + timedelta(minutes=5)
    )
    # Any new run sweeps first.
    police, _ = sources
    import_file(csv_bytes([["张三", person_id(1), PHONE, "男", ADDRESS, "", "常住", ""]]), "p.csv", police, tree.yushan)
    link_held(scope=Scope(area_path=tree.yushan.path))
    killed.refresh_from_db(), recent.refresh_from_db()
    assert killed.status == LinkRunStatus.FAILED and "interrupted" in killed.error and killed.finished_at
    assert recent.status == LinkRunStatus.RUNNING
    assert runs_mark_stale() == 0
