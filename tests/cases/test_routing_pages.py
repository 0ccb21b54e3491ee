"""Smart dispatch on the staff case page: the top-three panel, one-click choices, what is recorded."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from django.urls import reverse

from grassroots.accounts.models import Role as AccountRole
from grassroots.cases.models import Case, CaseEvent, Category, RoutingChoice, RoutingModel
from grassroots.cases.services.routing import routing_train
from grassroots.cases.workflow import TZ, CaseState
from grassroots.core import clock
from tests.cases.test_routing_services import Planted, new_case, plant_history
from tests.factories import Tree

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=TZ)


@pytest.fixture(autouse=True)
def frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "now", lambda: NOW)


@pytest.fixture
def planted(tree: Tree) -> Planted:
    return plant_history(tree, cases=300)


def page(client: Any, tree: Tree, case: Case, role: str = AccountRole.COMMUNITY_WORKER) -> str:
    client.force_login(tree.users[role])
    response = client.get(reverse("cases:case", args=[case.pk]))
    assert response.status_code == 200
    return response.content.decode()


def post(client: Any, case: Case, action: str, **fields: Any) -> Any:
    data = {"action": action, "role": "community", "expected_version": Case.objects.get(pk=case.pk).version, **fields}
    return client.post(reverse("cases:case", args=[case.pk]), data)


def test_keyword_suggestions_before_any_model(client: Any, tree: Tree, planted: Planted) -> None:
    case = new_case(tree, planted.categories["facilities.road_damage"], "消防通道被车堵死了")
    text = page(client, tree, case)
    assert "智能分派建议" in text and "事项清单关键词" in text and "已结案件不足" in text
    fire = planted.categories["safety.fire_lane_blocked"]
    assert f'data-route-category="{fire.pk}"' in text
    assert "消防通道堵塞" in text and "cases/staff/routing.js" in text
    # The accept and whistle forms offer the category, keeping the current one.
    assert text.count('name="category"') >= 2
    assert f'<option value="{case.category_id}" selected>' in text


def test_model_suggestions_with_confidence(client: Any, tree: Tree, planted: Planted) -> None:
    model = routing_train(actor=None, now=NOW)
    case = new_case(
        tree, planted.categories["facilities.road_damage"], "阳光花园门口垃圾桶满了好几天没人清运，臭气熏天"
    )
    text = page(client, tree, case)
    assert "分派模型" in text and f"v{model.version}" in text and "300 件已结案件训练" in text
    garbage = planted.categories["environment.exposed_garbage"]
    first = text.index("data-route-category=")
    assert text[first:].startswith(f'data-route-category="{garbage.pk}"')  # the best first
    assert f'data-route-department="{planted.departments["hw0"].pk}"' in text
    assert "%</span>" in text


def test_whistle_with_a_suggested_category_and_department(client: Any, tree: Tree, planted: Planted) -> None:
    routing_train(actor=None, now=NOW)
    case = new_case(tree, planted.categories["facilities.road_damage"], "阳光花园门口垃圾桶满了好几天没人清运")
    garbage, hw = planted.categories["environment.exposed_garbage"], planted.departments["hw0"]
    client.force_login(tree.users[AccountRole.COMMUNITY_WORKER])
    response = post(client, case, "whistle", category=garbage.pk, departments=[hw.pk])
    assert response.status_code == 302
    fresh = Case.objects.get(pk=case.pk)
    assert fresh.category == garbage and fresh.state == CaseState.dispatched
    choice = RoutingChoice.objects.get(case=case)
    assert choice.source == "model" and choice.category_rank == 1 and choice.chosen_departments == [hw.pk]
    text = page(client, tree, fresh)
    assert "更改事项" in text and "事项由“道路破损”改为“暴露垃圾”" in text


def test_accept_without_a_category_keeps_it_and_still_records(client: Any, tree: Tree, planted: Planted) -> None:
    case = new_case(tree, planted.categories["community.neighbour_dispute"], "楼上邻居因为漏水吵起来")
    client.force_login(tree.users[AccountRole.COMMUNITY_WORKER])
    assert post(client, case, "accept").status_code == 302
    fresh = Case.objects.get(pk=case.pk)
    assert fresh.state == CaseState.accepted and fresh.category_id == case.category_id
    choice = RoutingChoice.objects.get(case=case)
    assert choice.source == "keywords" and not choice.changed_category
    assert not CaseEvent.objects.filter(case=case, action="reclassify").exists()


def test_a_parent_or_inactive_category_is_refused(client: Any, tree: Tree, planted: Planted) -> None:
    case = new_case(tree, planted.categories["facilities.road_damage"], "路面塌陷了")
    client.force_login(tree.users[AccountRole.COMMUNITY_WORKER])
    parent = Category.objects.get(code="facilities")
    response = post(client, case, "accept", category=parent.pk)
    assert response.status_code == 400 and "选择一个有效的选项" in response.content.decode()
    assert Case.objects.get(pk=case.pk).state == CaseState.submitted and not RoutingChoice.objects.exists()


def test_no_panel_where_nothing_is_routed(client: Any, tree: Tree, planted: Planted) -> None:
    routing_train(actor=None, now=NOW)
    case = new_case(tree, planted.categories["facilities.road_damage"], "路面塌陷了")
    client.force_login(tree.users[AccountRole.COMMUNITY_WORKER])
    post(client, case, "whistle", departments=[tree.department.pk])
    # The department officer reports in: no dispatch suggestions, no category field.
    text = page(client, tree, Case.objects.get(pk=case.pk), AccountRole.DEPARTMENT_OFFICER)
    assert "智能分派建议" not in text and 'name="category"' not in text
    text = page(client, tree, Case.objects.get(pk=case.pk), AccountRole.GRID_WORKER)
    assert "智能分派建议" not in text


def test_case_page_queries_stay_bounded(
    client: Any, tree: Tree, planted: Planted, django_assert_max_num_queries: Any
) -> None:
    routing_train(actor=None, now=NOW)
    case = new_case(tree, planted.categories["facilities.road_damage"], "路面塌陷了")
    client.force_login(tree.users[AccountRole.COMMUNITY_WORKER])
    client.get(reverse("cases:case", args=[case.pk]))  # loads the model once per process
    with django_assert_max_num_queries(60):
        assert client.get(reverse("cases:case", args=[case.pk])).status_code == 200
    assert RoutingModel.objects.count() == 1
