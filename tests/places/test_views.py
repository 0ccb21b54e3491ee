"""Place browser pages: scope per role, 404 without leaks, masking, audit and query counts."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from grassroots.accounts import services as accounts_services
from grassroots.accounts.models import Role
from grassroots.accounts.views import locked_out
from grassroots.audit.models import AuditEntry
from grassroots.audit.services import SYSTEM
from grassroots.core.ids import make_id_number
from grassroots.places import services as places_services
from grassroots.registry.models import Tag
from tests.factories import Tree, add_resident, square

BROWSING_ROLES = [
    Role.GRID_WORKER,
    Role.COMMUNITY_WORKER,
    Role.SUBDISTRICT_DISPATCHER,
    Role.DEPARTMENT_OFFICER,
    Role.PARTY_SECRETARY,
    Role.DISTRICT_LEADER,
    Role.ADMIN,
]
REGISTRY_ROLES = [Role.GRID_WORKER, Role.COMMUNITY_WORKER, Role.SUBDISTRICT_DISPATCHER, Role.ADMIN]
NO_REGISTRY_ROLES = [Role.DEPARTMENT_OFFICER, Role.PARTY_SECRETARY, Role.DISTRICT_LEADER]
# The outside department sits at the district like the inside one, so its place scope
# covers 城北社区 too (departments differ in cases, not places): no 404 expected there.
OUTSIDERS = [Role.GRID_WORKER, Role.COMMUNITY_WORKER, Role.SUBDISTRICT_DISPATCHER, Role.PARTY_SECRETARY]

# Words that would give away the contents of 网格一 on a page that should show nothing.
GRID1_WORDS = ["网格一", "阳光花园", "1幢", "张伟", "3205**"]


def html(response) -> str:
    return response.content.decode()


def without_csrf(text: str) -> str:
    # The logout form's CSRF token differs on every render; nothing else may.
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", text)


def first_dwelling(tree: Tree):
    return tree.building1.dwellings.order_by("id").first()


def page_urls(tree: Tree) -> dict[str, str]:
    return {
        "browser": reverse("places:browser"),
        "area": reverse("places:area", args=[tree.grid1.pk]),
        "building": reverse("places:building", args=[tree.building1.pk]),
        "dwelling": reverse("places:dwelling", args=[first_dwelling(tree).pk]),
        "map": reverse("places:map"),
    }


def login(client: Client, user) -> Client:
    client.force_login(user)
    return client


# --- Anonymous users and the login page ---------------------------------------------


@pytest.mark.django_db
def test_anonymous_users_are_sent_to_login(client, tree):
    for url in [reverse("home"), *page_urls(tree).values()]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("accounts:login") + "?next="), url


@pytest.mark.django_db
def test_login_page_is_chinese(client):
    response = client.get(reverse("accounts:login"))
    assert response.status_code == 200
    text = html(response)
    assert '<html lang="zh-Hans">' in text
    for word in ["基层治理平台", "登录", "用户名", "密码"]:
        assert word in text


@pytest.mark.django_db
def test_login_failure_shows_the_error_in_chinese(client, tree):
    response = client.post(reverse("accounts:login"), {"username": "in_grid_worker", "password": "wrong-password"})
    assert response.status_code == 200
    assert "用户名或密码错误" in html(response)


@pytest.mark.django_db
def test_login_then_logout(client, tree):
    from tests.factories import PASSWORD

    response = client.post(reverse("accounts:login"), {"username": "in_grid_worker", "password": PASSWORD})
    assert response.status_code == 302
    home = client.get(reverse("home"))
    assert "网格员" in html(home)
    assert 'action="/accounts/logout/"' in html(home)
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 302


@pytest.mark.django_db
def test_locked_out_page_keeps_its_contract(rf):
    from django.contrib.auth.models import AnonymousUser
    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.contrib.sessions.backends.db import SessionStore

    request = rf.post(reverse("accounts:login"), {"username": "someone"})
    request.user = AnonymousUser()
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    response = locked_out(request, None, {"username": "someone"})  # axes 8: (request, response, credentials)
    assert response.status_code == 429
    assert "已被锁定30分钟" in html(response)


# --- Home page by role ------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "scope_text"),
    [
        (Role.RESIDENT, "城北社区"),
        (Role.GRID_WORKER, "网格一"),
        (Role.COMMUNITY_WORKER, "城北社区"),
        (Role.SUBDISTRICT_DISPATCHER, "玉山镇"),
        (Role.DEPARTMENT_OFFICER, "昆山市城管局"),
        (Role.PARTY_SECRETARY, "城北社区"),
        (Role.DISTRICT_LEADER, "昆山市"),
        (Role.ADMIN, "全部区域"),
    ],
)
def test_home_shows_role_scope_and_allowed_links(client, tree, role, scope_text):
    user = tree.users[role]
    text = html(login(client, user).get(reverse("home")))
    assert "您好" in text
    assert user.get_role_display() in text
    assert f"管辖范围：<strong>{scope_text}</strong>" in text
    has_places = role != Role.RESIDENT
    assert (f'href="{reverse("places:browser")}"' in text) is has_places
    assert (f'href="{reverse("places:map")}"' in text) is has_places


# --- Who may open which page ---------------------------------------------------------------


@pytest.mark.django_db
def test_resident_is_refused_every_place_page(client, tree):
    login(client, tree.users[Role.RESIDENT])
    for name, url in page_urls(tree).items():
        response = client.get(url)
        assert response.status_code == 403, name
        text = html(response)
        assert "无权" in text
        for word in GRID1_WORDS:
            assert word not in text, (name, word)


@pytest.mark.django_db
@pytest.mark.parametrize("role", BROWSING_ROLES)
def test_in_scope_users_open_every_page(client, tree, role):
    add_resident(tree)
    login(client, tree.users[role])
    urls = page_urls(tree)
    for name, url in urls.items():
        assert client.get(url).status_code == 200, name
    assert "网格一" in html(client.get(urls["area"]))
    assert "阳光花园 1幢" in html(client.get(urls["building"]))
    assert "101室" in html(client.get(urls["dwelling"]))


@pytest.mark.django_db
@pytest.mark.parametrize("role", OUTSIDERS)
def test_out_of_scope_pages_are_404_and_reveal_nothing(client, tree, role):
    add_resident(tree)
    login(client, tree.outsiders[role])
    missing = without_csrf(html(client.get(reverse("places:area", args=[999_999]))))
    missing_on_map = without_csrf(html(client.get(reverse("places:map"), {"area": 999_999})))
    for name in ["area", "building", "dwelling"]:
        response = client.get(page_urls(tree)[name])
        assert response.status_code == 404, name
        text = html(response)
        assert "未找到该对象，或您无权查看" in text
        for word in GRID1_WORDS:
            assert word not in text, (name, word)
        # Same page as for an id that does not exist: out of scope cannot be told apart.
        assert without_csrf(text) == missing
    response = client.get(reverse("places:map"), {"area": tree.grid1.pk})
    assert response.status_code == 404
    assert without_csrf(html(response)) == missing_on_map


@pytest.mark.django_db
def test_missing_objects_are_404(client, tree):
    login(client, tree.users[Role.ADMIN])
    for name in ["places:area", "places:building", "places:dwelling"]:
        response = client.get(reverse(name, args=[999_999]))
        assert response.status_code == 404
        assert "未找到" in html(response)


# --- Browser and area pages ------------------------------------------------------------------


@pytest.mark.django_db
def test_browser_lists_the_scope_roots(client, tree):
    text = html(login(client, tree.users[Role.COMMUNITY_WORKER]).get(reverse("places:browser")))
    assert reverse("places:area", args=[tree.chengbei.pk]) in text
    assert "城南社区" not in text
    text = html(login(Client(), tree.users[Role.ADMIN]).get(reverse("places:browser")))
    assert reverse("places:area", args=[tree.city.pk]) in text


@pytest.mark.django_db
def test_breadcrumb_links_only_inside_scope(client, tree):
    text = html(login(client, tree.users[Role.GRID_WORKER]).get(reverse("places:area", args=[tree.grid1.pk])))
    assert '<span class="crumb-plain">城北社区</span>' in text
    assert reverse("places:area", args=[tree.chengbei.pk]) not in text
    assert reverse("places:area", args=[tree.yushan.pk]) not in text

    text = html(login(Client(), tree.users[Role.COMMUNITY_WORKER]).get(reverse("places:area", args=[tree.grid1.pk])))
    assert f'<a href="{reverse("places:area", args=[tree.chengbei.pk])}">城北社区</a>' in text
    assert '<span class="crumb-plain">玉山镇</span>' in text


@pytest.mark.django_db
def test_community_page_shows_stats_and_children_with_households(client, tree):
    text = html(login(client, tree.users[Role.COMMUNITY_WORKER]).get(reverse("places:area", args=[tree.chengbei.pk])))
    assert "<dt>户数</dt><dd>24</dd>" in text
    assert "<dt>网格</dt><dd>2</dd>" in text
    for grid in (tree.grid1, tree.grid2):
        assert reverse("places:area", args=[grid.pk]) in text
    assert re.search(r"网格一</a>\s*<span[^>]*>综合网格</span>\s*<span class=\"count\">24 户</span>", text)
    assert re.search(r"网格二</a>\s*<span[^>]*>综合网格</span>\s*<span class=\"count\">0 户</span>", text)
    assert reverse("api:grid_geojson", kwargs={"area_id": tree.chengbei.pk}) in text


@pytest.mark.django_db
def test_children_expand_in_place_through_htmx(client, tree):
    login(client, tree.users[Role.SUBDISTRICT_DISPATCHER])
    url = reverse("places:area", args=[tree.chengbei.pk])
    page = html(client.get(reverse("places:area", args=[tree.yushan.pk])))
    assert f'hx-get="{url}?fragment=children"' in page  # the community row expands in place
    assert f'<a href="{url}">城北社区</a>' in page  # and is still a plain link
    fragment = client.get(url, {"fragment": "children"}, headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    text = html(fragment)
    assert "<html" not in text
    assert "网格一" in text and "网格二" in text
    # Out of scope stays 404 for fragments too.
    outsider = login(Client(), tree.outsiders[Role.SUBDISTRICT_DISPATCHER])
    assert outsider.get(url, {"fragment": "children"}, headers={"HX-Request": "true"}).status_code == 404


@pytest.mark.django_db
def test_grid_page_shows_buildings_and_four_roles(client, tree):
    accounts_services.grid_role_assign(
        actor=SYSTEM, grid=tree.grid1, kind="police", name="李警官", phone="051250000000", since=date(2025, 1, 1)
    )
    text = html(login(client, tree.users[Role.GRID_WORKER]).get(reverse("places:area", args=[tree.grid1.pk])))
    assert reverse("places:building", args=[tree.building1.pk]) in text
    assert "阳光花园 1幢" in text
    assert "李警官" in text
    assert text.count("未配备") == 3  # the other three of the four roles


# --- Building and dwelling pages ---------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("role", REGISTRY_ROLES)
def test_building_page_counts_residents_for_registry_roles(client, tree, role):
    add_resident(tree, seq=1)
    add_resident(tree, seq=2, name="王芳")
    text = html(login(client, tree.users[role]).get(reverse("places:building", args=[tree.building1.pk])))
    assert 'title="登记居住 2 人">2人</span>' in text
    assert "<dt>登记居住</dt><dd>2 人</dd>" in text
    assert text.count('href="/places/dwelling/') == 24
    assert "1单元" in text and "2单元" in text


@pytest.mark.django_db
@pytest.mark.parametrize("role", NO_REGISTRY_ROLES)
def test_building_page_hides_resident_counts_without_registry_view(client, tree, role):
    add_resident(tree)
    text = html(login(client, tree.users[role]).get(reverse("places:building", args=[tree.building1.pk])))
    assert text.count('href="/places/dwelling/') == 24
    assert "登记居住" not in text
    assert "人</span>" not in text


@pytest.mark.django_db
def test_dwelling_page_shows_masked_values_only_and_audits_the_read(client, tree):
    person = add_resident(tree)
    full_id = make_id_number("320583", date(1950, 3, 9), 1, "M")
    full_phone = "13812340001"
    visible = Tag.objects.get(code="living_alone", is_sensitive=False)  # 独居 (seeded by a migration)
    hidden = Tag.objects.get(code="disabled", is_sensitive=True)  # 残疾人
    person.tags.add(visible, hidden)
    user = tree.users[Role.GRID_WORKER]
    before = AuditEntry.objects.filter(action="registry.person.view").count()

    text = html(login(client, user).get(reverse("places:dwelling", args=[first_dwelling(tree).pk])))

    assert "张伟" in text
    assert person.id_number_masked in text and person.id_number_masked.startswith("3205**********")
    assert "138****0001" in text
    assert full_id not in text and full_id[:-1] not in text and full_id[6:14] not in text
    assert full_phone not in text
    assert '<span class="tag">独居</span>' in text
    assert "残疾人" not in text
    assert "男" in text and "岁" in text
    entries = AuditEntry.objects.filter(action="registry.person.view")
    assert entries.count() == before + 1
    entry = entries.order_by("-seq").first()
    assert entry is not None
    assert entry.actor_id == user.pk
    assert entry.object_id == str(person.pk)


@pytest.mark.django_db
@pytest.mark.parametrize("role", NO_REGISTRY_ROLES)
def test_dwelling_page_without_registry_view_has_no_residents_and_no_audit(client, tree, role):
    add_resident(tree)
    before = AuditEntry.objects.filter(action="registry.person.view").count()
    response = login(client, tree.users[role]).get(reverse("places:dwelling", args=[first_dwelling(tree).pk]))
    assert response.status_code == 200
    text = html(response)
    assert "101室" in text
    assert "张伟" not in text and "3205**" not in text and "138****" not in text
    assert "无权查看住户信息" in text
    assert AuditEntry.objects.filter(action="registry.person.view").count() == before


# --- Map page ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_map_defaults_to_scope_root_and_accepts_an_area(client, tree):
    login(client, tree.users[Role.COMMUNITY_WORKER])
    text = html(client.get(reverse("places:map")))
    assert reverse("api:grid_geojson", kwargs={"area_id": tree.chengbei.pk}) in text
    assert "js/grid_map.js" in text
    assert "tileLayer" not in text and "{z}" not in text  # no online base map is configured
    text = html(client.get(reverse("places:map"), {"area": tree.grid2.pk}))
    assert reverse("api:grid_geojson", kwargs={"area_id": tree.grid2.pk}) in text
    assert client.get(reverse("places:map"), {"area": tree.yushan.pk}).status_code == 404


@pytest.mark.django_db
def test_map_geojson_works_with_the_session(client, tree):
    login(client, tree.users[Role.COMMUNITY_WORKER])
    data = client.get(reverse("api:grid_geojson", kwargs={"area_id": tree.chengbei.pk})).json()
    names = {f["properties"]["name"]: f["properties"]["households"] for f in data["features"]}
    assert names == {"网格一": 24, "网格二": 0}


@pytest.mark.django_db
def test_grid_map_script_draws_no_tiles():
    from pathlib import Path

    from django.conf import settings

    script = (Path(settings.BASE_DIR) / "grassroots/static/js/grid_map.js").read_text()
    assert "L.geoJSON" in script
    assert "tileLayer" not in script and "http" not in script


# --- Query counts (no N+1) -------------------------------------------------------------------------


def _add_grids_and_buildings(tree: Tree, *, grids: int, buildings: int) -> None:
    for i in range(grids):
        grid = places_services.area_create(
            actor=SYSTEM,
            parent=tree.chengbei,
            level="grid",
            code=f"{10 + i}",
            name=f"加密网格{i}",
            grid_kind="comprehensive",
            geometry=square(i, 2),
        )
        for j in range(buildings):
            places_services.building_create(
                actor=SYSTEM,
                grid=grid,
                name=f"{j + 1}幢",
                typology="multi_storey",
                floors=3,
                entrances=1,
                dwellings_per_floor=2,
                lon=120.95 + i * 0.01 + 0.005,
                lat=31.40 + 0.005,
            )
    for j in range(buildings):
        places_services.building_create(
            actor=SYSTEM,
            grid=tree.grid1,
            name=f"{j + 10}幢",
            typology="multi_storey",
            floors=3,
            entrances=2,
            dwellings_per_floor=2,
            lon=120.955,
            lat=31.385,
        )


def _count(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.django_db
def test_area_and_building_pages_do_not_grow_queries_with_rows(client, tree, django_assert_max_num_queries):
    login(client, tree.users[Role.COMMUNITY_WORKER])
    community = reverse("places:area", args=[tree.chengbei.pk])
    grid = reverse("places:area", args=[tree.grid1.pk])
    building = reverse("places:building", args=[tree.building1.pk])
    small = {url: _count(client, url) for url in (community, grid, building)}

    _add_grids_and_buildings(tree, grids=6, buildings=5)
    for seq in range(1, 6):
        add_resident(tree, seq=seq, name=f"居民{seq}")
    large = {url: _count(client, url) for url in (community, grid, building)}
    assert large == small  # same number of queries with 8 grids / 6 buildings as with 2 / 1

    # Session read and save (3), user, the user's area, the unread-message count, then the page's
    # own reads: a fixed budget.
    with django_assert_max_num_queries(15):
        client.get(community)
    with django_assert_max_num_queries(17):  # + buildings and the four roles
        client.get(grid)
    with django_assert_max_num_queries(11):
        client.get(building)
