"""The home page's 待办: each role's waiting case work, counted in its own scope."""

from __future__ import annotations

from typing import Any

import pytest

from grassroots.accounts.models import Role as AccountRole
from grassroots.cases.selectors.todo import todo_for
from grassroots.cases.workflow import Action, Rating
from tests.cases.test_cases_services import Env, act, make_env, submit
from tests.factories import Tree

pytestmark = pytest.mark.django_db


@pytest.fixture
def env(tree: Tree) -> Env:
    return make_env(tree)


def _counts(env: Env, role: str) -> dict[str, int]:
    return {item.label: item.count for item in todo_for(env.user(role))}


def test_counts_follow_the_loop(env: Env) -> None:
    first, second, third = submit(env), submit(env), submit(env)
    assert _counts(env, AccountRole.COMMUNITY_WORKER) == {"待受理": 3, "退单待处理": 0, "已超期": 0}
    assert _counts(env, AccountRole.SUBDISTRICT_DISPATCHER)["待仲裁"] == 0
    act(env, first, AccountRole.COMMUNITY_WORKER, Action.whistle)
    act(env, second, AccountRole.COMMUNITY_WORKER, Action.whistle)
    assert _counts(env, AccountRole.DEPARTMENT_OFFICER) == {"待报到": 2, "处置中": 0, "已超期": 0}
    act(env, second, AccountRole.DEPARTMENT_OFFICER, Action.reject, reason="不归本部门")
    case = act(env, first, AccountRole.DEPARTMENT_OFFICER, Action.acknowledge)
    assert _counts(env, AccountRole.DEPARTMENT_OFFICER) == {"待报到": 0, "处置中": 1, "已超期": 0}
    assert _counts(env, AccountRole.COMMUNITY_WORKER) == {"待受理": 1, "退单待处理": 1, "已超期": 0}
    case = act(env, case, AccountRole.DEPARTMENT_OFFICER, Action.start)
    case = act(env, case, AccountRole.DEPARTMENT_OFFICER, Action.resolve, result="已修")
    assert _counts(env, AccountRole.GRID_WORKER) == {"待核实": 1}
    case = act(env, case, AccountRole.GRID_WORKER, Action.begin_verification)
    case = act(env, case, AccountRole.GRID_WORKER, Action.verify_pass)
    assert _counts(env, AccountRole.RESIDENT) == {"办理中的诉求": 2, "待评价": 1}
    act(env, case, AccountRole.RESIDENT, Action.evaluate, rating=Rating.satisfied)
    assert _counts(env, AccountRole.RESIDENT) == {"办理中的诉求": 2, "待评价": 0}
    assert third.state == "submitted"
    # Out of scope: another community's worker has nothing waiting.
    outsider = env.tree.outsiders[AccountRole.COMMUNITY_WORKER]
    assert {i.label: i.count for i in todo_for(outsider)}["待受理"] == 0


def test_home_page_shows_the_panel(client: Any, env: Env, django_assert_max_num_queries: Any) -> None:
    submit(env)
    client.force_login(env.user(AccountRole.COMMUNITY_WORKER))
    with django_assert_max_num_queries(12):
        body = client.get("/").content.decode()
    assert "待办" in body and "待受理" in body
    client.force_login(env.user(AccountRole.PARTY_SECRETARY))
    assert "待办" not in client.get("/").content.decode()
