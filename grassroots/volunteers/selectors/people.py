"""Reads of skills, volunteers, talents and teams; every list starts from the scope."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Prefetch, Q, QuerySet, Sum

from grassroots.core.errors import NotFound
from grassroots.core.scope import Scope
from grassroots.places.models import Area
from grassroots.registry.models import Person
from grassroots.volunteers.models import SignupState, Skill, Team, Volunteer

PERSON_COLUMNS = ("id", "name", "sex", "birth_date", "phone_masked", "path", "dwelling_id")


def skill_list() -> list[Skill]:
    return list(Skill.objects.all())


def skill_get(*, skill_id: int) -> Skill:
    skill = Skill.objects.filter(pk=skill_id).first()
    if skill is None:
        raise NotFound()
    return skill


def volunteer_queryset(
    *,
    scope: Scope,
    skill: Skill | None = None,
    grid: Area | None = None,
    talent: bool | None = None,
    name: str = "",
    active_only: bool = True,
) -> QuerySet[Volunteer]:
    """Volunteers in scope, filtered by skill, grid (or any area), talent and name; with their hours."""
    if scope.area_path is None:
        raise NotFound()
    if grid is not None and not scope.covers_path(grid.path):
        raise NotFound()
    rows = Volunteer.objects.filter(scope.path_q())
    if grid is not None:
        rows = rows.filter(Scope(area_path=grid.path).path_q())
    if skill is not None:
        rows = rows.filter(skills=skill)
    if talent is not None:
        rows = rows.filter(is_talent=talent)
    if name.strip():
        rows = rows.filter(person__name__contains=name.strip())
    if active_only:
        rows = rows.filter(is_active=True)
    return (
        rows.select_related("person")
        .defer("person__id_number_cipher", "person__phone_cipher", "person__provenance")
        .prefetch_related(Prefetch("skills", queryset=Skill.objects.only("id", "name", "code", "sort")))
        .annotate(
            hours=Sum("person__activity_signups__hours", filter=Q(person__activity_signups__state=SignupState.ATTENDED))
        )
        .order_by("path", "id")
    )


def grids_by_path(paths: list[str]) -> dict[str, Area]:
    wanted = set(paths)
    return {a.path: a for a in Area.objects.filter(path__in=wanted)} if wanted else {}


def volunteer_get(*, scope: Scope, volunteer_id: int) -> Volunteer:
    volunteer = Volunteer.objects.select_related("person").prefetch_related("skills").filter(pk=volunteer_id).first()
    if volunteer is None or not scope.covers_path(volunteer.path):
        raise NotFound()
    return volunteer


def volunteer_person_ids(*, person_ids: list[int]) -> set[int]:
    """Which of these persons are registered (active) volunteers, for search results."""
    return set(Volunteer.objects.filter(person_id__in=person_ids, is_active=True).values_list("person_id", flat=True))


# --- teams -------------------------------------------------------------------------------------


def team_list(*, scope: Scope, kind: str = "", include_dissolved: bool = False) -> list[Team]:
    if scope.area_path is None:
        raise NotFound()
    rows = Team.objects.filter(scope.path_q())
    if kind:
        rows = rows.filter(kind=kind)
    if not include_dissolved:
        rows = rows.filter(dissolved_on__isnull=True)
    return list(rows.select_related("area", "leader").annotate(member_count=Count("members")).order_by("path", "name"))


def team_get(*, scope: Scope, team_id: int) -> Team:
    team = Team.objects.select_related("area", "leader").filter(pk=team_id).first()
    if team is None or not scope.covers_path(team.path):
        raise NotFound()
    return team


def team_members(*, scope: Scope, team: Team) -> list[Person]:
    if not scope.covers_path(team.path):
        raise NotFound()
    return list(team.members.only(*PERSON_COLUMNS).order_by("name", "id"))


@dataclass(frozen=True)
class SkillCount:
    skill: Skill
    volunteers: int
    talents: int


def skill_counts(*, scope: Scope) -> list[SkillCount]:
    """How many active volunteers and talents in scope have each skill (one query)."""
    if scope.area_path is None:
        raise NotFound()
    inside = Q(volunteers__is_active=True) & scope.path_q("volunteers__path")
    rows = Skill.objects.annotate(
        n=Count("volunteers", filter=inside),
        t=Count("volunteers", filter=inside & Q(volunteers__is_talent=True)),
    )
    return [SkillCount(s, s.n, s.t) for s in rows]


def total_hours(value: Decimal | None) -> Decimal:
    return value or Decimal(0)


def person_in_scope(*, scope: Scope, person_id: int | None) -> Person:
    """A registry person the scope reaches (masked columns only), for a form's hidden ``person`` field."""
    person = (
        Person.objects.defer("id_number_cipher", "phone_cipher", "provenance")
        .select_related("dwelling__building")
        .filter(pk=person_id or 0)
        .first()
    )
    if person is None or not scope.covers_path(person.path):
        raise NotFound()
    return person
