"""Two subdistricts with one of everything, and one signed-in client per role scoped to the first.

Side A is 玉山镇 of the factories' tree (城北社区, 网格一, 阳光花园1幢). Side B is a subdistrict of
another district (太仓市 沙溪镇), so that no user of A — the district leader and the district's
department included — has B in scope; only the administrator sees both. Every name given to a B
object contains ``沙溪`` and is listed in ``World.b_markers``: none may appear on A's users' pages.

The world is built once per module inside an outer transaction that is rolled back at the end;
each test still runs in its own savepoint (the ``db`` fixture), so writes do not leak between tests.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.test.utils import override_settings
from PIL import Image

from grassroots.accounts import services as accounts
from grassroots.accounts.models import Department, Role, User
from grassroots.audit.services import SYSTEM
from grassroots.cases import selectors as case_selectors
from grassroots.cases import services as cases
from grassroots.cases.models import Case, Category
from grassroots.cases.services import photos as case_photos
from grassroots.cases.workflow import TZ, Action, Command
from grassroots.core import clock
from grassroots.core.ids import make_id_number
from grassroots.core.scope import Scope
from grassroots.engage import services as engage
from grassroots.engage.services import admission as engage_admission
from grassroots.engage.services import centres as engage_centres
from grassroots.engage.services import guide as engage_guide
from grassroots.engage.services import photos as engage_photos
from grassroots.estates import services as estates
from grassroots.party import services as party
from grassroots.party.services import alliances
from grassroots.places import services as places
from grassroots.places.models import Area, Building, Compound, Dwelling
from grassroots.registry import services as registry
from grassroots.registry.models import AddressChoice, PairReason, Person, RecordPair, Source, SourceRecord
from grassroots.registry.services.units import unit_create
from grassroots.volunteers import services as volunteers
from grassroots.volunteers.models import Skill
from grassroots.volunteers.services import mobilisation
from tests.factories import PASSWORD, Tree, add_personas, build_tree, centre, square
from tests.registry.imports.helpers import csv_bytes, import_file

ALL = Scope.everything()
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=TZ)  # a Monday
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass
class Side:
    """One subdistrict's objects; ``tag`` is in every name given on side B."""

    tag: str
    subdistrict: Area
    community: Area
    grid: Area
    compound: Compound
    building: Building
    dwelling: Dwelling
    department: Department
    person: Person
    id_number: str
    phone: str
    resident: User
    worker: User  # community worker of the side, who writes its objects
    objects: dict[str, Any] = field(default_factory=dict)

    def pk(self, name: str) -> int:
        return int(self.objects[name].pk)


@dataclass
class World:
    tree: Tree
    a: Side
    b: Side
    users: dict[str, User]  # one per role, scoped to side A (the admin sees everything)
    clients: dict[str, Client]
    category: Category
    b_markers: list[str]
    sensitive: list[str]  # A's person's full ID number and phone: never on a page in full


def _jpeg() -> io.BytesIO:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), "red").save(buffer, "JPEG")
    buffer.seek(0)
    return buffer


def _side_b(tree: Tree) -> tuple[Area, Area, Area, Area, Compound, Building, Department]:
    a = places.area_create
    district = a(actor=SYSTEM, parent=tree.city, level="district", code="320585", name="太仓市沙溪区")
    sub = a(actor=SYSTEM, parent=district, level="subdistrict", code="001", name="沙溪镇")
    community = a(actor=SYSTEM, parent=sub, level="community", code="001", name="沙溪社区")
    grid = a(
        actor=SYSTEM,
        parent=community,
        level="grid",
        code="01",
        name="沙溪网格",
        grid_kind="comprehensive",
        geometry=square(8, 0),
    )
    compound = places.compound_create(actor=SYSTEM, community=community, name="沙溪花园")
    lon, lat = centre(8, 0)
    building = places.building_create(
        actor=SYSTEM,
        grid=grid,
        compound=compound,
        name="9幢",
        typology="multi_storey",
        floors=2,
        entrances=2,
        dwellings_per_floor=2,
        lon=lon,
        lat=lat,
    )
    dept = accounts.department_create(actor=SYSTEM, area=district, code="sxcg", name="沙溪城管局")
    return district, sub, community, grid, compound, building, dept


def _fill(side: Side, *, seq: int, category: Category, skills: dict[str, Skill], col: int, admin: User) -> None:
    """One of each scoped object in ``side``'s community; names carry ``side.tag``."""
    t, o, worker = side.tag, side.objects, side.worker
    o["unit"] = unit_create(actor=SYSTEM, scope=ALL, name=f"{t}科技公司", kind="enterprise", area=side.community)
    o["working"] = party.org_create(
        actor=SYSTEM, scope=ALL, level="working_committee", name=f"{t}镇党工委", area=side.subdistrict
    )
    o["org"] = party.org_create(
        actor=SYSTEM,
        scope=ALL,
        level="community_committee",
        name=f"{t}社区党委",
        area=side.community,
        parent=o["working"],
    )
    o["member"] = party.member_create(
        actor=SYSTEM, scope=ALL, person=side.person, kind="regular", org=o["org"], residence_area=side.grid
    )
    o["service"] = party.service_record_add(
        actor=SYSTEM,
        member=o["member"],
        kind="volunteer",
        on=date(2026, 11, 1),
        description=f"{t}清理楼道",
        path=side.grid.path,
        hours=2,
    ).record
    o["alliance"] = alliances.alliance_create(actor=SYSTEM, scope=ALL, area=side.community, name=f"{t}共建联盟")
    o["alliance_member"] = alliances.member_add(
        actor=SYSTEM, scope=ALL, alliance=o["alliance"], unit=o["unit"], joined_on=date(2026, 1, 1)
    ).member
    o["alliance_item"] = alliances.item_create(
        actor=SYSTEM, scope=ALL, alliance=o["alliance"], kind="needs", title=f"{t}共建需求"
    )
    o["pairing"] = alliances.pairing_create(
        actor=SYSTEM, scope=ALL, unit=o["unit"], community=side.community, since=date(2026, 1, 1)
    )
    o["volunteer"] = volunteers.volunteer_register(actor=worker, person=side.person, skills=[skills["repair"]])
    o["team"] = volunteers.team_create(actor=worker, name=f"{t}志愿服务队", kind="volunteer", area=side.community)
    o["activity"] = volunteers.activity_create(
        actor=worker,
        title=f"{t}义诊活动",
        area=side.community,
        place=f"{t}广场",
        starts_at=NOW + timedelta(days=3),
        ends_at=NOW + timedelta(days=3, hours=2),
    )
    o["signup"] = volunteers.signup_add(actor=worker, activity=o["activity"], person=side.person)
    o["need"] = volunteers.need_create(actor=worker, title=f"{t}助老需求", skill=skills["repair"], area=side.community)
    o["role"] = volunteers.building_role_appoint(
        actor=worker, kind="building_head", person=side.person, building=side.building
    ).role
    o["mobilisation"] = mobilisation.mobilisation_start(
        actor=worker,
        area=side.community,
        mode="drill",
        audiences=["volunteers"],
        title=f"{t}防汛演练",
        message=f"{t}集合",
        now=NOW,
        fan_out=False,
    )
    o["topic"] = engage.topic_propose(
        actor=side.resident, title=f"{t}增设充电桩", description=f"{t}楼道充电隐患", now=NOW
    )
    o["topic_photo"] = engage_photos.topic_photo_add(
        actor=side.resident, topic=o["topic"], upload=_jpeg(), name="a.jpg"
    )
    o["notice"] = engage.notice_save(
        actor=worker,
        area=side.community,
        title=f"{t}停水通知",
        body=f"{t}明日停水",
        kind="outage",
        audience="residents",
        publish=True,
        now=NOW,
    )
    o["meeting"] = engage.meeting_create(
        actor=worker, area=side.community, kind="parlour", title=f"{t}民生会客厅", starts_at=NOW
    )
    o["guide"] = engage_guide.guide_save(
        actor=worker, area=side.community, values={"name": f"{t}开具证明", "category": "综合"}
    )
    o["centre"] = engage_centres.centre_save(
        actor=worker, community=side.community, name=f"{t}党群服务中心", floor_area=600
    )
    o["committee"] = estates.committee_create(
        actor=SYSTEM,
        scope=ALL,
        compound=side.compound,
        name=f"{t}业主委员会",
        term_start=date(2024, 1, 1),
        term_end=date(2028, 12, 31),
    )
    o["company"] = estates.company_create(actor=SYSTEM, scope=ALL, unit=o["unit"], qualification="grade2")
    o["survey"] = estates.survey_create(
        actor=SYSTEM,
        scope=ALL,
        compound=side.compound,
        year=2026,
        quarter=3,
        title=f"{t}物业满意度",
        questions=["服务"],
    )
    o["dormitory"] = places.compound_create(actor=SYSTEM, community=side.community, name=f"{t}集宿区", kind="dormitory")
    o["zone"] = estates.zone_save(actor=SYSTEM, scope=ALL, compound=o["dormitory"], workers=300, staff_full=True)
    photo = case_photos.photo_upload(actor=side.resident, upload=_jpeg(), name="p.jpg")
    lon, lat = centre(col, 0)
    o["case"] = cases.case_submit(
        actor=side.resident,
        scope=ALL,
        channel="resident_h5",
        category=category,
        description=f"{t}路面有坑",
        lon=lon,
        lat=lat,
        photos=[photo.pk],
        now=NOW,
    ).case
    o["case_photo"] = photo
    # Whistled: the duty list sends it to the side's department, whose officer may then see it.
    role = case_selectors.acting_roles(worker)[0]
    cases.case_act(
        actor=worker,
        role=role,
        case_id=o["case"].pk,
        expected_version=o["case"].version,
        command=Command(action=Action.whistle, role=role),
        now=NOW,
    )
    o["resource"] = volunteers.resource_create(
        actor=worker, title=f"{t}维修资源", skill=skills["repair"], area=side.community, capacity=2
    )
    proposal = volunteers.matches_propose(actor=worker, area=side.community)
    o["match"] = proposal.matches[0]
    o["project"] = volunteers.match_accept(actor=worker, match=o["match"], title=f"{t}助老项目")
    commuter = registry.person_create(
        actor=SYSTEM,
        name=f"{t}钱七",
        id_number=make_id_number("320583", date(1982, 4, 4), seq + 100, "F"),
        dwelling=side.dwelling,
    )
    o["checkin"] = party.checkin_request(actor=SYSTEM, community=side.community, person=commuter)
    o["admission"] = engage_admission.admission_save(
        actor=admin, area=side.subdistrict, kind="duty", name=f"{t}人口信息采集", allowed=True, basis="清单第3项"
    )
    _registry_queues(side, seq=seq)


def _registry_queues(side: Side, *, seq: int) -> None:
    """An import job with an ambiguous address (→ an address choice) and a pair stored over its records."""
    t, o = side.tag, side.objects
    police = Source.objects.get_or_create(code="police", defaults={"name": "公安", "trust": 90})[0]
    civil = Source.objects.get_or_create(code="civil", defaults={"name": "民政", "trust": 70})[0]
    number = make_id_number("320583", date(1975, 2, 3), seq + 50, "M")
    address = f"{side.compound.name}{side.building.name}101室"
    row = [f"{t}王五", number, "", "男", address, "", "常住", ""]
    o["import_job"] = import_file(csv_bytes([row]), f"{t}p.csv", police, side.community)
    import_file(csv_bytes([[f"{t}赵六", number, "", "", address, "", "常住", ""]]), f"{t}c.csv", civil, side.community)
    first, second = SourceRecord.objects.filter(path__startswith=side.subdistrict.path).order_by("pk")[:2]
    o["record"] = second
    o["pair"] = RecordPair.objects.create(
        left=first,
        right=second,
        path=first.path,
        reason=PairReason.NAMES_DIFFER,
        probability=0.0,
        levels={"name": 0, "id_number": 3},
    )
    o["choice"] = AddressChoice.objects.filter(path__startswith=side.subdistrict.path).first()


def build_world() -> World:
    tree = build_tree()
    add_personas(tree)
    b_district, b_sub, b_comm, b_grid, b_compound, b_building, b_dept = _side_b(tree)
    volunteers.skill_seed()
    skills = {s.code: s for s in Skill.objects.all()}
    category = cases.category_create(actor=SYSTEM, code="road.pothole", name="道路坑洼", kind="event")
    a_duty = cases.assignment_save(
        actor=SYSTEM, scope=ALL, category=category, area=tree.district, departments=[tree.department]
    )
    b_duty = cases.assignment_save(actor=SYSTEM, scope=ALL, category=category, area=b_district, departments=[b_dept])

    def person(dwelling: Dwelling, name: str, seq: int) -> tuple[Person, str, str]:
        id_number = make_id_number("320583", date(1960, 5, 17), seq, "M")
        phone = f"1397755{seq:04d}"
        return (
            registry.person_create(actor=SYSTEM, name=name, id_number=id_number, phone=phone, dwelling=dwelling),
            id_number,
            phone,
        )

    a_dwelling = tree.building1.dwellings.order_by("id").first()
    b_dwelling = b_building.dwellings.order_by("id").first()
    a_person, a_id, a_phone = person(a_dwelling, "甲张安", 801)
    b_person, b_id, b_phone = person(b_dwelling, "沙溪李四", 802)
    b_resident = accounts.user_create(
        actor=SYSTEM, username="b_resident", password=PASSWORD, role=Role.RESIDENT, area=b_comm
    )
    b_worker = accounts.user_create(
        actor=SYSTEM, username="b_worker", password=PASSWORD, role=Role.COMMUNITY_WORKER, area=b_comm
    )
    a = Side(
        tag="甲",
        subdistrict=tree.yushan,
        community=tree.chengbei,
        grid=tree.grid1,
        compound=Compound.objects.get(name="阳光花园"),
        building=tree.building1,
        dwelling=a_dwelling,
        department=tree.department,
        person=a_person,
        id_number=a_id,
        phone=a_phone,
        resident=tree.users[Role.RESIDENT],
        worker=tree.users[Role.COMMUNITY_WORKER],
    )
    b = Side(
        tag="沙溪",
        subdistrict=b_sub,
        community=b_comm,
        grid=b_grid,
        compound=b_compound,
        building=b_building,
        dwelling=b_dwelling,
        department=b_dept,
        person=b_person,
        id_number=b_id,
        phone=b_phone,
        resident=b_resident,
        worker=b_worker,
    )
    _fill(a, seq=801, category=category, skills=skills, col=0, admin=tree.users[Role.ADMIN])
    _fill(b, seq=802, category=category, skills=skills, col=8, admin=tree.users[Role.ADMIN])
    a.objects["duty"], b.objects["duty"] = a_duty, b_duty
    for side in (a, b):
        missing = [name for name, obj in side.objects.items() if obj is None]
        assert not missing, f"side {side.tag} lacks {missing}"
    b_case: Case = b.objects["case"]
    b_markers = ["沙溪", "太仓市", b_id, b_phone, b_case.number]
    users = dict(tree.users)
    clients = {}
    for role, user in users.items():
        client = Client()
        client.force_login(user)
        clients[role] = client
    return World(tree, a, b, users, clients, category, b_markers, [a_id, a_phone])


@pytest.fixture(scope="module")
def world(django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    media = tmp_path_factory.mktemp("media")
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=FAST_HASHERS, MEDIA_ROOT=media):
        original_now = clock.now
        clock.now = lambda: NOW  # type: ignore[assignment]
        try:
            with transaction.atomic():
                yield build_world()
                transaction.set_rollback(True)
        finally:
            clock.now = original_now  # type: ignore[assignment]
