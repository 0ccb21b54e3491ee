"""Reads of needs, resources, matches and projects; every list starts from the scope."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet, Sum

from grassroots.core.errors import NotFound
from grassroots.core.scope import Scope
from grassroots.volunteers.models import Match, MatchState, MatchStatus, Need, Project, Resource


def _check(scope: Scope) -> None:
    if scope.area_path is None:
        raise NotFound()


def need_queryset(*, scope: Scope, state: str = "", skill_id: int | None = None) -> QuerySet[Need]:
    _check(scope)
    rows = Need.objects.filter(scope.path_q())
    if state:
        rows = rows.filter(state=state)
    if skill_id:
        rows = rows.filter(skill_id=skill_id)
    return rows.select_related("skill", "area", "raised_by").defer(
        "raised_by__id_number_cipher", "raised_by__phone_cipher", "raised_by__provenance"
    )


def need_get(*, scope: Scope, need_id: int) -> Need:
    need = Need.objects.select_related("skill", "area", "raised_by").filter(pk=need_id).first()
    if need is None or not scope.covers_path(need.path):
        raise NotFound()
    return need


def resource_queryset(*, scope: Scope, skill_id: int | None = None, active_only: bool = True) -> QuerySet[Resource]:
    """Resources in scope, with the amount promised by accepted matches of unfinished projects."""
    _check(scope)
    rows = Resource.objects.filter(scope.path_q())
    if active_only:
        rows = rows.filter(is_active=True)
    if skill_id:
        rows = rows.filter(skill_id=skill_id)
    return rows.select_related("skill", "area", "unit", "volunteer__person").annotate(
        promised=Sum(
            "matches__amount",
            filter=Q(matches__status=MatchStatus.ACCEPTED, matches__project__done_at__isnull=True),
        )
    )


def resource_get(*, scope: Scope, resource_id: int) -> Resource:
    resource = (
        Resource.objects.select_related("skill", "area", "unit", "volunteer__person").filter(pk=resource_id).first()
    )
    if resource is None or not scope.covers_path(resource.path):
        raise NotFound()
    return resource


def match_queryset(*, scope: Scope, status: str = MatchStatus.PROPOSED) -> QuerySet[Match]:
    _check(scope)
    rows = Match.objects.filter(scope.path_q())
    if status:
        rows = rows.filter(status=status)
    return rows.select_related("need__skill", "need__area", "resource__area", "resource__unit").order_by(
        "need_id", "-score", "id"
    )


def match_get(*, scope: Scope, match_id: int) -> Match:
    match = Match.objects.select_related("need", "resource").filter(pk=match_id).first()
    if match is None or not scope.covers_path(match.path):
        raise NotFound()
    return match


def project_queryset(*, scope: Scope, done: bool | None = None) -> QuerySet[Project]:
    _check(scope)
    rows = Project.objects.filter(scope.path_q())
    if done is not None:
        rows = rows.filter(done_at__isnull=not done)
    return rows.select_related("match__need__skill", "match__resource__unit", "match__need__area").order_by(
        "done_at", "-created_at", "-id"
    )


def project_get(*, scope: Scope, project_id: int) -> Project:
    project = (
        Project.objects.select_related("match__need__skill", "match__need__area", "match__resource__unit")
        .filter(pk=project_id)
        .first()
    )
    if project is None or not scope.covers_path(project.path):
        raise NotFound()
    return project


def need_counts(*, scope: Scope) -> dict[str, int]:
    """Needs in scope by state, for the page's summary."""
    _check(scope)
    counts = dict.fromkeys(MatchState.values, 0)
    for state, n in Need.objects.filter(scope.path_q()).values_list("state").annotate(n=Count("id")).order_by():
        counts[state] = n
    return counts
