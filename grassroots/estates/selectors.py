"""Reads of the estates app, each starting from the actor's scope; out of scope is NotFound.

The rule (GLOSSARY.md): more than half of an owners' committee's members are party members.
Counted on a day: the members seated that day (``since`` ≤ day ≤ ``until`` or still open), of
whom those who are active party members. Exactly half is not more than half: flagged.
Pages that show members' names are audited as reads of those persons.

Property companies, the red/black list, 红色业委会, reports and dormitory zones follow below;
their thresholds live in ``rules``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum

from grassroots.audit.services import Actor, audit_record_reads
from grassroots.core import clock
from grassroots.core.errors import NotFound
from grassroots.core.scope import Scope
from grassroots.estates import rules
from grassroots.estates.models import (
    CommitteePost,
    CrossAppointment,
    DormitoryHead,
    DormitoryZone,
    EstateReport,
    FeeCollection,
    OwnersCommittee,
    OwnersCommitteeMember,
    PropertyCompany,
    ReportKind,
    RevenueUse,
    ServiceContract,
    Survey,
    SurveyAnswer,
    SurveyResponse,
)
from grassroots.party.models import PartyMember
from grassroots.places.models import Area, AreaLevel, Compound

PERSON_CIPHERS = ("person__id_number_cipher", "person__phone_cipher")
# The levels a scope's summary is broken down by.
SUMMARY_LEVELS = (AreaLevel.SUBDISTRICT, AreaLevel.COMMUNITY)
POST_ORDER = {CommitteePost.DIRECTOR: 0, CommitteePost.DEPUTY: 1, CommitteePost.MEMBER: 2}


def seated_q(on: date, prefix: str = "") -> Q:
    """Seats current on ``on``; ``prefix`` is e.g. ``"members__"`` from a committee."""
    return Q(**{f"{prefix}since__lte": on}) & (Q(**{f"{prefix}until__isnull": True}) | Q(**{f"{prefix}until__gte": on}))


def seated_on(seat: OwnersCommitteeMember, on: date) -> bool:
    return seat.since <= on and (seat.until is None or seat.until >= on)


def is_compliant(members: int, party_members: int) -> bool:
    """More than half, in integers: 3 of 5 yes, 2 of 4 no, 0 of 0 no."""
    return members > 0 and 2 * party_members > members


@dataclass(frozen=True)
class CommitteeShare:
    committee: OwnersCommittee
    members: int  # seated on the day
    party_members: int  # of whom active party members

    @property
    def share(self) -> float | None:
        """Party members' share in per cent, None for a committee without members."""
        return 100 * self.party_members / self.members if self.members else None

    @property
    def compliant(self) -> bool:
        return is_compliant(self.members, self.party_members)

    @property
    def flagged(self) -> bool:
        """Not more than half (≤ 50 %), including a committee with no members."""
        return not self.compliant


def committee_queryset(scope: Scope) -> QuerySet[OwnersCommittee]:
    return OwnersCommittee.objects.in_scope(scope).select_related("compound", "compound__community")


def _with_counts(qs: QuerySet[OwnersCommittee], on: date) -> QuerySet[Any]:
    """Each committee with ``n_members`` seated on ``on`` and ``n_party`` of them active party members."""
    seated = seated_q(on, "members__")
    return qs.annotate(
        n_members=Count("members", filter=seated, distinct=True),
        n_party=Count("members", filter=seated & Q(members__person__party_member__is_active=True), distinct=True),
    )


def committee_shares(*, scope: Scope, area: Area | None = None, on: date | None = None) -> list[CommitteeShare]:
    """Active committees in scope (below ``area`` when given) with their party share on ``on``."""
    if scope.area_path is None:
        raise NotFound()
    qs = committee_queryset(scope).filter(is_active=True)
    if area is not None:
        if not scope.covers_path(area.path):
            raise NotFound()
        qs = qs.filter(Scope(area_path=area.path).path_q("path"))
    rows = _with_counts(qs, on or clock.today()).order_by("path", "compound__name", "id")
    return [CommitteeShare(c, c.n_members, c.n_party) for c in rows]


def compounds_without_committee(*, scope: Scope, area: Area | None = None) -> list[Compound]:
    """Compounds in scope (below ``area``) with no active owners' committee."""
    if scope.area_path is None:
        raise NotFound()
    active = OwnersCommittee.objects.filter(compound=OuterRef("pk"), is_active=True)
    qs = Compound.objects.in_scope(scope).filter(~Exists(active)).select_related("community")
    if area is not None:
        qs = qs.filter(Scope(area_path=area.path).path_q("path"))
    return list(qs.order_by("path", "name"))


@dataclass
class AreaSummary:
    """Committees of an area (a subdistrict, a community, or the page's whole area)."""

    area: Area
    committees: int = 0
    compliant: int = 0
    compounds: int = 0
    without: int = 0  # compounds with no active committee

    @property
    def flagged(self) -> int:
        return self.committees - self.compliant

    @property
    def percentage(self) -> float | None:
        """Compliant committees in per cent of committees, None when there are none."""
        return 100 * self.compliant / self.committees if self.committees else None


@dataclass(frozen=True)
class Overview:
    area: Area
    on: date
    total: AreaSummary
    breakdown: list[AreaSummary]  # each subdistrict and community below ``area``, in tree order
    committees: list[CommitteeShare]
    without: list[Compound]

    @property
    def flagged(self) -> list[CommitteeShare]:
        return [c for c in self.committees if c.flagged]


def overview(*, scope: Scope, area: Area, on: date | None = None) -> Overview:
    """Committees, compliance and compounds without a committee, for ``area`` and the
    subdistricts and communities below it. A fixed number of queries whatever the size."""
    if not scope.covers_path(area.path):
        raise NotFound()
    day = on or clock.today()
    inside = Scope(area_path=area.path)
    shares = committee_shares(scope=scope, area=area, on=day)
    without = compounds_without_committee(scope=scope, area=area)
    compound_paths = list(Compound.objects.in_scope(inside).values_list("path", flat=True))
    below = Area.objects.in_scope(inside).filter(level__in=SUMMARY_LEVELS).exclude(pk=area.pk).order_by("path")
    total = AreaSummary(area)
    summaries = [AreaSummary(a) for a in below]

    def covering(path: str) -> list[AreaSummary]:
        return [total, *(s for s in summaries if Scope(area_path=s.area.path).covers_path(path))]

    for s in shares:
        for summary in covering(s.committee.path):
            summary.committees += 1
            summary.compliant += s.compliant
    for path in compound_paths:
        for summary in covering(path):
            summary.compounds += 1
    for compound in without:
        for summary in covering(compound.path):
            summary.without += 1
    return Overview(area, day, total, summaries, shares, without)


def committee_get(*, scope: Scope, committee_id: int) -> OwnersCommittee:
    committee = committee_queryset(scope).filter(pk=committee_id).first()
    if committee is None:
        raise NotFound()
    return committee


@dataclass(frozen=True)
class SeatRow:
    member: OwnersCommitteeMember
    is_party_member: bool  # an active party member (today)
    current: bool  # seated on the day


@dataclass(frozen=True)
class CommitteeDetail:
    committee: OwnersCommittee
    share: CommitteeShare
    current: list[SeatRow]
    past: list[SeatRow]  # ended or not yet begun


def committee_detail(*, actor: Actor, scope: Scope, committee_id: int, on: date | None = None) -> CommitteeDetail:
    """A committee with its members, party members marked; audited as a read of the persons shown."""
    committee = committee_get(scope=scope, committee_id=committee_id)
    day = on or clock.today()
    party = PartyMember.objects.filter(person=OuterRef("person_id"), is_active=True)
    seats = list(
        OwnersCommitteeMember.objects.filter(committee=committee)
        .select_related("person")
        .defer(*PERSON_CIPHERS)
        .annotate(is_party=Exists(party))
    )
    seats.sort(key=lambda s: (POST_ORDER.get(s.post, 9), s.since, s.pk))
    rows = [SeatRow(s, bool(s.is_party), seated_on(s, day)) for s in seats]
    current = [r for r in rows if r.current]
    members, party_members = len(current), sum(r.is_party_member for r in current)
    audit_record_reads(
        actor=actor,
        object_type="person",
        object_ids=sorted({s.person_id for s in seats}),
        area_path=committee.path,
        action="estates.committee.members.view",
    )
    return CommitteeDetail(
        committee=committee,
        share=CommitteeShare(committee, members, party_members),
        current=current,
        past=[r for r in rows if not r.current],
    )


def seat_get(*, scope: Scope, committee: OwnersCommittee, member_id: int) -> OwnersCommitteeMember:
    seat = (
        OwnersCommitteeMember.objects.in_scope(scope)
        .filter(committee=committee, pk=member_id)
        .select_related("person", "committee")
        .defer(*PERSON_CIPHERS)
        .first()
    )
    if seat is None:
        raise NotFound()
    return seat


# --- property companies -------------------------------------------------------------------------


def current_q(on: date, prefix: str = "") -> Q:
    """Contracts current on ``on``."""
    return Q(**{f"{prefix}start__lte": on}) & (Q(**{f"{prefix}end__isnull": True}) | Q(**{f"{prefix}end__gte": on}))


def _area_q(scope: Scope, area: Area | None, field: str = "path") -> Q:
    if scope.area_path is None:
        raise NotFound()
    q = scope.path_q(field)
    if area is not None:
        if not scope.covers_path(area.path):
            raise NotFound()
        q &= Scope(area_path=area.path).path_q(field)
    return q


def company_queryset(scope: Scope) -> QuerySet[PropertyCompany]:
    """Companies registered in scope or serving (now or before) a compound in scope."""
    serving = ServiceContract.objects.filter(company=OuterRef("pk")).filter(scope.path_q("path"))
    return PropertyCompany.objects.filter(scope.path_q("path") | Q(Exists(serving))).select_related("unit")


@dataclass(frozen=True)
class CompanyRow:
    company: PropertyCompany
    compounds: list[Compound]  # served today, within scope


def company_list(*, scope: Scope, on: date | None = None) -> list[CompanyRow]:
    """Companies in scope with the compounds (in scope) they serve today. Three queries."""
    if scope.area_path is None:
        raise NotFound()
    day = on or clock.today()
    companies = list(company_queryset(scope).order_by("unit__name", "id"))
    serving: dict[int, list[Compound]] = defaultdict(list)
    contracts = (
        ServiceContract.objects.filter(company__in=companies)
        .filter(scope.path_q("path") & current_q(day))
        .select_related("compound")
        .order_by("compound__path", "compound__name")
    )
    for c in contracts:
        serving[c.company_id].append(c.compound)
    return [CompanyRow(c, serving[c.pk]) for c in companies]


def company_get(*, scope: Scope, company_id: int) -> PropertyCompany:
    company = company_queryset(scope).filter(pk=company_id).first()
    if company is None:
        raise NotFound()
    return company


@dataclass(frozen=True)
class ContractRow:
    contract: ServiceContract
    current: bool
    is_change: bool  # a different company served the compound before
    unreported: bool  # a change without a report to the community in the window before


def _contract_rows(contracts: list[ServiceContract], reports: list[EstateReport], day: date) -> list[ContractRow]:
    """``contracts`` must hold every contract of their compounds (to see the one before)."""
    by_compound: dict[int, list[ServiceContract]] = defaultdict(list)
    for c in contracts:
        by_compound[c.compound_id].append(c)
    report_days: dict[int, list[date]] = defaultdict(list)
    for r in reports:
        if r.kind == ReportKind.CHANGE_COMPANY:
            report_days[r.compound_id].append(r.reported_on)
    rows: dict[int, ContractRow] = {}
    for compound_id, items in by_compound.items():
        items.sort(key=lambda c: (c.start, c.pk))
        for before, c in zip([None, *items[:-1]], items, strict=True):
            change = before is not None and before.company_id != c.company_id
            rows[c.pk] = ContractRow(
                c,
                c.start <= day and (c.end is None or c.end >= day),
                change,
                change and not rules.change_reported(c.start, report_days[compound_id]),
            )
    return [rows[c.pk] for c in contracts]


def company_contracts(*, scope: Scope, company: PropertyCompany) -> list[ContractRow]:
    """The company's contracts for compounds in scope, newest first, with the change flags."""
    compound_ids = ServiceContract.objects.filter(company=company).filter(scope.path_q("path")).values("compound_id")
    every = list(
        ServiceContract.objects.filter(compound_id__in=compound_ids)
        .select_related("compound", "compound__community", "company__unit")
        .order_by("-start", "-id")
    )
    reports = list(EstateReport.objects.filter(compound_id__in=compound_ids, kind=ReportKind.CHANGE_COMPANY))
    return [r for r in _contract_rows(every, reports, clock.today()) if r.contract.company_id == company.pk]


@dataclass
class CommunityCompounds:
    community: Area
    compounds: list[Compound] = field(default_factory=list)


def compounds_without_company(
    *, scope: Scope, area: Area | None = None, on: date | None = None
) -> list[CommunityCompounds]:
    """Compounds in scope (below ``area``) that no company serves on ``on``, by community."""
    q = _area_q(scope, area)
    serving = ServiceContract.objects.filter(current_q(on or clock.today())).filter(compound=OuterRef("pk"))
    qs = Compound.objects.filter(q).filter(~Exists(serving)).select_related("community").order_by("path", "name")
    groups: dict[int, CommunityCompounds] = {}
    for c in qs:
        groups.setdefault(c.community_id, CommunityCompounds(c.community)).compounds.append(c)
    return list(groups.values())


def compound_get(*, scope: Scope, compound_id: int) -> Compound:
    compound = Compound.objects.in_scope(scope).select_related("community").filter(pk=compound_id).first()
    if compound is None:
        raise NotFound()
    return compound


@dataclass(frozen=True)
class FeeRow:
    fee: FeeCollection

    @property
    def rate(self) -> Decimal | None:
        return rules.percent(self.fee.paid, self.fee.billed)


@dataclass(frozen=True)
class QuestionResult:
    number: int
    text: str
    answers: int
    average: Decimal | None  # two decimals
    satisfied: Decimal | None  # per cent of answers ≥ SATISFIED_MIN
    counts: list[int]  # answers scoring 1..5


@dataclass(frozen=True)
class SurveyResult:
    survey: Survey
    responses: int
    answers: int
    satisfied_answers: int
    questions: list[QuestionResult]

    @property
    def satisfaction(self) -> Decimal | None:
        return rules.percent(self.satisfied_answers, self.answers)


def _survey_results(surveys: list[Survey], *, with_questions: bool) -> list[SurveyResult]:
    ids = [s.pk for s in surveys]
    responses = dict(
        SurveyResponse.objects.filter(survey_id__in=ids)
        .values("survey_id")
        .annotate(n=Count("id"))
        .values_list("survey_id", "n")
    )
    satisfied = Q(score__gte=rules.SATISFIED_MIN)
    totals = {
        row["response__survey_id"]: row
        for row in SurveyAnswer.objects.filter(response__survey_id__in=ids)
        .values("response__survey_id")
        .annotate(n=Count("id"), ok=Count("id", filter=satisfied))
    }
    per_question: dict[int, dict[int, int]] = defaultdict(dict)
    if with_questions:
        for question_id, score_value, n in (
            SurveyAnswer.objects.filter(response__survey_id__in=ids)
            .values("question_id", "score")
            .annotate(n=Count("id"))
            .values_list("question_id", "score", "n")
        ):
            per_question[question_id][score_value] = n
    results = []
    for s in surveys:
        questions = []
        if with_questions:
            for q in s.questions.all():
                counts = [per_question[q.pk].get(v, 0) for v in range(1, 6)]
                n = sum(counts)
                total = sum(v * c for v, c in zip(range(1, 6), counts, strict=True))
                average = (Decimal(total) / Decimal(n)).quantize(Decimal("0.01")) if n else None
                ok = sum(counts[rules.SATISFIED_MIN - 1 :])
                questions.append(QuestionResult(q.number, q.text, n, average, rules.percent(ok, n), counts))
        row = totals.get(s.pk, {"n": 0, "ok": 0})
        results.append(SurveyResult(s, responses.get(s.pk, 0), row["n"], row["ok"], questions))
    return results


def survey_get(*, scope: Scope, survey_id: int) -> Survey:
    survey = Survey.objects.in_scope(scope).select_related("compound", "compound__community").filter(pk=survey_id)
    found = survey.prefetch_related("questions").first()
    if found is None:
        raise NotFound()
    return found


def survey_result(*, scope: Scope, survey_id: int) -> SurveyResult:
    return _survey_results([survey_get(scope=scope, survey_id=survey_id)], with_questions=True)[0]


@dataclass(frozen=True)
class RevenueRow:
    use: RevenueUse
    report: EstateReport | None  # the earlier report of common revenue that covers it; None: not reported

    @property
    def unreported(self) -> bool:
        return self.report is None


def _revenue_rows(reports: list[EstateReport], uses: list[RevenueUse]) -> list[RevenueRow]:
    """Each use with the report covering it, compound by compound (rules.revenue_uses_covered)."""
    by_compound: dict[int, list[EstateReport]] = defaultdict(list)
    for r in reports:
        if r.kind == ReportKind.COMMON_REVENUE and r.amount is not None:
            by_compound[r.compound_id].append(r)
    uses_by: dict[int, list[RevenueUse]] = defaultdict(list)
    for u in uses:
        uses_by[u.compound_id].append(u)
    covering: dict[int, EstateReport | None] = {}
    for compound_id, mine in uses_by.items():
        theirs = by_compound[compound_id]
        picks = rules.revenue_uses_covered(
            [(r.reported_on, r.amount) for r in theirs if r.amount is not None], [(u.used_on, u.amount) for u in mine]
        )
        covering.update({u.pk: (theirs[k] if k is not None else None) for u, k in zip(mine, picks, strict=True)})
    return [RevenueRow(u, covering[u.pk]) for u in uses]


def revenue_use_covered(*, scope: Scope, use: RevenueUse) -> bool:
    """Whether an earlier report of common revenue covers ``use`` (with the compound's other uses)."""
    if not scope.covers_path(use.path):
        raise NotFound()
    reports = list(EstateReport.objects.filter(compound_id=use.compound_id, kind=ReportKind.COMMON_REVENUE))
    uses = list(RevenueUse.objects.filter(compound_id=use.compound_id))
    return next(r for r in _revenue_rows(reports, uses) if r.use.pk == use.pk).report is not None


@dataclass(frozen=True)
class CompoundEstate:
    compound: Compound
    contracts: list[ContractRow]  # newest first
    fees: list[FeeRow]
    surveys: list[SurveyResult]
    reports: list[EstateReport]
    committee: OwnersCommittee | None
    revenue: list[RevenueRow] = field(default_factory=list)  # newest first

    @property
    def current(self) -> ContractRow | None:
        return next((c for c in self.contracts if c.current), None)


def compound_estate(*, scope: Scope, compound_id: int) -> CompoundEstate:
    """A compound's property service: contracts (with change flags), fees, surveys and reports."""
    compound = compound_get(scope=scope, compound_id=compound_id)
    contracts = list(
        ServiceContract.objects.filter(compound=compound).select_related("company__unit").order_by("-start", "-id")
    )
    reports = list(EstateReport.objects.filter(compound=compound).order_by("-reported_on", "-id"))
    fees = [FeeRow(f) for f in FeeCollection.objects.filter(compound=compound).order_by("-year", "-quarter")]
    surveys = list(Survey.objects.filter(compound=compound).order_by("-year", "-quarter", "-id"))
    return CompoundEstate(
        compound=compound,
        contracts=_contract_rows(contracts, reports, clock.today()),
        fees=fees,
        surveys=_survey_results(surveys, with_questions=False),
        reports=reports,
        committee=OwnersCommittee.objects.filter(compound=compound, is_active=True).first(),
        revenue=_revenue_rows(reports, list(RevenueUse.objects.filter(compound=compound).order_by("-used_on", "-id"))),
    )


@dataclass(frozen=True)
class ReportsOverview:
    reports: list[EstateReport]
    unreported: list[ContractRow]  # changes of company without a report in the window
    unreported_uses: list[RevenueRow] = field(default_factory=list)  # uses of common revenue not covered


def reports_overview(*, scope: Scope, area: Area | None = None) -> ReportsOverview:
    """Reports to the community in scope and the changes of company recorded without one."""
    q = _area_q(scope, area)
    reports = list(EstateReport.objects.filter(q).select_related("compound").order_by("-reported_on", "-id"))
    contracts = list(
        ServiceContract.objects.filter(q).select_related("compound", "company__unit").order_by("-start", "-id")
    )
    rows = _contract_rows(contracts, reports, clock.today())
    uses = list(RevenueUse.objects.filter(q).select_related("compound").order_by("-used_on", "-id"))
    return ReportsOverview(
        reports, [r for r in rows if r.unreported], [r for r in _revenue_rows(reports, uses) if r.unreported]
    )


# --- the red/black list ---------------------------------------------------------------------------


@dataclass
class CompanyScore:
    company: PropertyCompany
    compounds: list[Compound] = field(default_factory=list)
    billed: int = 0
    paid: int = 0
    answers: int = 0
    satisfied: int = 0
    listing: rules.Listing = rules.Listing.UNRATED
    rank: int | None = None
    previous: rules.Listing = rules.Listing.UNRATED

    @property
    def fee_rate(self) -> Decimal | None:
        return rules.percent(self.paid, self.billed)

    @property
    def satisfaction(self) -> Decimal | None:
        return rules.percent(self.satisfied, self.answers)

    @property
    def score(self) -> Decimal | None:
        return rules.score(self.fee_rate, self.satisfaction)

    @property
    def removal(self) -> bool:
        return rules.removal_due(self.listing, self.previous)


@dataclass(frozen=True)
class RedBlack:
    area: Area
    year: int
    quarter: int
    rows: list[CompanyScore]  # by rank, unrated last

    @property
    def red(self) -> list[CompanyScore]:
        return [r for r in self.rows if r.listing == rules.Listing.RED]

    @property
    def black(self) -> list[CompanyScore]:
        return [r for r in self.rows if r.listing == rules.Listing.BLACK]


def _quarter_scores(
    compound_q: Q, year: int, quarter: int, companies: dict[int, PropertyCompany]
) -> dict[int, CompanyScore]:
    """Each company serving a compound (``compound_q``) on the quarter's last day, with its figures."""
    last = rules.quarter_bounds(year, quarter)[1]
    serving = ServiceContract.objects.filter(current_q(last)).filter(compound_q).select_related("compound")
    scores: dict[int, CompanyScore] = {}
    company_of: dict[int, int] = {}
    contracts = list(serving.order_by("compound__path", "compound__name"))
    missing = {c.company_id for c in contracts} - set(companies)
    if missing:
        companies.update(PropertyCompany.objects.select_related("unit").in_bulk(missing))
    for c in contracts:
        row = scores.setdefault(c.company_id, CompanyScore(companies[c.company_id]))
        row.compounds.append(c.compound)
        company_of[c.compound_id] = c.company_id
    fees = (
        FeeCollection.objects.filter(compound_id__in=company_of, year=year, quarter=quarter)
        .values("compound_id")
        .annotate(b=Sum("billed"), p=Sum("paid"))
    )
    for f in fees:
        row = scores[company_of[f["compound_id"]]]
        row.billed += f["b"]
        row.paid += f["p"]
    answers = (
        SurveyAnswer.objects.filter(
            response__survey__compound_id__in=company_of,
            response__survey__year=year,
            response__survey__quarter=quarter,
        )
        .values("response__survey__compound_id")
        .annotate(n=Count("id"), ok=Count("id", filter=Q(score__gte=rules.SATISFIED_MIN)))
    )
    for a in answers:
        row = scores[company_of[a["response__survey__compound_id"]]]
        row.answers += a["n"]
        row.satisfied += a["ok"]
    placed = rules.classify({pk: row.score for pk, row in scores.items()})
    for pk, row in scores.items():
        row.listing, row.rank = placed[pk].listing, placed[pk].rank
    return scores


def red_black(*, scope: Scope, area: Area, year: int, quarter: int) -> RedBlack:
    """The red/black list of ``area`` for a quarter, with last quarter's listing for the removal flag.

    Counted over the compounds below ``area`` only, so the same area always gives the same list.
    A fixed number of queries whatever the size.
    """
    if not scope.covers_path(area.path) or quarter not in (1, 2, 3, 4):
        raise NotFound()
    compound_q = Scope(area_path=area.path).path_q("compound__path")
    companies: dict[int, PropertyCompany] = {}
    now = _quarter_scores(compound_q, year, quarter, companies)
    before = _quarter_scores(compound_q, *rules.previous_quarter(year, quarter), companies)
    for pk, row in now.items():
        if pk in before:
            row.previous = before[pk].listing
    rows = sorted(now.values(), key=lambda r: (r.rank is None, r.rank or 0, r.company.unit.name, r.company.pk))
    return RedBlack(area, year, quarter, rows)


# --- 红色业委会 -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RedCommittee:
    committee: OwnersCommittee
    share: CommitteeShare
    cross: int  # current cross appointments whose person is seated on the committee

    @property
    def meets(self) -> bool:
        return self.share.compliant and self.cross >= rules.CROSS_APPOINTMENTS_MIN

    @property
    def problems(self) -> list[str]:
        out = []
        if not self.share.compliant:
            out.append("党员委员未过半")
        if self.cross < rules.CROSS_APPOINTMENTS_MIN:
            out.append("无交叉任职")
        return out


def red_committees(*, scope: Scope, area: Area | None = None, on: date | None = None) -> list[RedCommittee]:
    """Active committees in scope with the 红色业委会 check. Two queries."""
    day = on or clock.today()
    shares = committee_shares(scope=scope, area=area, on=day)
    seated = OwnersCommitteeMember.objects.filter(
        committee=OuterRef("committee_id"), person=OuterRef("person_id")
    ).filter(seated_q(day))
    counts = dict(
        CrossAppointment.objects.filter(committee_id__in=[s.committee.pk for s in shares])
        .filter(since__lte=day)
        .filter(Q(until__isnull=True) | Q(until__gte=day))
        .filter(Exists(seated))
        .values("committee_id")
        .annotate(n=Count("id"))
        .values_list("committee_id", "n")
    )
    return [RedCommittee(s.committee, s, counts.get(s.committee.pk, 0)) for s in shares]


@dataclass(frozen=True)
class CrossRow:
    appointment: CrossAppointment
    current: bool


def cross_appointments(*, scope: Scope, committee: OwnersCommittee, on: date | None = None) -> list[CrossRow]:
    if not scope.covers_path(committee.path):
        raise NotFound()
    day = on or clock.today()
    seats = {
        s.person_id
        for s in OwnersCommitteeMember.objects.filter(committee=committee).filter(seated_q(day)).only("person_id")
    }
    rows = (
        CrossAppointment.objects.filter(committee=committee)
        .select_related("person", "party_org")
        .defer(*PERSON_CIPHERS)
        .order_by("since", "id")
    )
    return [CrossRow(a, a.since <= day and (a.until is None or a.until >= day) and a.person_id in seats) for a in rows]


def cross_get(*, scope: Scope, committee: OwnersCommittee, appointment_id: int) -> CrossAppointment:
    found = CrossAppointment.objects.in_scope(scope).filter(committee=committee, pk=appointment_id).first()
    if found is None:
        raise NotFound()
    return found


# --- dormitory zones --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ZoneRow:
    zone: DormitoryZone
    heads: dict[str, int]  # level → count

    @property
    def problems(self) -> list[str]:
        z = self.zone
        return rules.dormitory_problems(z.workers, z.staff_full, z.joint_committee_on is not None)


def zone_list(*, scope: Scope, area: Area | None = None) -> list[ZoneRow]:
    """Dormitory zones in scope with their head counts and the >3,000-workers check. Two queries."""
    zones = list(
        DormitoryZone.objects.filter(_area_q(scope, area))
        .select_related("compound", "compound__community")
        .order_by("path", "compound__name")
    )
    heads: dict[int, dict[str, int]] = defaultdict(dict)
    for zone_id, level, n in (
        DormitoryHead.objects.filter(zone__in=zones)
        .values("zone_id", "level")
        .annotate(n=Count("id"))
        .values_list("zone_id", "level", "n")
    ):
        heads[zone_id][level] = n
    return [ZoneRow(z, heads[z.pk]) for z in zones]


def dormitory_compounds_without_zone(*, scope: Scope) -> list[Compound]:
    return list(
        Compound.objects.in_scope(scope)
        .filter(kind="dormitory", dormitory_zone__isnull=True)
        .select_related("community")
        .order_by("path", "name")
    )


def zone_get(*, scope: Scope, zone_id: int) -> DormitoryZone:
    zone = DormitoryZone.objects.in_scope(scope).select_related("compound", "compound__community")
    found = zone.filter(pk=zone_id).first()
    if found is None:
        raise NotFound()
    return found


def zone_heads(*, actor: Actor, scope: Scope, zone: DormitoryZone) -> list[DormitoryHead]:
    """A zone's heads by building, level, floor and room; audited as a read of the persons shown."""
    if not scope.covers_path(zone.path):
        raise NotFound()
    heads = list(DormitoryHead.objects.filter(zone=zone).select_related("person", "building").defer(*PERSON_CIPHERS))
    audit_record_reads(
        actor=actor,
        object_type="person",
        object_ids=sorted({h.person_id for h in heads}),
        area_path=zone.path,
        action="estates.zone.heads.view",
    )
    return heads


def head_get(*, scope: Scope, zone: DormitoryZone, head_id: int) -> DormitoryHead:
    found = DormitoryHead.objects.in_scope(scope).filter(zone=zone, pk=head_id).first()
    if found is None:
        raise NotFound()
    return found


# --- residents' surveys (H5) ------------------------------------------------------------------------


@dataclass(frozen=True)
class OpenSurvey:
    survey: Survey
    answered: bool


def resident_surveys(*, scope: Scope, user: Any) -> list[OpenSurvey]:
    """The open surveys of the compounds in the resident's area, with whether this account answered."""
    if scope.area_path is None:
        raise NotFound()
    answered = SurveyResponse.objects.filter(survey=OuterRef("pk"), user=user)
    rows = (
        Survey.objects.in_scope(scope)
        .filter(is_open=True)
        .select_related("compound")
        .annotate(done=Exists(answered))
        .order_by("-year", "-quarter", "compound__name", "id")
    )
    return [OpenSurvey(s, bool(s.done)) for s in rows]


def has_answered(*, survey: Survey, user: Any) -> bool:
    return SurveyResponse.objects.filter(survey=survey, user=user).exists()
