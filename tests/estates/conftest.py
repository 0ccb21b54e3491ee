"""An owners' committee on the factories' 阳光花园 (城北社区), with residents and party members.

Time is fixed at NOW; the committee's term runs 2024-01-01 to 2028-12-31.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest

from grassroots.audit.services import SYSTEM
from grassroots.core import clock
from grassroots.core.ids import make_id_number
from grassroots.core.scope import Scope
from grassroots.estates import services
from grassroots.estates.models import OwnersCommittee
from grassroots.party import services as party
from grassroots.places.models import Compound
from grassroots.registry import services as registry
from tests.factories import PASSWORD, Tree, add_resident

ALL = Scope.everything()
NOW = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)  # 10:00 in Kunshan
TODAY = date(2026, 6, 1)
TERM = (date(2024, 1, 1), date(2028, 12, 31))


@pytest.fixture(autouse=True)
def _now(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "now", lambda: NOW)


@dataclass
class Estate:
    tree: Tree
    compound: Compound  # 阳光花园, 城北社区
    committee: OwnersCommittee
    seq: int = 500

    def person(self, name: str, *, party_member: bool = False, dwelling: Any = None) -> Any:
        """A resident of the compound (or of ``dwelling``), a party member when asked."""
        self.seq += 1
        if dwelling is None:
            p = add_resident(self.tree, seq=self.seq, name=name)
        else:
            p = registry.person_create(
                actor=SYSTEM,
                name=name,
                id_number=make_id_number("320583", date(1960, 1, 1), self.seq, "F"),
                phone=f"1391234{self.seq:04d}",
                dwelling=dwelling,
            )
        if party_member:
            party.member_create(actor=SYSTEM, scope=ALL, person=p, kind="regular", residence_area=self.tree.grid1)
        return p

    def seat(self, name: str, *, party_member: bool = False, post: str = "member", since: date = TERM[0]) -> Any:
        person = self.person(name, party_member=party_member)
        return services.member_add(
            actor=SYSTEM, scope=ALL, committee=self.committee, person=person, post=post, since=since
        ).member


def make_estate(tree: Tree) -> Estate:
    compound = Compound.objects.get(name="阳光花园")
    committee = services.committee_create(
        actor=SYSTEM,
        scope=ALL,
        compound=compound,
        name="阳光花园第一届业主委员会",
        term_start=TERM[0],
        term_end=TERM[1],
        filed_on=date(2024, 1, 20),
    )
    return Estate(tree, compound, committee)


@pytest.fixture
def estate(tree: Tree) -> Estate:
    return make_estate(tree)


# --- property companies, surveys, red/black list ------------------------------------------------


def make_company(tree: Tree, name: str, *, area: Any = None, qualification: str = "grade2") -> Any:
    """A registry enterprise in 城北社区 (or ``area``) registered as a property company."""
    from grassroots.estates import services as estates
    from grassroots.registry.services.units import unit_create

    unit = unit_create(
        actor=SYSTEM,
        scope=ALL,
        name=name,
        kind="enterprise",
        area=area or tree.chengbei,
        contact_name="王经理",
        contact_phone="13912345678",
    )
    return estates.company_create(actor=SYSTEM, scope=ALL, unit=unit, qualification=qualification)


def make_compound(tree: Tree, name: str, *, community: Any = None, kind: str = "commodity") -> Compound:
    from grassroots.places import services as places

    return places.compound_create(actor=SYSTEM, community=community or tree.chengbei, name=name, kind=kind)


def answer(survey: Any, scores: list[list[int]], *, tree: Tree, start: int = 0) -> None:
    """Each inner list is one resident account's answers, in question order."""
    from grassroots.accounts import services as accounts
    from grassroots.estates import services as estates

    questions = list(survey.questions.order_by("number"))
    for i, row in enumerate(scores, start=start):
        user = accounts.user_create(
            actor=SYSTEM,
            username=f"r{survey.pk}_{i}",
            password=PASSWORD,
            role="resident",
            area=survey.compound.community,
        )
        estates.survey_answer(
            actor=SYSTEM,
            user=user,
            scope=ALL,
            survey=survey,
            scores={q.pk: s for q, s in zip(questions, row, strict=True)},
        )
