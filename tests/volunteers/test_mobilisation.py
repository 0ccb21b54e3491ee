"""One-tap mobilisation (一键动员): who is called, scope, the exactly-once fan-out, the link, the roster, drills."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone

from grassroots.accounts import services as accounts
from grassroots.accounts.models import GridRoleKind, Role
from grassroots.audit.services import SYSTEM
from grassroots.core.errors import DomainError, Forbidden, NotFound
from grassroots.core.ids import make_id_number
from grassroots.core.scope import Scope
from grassroots.notify.models import ChannelName, Notification
from grassroots.notify.services import address_of
from grassroots.party.models import Checkin, CheckinState, MemberKind, Pairing, PartyMember
from grassroots.registry import services as registry
from grassroots.registry.models import Person
from grassroots.volunteers.models import (
    Audience,
    BuildingRole,
    BuildingRoleKind,
    Mobilisation,
    MobilisationMode,
    Recipient,
    Volunteer,
)
from grassroots.volunteers.selectors import mobilisation as sel
from grassroots.volunteers.services import mobilisation as svc
from tests.factories import Tree

pytestmark = pytest.mark.django_db

ALL = list(Audience.values)


@dataclass
class Forces:
    people: dict[str, Person] = field(default_factory=dict)


def person(tree: Tree, seq: int, name: str, *, grid3: bool = False, phone: bool = True) -> Person:
    building = tree.building3 if grid3 else tree.building1
    dwelling = building.dwellings.order_by("id")[seq % 4]
    return registry.person_create(
        actor=SYSTEM,
        name=name,
        id_number=make_id_number("320583", date(1980, 1, 1 + seq % 28), seq, "M"),
        phone=f"1391234{seq:04d}" if phone else "",
        dwelling=dwelling,
    )


def add_forces(tree: Tree) -> Forces:
    """城北社区 (grid 1) and 城南社区 (grid 3) forces; one person in several audiences."""
    f = Forces()
    now = timezone.now()
    today = now.date()
    p = f.people
    p["vol"] = person(tree, 1, "志愿甲")
    p["both"] = person(tree, 2, "楼长乙")  # a volunteer and the building head: called once
    p["member"] = person(tree, 3, "党员丙")
    p["pending"] = person(tree, 4, "党员丁")  # check-in not confirmed: not called
    p["nophone"] = person(tree, 5, "无号码", phone=False)  # unreachable
    p["south"] = person(tree, 6, "城南志愿", grid3=True)  # in 城南社区
    for key in ("vol", "both", "nophone", "south"):
        Volunteer.objects.create(person=p[key], registered_on=today, path=p[key].path)
    BuildingRole.objects.create(
        person=p["both"],
        kind=BuildingRoleKind.BUILDING_HEAD,
        building=tree.building1,
        since=today,
        path=tree.building1.path,
    )
    for key, state in (("member", CheckinState.CONFIRMED), ("pending", CheckinState.PENDING)):
        member = PartyMember.objects.create(
            person=p[key], kind=MemberKind.EMPLOYED, path=p[key].path, created_at=now, updated_at=now
        )
        Checkin.objects.create(
            member=member, community=tree.chengbei, path=tree.chengbei.path, state=state, requested_at=now
        )
    grid_worker = tree.users[Role.GRID_WORKER]
    accounts.grid_role_assign(
        actor=SYSTEM, grid=tree.grid1, kind=GridRoleKind.GRID_WORKER, name="网格员甲", since=today, user=grid_worker
    )
    accounts.grid_role_assign(
        actor=SYSTEM, grid=tree.grid2, kind=GridRoleKind.GRID_WORKER, name="网格员乙", since=today, phone="13700000002"
    )
    unit = registry.unit_create(
        actor=SYSTEM,
        scope=Scope.everything(),
        name="昆山供电公司",
        kind="enterprise",
        area=tree.chengbei,
        contact_name="联络人",
        contact_phone="13800000009",
    )
    Pairing.objects.create(unit=unit, community=tree.chengbei, path=tree.chengbei.path, since=today)
    return f


def start(
    tree: Tree,
    *,
    area: Any = None,
    mode: str = MobilisationMode.NORMAL,
    audiences: list[str] | None = None,
    user: Any = None,
    **kwargs: Any,
) -> Mobilisation:
    return svc.mobilisation_start(
        actor=user or tree.users[Role.COMMUNITY_WORKER],
        area=area or tree.chengbei,
        mode=mode,
        audiences=ALL if audiences is None else audiences,
        title=kwargs.pop("title", "防汛集合"),
        message=kwargs.pop("message", "请立即到社区集合，转移低洼住户。"),
        assembly_point=kwargs.pop("assembly_point", "城北社区党群服务中心"),
        **kwargs,
    )


def token_of(recipient: Recipient) -> str:
    note = Notification.objects.get(idempotency_key__startswith=f"mob:{recipient.mobilisation_id}:r{recipient.pk}|")
    found = re.search(r"/volunteers/m/([^/]+)/", note.body)
    assert found
    return found.group(1)


# --- who is called ----------------------------------------------------------------------------


def test_every_audience_once_and_deduplicated(tree):
    f = add_forces(tree)
    mob = start(tree)
    candidates = sel.roster_candidates(mob)
    keys = [c.key for c in candidates]
    assert len(keys) == len(set(keys))
    by_person = {c.person_id: c for c in candidates if c.person_id}
    p = f.people
    assert set(by_person) == {p["vol"].pk, p["both"].pk, p["member"].pk, p["nophone"].pk}
    assert by_person[p["both"].pk].audience == Audience.VOLUNTEERS  # volunteer first, building head not again
    assert by_person[p["member"].pk].audience == Audience.PARTY_MEMBERS
    users = {c.user_id: c.audience for c in candidates if c.user_id}
    assert users == {
        tree.users[Role.GRID_WORKER].pk: Audience.GRID_WORKERS,
        tree.outsiders[Role.GRID_WORKER].pk: Audience.GRID_WORKERS,  # 网格二 is in 城北社区 too
        tree.users[Role.COMMUNITY_WORKER].pk: Audience.COMMUNITY_WORKERS,
    }
    clear = [c for c in candidates if c.phone]
    assert [(c.name, c.audience) for c in clear] == [("网格员乙", Audience.GRID_WORKERS)]
    units = [c for c in candidates if c.key.startswith("n")]
    assert len(units) == 1 and units[0].audience == Audience.UNIT_CONTACTS and "联络人" in units[0].name
    grids = {c.key: c.grid_id for c in candidates}
    assert grids[f"p{p['vol'].pk}"] == tree.grid1.pk
    assert not by_person[p["nophone"].pk].reachable


def test_audience_filter_and_grid_area(tree):
    f = add_forces(tree)
    mob = start(tree, area=tree.grid1, audiences=[Audience.BUILDING_HEADS, Audience.COMMUNITY_WORKERS])
    candidates = sel.roster_candidates(mob)
    assert {c.person_id for c in candidates if c.person_id} == {f.people["both"].pk}
    assert {c.audience for c in candidates} == {Audience.BUILDING_HEADS, Audience.COMMUNITY_WORKERS}
    # Calling a grid also calls its community's workers.
    assert tree.users[Role.COMMUNITY_WORKER].pk in {c.user_id for c in candidates}


# --- scope -----------------------------------------------------------------------------------


def test_scope_and_capability(tree):
    add_forces(tree)
    with pytest.raises(NotFound):
        start(tree, area=tree.chengnan)  # a community worker of 城北 calling 城南
    with pytest.raises(NotFound):
        start(tree, area=tree.yushan)  # above their area
    with pytest.raises(Forbidden):
        start(tree, user=tree.users[Role.GRID_WORKER], area=tree.grid1)
    with pytest.raises(Forbidden):
        start(tree, user=tree.users[Role.PARTY_SECRETARY])
    mob = start(tree, user=tree.users[Role.SUBDISTRICT_DISPATCHER], area=tree.chengnan)
    assert mob.path == tree.chengnan.path
    with pytest.raises(NotFound):
        sel.mobilisation_get(user=tree.users[Role.COMMUNITY_WORKER], mobilisation_id=mob.pk)
    with pytest.raises(NotFound):
        svc.mobilisation_end(actor=tree.users[Role.COMMUNITY_WORKER], mobilisation=mob)
    assert sel.mobilisation_get(user=tree.users[Role.DISTRICT_LEADER], mobilisation_id=mob.pk) == mob


def test_refusals(tree):
    with pytest.raises(DomainError, match="动员对象"):
        start(tree, audiences=[])
    with pytest.raises(DomainError, match="动员对象"):
        start(tree, audiences=["everyone"])
    with pytest.raises(DomainError, match="模式"):
        start(tree, mode="war")
    with pytest.raises(DomainError, match="标题"):
        start(tree, title=" ")
    assert not Mobilisation.objects.exists()


# --- fan-out ---------------------------------------------------------------------------------


def test_fanout_exactly_once_when_run_twice(tree, django_capture_on_commit_callbacks):
    f = add_forces(tree)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        mob = start(tree)
    assert len(callbacks) == 1  # the fan-out task is queued after the commit
    first = svc.mobilisation_fanout(mobilisation_id=mob.pk, size=2)
    assert first.candidates == 9 and first.unreachable == 1 and first.notified == 8 and first.batches == 4
    recipients = list(Recipient.objects.filter(mobilisation=mob))
    assert len(recipients) == 8 and all(r.notified_at for r in recipients)
    notes = Notification.objects.filter(kind=svc.NOTIFY_KIND)
    assert notes.count() == 8
    for r in recipients:
        assert notes.filter(idempotency_key__startswith=f"mob:{mob.pk}:r{r.pk}|").count() == 1
    # In-app for users, SMS (sealed) for people without accounts.
    user_note = notes.get(user_id=tree.users[Role.GRID_WORKER].pk)
    assert user_note.channel == ChannelName.CONSOLE and not user_note.address_hash
    vol = Recipient.objects.get(mobilisation=mob, person=f.people["vol"])
    sms = notes.get(idempotency_key__startswith=f"mob:{mob.pk}:r{vol.pk}|")
    assert sms.channel == ChannelName.SMS and address_of(sms) == "13912340001"
    assert "城北社区党群服务中心" in sms.body and "13912340001" not in sms.body
    mob.refresh_from_db()
    assert mob.fanned_out_at is not None
    again = svc.mobilisation_fanout(mobilisation_id=mob.pk)
    assert again.already_done and again.notified == 0
    # Even with the finish mark wiped (a crash after the last batch), a rerun adds nothing.
    Mobilisation.objects.filter(pk=mob.pk).update(fanned_out_at=None)
    third = svc.mobilisation_fanout(mobilisation_id=mob.pk)
    assert third.notified == 0 and third.batches == 0
    assert Recipient.objects.filter(mobilisation=mob).count() == 8 and notes.count() == 8


def test_fanout_resumes_a_half_done_run(tree):
    add_forces(tree)
    mob = start(tree)
    candidates = [c for c in sel.roster_candidates(mob) if c.reachable]
    # A crashed run committed the first three recipients and their outbox rows.
    svc._fanout_batch(mob, candidates[:3], timezone.now())
    # …and another wrote a recipient row but died before its batch was marked (a stray row).
    stray = candidates[3]
    Recipient.objects.create(
        mobilisation=mob,
        person_id=stray.person_id,
        user_id=stray.user_id,
        name=stray.name,
        audience=stray.audience,
        path=stray.path,
        token_hash=sel.token_hash(svc.link_token(mob.pk, stray.key)),
    )
    report = svc.mobilisation_fanout(mobilisation_id=mob.pk, size=100)
    assert report.notified == 5
    assert Recipient.objects.filter(mobilisation=mob).count() == 8
    assert Notification.objects.filter(kind=svc.NOTIFY_KIND).count() == 8
    assert not Recipient.objects.filter(mobilisation=mob, notified_at__isnull=True).exists()


def test_tokens_are_stable_and_only_hashed(tree):
    add_forces(tree)
    mob = start(tree)
    svc.mobilisation_fanout(mobilisation_id=mob.pk)
    r = Recipient.objects.filter(mobilisation=mob).first()
    token = token_of(r)
    assert token not in r.token_hash and sel.token_hash(token) == r.token_hash
    key = next(
        c.key for c in sel.roster_candidates(mob) if sel.token_hash(svc.link_token(mob.pk, c.key)) == r.token_hash
    )
    assert svc.link_token(mob.pk, key) == token


# --- the link ----------------------------------------------------------------------------------


def test_acknowledge_decline_arrive_through_the_service(tree):
    add_forces(tree)
    mob = start(tree)
    svc.mobilisation_fanout(mobilisation_id=mob.pk)
    a, b = list(Recipient.objects.filter(mobilisation=mob).order_by("pk"))[:2]
    ta, tb = token_of(a), token_of(b)
    t0 = timezone.now()
    r = svc.recipient_answer(token=ta, answer="acknowledge", now=t0)
    assert r.acknowledged_at == t0
    r = svc.recipient_answer(token=ta, answer="acknowledge", now=t0 + timedelta(minutes=1))
    assert r.acknowledged_at == t0  # a repeat changes nothing
    r = svc.recipient_answer(token=ta, answer="arrive", now=t0 + timedelta(minutes=9))
    assert r.arrived_at == t0 + timedelta(minutes=9)
    with pytest.raises(DomainError):
        svc.recipient_answer(token=ta, answer="decline")
    r = svc.recipient_answer(token=tb, answer="decline", reason="出差在外")
    assert r.declined and r.acknowledged_at is None
    with pytest.raises(NotFound):
        svc.recipient_answer(token="nope", answer="acknowledge")
    svc.mobilisation_end(actor=tree.users[Role.COMMUNITY_WORKER], mobilisation=mob)
    with pytest.raises(DomainError, match="已结束"):
        svc.recipient_answer(token=tb, answer="acknowledge")


# --- roster and drills -----------------------------------------------------------------------


def test_roster_counts_per_grid(tree):
    f = add_forces(tree)
    mob = start(tree)
    svc.mobilisation_fanout(mobilisation_id=mob.pk)
    rs = {r.person_id or r.user_id or r.name: r for r in Recipient.objects.filter(mobilisation=mob)}
    t = timezone.now()
    svc.recipient_answer(token=token_of(rs[f.people["vol"].pk]), answer="acknowledge", now=t)
    svc.recipient_answer(token=token_of(rs[f.people["both"].pk]), answer="arrive", now=t)
    svc.recipient_answer(token=token_of(rs[f.people["member"].pk]), answer="decline")
    report = sel.roster(mob)
    grid1 = next(row for row in report.rows if row.grid_id == tree.grid1.pk)
    # grid 1: vol, both, member, the grid worker (user).
    assert (grid1.total, grid1.notified, grid1.acknowledged, grid1.declined, grid1.arrived, grid1.missing) == (
        4,
        4,
        2,
        1,
        1,
        1,
    )
    assert report.totals.total == 8 and report.totals.missing == 5
    assert f.people["vol"].pk not in {m.person_id for m in report.missing}
    assert {m.name for m in report.missing} >= {"网格员乙"}


def test_drill_figures_median_and_p90(tree):
    add_forces(tree)
    mob = start(tree, mode=MobilisationMode.DRILL, title="消防演练")
    svc.mobilisation_fanout(mobilisation_id=mob.pk)
    recipients = list(Recipient.objects.filter(mobilisation=mob).order_by("pk"))
    t0 = timezone.now().replace(microsecond=0)
    Recipient.objects.filter(mobilisation=mob).update(notified_at=t0)
    for i, r in enumerate(recipients[:5]):
        token = token_of(r)
        svc.recipient_answer(token=token, answer="acknowledge", now=t0 + timedelta(seconds=60 * (i + 1)))
        if i < 3:
            svc.recipient_answer(token=token, answer="arrive", now=t0 + timedelta(seconds=600 * (i + 1)))
    report = sel.response_figures(mob)
    assert report.overall.called == 8 and report.overall.acknowledged == 5 and report.overall.arrived == 3
    assert report.overall.ack_median == 180 and report.overall.ack_p90 == 300
    assert report.overall.arrive_median == 1200 and report.overall.arrive_p90 == 1800
    assert sum(g.called for g in report.grids) == 8
    drills = sel.drills_for(user=tree.users[Role.COMMUNITY_WORKER])
    assert [d.mobilisation for d in drills] == [mob]
    assert sel.drills_for(user=tree.outsiders[Role.COMMUNITY_WORKER]) == []


def test_percentile_nearest_rank():
    assert sel._percentile([], 0.9) is None
    assert sel._percentile([5.0], 0.9) == 5.0
    assert sel._percentile([float(i) for i in range(1, 11)], 0.9) == 9.0
    assert sel._percentile([float(i) for i in range(1, 12)], 0.9) == 10.0
