"""Demo forces: party tree, members, alliances and volunteers for the demo accounts, once, gone with the city."""

from __future__ import annotations

import io
from collections import Counter
from datetime import date

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from grassroots.accounts.models import User
from grassroots.audit.services import SYSTEM
from grassroots.core.scope import Scope
from grassroots.demo.cleanup import delete_demo_city
from grassroots.demo.forces import forces_counts
from grassroots.party.models import (
    Alliance,
    AllianceItem,
    AllianceMember,
    Checkin,
    CheckinState,
    CommitteeSeat,
    MemberKind,
    PartyMember,
    PartyOrg,
    RotationDuty,
    ServiceRecord,
)
from grassroots.party.selectors.orgs import coverage
from grassroots.party.selectors.targets import progress_by_member, target_for
from grassroots.places.models import AreaLevel, Building
from grassroots.registry.models import Person
from grassroots.volunteers.models import (
    Activity,
    BuildingRole,
    BuildingRoleKind,
    Match,
    MatchStatus,
    Mobilisation,
    Project,
    Recipient,
    Signup,
    SignupState,
    Team,
    TeamKind,
    Volunteer,
)
from grassroots.volunteers.services import mobilisation as mob
from tests.demo.test_demo_city import demo_city

pytestmark = pytest.mark.django_db


def _setup(seed: int = 1) -> None:
    demo_city(2000, seed)
    for command in ("demo_accounts", "seed_categories", "seed_skills"):
        call_command(command, stdout=io.StringIO())


def _forces(seed: int = 5) -> str:
    out = io.StringIO()
    call_command("demo_forces", seed=seed, stdout=out)
    return out.getvalue()


def _signature() -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = [
        (m.person.name, str(m.person.birth_date), m.kind) for m in PartyMember.objects.select_related("person")
    ]
    rows += [(v.person.name, str(v.is_talent)) for v in Volunteer.objects.select_related("person")]
    rows += [(a.title, str(a.signups.count())) for a in Activity.objects.all()]
    rows += [(o.name, o.level) for o in PartyOrg.objects.all()]
    return sorted(rows)


def test_demo_forces_need_the_demo_city_and_accounts() -> None:
    with pytest.raises(CommandError) as info:
        call_command("demo_forces", stdout=io.StringIO())
    assert info.value.returncode == 2
    assert "demo_accounts" in str(info.value)
    # Cleaning up a tree without any forces answers zeros (an empty id list runs no query).
    assert set(delete_demo_city("3205").values()) == {0}


def test_demo_forces_fill_the_pages_once_and_go_with_the_city() -> None:
    _setup()
    out = _forces()
    assert "party_members" in out
    worker = User.objects.select_related("area__parent").get(username="demo_community_worker")
    community = worker.area
    assert community is not None and community.parent is not None
    subdistrict = community.parent
    counts = forces_counts(subdistrict.path)
    assert all(n > 0 for n in counts.values()), counts
    assert not Mobilisation.objects.exists()  # a leader starts that

    # The tree: 一网格一组织 has something to show, at both levels.
    for area in (subdistrict, community):
        cover = coverage(scope=Scope.everything(), area=area)
        assert 0 < cover.covered < cover.total
    levels = Counter(PartyOrg.objects.values_list("level", flat=True))
    assert levels["working_committee"] == 1
    assert levels["community_committee"] == subdistrict.children.filter(level=AreaLevel.COMMUNITY).count()
    assert levels["building_group"] > 0
    part_time = CommitteeSeat.objects.filter(part_time=True)
    assert {"派出所", "城管中队"} <= {s.from_department.removeprefix(subdistrict.name) for s in part_time}

    # Members: about 6 % of the demo community's adults, employed ones with employers, a couple of migrants.
    adults = Person.objects.filter(
        path__startswith=community.path + ".", birth_date__lte=date(date.today().year - 18, 1, 1)
    )
    kinds = Counter(PartyMember.objects.values_list("kind", flat=True))
    assert 0.045 < kinds[MemberKind.REGULAR] / adults.count() < 0.075
    assert kinds[MemberKind.EMPLOYED] >= 8 and 2 <= kinds[MemberKind.MIGRANT] <= 3
    assert not PartyMember.objects.filter(kind=MemberKind.EMPLOYED, employer=None).exists()
    assert not PartyMember.objects.exclude(path__startswith=community.path).exists()

    # Check-ins: most confirmed, a few pending, one returned; only employed members check in.
    states = Counter(Checkin.objects.values_list("state", flat=True))
    assert states[CheckinState.CONFIRMED] > states[CheckinState.PENDING] > 0 and states[CheckinState.RETURNED] == 1
    assert set(Checkin.objects.values_list("member__kind", flat=True)) == {MemberKind.EMPLOYED}
    confirmed = list(Checkin.objects.filter(state=CheckinState.CONFIRMED).values_list("member_id", flat=True))
    progress = progress_by_member(confirmed, target_for(timezone.localdate().year)).values()
    assert 0 < sum(p.met for p in progress) < len(confirmed)

    # Activities: past ones with attendance and hours, upcoming ones with sign-ups.
    now = timezone.now()
    attended = Signup.objects.filter(state=SignupState.ATTENDED)
    assert attended.exists() and not attended.filter(hours__lte=0).exists()
    assert not attended.filter(activity__starts_at__gt=now).exists()
    assert Signup.objects.filter(state=SignupState.SIGNED_UP, activity__starts_at__gt=now).exists()
    members = dict(PartyMember.objects.values_list("person_id", "pk"))
    party_attended = [(s.activity_id, members[s.person_id]) for s in attended if s.person_id in members]
    assert party_attended
    for activity_id, member_id in party_attended:
        assert ServiceRecord.objects.filter(
            member_id=member_id, source=f"activity:{activity_id}", confirmed=True
        ).exists()

    # Alliances: one per community, 5–8 member units, the year's rotation, every one of the five lists.
    for alliance in Alliance.objects.all():
        assert 5 <= AllianceMember.objects.filter(alliance=alliance).count() <= 8
        assert RotationDuty.objects.filter(alliance=alliance, starts_on__year=now.year).count() == 12
        assert AllianceItem.objects.filter(alliance=alliance).values("kind").distinct().count() == 5
    assert Alliance.objects.count() == levels["community_committee"]

    # Volunteers and building forces.
    assert Volunteer.objects.filter(is_talent=True, skills__isnull=False).exists()
    homes = Building.objects.filter(path__startswith=community.path + ".", dwellings__isnull=False).distinct().count()
    heads = BuildingRole.objects.filter(kind=BuildingRoleKind.BUILDING_HEAD, until=None).count()
    assert homes / 2 < heads < homes
    assert BuildingRole.objects.filter(kind=BuildingRoleKind.ENTRANCE_HEAD).exists()
    assert set(Team.objects.values_list("kind", flat=True)) == {TeamKind.VANGUARD, TeamKind.ACTION_BRANCH}
    assert Match.objects.filter(status=MatchStatus.PROPOSED).exists()
    assert Match.objects.filter(status=MatchStatus.ACCEPTED).count() == Project.objects.count() == 1

    # A second run adds nothing.
    assert "nothing added" in _forces()
    assert forces_counts(subdistrict.path) == counts
    signature = _signature()

    # A leader starts a mobilisation; replacing the city removes all of it.
    started = mob.mobilisation_start(
        actor=worker,
        area=community,
        mode="drill",
        audiences=["party_members", "volunteers", "building_heads"],
        title="演练",
        message="请到社区集合",
        fan_out=False,
    )
    mob.mobilisation_fanout(mobilisation_id=started.pk)
    assert Recipient.objects.filter(mobilisation=started).exists()
    # An owners' committee with a party member on it goes with the city too.
    from grassroots.estates import services as estates
    from grassroots.estates.models import OwnersCommittee

    member = PartyMember.objects.filter(path__startswith=community.path).select_related("person__dwelling").first()
    compound = member.person.dwelling.entrance.building.compound if member and member.person.dwelling else None
    assert compound is not None
    committee = estates.committee_create(
        actor=SYSTEM,
        scope=Scope.everything(),
        compound=compound,
        name="业委会",
        term_start=date(2025, 1, 1),
        term_end=date(2029, 12, 31),
    )
    estates.member_add(
        actor=SYSTEM,
        scope=Scope.everything(),
        committee=committee,
        person=member.person,
        post="member",
        since=date(2025, 1, 1),
    )
    # So do a deliberation topic and a property company with its contract.
    from grassroots.engage import services as engage
    from grassroots.engage.models import Topic
    from grassroots.estates.models import PropertyCompany, ServiceContract
    from grassroots.registry.models import Unit, UnitKind

    engage.topic_propose(actor=worker, title="加装电梯", description="老小区加装电梯，大家商量一下", area=community)
    from grassroots.engage.models import ServiceCentre
    from grassroots.engage.services.centres import centre_save

    centre_save(actor=worker, community=community, name="党群服务中心", floor_area="800")
    enterprise = Unit.objects.filter(path__startswith=community.path, kind=UnitKind.ENTERPRISE).first()
    assert enterprise is not None
    company = estates.company_create(actor=SYSTEM, scope=Scope.everything(), unit=enterprise, qualification="grade1")
    estates.contract_create(
        actor=SYSTEM, scope=Scope.everything(), company=company, compound=compound, start=date(2025, 1, 1)
    )
    demo_city(2000, 1, replace=True)
    assert not OwnersCommittee.objects.exists() and not Topic.objects.exists()
    assert not ServiceCentre.objects.exists()
    assert not ServiceContract.objects.exists() and not PropertyCompany.objects.exists()
    assert set(forces_counts("3205").values()) == {0}
    assert not Mobilisation.objects.exists() and not Recipient.objects.exists()
    assert not PartyMember.objects.exists() and not Volunteer.objects.exists()

    # The same seed on the same city gives the same forces.
    call_command("demo_accounts", stdout=io.StringIO())
    _forces()
    assert _signature() == signature
