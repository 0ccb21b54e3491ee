"""Each role finds its party pages in the navigation, and every link it is shown opens."""

from __future__ import annotations

from typing import Any

import pytest

from grassroots.accounts.models import Role
from tests.factories import Tree

pytestmark = pytest.mark.django_db

PARTY_LINKS = {"党员报到", "党组织", "党员", "报到确认", "服务记录", "年度目标", "党建联盟", "业委会"}
STAFF = PARTY_LINKS - {"党员报到"}
EXPECTED = {
    Role.RESIDENT: {"党员报到"},
    Role.GRID_WORKER: set(),
    Role.COMMUNITY_WORKER: STAFF,
    Role.SUBDISTRICT_DISPATCHER: STAFF,
    Role.DEPARTMENT_OFFICER: set(),
    Role.PARTY_SECRETARY: STAFF,
    Role.DISTRICT_LEADER: STAFF,
    Role.ADMIN: STAFF,  # 党员报到 is for accounts with a home community
}


@pytest.mark.parametrize("role", list(Role))
def test_party_links_by_role_and_every_link_opens(client: Any, tree: Tree, role: str) -> None:
    client.force_login(tree.users[role])
    nav = client.get("/").context["nav"]
    shown = {item["label"] for item in nav} & PARTY_LINKS
    assert shown == EXPECTED[role]
    for item in nav:
        if item["label"] in shown:
            response = client.get(item["url"], follow=True)
            assert response.status_code == 200, item["label"]
