"""Yearly targets of employed members and the progress toward them.

A member meets the year's targets with at least ``volunteer_services`` confirmed volunteer services
and ``problems_solved`` confirmed practical problems solved, dated in that year (TargetRule for the
year, else GLOSSARY.md's 2 and 1). Unconfirmed services do not count.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Count, Q, Sum

from grassroots.party.models import ServiceKind, ServiceRecord, TargetRule

DEFAULT_VOLUNTEER_SERVICES = 2
DEFAULT_PROBLEMS_SOLVED = 1


@dataclass(frozen=True)
class Target:
    year: int
    volunteer_services: int
    problems_solved: int


def target_for(year: int) -> Target:
    rule = TargetRule.objects.filter(year=year).first()
    if rule is None:
        return Target(year, DEFAULT_VOLUNTEER_SERVICES, DEFAULT_PROBLEMS_SOLVED)
    return Target(year, rule.volunteer_services, rule.problems_solved)


@dataclass(frozen=True)
class Progress:
    target: Target
    volunteer_services: int = 0
    volunteer_hours: Decimal = Decimal(0)
    problems_solved: int = 0

    @property
    def volunteer_met(self) -> bool:
        return self.volunteer_services >= self.target.volunteer_services

    @property
    def problems_met(self) -> bool:
        return self.problems_solved >= self.target.problems_solved

    @property
    def met(self) -> bool:
        return self.volunteer_met and self.problems_met


def progress_by_member(member_ids: Iterable[int], target: Target) -> dict[int, Progress]:
    """Progress of each member for ``target.year``, in one aggregate query (members without any: zero)."""
    ids = list(member_ids)
    result = {pk: Progress(target) for pk in ids}
    if not ids:
        return result
    volunteer = Q(kind=ServiceKind.VOLUNTEER)
    rows = (
        ServiceRecord.objects.filter(
            member_id__in=ids,
            confirmed=True,
            date__gte=date(target.year, 1, 1),
            date__lte=date(target.year, 12, 31),
        )
        .values("member_id")
        .annotate(
            v=Count("id", filter=volunteer),
            h=Sum("hours", filter=volunteer),
            p=Count("id", filter=Q(kind=ServiceKind.PROBLEM)),
        )
        .values_list("member_id", "v", "h", "p")
    )
    for member_id, v, h, p in rows:
        result[member_id] = Progress(target, v, Decimal(h or 0).quantize(Decimal("0.1")), p)
    return result


def percent(part: int, whole: int) -> float:
    return round(100 * part / whole, 1) if whole else 0.0
