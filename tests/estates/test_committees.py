"""Owners' committees: the party-member share rule, the services' checks, the summaries by area."""

from __future__ import annotations

from datetime import date

import pytest

from grassroots.audit.models import AuditEntry
from grassroots.audit.services import SYSTEM
from grassroots.core.errors import DomainError, NotFound
from grassroots.core.scope import Scope
from grassroots.estates import selectors, services
from grassroots.estates.models import OwnersCommittee, OwnersCommitteeMember
from grassroots.party import services as party
from grassroots.party.models import PartyMember
from grassroots.places import services as places
from tests.estates.conftest import ALL, TERM, TODAY, Estate

pytestmark = pytest.mark.django_db


def _share(estate: Estate) -> selectors.CommitteeShare:
    (share,) = selectors.committee_shares(scope=ALL)
    assert share.committee.pk == estate.committee.pk
    return share


# --- The rule: more than half ----------------------------------------------------------------


def test_exactly_half_is_flagged(estate: Estate) -> None:
    for i in range(2):
        estate.seat(f"党员{i}", party_member=True)
        estate.seat(f"群众{i}")
    share = _share(estate)
    assert (share.members, share.party_members, share.share) == (4, 2, 50.0)
    assert share.flagged and not share.compliant


def test_more_than_half_is_not_flagged(estate: Estate) -> None:
    for i in range(3):
        estate.seat(f"党员{i}", party_member=True)
    for i in range(2):
        estate.seat(f"群众{i}")
    share = _share(estate)
    assert (share.members, share.party_members) == (5, 3)
    assert share.share == pytest.approx(60.0)
    assert share.compliant and not share.flagged


def test_committee_without_members_is_flagged(estate: Estate) -> None:
    share = _share(estate)
    assert (share.members, share.party_members, share.share) == (0, 0, None)
    assert share.flagged


def test_inactive_party_members_are_not_counted(estate: Estate) -> None:
    a = estate.seat("党员甲", party_member=True)
    estate.seat("党员乙", party_member=True)
    estate.seat("群众")
    assert _share(estate).compliant  # 2 of 3
    member = PartyMember.objects.get(person=a.person)
    party.member_deactivate(actor=SYSTEM, scope=ALL, member=member, reason="组织关系转出")
    share = _share(estate)
    assert (share.members, share.party_members) == (3, 1)
    assert share.flagged
    detail = selectors.committee_detail(actor=SYSTEM, scope=ALL, committee_id=estate.committee.pk)
    assert {r.member.person.name: r.is_party_member for r in detail.current} == {
        "党员甲": False,
        "党员乙": True,
        "群众": False,
    }


def test_ended_members_are_not_counted(estate: Estate) -> None:
    estate.seat("党员甲", party_member=True)
    b = estate.seat("党员乙", party_member=True)
    estate.seat("群众甲")
    estate.seat("群众乙")
    estate.seat("群众丙")
    assert _share(estate).flagged  # 2 of 5
    for seat in OwnersCommitteeMember.objects.filter(person__name__in=["群众乙", "群众丙"]):
        services.member_end(actor=SYSTEM, scope=ALL, member=seat, until=date(2026, 5, 31))
    share = _share(estate)
    assert (share.members, share.party_members) == (3, 2)
    assert share.compliant
    # Ending on today still counts today; from tomorrow it does not.
    services.member_end(actor=SYSTEM, scope=ALL, member=b, until=TODAY)
    assert _share(estate).compliant
    (tomorrow,) = selectors.committee_shares(scope=ALL, on=date(2026, 6, 2))
    assert (tomorrow.members, tomorrow.party_members) == (2, 1) and tomorrow.flagged
    detail = selectors.committee_detail(actor=SYSTEM, scope=ALL, committee_id=estate.committee.pk)
    assert sorted(r.member.person.name for r in detail.past) == ["群众丙", "群众乙"]


def test_members_not_yet_seated_are_not_counted(estate: Estate) -> None:
    estate.seat("党员甲", party_member=True)
    estate.seat("群众甲", since=date(2026, 7, 1))
    assert (_share(estate).members, _share(estate).party_members) == (1, 1)


# --- Services: the checks --------------------------------------------------------------------


def test_a_person_sits_once_per_committee_at_a_time(estate: Estate) -> None:
    seat = estate.seat("张三")
    with pytest.raises(DomainError, match="已是本届业主委员会委员") as exc:
        services.member_add(
            actor=SYSTEM, scope=ALL, committee=estate.committee, person=seat.person, post="deputy", since=TODAY
        )
    assert exc.value.field == "person"
    services.member_end(actor=SYSTEM, scope=ALL, member=seat, until=date(2025, 12, 31))
    # After the seat ended the person may come back, but not into the ended period.
    with pytest.raises(DomainError, match="已是本届"):
        services.member_add(
            actor=SYSTEM,
            scope=ALL,
            committee=estate.committee,
            person=seat.person,
            post="member",
            since=date(2025, 6, 1),
        )
    again = services.member_add(
        actor=SYSTEM, scope=ALL, committee=estate.committee, person=seat.person, post="deputy", since=TODAY
    )
    assert again.member.post == "deputy"


@pytest.mark.parametrize(
    ("since", "until", "field"),
    [
        (date(2023, 12, 31), None, "since"),  # before the term
        (date(2029, 1, 1), None, "since"),  # after the term
        (date(2025, 1, 1), date(2024, 12, 31), "until"),  # ends before it starts
        (date(2025, 1, 1), date(2029, 1, 1), "until"),  # ends after the term
    ],
)
def test_member_dates_must_be_sane(estate: Estate, since: date, until: date | None, field: str) -> None:
    person = estate.person("李四")
    with pytest.raises(DomainError) as exc:
        services.member_add(
            actor=SYSTEM,
            scope=ALL,
            committee=estate.committee,
            person=person,
            post="member",
            since=since,
            until=until,
        )
    assert exc.value.field == field
    assert not OwnersCommitteeMember.objects.exists()


def test_ending_a_seat_checks_its_dates(estate: Estate) -> None:
    seat = estate.seat("王五", since=date(2025, 1, 1))
    with pytest.raises(DomainError, match="不能早于"):
        services.member_end(actor=SYSTEM, scope=ALL, member=seat, until=date(2024, 12, 31))
    services.member_end(actor=SYSTEM, scope=ALL, member=seat, until=TODAY)
    with pytest.raises(DomainError, match="已于"):
        services.member_end(actor=SYSTEM, scope=ALL, member=seat, until=TODAY)


@pytest.mark.parametrize(
    ("start", "end", "filed", "field"),
    [
        (date(2024, 1, 1), date(2024, 1, 1), None, "term_end"),
        (date(2024, 1, 1), date(2029, 1, 2), None, "term_end"),  # more than five years
        (date(2024, 1, 1), date(2026, 12, 31), date(2026, 6, 2), "filed_on"),  # filed tomorrow
    ],
)
def test_committee_dates_must_be_sane(tree, start: date, end: date, filed: date | None, field: str) -> None:  # type: ignore[no-untyped-def]
    compound = places.compound_create(actor=SYSTEM, community=tree.chengnan, name="翠苑")
    with pytest.raises(DomainError) as exc:
        services.committee_create(
            actor=SYSTEM,
            scope=ALL,
            compound=compound,
            name="翠苑业委会",
            term_start=start,
            term_end=end,
            filed_on=filed,
        )
    assert exc.value.field == field


def test_one_active_committee_per_compound(estate: Estate) -> None:
    kwargs = {
        "compound": estate.compound,
        "name": "第二届",
        "term_start": date(2029, 1, 1),
        "term_end": date(2033, 12, 31),
    }
    with pytest.raises(DomainError, match="已有在任"):
        services.committee_create(actor=SYSTEM, scope=ALL, **kwargs)  # type: ignore[arg-type]
    open_seat = estate.seat("赵六")
    services.committee_end(actor=SYSTEM, scope=ALL, committee=estate.committee, reason="任期届满，换届")
    open_seat.refresh_from_db()
    assert open_seat.until == TODAY
    second = services.committee_create(actor=SYSTEM, scope=ALL, **kwargs)  # type: ignore[arg-type]
    assert second.is_active and second.path == estate.tree.chengbei.path
    (share,) = selectors.committee_shares(scope=ALL)
    assert share.committee.pk == second.pk  # only active committees count
    with pytest.raises(DomainError, match="已终止"):
        services.member_add(
            actor=SYSTEM,
            scope=ALL,
            committee=estate.committee,
            person=open_seat.person,
            post="member",
            since=TODAY,
        )


def test_a_member_living_elsewhere_is_a_warning_not_a_refusal(estate: Estate) -> None:
    here = estate.person("住户")
    elsewhere = estate.person("外住业主", dwelling=estate.tree.building3.dwellings.order_by("id").first())
    ok = services.member_add(
        actor=SYSTEM, scope=ALL, committee=estate.committee, person=here, post="member", since=TODAY
    )
    assert ok.warnings == []
    warned = services.member_add(
        actor=SYSTEM, scope=ALL, committee=estate.committee, person=elsewhere, post="member", since=TODAY
    )
    assert warned.member.pk and len(warned.warnings) == 1 and "外住业主" in warned.warnings[0]
    entry = AuditEntry.objects.get(action="estates.member.add", object_id=str(warned.member.pk))
    assert entry.detail["lives_in_compound"] is False


def test_one_director_at_a_time_and_replacing_keeps_the_post(estate: Estate) -> None:
    director = estate.seat("老主任", post="director")
    newcomer = estate.person("新主任", party_member=True)
    with pytest.raises(DomainError, match="已有主任"):
        services.member_add(
            actor=SYSTEM, scope=ALL, committee=estate.committee, person=newcomer, post="director", since=TODAY
        )
    with pytest.raises(DomainError, match="须晚于"):
        services.member_replace(actor=SYSTEM, scope=ALL, member=director, person=newcomer, on=TERM[0])
    seated = services.member_replace(actor=SYSTEM, scope=ALL, member=director, person=newcomer, on=TODAY)
    director.refresh_from_db()
    assert director.until == date(2026, 5, 31)
    assert (seated.member.post, seated.member.since, seated.member.until) == ("director", TODAY, None)
    share = _share(estate)
    assert (share.members, share.party_members) == (1, 1)
    assert AuditEntry.objects.filter(action="estates.member.replace").count() == 1


def test_editing_the_term_keeps_members_inside(estate: Estate) -> None:
    estate.seat("钱七", since=date(2024, 3, 1))
    with pytest.raises(DomainError, match="不在新的任期内"):
        services.committee_update(
            actor=SYSTEM,
            scope=ALL,
            committee=estate.committee,
            name="阳光花园业委会",
            term_start=date(2024, 6, 1),
            term_end=TERM[1],
            filed_on=None,
        )
    services.committee_update(
        actor=SYSTEM,
        scope=ALL,
        committee=estate.committee,
        name="阳光花园业委会",
        term_start=TERM[0],
        term_end=TERM[1],
        filed_on=None,
    )
    estate.committee.refresh_from_db()
    assert estate.committee.name == "阳光花园业委会" and estate.committee.filed_on is None


def test_every_write_is_audited(estate: Estate) -> None:
    seat = estate.seat("孙八")
    services.member_end(actor=SYSTEM, scope=ALL, member=seat, until=TODAY)
    services.committee_end(actor=SYSTEM, scope=ALL, committee=estate.committee, reason="解散")
    actions = list(AuditEntry.objects.filter(action__startswith="estates.").values_list("action", flat=True))
    assert actions == ["estates.committee.create", "estates.member.add", "estates.member.end", "estates.committee.end"]


# --- Scope ------------------------------------------------------------------------------------


def test_writes_and_reads_out_of_scope_are_not_found(estate: Estate) -> None:
    zhoushi = Scope(area_path=estate.tree.zhoushi_c.path)
    person = estate.person("周某")
    with pytest.raises(NotFound):
        services.member_add(
            actor=SYSTEM, scope=zhoushi, committee=estate.committee, person=person, post="member", since=TODAY
        )
    with pytest.raises(NotFound):
        services.committee_create(
            actor=SYSTEM,
            scope=zhoushi,
            compound=estate.compound,
            name="x",
            term_start=date(2029, 1, 1),
            term_end=date(2030, 1, 1),
        )
    with pytest.raises(NotFound):
        selectors.committee_get(scope=zhoushi, committee_id=estate.committee.pk)
    with pytest.raises(NotFound):
        selectors.overview(scope=zhoushi, area=estate.tree.chengbei)
    assert selectors.committee_shares(scope=zhoushi) == []
    with pytest.raises(NotFound):
        selectors.committee_shares(scope=Scope.nothing())
    # A person outside the manager's scope cannot be seated even on a committee in scope.
    far = estate.person("远方", dwelling=estate.tree.building3.dwellings.order_by("id").first())
    with pytest.raises(NotFound):
        services.member_add(
            actor=SYSTEM,
            scope=Scope(area_path=estate.tree.chengbei.path),
            committee=estate.committee,
            person=far,
            post="member",
            since=TODAY,
        )


# --- Summaries by community and subdistrict -----------------------------------------------------


def test_overview_counts_by_subdistrict_and_community(estate: Estate) -> None:
    t = estate.tree
    for i in range(2):
        estate.seat(f"党员{i}", party_member=True)
    estate.seat("群众")  # 阳光花园: 2 of 3, compliant
    cuiyuan = places.compound_create(actor=SYSTEM, community=t.chengnan, name="翠苑")
    services.committee_create(
        actor=SYSTEM, scope=ALL, compound=cuiyuan, name="翠苑业委会", term_start=TERM[0], term_end=TERM[1]
    )  # no members: flagged
    places.compound_create(actor=SYSTEM, community=t.chengnan, name="老街")  # no committee
    places.compound_create(actor=SYSTEM, community=t.zhoushi_c, name="周市新村")  # no committee, other subdistrict
    ov = selectors.overview(scope=ALL, area=t.district)
    by_name = {s.area.name: s for s in ov.breakdown}
    assert [s.area.name for s in ov.breakdown] == ["玉山镇", "城北社区", "城南社区", "周市镇", "周市社区"]
    assert (ov.total.committees, ov.total.compliant, ov.total.compounds, ov.total.without) == (2, 1, 4, 2)
    assert ov.total.percentage == 50.0
    yushan = by_name["玉山镇"]
    assert (yushan.committees, yushan.compliant, yushan.flagged, yushan.without) == (2, 1, 1, 1)
    assert by_name["城北社区"].percentage == 100.0
    assert by_name["城南社区"].percentage == 0.0
    assert by_name["周市社区"].percentage is None and by_name["周市社区"].without == 1
    assert [c.name for c in ov.without] == ["老街", "周市新村"]
    assert [s.committee.name for s in ov.flagged] == ["翠苑业委会"]
    # A community's page covers only itself.
    ov = selectors.overview(scope=Scope(area_path=t.chengnan.path), area=t.chengnan)
    assert ov.breakdown == [] and [c.name for c in ov.without] == ["老街"]
    assert [s.committee.name for s in ov.committees] == ["翠苑业委会"]


def test_committee_path_is_the_compounds_community(estate: Estate) -> None:
    assert estate.committee.path == estate.compound.path == estate.tree.chengbei.path
    assert OwnersCommittee.objects.in_scope(Scope(area_path=estate.tree.yushan.path)).count() == 1
