"""The monthly report page (月度报告) and its xlsx and PDF downloads. Thin: the selector builds it."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import content_disposition_header

from grassroots.accounts.decorators import capability_required
from grassroots.accounts.scopes import scope_for
from grassroots.audit.services import actor_of
from grassroots.cases.workflow import TZ
from grassroots.core import clock
from grassroots.core.errors import DomainError, NotFound
from grassroots.insights import report_files
from grassroots.insights.selectors import reports
from grassroots.insights.selectors.measures import DEFINITIONS
from grassroots.places.models import Area, AreaLevel

MESSAGE = "您的角色无权查看月度报告。"
# Reports are made for these levels; the form offers the ones in the user's scope.
REPORT_LEVELS = (AreaLevel.DISTRICT, AreaLevel.SUBDISTRICT, AreaLevel.COMMUNITY)


def _area_id(request: HttpRequest) -> int | None:
    value = request.GET.get("area")
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise NotFound() from None


def _choices(user: Any) -> list[Area]:
    scope = scope_for(user, "insights.view")
    return list(Area.objects.filter(scope.path_q("path"), level__in=REPORT_LEVELS).order_by("path")[:500])


@capability_required("insights.view", message=MESSAGE)
def monthly_report(request: HttpRequest) -> HttpResponse:
    now = clock.now()
    today = now.astimezone(TZ).date()
    area_id = _area_id(request)
    context: dict[str, Any] = {"areas": _choices(request.user), "max_month": f"{today:%Y-%m}", "report": None}
    try:
        year, month = reports.parse_month(request.GET.get("month"), today)
    except DomainError as error:
        context.update(error=error.message, month_value=request.GET.get("month", ""))
        return render(request, "insights/report.html", context, status=400)
    report = reports.monthly_report(user=request.user, area_id=area_id, year=year, month=month, now=now)
    stem = f"{report.area.name}-{year}-{month:02d}-月度报告"
    fmt = request.GET.get("format")
    if fmt == "xlsx":
        data = report_files.report_xlsx(actor=actor_of(request.user), report=report)
        return _download(data, report_files.XLSX_TYPE, f"{stem}.xlsx")
    if fmt == "pdf":
        data = report_files.report_pdf(actor=actor_of(request.user), report=report)
        return _download(data, "application/pdf", f"{stem}.pdf")
    context.update(
        report=report,
        charts=report_files.charts(report),
        definitions=DEFINITIONS,
        month_value=f"{year}-{month:02d}",
        query=urlencode({"area": report.area.pk, "month": f"{year}-{month:02d}"}),
    )
    return render(request, "insights/report.html", context)


def _download(data: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    disposition = content_disposition_header(True, filename)  # a UTF-8 name per RFC 6266
    assert disposition is not None
    response["Content-Disposition"] = disposition
    return response
