"""People and skills for the volunteers tests.

张三 and 王芳 live in 阳光花园1幢 (网格一, 城北社区), 李四 in 8幢 (网格三, 城南社区), 赵六 in 1幢 too.
The "inside" community worker manages 城北社区; the outsider manages 城南社区.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from django.test import Client

from grassroots.accounts.models import Role, User
from grassroots.audit.services import SYSTEM
from grassroots.core.ids import make_id_number
from grassroots.registry import services as registry
from grassroots.registry.models import Person
from grassroots.volunteers.models import Skill
from grassroots.volunteers.services import skill_seed
from tests.factories import Tree


@dataclass
class World:
    tree: Tree
    zhang: Person
    wang: Person
    zhao: Person
    li: Person
    worker: User  # community worker of 城北社区
    outsider: User  # community worker of 城南社区
    skills: dict[str, Skill]


def _person(dwelling, name: str, seq: int, sex: str = "M") -> Person:  # type: ignore[no-untyped-def]
    return registry.person_create(
        actor=SYSTEM, name=name, id_number=make_id_number("320583", date(1970, 1, 1), seq, sex), dwelling=dwelling
    )


@pytest.fixture
def world(tree: Tree) -> World:
    skill_seed()
    d1 = list(tree.building1.dwellings.order_by("id")[:3])
    d3 = tree.building3.dwellings.order_by("id").first()
    return World(
        tree=tree,
        zhang=_person(d1[0], "张三", 21),
        wang=_person(d1[1], "王芳", 22, "F"),
        zhao=_person(d1[2], "赵六", 23),
        li=_person(d3, "李四", 24),
        worker=tree.users[Role.COMMUNITY_WORKER],
        outsider=tree.outsiders[Role.COMMUNITY_WORKER],
        skills={s.code: s for s in Skill.objects.all()},
    )


def login(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client
