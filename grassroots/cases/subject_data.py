"""The cases part of a data-subject copy: what the requester's account reported.

Registered with the registry in ``CasesConfig.ready()``: the registry builds the copy but
sits below cases and cannot read them itself.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from grassroots.cases.models import Case
from grassroots.cases.workflow import CaseState


def reported_cases(person: Any, requester_id: int) -> list[dict[str, Any]]:
    rows = Case.objects.filter(reporter_id=requester_id).select_related("category").order_by("created_at", "id")
    return [
        {
            "编号": case.number,
            "事项": case.category.name,
            "描述": case.description,
            "地址": case.address_text,
            "经纬度": [case.lon, case.lat] if case.lon is not None else None,
            "状态": CaseState(case.state).label,
            "评价": case.rating,
            "提交时间": timezone.localtime(case.created_at).isoformat(timespec="seconds"),
            "结案时间": timezone.localtime(case.closed_at).isoformat(timespec="seconds") if case.closed_at else "",
        }
        for case in rows
    ]


def register() -> None:
    from grassroots.registry.selectors.subject_requests import register_subject_data

    register_subject_data("反映的问题", reported_cases)
