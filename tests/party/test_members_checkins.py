"""Members (a person once, scope, audit) and the check-in lifecycle."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from grassroots.accounts.models import Role
from grassroots.accounts.scopes import scope_for
from grassroots.audit.models import AuditEntry
from grassroots.audit.services import SYSTEM, actor_of
from grassroots.core import clock
from grassroots.core.errors import DomainError, NotFound
from grassroots.core.scope import Scope
from grassroots.party import selectors, services
from grassroots.party.models import Checkin, CheckinState, PartyMember
from tests.factories import add_resident
from tests.party.conftest import ALL, Party, employed_member

pytestmark = pytest.mark.django_db


def test_a_person_is_a_member_once_and_fields_are_checked(party: Party) -> None:
    person = add_resident(party.tree, seq=11, name="陈红")
    member = services.member_create(actor=SYSTEM, scope=ALL, person=person, kind="regular", org=party.branch1)
    assert member.path == party.branch1.path
    with pytest.raises(DomainError, match="已登记为党员"):
        services.member_create(actor=SYSTEM, scope=ALL, person=person, kind="regular", org=party.branch1)
    other = add_resident(party.tree, seq=12, name="刘洋")
    with pytest.raises(DomainError, match="未知的党员类别"):
        services.member_create(actor=SYSTEM, scope=ALL, person=other, kind="x", org=party.branch1)
    with pytest.raises(DomainError, match="至少填写"):
        services.member_create(actor=SYSTEM, scope=ALL, person=other, kind="regular")
    with pytest.raises(DomainError, match="居住地应为社区或网格"):
        services.member_create(actor=SYSTEM, scope=ALL, person=other, kind="regular", residence_area=party.tree.yushan)
    with pytest.raises(NotFound):  # the person lives outside the actor's scope
        services.member_create(
            actor=SYSTEM, scope=Scope(area_path=party.tree.chengnan.path), person=other, kind="regular"
        )


def test_member_reads_are_scoped_and_audited(party: Party) -> None:
    member = employed_member(party, seq=21, name="王芳")
    tree = party.tree
    for role in Role:
        user = tree.users[role]
        scope = scope_for(user, "party.view")
        if role in (
            Role.PARTY_SECRETARY,
            Role.COMMUNITY_WORKER,
            Role.SUBDISTRICT_DISPATCHER,
            Role.DISTRICT_LEADER,
            Role.ADMIN,
        ):
            page = selectors.member_page(actor=actor_of(user), scope=scope, filters=selectors.MemberFilters(), page=1)
            assert [r.member.pk for r in page.object_list] == [member.pk], role
        else:
            with pytest.raises(NotFound):
                selectors.member_page(actor=actor_of(user), scope=scope, filters=selectors.MemberFilters(), page=1)
    outsider = tree.outsiders[Role.PARTY_SECRETARY]
    with pytest.raises(NotFound):
        selectors.member_get(actor=actor_of(outsider), scope=scope_for(outsider, "party.view"), member_id=member.pk)
    before = AuditEntry.objects.filter(action="party.member.view").count()
    secretary = tree.users[Role.PARTY_SECRETARY]
    selectors.member_detail(
        actor=actor_of(secretary), scope=scope_for(secretary, "party.view"), member_id=member.pk, year=2026
    )
    assert AuditEntry.objects.filter(action="party.member.view").count() == before + 1
    assert AuditEntry.objects.filter(action="party.member.list").exists()


def test_filters(party: Party) -> None:
    a = employed_member(party, seq=31, name="张一")
    employed_member(party, seq=32, name="李二")
    services.checkin_request(actor=SYSTEM, community=party.tree.chengbei, person=a.person)
    f = selectors.MemberFilters

    def names(filters: selectors.MemberFilters) -> list[str]:
        page = selectors.member_page(actor=SYSTEM, scope=ALL, filters=filters, page=1)
        return [r.member.person.name for r in page.object_list]

    assert names(f(q="张")) == ["张一"]
    assert names(f(checkin="pending")) == ["张一"]
    assert names(f(checkin="none")) == ["李二"]
    assert names(f(kind="regular")) == []


def _find(party: Party, seq: int, name: str, phone: str | None = None):  # type: ignore[no-untyped-def]
    from datetime import date

    from grassroots.core.ids import make_id_number

    return services.checkin_find_person(
        community=party.tree.chengbei,
        name=name,
        id_number=make_id_number("320583", date(1950, 3, 9), seq, "M"),
        phone=phone or f"1381234{seq:04d}",
    )


def test_the_person_is_matched_by_id_name_and_phone_within_the_community(party: Party) -> None:
    person = add_resident(party.tree, seq=41, name="周杰")
    assert _find(party, 41, "周杰") == person
    assert _find(party, 41, "周杰", phone="13900000000") is None  # wrong phone
    assert _find(party, 41, "周洁") is None  # wrong name
    assert _find(party, 42, "周杰") is None  # unknown ID
    assert services.checkin_find_person(community=party.tree.chengnan, name="周杰", id_number="x", phone="1") is None
    from datetime import date

    from grassroots.core.ids import make_id_number

    number = make_id_number("320583", date(1950, 3, 9), 41, "M")
    # The same person seen from another community: not found there.
    assert (
        services.checkin_find_person(community=party.tree.chengnan, name="周杰", id_number=number, phone="13812340041")
        is None
    )


def test_checkin_lifecycle(party: Party) -> None:
    tree = party.tree
    resident = tree.users[Role.RESIDENT]
    person = add_resident(tree, seq=51, name="孙丽")  # not yet a member: declared at check-in
    c = services.checkin_request(
        actor=actor_of(resident), community=tree.chengbei, person=person, skills="法律", wishes="调解"
    )
    member = PartyMember.objects.get(person=person)
    assert member.kind == "employed" and member.residence_area == tree.grid1
    assert c.state == CheckinState.PENDING and c.requested_by == resident
    with pytest.raises(DomainError, match="等待社区确认"):
        services.checkin_request(actor=actor_of(resident), community=tree.chengbei, person=person)
    with transaction.atomic(), pytest.raises(IntegrityError):  # the database holds the line too
        Checkin.objects.create(
            member=member, community=tree.chengbei, path=tree.chengbei.path, requested_at=clock.now()
        )
    # Outside the community's scope: not found; a department officer or resident cannot decide at all.
    outsider = tree.outsiders[Role.COMMUNITY_WORKER]
    with pytest.raises(NotFound):
        services.checkin_confirm(actor=actor_of(outsider), scope=scope_for(outsider, "party.manage"), checkin=c)
    with pytest.raises(NotFound):
        services.checkin_confirm(actor=SYSTEM, scope=scope_for(tree.users[Role.RESIDENT], "party.manage"), checkin=c)
    # Returned with a reason, then applies again and is confirmed.
    worker = tree.users[Role.COMMUNITY_WORKER]
    scope = scope_for(worker, "party.manage")
    with pytest.raises(DomainError, match="原因"):
        services.checkin_return(actor=actor_of(worker), scope=scope, checkin=c, reason="")
    services.checkin_return(actor=actor_of(worker), scope=scope, checkin=c, reason="请补充工作单位")
    c2 = services.checkin_request(actor=actor_of(resident), community=tree.chengbei, person=person)
    services.checkin_confirm(actor=actor_of(worker), scope=scope, checkin=c2)
    c2.refresh_from_db()
    assert c2.state == CheckinState.CONFIRMED and c2.decided_by == worker
    with pytest.raises(DomainError, match="已处理"):
        services.checkin_confirm(actor=actor_of(worker), scope=scope, checkin=c2)
    with pytest.raises(DomainError, match="已在本社区报到"):
        services.checkin_request(actor=actor_of(resident), community=tree.chengbei, person=person)
    # Moving out (the residence moves to another community) ends the check-in.
    member.refresh_from_db()
    services.member_update(
        actor=SYSTEM,
        scope=ALL,
        member=member,
        kind="employed",
        org=None,
        employer=party.unit,
        residence_area=tree.chengnan,
        joined_on=None,
    )
    c2.refresh_from_db()
    assert c2.state == CheckinState.ENDED
    assert list(AuditEntry.objects.filter(object_type="party_checkin").values_list("action", flat=True)) == [
        "party.checkin.request",
        "party.checkin.return",
        "party.checkin.request",
        "party.checkin.confirm",
    ]


def test_end_and_regular_members(party: Party) -> None:
    member = employed_member(party, seq=61, name="吴刚")
    c = services.checkin_request(actor=SYSTEM, community=party.tree.chengbei, person=member.person)
    with pytest.raises(DomainError, match="只有已报到"):
        services.checkin_end(actor=SYSTEM, scope=ALL, checkin=c, reason="迁出")
    services.checkin_confirm(actor=SYSTEM, scope=ALL, checkin=c)
    services.checkin_end(actor=SYSTEM, scope=ALL, checkin=c, reason="迁出本社区")
    assert Checkin.objects.get(pk=c.pk).state == CheckinState.ENDED
    regular = add_resident(party.tree, seq=62, name="郑强")
    services.member_create(actor=SYSTEM, scope=ALL, person=regular, kind="regular", org=party.branch1)
    with pytest.raises(DomainError, match="无需报到"):
        services.checkin_request(actor=SYSTEM, community=party.tree.chengbei, person=regular)
