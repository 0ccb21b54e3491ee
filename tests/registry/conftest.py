"""People for the registry page tests: 张三 in 网格一 (城北社区), 李四 in 网格三 (城南社区)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from django.test import Client

from grassroots.audit.services import SYSTEM
from grassroots.core.ids import make_id_number
from grassroots.registry import services
from grassroots.registry.models import Person
from tests.factories import Tree

ID_ZHANG = make_id_number("320583", date(1950, 3, 9), 11, "M")
ID_LI = make_id_number("341221", date(1985, 6, 1), 12, "M")
PHONE_ZHANG = "13812340011"
PHONE_LI = "13912340012"


@dataclass
class People:
    zhang: Person  # 张三, 网格一 阳光花园1幢 (城北社区)
    wang: Person  # 王芳, same household as 张三
    li: Person  # 李四, 网格三 8幢 (城南社区)


def create(dwelling, name: str, id_number: str, phone: str = "", **kwargs) -> Person:  # type: ignore[no-untyped-def]
    return services.person_create(
        actor=SYSTEM, name=name, id_number=id_number, phone=phone, dwelling=dwelling, **kwargs
    )


@pytest.fixture
def people(tree: Tree) -> People:
    d1 = tree.building1.dwellings.order_by("id").first()
    d3 = tree.building3.dwellings.order_by("id").first()
    from grassroots.registry.models import Household

    household = Household.objects.create(dwelling=d1, path=d1.path, head_name="张三")
    zhang = create(d1, "张三", ID_ZHANG, PHONE_ZHANG, household=household, relation="户主")
    wang = create(d1, "王芳", make_id_number("320583", date(1952, 8, 1), 13, "F"), household=household, relation="配偶")
    li = create(d3, "李四", ID_LI, PHONE_LI)
    return People(zhang, wang, li)


def login(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client
