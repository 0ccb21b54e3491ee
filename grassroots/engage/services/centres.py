"""Party-and-masses service centres (党群服务中心): the centre of a community, its visits with
satisfaction, its rooms and their bookings.

A booking holds its room for [starts_at, ends_at). ``booking_create`` locks the room row
(``select_for_update``) before it looks for an overlapping booking, so two people booking the same
room at once are served one after the other and the second is refused.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone

from grassroots.audit.services import actor_of, audit_record
from grassroots.core import clock
from grassroots.core.errors import DomainError, NotFound
from grassroots.engage.models import CentreRoom, CentreVisit, RoomBooking, ServiceCentre
from grassroots.engage.selectors.scopes import run_scope
from grassroots.places.models import Area, AreaLevel

MAX_FLOOR_AREA = Decimal("100000")


def _centre(actor: Any, centre_id: int, *, lock: bool = False) -> ServiceCentre:
    rows = ServiceCentre.objects.select_for_update() if lock else ServiceCentre.objects
    centre = rows.filter(pk=centre_id).first()
    if centre is None or not run_scope(actor).covers_path(centre.path):
        raise NotFound()
    return centre


@transaction.atomic
def centre_save(
    *,
    actor: Any,
    community: Area,
    name: str,
    floor_area: Decimal | float | str,
    is_village: bool | None = None,
    households_entered: int | None = None,
    address: str = "",
    now: datetime | None = None,
) -> ServiceCentre:
    """Create or update the centre of ``community`` (one per community).

    ``is_village`` None takes the community's own flag (``Area.is_rural``).
    """
    now = now or clock.now()
    if not run_scope(actor).covers_path(community.path):
        raise NotFound()
    if community.level != AreaLevel.COMMUNITY:
        raise DomainError("党群服务中心按社区（村）登记，请选择社区。", field="community")
    try:
        area_m2 = Decimal(str(floor_area)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise DomainError("建筑面积应为数字（平方米）。", field="floor_area") from None
    if not Decimal(0) < area_m2 < MAX_FLOOR_AREA:
        raise DomainError("建筑面积应大于0且小于100000平方米。", field="floor_area")
    if households_entered is not None and households_entered < 0:
        raise DomainError("服务户数不能为负数。", field="households_entered")
    if not name.strip():
        raise DomainError("请填写中心名称。", field="name")
    centre = ServiceCentre.objects.select_for_update().filter(community=community).first()
    centre = centre or ServiceCentre(community=community, path=community.path)
    centre.name, centre.address, centre.floor_area = name.strip()[:100], address.strip()[:200], area_m2
    centre.households_entered = households_entered
    centre.is_village = community.is_rural if is_village is None else is_village
    centre.updated_by, centre.updated_at = actor, now
    centre.save()
    audit_record(
        actor=actor_of(actor),
        action="engage.centre.save",
        object_type="service_centre",
        object_id=centre.pk,
        area_path=centre.path,
        detail={"floor_area": str(area_m2), "village": centre.is_village},
        at=now,
    )
    return centre


@transaction.atomic
def visit_record(
    *,
    actor: Any,
    centre_id: int,
    on: date,
    count: int = 1,
    satisfaction: int | None = None,
    note: str = "",
    now: datetime | None = None,
) -> CentreVisit:
    """Visits on one day: ``count`` people (1 for a single visit), ``satisfaction`` 1–5 when asked."""
    now = now or clock.now()
    centre = _centre(actor, centre_id)
    if count < 1 or count > 100000:
        raise DomainError("人次应为1到100000之间的整数。", field="count")
    if satisfaction is not None and not 1 <= satisfaction <= 5:
        raise DomainError("满意度应为1到5分。", field="satisfaction")
    if on > timezone.localdate(now):
        raise DomainError("不能登记未来日期的到访。", field="on")
    return CentreVisit.objects.create(
        centre=centre,
        on=on,
        count=count,
        satisfaction=satisfaction,
        note=note.strip()[:200],
        recorded_by=actor,
        recorded_at=now,
    )


@transaction.atomic
def room_add(*, actor: Any, centre_id: int, name: str, capacity: int | None = None) -> CentreRoom:
    centre = _centre(actor, centre_id)
    name = name.strip()
    if not name or len(name) > 50:
        raise DomainError("请填写功能室名称（不超过50字）。", field="name")
    if CentreRoom.objects.filter(centre=centre, name=name).exists():
        raise DomainError(f"已有名为“{name}”的功能室。", field="name")
    return CentreRoom.objects.create(centre=centre, name=name, capacity=capacity)


@transaction.atomic
def booking_create(
    *,
    actor: Any,
    room_id: int,
    starts_at: datetime,
    ends_at: datetime,
    purpose: str,
    booker: str,
    now: datetime | None = None,
) -> RoomBooking:
    """Book a room; an overlapping (not cancelled) booking of the same room is refused."""
    now = now or clock.now()
    room = CentreRoom.objects.select_for_update().select_related("centre").filter(pk=room_id).first()
    if room is None or not run_scope(actor).covers_path(room.centre.path):
        raise NotFound()
    if ends_at <= starts_at:
        raise DomainError("结束时间须晚于开始时间。", field="ends_at")
    if ends_at <= now:
        raise DomainError("不能预约已经过去的时段。", field="starts_at")
    if not purpose.strip():
        raise DomainError("请填写用途。", field="purpose")
    if not booker.strip():
        raise DomainError("请填写预约人或单位。", field="booker")
    clash = (
        RoomBooking.objects.filter(room=room, cancelled_at__isnull=True, starts_at__lt=ends_at, ends_at__gt=starts_at)
        .order_by("starts_at")
        .first()
    )
    if clash is not None:
        start, end = timezone.localtime(clash.starts_at), timezone.localtime(clash.ends_at)
        raise DomainError(
            f"{room.name}在 {start:%m-%d %H:%M}–{end:%H:%M} 已被“{clash.booker}”预约，时间冲突。",
            field="starts_at",
        )
    booking = RoomBooking.objects.create(
        room=room,
        starts_at=starts_at,
        ends_at=ends_at,
        purpose=purpose.strip()[:200],
        booker=booker.strip()[:100],
        booked_by=actor,
        created_at=now,
    )
    audit_record(
        actor=actor_of(actor),
        action="engage.room.book",
        object_type="room_booking",
        object_id=booking.pk,
        area_path=room.centre.path,
        detail={"room": room.name, "starts_at": starts_at.isoformat(), "ends_at": ends_at.isoformat()},
        at=now,
    )
    return booking


@transaction.atomic
def booking_cancel(*, actor: Any, booking_id: int, now: datetime | None = None) -> RoomBooking:
    now = now or clock.now()
    booking = RoomBooking.objects.select_for_update().select_related("room__centre").filter(pk=booking_id).first()
    if booking is None or not run_scope(actor).covers_path(booking.room.centre.path):
        raise NotFound()
    if booking.cancelled_at is not None:
        raise DomainError("该预约已取消。")
    booking.cancelled_at = now
    booking.save(update_fields=["cancelled_at"])
    return booking
