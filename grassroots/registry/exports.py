"""Spreadsheet exports of people: masked by default, plaintext only with a right and a reason.

Every cell is written as text: openpyxl stores a string starting with "=" as a formula,
so a name like "=SUM(A1)" would run in the reader's Excel (formula injection). Each
export is audited with its row count.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import transaction
from django.db.models import prefetch_related_objects
from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from grassroots.audit.services import Actor, audit_record
from grassroots.core import crypto
from grassroots.core.errors import DomainError, Forbidden
from grassroots.registry.models import Person
from grassroots.registry.selectors import BatchResult, PersonRow, person_rows
from grassroots.registry.services import ID_CONTEXT, PHONE_CONTEXT

MAX_ROWS = 20_000
HEADERS = ["姓名", "性别", "出生日期", "年龄", "身份证号", "手机号", "网格", "住址", "与户主关系", "人户分离", "标签"]
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _write_row(ws: Worksheet, row: int, values: Iterable[Any]) -> None:
    for col, value in enumerate(values, start=1):
        cell = ws.cell(row=row, column=col)
        cell.value = "" if value is None else str(value)
        cell.data_type = "s"  # text, never a formula, whatever the first character


def _plain_values(people: Sequence[Person]) -> dict[int, tuple[str, str]]:
    """Decrypted (ID, phone) per person, loaded in chunks (lists defer the ciphertexts)."""
    result: dict[int, tuple[str, str]] = {}
    ids = [p.pk for p in people]
    for start in range(0, len(ids), 1000):
        rows = Person.objects.filter(pk__in=ids[start : start + 1000]).values_list(
            "pk", "id_number_cipher", "phone_cipher"
        )
        for pk, id_blob, phone_blob in rows:
            result[pk] = (
                crypto.decrypt(id_blob, context=ID_CONTEXT),
                crypto.decrypt(phone_blob, context=PHONE_CONTEXT) if phone_blob else "",
            )
    return result


def _person_values(row: PersonRow, plain: dict[int, tuple[str, str]] | None, all_tags: bool) -> list[str]:
    p = row.person
    id_number, phone = plain[p.pk] if plain is not None else (p.id_number_masked, p.phone_masked)
    tags = "、".join(t.name for t in p.tags.all() if all_tags or not t.is_sensitive)
    return [
        p.name,
        p.get_sex_display(),
        p.birth_date.isoformat(),
        str(row.age),
        id_number,
        phone,
        row.grid.name if row.grid else "",
        row.address,
        p.relation,
        p.get_separation_display() if p.separation else "",
        tags,
    ]


def _check(plain: bool, may_plain: bool, reason: str, count: int) -> None:
    if plain and not may_plain:
        raise Forbidden("您的角色无权导出未脱敏的数据。")
    if plain and len(reason.strip()) < 4:
        raise DomainError("导出未脱敏数据必须填写事由（至少4个字）。", field="reason")
    if count > MAX_ROWS:
        raise DomainError(f"一次最多导出{MAX_ROWS}行，本次为{count}行，请缩小范围。")


def _save(wb: Workbook) -> bytes:
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@transaction.atomic
def persons_export(
    *,
    actor: Actor,
    people: Sequence[Person],
    plain: bool,
    may_plain: bool,
    reason: str = "",
    selection: str,
    area_path: str,
) -> bytes:
    """An xlsx of ``people`` (already read within the actor's scope); audited with the count."""
    _check(plain, may_plain, reason, len(people))
    prefetch_related_objects(list(people), "tags")
    rows = person_rows(list(people))
    values = _plain_values(people) if plain else None
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "人员"
    _write_row(ws, 1, HEADERS)
    for i, row in enumerate(rows, start=2):
        _write_row(ws, i, _person_values(row, values, all_tags=plain))
    _audit(actor, len(rows), plain, reason, selection, area_path)
    return _save(wb)


def batch_export(*, actor: Actor, result: BatchResult, area_path: str) -> bytes:
    """The batch query's answer as an xlsx (masked): matches, then what was not found or invalid."""
    found = [p for _, p in result.found]
    _check(False, False, "", len(found))
    prefetch_related_objects(found, "tags")
    rows = person_rows(found)
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "匹配结果"
    _write_row(ws, 1, ["提交行号", *HEADERS])
    for i, ((line, _), row) in enumerate(zip(result.found, rows, strict=True), start=2):
        _write_row(ws, i, [str(line), *_person_values(row, None, all_tags=False)])
    other = wb.create_sheet("未匹配")
    _write_row(other, 1, ["提交行号", "身份证号", "结果"])
    line = 2
    for row_number, masked in result.not_found:
        _write_row(other, line, [str(row_number), masked, "管辖范围内未找到"])
        line += 1
    for row_number, shown, reason in result.invalid:
        _write_row(other, line, [str(row_number), shown, f"无效：{reason}"])
        line += 1
    _audit(actor, len(rows), False, "", "batch", area_path)
    return _save(wb)


def _audit(actor: Actor, rows: int, plain: bool, reason: str, selection: str, area_path: str) -> None:
    detail: dict[str, Any] = {"rows": rows, "plain": plain, "selection": selection}
    if plain:
        detail["reason"] = reason.strip()
    audit_record(
        actor=actor,
        action="registry.person.export_plain" if plain else "registry.person.export",
        object_type="person",
        area_path=area_path,
        detail=detail,
    )
