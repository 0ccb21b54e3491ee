"""Reads of accounts data, by scope."""

from __future__ import annotations

from django.db.models import Count

from grassroots.accounts.models import GridRoleAssignment, WorkerProfile
from grassroots.core.errors import NotFound
from grassroots.core.scope import Scope
from grassroots.places.models import Area


def grid_roles(*, scope: Scope, grid: Area) -> list[GridRoleAssignment]:
    """The current holders of the four roles on a grid."""
    if not scope.covers_path(grid.path):
        raise NotFound()
    return list(GridRoleAssignment.objects.filter(grid=grid, until__isnull=True).order_by("kind"))


def staffing(*, scope: Scope, area: Area) -> dict[str, object]:
    """Community workers at or below an area, by post and grade."""
    if not scope.covers_path(area.path):
        raise NotFound()
    qs = WorkerProfile.objects.in_scope(Scope(area_path=area.path))
    return {
        "total": qs.count(),
        "by_post": dict(qs.values("post").annotate(n=Count("id")).values_list("post", "n")),
    }
