"""The property, red/black, 红色业委会, report and dormitory pages, and the residents' survey page."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from grassroots.accounts.models import Role
from grassroots.audit.services import SYSTEM
from grassroots.estates import services
from grassroots.estates.models import FeeCollection, RevenueUse, ServiceContract, SurveyResponse
from grassroots.places.models import Compound
from tests.estates.conftest import ALL, Estate, answer, make_company, make_compound
from tests.factories import Tree

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def world(tree: Tree, estate: Estate) -> dict[str, Any]:
    sun = Compound.objects.get(name="阳光花园")
    company = make_company(tree, "安居物业")
    services.contract_create(actor=SYSTEM, scope=ALL, company=company, compound=sun, start=date(2025, 1, 1))
    services.fee_record(actor=SYSTEM, scope=ALL, compound=sun, year=2026, quarter=1, billed=100, paid=95)
    survey = services.survey_create(
        actor=SYSTEM, scope=ALL, compound=sun, year=2026, quarter=1, title="一季度测评", questions=["环境", "安全"]
    )
    answer(survey, [[5, 4]], tree=tree)
    dorm = make_compound(tree, "城北集宿区", kind="dormitory")
    zone = services.zone_save(actor=SYSTEM, scope=ALL, compound=dorm, workers=3500, staff_full=True)
    return {"sun": sun, "company": company, "survey": survey, "zone": zone}


def _pages(w: dict[str, Any], estate: Estate) -> list[str]:
    return [
        reverse("estates:companies"),
        reverse("estates:company", args=[w["company"].pk]),
        reverse("estates:compound", args=[w["sun"].pk]),
        reverse("estates:survey", args=[w["survey"].pk]),
        reverse("estates:red_black"),
        reverse("estates:reports"),
        reverse("estates:red_committees"),
        reverse("estates:cross", args=[estate.committee.pk]),
        reverse("estates:dormitories"),
        reverse("estates:dormitory", args=[w["zone"].pk]),
    ]


@pytest.mark.parametrize("role", [Role.RESIDENT, Role.GRID_WORKER, Role.DEPARTMENT_OFFICER])
def test_roles_without_party_view_get_403(world: dict[str, Any], estate: Estate, role: str) -> None:
    c = _client(estate.tree.users[role])
    for url in [*_pages(world, estate), reverse("estates:company_create")]:
        assert c.get(url).status_code == 403, url


@pytest.mark.parametrize(
    "role", [Role.COMMUNITY_WORKER, Role.SUBDISTRICT_DISPATCHER, Role.PARTY_SECRETARY, Role.DISTRICT_LEADER, Role.ADMIN]
)
def test_roles_with_party_view_see_the_pages(world: dict[str, Any], estate: Estate, role: str) -> None:
    c = _client(estate.tree.users[role])
    for url in _pages(world, estate):
        page = c.get(url)
        assert page.status_code == 200, url
    assert "安居物业" in c.get(reverse("estates:companies")).content.decode()


def test_view_only_roles_cannot_write(world: dict[str, Any], estate: Estate) -> None:
    c = _client(estate.tree.users[Role.SUBDISTRICT_DISPATCHER])
    assert c.get(reverse("estates:company_create")).status_code == 403
    url = reverse("estates:compound", args=[world["sun"].pk])
    assert "登记或更正收缴情况" not in c.get(url).content.decode()
    post = {"action": "fee", "year": 2026, "quarter": 1, "billed": 10, "paid": 1}
    assert c.post(url, post).status_code == 403
    assert FeeCollection.objects.get(compound=world["sun"]).billed == 100
    assert c.post(reverse("estates:survey", args=[world["survey"].pk])).status_code == 403


@pytest.mark.parametrize("role", [Role.COMMUNITY_WORKER, Role.PARTY_SECRETARY, Role.SUBDISTRICT_DISPATCHER])
def test_out_of_scope_is_404(world: dict[str, Any], estate: Estate, role: str) -> None:
    c = _client(estate.tree.outsiders[role])
    for url in _pages(world, estate)[1:]:
        if url.startswith(reverse("estates:red_black")) or url in (
            reverse("estates:reports"),
            reverse("estates:red_committees"),
            reverse("estates:dormitories"),
        ):
            continue
        assert c.get(url).status_code == 404, url
    for name in ("estates:red_black", "estates:reports", "estates:red_committees", "estates:dormitories"):
        assert c.get(reverse(name) + f"?area={estate.tree.chengbei.pk}").status_code == 404, name
    page = c.get(reverse("estates:companies")).content.decode()
    assert "安居物业" not in page and "阳光花园" not in page


def test_fee_survey_report_and_contract_through_the_pages(world: dict[str, Any], estate: Estate) -> None:
    c = _client(estate.tree.users[Role.COMMUNITY_WORKER])
    url = reverse("estates:compound", args=[world["sun"].pk])
    r = c.post(url, {"action": "fee", "year": 2026, "quarter": 1, "billed": 100, "paid": 101})
    assert r.status_code == 200 and "实缴户数须在0与应缴户数之间" in r.content.decode()
    assert c.post(url, {"action": "fee", "year": 2026, "quarter": 1, "billed": 100, "paid": 90}).status_code == 302
    assert FeeCollection.objects.get(compound=world["sun"], year=2026, quarter=1).paid == 90
    r = c.post(
        url, {"action": "survey", "year": 2026, "quarter": 2, "title": "二季度测评", "questions": "环境\n安全\n维修"}
    )
    assert r.status_code == 302
    report = {"action": "report", "kind": "change_company", "reported_on": "2026-05-20", "description": "换物业"}
    r = c.post(url, report)
    assert r.status_code == 302
    new = make_company(estate.tree, "新安物业")
    r = c.post(reverse("estates:company", args=[new.pk]), {"compound": world["sun"].pk, "start": "2026-06-01"})
    assert r.status_code == 302
    assert ServiceContract.objects.get(compound=world["sun"], end__isnull=True).company == new
    page = c.get(url).content.decode()
    assert "新安物业" in page and "未事前报告" not in page
    rb = c.get(reverse("estates:red_black") + "?year=2026&quarter=1").content.decode()
    assert "红榜" in rb and "≤ 70" in rb  # the rule is on the page


def test_company_create_page(tree: Tree, estate: Estate) -> None:
    from grassroots.registry.services.units import unit_create

    unit = unit_create(actor=SYSTEM, scope=ALL, name="城北物业", kind="enterprise", area=tree.chengbei)
    c = _client(tree.users[Role.COMMUNITY_WORKER])
    r = c.post(reverse("estates:company_create"), {"unit": unit.pk, "qualification": "grade1"})
    assert r.status_code == 302
    assert unit.property_company.get_qualification_display() == "一级"
    outside = unit_create(actor=SYSTEM, scope=ALL, name="周市物业", kind="enterprise", area=tree.zhoushi_c)
    r = c.post(reverse("estates:company_create"), {"unit": outside.pk, "qualification": "grade1"})
    assert r.status_code == 200  # not a choice in this scope


def test_lists_do_not_grow_queries(world: dict[str, Any], estate: Estate, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    c = _client(estate.tree.users[Role.SUBDISTRICT_DISPATCHER])
    urls = [
        reverse("estates:companies"),
        reverse("estates:red_black") + "?year=2026&quarter=1",
        reverse("estates:reports"),
        reverse("estates:red_committees"),
        reverse("estates:dormitories"),
    ]
    c.get(urls[0])  # warm the session
    small = {}
    for url in urls:
        with django_assert_max_num_queries(30) as q:
            assert c.get(url).status_code == 200
        small[url] = len(q.captured_queries)
    tree = estate.tree
    for i in range(4):
        compound = make_compound(tree, f"新苑{i}", community=tree.chengnan)
        company = make_company(tree, f"物业{i}")
        services.contract_create(actor=SYSTEM, scope=ALL, company=company, compound=compound, start=date(2025, 1, 1))
        services.fee_record(actor=SYSTEM, scope=ALL, compound=compound, year=2026, quarter=1, billed=10, paid=i + 5)
        survey = services.survey_create(
            actor=SYSTEM, scope=ALL, compound=compound, year=2026, quarter=1, title="测评", questions=["环境"]
        )
        answer(survey, [[i + 1]], tree=tree)
        services.report_record(
            actor=SYSTEM,
            scope=ALL,
            compound=compound,
            kind="change_company",
            reported_on=date(2026, 1, 1),
            description="x",
        )
        dorm = make_compound(tree, f"集宿{i}", community=tree.chengnan, kind="dormitory")
        services.zone_save(actor=SYSTEM, scope=ALL, compound=dorm, workers=100 * i, staff_full=False)
    for url in urls:
        with django_assert_max_num_queries(small[url]):
            assert c.get(url).status_code == 200


# --- residents' phone pages ------------------------------------------------------------------------


def test_resident_answers_once_on_the_phone(world: dict[str, Any], estate: Estate) -> None:
    survey = services.survey_create(
        actor=SYSTEM,
        scope=ALL,
        compound=world["sun"],
        year=2026,
        quarter=2,
        title="二季度测评",
        questions=["环境", "安全"],
    )
    resident = estate.tree.users[Role.RESIDENT]
    c = _client(resident)
    listing = c.get(reverse("estates:h5_surveys")).content.decode()
    assert "二季度测评" in listing and "待评价" in listing
    url = reverse("estates:h5_survey", args=[survey.pk])
    page = c.get(url).content.decode()
    assert 'name="viewport"' in page and "h5-choice" in page  # the phone layout
    q1, q2 = survey.questions.order_by("number")
    r = c.post(url, {f"q{q1.pk}": "5"})
    assert r.status_code == 200 and "请回答全部题目" in r.content.decode()
    assert c.post(url, {f"q{q1.pk}": "5", f"q{q2.pk}": "4"}).status_code == 302
    assert "您已参加本次测评" in c.get(url).content.decode()
    assert c.post(url, {f"q{q1.pk}": "1", f"q{q2.pk}": "1"}).status_code == 200
    assert SurveyResponse.objects.filter(survey=survey).count() == 1
    assert "已评价" in c.get(reverse("estates:h5_surveys")).content.decode()


def test_survey_page_roles_and_scope(world: dict[str, Any], estate: Estate) -> None:
    url = reverse("estates:h5_survey", args=[world["survey"].pk])
    assert _client(estate.tree.outsiders[Role.RESIDENT]).get(url).status_code == 404
    assert _client(estate.tree.users[Role.GRID_WORKER]).get(url).status_code == 403
    assert _client(estate.tree.users[Role.COMMUNITY_WORKER]).get(reverse("estates:h5_surveys")).status_code == 403
    anonymous = Client().get(url)
    assert anonymous.status_code == 302


def test_zone_heads_and_cross_appointments_through_the_pages(world: dict[str, Any], estate: Estate) -> None:
    from grassroots.estates.models import CrossAppointment, DormitoryHead
    from grassroots.party import services as party
    from grassroots.places import services as places
    from tests.factories import centre

    tree = estate.tree
    c = _client(tree.users[Role.COMMUNITY_WORKER])
    dorm = world["zone"].compound
    edit = reverse("estates:zone_edit", args=[dorm.pk])
    assert c.get(edit).status_code == 200
    r = c.post(edit, {"workers": 3200, "staff_note": "专职8人"})
    assert r.status_code == 302
    page = c.get(reverse("estates:dormitories")).content.decode()
    assert "管理人员未配齐" in page and "未成立联合管委会" in page
    lon, lat = centre(0, 0)
    building = places.building_create(
        actor=SYSTEM,
        grid=tree.grid1,
        compound=dorm,
        name="B栋",
        typology="multi_storey",
        floors=4,
        entrances=1,
        dwellings_per_floor=2,
        lon=lon,
        lat=lat,
    )
    head = estate.person("李楼长")
    url = reverse("estates:dormitory", args=[world["zone"].pk])
    assert "李楼长" in c.get(url + "?q=李楼长").content.decode()
    assert c.get(url + f"?person={head.pk}").status_code == 200
    r = c.post(url + f"?person={head.pk}", {"person": head.pk, "building": building.pk, "level": "floor", "floor": 2})
    assert r.status_code == 302
    assert DormitoryHead.objects.get(zone=world["zone"]).floor == 2
    assert "李楼长" in c.get(url).content.decode()
    # 红色业委会: a party member on the committee takes a post in 城北社区党委.
    party.org_create(actor=SYSTEM, scope=ALL, level="working_committee", name="玉山镇党工委", area=tree.yushan)
    org = party.org_create(
        actor=SYSTEM, scope=ALL, level="community_committee", name="城北社区党委", area=tree.chengbei
    )
    seat = estate.seat("张委员", party_member=True)
    cross = reverse("estates:cross", args=[estate.committee.pk])
    post = {
        "action": "appoint",
        "person": seat.person_id,
        "party_org": org.pk,
        "party_post": "member",
        "direction": "into_party",
        "since": "2026-01-01",
    }
    assert '<span class="ok">达标</span>' not in c.get(reverse("estates:red_committees")).content.decode()
    assert c.post(cross, post).status_code == 302
    assert CrossAppointment.objects.get(committee=estate.committee).person_id == seat.person_id
    listing = reverse("estates:red_committees")
    assert '<span class="ok">达标</span>' in c.get(listing).content.decode()


def test_a_use_of_common_revenue_through_the_compound_page(world: dict[str, Any], estate: Estate) -> None:
    c = _client(estate.tree.users[Role.COMMUNITY_WORKER])
    url = reverse("estates:compound", args=[world["sun"].pk])
    use = {"action": "revenue_use", "used_on": "2026-05-10", "amount": "3000", "purpose": "修补道路"}
    r = c.post(url, {**use, "amount": "-1"})
    assert r.status_code == 200 and RevenueUse.objects.count() == 0
    r = c.post(url, use, follow=True)
    assert "未事前报告" in r.content.decode()  # recorded, and flagged: nothing was reported before
    report = {
        "action": "report",
        "kind": "common_revenue",
        "reported_on": "2026-05-20",
        "description": "广告收益用于绿化",
        "amount": "5000",
    }
    assert c.post(url, report).status_code == 302
    r = c.post(url, {**use, "used_on": "2026-05-25", "purpose": "补种绿化"}, follow=True)
    assert "已有事前报告" in r.content.decode()
    overview = c.get(reverse("estates:reports")).content.decode()
    assert "修补道路" in overview and "补种绿化" not in overview
    # Those who only read may not record.
    reader = _client(estate.tree.users[Role.SUBDISTRICT_DISPATCHER])
    assert reader.post(url, use).status_code == 403
