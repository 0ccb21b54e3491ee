"""Registry pages: capability per role, masking, navigation, tags, query counts."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from grassroots.accounts.models import Role
from grassroots.audit.models import AuditEntry
from grassroots.audit.services import SYSTEM
from grassroots.core.errors import DomainError
from grassroots.core.ids import make_id_number
from grassroots.registry.models import Tag
from grassroots.registry.services import tag_create
from tests.registry.conftest import ID_ZHANG, PHONE_ZHANG, create, login

pytestmark = pytest.mark.django_db
VIEW_ROLES = [Role.GRID_WORKER, Role.COMMUNITY_WORKER, Role.SUBDISTRICT_DISPATCHER, Role.ADMIN]
NO_VIEW_ROLES = [Role.DEPARTMENT_OFFICER, Role.PARTY_SECRETARY, Role.DISTRICT_LEADER]


@pytest.mark.parametrize("role", VIEW_ROLES)
@pytest.mark.parametrize("query", [ID_ZHANG, PHONE_ZHANG, "zs", "张三", "阳光花园1幢"])
def test_search_page_shows_masked_results(tree, people, role, query):
    page = login(tree.users[role]).get(reverse("registry:search"), {"q": query}).content.decode()
    assert reverse("registry:person", args=[people.zhang.pk]) in page
    assert people.zhang.id_number_masked in page and "138****0011" in page
    assert ID_ZHANG not in page.replace(f'value="{ID_ZHANG}"', "")  # only echoed in the box the user typed in
    assert PHONE_ZHANG not in page.replace(f'value="{PHONE_ZHANG}"', "")


@pytest.mark.parametrize("role", [Role.GRID_WORKER, Role.COMMUNITY_WORKER, Role.SUBDISTRICT_DISPATCHER])
def test_search_page_outside_scope(tree, people, role):
    page = login(tree.outsiders[role]).get(reverse("registry:search"), {"q": "张三"}).content.decode()
    assert "管辖范围内没有找到" in page and people.zhang.id_number_masked not in page


@pytest.mark.parametrize("role", NO_VIEW_ROLES)
def test_registry_pages_refuse_roles_without_view(tree, people, role):
    client = login(tree.users[role])
    for url in [reverse("registry:search"), reverse("registry:batch"), reverse("registry:separation")]:
        assert client.get(url, {"q": "张三"}).status_code == 403
    assert "人口查询" not in client.get(reverse("home")).content.decode()


def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse("registry:search"))
    assert response.status_code == 302 and "/accounts/login" in response["Location"]


def test_invalid_query_message(tree, people):
    bad = ID_ZHANG[:17] + ("0" if ID_ZHANG[17] != "0" else "1")
    page = login(tree.users[Role.GRID_WORKER]).get(reverse("registry:search"), {"q": bad}).content.decode()
    assert "校验位错误" in page


def test_navigation_and_home_tiles(tree):
    home = login(tree.users[Role.GRID_WORKER]).get(reverse("home")).content.decode()
    assert "人口查询" in home and "人户分离" in home and "标签管理" not in home
    admin = login(tree.users[Role.ADMIN])
    assert "标签管理" in admin.get(reverse("home")).content.decode()
    # Many pages: the search lights its section (人口) and, on the section's bar, itself.
    search = admin.get(reverse("registry:search")).content.decode()
    assert 'aria-current="true">人口' in search and 'aria-current="page">人口查询' in search


def test_dwelling_panel_links_names_and_offers_a_visit(tree, people):
    url = reverse("places:dwelling", args=[people.zhang.dwelling_id])
    page = login(tree.users[Role.GRID_WORKER]).get(url).content.decode()
    assert reverse("registry:person", args=[people.zhang.pk]) in page
    assert reverse("registry:visit", args=[people.zhang.dwelling_id]) in page
    dispatcher = login(tree.users[Role.SUBDISTRICT_DISPATCHER]).get(url).content.decode()
    assert reverse("registry:visit", args=[people.zhang.dwelling_id]) not in dispatcher


def test_search_page_query_count_is_fixed(tree, people):
    client = login(tree.users[Role.COMMUNITY_WORKER])
    dwelling = people.zhang.dwelling
    client.get(reverse("registry:search"), {"q": "阳光花园"})
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("registry:search"), {"q": "阳光花园"})
    for i in range(12):
        create(dwelling, f"钱{i}", make_id_number("320583", date(1970, 1, 1), 200 + i, "F"))
    with CaptureQueriesContext(connection) as many:
        page = client.get(reverse("registry:search"), {"q": "阳光花园"})
    assert "钱11" in page.content.decode()
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]


def test_grid_residents_page(tree, people, django_assert_max_num_queries):
    client = login(tree.users[Role.GRID_WORKER])
    with django_assert_max_num_queries(20):
        page = client.get(reverse("registry:grid", args=[tree.grid1.pk])).content.decode()
    assert "张三" in page and "王芳" in page and "李四" not in page and ID_ZHANG not in page
    assert "导出 Excel" not in page  # grid workers have no registry.export
    assert client.get(reverse("registry:grid", args=[tree.grid3.pk])).status_code == 404
    assert client.get(reverse("registry:grid", args=[tree.chengbei.pk])).status_code == 404  # not a grid
    community = login(tree.users[Role.COMMUNITY_WORKER]).get(reverse("registry:grid", args=[tree.grid1.pk]))
    assert "导出 Excel" in community.content.decode()
    assert AuditEntry.objects.filter(action="registry.person.view", area_path=tree.grid1.path).exists()


def test_tag_create_service():
    tag = tag_create(actor=SYSTEM, code="Pregnant_1 ", name="孕产妇", sensitive=True)
    assert (tag.code, tag.is_sensitive, tag.is_derived) == ("pregnant_1", True, False)
    with pytest.raises(DomainError, match="已存在"):
        tag_create(actor=SYSTEM, code="elderly_60", name="老人", sensitive=False)
    with pytest.raises(DomainError, match="编码只能"):
        tag_create(actor=SYSTEM, code="老人", name="老人", sensitive=False)
    with pytest.raises(DomainError, match="名称“独居”已存在"):
        tag_create(actor=SYSTEM, code="alone2", name="独居", sensitive=False)


def test_tags_page_for_administrators_only(tree):
    assert login(tree.users[Role.COMMUNITY_WORKER]).get(reverse("registry:tags")).status_code == 403
    admin = login(tree.users[Role.ADMIN])
    assert "60岁以上老人" in admin.get(reverse("registry:tags")).content.decode()
    response = admin.post(reverse("registry:tags"), {"code": "pregnant", "name": "孕产妇", "sensitive": "on"})
    assert response.status_code == 302 and Tag.objects.get(code="pregnant").is_sensitive
    again = admin.post(reverse("registry:tags"), {"code": "pregnant", "name": "孕妇"})
    assert again.status_code == 400 and "已存在" in again.content.decode()
    assert AuditEntry.objects.filter(action="registry.tag.create").count() == 1
