"""Reads of the party-and-masses service centres: compliance of the floor area and the
popularity index (人气指数).

Households served
    The sum of ``Building.households`` in the community's place tree when that is above zero
    (「楼栋户数」), else the number entered on the centre (「手工填报」), else unknown.

Floor-area standard (GLOSSARY: 党群服务中心)
    A community centre needs at least 30 m² for every 100 households: floor_area × 100 ≥ 30 ×
    households (exactly 30 m² per 100 households complies). A village's centre needs at least
    600 m², whatever its households. Unknown households: not assessed.

Popularity index (人气指数), 0–100, over a period (default the last 90 days), compared within the
listed centres (the area the page shows)::

    visits_per_100 = visits in the period ÷ households × 100          (0 when households unknown)
    come           = visits_per_100 ÷ the highest visits_per_100 among the listed centres
    satisfied      = average satisfaction (1–5, weighted by the visits it was given for) ÷ 5
                     (0 when nobody was asked)
    人气指数       = 60 × come + 40 × satisfied, rounded to one decimal
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import F, Q, Sum

from grassroots.accounts.scopes import can
from grassroots.core import clock
from grassroots.core.errors import NotFound
from grassroots.core.scope import Scope
from grassroots.engage.models import CentreRoom, CentreVisit, RoomBooking, ServiceCentre
from grassroots.engage.selectors.scopes import READ, RUN, run_scope, topic_scope
from grassroots.places.models import Building

M2_PER_100_HOUSEHOLDS = Decimal(30)
VILLAGE_MIN_M2 = Decimal(600)
VISITS_WEIGHT = 60
SATISFACTION_WEIGHT = 40
DEFAULT_PERIOD_DAYS = 90
FORMULA = (
    "人气指数 = 60 × 到访率 ÷ 本页最高到访率 + 40 × 平均满意度 ÷ 5（满分100）；"
    "到访率 = 统计期内到访人次 ÷ 服务户数 × 100（每百户人次），满意度按人次加权，无评价计0。"
)
STANDARD = "社区：每百户不少于30平方米（面积×100 ≥ 30×户数）；村：不少于600平方米。"


@dataclass
class CentreRow:
    centre: ServiceCentre
    households: int | None
    households_source: str  # 楼栋户数 / 手工填报 / ""
    visits: int = 0
    satisfaction_sum: int = 0
    satisfaction_visits: int = 0
    index: float = 0.0
    visits_per_100: float = 0.0

    @property
    def required_m2(self) -> Decimal | None:
        if self.centre.is_village:
            return VILLAGE_MIN_M2
        if self.households is None:
            return None
        return (M2_PER_100_HOUSEHOLDS * self.households / 100).quantize(Decimal("0.01"))

    @property
    def compliant(self) -> bool | None:
        """True when the floor area meets the standard, None when it cannot be assessed."""
        floor = Decimal(self.centre.floor_area)
        if self.centre.is_village:
            return floor >= VILLAGE_MIN_M2
        if self.households is None:
            return None
        return floor * 100 >= M2_PER_100_HOUSEHOLDS * self.households

    @property
    def m2_per_100(self) -> Decimal | None:
        if not self.households:
            return None
        return (Decimal(self.centre.floor_area) * 100 / self.households).quantize(Decimal("0.1"))

    @property
    def average_satisfaction(self) -> float | None:
        if not self.satisfaction_visits:
            return None
        return self.satisfaction_sum / self.satisfaction_visits


def compliance(floor_area: Decimal | int | float | str, households: int | None, *, is_village: bool) -> bool | None:
    """The floor-area standard on its own (see the module docstring)."""
    row = CentreRow(ServiceCentre(floor_area=Decimal(str(floor_area)), is_village=is_village), households, "")
    return row.compliant


def popularity(rows: list[CentreRow]) -> list[CentreRow]:
    """Fill ``visits_per_100`` and ``index`` of every row, normalising visits against the best row."""
    for row in rows:
        row.visits_per_100 = row.visits * 100 / row.households if row.households else 0.0
    best = max((row.visits_per_100 for row in rows), default=0.0)
    for row in rows:
        come = row.visits_per_100 / best if best else 0.0
        satisfied = (row.average_satisfaction or 0.0) / 5
        row.index = round(VISITS_WEIGHT * come + SATISFACTION_WEIGHT * satisfied, 1)
    return rows


def households_by_community(paths: list[str]) -> dict[str, int]:
    """Households in the place tree under each community path (one query)."""
    counts = dict.fromkeys(paths, 0)
    if not paths:
        return counts
    wanted = set(paths)
    where = Q()
    for path in paths:
        where |= Scope(area_path=path).path_q("path")
    rows = Building.objects.filter(where).values("path").annotate(h=Sum("households")).values_list("path", "h")
    for path, households in rows:
        parts = path.split(".")
        for i in range(len(parts), 0, -1):
            prefix = ".".join(parts[:i])
            if prefix in wanted:
                counts[prefix] += households or 0
                break
    return counts


def centres_for(user: Any) -> Any:
    if not (can(user, READ) or can(user, RUN)):
        return ServiceCentre.objects.none()
    return ServiceCentre.objects.filter(topic_scope(user).path_q("path")).select_related("community")


def centre_rows(
    user: Any, *, start: date | None = None, end: date | None = None, centres: list[ServiceCentre] | None = None
) -> list[CentreRow]:
    """Every centre the user may see with households, compliance, visits and the popularity index."""
    end = end or clock.today()
    start = start or end - timedelta(days=DEFAULT_PERIOD_DAYS - 1)
    centres = list(centres_for(user).order_by("path")) if centres is None else centres
    places = households_by_community([c.path for c in centres])
    rows = []
    for centre in centres:
        if places.get(centre.path):
            rows.append(CentreRow(centre, places[centre.path], "楼栋户数"))
        elif centre.households_entered is not None:
            rows.append(CentreRow(centre, centre.households_entered, "手工填报"))
        else:
            rows.append(CentreRow(centre, None, ""))
    by_id = {row.centre.pk: row for row in rows}
    visits = (
        CentreVisit.objects.filter(centre_id__in=by_id, on__gte=start, on__lte=end)
        .values("centre_id")
        .annotate(n=Sum("count"))
    )
    for item in visits:
        by_id[item["centre_id"]].visits = item["n"] or 0
    rated = (
        CentreVisit.objects.filter(centre_id__in=by_id, on__gte=start, on__lte=end, satisfaction__isnull=False)
        .values("centre_id")
        .annotate(n=Sum("count"), s=Sum(F("satisfaction") * F("count")))
    )
    for item in rated:
        row = by_id[item["centre_id"]]
        row.satisfaction_visits, row.satisfaction_sum = item["n"] or 0, item["s"] or 0
    return popularity(rows)


def centre_get(*, user: Any, centre_id: int) -> ServiceCentre:
    centre = centres_for(user).filter(pk=centre_id).first()
    if centre is None:
        raise NotFound()
    return centre


def runs_centre(user: Any, centre: ServiceCentre) -> bool:
    return can(user, RUN) and run_scope(user).covers_path(centre.path)


def centre_rooms(centre: ServiceCentre) -> list[CentreRoom]:
    return list(CentreRoom.objects.filter(centre=centre))


def upcoming_bookings(centre: ServiceCentre, *, days: int = 30) -> list[RoomBooking]:
    now = clock.now()
    return list(
        RoomBooking.objects.filter(
            room__centre=centre, cancelled_at__isnull=True, ends_at__gt=now, starts_at__lt=now + timedelta(days=days)
        )
        .select_related("room")
        .order_by("starts_at", "id")
    )


def recent_visits(centre: ServiceCentre, *, limit: int = 30) -> list[CentreVisit]:
    return list(CentreVisit.objects.filter(centre=centre).order_by("-on", "-id")[:limit])
