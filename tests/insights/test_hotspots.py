"""Hotspots from real cases: detection in scope, one-click proactive case (idempotent), dismissal, pages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

from grassroots.accounts.models import Role
from grassroots.audit.models import AuditEntry
from grassroots.audit.services import SYSTEM
from grassroots.cases import services as cases
from grassroots.cases.models import AssignmentState, Case, CaseAssignment, Channel
from grassroots.cases.workflow import CaseState
from grassroots.core import clock
from grassroots.core.errors import DomainError, Forbidden, NotFound
from grassroots.core.scope import Scope
from grassroots.insights.models import HotspotDecision, HotspotOutcome
from grassroots.insights.selectors import hotspots as selectors
from grassroots.insights.services import hotspots as services
from tests.factories import Tree, centre

pytestmark = pytest.mark.django_db

CW, DISPATCHER, GRID, LEADER = (
    Role.COMMUNITY_WORKER,
    Role.SUBDISTRICT_DISPATCHER,
    Role.GRID_WORKER,
    Role.DISTRICT_LEADER,
)


@pytest.fixture
def world(tree: Tree) -> Tree:
    """Three potholes at 阳光花园1幢 (城北, grid 1) in the last month, and scattered cases elsewhere."""
    pothole = cases.category_create(actor=SYSTEM, code="road.pothole", name="道路坑洼", kind="event")
    litter = cases.category_create(actor=SYSTEM, code="env.litter", name="垃圾乱堆", kind="event")
    cases.assignment_save(
        actor=SYSTEM, scope=Scope.everything(), category=pothole, area=tree.district, departments=[tree.department]
    )
    now = clock.now()
    resident = tree.users[Role.RESIDENT]
    for days in (25, 12, 3):
        cases.case_submit(
            actor=resident,
            scope=Scope.everything(),
            channel=Channel.RESIDENT_H5,
            category=pothole,
            description=f"1幢门口路面塌陷（{days}天前）",
            building=tree.building1,
            now=now - timedelta(days=days),
        )
    # Scattered: one pothole in each other grid, litter in grid one, an old pothole at 1幢 (out of the window).
    for col in (1, 2, 3):
        lon, lat = centre(col, 0)
        cases.case_submit(
            actor=SYSTEM_USER(tree),
            scope=Scope.everything(),
            channel=Channel.GRID_PATROL,
            category=pothole,
            description="零星坑洼",
            lon=lon + 0.003,
            lat=lat + 0.003,
            now=now - timedelta(days=5),
        )
    cases.case_submit(
        actor=resident,
        scope=Scope.everything(),
        channel=Channel.RESIDENT_H5,
        category=litter,
        description="垃圾",
        building=tree.building1,
        now=now - timedelta(days=2),
    )
    cases.case_submit(
        actor=resident,
        scope=Scope.everything(),
        channel=Channel.RESIDENT_H5,
        category=pothole,
        description="很久以前的坑",
        building=tree.building1,
        now=now - timedelta(days=200),
    )
    return tree


def SYSTEM_USER(tree: Tree) -> object:  # the administrator patrols every grid
    return tree.users[Role.ADMIN]


def test_planted_building_hotspot_found_and_scattered_cases_are_not(world: Tree) -> None:
    found = selectors.hotspot_list(user=world.users[CW], now=clock.now())
    assert len(found) == 1
    (view,) = found
    assert view.hotspot.kind == "building"
    assert view.category.code == "road.pothole"
    assert "1幢" in view.subject_label and "阳光花园" in view.subject_label
    assert [c.description for c in view.evidence] == [
        "1幢门口路面塌陷（25天前）",
        "1幢门口路面塌陷（12天前）",
        "1幢门口路面塌陷（3天前）",
    ]
    # The subdistrict sees the same hotspot; the neighbouring community and subdistrict see nothing.
    assert [v.token for v in selectors.hotspot_list(user=world.users[DISPATCHER], now=clock.now())] == [view.token]
    assert selectors.hotspot_list(user=world.outsiders[CW], now=clock.now()) == []
    assert selectors.hotspot_list(user=world.outsiders[DISPATCHER], now=clock.now()) == []


def test_convert_creates_one_dispatched_proactive_case_and_is_idempotent(world: Tree) -> None:
    user = world.users[CW]
    (view,) = selectors.hotspot_list(user=user, now=clock.now())
    first = services.hotspot_convert(actor=user, token=view.token)
    second = services.hotspot_convert(actor=user, token=view.token)
    assert first.pk == second.pk
    proactive = list(Case.objects.filter(channel=Channel.PROACTIVE))
    assert len(proactive) == 1
    case = proactive[0]
    assert first.case_id == case.pk and first.outcome == HotspotOutcome.CONVERTED and first.decided_by == user
    assert case.state == CaseState.dispatched.value
    assert case.building_id == world.building1.pk
    assert list(CaseAssignment.objects.filter(case=case).values_list("department_id", "state")) == [
        (world.department.pk, AssignmentState.DISPATCHED)
    ]
    for evidence in view.evidence:
        assert evidence.number in case.description
    assert sorted(first.evidence) == sorted(c.pk for c in view.evidence)
    assert AuditEntry.objects.filter(action="insights.hotspot_convert", actor_id=user.pk).count() == 1
    # Not offered again (the proactive case itself is not evidence either).
    assert selectors.hotspot_list(user=user, now=clock.now()) == []


def test_same_evidence_is_offered_again_only_after_enough_new_cases(world: Tree) -> None:
    user = world.users[CW]
    (view,) = selectors.hotspot_list(user=user, now=clock.now())
    services.hotspot_convert(actor=user, token=view.token)
    category = view.category
    for n in range(3):
        cases.case_submit(
            actor=world.users[Role.RESIDENT],
            scope=Scope.everything(),
            channel=Channel.RESIDENT_H5,
            category=category,
            description=f"又塌了 {n}",
            building=world.building1,
        )
        again = selectors.hotspot_list(user=user, now=clock.now())
        assert len(again) == (1 if n == 2 else 0)
    assert again[0].decided_before == 3


def test_dismiss_needs_a_reason_and_hides_the_hotspot(world: Tree) -> None:
    user = world.users[DISPATCHER]
    (view,) = selectors.hotspot_list(user=user, now=clock.now())
    with pytest.raises(DomainError, match="请填写忽略理由"):
        services.hotspot_dismiss(actor=user, token=view.token, reason="  ")
    decision = services.hotspot_dismiss(actor=user, token=view.token, reason="道路已列入大修计划")
    assert decision.outcome == HotspotOutcome.DISMISSED and decision.reason == "道路已列入大修计划"
    assert selectors.hotspot_list(user=user, now=clock.now()) == []
    with pytest.raises(DomainError, match="已被忽略"):
        services.hotspot_convert(actor=user, token=view.token)
    assert not Case.objects.filter(channel=Channel.PROACTIVE).exists()
    assert AuditEntry.objects.filter(action="insights.hotspot_dismiss").count() == 1


def test_out_of_scope_and_wrong_role(world: Tree) -> None:
    (view,) = selectors.hotspot_list(user=world.users[CW], now=clock.now())
    with pytest.raises(NotFound):
        services.hotspot_convert(actor=world.outsiders[CW], token=view.token)
    with pytest.raises(Forbidden):
        services.hotspot_convert(actor=world.users[LEADER], token=view.token)  # views, may not dispatch
    assert not HotspotDecision.objects.exists()


def _client(user: object) -> Client:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    return client


def test_pages(world: Tree) -> None:
    url = reverse("insights:hotspots")
    page = _client(world.users[CW]).get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "同一楼栋反复发生" in html and "转为未诉先办案件" in html
    evidence = Case.objects.filter(description__startswith="1幢门口").first()
    assert evidence is not None and reverse("cases:case", args=[evidence.pk]) in html
    assert "判定规则" in html
    # The leader sees the hotspot but no button; a grid worker may not see the page.
    leader = _client(world.users[LEADER]).get(url).content.decode()
    assert "道路坑洼" in leader and "转为未诉先办案件" not in leader
    assert _client(world.users[GRID]).get(url).status_code == 403
    (view,) = selectors.hotspot_list(user=world.users[CW], now=clock.now())
    # Out of scope: 404, nothing written.
    outsider = _client(world.outsiders[CW]).post(reverse("insights:hotspot_convert", args=[view.token]))
    assert outsider.status_code == 404
    # One click, twice: one case.
    client = _client(world.users[CW])
    for _ in range(2):
        answer = client.post(reverse("insights:hotspot_convert", args=[view.token]))
        assert answer.status_code == 302
    assert Case.objects.filter(channel=Channel.PROACTIVE).count() == 1
    after = client.get(url).content.decode()
    assert "已转为未诉先办案件" in after
    # A bad rule is explained in Chinese and the defaults are used.
    bad = client.get(url + "?min_count=1").content.decode()
    assert "最少件数至少为2" in bad
