"""Duty-list pages: administrators only; tree, category, assignments and the import flow."""

from __future__ import annotations

import io
import re

import pytest
from django.test import Client
from django.urls import reverse

from grassroots.accounts.models import Role
from grassroots.audit.services import SYSTEM
from grassroots.cases import services
from grassroots.cases.models import Category, DutyAssignment
from grassroots.core.scope import Scope
from tests.cases.test_duty_list import xlsx_bytes
from tests.factories import Tree

pytestmark = pytest.mark.django_db


def client_for(tree: Tree, role: Role) -> Client:
    client = Client()
    client.force_login(tree.users[role])
    return client


def upload(data: bytes, name: str) -> io.BytesIO:
    file = io.BytesIO(data)
    file.name = name
    return file


@pytest.fixture
def admin(tree: Tree) -> Client:
    services.categories_seed(actor=SYSTEM)
    return client_for(tree, Role.ADMIN)


@pytest.mark.parametrize("role", [r for r in Role if r != Role.ADMIN])
def test_pages_only_for_administrators(tree: Tree, role: Role) -> None:
    services.categories_seed(actor=SYSTEM)
    category = Category.objects.get(code="community.noise")
    assignment = services.assignment_save(
        actor=SYSTEM,
        scope=Scope.everything(),
        category=category,
        area=tree.district,
        departments=[tree.department],
    )
    client = client_for(tree, role)
    for url in [
        reverse("cases:duty"),
        reverse("cases:category_new"),
        reverse("cases:category", args=[category.pk]),
        reverse("cases:category_edit", args=[category.pk]),
        reverse("cases:duty_import"),
    ]:
        assert client.get(url).status_code == 403, url
    assert client.post(reverse("cases:assignment_delete", args=[assignment.pk])).status_code == 403
    assert client.post(reverse("cases:duty_import_confirm"), {"token": "x"}).status_code == 403
    assert DutyAssignment.objects.count() == 1
    nav = client.get(reverse("home")).content.decode()
    assert "事项清单" not in nav and "节假日" not in nav


def test_admin_sees_the_tree_and_the_nav(admin: Client) -> None:
    page = admin.get(reverse("cases:duty")).content.decode()
    for name in ["市容环境", "暴露垃圾", "电动车楼道充电", "重点哨"]:
        assert name in page
    home = admin.get(reverse("home")).content.decode()
    assert reverse("cases:duty") in home and reverse("cases:calendar") in home


def test_missing_category_is_404(admin: Client) -> None:
    assert admin.get(reverse("cases:category", args=[999999])).status_code == 404


def test_create_edit_and_assign(admin: Client, tree: Tree) -> None:
    parent = Category.objects.get(code="facilities")
    response = admin.post(
        reverse("cases:category_new"),
        {
            "code": "facilities.bench",
            "name": "座椅损坏",
            "parent": parent.pk,
            "kind": "component",
            "default_whistle_kind": "routine",
            "acknowledge": "",
            "handle": "5个工作日",
            "sort": "0",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    bench = Category.objects.get(code="facilities.bench")
    assert bench.handle_workdays == 5 and bench.parent == parent

    bad = admin.post(
        reverse("cases:category_edit", args=[bench.pk]),
        {"name": "座椅损坏", "kind": "component", "default_whistle_kind": "routine", "acknowledge": "半天"},
    )
    assert bad.status_code == 400 and "无法识别" in bad.content.decode()

    url = reverse("cases:category", args=[bench.pk])
    response = admin.post(
        url,
        {"area": tree.chengbei.pk, "departments": [tree.department.pk], "whistle_kind": "key", "acknowledge": "1小时"},
    )
    assert response.status_code == 302
    page = admin.get(url).content.decode()
    assert "城北社区" in page and "昆山市城管局" in page and "1小时" in page
    assignment = DutyAssignment.objects.get(category=bench)
    assert admin.post(reverse("cases:assignment_delete", args=[assignment.pk])).status_code == 302
    assert not DutyAssignment.objects.exists()


def test_import_preview_then_confirm(admin: Client, tree: Tree) -> None:
    bad = xlsx_bytes([["市容环境", "暴露垃圾", "", "", "交通局", "昆山市", "", "", ""]])
    page = admin.post(reverse("cases:duty_import"), {"file": upload(bad, "bad.xlsx")}).content.decode()
    assert "责任部门“交通局”不存在" in page and 'name="token"' not in page

    good = xlsx_bytes([["市容环境", "暴露垃圾", "", "", "昆山市城管局", "昆山市", "", "", ""]])
    page = admin.post(reverse("cases:duty_import"), {"file": upload(good, "good.xlsx")}).content.decode()
    assert "全部检查通过" in page and not DutyAssignment.objects.exists()
    token = re.search(r'name="token" value="([^"]+)"', page)
    assert token is not None
    response = admin.post(reverse("cases:duty_import_confirm"), {"token": token[1]})
    assert response.status_code == 302
    assert DutyAssignment.objects.get().area == tree.district

    refused = admin.post(reverse("cases:duty_import_confirm"), {"token": "forged"})
    assert refused.status_code == 400 and "预览已过期或无效" in refused.content.decode()


def test_import_refuses_a_non_spreadsheet(admin: Client) -> None:
    response = admin.post(reverse("cases:duty_import"), {"file": upload(b"\x89PNG....", "a.xlsx")})
    assert response.status_code == 400 and "不是Excel文件" in response.content.decode()
