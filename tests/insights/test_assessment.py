"""The subdistrict's monthly assessment of departments and partner units, on a hand-computed fixture.

October 2026 in 玉山镇, cases of 道路坑洼 (duty list: 城管局):

    A 城北 10-05 09:00, whistled +1 h, reported in +2 h, closed +10 h, rated 满意
    B 城北 10-06 09:00, whistled +1 h, never reported in (the report-in deadline passed)

城管局: response 1/2 = 50, resolution 1/2 = 50, satisfaction 1/1 = 100, on time 1/1 = 100;
communities' ratings 城北 80, 城南 90 → 85. Default weights 20/20/20/10/30:
    (20·50 + 20·50 + 20·100 + 10·100 + 30·85) / 100 = 75.5
水务局: no case, 城北 rates 60 → only the rating counts: 60.
共建单位 “昆山建工” paired with 城北, no employed members: 城北 rates 70 → 70.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from django.test import Client
from django.urls import reverse

from grassroots.accounts.models import Role
from grassroots.audit.models import AuditEntry
from grassroots.audit.services import SYSTEM
from grassroots.cases.workflow import TZ, Action, Rating
from grassroots.core.errors import DomainError, NotFound
from grassroots.core.scope import Scope
from grassroots.insights.selectors import assessment as selectors
from grassroots.insights.selectors.assessment import Part, combine
from grassroots.insights.services import assessment as services
from grassroots.party.services import alliances as party
from grassroots.registry import services as registry
from tests.cases.test_cases_services import Env, act, make_env
from tests.cases.test_measures import close, submit
from tests.factories import Tree

pytestmark = pytest.mark.django_db

OCT = date(2026, 10, 1)
NOW = datetime(2026, 11, 15, 12, 0, tzinfo=TZ)
H = timedelta(hours=1)
CW, DISPATCHER, DEPT, RES = (
    Role.COMMUNITY_WORKER,
    Role.SUBDISTRICT_DISPATCHER,
    Role.DEPARTMENT_OFFICER,
    Role.RESIDENT,
)


@pytest.fixture
def world(tree: Tree) -> Env:
    env = make_env(tree)
    a0 = datetime(2026, 10, 5, 9, 0, tzinfo=TZ)
    a = act(env, submit(env, a0), CW, Action.whistle, at=a0 + H)
    a = act(env, a, DEPT, Action.acknowledge, at=a0 + 2 * H)
    a = close(env, a, DEPT, a0 + 10 * H)
    act(env, a, RES, Action.evaluate, rating=Rating.satisfied, at=a0 + 12 * H)
    b0 = datetime(2026, 10, 6, 9, 0, tzinfo=TZ)
    act(env, submit(env, b0), CW, Action.whistle, at=b0 + H)
    unit = registry.unit_create(
        actor=SYSTEM, scope=Scope.everything(), name="昆山建工", kind="enterprise", area=tree.chengbei
    )
    party.pairing_create(
        actor=SYSTEM, scope=Scope.everything(), unit=unit, community=tree.chengbei, since=date(2026, 1, 1)
    )
    env.unit = unit  # type: ignore[attr-defined]
    return env


def _rate_all(env: Env) -> None:
    t = env.tree
    chengbei, chengnan = t.users[CW], t.outsiders[CW]  # the outsider community worker sits in 城南 (also 玉山镇)
    services.rating_save(
        actor=chengbei, community=t.chengbei, month=OCT, target_kind="department", target_id=t.department.pk, score=80
    )
    services.rating_save(
        actor=chengnan,
        community=t.chengnan,
        month=OCT,
        target_kind="department",
        target_id=t.department.pk,
        score=90,
        comment="响应快",
    )
    services.rating_save(
        actor=chengbei,
        community=t.chengbei,
        month=OCT,
        target_kind="department",
        target_id=t.other_department.pk,
        score=60,
    )
    services.rating_save(
        actor=chengbei, community=t.chengbei, month=OCT, target_kind="unit", target_id=env.unit.pk, score=70
    )  # type: ignore[attr-defined]


def test_combine_by_hand() -> None:
    parts = [Part("a", "A", 20, 50.0), Part("b", "B", 30, None), Part("c", "C", 50, 80.0)]
    assert combine(parts) == pytest.approx((20 * 50 + 50 * 80) / 70)
    assert combine([Part("a", "A", 0, 90.0), Part("b", "B", 100, None)]) is None


def test_scores_and_ranking_hand_computed(world: Env) -> None:
    _rate_all(world)
    result = selectors.ranking(subdistrict=world.tree.yushan, month=OCT, now=NOW)
    rows = {r.name: r for r in result.departments}
    cgj, sw = rows["昆山市城管局"], rows["昆山市水务局"]
    assert [p.value for p in cgj.parts] == [50.0, 50.0, 100.0, 100.0, 85.0]
    assert cgj.score == pytest.approx(75.5)
    assert sw.score == pytest.approx(60.0) and [p.value for p in sw.parts][:4] == [None] * 4
    assert (cgj.rank, sw.rank) == (1, 2)
    assert sw.rating_only and not cgj.rating_only
    (unit,) = result.units
    assert unit.name == "昆山建工" and unit.parts[0].value is None and unit.score == pytest.approx(70.0)
    assert (result.communities, result.rated_communities) == (2, 2)
    # Weights change the score: only the rating counts now.
    services.weights_save(
        actor=world.tree.users[DISPATCHER],
        subdistrict=world.tree.yushan,
        values={
            "response": 0,
            "resolution": 0,
            "satisfaction": 0,
            "on_time": 0,
            "rating": 100,
            "unit_service": 50,
            "unit_rating": 50,
        },
    )
    again = {r.name: r for r in selectors.ranking(subdistrict=world.tree.yushan, month=OCT, now=NOW).departments}
    assert again["昆山市城管局"].score == pytest.approx(85.0)
    # 周市镇 has none of these cases or ratings.
    other = selectors.ranking(subdistrict=world.tree.zhoushi, month=OCT, now=NOW)
    assert all(r.score is None for r in other.departments) and other.units == []


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"rating": 40}, "职能部门的五项权重之和必须为100，当前为110。"),
        ({"unit_rating": 50}, "共建单位的两项权重之和必须为100，当前为90。"),
        ({"response": 120, "rating": -90}, "“响应率”的权重必须在0到100之间，当前为120。"),
        ({"response": "二十"}, "“响应率”的权重必须是整数。"),
        ({"response": ""}, "请填写“响应率”的权重。"),
    ],
)
def test_weights_validation_in_chinese(values: dict[str, object], message: str) -> None:
    base: dict[str, object] = {**selectors.DEFAULT_WEIGHTS, **selectors.DEFAULT_UNIT_WEIGHTS}
    assert services.weights_problems(base) == []
    assert message in services.weights_problems({**base, **values})


def test_weights_save_refuses_bad_weights_and_other_subdistricts(world: Env) -> None:
    t = world.tree
    bad = {**selectors.DEFAULT_WEIGHTS, **selectors.DEFAULT_UNIT_WEIGHTS, "rating": 10}
    with pytest.raises(DomainError, match="之和必须为100"):
        services.weights_save(actor=t.users[DISPATCHER], subdistrict=t.yushan, values=bad)
    good = {**selectors.DEFAULT_WEIGHTS, **selectors.DEFAULT_UNIT_WEIGHTS}
    with pytest.raises(NotFound):
        services.weights_save(actor=t.outsiders[DISPATCHER], subdistrict=t.yushan, values=good)
    services.weights_save(actor=t.users[DISPATCHER], subdistrict=t.yushan, values=good)
    assert AuditEntry.objects.filter(action="insights.assessment_weights").count() == 1


def test_rating_rules(world: Env) -> None:
    t = world.tree
    cw = t.users[CW]
    rating = services.rating_save(
        actor=cw, community=t.chengbei, month=OCT, target_kind="department", target_id=t.department.pk, score=80
    )
    # Editable (one row per community, target and month) until the month is closed.
    again = services.rating_save(
        actor=cw, community=t.chengbei, month=OCT, target_kind="department", target_id=t.department.pk, score=65
    )
    assert again.pk == rating.pk and again.score == 65
    with pytest.raises(DomainError, match="0到100"):
        services.rating_save(
            actor=cw, community=t.chengbei, month=OCT, target_kind="department", target_id=t.department.pk, score=101
        )
    with pytest.raises(NotFound):  # another community's form
        services.rating_save(
            actor=t.outsiders[CW],
            community=t.chengbei,
            month=OCT,
            target_kind="department",
            target_id=t.department.pk,
            score=80,
        )
    with pytest.raises(DomainError, match="不是本社区本月的评分对象"):  # the unit is paired with 城北, not 城南
        services.rating_save(
            actor=t.outsiders[CW],
            community=t.chengnan,
            month=OCT,
            target_kind="unit",
            target_id=world.unit.pk,
            score=80,
        )  # type: ignore[attr-defined]
    services.month_close(actor=t.users[DISPATCHER], subdistrict=t.yushan, month=OCT)
    services.month_close(actor=t.users[DISPATCHER], subdistrict=t.yushan, month=OCT)  # idempotent
    with pytest.raises(DomainError, match="已由街道关闭"):
        services.rating_save(
            actor=cw, community=t.chengbei, month=OCT, target_kind="department", target_id=t.department.pk, score=90
        )
    assert AuditEntry.objects.filter(action="insights.assessment_close").count() == 1
    # November is still open.
    services.rating_save(
        actor=cw,
        community=t.chengbei,
        month=date(2026, 11, 1),
        target_kind="department",
        target_id=t.department.pk,
        score=90,
    )


def test_pages(world: Env) -> None:
    t = world.tree
    _rate_all(world)
    client = Client()
    client.force_login(t.users[DISPATCHER])
    page = client.get(reverse("insights:assessment"), {"month": "2026-10"})
    html = page.content.decode()
    assert page.status_code == 200 and "计分公式" in html and "昆山市城管局" in html and "昆山建工" in html
    assert client.get(reverse("insights:assessment"), {"area": t.zhoushi.pk}).status_code == 404
    answer = client.post(
        reverse("insights:assessment_weights"),
        {
            "response": 20,
            "resolution": 20,
            "satisfaction": 20,
            "on_time": 20,
            "rating": 30,
            "unit_service": 40,
            "unit_rating": 60,
        },
    )
    assert "职能部门的五项权重之和必须为100，当前为110。" in answer.content.decode()
    # A community worker sees the ranking of their subdistrict and rates on one form.
    cw = Client()
    cw.force_login(t.users[CW])
    assert cw.get(reverse("insights:assessment"), {"month": "2026-10"}).status_code == 200
    form = cw.get(reverse("insights:assessment_rate"), {"month": "2026-10"}).content.decode()
    assert "昆山市城管局" in form and "昆山建工" in form
    posted = cw.post(
        reverse("insights:assessment_rate") + "?month=2026-10",
        {"month": "2026-10", f"department-{t.department.pk}-score": "abc"},
    )
    assert "评分必须是0到100之间的整数" in posted.content.decode()
    # A department officer may not see the assessment at all.
    officer = Client()
    officer.force_login(t.users[DEPT])
    assert officer.get(reverse("insights:assessment")).status_code == 403
    assert officer.get(reverse("insights:assessment_rate")).status_code == 403


def test_partner_unit_scored_on_members_targets_and_rating(world: Env) -> None:
    """昆山市税务局 (paired with 城北) employs 张三 (met both 2026 targets) and 李四 (one service only):
    党员履职 1/2 = 50; 城北 rates 80 → (40·50 + 60·80) / 100 = 68."""
    from tests.party.conftest import employed_member, make_party
    from tests.party.test_targets_report import _service

    t = world.tree
    p = make_party(t)
    a = employed_member(p, seq=81, name="张三")
    b = employed_member(p, seq=82, name="李四")
    _service(a, "volunteer", date(2026, 3, 1))
    _service(a, "volunteer", date(2026, 4, 1))
    _service(a, "problem", date(2026, 5, 1))
    _service(b, "volunteer", date(2026, 3, 1))
    party.pairing_create(
        actor=SYSTEM, scope=Scope.everything(), unit=p.unit, community=t.chengbei, since=date(2026, 9, 1)
    )
    services.rating_save(
        actor=t.users[CW], community=t.chengbei, month=OCT, target_kind="unit", target_id=p.unit.pk, score=80
    )
    result = selectors.ranking(subdistrict=t.yushan, month=OCT, now=NOW)
    row = next(r for r in result.units if r.name == "昆山市税务局")
    assert [part.value for part in row.parts] == [50.0, 80.0]
    assert row.score == pytest.approx(68.0)
    assert row.rank == 1
    other = next(r for r in result.units if r.name == "昆山建工")  # no rating, no members: 无数据, unranked
    assert (other.score, other.rank) == (None, None)
