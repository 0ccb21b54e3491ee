"""Each role finds its case pages in the navigation, and nothing it would be refused."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from grassroots.accounts.models import Role
from tests.factories import Tree

pytestmark = pytest.mark.django_db

CASE_LINKS = {"随手拍", "我的反映", "受理队列", "部门待办", "巡查上报", "待核实", "全部案件", "12345工单", "案件指标"}
EXPECTED = {
    Role.RESIDENT: {"随手拍", "我的反映"},
    Role.GRID_WORKER: {"巡查上报", "待核实", "全部案件", "案件指标"},
    Role.COMMUNITY_WORKER: {"受理队列", "巡查上报", "待核实", "全部案件", "12345工单", "案件指标"},
    Role.SUBDISTRICT_DISPATCHER: {"受理队列", "全部案件", "12345工单", "案件指标"},
    Role.DEPARTMENT_OFFICER: {"部门待办", "全部案件", "案件指标"},
    Role.PARTY_SECRETARY: set(),
    Role.DISTRICT_LEADER: {"全部案件", "案件指标"},
    Role.ADMIN: CASE_LINKS,
}


@pytest.mark.parametrize("role", list(Role))
def test_case_links_by_role_and_every_link_opens(client: Any, tree: Tree, role: str) -> None:
    client.force_login(tree.users[role])
    nav = client.get("/").context["nav"]
    shown = {item["label"] for item in nav} & CASE_LINKS
    assert shown == EXPECTED[role]
    for item in nav:
        if item["label"] in shown:
            assert client.get(item["url"]).status_code == 200, item["label"]


def test_building_page_links_its_qr_sheets(client: Any, tree: Tree) -> None:
    client.force_login(tree.users[Role.COMMUNITY_WORKER])
    body = client.get(reverse("places:building", args=[tree.building1.pk])).content.decode()
    sheet = reverse("cases:qr_sheet", kwargs={"kind": "buildings", "pk": tree.building1.pk})
    assert sheet in body
    response = client.get(sheet)
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
