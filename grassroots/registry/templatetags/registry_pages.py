"""Registry panels for pages of lower apps (the place browser).

``places`` sits below ``registry`` and may not import it; its templates load these tags
by name instead, so people data reaches a building or dwelling page without an upward
import. Every tag starts from the request user's "registry.view" scope and shows nothing
to roles without it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import template
from django.utils import timezone

from grassroots.accounts.scopes import can, scope_for
from grassroots.audit.services import actor_of
from grassroots.core import clock
from grassroots.core.client_ip import client_ip
from grassroots.places.models import Dwelling
from grassroots.registry import selectors

register = template.Library()

CAPABILITY = "registry.view"


@dataclass(frozen=True)
class ResidentCounts:
    by_dwelling: dict[int, int]
    total: int


def _request(context: template.Context) -> Any:
    return context.get("request")


@register.simple_tag(takes_context=True)
def resident_counts(context: template.Context, dwellings: list[Dwelling]) -> ResidentCounts | None:
    """``{% resident_counts dwellings as counts %}``: people per dwelling, or None without the right."""
    user = getattr(_request(context), "user", None)
    if not can(user, CAPABILITY):
        return None
    counts = selectors.resident_counts_by_dwelling(
        scope=scope_for(user, CAPABILITY), dwelling_ids=[d.pk for d in dwellings]
    )
    return ResidentCounts(by_dwelling=counts, total=sum(counts.values()))


@register.inclusion_tag("registry/_dwelling_residents.html", takes_context=True)
def dwelling_residents_panel(context: template.Context, dwelling: Dwelling) -> dict[str, Any]:
    """The residents of a dwelling, masked; the read is audited by the selector."""
    request = _request(context)
    user = getattr(request, "user", None)
    if not can(user, CAPABILITY):
        return {"allowed": False}
    people = selectors.dwelling_residents(
        actor=actor_of(user, client_ip(request)),
        scope=scope_for(user, CAPABILITY),
        dwelling=dwelling,
    )
    today = timezone.localdate(clock.now())
    return {
        "allowed": True,
        "dwelling": dwelling,
        "residents": [(p, selectors.age_on(p.birth_date, today)) for p in people],
        "can_visit": can(user, "registry.visit"),
    }


@register.filter
def change_label(field: str) -> str:
    """A PersonChange field as the history shows it (``tag:living_alone`` → 标签)."""
    return selectors.field_label(field)
