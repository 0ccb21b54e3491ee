"""The pipeline end to end on the place tree: persons, records, residences, survivorship, limits."""

from __future__ import annotations

import io
import json

import pytest
from django.db import transaction
from openpyxl import Workbook

from grassroots.audit.models import AuditEntry
from grassroots.audit.services import SYSTEM
from grassroots.core import crypto
from grassroots.core.errors import DomainError
from grassroots.core.masking import mask_phone
from grassroots.core.scope import Scope
from grassroots.registry.imports import pipeline, services
from grassroots.registry.models import (
    ImportJob,
    ImportStatus,
    Person,
    PersonChange,
    RecordStatus,
    Residence,
    ResidenceKind,
    Separation,
    SourceRecord,
)
from grassroots.registry.services import id_number_hash
from tests.registry.imports.helpers import csv_bytes, import_file, person_id, run, source, upload, xlsx_bytes

OUTSIDE = "河南省郑州市金水区文化路1号"


def rows() -> list[list[str]]:
    return [
        ["张三", person_id(1), "13812340001", "男", "阳光花园1幢1单元101室", OUTSIDE, "常住", "否"],
        ["李四", person_id(2, "F"), "", "女", "阳光花园一号楼二单元301", "", "户籍", "是"],
        ["王五", person_id(3)[:-1] + ("0" if person_id(3)[-1] != "0" else "1"), "", "", "", "", "", ""],
        ["赵六", person_id(4), "12345", "", "城南社区8幢1002", "", "流动", ""],
        ["", person_id(5), "", "", "", "", "", ""],
    ]


@pytest.fixture
def imported(tree):
    return import_file(csv_bytes(rows()), "police.csv", source(), tree.yushan)


def test_rows_become_records_persons_and_residences(tree, imported):
    job = imported
    assert (job.status, job.total_rows, job.processed_rows) == (ImportStatus.DONE, 5, 5)
    assert (job.accepted_rows, job.rejected_rows, job.new_persons) == (3, 2, 3)
    records = list(SourceRecord.objects.filter(job=job).order_by("row_number"))
    assert [r.row_number for r in records] == [2, 3, 4, 5, 6]
    # 王五's ID fails its check digit but the row names him: held for record linkage, not dropped.
    # The nameless row cannot be linked to anyone: rejected.
    statuses = [r.status for r in records]
    assert statuses == [RecordStatus.ACCEPTED] * 2 + [RecordStatus.HELD, RecordStatus.ACCEPTED, RecordStatus.REJECTED]
    assert records[2].person is None and records[2].filled == ["name"]
    assert records[0].filled == [
        "name",
        "id_number",
        "sex",
        "birth_date",
        "phone",
        "registered_address",
        "actual_address",
    ]
    raw = json.loads(crypto.decrypt(records[0].raw_cipher, context="source_record.raw"))
    assert raw["姓名"] == "张三" and raw["身份证号码"] == person_id(1)
    # Problems name the field but carry no personal data.
    assert records[2].problems[0]["field"] == "id_number" and person_id(3)[:6] not in json.dumps(records[2].problems)
    assert records[4].problems[0]["message"] == "姓名为空。"

    zhang = Person.objects.get(id_number_hash=id_number_hash(person_id(1)))
    dwelling = tree.building1.dwellings.get(entrance__number=1, room="101")
    assert (zhang.name_pinyin, zhang.name_initials, zhang.sex) == ("zhangsan", "zs", "M")
    assert zhang.birth_date.isoformat() == "1980-05-17"
    assert zhang.dwelling == dwelling and zhang.path == dwelling.path
    assert zhang.phone_masked == mask_phone("13812340001")
    assert zhang.separation == Separation.LIVES_HERE_REGISTERED_ELSEWHERE
    kinds = {r.kind: r for r in zhang.residences.all()}
    assert kinds[ResidenceKind.REGISTERED].address == OUTSIDE and kinds[ResidenceKind.REGISTERED].dwelling is None
    assert kinds[ResidenceKind.RESIDENT].dwelling == dwelling
    assert records[0].person == zhang and records[0].match_confidence == 1.0 and records[0].dwelling == dwelling
    assert zhang.provenance["phone"] == records[0].pk

    li = Person.objects.get(id_number_hash=id_number_hash(person_id(2, "F")))
    assert li.separation == Separation.NONE and li.dwelling.entrance.number == 2
    assert {r.kind for r in li.residences.all()} == {ResidenceKind.REGISTERED, ResidenceKind.RESIDENT}
    assert list(li.tags.values_list("code", flat=True)) == ["low_income"]

    zhao = Person.objects.get(id_number_hash=id_number_hash(person_id(4)))
    assert zhao.phone_hash == "" and zhao.dwelling.building == tree.building3
    assert zhao.residences.get().kind == ResidenceKind.FLOATING
    assert records[3].match_confidence == 0.8  # no entrance given, unique in scope
    assert any(p["field"] == "phone" and p["level"] == "warning" for p in records[3].problems)
    actions = list(AuditEntry.objects.filter(object_type="import_job").values_list("action", flat=True))
    assert actions == [
        "registry.import.create",
        "registry.import.queue",
        "registry.import.run",
        "registry.import.finish",
    ]
    assert "张三" not in json.dumps(list(AuditEntry.objects.values_list("detail", flat=True)), ensure_ascii=False)


def test_same_file_twice_adds_nothing(tree, imported):
    counts = (SourceRecord.objects.count(), Person.objects.count(), Residence.objects.count())
    again, created = services.import_job_create(
        actor=SYSTEM,
        scope=Scope(area_path=tree.yushan.path),
        source=imported.source,
        data=csv_bytes(rows()),
        file_name="copy.csv",
    )
    assert (again.pk, created) == (imported.pk, False)
    assert services.import_job_run(job_id=again.pk, actor=SYSTEM).status == ImportStatus.DONE
    assert (SourceRecord.objects.count(), Person.objects.count(), Residence.objects.count()) == counts


def test_trusted_source_replaces_and_records_the_change(tree, imported):
    zhang = Person.objects.get(id_number_hash=id_number_hash(person_id(1)))
    same_home = "阳光花园1幢1单元101室"
    trusted = source("civil", trust=80, name="民政")
    import_file(
        csv_bytes([["张三", person_id(1), "13900000002", "", same_home, OUTSIDE, "", ""]]),
        "c.csv",
        trusted,
        tree.yushan,
    )
    zhang.refresh_from_db()
    assert zhang.phone_masked == mask_phone("13900000002")
    change = PersonChange.objects.get(person=zhang)
    assert (change.field, change.origin) == ("phone", "import")
    assert (change.before, change.after) == (mask_phone("13812340001"), mask_phone("13900000002"))
    # The identical current residences are reused, not duplicated.
    assert zhang.residences.count() == 2

    weak = source("grid", trust=10, name="网格走访")
    import_file(
        csv_bytes([["张叁", person_id(1), "13700000003", "", "阳光花园1幢2单元101", "", "", ""]]),
        "g.csv",
        weak,
        tree.yushan,
    )
    zhang.refresh_from_db()
    assert (zhang.name, zhang.phone_masked) == ("张三", mask_phone("13900000002"))
    assert PersonChange.objects.filter(person=zhang).count() == 1
    assert zhang.residences.filter(until__isnull=True).count() == 2
    assert SourceRecord.objects.filter(person=zhang).count() == 3  # linked even when nothing survives


def test_a_new_home_from_a_trusted_source_ends_the_old_one(tree, imported):
    zhang = Person.objects.get(id_number_hash=id_number_hash(person_id(1)))
    trusted = source("civil", trust=90, name="民政")
    import_file(
        csv_bytes([["张三", person_id(1), "", "", "阳光花园1幢2单元202室", OUTSIDE, "", ""]]),
        "c.csv",
        trusted,
        tree.yushan,
    )
    zhang.refresh_from_db()
    current = zhang.residences.get(until__isnull=True, kind=ResidenceKind.RESIDENT)
    assert (current.dwelling.entrance.number, current.dwelling.room) == (2, "202")
    assert zhang.residences.filter(until__isnull=False).count() == 1
    assert zhang.dwelling == current.dwelling
    assert PersonChange.objects.filter(person=zhang, field="dwelling").exists()


def test_rows_match_only_inside_the_scope(tree):
    data = csv_bytes([["张三", person_id(1), "", "", "阳光花园1幢1单元101室", "", "", ""]])
    job = import_file(data, "nan.csv", source(), tree.chengnan)
    record = SourceRecord.objects.get(job=job)
    assert record.dwelling is None and record.path == tree.chengnan.path
    assert Person.objects.get().path == tree.chengnan.path
    assert any("未匹配" in p["message"] for p in record.problems)


def test_xlsx_with_a_chosen_sheet(tree):
    book = Workbook()
    book.active.append(["说明"])
    other = book.create_sheet("名单")
    other.append(["名字", "证件号码"])
    other.append(["张三", person_id(1)])
    out = io.BytesIO()
    book.save(out)
    job = upload(out.getvalue(), "two.xlsx", source(), tree.chengbei, sheet="名单")
    assert job.sheet_name == "名单" and job.mapping == {"名字": "name", "证件号码": "id_number"}
    job = run(job)
    assert SourceRecord.objects.get(job=job).sheet == "名单" and Person.objects.count() == 1


def test_an_interrupted_run_resumes_without_loss_or_duplicates(tree, monkeypatch):
    monkeypatch.setattr(services, "BATCH_SIZE", 2)
    data = csv_bytes([[f"人员{i}", person_id(i), "", "", "", "", "", ""] for i in range(1, 8)])
    job = upload(data, "many.csv", source(), tree.chengbei)
    real = pipeline.write_batch
    calls = {"n": 0}

    def crash_on_third(**kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("worker killed")
        return real(**kwargs)

    monkeypatch.setattr(services, "write_batch", crash_on_third)
    job = run(job)
    assert (job.status, job.processed_rows, SourceRecord.objects.filter(job=job).count()) == ("failed", 4, 4)
    assert "重试" in job.error
    services.import_job_retry(actor=SYSTEM, job=job)  # queued again (the task runs after commit)
    job = services.import_job_run(job_id=job.pk, actor=SYSTEM)
    assert (job.status, job.processed_rows, job.accepted_rows, job.new_persons) == ("done", 7, 7, 7)
    numbers = list(SourceRecord.objects.filter(job=job).values_list("row_number", flat=True))
    assert sorted(numbers) == list(range(2, 9)) and Person.objects.count() == 7


def test_rows_already_written_are_skipped_if_progress_was_lost(tree):
    data = csv_bytes([[f"人员{i}", person_id(i), "", "", "", "", "", ""] for i in range(1, 4)])
    job = run(upload(data, "x.csv", source(), tree.chengbei))
    # Progress rolled back while the rows survived: the rerun must not duplicate them.
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.FAILED, processed_rows=0)
    job = services.import_job_run(job_id=job.pk, actor=SYSTEM)
    assert job.status == "done" and SourceRecord.objects.filter(job=job).count() == 3 and Person.objects.count() == 3


@pytest.mark.parametrize(
    ("setting", "value", "data", "name", "message"),
    [
        ("IMPORT_MAX_BYTES", 100, None, "big.csv", "文件过大"),
        ("IMPORT_MAX_ROWS", 2, None, "rows.csv", "数据行过多"),
        ("IMPORT_MAX_ZIP_RATIO", 1, "xlsx", "ratio.xlsx", "压缩比"),
        ("IMPORT_MAX_UNZIPPED_BYTES", 1000, "xlsx", "bomb.xlsx", "解压后过大"),
        (None, None, b"\x89PNG\r\n\x1a\n" + b"\x00" * 50, "photo.xlsx", "不是Excel"),
        (None, None, b"%PDF-1.4\x00\x01", "doc.csv", "不是文本"),
        (None, None, b"PK\x03\x04zzzz", "fake.csv", "扩展名不符"),
        (None, None, b"abc", "people.docx", "仅支持"),
    ],
)
def test_refused_files_write_nothing(tree, settings, setting, value, data, name, message):
    if setting:
        setattr(settings, setting, value)
    rows3 = [[f"人员{i}", person_id(i)] for i in range(3)]
    if data is None:
        data = csv_bytes(rows3, headers=["姓名", "身份证号"])
    elif data == "xlsx":
        data = xlsx_bytes(rows3 * 50, headers=["姓名", "身份证号"])
    audit_before = AuditEntry.objects.count()
    with pytest.raises(DomainError, match=message):
        upload(data, name, source(), tree.chengbei)
    assert ImportJob.objects.count() == SourceRecord.objects.count() == Person.objects.count() == 0
    assert AuditEntry.objects.count() == audit_before


def test_an_admin_must_choose_an_area(tree):
    with pytest.raises(DomainError, match="请选择"), transaction.atomic():
        services.import_job_create(
            actor=SYSTEM, scope=Scope.everything(), source=source(), data=csv_bytes(rows()), file_name="a.csv"
        )
    assert ImportJob.objects.count() == 0
