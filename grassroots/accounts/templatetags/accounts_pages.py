"""Accounts panels for pages of lower apps (the grid page of the place browser).

``places`` may not import ``accounts``; its templates load this library by name.
"""

from __future__ import annotations

from typing import Any

from django import template

from grassroots.accounts import selectors
from grassroots.accounts.models import GridRoleKind
from grassroots.accounts.scopes import scope_for
from grassroots.places.models import Area

register = template.Library()


@register.inclusion_tag("accounts/_grid_roles.html", takes_context=True)
def grid_roles_panel(context: template.Context, grid: Area) -> dict[str, Any]:
    """The four roles (四员) of a grid in a fixed order, a vacant one shown as vacant."""
    user = getattr(context.get("request"), "user", None)
    held = {a.kind: a for a in selectors.grid_roles(scope=scope_for(user, "places.browse"), grid=grid)}
    return {"roles": [(kind.label, held.get(kind.value)) for kind in GridRoleKind]}
