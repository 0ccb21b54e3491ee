"""Service centres: floor-area standard at its exact boundaries, households from the place tree,
visits and the popularity index by a hand-computed fixture, room bookings without overlaps."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from grassroots.accounts.models import Role
from grassroots.cases.workflow import TZ
from grassroots.core.errors import DomainError, NotFound
from grassroots.engage.models import RoomBooking
from grassroots.engage.selectors import centres as reads
from grassroots.engage.services import centres as service
from tests.factories import Tree

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=TZ)
START, END = date(2026, 11, 1), date(2026, 11, 23)


@pytest.mark.parametrize(
    ("floor", "households", "village", "expected"),
    [
        ("60.00", 200, False, True),  # exactly 30 m² per 100 households
        ("59.99", 200, False, False),
        ("30", 100, False, True),
        ("29.99", 100, False, False),
        ("9.90", 33, False, True),  # 30 × 33 / 100 = 9.9
        ("9.89", 33, False, False),
        ("600", 0, True, True),  # a village: at least 600 m², whatever its households
        ("599.99", 10, True, False),
        ("600", 5000, True, True),
        ("100", None, False, None),  # households unknown: not assessed
    ],
)
def test_floor_area_standard(floor: str, households: int | None, village: bool, expected: bool | None) -> None:
    assert reads.compliance(Decimal(floor), households, is_village=village) is expected


def test_households_come_from_the_place_tree_else_as_entered(tree: Tree) -> None:
    admin = tree.users[Role.ADMIN]
    service.centre_save(actor=admin, community=tree.chengbei, name="城北党群服务中心", floor_area="7.20",
                        households_entered=999)  # fmt: skip
    service.centre_save(actor=admin, community=tree.zhoushi_c, name="周市党群服务中心", floor_area="59.99",
                        households_entered=200)  # fmt: skip
    rows = {r.centre.community_id: r for r in reads.centre_rows(admin, start=START, end=END)}
    chengbei, zhoushi = rows[tree.chengbei.pk], rows[tree.zhoushi_c.pk]
    assert (chengbei.households, chengbei.households_source) == (24, "楼栋户数")  # 1幢: 6 floors × 2 × 2
    assert chengbei.required_m2 == Decimal("7.20")
    assert chengbei.compliant is True
    assert (zhoushi.households, zhoushi.households_source, zhoushi.compliant) == (200, "手工填报", False)


def test_village_flag_defaults_to_the_community(tree: Tree) -> None:
    tree.zhoushi_c.is_rural = True
    tree.zhoushi_c.save()
    admin = tree.users[Role.ADMIN]
    centre = service.centre_save(actor=admin, community=tree.zhoushi_c, name="周市村党群服务中心", floor_area=600)
    assert centre.is_village
    row = reads.centre_rows(admin, centres=[centre])[0]
    assert (row.required_m2, row.compliant) == (Decimal(600), True)
    with pytest.raises(DomainError):
        service.centre_save(actor=admin, community=tree.yushan, name="镇中心", floor_area=600)
    with pytest.raises(DomainError):
        service.centre_save(actor=admin, community=tree.chengbei, name="x", floor_area="abc")


def test_popularity_index_by_hand(tree: Tree) -> None:
    admin = tree.users[Role.ADMIN]
    a = service.centre_save(actor=admin, community=tree.chengbei, name="城北", floor_area=100)  # 24 households
    b = service.centre_save(actor=admin, community=tree.zhoushi_c, name="周市", floor_area=100, households_entered=200)
    c = service.centre_save(actor=admin, community=tree.chengnan, name="城南", floor_area=100)  # 22 households
    visit = service.visit_record
    visit(actor=admin, centre_id=a.pk, on=date(2026, 11, 5), count=10, satisfaction=5, now=NOW)
    visit(actor=admin, centre_id=a.pk, on=date(2026, 11, 6), count=2, satisfaction=3, now=NOW)
    visit(actor=admin, centre_id=b.pk, on=date(2026, 11, 7), count=20, now=NOW)  # not asked
    visit(actor=admin, centre_id=b.pk, on=date(2026, 11, 8), satisfaction=4, now=NOW)  # one visit
    visit(actor=admin, centre_id=c.pk, on=date(2026, 10, 1), count=50, satisfaction=5, now=NOW)  # before the period
    rows = {r.centre.pk: r for r in reads.centre_rows(admin, start=START, end=END)}
    # 城北: 12 visits / 24 households × 100 = 50 per 100 (the best); satisfaction (10×5 + 2×3) / 12 = 4.667
    assert rows[a.pk].visits_per_100 == 50
    assert rows[a.pk].index == round(60 * 1 + 40 * (56 / 12) / 5, 1) == 97.3
    # 周市: 21 / 200 × 100 = 10.5 per 100; satisfaction 4 (only the one asked)
    assert rows[b.pk].visits == 21
    assert rows[b.pk].index == round(60 * 10.5 / 50 + 40 * 4 / 5, 1) == 44.6
    assert rows[c.pk].index == 0.0
    assert "60" in reads.FORMULA and "40" in reads.FORMULA


def test_visits_are_checked(tree: Tree) -> None:
    admin = tree.users[Role.ADMIN]
    centre = service.centre_save(actor=admin, community=tree.chengbei, name="城北", floor_area=100)
    for kwargs in ({"satisfaction": 6}, {"satisfaction": 0}, {"count": 0}, {"on": date(2026, 11, 24)}):
        params = {"on": date(2026, 11, 20), **kwargs}
        with pytest.raises(DomainError):
            service.visit_record(actor=admin, centre_id=centre.pk, now=NOW, **params)
    with pytest.raises(NotFound):  # 城南's worker does not run 城北's centre
        service.visit_record(actor=tree.outsiders[Role.COMMUNITY_WORKER], centre_id=centre.pk, on=date(2026, 11, 20))


def test_overlapping_bookings_are_refused(tree: Tree) -> None:
    worker = tree.users[Role.COMMUNITY_WORKER]
    centre = service.centre_save(actor=worker, community=tree.chengbei, name="城北", floor_area=100)
    hall = service.room_add(actor=worker, centre_id=centre.pk, name="多功能厅", capacity=60)
    study = service.room_add(actor=worker, centre_id=centre.pk, name="书画室")
    day = NOW + timedelta(days=2)
    at = lambda h: day.replace(hour=h, minute=0)  # noqa: E731

    def book(room_id: int, start: int, end: int) -> RoomBooking:
        return service.booking_create(
            actor=worker, room_id=room_id, starts_at=at(start), ends_at=at(end), purpose="议事会", booker="网格一",
            now=NOW,
        )  # fmt: skip

    first = book(hall.pk, 10, 12)
    for start, end in ((11, 13), (9, 11), (10, 12), (9, 13), (10, 11)):
        with pytest.raises(DomainError, match="冲突"):
            book(hall.pk, start, end)
    book(hall.pk, 12, 14)  # touching is not overlapping
    book(hall.pk, 8, 10)
    book(study.pk, 10, 12)  # another room
    with pytest.raises(DomainError, match="晚于"):
        book(hall.pk, 15, 15)
    service.booking_cancel(actor=worker, booking_id=first.pk, now=NOW)
    book(hall.pk, 10, 12)  # a cancelled booking frees its time
    assert RoomBooking.objects.filter(room=hall, cancelled_at__isnull=True).count() == 3
    with pytest.raises(NotFound):
        service.booking_create(
            actor=tree.outsiders[Role.COMMUNITY_WORKER], room_id=hall.pk, starts_at=at(16), ends_at=at(17),
            purpose="x", booker="y", now=NOW,
        )  # fmt: skip


def test_staff_see_centres_in_their_scope(tree: Tree) -> None:
    admin = tree.users[Role.ADMIN]
    service.centre_save(actor=admin, community=tree.chengbei, name="城北", floor_area=100)
    other = service.centre_save(actor=admin, community=tree.chengnan, name="城南", floor_area=100)
    worker = tree.users[Role.COMMUNITY_WORKER]
    assert [r.centre.name for r in reads.centre_rows(worker)] == ["城北"]
    with pytest.raises(NotFound):
        reads.centre_get(user=worker, centre_id=other.pk)
    assert reads.centre_rows(tree.users[Role.RESIDENT]) == []


# --- pages -----------------------------------------------------------------------------------


def client_for(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    ("role", "status"),
    [(Role.RESIDENT, 403), (Role.DEPARTMENT_OFFICER, 403), (Role.PARTY_SECRETARY, 200), (Role.GRID_WORKER, 200),
     (Role.COMMUNITY_WORKER, 200), (Role.ADMIN, 200)],
)  # fmt: skip
def test_centre_list_checks_the_capability(tree: Tree, role: str, status: int) -> None:
    assert client_for(tree.users[role]).get(reverse("engage:centres")).status_code == status


def test_centre_pages(tree: Tree) -> None:
    worker = client_for(tree.users[Role.COMMUNITY_WORKER])
    data = {"community": tree.chengbei.pk, "name": "城北党群服务中心", "floor_area": "7.19"}
    response = worker.post(reverse("engage:centres"), data)
    assert response.status_code == 302
    page = worker.get(reverse("engage:centres")).content.decode()
    assert "不达标" in page and "人气指数 = 60" in page
    centre = reads.centre_get(
        user=tree.users[Role.COMMUNITY_WORKER], centre_id=int(response.url.rstrip("/").split("/")[-1])
    )
    url = reverse("engage:centre", args=[centre.pk])
    assert worker.post(url, {"op": "room", "name": "多功能厅"}).status_code == 302
    room = centre.rooms.get()
    start = (timezone.localtime() + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
    ends = start + timedelta(hours=2)
    booking = {"op": "book", "room": room.pk, "purpose": "议事会", "booker": "网格一",
               "starts_at": f"{start:%Y-%m-%dT%H:%M}", "ends_at": f"{ends:%Y-%m-%dT%H:%M}"}  # fmt: skip
    assert worker.post(url, booking).status_code == 302
    clash = worker.post(url, {**booking, "starts_at": f"{start + timedelta(hours=1):%Y-%m-%dT%H:%M}"})
    assert clash.status_code == 400 and "冲突" in clash.content.decode()
    visit = {"op": "visit", "on": f"{timezone.localdate():%Y-%m-%d}", "count": 3, "satisfaction": "5"}
    assert worker.post(url, visit).status_code == 302
    assert "人气指数" in worker.get(url).content.decode()
    dispatcher = client_for(tree.users[Role.SUBDISTRICT_DISPATCHER])  # reads 玉山镇, does not run centres
    assert dispatcher.get(url).status_code == 200
    assert dispatcher.post(url, visit).status_code == 403
    assert client_for(tree.users[Role.GRID_WORKER]).get(url).status_code == 404  # a grid's scope is below it
    assert client_for(tree.outsiders[Role.COMMUNITY_WORKER]).get(url).status_code == 404
    assert client_for(tree.users[Role.RESIDENT]).get(url).status_code == 403
