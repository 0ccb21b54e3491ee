"""Demo cases: duty lists for the demo departments and a few hundred cases at every stage of the loop.

Every case goes through the real services with an injected clock, so the timeline, deadlines,
assignments, audit entries and notifications are exactly what the platform would have written.
The demo accounts (``demo_accounts``) see them: they sit in the demo community and its subdistrict.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction

from grassroots.accounts import services as accounts
from grassroots.accounts.models import Department, Role, User
from grassroots.audit.services import SYSTEM
from grassroots.cases import selectors, services
from grassroots.cases.models import Case, Category, Channel
from grassroots.cases.workflow import TZ, Action, Command, Rating
from grassroots.core.scope import Scope
from grassroots.demo.management.commands.demo_accounts import DEMO_PASSWORD
from grassroots.places.models import Area, Building

# Category code prefix → district department names (the first one answers alone unless two are named).
DUTY: dict[str, tuple[str, ...]] = {
    "environment": ("城管局",),
    "facilities.streetlight_out": ("城管局",),
    "facilities.manhole_cover_missing": ("住建局", "城管局"),
    "facilities.road_damage": ("交通运输局",),
    "street_order.street_vending": ("城管局", "市场监管局"),
    "street_order.illegal_parking": ("公安分局",),
    "community": ("民政局",),
    "safety": ("应急管理局",),
}
DESCRIPTIONS: dict[str, list[str]] = {
    "environment": ["楼下垃圾桶满溢三天没人清运", "小区门口有人倾倒建筑垃圾", "电线杆上贴满小广告"],
    "facilities": ["路灯晚上不亮，行人看不清", "人行道井盖缺失，很危险", "路面塌陷一个大坑"],
    "street_order": ["早市占道经营堵住消防通道", "车辆长期占用人行道停放"],
    "community": ["楼上装修噪音影响休息", "邻居在楼道堆放杂物引发纠纷", "物业不及时维修电梯"],
    "safety": ["消防通道被车辆堵塞", "有人在楼道里给电动车充电"],
}


@dataclass
class DemoCasesReport:
    assignments: int
    cases: int


def _department(name: str) -> Department | None:
    return Department.objects.filter(name__endswith=name, area__level="district", is_active=True).first()


def demo_duty_assign(*, district: Area) -> int:
    """Map each default category to its district department(s), once."""
    made = 0
    for category in Category.objects.filter(parent__isnull=False, is_active=True):
        names = next((v for k, v in DUTY.items() if category.code.startswith(k)), None)
        departments = [d for d in (_department(n) for n in names or ()) if d is not None]
        if not departments or category.assignments.filter(area=district).exists():
            continue
        services.assignment_save(
            actor=SYSTEM, scope=Scope.everything(), category=category, area=district, departments=departments
        )
        made += 1
    for department in Department.objects.filter(duty_assignments__area=district).distinct():
        if not User.objects.filter(role=Role.DEPARTMENT_OFFICER, department=department).exists():
            accounts.user_create(
                actor=SYSTEM,
                username=f"demo_officer_{department.code.rsplit('-', 1)[-1]}",
                password=DEMO_PASSWORD,
                role=Role.DEPARTMENT_OFFICER,
                department=department,
                display_name=f"演示{department.name}",
            )
    return made


def _act(user: User, case: Case, action: Action, at: datetime, **fields: object) -> Case:
    role = selectors.acting_roles(user)[0]
    command = Command(action=action, role=role, **fields)  # type: ignore[arg-type]
    return services.case_act(
        actor=user, role=role, case_id=case.pk, expected_version=case.version, command=command, now=at
    )


def demo_cases_create(*, community: Area, count: int, seed: int, now: datetime) -> int:
    """``count`` cases reported over the last 45 days in ``community``, left at every stage of the loop."""
    rng = random.Random(seed)
    users = {u.role: u for u in User.objects.filter(username__startswith="demo_", is_active=True)}
    try:
        resident, grid_worker = users[Role.RESIDENT], users[Role.GRID_WORKER]
        community_worker = users[Role.COMMUNITY_WORKER]
    except KeyError:
        raise ValueError("demo accounts are missing: run manage.py demo_accounts first") from None
    buildings = list(Building.objects.filter(path__startswith=community.path + ".").order_by("id"))
    categories = list(Category.objects.filter(parent__isnull=False, is_active=True).order_by("code"))
    officers = {
        u.department_id: u
        for u in User.objects.filter(role=Role.DEPARTMENT_OFFICER, is_active=True).order_by("-username")
    }
    made = 0
    for _ in range(count):
        at = now - timedelta(days=rng.uniform(0.2, 45))
        at = at.replace(hour=rng.randint(8, 19), minute=rng.randint(0, 59))
        category = rng.choice(categories)
        building = rng.choice(buildings)
        reporter = resident if rng.random() < 0.6 else grid_worker
        text = rng.choice(DESCRIPTIONS[category.code.split(".")[0]])
        case = services.case_submit(
            actor=reporter,
            scope=Scope.everything(),
            channel=Channel.RESIDENT_H5 if reporter is resident else Channel.GRID_PATROL,
            category=category,
            description=text,
            building=building,
            now=at,
        ).case
        made += 1
        fate = rng.random()
        step = at + timedelta(minutes=rng.randint(10, 240))
        if fate < 0.12 or step > now:
            continue  # still waiting for triage
        if category.code.startswith("community") and fate < 0.5:
            case = _act(community_worker, case, Action.accept, step)
            case = _act(community_worker, case, Action.start, step + timedelta(hours=1))
            if step + timedelta(days=1) < now:
                case = _act(
                    community_worker,
                    case,
                    Action.resolve,
                    step + timedelta(days=1),
                    result="已上门调解，双方达成一致",
                )
            continue
        case = _act(community_worker, case, Action.whistle, step)
        answering = [officers[a.department_id] for a in case.assignments.all() if a.department_id in officers]
        if not answering or fate < 0.25:
            continue  # waiting for the department to report in (the sweep may mark it overdue)
        late = fate > 0.9  # a tenth answer after the deadline
        ack_at = (case.acknowledge_by or step) + (timedelta(hours=3) if late else -timedelta(minutes=20))
        ack_at = max(ack_at, step + timedelta(minutes=5))
        if ack_at > now:
            continue
        if fate < 0.32:
            for officer in answering:
                case = _act(officer, case, Action.reject, ack_at, reason="不属于本部门职责，建议由属地街道处理")
            continue
        for officer in answering:
            case = _act(officer, case, Action.acknowledge, ack_at)
        case = _act(answering[0], case, Action.start, ack_at + timedelta(minutes=30))
        done_at = ack_at + timedelta(hours=rng.randint(4, 120))
        if done_at > now or fate < 0.45:
            continue
        for officer in answering:
            case = _act(officer, case, Action.resolve, done_at, result="已现场处置完毕")
        verify_at = done_at + timedelta(hours=rng.randint(1, 24))
        if verify_at > now:
            continue
        # The demo grid worker verifies in their own grid; elsewhere the community does it.
        verifier = grid_worker if grid_worker.area_id == case.grid_id else community_worker
        case = _act(verifier, case, Action.begin_verification, verify_at)
        case = _act(verifier, case, Action.verify_pass, verify_at + timedelta(minutes=15))
        rate_at = verify_at + timedelta(hours=rng.randint(1, 48))
        if reporter is resident and rate_at < now and fate < 0.85:
            rating = rng.choices(list(Rating), weights=[7, 2, 1])[0]
            _act(resident, case, Action.evaluate, rate_at, rating=rating, comment="")
    return made


def demo_cases(*, count: int = 300, seed: int = 2026, now: datetime | None = None) -> DemoCasesReport:
    """Seed the demo community's cases once; a second run adds nothing."""
    now = now or datetime.now(TZ)
    resident = User.objects.filter(username="demo_resident").select_related("area").first()
    if resident is None or resident.area is None:
        raise ValueError("demo accounts are missing: run manage.py demo_accounts first")
    community = resident.area
    district = community.parent.parent if community.parent else None
    if district is None:
        raise ValueError("the demo community has no district above it")
    assignments = demo_duty_assign(district=district)
    if Case.objects.filter(path__startswith=community.path + ".").exists():
        return DemoCasesReport(assignments, 0)
    with transaction.atomic():  # all or nothing, so a failed run can simply be repeated
        made = demo_cases_create(community=community, count=count, seed=seed, now=now)
    return DemoCasesReport(assignments, made)
