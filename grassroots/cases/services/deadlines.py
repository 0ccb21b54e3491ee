"""Deadline overrides as people write them (「30分钟」「2小时」「7个工作日」) and as the tables store them."""

from __future__ import annotations

import re
from datetime import timedelta

from grassroots.cases.workflow import ClockSpan, DeadlineSpec, WorkingDays
from grassroots.core.errors import DomainError

_PATTERN = re.compile(
    r"^(?P<n>\d{1,5})\s*(?P<unit>分钟|分|min|m|小时|时|h|个工作日|工作日|working\s*days?|wd|天|日|d)$", re.IGNORECASE
)
_MINUTES = {"分钟": 1, "分": 1, "min": 1, "m": 1, "小时": 60, "时": 60, "h": 60}
MAX_MINUTES = 60 * 24 * 90  # a clock deadline beyond 90 days is a typo, not a policy
MAX_WORKDAYS = 120


def spec_from_fields(minutes: int | None, workdays: int | None) -> DeadlineSpec | None:
    if minutes is not None:
        return ClockSpan(timedelta(minutes=minutes))
    if workdays is not None:
        return WorkingDays(workdays)
    return None


def fields_from_spec(spec: DeadlineSpec | None) -> tuple[int | None, int | None]:
    """(minutes, workdays) for storage; both None when no override."""
    if spec is None:
        return None, None
    if isinstance(spec, ClockSpan):
        return int(spec.span.total_seconds() // 60), None
    return None, spec.days


def parse_deadline(text: str, *, field: str = "") -> DeadlineSpec | None:
    """``""`` → None (no override); 「30分钟」「2小时」「24h」「7个工作日」 → a spec; else a Chinese DomainError.

    Plain 「天」/「日」 are read as working days: a clock span of days is not how the duty lists count.
    """
    cleaned = text.strip().replace(" ", "")
    if not cleaned:
        return None
    match = _PATTERN.match(cleaned)
    if match is None:
        raise DomainError(f"时限“{text}”无法识别，请写成“30分钟”“2小时”或“7个工作日”。", field=field)
    n, unit = int(match["n"]), match["unit"].lower()
    if n <= 0:
        raise DomainError("时限必须大于0。", field=field)
    if unit in _MINUTES:
        minutes = n * _MINUTES[unit]
        if minutes > MAX_MINUTES:
            raise DomainError(f"时限“{text}”过长（最多90天），请改用工作日。", field=field)
        return ClockSpan(timedelta(minutes=minutes))
    if n > MAX_WORKDAYS:
        raise DomainError(f"时限“{text}”过长（最多{MAX_WORKDAYS}个工作日）。", field=field)
    return WorkingDays(n)


def format_deadline(spec: DeadlineSpec | None) -> str:
    return "" if spec is None else spec.label
