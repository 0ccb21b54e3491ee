"""Shared insight fixtures: the case measures' November (tests/cases/test_measures.py) plus a small,
hand-counted registry, workers and service centres on the same tree.

    grid1 (城北, building1 = 400 households): 3 residents, 1 complete (phone, dwelling, household, ethnicity)
    grid2 (城北, no buildings, 0 households)
    grid3 (城南, building3 = 2,500 households): 1 resident with a phone, dwelling, no household: incomplete
    grid4 (周市社区, no buildings)
    workers: 1 at 城北, 1 at grid3 (城南)
    centres: 城北 100 m² (400 households need 120: fails), 城南 800 m² (2,500 need 750: meets); 周市社区 none
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import pytest

from grassroots.accounts.models import Post, User, WorkerProfile
from grassroots.audit.services import SYSTEM
from grassroots.core.ids import make_id_number
from grassroots.engage.models_services import ServiceCentre
from grassroots.places.models import Building
from grassroots.registry import services as registry
from grassroots.registry.models import Household, Person
from tests.cases.test_measures import NOW, World, build
from tests.factories import Tree


@dataclass
class InsightWorld:
    tree: Tree
    cases: World
    now: datetime = NOW


def add_registry(tree: Tree) -> None:
    Building.objects.filter(pk=tree.building1.pk).update(households=400)
    Building.objects.filter(pk=tree.building3.pk).update(households=2500)
    dwelling = tree.building1.dwellings.order_by("id").first()
    people = [
        registry.person_create(
            actor=SYSTEM,
            name=name,
            id_number=make_id_number("320583", date(1960 + i, 3, 9), 10 + i, "M"),
            phone=f"1391234{i:04d}",
            dwelling=dwelling,
        )
        for i, name in enumerate(["李明", "王芳", "赵强"])
    ]
    household = Household.objects.create(dwelling=dwelling, path=people[0].path, head_name="李明")
    Person.objects.filter(pk=people[0].pk).update(household=household, ethnicity="汉族")
    Person.objects.filter(pk=people[1].pk).update(ethnicity="汉族")  # no household: incomplete
    registry.person_create(
        actor=SYSTEM,
        name="孙丽",
        id_number=make_id_number("320583", date(1980, 1, 1), 20, "F"),
        phone="13912340099",
        dwelling=tree.building3.dwellings.order_by("id").first(),
    )
    for username, area in (("worker_bei", tree.chengbei), ("worker_g3", tree.grid3)):
        user = User.objects.create(username=username, role="community_worker", area=area)
        WorkerProfile.objects.create(user=user, area=area, path=area.path, post=Post.STAFF, grade=3)
    for community, m2 in ((tree.chengbei, "100"), (tree.chengnan, "800")):
        ServiceCentre.objects.create(
            community=community,
            path=community.path,
            name=f"{community.name}党群服务中心",
            floor_area=Decimal(m2),
            updated_at=NOW,
        )


@pytest.fixture
def insight_world(tree: Tree) -> InsightWorld:
    cases = build(tree)
    add_registry(tree)
    return InsightWorld(tree, cases)
