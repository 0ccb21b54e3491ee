"""The employer-unit report as a file to send to the unit: xlsx (text cells) and PDF (WeasyPrint).

Every cell is written as text: openpyxl stores a string starting with "=" as a formula (formula
injection, FINDINGS.md). Each file made is audited as an export with its row count.
"""

from __future__ import annotations

import io
from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone
from openpyxl import Workbook

from grassroots.audit.services import Actor, audit_record
from grassroots.party.selectors import UnitReport

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADERS = [
    "姓名",
    "身份证号",
    "居住社区",
    "报到状态",
    "报到日期",
    "志愿服务(次)",
    "志愿服务时长(小时)",
    "解决实际问题(件)",
    "完成年度目标",
]


def row_values(report: UnitReport) -> list[list[str]]:
    rows = []
    for r in report.rows:
        when = timezone.localtime(r.checkin_date).date().isoformat() if r.checkin_date else ""
        rows.append(
            [
                r.name,
                r.id_masked,
                r.community,
                r.checkin_state,
                when,
                str(r.progress.volunteer_services),
                str(r.progress.volunteer_hours),
                str(r.progress.problems_solved),
                "是" if r.progress.met else "否",
            ]
        )
    return rows


def _audit(actor: Actor, report: UnitReport, fmt: str, area_path: str) -> None:
    audit_record(
        actor=actor,
        action="party.unit_report.export",
        object_type="unit",
        object_id=report.unit.pk,
        area_path=area_path,
        detail={"format": fmt, "year": report.year, "rows": len(report.rows)},
    )


def unit_report_xlsx(*, actor: Actor, report: UnitReport, area_path: str) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = f"{report.year}年度"
    t = report.target
    lines: list[list[Any]] = [
        [f"{report.unit.name} 在职党员到居住地社区报到和服务情况（{report.year}年度）"],
        [f"年度目标：志愿服务不少于{t.volunteer_services}次，解决实际问题不少于{t.problems_solved}件"],
        HEADERS,
        *row_values(report),
    ]
    for r, values in enumerate(lines, start=1):
        for c, value in enumerate(values, start=1):
            cell = ws.cell(row=r, column=c)
            cell.value = "" if value is None else str(value)
            cell.data_type = "s"  # text, never a formula
    for col, width in zip("ABCDEFGHI", (10, 20, 14, 12, 12, 12, 16, 14, 12), strict=True):
        ws.column_dimensions[col].width = width
    out = io.BytesIO()
    wb.save(out)
    _audit(actor, report, "xlsx", area_path)
    return out.getvalue()


def unit_report_pdf(*, actor: Actor, report: UnitReport, area_path: str, issued_by: str) -> bytes:
    from weasyprint import HTML  # heavy import: only where a PDF is made

    html = render_to_string(
        "party/unit_report_pdf.html",
        {"report": report, "rows": row_values(report), "headers": HEADERS, "issued_by": issued_by},
    )
    pdf: bytes = HTML(string=html).write_pdf()
    _audit(actor, report, "pdf", area_path)
    return pdf
