"""Every write of the estates app: owners' committees (业主委员会) and their members; property
companies, their service contracts, fee collection, surveys and residents' answers; 红色业委会
cross appointments; reports to the community; dormitory zones (集宿区) and their heads.

A committee is one term (届) of a compound's owners' committee; a compound has at most one
active committee. A member holds one post from ``since`` to ``until`` (the last day served).
Each write checks the actor's scope (out of scope is NotFound), runs in one transaction and
writes its audit entry there. A member who does not live in the compound is a warning, not a
refusal: owners may live elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q

from grassroots.audit.services import Actor, audit_record
from grassroots.core import clock
from grassroots.core.errors import DomainError, NotFound
from grassroots.core.scope import Scope
from grassroots.estates import rules
from grassroots.estates.models import (
    CommitteePost,
    CrossAppointment,
    CrossDirection,
    DormitoryHead,
    DormitoryZone,
    EstateReport,
    FeeCollection,
    HeadLevel,
    OwnersCommittee,
    OwnersCommitteeMember,
    PartyPost,
    PropertyCompany,
    Qualification,
    ReportKind,
    RevenueUse,
    ServiceContract,
    Survey,
    SurveyAnswer,
    SurveyQuestion,
    SurveyResponse,
)
from grassroots.party.models import PartyMember, PartyOrg
from grassroots.places.models import Building, Compound, CompoundKind, Dwelling
from grassroots.registry.models import Person, Unit, UnitKind

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


# --- property companies and contracts ---------------------------------------------------------

MAX_QUESTIONS = 10


def _in_scope(scope: Scope, path: str) -> None:
    if not scope.covers_path(path):
        raise NotFound()


def _lock_compound(scope: Scope, compound: Compound) -> Compound:
    """The compound re-read under a row lock: its contracts (or zone) change one at a time."""
    _in_scope(scope, compound.path)
    return Compound.objects.select_for_update().get(pk=compound.pk)


def _check_quarter(year: int, quarter: int) -> None:
    if quarter not in (1, 2, 3, 4):
        raise DomainError("季度须为1至4。", field="quarter")
    if year < 2000 or (year, quarter) > rules.quarter_of(clock.today()):
        raise DomainError("不能登记尚未开始的季度。", field="year")


@transaction.atomic
def company_create(*, actor: Actor, scope: Scope, unit: Unit, qualification: str) -> PropertyCompany:
    """Register a registry unit (an enterprise in scope) as a property company."""
    _in_scope(scope, unit.path)
    if unit.kind != UnitKind.ENTERPRISE:
        raise DomainError("物业公司须为企业类实有单位。", field="unit")
    if qualification not in Qualification.values:
        raise DomainError("未知的资质。", field="qualification")
    if PropertyCompany.objects.filter(unit=unit).exists():
        raise DomainError(f"{unit.name}已登记为物业公司。", field="unit")
    company = PropertyCompany.objects.create(
        unit=unit, qualification=qualification, path=unit.path, created_at=clock.now()
    )
    audit_record(
        actor=actor,
        action="estates.company.create",
        object_type="property_company",
        object_id=company.pk,
        area_path=company.path,
        detail={"unit": unit.pk, "qualification": qualification},
    )
    return company


@dataclass(frozen=True)
class Contracted:
    contract: ServiceContract
    ended: ServiceContract | None  # the previous company's open contract, ended the day before
    unreported: bool  # a change of company without a report to the community in the window


@transaction.atomic
def contract_create(
    *, actor: Actor, scope: Scope, company: PropertyCompany, compound: Compound, start: date, end: date | None = None
) -> Contracted:
    """Record that ``company`` serves ``compound`` from ``start``; one company per compound on any day.

    A compound's open contract that began before ``start`` ends the day before (a change of
    company). A change not reported to the community within the window before is recorded and
    flagged (the write happens; the page shows the flag).
    """
    compound = _lock_compound(scope, compound)
    if not company.is_active:
        raise DomainError("该物业公司已停用。", field="company")
    if end is not None and end < start:
        raise DomainError("服务止不能早于服务起。", field="end")
    contracts = ServiceContract.objects.filter(compound=compound)
    open_before = contracts.filter(end__isnull=True, start__lt=start).first()
    others = contracts.exclude(pk=open_before.pk) if open_before else contracts
    overlapping = others.filter(Q(end__isnull=True) | Q(end__gte=start))
    if end is not None:
        overlapping = overlapping.filter(start__lte=end)
    clash = overlapping.select_related("company__unit").first()
    if clash is not None:
        raise DomainError(
            f"该期间{compound.name}已由{clash.company}服务，一个小区同一时间只能有一家物业公司。", field="start"
        )
    if open_before is not None:
        open_before.end = start - timedelta(days=1)
        open_before.save(update_fields=["end"])
    previous = contracts.filter(start__lt=start).order_by("-start").first()
    is_change = previous is not None and previous.company_id != company.pk
    reported = list(
        EstateReport.objects.filter(compound=compound, kind=ReportKind.CHANGE_COMPANY).values_list(
            "reported_on", flat=True
        )
    )
    unreported = is_change and not rules.change_reported(start, reported)
    contract = ServiceContract.objects.create(
        company=company, compound=compound, start=start, end=end, path=compound.path, created_at=clock.now()
    )
    audit_record(
        actor=actor,
        action="estates.contract.create",
        object_type="service_contract",
        object_id=contract.pk,
        area_path=contract.path,
        detail={
            "company": company.pk,
            "compound": compound.pk,
            "start": str(start),
            "end": str(end) if end else None,
            "ended": open_before.pk if open_before else None,
            "change": is_change,
            "unreported": unreported,
        },
    )
    return Contracted(contract, open_before, unreported)


@transaction.atomic
def contract_end(*, actor: Actor, scope: Scope, contract: ServiceContract, end: date) -> ServiceContract:
    """End an open contract; ``end`` is the last day served."""
    _lock_compound(scope, contract.compound)
    contract = ServiceContract.objects.get(pk=contract.pk)
    if contract.end is not None:
        raise DomainError("该合同已有服务止日期。", field="end")
    if end < contract.start:
        raise DomainError("服务止不能早于服务起。", field="end")
    contract.end = end
    contract.save(update_fields=["end"])
    audit_record(
        actor=actor,
        action="estates.contract.end",
        object_type="service_contract",
        object_id=contract.pk,
        area_path=contract.path,
        detail={"end": str(end)},
    )
    return contract


@transaction.atomic
def fee_record(
    *, actor: Actor, scope: Scope, compound: Compound, year: int, quarter: int, billed: int, paid: int
) -> FeeCollection:
    """Enter (or correct) a compound's fee collection for a quarter."""
    compound = _lock_compound(scope, compound)
    _check_quarter(year, quarter)
    if billed <= 0:
        raise DomainError("应缴户数须大于0。", field="billed")
    if paid < 0 or paid > billed:
        raise DomainError("实缴户数须在0与应缴户数之间。", field="paid")
    fee, created = FeeCollection.objects.update_or_create(
        compound=compound,
        year=year,
        quarter=quarter,
        defaults={"billed": billed, "paid": paid, "path": compound.path, "updated_at": clock.now()},
    )
    audit_record(
        actor=actor,
        action="estates.fee.record",
        object_type="fee_collection",
        object_id=fee.pk,
        area_path=fee.path,
        detail={"quarter": f"{year}Q{quarter}", "billed": billed, "paid": paid, "created": created},
    )
    return fee


# --- surveys ------------------------------------------------------------------------------------


@transaction.atomic
def survey_create(
    *, actor: Actor, scope: Scope, compound: Compound, year: int, quarter: int, title: str, questions: list[str]
) -> Survey:
    """A satisfaction survey of a compound for a quarter, with 1–10 questions on a 1–5 scale."""
    compound = _lock_compound(scope, compound)
    _check_quarter(year, quarter)
    title = title.strip()
    if not title or len(title) > 100:
        raise DomainError("标题不能为空，且不超过100个字。", field="title")
    texts = [q.strip() for q in questions if q.strip()]
    if not texts or len(texts) > MAX_QUESTIONS:
        raise DomainError(f"请填写1至{MAX_QUESTIONS}个题目。", field="questions")
    if any(len(t) > 200 for t in texts):
        raise DomainError("每个题目不超过200个字。", field="questions")
    if Survey.objects.filter(compound=compound, year=year, quarter=quarter).exists():
        raise DomainError(f"{compound.name}{year}年第{quarter}季度已有测评。", field="quarter")
    survey = Survey.objects.create(
        compound=compound, year=year, quarter=quarter, title=title, path=compound.path, created_at=clock.now()
    )
    SurveyQuestion.objects.bulk_create(
        [SurveyQuestion(survey=survey, number=i, text=t) for i, t in enumerate(texts, start=1)]
    )
    audit_record(
        actor=actor,
        action="estates.survey.create",
        object_type="survey",
        object_id=survey.pk,
        area_path=survey.path,
        detail={"compound": compound.pk, "quarter": f"{year}Q{quarter}", "questions": len(texts)},
    )
    return survey


@transaction.atomic
def survey_close(*, actor: Actor, scope: Scope, survey: Survey) -> Survey:
    _in_scope(scope, survey.path)
    survey = Survey.objects.select_for_update().get(pk=survey.pk)
    if not survey.is_open:
        raise DomainError("该测评已结束。")
    survey.is_open = False
    survey.save(update_fields=["is_open"])
    audit_record(
        actor=actor, action="estates.survey.close", object_type="survey", object_id=survey.pk, area_path=survey.path
    )
    return survey


def survey_answer(*, actor: Actor, user: Any, scope: Scope, survey: Survey, scores: dict[int, int]) -> SurveyResponse:
    """A resident's answers (question id → 1–5), once per account; every question must be answered."""
    _in_scope(scope, survey.path)
    if not survey.is_open:
        raise DomainError("该测评已结束，感谢您的关注。")
    questions = list(survey.questions.all())
    if {q.pk for q in questions} != set(scores):
        raise DomainError("请回答全部题目。")
    if any(v not in (1, 2, 3, 4, 5) for v in scores.values()):
        raise DomainError("评分须为1至5分。")
    try:
        with transaction.atomic():
            response = SurveyResponse.objects.create(
                survey=survey, user=user, path=survey.path, submitted_at=clock.now()
            )
            SurveyAnswer.objects.bulk_create(
                [SurveyAnswer(response=response, question_id=q.pk, score=scores[q.pk]) for q in questions]
            )
            audit_record(
                actor=actor,
                action="estates.survey.answer",
                object_type="survey",
                object_id=survey.pk,
                area_path=survey.path,
            )
    except IntegrityError:
        raise DomainError("您已参加过本次测评，每个账号只能作答一次。", code="duplicate") from None
    return response


# --- reports to the community -------------------------------------------------------------------


@transaction.atomic
def report_record(
    *,
    actor: Actor,
    scope: Scope,
    compound: Compound,
    kind: str,
    reported_on: date,
    description: str,
    amount: Decimal | None = None,
) -> EstateReport:
    """Record a matter reported to the community beforehand (change of company, use of common revenue)."""
    _in_scope(scope, compound.path)
    if kind not in ReportKind.values:
        raise DomainError("未知的报告事项。", field="kind")
    if reported_on > clock.today():
        raise DomainError("报告日期不能晚于今天。", field="reported_on")
    description = description.strip()
    if not description or len(description) > 500:
        raise DomainError("请填写内容（不超过500字）。", field="description")
    if kind == ReportKind.COMMON_REVENUE and (amount is None or amount <= 0):
        raise DomainError("使用公共收益须填写金额。", field="amount")
    if amount is not None and amount < 0:
        raise DomainError("金额不能为负数。", field="amount")
    report = EstateReport.objects.create(
        compound=compound,
        kind=kind,
        reported_on=reported_on,
        description=description,
        amount=amount,
        path=compound.path,
        created_at=clock.now(),
    )
    audit_record(
        actor=actor,
        action="estates.report.record",
        object_type="estate_report",
        object_id=report.pk,
        area_path=report.path,
        detail={"kind": kind, "reported_on": str(reported_on), "amount": str(amount) if amount is not None else None},
    )
    return report


@transaction.atomic
def revenue_use_record(
    *, actor: Actor, scope: Scope, compound: Compound, used_on: date, amount: Decimal, purpose: str
) -> RevenueUse:
    """Record a use of common revenue. It is kept whether or not it was reported: the pages flag it."""
    _in_scope(scope, compound.path)
    if used_on > clock.today():
        raise DomainError("使用日期不能晚于今天。", field="used_on")
    if amount is None or amount <= 0:
        raise DomainError("请填写使用金额（大于0）。", field="amount")
    purpose = purpose.strip()
    if not purpose or len(purpose) > 500:
        raise DomainError("请填写用途（不超过500字）。", field="purpose")
    use = RevenueUse.objects.create(
        compound=compound, used_on=used_on, amount=amount, purpose=purpose, path=compound.path, created_at=clock.now()
    )
    audit_record(
        actor=actor,
        action="estates.revenue_use.record",
        object_type="revenue_use",
        object_id=use.pk,
        area_path=use.path,
        detail={"used_on": str(used_on), "amount": str(amount)},
    )
    return use


# --- 红色业委会: cross appointments ------------------------------------------------------------------


@transaction.atomic
def cross_appoint(
    *,
    actor: Actor,
    scope: Scope,
    committee: OwnersCommittee,
    person: Person,
    party_org: PartyOrg,
    party_post: str,
    direction: str,
    since: date,
) -> CrossAppointment:
    """Record that a committee member holds a post in the compound's party organisation (or the reverse)."""
    committee = _locked(scope, committee)
    _check_active(committee)
    _in_scope(scope, party_org.path)
    if party_post not in PartyPost.values:
        raise DomainError("未知的党内职务。", field="party_post")
    if direction not in CrossDirection.values:
        raise DomainError("未知的交叉任职方向。", field="direction")
    if not party_org.is_active or not Scope(area_path=committee.path).covers_path(party_org.path):
        raise DomainError("党组织须为小区所在社区（或其网格、楼栋）的有效党组织。", field="party_org")
    if (
        not committee.members.filter(person=person)
        .filter(Q(since__lte=since) & (Q(until__isnull=True) | Q(until__gte=since)))
        .exists()
    ):
        raise DomainError(f"{person.name}在{since:%Y-%m-%d}不是本届业主委员会委员。", field="person")
    if not PartyMember.objects.filter(person=person, is_active=True).exists():
        raise DomainError(f"{person.name}不是有效党员，不能担任党内职务。", field="person")
    if committee.cross_appointments.filter(person=person, until__isnull=True).exists():
        raise DomainError(f"已登记{person.name}的交叉任职。", field="person")
    appointment = CrossAppointment.objects.create(
        committee=committee,
        party_org=party_org,
        person=person,
        party_post=party_post,
        direction=direction,
        since=since,
        path=committee.path,
    )
    audit_record(
        actor=actor,
        action="estates.cross.appoint",
        object_type="cross_appointment",
        object_id=appointment.pk,
        area_path=committee.path,
        detail={"person": person.pk, "party_org": party_org.pk, "post": party_post, "direction": direction},
    )
    return appointment


@transaction.atomic
def cross_end(*, actor: Actor, scope: Scope, appointment: CrossAppointment, until: date) -> CrossAppointment:
    _locked(scope, appointment.committee)
    appointment = CrossAppointment.objects.select_for_update().get(pk=appointment.pk)
    if appointment.until is not None:
        raise DomainError("该交叉任职已结束。", field="until")
    if until < appointment.since:
        raise DomainError("结束日期不能早于开始日期。", field="until")
    appointment.until = until
    appointment.save(update_fields=["until"])
    audit_record(
        actor=actor,
        action="estates.cross.end",
        object_type="cross_appointment",
        object_id=appointment.pk,
        area_path=appointment.path,
        detail={"until": str(until)},
    )
    return appointment


# --- dormitory zones ----------------------------------------------------------------------------


@transaction.atomic
def zone_save(
    *,
    actor: Actor,
    scope: Scope,
    compound: Compound,
    workers: int,
    staff_full: bool,
    staff_note: str = "",
    joint_committee_on: date | None = None,
    joint_committee_note: str = "",
) -> DormitoryZone:
    """Record (or update) a dormitory zone on a compound of kind 集宿区."""
    compound = _lock_compound(scope, compound)
    if compound.kind != CompoundKind.DORMITORY:
        raise DomainError(f"{compound.name}不是集宿区类型的小区。", field="compound")
    if workers < 0:
        raise DomainError("员工数不能为负数。", field="workers")
    if joint_committee_on is not None and joint_committee_on > clock.today():
        raise DomainError("联合管委会成立日期不能晚于今天。", field="joint_committee_on")
    zone, created = DormitoryZone.objects.update_or_create(
        compound=compound,
        defaults={
            "workers": workers,
            "staff_full": staff_full,
            "staff_note": staff_note.strip()[:200],
            "joint_committee_on": joint_committee_on,
            "joint_committee_note": joint_committee_note.strip()[:200],
            "path": compound.path,
            "updated_at": clock.now(),
        },
    )
    audit_record(
        actor=actor,
        action="estates.zone.save",
        object_type="dormitory_zone",
        object_id=zone.pk,
        area_path=zone.path,
        detail={
            "created": created,
            "workers": workers,
            "staff_full": staff_full,
            "joint_committee": joint_committee_on is not None,
        },
    )
    return zone


@transaction.atomic
def head_add(
    *,
    actor: Actor,
    scope: Scope,
    zone: DormitoryZone,
    building: Building,
    level: str,
    person: Person,
    floor: int | None = None,
    room: str = "",
) -> DormitoryHead:
    """A building, floor or room head of a zone; one head per building, floor or room."""
    _lock_compound(scope, zone.compound)
    _in_scope(scope, person.path)
    if building.compound_id != zone.compound_id:
        raise DomainError("楼栋不属于该集宿区。", field="building")
    room = room.strip()
    if level == HeadLevel.BUILDING:
        floor, room = None, ""
    elif level == HeadLevel.FLOOR:
        room = ""
        if floor is None:
            raise DomainError("请填写楼层。", field="floor")
    elif level == HeadLevel.ROOM:
        if floor is None or not room:
            raise DomainError("请填写楼层和寝室号。", field="room")
    else:
        raise DomainError("未知的类别。", field="level")
    if floor is not None and not 1 <= floor <= building.floors:
        raise DomainError(f"{building.name}共{building.floors}层。", field="floor")
    if DormitoryHead.objects.filter(building=building, level=level, floor=floor, room=room).exists():
        raise DomainError("该楼栋（楼层、寝室）已有负责人，请先移除。", field="level")
    head = DormitoryHead.objects.create(
        zone=zone, building=building, level=level, floor=floor, room=room, person=person, path=zone.path
    )
    audit_record(
        actor=actor,
        action="estates.head.add",
        object_type="dormitory_head",
        object_id=head.pk,
        area_path=head.path,
        detail={"person": person.pk, "building": building.pk, "level": level, "floor": floor, "room": room},
    )
    return head


@transaction.atomic
def head_remove(*, actor: Actor, scope: Scope, head: DormitoryHead) -> None:
    _in_scope(scope, head.path)
    audit_record(
        actor=actor,
        action="estates.head.remove",
        object_type="dormitory_head",
        object_id=head.pk,
        area_path=head.path,
        detail={"person": head.person_id, "level": head.level},
    )
    head.delete()
