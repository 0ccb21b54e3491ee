"""The monthly report as files: xlsx with native Excel charts (openpyxl) and PDF (WeasyPrint) with
charts drawn by matplotlib as SVG in Noto Sans CJK (fonts-noto-cjk, installed by the project's set-up).

Text cells are written as text, never as formulas (FINDINGS.md: a name starting with "=" would be a
formula). Every file made is audited as an export.
"""

from __future__ import annotations

import io
import re
import threading
from typing import Any

from django.template.loader import render_to_string
from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.worksheet.worksheet import Worksheet

from grassroots.audit.services import Actor, audit_record
from grassroots.insights.selectors.measures import DEFINITIONS
from grassroots.insights.selectors.reports import MonthlyReport

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FONT = "Noto Sans CJK SC"
RED, GREY, BLUE = "#a61b1b", "#9aa5b1", "#1f5fa8"
# matplotlib's pyplot state is global: draw one chart at a time (web workers run threads).
_draw_lock = threading.Lock()


def _audit(actor: Actor, report: MonthlyReport, fmt: str) -> None:
    audit_record(
        actor=actor,
        action="insights.report.export",
        object_type="area",
        object_id=report.area.pk,
        area_path=report.area.path,
        detail={"format": fmt, "month": f"{report.year}-{report.month:02d}"},
    )


# --- xlsx ------------------------------------------------------------------------------------


def _write(ws: Worksheet, rows: list[list[Any]]) -> None:
    for r, values in enumerate(rows, start=1):
        for c, value in enumerate(values, start=1):
            cell = ws.cell(row=r, column=c)
            if value is None:
                continue
            cell.value = value
            if isinstance(value, str):
                cell.data_type = "s"


def _percent(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 1)


def report_xlsx(*, actor: Actor, report: MonthlyReport) -> bytes:
    wb = Workbook()
    summary = wb.active
    assert summary is not None
    summary.title = "概要"
    rows: list[list[Any]] = [[report.title], [f"统计期：{report.period.label}"], ["指标", "本月", "上月", "变化"]]
    rows += [[f"{ln.measure.label}", ln.shown, ln.previous_shown, ln.change] for ln in report.lines]
    _write(summary, rows)
    summary.column_dimensions["A"].width = 22
    for col in "BCD":
        summary.column_dimensions[col].width = 16

    parts = wb.create_sheet("下级区域")
    keys = report.part_measures
    head = ["区域", *[f"{m.label}({m.unit})" if m.unit else m.label for m in keys]]
    body = [
        [area.name, *[_percent(raw[m.key]) if m.unit == "%" else raw[m.key] for m in keys]]
        for area, _, raw in report.parts()
    ]
    _write(parts, [head, *body])
    parts.column_dimensions["A"].width = 18

    trend = wb.create_sheet("案件趋势")
    _write(
        trend,
        [
            ["月份", "受理量", "办结量", "解决率(%)", "满意率(%)"],
            *[[t["month"], t["received"], t["closed"], t["resolution"], t["satisfaction"]] for t in report.trend],
        ],
    )
    if report.trend:
        n = len(report.trend) + 1
        bars = BarChart()
        bars.title, bars.y_axis.title = "受理与办结", "件"
        bars.add_data(Reference(trend, min_col=2, max_col=3, min_row=1, max_row=n), titles_from_data=True)
        bars.set_categories(Reference(trend, min_col=1, min_row=2, max_row=n))
        trend.add_chart(bars, "G2")
        rates = LineChart()
        rates.title, rates.y_axis.title = "解决率与满意率", "%"
        rates.add_data(Reference(trend, min_col=4, max_col=5, min_row=1, max_row=n), titles_from_data=True)
        rates.set_categories(Reference(trend, min_col=1, min_row=2, max_row=n))
        trend.add_chart(rates, "G20")

    cats = wb.create_sheet("高发事项")
    _write(cats, [["事项", "受理量", "办结量"], *[[c["name"], c["received"], c["closed"]] for c in report.categories]])
    cats.column_dimensions["A"].width = 20
    if report.categories:
        n = len(report.categories) + 1
        chart = BarChart()
        chart.type, chart.title = "bar", "高发事项"
        chart.add_data(Reference(cats, min_col=2, min_row=1, max_row=n), titles_from_data=True)
        chart.set_categories(Reference(cats, min_col=1, min_row=2, max_row=n))
        cats.add_chart(chart, "E2")

    notes = wb.create_sheet("指标口径")
    _write(notes, [["指标", "口径"], *[[d.name, d.text] for d in DEFINITIONS]])
    notes.column_dimensions["A"].width = 22
    notes.column_dimensions["B"].width = 120

    out = io.BytesIO()
    wb.save(out)
    _audit(actor, report, "xlsx")
    return out.getvalue()


# --- charts and PDF --------------------------------------------------------------------------------


_SVG_STYLE = re.compile(r"<style[^>]*>.*?</style>", re.DOTALL)


def _svg(draw: Any, size: tuple[float, float]) -> str:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    with _draw_lock, matplotlib.rc_context({"font.family": FONT, "svg.fonttype": "none", "font.size": 9}):
        fig, ax = plt.subplots(figsize=size)
        try:
            draw(ax)
            fig.tight_layout()
            out = io.StringIO()
            fig.savefig(out, format="svg")
        finally:
            plt.close(fig)
    text = out.getvalue()
    # Drop the XML prologue (the SVG goes inline in HTML) and matplotlib's <style> element, which the
    # Content-Security-Policy blocks without a nonce; its rule is in insights/_report_style.html.
    return _SVG_STYLE.sub("", text[text.index("<svg") :])


def charts(report: MonthlyReport) -> dict[str, str]:
    """The report's charts as inline SVG (empty when there is nothing to draw)."""
    out: dict[str, str] = {}
    if report.trend:
        months = [t["month"][2:] for t in report.trend]

        def trend(ax: Any) -> None:
            x = range(len(months))
            ax.bar([i - 0.2 for i in x], [t["received"] for t in report.trend], 0.4, label="受理", color=GREY)
            ax.bar([i + 0.2 for i in x], [t["closed"] for t in report.trend], 0.4, label="办结", color=RED)
            ax.set_xticks(list(x), months)
            ax.set_ylabel("件")
            ax.legend(loc="upper left", frameon=False)
            ax.spines[["top", "right"]].set_visible(False)

        out["trend"] = _svg(trend, (7, 2.6))
    if report.categories:
        names = [c["name"] for c in reversed(report.categories)]

        def categories(ax: Any) -> None:
            ax.barh(names, [c["received"] for c in reversed(report.categories)], color=RED)
            ax.set_xlabel("受理量（件）")
            ax.spines[["top", "right"]].set_visible(False)

        out["categories"] = _svg(categories, (7, 0.3 * len(names) + 0.8))
    parts = report.parts()
    if parts:

        def received(ax: Any) -> None:
            ax.bar([a.name for a, _, _ in parts], [raw["received"] or 0 for _, _, raw in parts], color=BLUE)
            ax.set_ylabel("受理量（件）")
            ax.tick_params(axis="x", labelrotation=30 if len(parts) > 6 else 0)
            ax.spines[["top", "right"]].set_visible(False)

        out["parts"] = _svg(received, (7, 2.6))
    return out


def report_html(report: MonthlyReport, *, for_print: bool) -> str:
    context = {"report": report, "charts": charts(report), "definitions": DEFINITIONS, "for_print": for_print}
    return render_to_string("insights/report_document.html", context)


def report_pdf(*, actor: Actor, report: MonthlyReport) -> bytes:
    from weasyprint import HTML  # heavy import: only where a PDF is made

    pdf: bytes = HTML(string=report_html(report, for_print=True)).write_pdf()
    _audit(actor, report, "pdf")
    return pdf
