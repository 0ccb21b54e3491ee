"""Demo forces: the party tree, members, check-ins, alliances, and the volunteers of the demo community.

Everything goes through the party, registry and volunteers services (with an injected clock where
the past is replayed: a check-in confirmed in spring, an activity attended in June), so audit
entries, service records from attendance and proposals are exactly what the platform would write.
Party writes act as ``SYSTEM``; volunteers' services need a user holding ``volunteers.manage``, so
the demo community worker records them (as the community would). Scope: the demo accounts'
subdistrict (party tree, alliances) and community (members, volunteers). No mobilisation: a
leader starts that.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar
from unittest import mock

from django.db import transaction
from django.db.models import Model, Q
from django.utils import timezone

from grassroots.accounts.models import Role, User
from grassroots.audit.services import SYSTEM
from grassroots.cases.workflow import TZ
from grassroots.core import clock
from grassroots.core.scope import Scope
from grassroots.demo import names
from grassroots.party import services as party
from grassroots.party.models import (
    Alliance,
    AllianceItem,
    AllianceMember,
    Checkin,
    CommitteeSeat,
    ItemStatus,
    ListKind,
    MemberKind,
    OrgLevel,
    Pairing,
    PartyMember,
    PartyOrg,
    RotationDuty,
    ServiceKind,
    ServiceRecord,
)
from grassroots.party.services import alliances
from grassroots.places.models import Area, AreaLevel, Building, Entrance, GridKind
from grassroots.registry.models import Person, Unit, UnitKind
from grassroots.registry.services.units import unit_create
from grassroots.volunteers import services as vol
from grassroots.volunteers.models import (
    Activity,
    BuildingRole,
    BuildingRoleKind,
    Match,
    Need,
    Project,
    Resource,
    Signup,
    Skill,
    Team,
    TeamKind,
    Volunteer,
)

T = TypeVar("T")
EVERYTHING = Scope.everything()

REGULAR_SHARE = 0.06  # of the demo community's adults
EMPLOYED_SHARE = 0.012
VOLUNTEER_SHARE = 0.02
MIN_UNITS = 12

# (name pattern, kind); ``{s}`` is the subdistrict's name. The first ones sit in the demo community.
UNITS: list[tuple[str, str]] = [
    ("{s}社区卫生服务中心", UnitKind.AGENCY),
    ("昆山农商银行{s}支行", UnitKind.ENTERPRISE),
    ("{s}中心小学", UnitKind.AGENCY),
    ("昆山启明律师事务所", UnitKind.ENTERPRISE),
    ("惠民大药房{s}店", UnitKind.SHOP),
    ("昆山和美社会工作服务社", UnitKind.SOCIAL_ORG),
    ("国网昆山供电公司{s}供电所", UnitKind.ENTERPRISE),
    ("昆山华扬电子科技有限公司", UnitKind.ENTERPRISE),
    ("{s}文化体育站", UnitKind.AGENCY),
    ("苏州恒信精密机械有限公司", UnitKind.ENTERPRISE),
    ("中国移动昆山{s}营业厅", UnitKind.ENTERPRISE),
    ("昆山市税务局{s}税务所", UnitKind.AGENCY),
    ("昆山安居物业服务有限公司", UnitKind.ENTERPRISE),
    ("老街便民维修部", UnitKind.SHOP),
]
SKILLS_WORDS = ["水电维修", "法律咨询", "理发", "健康义诊", "书法", "电脑维修", "心理疏导", "家电维修", "英语辅导"]
WISHES = ["参加社区志愿服务", "结对帮扶困难家庭", "参与矛盾调解", "参与环境整治", "关爱空巢老人"]
SERVICES: dict[str, list[str]] = {
    ServiceKind.VOLUNTEER: [
        "参加小区环境整治",
        "文明交通劝导",
        "为独居老人送餐",
        "反诈宣传进楼栋",
        "垃圾分类桶边督导",
        "社区图书室值班",
    ],
    ServiceKind.PROBLEM: [
        "协调修复楼道照明",
        "帮助老人办理医保转移",
        "协调解决小区停车纠纷",
        "联系物业疏通下水管道",
        "为困难家庭申请临时救助",
    ],
}
ITEMS: dict[str, list[str]] = {
    ListKind.INFORMATION: ["辖区企业用工信息汇总", "共建单位联络人名册", "季度党建联席会议纪要"],
    ListKind.RESOURCES: ["会议室周末向居民开放", "法律顾问每月坐班一次", "志愿者车辆接送服务", "职工食堂爱心餐"],
    ListKind.NEEDS: ["老旧小区加装电梯协调", "青少年暑期托管场地", "独居老人定期探访"],
    ListKind.RISKS: ["沿街商铺消防通道占用", "老旧电线私拉乱接", "汛期低洼地段积水"],
    ListKind.TASKS: ["开展平安创建联合巡防", "组织“党员进楼栋”主题活动", "完成年度共建项目签约"],
}
SEAT_POSTS = [("书记", False, ""), ("副书记", False, ""), ("委员", False, ""), ("委员", False, "")]
PART_TIME = ["派出所", "城管中队"]
ACTIVITIES: list[tuple[str, str, str, bool]] = [
    # (title, place, skill code, solves a practical problem)
    ("小区环境大扫除", "小区中心广场", "cleaning", False),
    ("义诊进社区", "社区党群服务中心", "medical", False),
    ("家电义务维修", "社区党群服务中心门前", "repair", True),
    ("法律咨询进楼栋", "社区会议室", "legal", True),
    ("关爱空巢老人走访", "各楼栋", "companionship", False),
    ("反诈宣传", "小区东门", "", False),
    ("垃圾分类督导", "各垃圾分类投放点", "cleaning", False),
    ("邻里纠纷调解日", "社区调解室", "mediation", True),
    ("青少年暑期课堂", "社区活动室", "education", False),
    ("文艺汇演排练", "社区文化活动室", "culture", False),
]
UPCOMING: list[tuple[str, str, str, bool]] = [
    ("冬季消防安全宣传", "小区中心广场", "rescue", False),
    ("为高龄老人上门理发", "各楼栋", "elder_care", False),
    ("楼道杂物清理", "各楼栋", "cleaning", True),
    ("迎新春写春联", "社区文化活动室", "culture", False),
]
NEEDS: list[tuple[str, str, int]] = [
    ("独居老人每周上门陪伴", "companionship", 2),
    ("高龄老人家中水管漏水维修", "repair", 1),
    ("残疾人家庭法律援助咨询", "legal", 1),
    ("困难家庭孩子课业辅导", "education", 2),
    ("失能老人康复护理指导", "elder_care", 1),
    ("慢病老人定期血压测量", "medical", 3),
    ("楼道照明线路检修", "repair", 1),
    ("邻里矛盾心理疏导", "psychological", 1),
]
RESOURCES: list[tuple[str, str, int]] = [
    ("家电及水电义务维修", "repair", 3),
    ("每月一次免费法律咨询", "legal", 2),
    ("家庭医生上门随访", "medical", 4),
    ("助老陪伴志愿服务", "companionship", 3),
    ("学业辅导志愿服务", "education", 2),
    ("养老照护培训与指导", "elder_care", 1),
    ("心理咨询热线与面谈", "psychological", 1),
]


@dataclass
class DemoForcesReport:
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@contextmanager
def _at(moment: datetime) -> Iterator[None]:
    """Run services as if it were ``moment`` (they read the time through ``core.clock``)."""
    with mock.patch.object(clock, "now", lambda: moment):
        yield


def _inside(path: str) -> Q:
    return Q(path=path) | Q(path__startswith=path + ".")


def _moment(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=TZ)


def _day_between(rng: random.Random, first: date, last: date) -> date:
    return first + timedelta(days=rng.randint(0, max(0, (last - first).days)))


def _pick(rng: random.Random, items: Sequence[T], k: int) -> list[T]:
    return rng.sample(list(items), min(k, len(items)))


def _years_after(day: date, years: int) -> date:
    return date(day.year + years, day.month, min(day.day, 28))


def forces_counts(root_path: str) -> dict[str, int]:
    """Rows of every party and volunteers table scoped inside ``root_path`` (those without a path by parent)."""
    inside = _inside(root_path)
    alliances_in = Alliance.objects.filter(inside).values("pk")
    models: list[tuple[str, type[Model], Q]] = [
        ("party_orgs", PartyOrg, inside),
        ("committee_seats", CommitteeSeat, inside),
        ("party_members", PartyMember, inside),
        ("checkins", Checkin, inside),
        ("service_records", ServiceRecord, inside),
        ("alliances", Alliance, inside),
        ("alliance_members", AllianceMember, inside),
        ("pairings", Pairing, inside),
        ("rotation_duties", RotationDuty, Q(alliance_id__in=alliances_in)),
        ("alliance_items", AllianceItem, inside),
        ("units", Unit, inside),
        ("building_roles", BuildingRole, inside),
        ("volunteers", Volunteer, inside),
        ("teams", Team, inside),
        ("activities", Activity, inside),
        ("signups", Signup, inside),
        ("needs", Need, inside),
        ("resources", Resource, inside),
        ("matches", Match, inside),
        ("projects", Project, inside),
    ]
    return {label: model._default_manager.filter(q).count() for label, model, q in models}


class ForcesWriter:
    """Writes the demo forces of one subdistrict and its demo community; one instance per run."""

    def __init__(self, *, worker: User, seed: int, now: datetime) -> None:
        assert worker.area is not None and worker.area.parent is not None
        self.worker = worker
        self.community: Area = worker.area
        self.subdistrict: Area = worker.area.parent
        self.rng = random.Random(seed)
        self.now = now
        self.today = timezone.localdate(now, TZ)
        self.year = self.today.year
        self.year_start = date(self.year, 1, 1)
        self.grids = {
            a.path: a
            for a in Area.objects.filter(_inside(self.subdistrict.path), level=AreaLevel.GRID).order_by("path")
        }
        self.branches: dict[str, PartyOrg] = {}
        self.committees: dict[int, PartyOrg] = {}
        self.units: list[Unit] = []
        self.skills = {s.code: s for s in Skill.objects.order_by("sort", "code")}

    def name(self, birth_year: int | None = None) -> str:
        sex = self.rng.choice("MF")
        return names.full_name(self.rng, sex, birth_year or self.rng.randint(1965, 1990))

    # --- units ----------------------------------------------------------------------------------

    def make_units(self) -> None:
        existing = list(Unit.objects.filter(_inside(self.subdistrict.path)).order_by("id"))
        if len(existing) >= MIN_UNITS:
            self.units = existing
            return
        here = list(Building.objects.filter(_inside(self.community.path)).order_by("id"))
        offices = [b for b in here if b.typology == "non_residential"] or here
        elsewhere = list(
            Building.objects.filter(_inside(self.subdistrict.path)).exclude(_inside(self.community.path)).order_by("id")
        )
        taken = {u.name for u in existing}
        short = self.subdistrict.name
        created = []
        for index, (pattern, kind) in enumerate(UNITS):
            name = pattern.format(s=short)
            if name in taken:
                continue
            pool = offices if index < 8 or not elsewhere else elsewhere
            with _at(self.now - timedelta(days=400)):
                created.append(
                    unit_create(
                        actor=SYSTEM,
                        scope=EVERYTHING,
                        name=name,
                        kind=kind,
                        building=self.rng.choice(pool),
                        contact_name=self.name(),
                    )
                )
        self.units = existing + created

    # --- the organisation tree -----------------------------------------------------------------

    def make_tree(self, secretaries: dict[str, Person]) -> None:
        founded = date(self.year - 6, 7, 1)
        top = party.org_create(
            actor=SYSTEM,
            scope=EVERYTHING,
            level=OrgLevel.WORKING_COMMITTEE,
            name=f"中共{self.subdistrict.name}工作委员会",
            area=self.subdistrict,
            founded_on=founded,
        )
        self._seats(top, [("书记", False, ""), ("副书记", False, ""), ("委员", False, ""), ("委员", False, "")])
        communities = list(Area.objects.filter(parent=self.subdistrict, level=AreaLevel.COMMUNITY).order_by("code"))
        skip = self._grids_without_branch(communities)
        for community in communities:
            committee = party.org_create(
                actor=SYSTEM,
                scope=EVERYTHING,
                level=OrgLevel.COMMUNITY_COMMITTEE,
                name=f"中共{community.name}委员会",
                area=community,
                parent=top,
                secretary=secretaries.get(community.path),
                founded_on=founded + timedelta(days=30),
            )
            self.committees[community.pk] = committee
            seats = [*SEAT_POSTS, *(("兼职委员", True, f"{self.subdistrict.name}{d}") for d in PART_TIME)]
            person = secretaries.get(community.path)
            self._seats(committee, seats, first=person)
            if self.units and self.rng.random() < 0.7:
                party.seat_add(
                    actor=SYSTEM,
                    scope=EVERYTHING,
                    org=committee,
                    name=self.name(),
                    post="兼职委员",
                    since=date(self.year - 2, 3, 1),
                    from_unit=self.rng.choice(self.units),
                )
            for grid in sorted((g for g in self.grids.values() if g.parent_id == community.pk), key=lambda g: g.path):
                if grid.grid_kind not in (GridKind.COMPREHENSIVE, GridKind.DEDICATED) or grid.pk in skip:
                    continue
                self.branches[grid.path] = party.org_create(
                    actor=SYSTEM,
                    scope=EVERYTHING,
                    level=OrgLevel.GRID_BRANCH,
                    name=f"{grid.name}党支部",
                    area=grid,
                    parent=committee,
                    secretary=secretaries.get(grid.path),
                    founded_on=founded + timedelta(days=60 + self.rng.randint(0, 900)),
                )

    def _grids_without_branch(self, communities: list[Area]) -> set[int]:
        """The demo community's last comprehensive grid, and another community's dedicated grid."""
        skip: set[int] = set()
        own = [g for g in self.grids.values() if g.parent_id == self.community.pk]
        comprehensive = sorted((g for g in own if g.grid_kind == GridKind.COMPREHENSIVE), key=lambda g: g.path)
        if len(comprehensive) > 1:
            skip.add(comprehensive[-1].pk)
        others = [c for c in communities if c.pk != self.community.pk]
        for other in others[:1]:
            dedicated = [
                g for g in self.grids.values() if g.parent_id == other.pk and g.grid_kind == GridKind.DEDICATED
            ]
            skip.update(g.pk for g in dedicated[:1])
        return skip

    def _seats(self, org: PartyOrg, seats: Sequence[tuple[str, bool, str]], first: Person | None = None) -> None:
        for index, (post, part_time, department) in enumerate(seats):
            person = first if index == 0 else None
            party.seat_add(
                actor=SYSTEM,
                scope=EVERYTHING,
                org=org,
                name=person.name if person else self.name(),
                person=person,
                post=post,
                part_time=part_time,
                from_department=department,
                since=date(self.year - 2, 3, 1) if index else date(self.year - 3, 11, 1),
            )

    def make_groups(self) -> int:
        made, used = 0, set()
        buildings = Building.objects.filter(_inside(self.community.path)).exclude(typology="non_residential")
        for building in buildings.order_by("id"):
            branch = self.branches.get(building.path)
            if branch is None or self.rng.random() > 0.3:
                continue
            name = f"{building.name}党小组"
            if (branch.pk, name) in used:
                name = f"{building.name}（{building.pk}）党小组"
            used.add((branch.pk, name))
            party.org_create(
                actor=SYSTEM,
                scope=EVERYTHING,
                level=OrgLevel.BUILDING_GROUP,
                name=name,
                area=self.grids[building.path],
                parent=branch,
                building=building,
                founded_on=_day_between(self.rng, date(self.year - 4, 1, 1), date(self.year - 1, 12, 31)),
            )
            made += 1
        return made

    # --- members, check-ins, services -------------------------------------------------------------

    def org_for(self, person: Person) -> PartyOrg:
        branch = self.branches.get(person.path)
        return branch or self.committees[self.community.pk]

    def joined_on(self, person: Person) -> date:
        last = self.today - timedelta(days=90)
        return _day_between(self.rng, min(_years_after(person.birth_date, 19), last), last)

    def make_members(self, regular: list[Person], employed: list[Person], migrant: list[Person]) -> list[PartyMember]:
        employers = self.units
        made: list[PartyMember] = []
        for person in regular:
            made.append(
                party.member_create(
                    actor=SYSTEM,
                    scope=EVERYTHING,
                    person=person,
                    kind=MemberKind.REGULAR,
                    org=self.org_for(person),
                    residence_area=self.grids.get(person.path) or self.community,
                    joined_on=self.joined_on(person),
                )
            )
        for kind, people in ((MemberKind.EMPLOYED, employed), (MemberKind.MIGRANT, migrant)):
            for person in people:
                made.append(
                    party.member_create(
                        actor=SYSTEM,
                        scope=EVERYTHING,
                        person=person,
                        kind=kind,
                        employer=self.rng.choice(employers) if kind == MemberKind.EMPLOYED and employers else None,
                        residence_area=self.grids.get(person.path) or self.community,
                        joined_on=self.joined_on(person),
                    )
                )
        return made

    def make_checkins(self, employed: list[PartyMember]) -> list[PartyMember]:
        """Most confirmed, a few pending (lately), one returned; answers the confirmed members."""
        confirmed: list[PartyMember] = []
        last = len(employed) - 1
        for index, member in enumerate(employed):
            fate = "returned" if index == last else ("pending" if index % 8 == 3 else "confirmed")
            if fate == "pending":
                asked = self.now - timedelta(days=self.rng.randint(1, 10), hours=self.rng.randint(0, 8))
            else:
                asked = _moment(_day_between(self.rng, date(self.year - 1, 3, 1), self.today - timedelta(days=60)), 9)
                asked += timedelta(minutes=self.rng.randint(0, 600))
            with _at(asked):
                checkin = party.checkin_request(
                    actor=SYSTEM,
                    community=self.community,
                    person=member.person,
                    skills=self.rng.choice(SKILLS_WORDS),
                    wishes=self.rng.choice(WISHES),
                )
            if fate == "pending":
                continue
            with _at(asked + timedelta(days=self.rng.randint(1, 5), hours=2)):
                if fate == "returned":
                    party.checkin_return(
                        actor=SYSTEM,
                        scope=EVERYTHING,
                        checkin=checkin,
                        reason="工作单位信息与登记不符，请核实后重新报到",
                    )
                else:
                    party.checkin_confirm(actor=SYSTEM, scope=EVERYTHING, checkin=checkin)
                    confirmed.append(member)
        return confirmed

    def make_services(self, confirmed: list[PartyMember]) -> int:
        """This year's services of checked-in members: about 40 % meet both targets on their own."""
        made = 0
        last_day = self.today - timedelta(days=1)
        for member in confirmed:
            roll = self.rng.random()
            if roll < 0.4:  # meets both targets (unless a service is still unconfirmed)
                volunteer, problems = 2 + self.rng.randint(0, 2), 1 + self.rng.randint(0, 1)
            elif roll < 0.8:
                volunteer, problems = self.rng.randint(0, 1), 0
            else:
                volunteer, problems = 0, 0
            for kind, times in ((ServiceKind.VOLUNTEER, volunteer), (ServiceKind.PROBLEM, problems)):
                for _ in range(times):
                    on = _day_between(self.rng, self.year_start, last_day)
                    party.service_record_add(
                        actor=SYSTEM,
                        member=member,
                        kind=kind,
                        on=on,
                        description=self.rng.choice(SERVICES[kind]),
                        path=self.community.path,
                        hours=self.rng.choice([1, 1.5, 2, 3]),
                        confirmed=self.rng.random() < 0.85,
                    )
                    made += 1
        return made

    # --- alliances -----------------------------------------------------------------------------

    def make_alliances(self) -> None:
        communities = list(Area.objects.filter(parent=self.subdistrict, level=AreaLevel.COMMUNITY).order_by("code"))
        for community in communities:
            alliance = alliances.alliance_create(
                actor=SYSTEM,
                scope=EVERYTHING,
                area=community,
                name=f"{community.name}党建联盟",
                lead_org=self.committees.get(community.pk),
            )
            members = _pick(self.rng, self.units, self.rng.randint(5, 8))
            for index, unit in enumerate(members):
                # One unit joined this spring: the rotation lets it catch up without overtaking.
                late = index == len(members) - 1 and self.today >= date(self.year, 5, 1)
                joined = date(self.year, 4, 1) if late else date(self.year - 1, self.rng.randint(1, 12), 1)
                alliances.member_add(
                    actor=SYSTEM,
                    scope=EVERYTHING,
                    alliance=alliance,
                    unit=unit,
                    joined_on=joined,
                    contact_name=unit.contact_name or self.name(),
                )
            for unit in _pick(self.rng, members, self.rng.randint(1, 2)):
                alliances.pairing_create(
                    actor=SYSTEM,
                    scope=EVERYTHING,
                    unit=unit,
                    community=community,
                    since=date(self.year - 1, self.rng.randint(1, 12), 1),
                    content=self.rng.choice(
                        ["共建党员活动阵地", "结对帮扶困难家庭", "共同开展志愿服务", "支持老旧小区改造"]
                    ),
                )
            alliances.rotation_generate(
                actor=SYSTEM, scope=EVERYTHING, alliance=alliance, year=self.year, length="month", rewrite_past=True
            )
            for kind, titles in ITEMS.items():
                for title in _pick(self.rng, titles, self.rng.randint(2, 3)):
                    owner = self.rng.choice(members)
                    item = alliances.item_create(
                        actor=SYSTEM,
                        scope=EVERYTHING,
                        alliance=alliance,
                        kind=kind,
                        title=title,
                        owner_unit=owner,
                        owner_name=owner.contact_name,
                        due_on=self.today + timedelta(days=self.rng.randint(-60, 120)),
                    )
                    status = self.rng.choice(
                        [ItemStatus.OPEN, ItemStatus.IN_PROGRESS, ItemStatus.IN_PROGRESS, ItemStatus.DONE]
                    )
                    if status != ItemStatus.OPEN:
                        alliances.item_set_status(actor=SYSTEM, scope=EVERYTHING, item=item, status=status)

    # --- volunteers ----------------------------------------------------------------------------

    def make_volunteers(self, people: list[Person], talents: int) -> list[Volunteer]:
        codes = list(self.skills)
        made = []
        for index, person in enumerate(people):
            talent = index < talents
            skills = [self.skills[c] for c in _pick(self.rng, codes, self.rng.randint(1, 3))] if codes else []
            note = f"擅长{'、'.join(s.name for s in skills)}" if talent and skills else ("社区能人" if talent else "")
            made.append(
                vol.volunteer_register(
                    actor=self.worker,
                    person=person,
                    skills=skills if talent or self.rng.random() < 0.5 else [],
                    is_talent=talent,
                    talent_note=note,
                    weekly_hours=self.rng.choice([2, 2, 4, 6]),
                    registered_on=_day_between(self.rng, date(self.year - 2, 1, 1), self.today - timedelta(days=30)),
                )
            )
        return made

    def make_building_roles(self, adults: list[Person]) -> tuple[int, int]:
        by_building: dict[int, list[Person]] = defaultdict(list)
        by_entrance: dict[int, list[Person]] = defaultdict(list)
        for person in adults:
            if person.dwelling is not None:
                by_building[person.dwelling.building_id].append(person)
                by_entrance[person.dwelling.entrance_id].append(person)
        heads = entrance_heads = 0
        since = date(self.year - 1, 1, 1)
        buildings = Building.objects.filter(_inside(self.community.path), pk__in=list(by_building)).order_by("id")
        for building in buildings:
            if self.rng.random() < 0.12:
                continue  # still looking for a building head
            vol.building_role_appoint(
                actor=self.worker,
                kind=BuildingRoleKind.BUILDING_HEAD,
                person=self.rng.choice(by_building[building.pk]),
                building=building,
                since=since,
            )
            heads += 1
        entrances = Entrance.objects.filter(pk__in=list(by_entrance)).select_related("building").order_by("id")
        for entrance in entrances:
            if self.rng.random() < 0.6:
                continue
            vol.building_role_appoint(
                actor=self.worker,
                kind=BuildingRoleKind.ENTRANCE_HEAD,
                person=self.rng.choice(by_entrance[entrance.pk]),
                building=entrance.building,
                entrance=entrance,
                since=since,
            )
            entrance_heads += 1
        for building_id in _pick(self.rng, sorted(by_building), 4):
            building = Building.objects.get(pk=building_id)
            vol.building_role_appoint(
                actor=self.worker,
                kind=BuildingRoleKind.CENTRAL_HOUSEHOLD,
                person=self.rng.choice(by_building[building_id]),
                building=building,
                since=since,
            )
        return heads, entrance_heads

    def make_teams(self, regular: list[PartyMember], confirmed: list[PartyMember], volunteers: list[Volunteer]) -> Team:
        formed = date(self.year - 1, 6, 1)
        vanguard = vol.team_create(
            actor=self.worker,
            name=f"{self.community.name}党员先锋队",
            kind=TeamKind.VANGUARD,
            area=self.community,
            leader=regular[0].person if regular else None,
            formed_on=formed,
        )
        for member in _pick(self.rng, regular[1:], 8) + _pick(self.rng, confirmed, 4):
            vol.team_member_add(actor=self.worker, team=vanguard, person=member.person)
        branch = vol.team_create(
            actor=self.worker,
            name=f"{self.community.name}应急行动支部",
            kind=TeamKind.ACTION_BRANCH,
            area=self.community,
            leader=regular[1].person if len(regular) > 1 else None,
            formed_on=formed + timedelta(days=90),
        )
        taken = {branch.leader_id}
        for person in [m.person for m in _pick(self.rng, regular[2:], 6)] + [
            v.person for v in _pick(self.rng, volunteers, 6)
        ]:
            if person.pk not in taken:
                taken.add(person.pk)
                vol.team_member_add(actor=self.worker, team=branch, person=person)
        return vanguard

    def make_activities(self, people: list[Person], team: Team) -> tuple[int, int]:
        """Past activities with attendance (party members' attendance becomes service records), upcoming ones."""
        past = upcoming = 0
        span = (self.today - timedelta(days=3) - self.year_start).days
        for index, (title, place, code, solves) in enumerate(ACTIVITIES):
            day = self.year_start + timedelta(days=int(span * (index + 0.5) / len(ACTIVITIES)))
            starts = _moment(day, self.rng.choice([9, 14]))
            if starts + timedelta(hours=4) >= self.now:
                continue
            created = starts - timedelta(days=7)
            activity = self._activity(title, place, code, solves, starts, team if index % 3 == 0 else None, 0, created)
            signups = self._signups(activity, people, self.rng.randint(8, 16), starts - timedelta(days=6))
            with _at(activity.ends_at + timedelta(minutes=30)):
                for signup in signups:
                    roll = self.rng.random()
                    if roll < 0.05:
                        vol.signup_withdraw(actor=self.worker, signup=signup)
                        continue
                    attended = roll < 0.88
                    length = vol.activity_hours(activity)
                    hours = length if self.rng.random() < 0.7 or length <= 1 else length - 1
                    vol.attendance_record(actor=self.worker, signup=signup, attended=attended, hours=hours)
            past += 1
        for index, (title, place, code, solves) in enumerate(UPCOMING):
            day = self.today + timedelta(days=3 + index * 5)
            starts = _moment(day, self.rng.choice([9, 14]))
            created = self.now - timedelta(days=6)
            activity = self._activity(title, place, code, solves, starts, team if index == 0 else None, 20, created)
            self._signups(activity, people, self.rng.randint(4, 12), self.now - timedelta(days=5))
            upcoming += 1
        return past, upcoming

    def _activity(
        self,
        title: str,
        place: str,
        code: str,
        solves: bool,
        starts: datetime,
        team: Team | None,
        capacity: int,
        created: datetime,
    ) -> Activity:
        with _at(created):
            return vol.activity_create(
                actor=self.worker,
                title=title,
                area=self.community,
                place=place,
                starts_at=starts,
                ends_at=starts + timedelta(hours=self.rng.choice([2, 2, 3])),
                capacity=capacity,
                skill=self.skills.get(code),
                team=team,
                solves_problem=solves,
                description=f"{self.community.name}组织的志愿活动：{title}。",
            )

    def _signups(self, activity: Activity, people: list[Person], count: int, first: datetime) -> list[Signup]:
        made = []
        for person in _pick(self.rng, people, count):
            with _at(first + timedelta(hours=self.rng.randint(0, 100))):
                made.append(vol.signup_add(actor=self.worker, activity=activity, person=person))
        return made

    def make_needs(self, volunteers: list[Volunteer], elders: list[Person]) -> int:
        """Needs and resources, one proposal run, and the best proposal accepted as a project."""
        with _at(self.now - timedelta(days=3)):
            for index, (title, code, demand) in enumerate(NEEDS):
                if code not in self.skills:
                    continue
                raised = elders[index % len(elders)] if elders else None
                vol.need_create(
                    actor=self.worker,
                    title=title,
                    skill=self.skills[code],
                    area=self.grids.get(raised.path, self.community) if raised else self.community,
                    demand=demand,
                    raised_by=raised,
                    due_on=self.today + timedelta(days=self.rng.randint(7, 45)),
                )
            talents = [v for v in volunteers if v.is_talent]
            local_units = [
                u for u in self.units if u.path == self.community.path or u.path.startswith(self.community.path + ".")
            ]
            for index, (title, code, capacity) in enumerate(RESOURCES):
                if code not in self.skills:
                    continue
                unit = local_units[index % len(local_units)] if local_units and index % 2 == 0 else None
                volunteer = talents[index % len(talents)] if talents and unit is None else None
                vol.resource_create(
                    actor=self.worker,
                    title=title,
                    skill=self.skills[code],
                    area=self.community,
                    capacity=capacity,
                    unit=unit,
                    volunteer=volunteer,
                )
        with _at(self.now - timedelta(days=2)):
            proposal = vol.matches_propose(actor=self.worker, area=self.community)
        if not proposal.matches:
            return 0
        best = sorted(proposal.matches, key=lambda m: (-m.score, m.need_id, m.resource_id))[0]
        with _at(self.now - timedelta(days=1)):
            project = vol.match_accept(actor=self.worker, match=best)
        with _at(self.now - timedelta(hours=3)):
            vol.project_update(actor=self.worker, project=project, progress=40, note="已与需求方对接，完成首次上门服务")
        return len(proposal.matches)


def _demo_worker() -> User:
    worker = (
        User.objects.filter(username="demo_community_worker", role=Role.COMMUNITY_WORKER, is_active=True)
        .select_related("area", "area__parent")
        .first()
    )
    if worker is None or worker.area is None or worker.area.parent is None:
        raise ValueError("demo accounts are missing: run manage.py demo_city and manage.py demo_accounts first")
    return worker


def demo_forces_present(subdistrict: Area, community: Area) -> bool:
    return (
        PartyOrg.objects.filter(_inside(subdistrict.path)).exists()
        or Alliance.objects.filter(_inside(subdistrict.path)).exists()
        or Volunteer.objects.filter(_inside(community.path)).exists()
        or Activity.objects.filter(_inside(community.path)).exists()
    )


def demo_forces(*, seed: int = 2026, now: datetime | None = None) -> DemoForcesReport:
    """Seed the party and volunteer forces of the demo subdistrict once; a second run adds nothing."""
    now = now or clock.now()
    worker = _demo_worker()
    community, subdistrict = worker.area, worker.area.parent  # type: ignore[union-attr]
    assert community is not None and subdistrict is not None
    if demo_forces_present(subdistrict, community):
        return DemoForcesReport()
    if not Skill.objects.exists():
        raise ValueError("no skills yet: run manage.py seed_skills first")
    with transaction.atomic():  # all or nothing, so a failed run can simply be repeated
        _write(ForcesWriter(worker=worker, seed=seed, now=now))
    return DemoForcesReport(forces_counts(subdistrict.path))


def _write(w: ForcesWriter) -> None:
    rng = w.rng
    today = w.today
    adults = list(
        Person.objects.filter(_inside(w.community.path), birth_date__lte=_years_after(today, -18))
        .select_related("dwelling")
        .order_by("id")
    )
    if not adults:
        raise ValueError("the demo community has no residents: run manage.py demo_city first")
    working_age = [p for p in adults if _years_after(today, -58) <= p.birth_date <= _years_after(today, -23)]
    employed_people = _pick(rng, working_age, max(8, round(len(adults) * EMPLOYED_SHARE)))
    taken = {p.pk for p in employed_people}
    migrant_people = _pick(rng, [p for p in working_age if p.pk not in taken], 3)
    taken.update(p.pk for p in migrant_people)
    regular_people = _pick(rng, [p for p in adults if p.pk not in taken], max(10, round(len(adults) * REGULAR_SHARE)))
    regular_people.sort(key=lambda p: p.pk)
    taken.update(p.pk for p in regular_people)
    secretaries: dict[str, Person] = {}
    for person in regular_people:
        secretaries.setdefault(person.path, person)
    secretaries[w.community.path] = regular_people[0]

    w.make_units()
    w.make_tree(secretaries)
    w.make_groups()
    members = w.make_members(regular_people, employed_people, migrant_people)
    by_kind: dict[str, list[PartyMember]] = defaultdict(list)
    for member in members:
        by_kind[member.kind].append(member)
    confirmed = w.make_checkins(by_kind[MemberKind.EMPLOYED])
    w.make_services(confirmed)
    w.make_alliances()

    others = [p for p in adults if p.pk not in taken]
    volunteer_people = _pick(rng, others, max(12, round(len(adults) * VOLUNTEER_SHARE)))
    volunteer_people += [m.person for m in _pick(rng, by_kind[MemberKind.REGULAR], 10)]
    volunteers = w.make_volunteers(volunteer_people, talents=max(6, len(volunteer_people) // 8))
    w.make_building_roles(adults)
    team = w.make_teams(by_kind[MemberKind.REGULAR], confirmed, volunteers)
    signers = [v.person for v in volunteers] + [m.person for m in confirmed]
    people = list({p.pk: p for p in signers}.values())
    w.make_activities(people, team)
    elders = [p for p in adults if p.birth_date <= _years_after(today, -75) and p.pk not in taken]
    w.make_needs(volunteers, _pick(rng, elders, len(NEEDS)))


def describe(counts: dict[str, Any]) -> str:
    return ", ".join(f"{label} {n}" for label, n in counts.items())
