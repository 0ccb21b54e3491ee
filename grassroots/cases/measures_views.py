"""The case measures page (三率): an area's or a department's figures over a period.

Thin: ``measures_target`` answers what the user may ask about (403 without a case
capability, 404 for an area out of scope); the selector does all the counting.
"""

from __future__ import annotations

from datetime import date

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from grassroots.cases.selectors import measures
from grassroots.cases.workflow import TZ
from grassroots.core import clock
from grassroots.core.errors import NotFound


def _int(value: str | None) -> int | None:
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise NotFound() from None


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


@login_required
def measures_page(request: HttpRequest) -> HttpResponse:
    target = measures.measures_target(user=request.user, area_id=_int(request.GET.get("area")))
    now = clock.now()
    kind = request.GET.get("period", "month")
    period = measures.period_for(
        kind if kind in measures.PERIOD_KINDS else "month",
        now.astimezone(TZ).date(),
        _date(request.GET.get("start")),
        _date(request.GET.get("end")),
    )
    start, end = period.bounds
    if target.department is not None:
        report = measures.department_report(department=target.department, start=start, end=end, now=now)
        subject = target.department.name
    else:
        assert target.area is not None
        report = measures.area_report(area=target.area, start=start, end=end, now=now)
        subject = target.area.name
    context = {
        "target": target,
        "subject": subject,
        "period": period,
        "period_kinds": measures.PERIOD_KINDS,
        "report": report,
        "definitions": measures.DEFINITIONS,
    }
    return render(request, "cases/measures/index.html", context)
