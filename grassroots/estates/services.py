"""Every write of the estates app: owners' committees (业主委员会) and their members.

A committee is one term (届) of a compound's owners' committee; a compound has at most one
active committee. A member holds one post from ``since`` to ``until`` (the last day served).
Each write checks the actor's scope (out of scope is NotFound), runs in one transaction and
writes its audit entry there. A member who does not live in the compound is a warning, not a
refusal: owners may live elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db import transaction
from django.db.models import Q

from grassroots.audit.services import Actor, audit_record
from grassroots.core import clock
from grassroots.core.errors import DomainError, NotFound
from grassroots.core.scope import Scope
from grassroots.estates.models import CommitteePost, OwnersCommittee, OwnersCommitteeMember
from grassroots.places.models import Compound, Dwelling
from grassroots.registry.models import Person

# 《业主大会和业主委员会指导规则》: a term lasts at most five years.
MAX_TERM_YEARS = 5
NOT_RESIDENT = "{name}未登记居住在{compound}，请核实其业主身份。"


@dataclass(frozen=True)
class Seated:
    """A member written by a service, with warnings for the page (the write happened)."""

    member: OwnersCommitteeMember
    warnings: list[str] = field(default_factory=list)


def _years_later(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _clean_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 100:
        raise DomainError("名称不能为空，且不超过100个字。", field="name")
    return name


def _check_term(term_start: date, term_end: date, filed_on: date | None) -> None:
    if term_end <= term_start:
        raise DomainError("任期止须晚于任期起。", field="term_end")
    if term_end > _years_later(term_start, MAX_TERM_YEARS):
        raise DomainError(f"业主委员会每届任期不超过{MAX_TERM_YEARS}年。", field="term_end")
    if filed_on is not None and filed_on > clock.today():
        raise DomainError("备案日期不能晚于今天。", field="filed_on")


def _locked(scope: Scope, committee: OwnersCommittee) -> OwnersCommittee:
    """The committee, re-read under a row lock so member changes of one committee run one at a time."""
    if not scope.covers_path(committee.path):
        raise NotFound()
    return OwnersCommittee.objects.select_for_update().get(pk=committee.pk)


def _check_active(committee: OwnersCommittee) -> None:
    if not committee.is_active:
        raise DomainError("该业主委员会已终止，不能修改。")


@transaction.atomic
def committee_create(
    *,
    actor: Actor,
    scope: Scope,
    compound: Compound,
    name: str,
    term_start: date,
    term_end: date,
    filed_on: date | None = None,
) -> OwnersCommittee:
    """Record a compound's owners' committee for one term; a compound has one active committee."""
    if not scope.covers_path(compound.path):
        raise NotFound()
    name = _clean_name(name)
    _check_term(term_start, term_end, filed_on)
    if OwnersCommittee.objects.filter(compound=compound, is_active=True).exists():
        raise DomainError(f"{compound.name}已有在任的业主委员会，请先终止上一届。", field="compound")
    now = clock.now()
    committee = OwnersCommittee.objects.create(
        compound=compound,
        name=name,
        term_start=term_start,
        term_end=term_end,
        filed_on=filed_on,
        path=compound.path,
        created_at=now,
        updated_at=now,
    )
    audit_record(
        actor=actor,
        action="estates.committee.create",
        object_type="owners_committee",
        object_id=committee.pk,
        area_path=committee.path,
        detail={"compound": compound.pk, "name": name, "term": [str(term_start), str(term_end)]},
    )
    return committee


@transaction.atomic
def committee_update(
    *,
    actor: Actor,
    scope: Scope,
    committee: OwnersCommittee,
    name: str,
    term_start: date,
    term_end: date,
    filed_on: date | None,
) -> OwnersCommittee:
    """Change a committee's name, term or filing date; members' periods must stay inside the term."""
    committee = _locked(scope, committee)
    _check_active(committee)
    name = _clean_name(name)
    _check_term(term_start, term_end, filed_on)
    outside = committee.members.filter(
        Q(since__lt=term_start) | Q(since__gt=term_end) | Q(until__gt=term_end)
    ).select_related("person")
    first = outside.first()
    if first is not None:
        raise DomainError(f"{first.person.name}的任职期间不在新的任期内，请先调整委员。", field="term_start")
    changed = [
        f
        for f, v in (("name", name), ("term_start", term_start), ("term_end", term_end), ("filed_on", filed_on))
        if getattr(committee, f) != v
    ]
    committee.name, committee.term_start, committee.term_end, committee.filed_on = name, term_start, term_end, filed_on
    committee.updated_at = clock.now()
    committee.save()
    audit_record(
        actor=actor,
        action="estates.committee.update",
        object_type="owners_committee",
        object_id=committee.pk,
        area_path=committee.path,
        detail={"changed": changed},
    )
    return committee


@transaction.atomic
def committee_end(*, actor: Actor, scope: Scope, committee: OwnersCommittee, reason: str) -> OwnersCommittee:
    """End a committee (term over, dissolved or replaced); its open seats end today."""
    committee = _locked(scope, committee)
    _check_active(committee)
    reason = reason.strip()
    if not reason:
        raise DomainError("请填写终止原因。", field="reason")
    today = clock.today()
    ended = []
    for seat in committee.members.filter(until__isnull=True):
        seat.until = max(seat.since, min(today, committee.term_end))
        seat.save(update_fields=["until"])
        ended.append(seat.pk)
    committee.is_active = False
    committee.updated_at = clock.now()
    committee.save(update_fields=["is_active", "updated_at"])
    audit_record(
        actor=actor,
        action="estates.committee.end",
        object_type="owners_committee",
        object_id=committee.pk,
        area_path=committee.path,
        detail={"reason": reason[:200], "seats_ended": ended},
    )
    return committee


def lives_in_compound(person: Person, compound: Compound, on: date) -> bool:
    """True when the person's dwelling, or a residence current on ``on``, lies in the compound."""
    dwellings = {person.dwelling_id} if person.dwelling_id else set()
    dwellings |= set(
        person.residences.filter(dwelling__isnull=False)
        .filter(Q(until__isnull=True) | Q(until__gte=on))
        .values_list("dwelling_id", flat=True)
    )
    return Dwelling.objects.filter(pk__in=dwellings, building__compound=compound).exists()


def _check_period(
    committee: OwnersCommittee, since: date, until: date | None, *, person: Person, post: str, exclude: int | None
) -> None:
    if since < committee.term_start or since > committee.term_end:
        raise DomainError("任职起须在本届任期之内。", field="since")
    if until is not None and until < since:
        raise DomainError("任职止不能早于任职起。", field="until")
    if until is not None and until > committee.term_end:
        raise DomainError("任职止不能晚于本届任期止。", field="until")
    overlapping = committee.members.filter(Q(until__isnull=True) | Q(until__gte=since))
    if until is not None:
        overlapping = overlapping.filter(since__lte=until)
    if exclude is not None:
        overlapping = overlapping.exclude(pk=exclude)
    if overlapping.filter(person=person).exists():
        raise DomainError(f"{person.name}在该期间已是本届业主委员会委员。", field="person")
    if post == CommitteePost.DIRECTOR and overlapping.filter(post=CommitteePost.DIRECTOR).exists():
        raise DomainError("该期间已有主任；请先让原主任离任，或以“接替”方式更换。", field="post")


def _seat(
    actor: Actor,
    committee: OwnersCommittee,
    person: Person,
    post: str,
    since: date,
    until: date | None,
    *,
    action: str,
    replaces: OwnersCommitteeMember | None = None,
) -> Seated:
    if post not in CommitteePost.values:
        raise DomainError(f"未知的职务“{post}”。", field="post")
    _check_period(committee, since, until, person=person, post=post, exclude=replaces.pk if replaces else None)
    member = OwnersCommitteeMember.objects.create(
        committee=committee, person=person, post=post, since=since, until=until, path=committee.path
    )
    resident = lives_in_compound(person, committee.compound, since)
    warnings = [] if resident else [NOT_RESIDENT.format(name=person.name, compound=committee.compound.name)]
    detail: dict[str, object] = {"person": person.pk, "post": post, "since": str(since), "lives_in_compound": resident}
    if replaces is not None:
        detail["replaces"] = replaces.pk
    audit_record(
        actor=actor,
        action=action,
        object_type="owners_committee_member",
        object_id=member.pk,
        area_path=committee.path,
        detail=detail,
    )
    return Seated(member, warnings)


@transaction.atomic
def member_add(
    *,
    actor: Actor,
    scope: Scope,
    committee: OwnersCommittee,
    person: Person,
    post: str,
    since: date,
    until: date | None = None,
) -> Seated:
    """Seat a registry person (in scope) on the committee; once per committee at a time."""
    committee = _locked(scope, committee)
    _check_active(committee)
    if not scope.covers_path(person.path):
        raise NotFound()
    return _seat(actor, committee, person, post, since, until, action="estates.member.add")


def _member_locked(scope: Scope, member: OwnersCommitteeMember) -> tuple[OwnersCommittee, OwnersCommitteeMember]:
    if not scope.covers_path(member.path):
        raise NotFound()
    committee = _locked(scope, member.committee)
    _check_active(committee)
    return committee, OwnersCommitteeMember.objects.select_for_update().get(pk=member.pk)


def _close(member: OwnersCommitteeMember, until: date) -> None:
    if member.until is not None:
        raise DomainError(f"{member.person.name}已于{member.until:%Y-%m-%d}离任。", field="until")
    if until < member.since:
        raise DomainError("离任日期不能早于任职起。", field="until")
    if until > member.committee.term_end:
        raise DomainError("离任日期不能晚于本届任期止。", field="until")
    member.until = until
    member.save(update_fields=["until"])


@transaction.atomic
def member_end(*, actor: Actor, scope: Scope, member: OwnersCommitteeMember, until: date) -> OwnersCommitteeMember:
    """End a member's seat; ``until`` is the last day served."""
    committee, member = _member_locked(scope, member)
    member.committee = committee
    _close(member, until)
    audit_record(
        actor=actor,
        action="estates.member.end",
        object_type="owners_committee_member",
        object_id=member.pk,
        area_path=member.path,
        detail={"person": member.person_id, "until": str(until)},
    )
    return member


@transaction.atomic
def member_replace(
    *,
    actor: Actor,
    scope: Scope,
    member: OwnersCommitteeMember,
    person: Person,
    on: date,
    post: str | None = None,
) -> Seated:
    """``person`` takes over ``member``'s seat from ``on``; the old seat ends the day before."""
    committee, member = _member_locked(scope, member)
    member.committee = committee
    if not scope.covers_path(person.path):
        raise NotFound()
    if person.pk == member.person_id:
        raise DomainError("接替人不能是原委员本人。", field="person")
    if on <= member.since:
        raise DomainError("接替日期须晚于原委员的任职起。", field="since")
    _close(member, on - timedelta(days=1))
    return _seat(
        actor, committee, person, post or member.post, on, None, action="estates.member.replace", replaces=member
    )
