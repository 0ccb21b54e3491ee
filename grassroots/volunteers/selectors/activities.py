"""Reads of activities, sign-ups and volunteer hours (per person and per area)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum

from grassroots.core.errors import NotFound
from grassroots.core.scope import Scope
from grassroots.places.models import Area
from grassroots.registry.models import Person
from grassroots.volunteers.models import Activity, Signup, SignupState

TAKING = (SignupState.SIGNED_UP, SignupState.ATTENDED)


def activity_queryset(
    *, scope: Scope, when: str = "", area: Area | None = None, now: datetime | None = None
) -> QuerySet[Activity]:
    """Activities in scope with their sign-up and attendance counts. ``when``: upcoming/past/cancelled."""
    if scope.area_path is None:
        raise NotFound()
    rows = Activity.objects.filter(scope.path_q())
    if area is not None:
        if not scope.covers_path(area.path):
            raise NotFound()
        rows = rows.filter(Scope(area_path=area.path).path_q())
    if when == "cancelled":
        rows = rows.filter(cancelled=True)
    elif when in ("upcoming", "past") and now is not None:
        rows = rows.filter(cancelled=False)
        rows = rows.filter(ends_at__gt=now) if when == "upcoming" else rows.filter(ends_at__lte=now)
    return (
        rows.select_related("area", "skill", "team")
        .annotate(
            taken=Count("signups", filter=Q(signups__state__in=TAKING)),
            attended=Count("signups", filter=Q(signups__state=SignupState.ATTENDED)),
        )
        .order_by("-starts_at", "-id")
    )


def activity_get(*, scope: Scope, activity_id: int) -> Activity:
    activity = Activity.objects.select_related("area", "skill", "team", "created_by").filter(pk=activity_id).first()
    if activity is None or not scope.covers_path(activity.path):
        raise NotFound()
    return activity


def activity_signups(*, scope: Scope, activity: Activity) -> list[Signup]:
    if not scope.covers_path(activity.path):
        raise NotFound()
    return list(
        Signup.objects.filter(activity=activity)
        .select_related("person")
        .defer("person__id_number_cipher", "person__phone_cipher", "person__provenance")
        .order_by("signed_up_at", "id")
    )


def signup_get(*, scope: Scope, signup_id: int) -> Signup:
    signup = Signup.objects.select_related("activity", "person").filter(pk=signup_id).first()
    if signup is None or not scope.covers_path(signup.path):
        raise NotFound()
    return signup


@dataclass(frozen=True)
class PersonHours:
    person: Person
    hours: Decimal
    activities: int


def hours_by_person(*, scope: Scope, year: int | None = None, limit: int = 100) -> list[PersonHours]:
    """Attended hours per person for activities in scope, most first (two queries)."""
    if scope.area_path is None:
        raise NotFound()
    rows = Signup.objects.filter(scope.path_q(), state=SignupState.ATTENDED)
    if year is not None:
        rows = rows.filter(activity__starts_at__year=year)
    totals = list(rows.values("person_id").annotate(h=Sum("hours"), n=Count("id")).order_by("-h", "person_id")[:limit])
    people = Person.objects.only("id", "name", "path").in_bulk([r["person_id"] for r in totals])
    return [PersonHours(people[r["person_id"]], r["h"] or Decimal(0), r["n"]) for r in totals]


@dataclass(frozen=True)
class AreaHours:
    area: Area
    hours: Decimal
    attendances: int
    activities: int


def hours_by_area(*, scope: Scope, area: Area, year: int | None = None) -> list[AreaHours]:
    """Attended hours under each child of ``area`` (activities at ``area`` itself count as its own row)."""
    if not scope.covers_path(area.path):
        raise NotFound()
    rows = Signup.objects.filter(Scope(area_path=area.path).path_q(), state=SignupState.ATTENDED)
    if year is not None:
        rows = rows.filter(activity__starts_at__year=year)
    children = list(area.children.order_by("code"))
    by_path = {c.path: c for c in children}
    depth = area.path.count(".") + 2
    sums: dict[int, list[Decimal | int]] = {c.pk: [Decimal(0), 0, 0] for c in [area, *children]}
    seen: dict[int, set[int]] = {c.pk: set() for c in [area, *children]}
    for path, activity_id, hours, n in rows.values_list("path", "activity_id").annotate(h=Sum("hours"), n=Count("id")):
        target = by_path.get(".".join(path.split(".")[:depth]), area)
        entry = sums[target.pk]
        entry[0] = Decimal(entry[0]) + (hours or 0)
        entry[1] = int(entry[1]) + n
        seen[target.pk].add(activity_id)
    return [
        AreaHours(a, Decimal(sums[a.pk][0]), int(sums[a.pk][1]), len(seen[a.pk]))
        for a in [*children, area]
        if a is not area or sums[a.pk][1]
    ]


def person_signups(*, scope: Scope, person: Person, limit: int = 50) -> list[Signup]:
    """A person's sign-ups for activities in scope, latest first."""
    if scope.area_path is None:
        raise NotFound()
    return list(
        Signup.objects.filter(scope.path_q(), person=person)
        .select_related("activity")
        .order_by("-activity__starts_at", "-id")[:limit]
    )
