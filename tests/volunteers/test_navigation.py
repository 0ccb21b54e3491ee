"""Each role finds its volunteer and mobilisation pages in the navigation, and every link opens."""

from __future__ import annotations

from typing import Any

import pytest

from grassroots.accounts.models import Role
from tests.factories import Tree

pytestmark = pytest.mark.django_db

FORCES = {"楼栋力量", "志愿者与能人", "志愿队伍", "志愿活动", "需求与资源"}
LINKS = FORCES | {"一键动员"}
EXPECTED = {
    Role.RESIDENT: set(),
    Role.GRID_WORKER: FORCES,
    Role.COMMUNITY_WORKER: LINKS,
    Role.SUBDISTRICT_DISPATCHER: LINKS,
    Role.DEPARTMENT_OFFICER: set(),
    Role.PARTY_SECRETARY: FORCES,
    Role.DISTRICT_LEADER: LINKS,
    Role.ADMIN: LINKS,
}


@pytest.mark.parametrize("role", list(Role))
def test_links_by_role_and_every_link_opens(client: Any, tree: Tree, role: str) -> None:
    client.force_login(tree.users[role])
    nav = client.get("/").context["nav"]
    shown = {item["label"] for item in nav} & LINKS
    assert shown == EXPECTED[role]
    for item in nav:
        if item["label"] in shown:
            assert client.get(item["url"]).status_code == 200, item["label"]
