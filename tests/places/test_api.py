"""/api/v1/places: auth, scope for every role, locate, OpenAPI, Chinese error bodies."""

from __future__ import annotations

import pytest

from grassroots.accounts import services as accounts
from grassroots.accounts.models import Role
from grassroots.audit.services import SYSTEM
from grassroots.places import services as places
from tests.factories import centre, square

pytestmark = pytest.mark.django_db

API = "/api/v1/places"

SEES_GRID1 = {
    Role.RESIDENT: False,
    Role.GRID_WORKER: True,
    Role.COMMUNITY_WORKER: True,
    Role.SUBDISTRICT_DISPATCHER: True,
    Role.DEPARTMENT_OFFICER: True,
    Role.PARTY_SECRETARY: True,
    Role.DISTRICT_LEADER: True,
    Role.ADMIN: True,
}
OUTSIDER_SEES_GRID1 = {
    Role.RESIDENT: False,
    Role.GRID_WORKER: False,
    Role.COMMUNITY_WORKER: False,
    Role.SUBDISTRICT_DISPATCHER: False,
    Role.DEPARTMENT_OFFICER: True,  # every department here sits at the district
    Role.PARTY_SECRETARY: False,
}
PERSONAS = [("users", role, sees) for role, sees in SEES_GRID1.items()] + [
    ("outsiders", role, sees) for role, sees in OUTSIDER_SEES_GRID1.items()
]


def _urls(tree) -> list[str]:
    lon, lat = centre(0, 0)
    return [
        f"{API}/areas/{tree.grid1.pk}",
        f"{API}/areas/{tree.grid1.pk}/grids.geojson",
        f"{API}/areas/{tree.grid1.pk}/buildings",
        f"{API}/buildings/{tree.building1.pk}",
        f"{API}/locate?lon={lon}&lat={lat}",
    ]


def test_every_endpoint_needs_authentication(client, tree):
    for url in [f"{API}/areas", *_urls(tree)]:
        response = client.get(url)
        assert response.status_code == 401, url
        assert response.json() == {"detail": "请先登录，或提供有效的 API 令牌。", "code": "unauthenticated"}
        assert response["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(("group", "role", "sees"), PERSONAS, ids=[f"{g}-{r}" for g, r, _ in PERSONAS])
def test_every_endpoint_is_scoped_for_every_persona(client, tree, group, role, sees):
    client.force_login(getattr(tree, group)[role])
    for url in _urls(tree):
        response = client.get(url)
        if sees:
            assert response.status_code == 200, url
        else:
            assert response.status_code == 404, url
            detail = (
                "该位置不在任何网格内，或不在您的管辖范围内。" if "locate" in url else "未找到该对象，或您无权查看。"
            )
            assert response.json() == {"detail": detail, "code": "not_found"}


def test_missing_and_hidden_objects_answer_the_same(client, tree):
    client.force_login(tree.users[Role.GRID_WORKER])
    hidden = client.get(f"{API}/areas/{tree.grid3.pk}")
    missing = client.get(f"{API}/areas/999999")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()


@pytest.mark.parametrize(
    ("role", "names"),
    [
        (Role.RESIDENT, []),
        (Role.GRID_WORKER, ["网格一"]),
        (Role.DEPARTMENT_OFFICER, ["昆山市"]),
        (Role.ADMIN, ["苏州市"]),
    ],
)
def test_roots_listing(client, tree, role, names):
    client.force_login(tree.users[role])
    response = client.get(f"{API}/areas")
    assert response.status_code == 200
    assert [a["name"] for a in response.json()] == names


def test_area_detail_body(client, tree):
    client.force_login(tree.users[Role.COMMUNITY_WORKER])
    body = client.get(f"{API}/areas/{tree.chengbei.pk}").json()
    assert body["name"] == "城北社区"
    assert body["path"] == tree.chengbei.path
    assert body["level"] == "community"
    assert body["stats"] == {"buildings": 1, "households": 24, "grids": 2, "compounds": 1}
    assert [c["name"] for c in body["children"]] == ["网格一", "网格二"]
    assert body["children"][0]["grid_kind"] == "comprehensive"


def test_buildings_and_building_detail_bodies(client, tree):
    client.force_login(tree.users[Role.GRID_WORKER])
    buildings = client.get(f"{API}/areas/{tree.grid1.pk}/buildings").json()
    assert [(b["name"], b["compound_name"], b["households"]) for b in buildings] == [("1幢", "阳光花园", 24)]
    detail = client.get(f"{API}/buildings/{tree.building1.pk}").json()
    assert len(detail["dwellings"]) == 24
    assert detail["dwellings"][0] == {
        "id": detail["dwellings"][0]["id"],
        "entrance": 1,
        "floor": 6,
        "room": "601",
    }


def test_building_detail_is_not_n_plus_one(client, tree, django_assert_max_num_queries):
    client.force_login(tree.users[Role.ADMIN])
    url = f"{API}/buildings/{tree.building1.pk}"
    client.get(url)
    with django_assert_max_num_queries(8):  # session, user, building, dwellings, session save …
        assert client.get(url).status_code == 200


def test_grid_geojson(client, tree):
    client.force_login(tree.users[Role.SUBDISTRICT_DISPATCHER])
    body = client.get(f"{API}/areas/{tree.yushan.pk}/grids.geojson").json()
    assert body["type"] == "FeatureCollection"
    assert sorted(f["properties"]["name"] for f in body["features"]) == ["网格一", "网格三", "网格二"]


def test_locate(client, tree):
    client.force_login(tree.users[Role.SUBDISTRICT_DISPATCHER])
    lon, lat = centre(2, 0)
    body = client.get(f"{API}/locate", {"lon": lon, "lat": lat}).json()
    assert (body["id"], body["name"]) == (tree.grid3.pk, "网格三")
    # In no grid.
    response = client.get(f"{API}/locate", {"lon": 121.5, "lat": 31.0})
    assert response.status_code == 404
    assert response.json()["detail"] == "该位置不在任何网格内，或不在您的管辖范围内。"
    # Out of the dispatcher's scope (网格四 is in 周市镇).
    lon, lat = centre(3, 0)
    assert client.get(f"{API}/locate", {"lon": lon, "lat": lat}).status_code == 404
    # Outside China: a 422 naming the problem in Chinese.
    response = client.get(f"{API}/locate", {"lon": 31.0, "lat": 121.0})
    assert response.status_code == 422
    assert "不在中国境内" in response.json()["detail"]
    assert response.json()["code"] == "invalid_geometry"


def test_locate_by_kind(client, tree):
    micro = places.area_create(
        actor=SYSTEM,
        parent=tree.grid1,
        level="grid",
        code="m1",
        name="精微",
        grid_kind="micro",
        geometry=square(0, 0, 0.005),
    )
    client.force_login(tree.users[Role.GRID_WORKER])
    lon, lat = centre(0, 0, 0.005)
    assert client.get(f"{API}/locate", {"lon": lon, "lat": lat, "kind": "micro"}).json()["id"] == micro.pk
    assert client.get(f"{API}/locate", {"lon": lon, "lat": lat}).json()["id"] == tree.grid1.pk
    response = client.get(f"{API}/locate", {"lon": lon, "lat": lat, "kind": "galaxy"})
    assert response.status_code == 422
    assert response.json()["detail"] == "请求参数有误：kind。"
    response = client.get(f"{API}/locate", {"lon": "east"})
    assert response.status_code == 422
    assert response.json()["detail"] == "请求参数有误：lon、lat。"
    assert response.json()["code"] == "invalid_request"
    assert len(response.json()["errors"]) == 2


def test_bearer_token_auth(client, tree):
    user = tree.users[Role.GRID_WORKER]
    _, raw = accounts.api_token_create(actor=SYSTEM, user=user, name="巡查App")
    headers = {"Authorization": f"Bearer {raw}"}
    response = client.get(f"{API}/areas", headers=headers)
    assert response.status_code == 200
    assert [a["name"] for a in response.json()] == ["网格一"]
    assert client.get(f"{API}/areas/{tree.grid1.pk}", headers=headers).status_code == 200
    assert client.get(f"{API}/areas/{tree.grid3.pk}", headers=headers).status_code == 404
    # No session was made: the token is not a login.
    assert "_auth_user_id" not in client.session


def test_bad_expired_revoked_and_deactivated_tokens_are_401(client, tree):
    user = tree.users[Role.GRID_WORKER]
    token, raw = accounts.api_token_create(actor=SYSTEM, user=user, name="t")
    url = f"{API}/areas"
    assert client.get(url, headers={"Authorization": "Bearer gr_nonsense"}).status_code == 401
    assert client.get(url, headers={"Authorization": f"Token {raw}"}).status_code == 401
    accounts.api_token_revoke(actor=SYSTEM, token=token)
    assert client.get(url, headers={"Authorization": f"Bearer {raw}"}).status_code == 401
    _, raw2 = accounts.api_token_create(actor=SYSTEM, user=user, name="t2")
    accounts.user_deactivate(actor=SYSTEM, user=user, reason="离职")
    assert client.get(url, headers={"Authorization": f"Bearer {raw2}"}).status_code == 401


def test_token_of_a_resident_sees_nothing(client, tree):
    _, raw = accounts.api_token_create(actor=SYSTEM, user=tree.users[Role.RESIDENT], name="t")
    headers = {"Authorization": f"Bearer {raw}"}
    assert client.get(f"{API}/areas", headers=headers).json() == []
    assert client.get(f"{API}/areas/{tree.chengbei.pk}", headers=headers).status_code == 404


def test_inactive_session_user_is_refused(client, tree):
    user = tree.users[Role.ADMIN]
    client.force_login(user)
    user.is_active = False
    user.save()
    assert client.get(f"{API}/areas/{tree.city.pk}").status_code == 401


def test_openapi_lists_the_endpoints(client, db):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.json()
    assert spec["info"]["title"] == "Grassroots API"
    paths = set(spec["paths"])
    assert {
        "/api/v1/places/areas",
        "/api/v1/places/areas/{area_id}",
        "/api/v1/places/areas/{area_id}/grids.geojson",
        "/api/v1/places/areas/{area_id}/buildings",
        "/api/v1/places/buildings/{building_id}",
        "/api/v1/places/locate",
    } <= paths
    schemes = spec["components"]["securitySchemes"]
    assert any(s.get("scheme") == "bearer" for s in schemes.values())


def test_write_methods_are_not_allowed(client, tree):
    client.force_login(tree.users[Role.ADMIN])
    assert client.post(f"{API}/areas", {}, content_type="application/json").status_code == 405
