"""A small party tree over the factories' place tree, with an employer unit and members."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from grassroots.accounts.models import Role
from grassroots.audit.services import SYSTEM
from grassroots.core.scope import Scope
from grassroots.party import services
from grassroots.party.models import PartyOrg
from grassroots.registry import services as registry
from grassroots.registry.models import Unit
from tests.factories import Tree, add_resident

ALL = Scope.everything()


@dataclass
class Party:
    tree: Tree
    working: PartyOrg  # 玉山镇党工委
    chengbei: PartyOrg  # 城北社区党委
    branch1: PartyOrg  # 网格一党支部
    zhoushi: PartyOrg  # 周市镇党工委 (outside the personas' branch)
    unit: Unit  # an employer
    other_unit: Unit


def make_party(tree: Tree) -> Party:
    org = services.org_create
    working = org(actor=SYSTEM, scope=ALL, level="working_committee", name="玉山镇党工委", area=tree.yushan)
    chengbei = org(actor=SYSTEM, scope=ALL, level="community_committee", name="城北社区党委", area=tree.chengbei)
    branch1 = org(actor=SYSTEM, scope=ALL, level="grid_branch", name="网格一党支部", area=tree.grid1)
    zhoushi = org(actor=SYSTEM, scope=ALL, level="working_committee", name="周市镇党工委", area=tree.zhoushi)
    unit = registry.unit_create(actor=SYSTEM, scope=ALL, name="昆山市税务局", kind="agency", area=tree.zhoushi_c)
    other = registry.unit_create(
        actor=SYSTEM, scope=ALL, name="=HYPERLINK(1)科技公司", kind="enterprise", area=tree.grid3
    )
    return Party(tree, working, chengbei, branch1, zhoushi, unit, other)


@pytest.fixture
def party(tree: Tree) -> Party:
    return make_party(tree)


def employed_member(party: Party, *, seq: int, name: str, unit: Unit | None = None) -> object:
    person = add_resident(party.tree, seq=seq, name=name)
    return services.member_create(
        actor=SYSTEM,
        scope=ALL,
        person=person,
        kind="employed",
        employer=unit or party.unit,
        residence_area=party.tree.grid1,
        joined_on=date(2010, 7, 1),
    )


ROLES = list(Role)
