"""Forms of the registry pages, and reading an uploaded list of ID numbers."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from openpyxl import load_workbook

from grassroots.core import uploads
from grassroots.core.errors import DomainError
from grassroots.registry.imports.readers import check_zip, sniff_kind
from grassroots.registry.models import Person, Tag
from grassroots.registry.selectors import MAX_IDS, BatchInput
from grassroots.registry.services import FINDINGS, MemberUpdate

MAX_UPLOAD = 5 * 1024 * 1024
_SPLIT = re.compile(r"[\s,;，；、]+")
_HEADER_WORDS = ("身份证", "证件号", "公民身份号码")
NUMBER_CELL = "单元格是数字格式：18位身份证号存成数字后末几位已丢失，请把该列设为文本后重新填写。"


class RevealForm(forms.Form):
    field = forms.ChoiceField(choices=[("id_number", "身份证号"), ("phone", "手机号")])
    reason = forms.CharField(label="查看事由", max_length=200, min_length=4, strip=True)


class ExportForm(forms.Form):
    q = forms.CharField(required=False, max_length=100)
    grid = forms.IntegerField(required=False, min_value=1)
    plain = forms.BooleanField(label="导出未脱敏数据", required=False)
    reason = forms.CharField(label="导出事由", max_length=200, required=False, strip=True)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("q") and not data.get("grid"):
            raise forms.ValidationError("请先查询，或选择一个网格再导出。")
        if data.get("plain") and len(data.get("reason") or "") < 4:
            self.add_error("reason", "导出未脱敏数据必须填写事由（至少4个字）。")
        return data


class BatchForm(forms.Form):
    file = forms.FileField(label="上传文件（.xlsx 或 .csv）", required=False)
    text = forms.CharField(label="或粘贴身份证号（每行一个）", required=False, widget=forms.Textarea(attrs={"rows": 6}))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("file") and not (data.get("text") or "").strip():
            raise forms.ValidationError("请上传文件或粘贴身份证号。")
        return data

    def entries(self) -> list[BatchInput]:
        upload = self.cleaned_data.get("file")
        if upload:
            return read_upload(upload)
        return read_text(self.cleaned_data.get("text") or "")


def read_text(text: str) -> list[BatchInput]:
    entries = []
    for line_number, line in enumerate(text.splitlines(), start=1):
        entries += [BatchInput(line_number, part) for part in _SPLIT.split(line) if part]
    return _limit(entries)


def _limit(entries: list[BatchInput]) -> list[BatchInput]:
    if len(entries) > MAX_IDS:
        raise DomainError(f"一次最多查询{MAX_IDS}个身份证号，本次提交了{len(entries)}个。", field="file")
    return entries


def read_upload(upload: UploadedFile) -> list[BatchInput]:
    """The ID column of the first sheet: the column headed 身份证…, else the first column."""
    name = (upload.name or "").lower()
    if not name.endswith((".xlsx", ".csv")):
        raise DomainError("只支持 .xlsx 或 .csv 文件。", field="file")
    data = uploads.read_upload(upload, limit=MAX_UPLOAD)
    # The content must agree with the name: a renamed file or a zip bomb is refused before openpyxl opens it.
    kind = sniff_kind(data, name)
    if kind == "xlsx":
        check_zip(data)
        try:
            wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception:  # noqa: BLE001 (any unreadable file gets the same message)
            raise DomainError("无法读取该xlsx文件，请确认文件未损坏。", field="file") from None
        ws = wb.worksheets[0]
        rows: Iterable[tuple[Any, ...]] = ws.iter_rows(values_only=True)
    else:  # "csv": sniff_kind refused anything else for these two names
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("gb18030", errors="replace")
        rows = (tuple(r) for r in csv.reader(io.StringIO(text)))
    return _limit(_column_entries(rows))


def _column_entries(rows: Iterable[tuple[Any, ...]]) -> list[BatchInput]:
    entries: list[BatchInput] = []
    column = 0
    for row_number, row in enumerate(rows, start=1):
        if row_number == 1:
            headers = [str(v or "") for v in row]
            named = [i for i, h in enumerate(headers) if any(w in h for w in _HEADER_WORDS)]
            if named:
                column = named[0]
                continue
        value = row[column] if column < len(row) else None
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            entries.append(BatchInput(row_number, str(value), "单元格内容不是身份证号。"))
        elif isinstance(value, float) or (isinstance(value, int) and len(str(value)) != 15):
            # An 18-digit number has already lost digits to floating point: refuse, never "fix".
            entries.append(BatchInput(row_number, f"{value}", NUMBER_CELL))
        else:
            entries.append(BatchInput(row_number, str(value).strip()))
        if len(entries) > MAX_IDS:
            break
    return entries


class VisitForm(forms.Form):
    visited_at = forms.DateTimeField(
        label="走访时间",
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    nobody_home = forms.BooleanField(label="无人在家", required=False)
    findings = forms.MultipleChoiceField(
        label="排查发现", choices=list(FINDINGS.items()), required=False, widget=forms.CheckboxSelectMultiple
    )
    notes = forms.CharField(label="走访记录", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 4}))


def member_updates(data: Mapping[str, Any], members: list[Person], editable: list[Tag]) -> list[MemberUpdate]:
    """Per-member changes from the visit form's fields ``m<id>-phone``, ``m<id>-tag-<code>``, ``m<id>-moved_to``.

    A tag box is compared with what the person holds now, so only real changes are sent.
    """
    updates = []
    for person in members:
        prefix = f"m{person.pk}-"
        phone = str(data.get(prefix + "phone", "")).strip()
        clear = data.get(prefix + "phone_clear") == "on"
        held = {t.code for t in person.tags.all()}
        checked = {t.code for t in editable if data.get(f"{prefix}tag-{t.code}") == "on"}
        shown = {t.code for t in editable}
        moved_to = str(data.get(prefix + "moved_to", "")).strip() if data.get(prefix + "moved") == "on" else ""
        if data.get(prefix + "moved") == "on" and not moved_to:
            raise DomainError(f"{person.name}：请填写现居住地址。", field="moved_to")
        updates.append(
            MemberUpdate(
                person_id=person.pk,
                phone="" if clear else (phone or None),
                tags_add=frozenset(checked - held),
                tags_remove=frozenset((shown - checked) & held),
                moved_out_to=moved_to,
            )
        )
    return updates


class TagForm(forms.Form):
    code = forms.CharField(label="编码", max_length=32, help_text="小写字母、数字、下划线，如 pregnant")
    name = forms.CharField(label="名称", max_length=50)
    sensitive = forms.BooleanField(label="敏感标签（仅有权查看完整信息的角色可见）", required=False)
