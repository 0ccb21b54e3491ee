"""Smart dispatch through the services: training from closed cases, model versions, suggestions,
the keyword fallback, recording a worker's choice and learning from it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command

from grassroots.accounts import services as accounts
from grassroots.accounts.models import Department
from grassroots.accounts.models import Role as AccountRole
from grassroots.audit.models import AuditEntry
from grassroots.audit.services import SYSTEM
from grassroots.cases import selectors, services
from grassroots.cases.models import (
    AssignmentState,
    Case,
    CaseAssignment,
    CaseEvent,
    Category,
    RoutingChoice,
    RoutingModel,
)
from grassroots.cases.routing.synthetic import generate
from grassroots.cases.selectors.routing import model_for, routing_suggest, training_samples
from grassroots.cases.services.routing import Conflict, TooLittleHistoryError, case_route, routing_train
from grassroots.cases.services.seed import DEFAULT_TREE
from grassroots.cases.workflow import TZ, Action, CaseState, Command, Role
from grassroots.core.errors import NotFound
from grassroots.core.scope import Scope
from tests.factories import Tree, centre

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=TZ)  # a Monday
START = NOW - timedelta(days=400)
LEAVES = [(code, name) for _, _, _, _, children in DEFAULT_TREE for code, name, _ in children]


@dataclass
class Planted:
    categories: dict[str, Category]  # code → row
    departments: dict[str, Department]  # synthetic label → row
    cases: list[Case]


def plant_history(tree: Tree, cases: int = 400, seed: int = 11) -> Planted:
    """Seeded categories, a department per synthetic label, the duty list per subdistrict, and
    ``cases`` closed cases from the generated history (玉山镇 is the first subdistrict, 周市镇 the second)."""
    services.categories_seed(actor=SYSTEM)
    categories = {c.code: c for c in Category.objects.all()}
    history = generate(LEAVES, cases=cases, days=360, subdistricts=2, communities=2, seed=seed)
    departments = {
        label: accounts.department_create(actor=SYSTEM, area=tree.district, code=f"r_{label}", name=name)
        for label, name in history.departments.items()
    }
    subdistricts = {history.subdistricts[0]: tree.yushan, history.subdistricts[1]: tree.zhoushi}
    grids = {history.subdistricts[0]: [tree.grid1, tree.grid2, tree.grid3], history.subdistricts[1]: [tree.grid4]}
    for (code, sub), labels in history.duty.items():
        services.assignment_save(
            actor=SYSTEM,
            scope=Scope.everything(),
            category=categories[code],
            area=subdistricts[sub],
            departments=[departments[label] for label in labels],
        )
    rows, assignments = [], []
    for i, sample in enumerate(history.samples):
        sub = ".".join(sample.place.split(".")[:2])
        grid = grids[sub][i % len(grids[sub])]
        created = START + timedelta(seconds=sample.at)
        rows.append(
            Case(
                channel="hotline_12345",
                category=categories[sample.category],
                description=sample.text,
                grid=grid,
                path=grid.path,
                state=CaseState.closed.value,
                created_at=created,
                updated_at=created + timedelta(days=2),
                closed_at=created + timedelta(days=2),
            )
        )
    saved = Case.objects.bulk_create(rows)
    for case, sample in zip(saved, history.samples, strict=True):
        for label in sample.departments:
            assignments.append(
                CaseAssignment(
                    case=case,
                    department=departments[label],
                    state=AssignmentState.RESOLVED,
                    dispatched_at=case.created_at,
                    resolved_at=case.closed_at,
                )
            )
    CaseAssignment.objects.bulk_create(assignments)
    return Planted(categories, departments, list(saved))


def new_case(tree: Tree, category: Category, text: str, grid: int = 0) -> Case:
    lon, lat = centre(grid, 0)
    return services.case_submit(
        actor=tree.users[AccountRole.GRID_WORKER] if grid == 0 else None,
        scope=Scope.everything(),
        channel="grid_patrol",
        category=category,
        description=text,
        lon=lon,
        lat=lat,
        now=NOW,
    ).case


@pytest.fixture
def planted(tree: Tree) -> Planted:
    return plant_history(tree)


@pytest.fixture
def trained(planted: Planted) -> RoutingModel:
    return routing_train(actor=None, now=NOW)


# --- the training set --------------------------------------------------------------------------


def test_training_samples_learn_closed_cases_without_rejected_departments(tree: Tree, planted: Planted) -> None:
    case = planted.cases[0]
    CaseAssignment.objects.create(
        case=case, department=tree.other_department, state=AssignmentState.REJECTED, dispatched_at=case.created_at
    )
    open_case = new_case(tree, planted.categories["facilities.road_damage"], "路面塌陷了")
    data = training_samples(scope=Scope.everything())
    assert len(data.samples) == 400 and data.from_choices == 0  # the open case has no label yet
    sample = next(s for s in data.samples if s.text == case.description and s.at == case.created_at.timestamp())
    assert str(tree.other_department.pk) not in sample.departments
    assert set(sample.departments) == {str(a.department_id) for a in case.assignments.filter(state="resolved")}
    assert all(s.text != open_case.description for s in data.samples)
    # An area's training set holds only its cases.
    zhoushi = training_samples(scope=Scope(area_path=tree.zhoushi.path)).samples
    assert 0 < len(zhoushi) < 400
    assert len(zhoushi) == Case.objects.filter(path__startswith=tree.zhoushi.path + ".", state="closed").count()


# --- training ----------------------------------------------------------------------------------


def test_too_little_history_stores_nothing_and_keywords_answer(tree: Tree) -> None:
    services.categories_seed(actor=SYSTEM)
    with pytest.raises(TooLittleHistoryError, match="已结案件太少"):
        routing_train(actor=None, now=NOW)
    assert not RoutingModel.objects.exists()
    case = new_case(tree, Category.objects.get(code="facilities.road_damage"), "楼下电动车推进楼道里充电，还有飞线")
    suggestion = routing_suggest(user=tree.users[AccountRole.COMMUNITY_WORKER], case=case)
    assert suggestion.source == "keywords" and suggestion.model is None
    assert suggestion.categories[0].item.code == "safety.ebike_indoor_charging"
    assert suggestion.source_label == "事项清单关键词"


def test_train_stores_a_version_with_hold_out_figures(tree: Tree, planted: Planted) -> None:
    row = routing_train(actor=tree.users[AccountRole.ADMIN], now=NOW)
    assert (row.version, row.path, row.samples, row.test_samples) == (1, "", 400, 80)
    assert row.categories == 13 and row.departments > 5 and row.library
    model, keywords = row.accuracy["model"], row.accuracy["keywords"]
    assert model["samples"] == keywords["samples"] == 80
    assert model["category_top1"] > keywords["category_top1"] + 0.2
    assert model["category_top3"] >= model["category_top1"]
    assert model["department_top1"] > keywords["department_top1"]
    entry = AuditEntry.objects.get(action="cases.routing.train")
    assert entry.object_id == str(row.pk) and entry.detail["version"] == 1
    again = routing_train(actor=None, now=NOW + timedelta(days=1))
    assert again.version == 2 and model_for(tree.grid1.path) == again


def test_an_areas_own_model_wins_there(tree: Tree, planted: Planted) -> None:
    platform = routing_train(actor=None, now=NOW)
    local = routing_train(actor=None, area=tree.yushan, now=NOW - timedelta(days=1), min_samples=100)
    assert local.path == tree.yushan.path and local.samples < platform.samples
    assert model_for(tree.grid1.path) == local  # more specific, though older
    assert model_for(tree.grid4.path) == platform


# --- suggestions -------------------------------------------------------------------------------


def test_suggestions_from_the_model(tree: Tree, planted: Planted, trained: RoutingModel) -> None:
    case = new_case(
        tree, planted.categories["facilities.road_damage"], "阳光花园门口垃圾桶满了好几天没人清运，臭气熏天"
    )
    suggestion = routing_suggest(user=tree.users[AccountRole.COMMUNITY_WORKER], case=case)
    assert suggestion.source == "model" and suggestion.model == trained
    assert suggestion.categories[0].item.code == "environment.exposed_garbage"
    assert len(suggestion.categories) == 3 and 0.5 < suggestion.categories[0].confidence <= 1
    assert suggestion.departments[0].item == planted.departments["hw0"]  # 玉山镇's 环卫所
    with pytest.raises(NotFound):
        routing_suggest(user=tree.outsiders[AccountRole.COMMUNITY_WORKER], case=case)


def test_a_damaged_model_row_falls_back_to_keywords(tree: Tree, planted: Planted, trained: RoutingModel) -> None:
    RoutingModel.objects.filter(pk=trained.pk).update(sha256="0" * 64)
    case = new_case(tree, planted.categories["facilities.road_damage"], "路灯晚上不亮")
    suggestion = routing_suggest(user=tree.users[AccountRole.COMMUNITY_WORKER], case=case)
    assert suggestion.source == "keywords"
    assert suggestion.categories[0].item.code == "facilities.streetlight_out"


# --- the worker's choice -----------------------------------------------------------------------


def _route(tree: Tree, case: Case, action: Action, **kwargs: object) -> Case:
    user = tree.users[AccountRole.COMMUNITY_WORKER]
    suggestion = routing_suggest(user=user, case=case)
    return case_route(
        actor=user,
        role=Role.community,
        case_id=case.pk,
        expected_version=Case.objects.get(pk=case.pk).version,
        command=Command(action=action, role=Role.community, **kwargs),  # type: ignore[arg-type]
        suggestion=suggestion,
        now=NOW,
        **{k: v for k, v in kwargs.items() if k == "category"},  # type: ignore[arg-type]
    )


def test_whistle_with_another_category_is_recorded_and_learnt(
    tree: Tree, planted: Planted, trained: RoutingModel
) -> None:
    wrong = planted.categories["facilities.road_damage"]
    right = planted.categories["environment.exposed_garbage"]
    case = new_case(tree, wrong, "阳光花园门口垃圾桶满了好几天没人清运")
    user = tree.users[AccountRole.COMMUNITY_WORKER]
    suggestion = routing_suggest(user=user, case=case)
    hw = planted.departments["hw0"]
    done = case_route(
        actor=user,
        role=Role.community,
        case_id=case.pk,
        expected_version=case.version,
        command=Command(action=Action.whistle, role=Role.community, departments=(hw.pk,)),
        category=right,
        suggestion=suggestion,
        now=NOW,
    )
    assert done.category == right and done.state == CaseState.dispatched and done.version == case.version + 2
    assert list(done.assignments.values_list("department_id", flat=True)) == [hw.pk]
    assert CaseEvent.objects.filter(case=case, action="reclassify").get().payload == {"from": wrong.pk, "to": right.pk}
    choice = RoutingChoice.objects.get(case=case)
    assert (choice.source, choice.model, choice.action) == ("model", trained, "whistle")
    assert choice.chosen_category == right and choice.category_rank == 1 and choice.changed_category
    assert choice.chosen_departments == [hw.pk] and choice.department_hits == 1
    assert choice.suggested_categories[0]["id"] == right.pk
    assert AuditEntry.objects.filter(action="cases.routing.choice", object_id=str(case.pk)).exists()
    assert AuditEntry.objects.filter(action="cases.reclassify", object_id=str(case.pk)).exists()
    # The next training learns the open case with the chosen labels.
    data = training_samples(scope=Scope.everything())
    assert data.from_choices == 1
    learnt = next(s for s in data.samples if s.text == case.description)
    assert learnt.category == str(right.pk) and learnt.departments == (str(hw.pk),)
    assert routing_train(actor=None, now=NOW).choice_samples == 1


def test_accept_keeping_the_category_records_the_rank(tree: Tree, planted: Planted, trained: RoutingModel) -> None:
    category = planted.categories["community.neighbour_dispute"]
    case = new_case(tree, category, "楼上邻居因为漏水吵起来，双方闹得很僵")
    done = case_route(
        actor=tree.users[AccountRole.COMMUNITY_WORKER],
        role=Role.community,
        case_id=case.pk,
        expected_version=case.version,
        command=Command(action=Action.accept, role=Role.community),
        category=None,
        suggestion=routing_suggest(user=tree.users[AccountRole.COMMUNITY_WORKER], case=case),
        now=NOW,
    )
    assert done.state == CaseState.accepted and done.category == category
    choice = RoutingChoice.objects.get(case=case)
    assert choice.category_rank == 1 and not choice.changed_category and choice.chosen_departments == []
    assert not CaseEvent.objects.filter(case=case, action="reclassify").exists()


def test_a_stale_version_changes_nothing(tree: Tree, planted: Planted) -> None:
    case = new_case(tree, planted.categories["facilities.road_damage"], "路面塌陷了")
    with pytest.raises(Conflict):
        case_route(
            actor=tree.users[AccountRole.COMMUNITY_WORKER],
            role=Role.community,
            case_id=case.pk,
            expected_version=case.version + 5,
            command=Command(action=Action.accept, role=Role.community),
            category=planted.categories["community.noise"],
            now=NOW,
        )
    fresh = Case.objects.get(pk=case.pk)
    assert fresh.category_id == case.category_id and fresh.state == CaseState.submitted
    assert not RoutingChoice.objects.exists()


def test_choice_stats(tree: Tree, planted: Planted, trained: RoutingModel) -> None:
    case = new_case(tree, planted.categories["community.neighbour_dispute"], "对门占用公共走廊还骂人")
    _route(tree, case, Action.accept)
    stats = selectors.routing.choice_stats(scope=Scope(area_path=tree.yushan.path))
    assert stats == {"choices": 1, "first": 1, "top3": 1, "from_model": 1}
    assert selectors.routing.choice_stats(scope=Scope(area_path=tree.zhoushi.path))["choices"] == 0


# --- the command and the task ------------------------------------------------------------------


def test_train_routing_command(tree: Tree) -> None:
    out = StringIO()
    call_command("train_routing", stdout=out)
    assert "not trained" in out.getvalue()
    plant_history(tree, cases=300)
    out = StringIO()
    call_command("train_routing", stdout=out)
    text = out.getvalue()
    assert "routing model all v1: 300 cases" in text and "keyword baseline" in text
    assert RoutingModel.objects.get().samples == 300


def test_routing_task(tree: Tree) -> None:
    from grassroots.cases.tasks import routing_train as task

    assert task.call()["trained"] is False
    plant_history(tree, cases=250)
    result = task.call()
    assert result["trained"] is True and result["version"] == 1 and result["samples"] == 250
