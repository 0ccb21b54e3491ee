"""Property companies, contracts, fees, surveys, reports and the red/black list, through the services."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from grassroots.accounts.models import Role
from grassroots.audit.models import AuditEntry
from grassroots.audit.services import SYSTEM
from grassroots.core.errors import DomainError, NotFound
from grassroots.core.scope import Scope
from grassroots.estates import selectors, services
from grassroots.estates.models import ServiceContract, SurveyResponse
from grassroots.estates.rules import Listing
from grassroots.places.models import Compound
from grassroots.registry.services.units import unit_create
from tests.estates.conftest import ALL, answer, make_company, make_compound
from tests.factories import Tree

pytestmark = pytest.mark.django_db

Q1 = (2026, 1)
Q4 = (2025, 4)


def _scope(area: Any) -> Scope:
    return Scope(area_path=area.path)


def _serve(company: Any, compound: Compound, start: date = date(2025, 1, 1), end: date | None = None) -> Any:
    return services.contract_create(actor=SYSTEM, scope=ALL, company=company, compound=compound, start=start, end=end)


def _survey(compound: Compound, year: int, quarter: int, questions: int = 2) -> Any:
    return services.survey_create(
        actor=SYSTEM,
        scope=ALL,
        compound=compound,
        year=year,
        quarter=quarter,
        title=f"{compound.name}{year}Q{quarter}",
        questions=[f"题目{i}" for i in range(1, questions + 1)],
    )


def _fee(compound: Compound, year: int, quarter: int, billed: int, paid: int) -> None:
    services.fee_record(
        actor=SYSTEM, scope=ALL, compound=compound, year=year, quarter=quarter, billed=billed, paid=paid
    )


# --- companies and contracts ---------------------------------------------------------------------


def test_company_is_a_registry_enterprise_with_masked_contact(tree: Tree) -> None:
    company = make_company(tree, "昆山安居物业有限公司")
    assert company.path == tree.chengbei.path
    assert company.unit.contact_phone_masked == "139****5678"
    shop = unit_create(actor=SYSTEM, scope=ALL, name="小卖部", kind="shop", area=tree.chengbei)
    with pytest.raises(DomainError, match="企业"):
        services.company_create(actor=SYSTEM, scope=ALL, unit=shop, qualification="none")
    with pytest.raises(DomainError, match="已登记"):
        services.company_create(actor=SYSTEM, scope=ALL, unit=company.unit, qualification="none")
    other = unit_create(actor=SYSTEM, scope=ALL, name="周市物业", kind="enterprise", area=tree.zhoushi_c)
    with pytest.raises(NotFound):
        services.company_create(actor=SYSTEM, scope=_scope(tree.chengbei), unit=other, qualification="none")


def test_one_company_per_compound_and_a_change_ends_the_old_contract(tree: Tree) -> None:
    sun = Compound.objects.get(name="阳光花园")
    a, b = make_company(tree, "甲物业"), make_company(tree, "乙物业")
    first = _serve(a, sun)
    assert first.ended is None and not first.unreported
    second = _serve(b, sun, date(2026, 3, 1))
    assert second.ended is not None and second.ended.pk == first.contract.pk
    first.contract.refresh_from_db()
    assert first.contract.end == date(2026, 2, 28)
    assert second.unreported  # no report to the community
    with pytest.raises(DomainError, match="一家物业公司"):
        _serve(a, sun, date(2026, 2, 1), date(2026, 2, 20))  # inside 甲's period
    rows = selectors.company_list(scope=_scope(tree.chengbei), on=date(2026, 6, 1))
    serving = {r.company.unit.name: [c.name for c in r.compounds] for r in rows}
    assert serving == {"甲物业": [], "乙物业": ["阳光花园"]}
    assert AuditEntry.objects.filter(action="estates.contract.create").count() == 2


def test_change_reported_in_the_window_is_not_flagged(tree: Tree) -> None:
    sun = Compound.objects.get(name="阳光花园")
    oasis = make_compound(tree, "绿洲苑")
    a, b = make_company(tree, "甲物业"), make_company(tree, "乙物业")
    _serve(a, sun)
    _serve(a, oasis)
    for compound, day in ((sun, date(2026, 1, 30)), (oasis, date(2026, 1, 29))):  # 30 and 31 days before
        services.report_record(
            actor=SYSTEM,
            scope=ALL,
            compound=compound,
            kind="change_company",
            reported_on=day,
            description="业主大会表决更换物业",
        )
    assert not _serve(b, sun, date(2026, 3, 1)).unreported
    assert _serve(b, oasis, date(2026, 3, 1)).unreported
    ov = selectors.reports_overview(scope=_scope(tree.yushan))
    assert [r.contract.compound.name for r in ov.unreported] == ["绿洲苑"]
    assert len(ov.reports) == 2
    estate = selectors.compound_estate(scope=ALL, compound_id=sun.pk)
    assert [(r.contract.company.unit.name, r.is_change, r.unreported) for r in estate.contracts] == [
        ("乙物业", True, False),
        ("甲物业", False, False),
    ]


def test_common_revenue_report_needs_an_amount(tree: Tree) -> None:
    sun = Compound.objects.get(name="阳光花园")
    kw: dict[str, Any] = {"actor": SYSTEM, "compound": sun, "kind": "common_revenue", "reported_on": date(2026, 5, 1)}
    with pytest.raises(DomainError, match="金额"):
        services.report_record(scope=ALL, description="电梯广告收益用于维修", **kw)
    report = services.report_record(scope=ALL, description="电梯广告收益用于维修", amount=Decimal("12000.00"), **kw)
    assert report.amount == Decimal("12000.00")
    with pytest.raises(NotFound):
        services.report_record(scope=_scope(tree.chengnan), description="x", amount=Decimal("1"), **kw)
    with pytest.raises(DomainError, match="晚于今天"):
        services.report_record(
            scope=ALL, description="x", amount=Decimal("1"), **{**kw, "reported_on": date(2026, 6, 2)}
        )


def test_compounds_without_property_management_by_community(tree: Tree) -> None:
    sun = Compound.objects.get(name="阳光花园")
    make_compound(tree, "老街小区", kind="old")
    make_compound(tree, "南苑", community=tree.chengnan)
    make_compound(tree, "周市新村", community=tree.zhoushi_c)
    company = make_company(tree, "甲物业")
    _serve(company, sun, date(2025, 1, 1), date(2026, 5, 31))  # ended yesterday
    groups = selectors.compounds_without_company(scope=_scope(tree.yushan), on=date(2026, 6, 1))
    assert [(g.community.name, [c.name for c in g.compounds]) for g in groups] == [
        ("城北社区", ["老街小区", "阳光花园"]),
        ("城南社区", ["南苑"]),
    ]
    groups = selectors.compounds_without_company(scope=_scope(tree.yushan), on=date(2026, 5, 31))
    assert [c.name for g in groups for c in g.compounds] == ["老街小区", "南苑"]


def test_fee_collection_is_checked_and_corrected(tree: Tree) -> None:
    sun = Compound.objects.get(name="阳光花园")
    with pytest.raises(DomainError, match="实缴"):
        _fee(sun, 2026, 1, 100, 101)
    with pytest.raises(DomainError, match="尚未开始"):
        _fee(sun, 2026, 3, 100, 90)
    _fee(sun, 2026, 1, 100, 90)
    _fee(sun, 2026, 1, 120, 90)  # corrected
    fees = selectors.compound_estate(scope=ALL, compound_id=sun.pk).fees
    assert [(f.fee.billed, f.fee.paid, f.rate) for f in fees] == [(120, 90, Decimal("75.0"))]
    with pytest.raises(NotFound):
        services.fee_record(
            actor=SYSTEM, scope=_scope(tree.zhoushi), compound=sun, year=2026, quarter=1, billed=1, paid=1
        )


# --- surveys -------------------------------------------------------------------------------------


def test_survey_answered_once_per_account_and_aggregated(tree: Tree) -> None:
    sun = Compound.objects.get(name="阳光花园")
    survey = _survey(sun, 2026, 2, questions=2)
    with pytest.raises(DomainError, match="已有测评"):
        _survey(sun, 2026, 2)
    answer(survey, [[5, 4], [3, 2], [4, 4]], tree=tree)
    resident = tree.users[Role.RESIDENT]
    q1, q2 = survey.questions.order_by("number")
    resident_scope = Scope(area_path=resident.area.path)
    with pytest.raises(DomainError, match="全部题目"):
        services.survey_answer(actor=SYSTEM, user=resident, scope=resident_scope, survey=survey, scores={q1.pk: 5})
    with pytest.raises(DomainError, match="1至5"):
        services.survey_answer(
            actor=SYSTEM, user=resident, scope=resident_scope, survey=survey, scores={q1.pk: 6, q2.pk: 5}
        )
    services.survey_answer(
        actor=SYSTEM, user=resident, scope=resident_scope, survey=survey, scores={q1.pk: 1, q2.pk: 5}
    )
    with pytest.raises(DomainError, match="只能作答一次"):
        services.survey_answer(
            actor=SYSTEM, user=resident, scope=resident_scope, survey=survey, scores={q1.pk: 5, q2.pk: 5}
        )
    outsider = tree.outsiders[Role.RESIDENT]
    with pytest.raises(NotFound):
        services.survey_answer(
            actor=SYSTEM,
            user=outsider,
            scope=Scope(area_path=outsider.area.path),
            survey=survey,
            scores={q1.pk: 5, q2.pk: 5},
        )
    result = selectors.survey_result(scope=ALL, survey_id=survey.pk)
    # Answers: q1 = 5, 3, 4, 1 ; q2 = 4, 2, 4, 5 → 5 of 8 are ≥ 4.
    assert (result.responses, result.answers, result.satisfied_answers) == (4, 8, 5)
    assert result.satisfaction == Decimal("62.5")
    assert [(q.average, q.satisfied, q.counts) for q in result.questions] == [
        (Decimal("3.25"), Decimal("50.0"), [1, 0, 1, 1, 1]),
        (Decimal("3.75"), Decimal("75.0"), [0, 1, 0, 2, 1]),
    ]
    services.survey_close(actor=SYSTEM, scope=ALL, survey=survey)
    survey.refresh_from_db()
    with pytest.raises(DomainError, match="已结束"):
        answer(survey, [[5, 5]], tree=tree, start=10)
    assert SurveyResponse.objects.filter(survey=survey).count() == 4


def test_resident_sees_the_open_surveys_of_their_community(tree: Tree) -> None:
    sun = Compound.objects.get(name="阳光花园")
    south = make_compound(tree, "南苑", community=tree.chengnan)
    mine, other = _survey(sun, 2026, 2), _survey(south, 2026, 2)
    resident = tree.users[Role.RESIDENT]
    scope = Scope(area_path=resident.area.path)
    rows = selectors.resident_surveys(scope=scope, user=resident)
    assert [(r.survey.pk, r.answered) for r in rows] == [(mine.pk, False)]
    q = {x.pk: 5 for x in mine.questions.all()}
    services.survey_answer(actor=SYSTEM, user=resident, scope=scope, survey=mine, scores=q)
    assert [r.answered for r in selectors.resident_surveys(scope=scope, user=resident)] == [True]
    assert other.pk not in [r.survey.pk for r in selectors.resident_surveys(scope=scope, user=resident)]


# --- the red/black list (hand-computed) ------------------------------------------------------------


@pytest.fixture
def ranking(tree: Tree) -> dict[str, Any]:
    """Seven companies in 玉山镇 and one in 周市镇; figures for 2026 Q1 and 2025 Q4.

    company  compounds          fee (paid/billed)      answers ≥4 / all   score (½ fee + ½ sat)
    甲       阳光花园 + 绿洲苑    (58+37)/(60+40)=95.0   4/4 = 100.0        97.5  rank 1  red
    丁       丁苑                 93/100 = 93.0          2/2 = 100.0        96.5  rank 2  red
    己       己苑                 91/100 = 91.0          2/2 = 100.0        95.5  rank 3  red
    庚       庚苑                 84/100 = 84.0          2/2 = 100.0        92.0  rank 4  (not top 3)
    乙       乙苑                 90/100 = 90.0          3/4 = 75.0         82.5  rank 5
    丙       丙苑                 60/100 = 60.0          1/4 = 25.0         42.5  rank 6  black
    戊       戊苑                 99/100, no survey      —                  unrated
    2025 Q4: 丙 50/100 and 0/2 → 25.0 black (→ removal); 乙 70/100 and 0/2 → 35.0 black (now not black).
    """
    sun = Compound.objects.get(name="阳光花园")
    compounds = {"甲": [sun, make_compound(tree, "绿洲苑")]}
    for name in "乙丙丁戊己庚":
        compounds[name] = [make_compound(tree, f"{name}苑", community=tree.chengnan)]
    companies = {name: make_company(tree, f"{name}物业") for name in compounds}
    for name, items in compounds.items():
        for c in items:
            _serve(companies[name], c, date(2025, 7, 1))
    fees = {"阳光花园": (60, 58), "绿洲苑": (40, 37), "乙苑": (100, 90), "丙苑": (100, 60), "丁苑": (100, 93)}
    fees |= {"戊苑": (100, 99), "己苑": (100, 91), "庚苑": (100, 84)}
    answers = {
        "阳光花园": [[5, 4]],
        "绿洲苑": [[4, 5]],
        "乙苑": [[5, 4], [4, 3]],
        "丙苑": [[2, 3], [4, 1]],
        "丁苑": [[5, 5]],
        "己苑": [[5, 4]],
        "庚苑": [[4, 4]],
    }
    by_name = {c.name: c for items in compounds.values() for c in items}
    for name, (billed, paid) in fees.items():
        _fee(by_name[name], *Q1, billed, paid)
    for name, rows in answers.items():
        answer(_survey(by_name[name], *Q1), rows, tree=tree)
    for name, (billed, paid), rows in (("丙苑", (100, 50), [[1, 1]]), ("乙苑", (100, 70), [[1, 2]])):
        _fee(by_name[name], *Q4, billed, paid)
        answer(_survey(by_name[name], *Q4), rows, tree=tree, start=100)
    # Out of the area: a company in 周市镇 with a perfect score.
    far = make_compound(tree, "周市新村", community=tree.zhoushi_c)
    _serve(make_company(tree, "周市物业", area=tree.zhoushi_c), far, date(2025, 7, 1))
    _fee(far, *Q1, 10, 10)
    answer(_survey(far, *Q1), [[5, 5]], tree=tree)
    return companies


def test_red_black_list_hand_computed(tree: Tree, ranking: dict[str, Any]) -> None:
    rb = selectors.red_black(scope=_scope(tree.yushan), area=tree.yushan, year=2026, quarter=1)
    got = [(r.company.unit.name, r.fee_rate, r.satisfaction, r.score, r.rank, r.listing) for r in rb.rows]
    assert got == [
        ("甲物业", Decimal("95.0"), Decimal("100.0"), Decimal("97.5"), 1, Listing.RED),
        ("丁物业", Decimal("93.0"), Decimal("100.0"), Decimal("96.5"), 2, Listing.RED),
        ("己物业", Decimal("91.0"), Decimal("100.0"), Decimal("95.5"), 3, Listing.RED),
        ("庚物业", Decimal("84.0"), Decimal("100.0"), Decimal("92.0"), 4, Listing.NONE),
        ("乙物业", Decimal("90.0"), Decimal("75.0"), Decimal("82.5"), 5, Listing.NONE),
        ("丙物业", Decimal("60.0"), Decimal("25.0"), Decimal("42.5"), 6, Listing.BLACK),
        ("戊物业", Decimal("99.0"), None, None, None, Listing.UNRATED),
    ]
    assert [c.name for c in rb.rows[0].compounds] == ["绿洲苑", "阳光花园"]
    previous = {r.company.unit.name: r.previous for r in rb.rows}
    assert previous["丙物业"] == Listing.BLACK and previous["乙物业"] == Listing.BLACK
    assert [r.company.unit.name for r in rb.rows if r.removal] == ["丙物业"]
    assert [r.company.unit.name for r in rb.red] == ["甲物业", "丁物业", "己物业"]


def test_red_black_list_is_per_area_and_scoped(tree: Tree, ranking: dict[str, Any]) -> None:
    # Within 城北社区 only 甲 serves compounds; its figures are the same.
    rb = selectors.red_black(scope=ALL, area=tree.chengbei, year=2026, quarter=1)
    assert [(r.company.unit.name, r.score, r.listing) for r in rb.rows] == [("甲物业", Decimal("97.5"), Listing.RED)]
    with pytest.raises(NotFound):
        selectors.red_black(scope=_scope(tree.zhoushi), area=tree.yushan, year=2026, quarter=1)
    # 2026 Q2 has no figures yet: everyone unrated, nobody flagged.
    rb = selectors.red_black(scope=ALL, area=tree.yushan, year=2026, quarter=2)
    assert {r.listing for r in rb.rows} == {Listing.UNRATED} and not any(r.removal for r in rb.rows)


def test_a_company_is_rated_for_the_compounds_it_serves_on_the_quarters_last_day(
    tree: Tree, ranking: dict[str, Any]
) -> None:
    # 乙 hands 乙苑 to 丁 on 2026-03-31: 乙苑's Q1 figures now count for 丁.
    b_compound = Compound.objects.get(name="乙苑")
    _serve(ranking["丁"], b_compound, date(2026, 3, 31))
    assert ServiceContract.objects.get(compound=b_compound, company=ranking["乙"]).end == date(2026, 3, 30)
    rb = selectors.red_black(scope=ALL, area=tree.yushan, year=2026, quarter=1)
    d = next(r for r in rb.rows if r.company.unit.name == "丁物业")
    # fee (93+90)/200 = 91.5 ; answers 2 + 3 of 2 + 4 → 5/6 = 83.3 ; score 87.4 (87.40)
    assert (d.fee_rate, d.satisfaction, d.score) == (Decimal("91.5"), Decimal("83.3"), Decimal("87.4"))
    assert "乙物业" not in [r.company.unit.name for r in rb.rows]


def test_uses_of_common_revenue_are_checked_against_earlier_reports(tree: Tree) -> None:
    sun = Compound.objects.get(name="阳光花园")
    oasis = make_compound(tree, "绿洲苑")
    services.report_record(
        actor=SYSTEM,
        scope=ALL,
        compound=sun,
        kind="common_revenue",
        reported_on=date(2026, 4, 1),
        description="电梯广告收益用于更换监控",
        amount=Decimal("20000"),
    )
    # A report of a change of company does not cover a use of revenue.
    services.report_record(
        actor=SYSTEM, scope=ALL, compound=oasis, kind="change_company", reported_on=date(2026, 4, 1), description="换"
    )

    def use(compound: Compound, day: date, amount: str) -> Any:
        return services.revenue_use_record(
            actor=SYSTEM, scope=ALL, compound=compound, used_on=day, amount=Decimal(amount), purpose="更换监控"
        )

    first = use(sun, date(2026, 4, 20), "15000")
    second = use(sun, date(2026, 5, 2), "6000")  # only 5,000 left of the report
    third = use(oasis, date(2026, 5, 2), "100")
    assert selectors.revenue_use_covered(scope=ALL, use=first)
    assert not selectors.revenue_use_covered(scope=ALL, use=second)
    estate = selectors.compound_estate(scope=ALL, compound_id=sun.pk)
    assert [(r.use.amount, r.unreported) for r in estate.revenue] == [
        (Decimal("6000"), True),
        (Decimal("15000"), False),
    ]
    ov = selectors.reports_overview(scope=_scope(tree.yushan))
    assert sorted(r.use.pk for r in ov.unreported_uses) == sorted([second.pk, third.pk])
    # Scope: another community neither records nor sees them.
    assert selectors.reports_overview(scope=_scope(tree.chengnan)).unreported_uses == []
    with pytest.raises(NotFound):
        use_kw: dict[str, Any] = {"used_on": date(2026, 5, 1), "amount": Decimal("1"), "purpose": "x"}
        services.revenue_use_record(actor=SYSTEM, scope=_scope(tree.chengnan), compound=sun, **use_kw)
    with pytest.raises(NotFound):
        selectors.revenue_use_covered(scope=_scope(tree.chengnan), use=first)
    assert AuditEntry.objects.filter(action="estates.revenue_use.record").count() == 3


@pytest.mark.parametrize(
    ("day", "amount", "purpose", "message"),
    [
        (date(2026, 6, 2), "10", "修路", "晚于今天"),
        (date(2026, 5, 1), "0", "修路", "金额"),
        (date(2026, 5, 1), "10", "  ", "用途"),
    ],
)
def test_a_use_of_revenue_is_validated(tree: Tree, day: date, amount: str, purpose: str, message: str) -> None:
    sun = Compound.objects.get(name="阳光花园")
    with pytest.raises(DomainError, match=message):
        services.revenue_use_record(
            actor=SYSTEM, scope=ALL, compound=sun, used_on=day, amount=Decimal(amount), purpose=purpose
        )
