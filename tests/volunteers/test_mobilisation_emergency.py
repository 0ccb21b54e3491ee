"""平战转换: an emergency mobilisation puts its area in emergency mode, which tightens case deadlines.

``cases`` already reads ``Area.mode`` in ``_dispatch_prepare`` (an area in emergency mode dispatches
on the emergency whistle's clock wherever that is shorter), so these tests pass today; ending the
mobilisation restores normal mode unless another emergency mobilisation still covers the area.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from grassroots.accounts.models import Role as AccountRole
from grassroots.cases.workflow import Action
from grassroots.places.models import Area, AreaMode
from grassroots.volunteers.models import MobilisationMode
from grassroots.volunteers.services import mobilisation as svc
from tests.cases.test_cases_services import NOW, Env, act, make_env, submit
from tests.volunteers.test_mobilisation import start

pytestmark = pytest.mark.django_db


def modes(tree) -> dict[str, str]:
    return {a.name: a.mode for a in Area.objects.filter(pk__in=[tree.chengbei.pk, tree.grid1.pk, tree.grid2.pk])}


def test_emergency_mobilisation_tightens_case_deadlines_until_it_ends(tree):
    env: Env = make_env(tree)
    leader = tree.users[AccountRole.COMMUNITY_WORKER]
    mob = start(tree, area=tree.chengbei, mode=MobilisationMode.EMERGENCY, audiences=["volunteers"])
    assert set(modes(tree).values()) == {AreaMode.EMERGENCY}
    case = act(env, submit(env), AccountRole.COMMUNITY_WORKER, Action.whistle)
    assert case.whistle_kind == "emergency"
    assert case.acknowledge_by == NOW + timedelta(minutes=30) and case.handle_by == NOW + timedelta(hours=2)
    svc.mobilisation_end(actor=leader, mobilisation=mob)
    assert set(modes(tree).values()) == {AreaMode.NORMAL}
    case = act(env, submit(env, offset_m=500), AccountRole.COMMUNITY_WORKER, Action.whistle)
    assert case.whistle_kind == "routine" and case.acknowledge_by == NOW + timedelta(hours=24)


def test_drill_and_normal_leave_the_mode_alone(tree):
    start(tree, mode=MobilisationMode.DRILL)
    start(tree, mode=MobilisationMode.NORMAL)
    assert set(modes(tree).values()) == {AreaMode.NORMAL}


def test_ending_keeps_emergency_while_another_covers_the_area(tree):
    leader = tree.users[AccountRole.COMMUNITY_WORKER]
    whole = start(tree, area=tree.chengbei, mode=MobilisationMode.EMERGENCY, title="全社区")
    grid = start(tree, area=tree.grid1, mode=MobilisationMode.EMERGENCY, title="网格一")
    svc.mobilisation_end(actor=leader, mobilisation=grid)  # the community's emergency still covers grid 1
    assert set(modes(tree).values()) == {AreaMode.EMERGENCY}
    grid2 = start(tree, area=tree.grid2, mode=MobilisationMode.EMERGENCY, title="网格二")
    svc.mobilisation_end(actor=leader, mobilisation=whole)  # grid 2's own emergency goes on
    assert modes(tree) == {"城北社区": AreaMode.NORMAL, "网格一": AreaMode.NORMAL, "网格二": AreaMode.EMERGENCY}
    svc.mobilisation_end(actor=leader, mobilisation=grid2)
    svc.mobilisation_end(actor=leader, mobilisation=grid2)  # a second end changes nothing
    assert set(modes(tree).values()) == {AreaMode.NORMAL}
