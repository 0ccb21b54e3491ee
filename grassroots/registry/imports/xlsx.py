"""The rejected-rows workbook: each rejected row as it came, plus its reasons.

Every cell is written as a string (data_type "s"), so a value starting with = + - @
stays text and can never run as a formula when someone opens the file (shared FINDINGS).
"""

from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from grassroots.registry.imports.selectors import raw_row, rejected_records
from grassroots.registry.models import ImportJob


def _text_cell(sheet: Any, value: object) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=None)
    cell.value = "" if value is None else str(value)
    cell.data_type = "s"  # after the value: openpyxl would otherwise mark "=..." as a formula
    cell.number_format = "@"
    return cell


def reasons(problems: list[dict[str, str]]) -> str:
    return "；".join(f"{p.get('label', '')}：{p.get('message', '')}" for p in problems if p.get("level") == "error")


def rejected_rows_xlsx(*, job: ImportJob) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("拒收行")
    rows = [(r.row_number, raw_row(r), reasons(r.problems)) for r in rejected_records(job=job)]
    headers: list[str] = []
    for _, raw, _ in rows:
        headers += [h for h in raw if h not in headers]
    sheet.append([_text_cell(sheet, v) for v in ["行号", *headers, "拒收原因"]])
    for number, raw, why in rows:
        sheet.append([_text_cell(sheet, v) for v in [number, *(raw.get(h, "") for h in headers), why]])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
