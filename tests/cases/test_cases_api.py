"""/api/v1/cases/: submit, list, detail with timeline and actions, act; status codes per case."""

from __future__ import annotations

import io
from typing import Any

import pytest

from grassroots.accounts.models import Role
from grassroots.cases.coords import wgs84_to_gcj02
from grassroots.cases.models import Case
from tests.cases.test_cases_services import Env, make_env
from tests.factories import Tree, centre

pytestmark = pytest.mark.django_db


@pytest.fixture
def env(tree: Tree) -> Env:
    return make_env(tree)


API = "/api/v1/cases"


def post(client: Any, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, body, content_type="application/json")


def report(client: Any, env: Env, **extra: Any) -> Any:
    client.force_login(env.user(Role.RESIDENT))
    lon, lat = centre(0, 0)
    body = {"category_id": env.category.pk, "description": "路灯不亮", "lon": lon, "lat": lat, **extra}
    return post(client, f"{API}/", body)


def test_anonymous_is_refused(client: Any, env: Env) -> None:
    assert client.get(f"{API}/").status_code == 401


def test_submit_from_a_phone_in_gcj02(client: Any, env: Env) -> None:
    lon, lat = wgs84_to_gcj02(*centre(0, 0))
    response = report(client, env, lon=lon, lat=lat, coord_system="gcj02")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["case"]["grid_id"] == env.tree.grid1.pk and body["duplicates"] == []
    assert body["case"]["lon"] == pytest.approx(centre(0, 0)[0], abs=1e-6)
    again = report(client, env).json()
    assert [d["id"] for d in again["duplicates"]] == [body["case"]["id"]]


def test_submit_outside_every_grid_is_422(client: Any, env: Env) -> None:
    response = report(client, env, lon=121.9, lat=31.9)
    assert response.status_code == 422 and "网格" in response.json()["detail"]


def test_the_loop_through_the_api_with_conflict(client: Any, env: Env) -> None:
    case_id = report(client, env).json()["case"]["id"]
    client.force_login(env.user(Role.COMMUNITY_WORKER))
    detail = client.get(f"{API}/{case_id}").json()
    assert {"whistle", "accept"} <= {a["action"] for a in detail["allowed_actions"]}
    assert [e["action"] for e in detail["timeline"]] == ["submit"]
    response = post(client, f"{API}/{case_id}/actions", {"action": "whistle", "expected_version": 1})
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "dispatched" and response.json()["version"] == 2
    # A second person acting on the version they read loses with 409 and a Chinese message.
    client.force_login(env.user(Role.SUBDISTRICT_DISPATCHER))
    stale = post(client, f"{API}/{case_id}/actions", {"action": "cancel", "expected_version": 1, "reason": "重复"})
    assert stale.status_code == 409 and stale.json()["code"] == "conflict" and "刷新" in stale.json()["detail"]
    client.force_login(env.user(Role.DEPARTMENT_OFFICER))
    inbox = client.get(f"{API}/", {"inbox": True}).json()
    assert [c["id"] for c in inbox["items"]] == [case_id]
    missing_reason = post(client, f"{API}/{case_id}/actions", {"action": "reject", "expected_version": 2})
    assert missing_reason.status_code == 422 and missing_reason.json()["field"] == "reason"
    ack = post(client, f"{API}/{case_id}/actions", {"action": "acknowledge", "expected_version": 2})
    assert ack.status_code == 200 and [a["state"] for a in ack.json()["assignments"]] == ["acknowledged"]


def test_scope_status_codes(client: Any, env: Env) -> None:
    case_id = report(client, env).json()["case"]["id"]
    client.force_login(env.tree.outsiders[Role.COMMUNITY_WORKER])
    assert client.get(f"{API}/{case_id}").status_code == 404
    assert post(client, f"{API}/{case_id}/actions", {"action": "accept", "expected_version": 1}).status_code == 404
    assert client.get(f"{API}/").json()["total"] == 0
    client.force_login(env.user(Role.DISTRICT_LEADER))  # sees, may not act
    assert client.get(f"{API}/{case_id}").status_code == 200
    assert post(client, f"{API}/{case_id}/actions", {"action": "accept", "expected_version": 1}).status_code == 403
    client.force_login(env.user(Role.GRID_WORKER))  # in the loop, but not for this action
    assert post(client, f"{API}/{case_id}/actions", {"action": "accept", "expected_version": 1}).status_code == 403
    client.force_login(env.user(Role.COMMUNITY_WORKER))
    bad = post(client, f"{API}/{case_id}/actions", {"action": "verify_pass", "expected_version": 1})
    assert bad.status_code == 422 and "不能执行" in bad.json()["detail"]
    assert Case.objects.get(pk=case_id).version == 1


def test_list_is_paginated_and_filtered(client: Any, env: Env) -> None:
    for _ in range(3):
        report(client, env)
    client.force_login(env.user(Role.COMMUNITY_WORKER))
    page = client.get(f"{API}/", {"limit": 2, "offset": 0, "state": "submitted"}).json()
    assert page["total"] == 3 and len(page["items"]) == 2
    assert client.get(f"{API}/", {"overdue": True}).json()["total"] == 0


def _jpeg_with_gps() -> bytes:
    from PIL import Image

    image = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (31.0, 23.0, 0.0), 3: "E", 4: (120.0, 58.0, 0.0)}  # GPSInfo
    exif[0x010F] = "PhoneMaker"  # Make
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def test_photos_upload_then_attach_through_the_api(client: Any, env: Env, settings: Any, tmp_path: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    settings.MEDIA_ROOT = tmp_path
    client.force_login(env.user(Role.RESIDENT))
    raw = _jpeg_with_gps()
    assert Image.open(io.BytesIO(raw)).getexif().get_ifd(0x8825)  # the phone's GPS is really in the upload
    uploaded = client.post(f"{API}/photos", {"file": SimpleUploadedFile("IMG_0001.jpg", raw, "image/jpeg")})
    assert uploaded.status_code == 201, uploaded.content
    photo = uploaded.json()
    stored = client.get(photo["url"])
    assert stored.status_code == 200 and stored["Content-Type"] == "image/jpeg"
    clean = Image.open(io.BytesIO(b"".join(stored.streaming_content)))
    assert not clean.getexif() and "exif" not in clean.info
    fake = client.post(f"{API}/photos", {"file": SimpleUploadedFile("x.jpg", b"not an image at all", "image/jpeg")})
    assert fake.status_code == 422 and "图片" in fake.json()["detail"]

    case_id = report(client, env, photos=[photo["id"]]).json()["case"]["id"]
    detail = client.get(f"{API}/{case_id}").json()
    assert [(p["id"], p["stage"]) for p in detail["photos"]] == [(photo["id"], "report")]
    # The same photo cannot be attached twice, and other people's photos not at all.
    again = report(client, env, photos=[photo["id"]])
    assert again.status_code == 422 and again.json()["field"] == "photos"
    client.force_login(env.tree.outsiders[Role.COMMUNITY_WORKER])
    assert client.get(photo["url"]).status_code == 404
    client.force_login(env.user(Role.COMMUNITY_WORKER))
    assert client.get(photo["url"]).status_code == 200
    accept = post(client, f"{API}/{case_id}/actions", {"action": "accept", "expected_version": 1, "photos": [1]})
    assert accept.status_code == 422 and accept.json()["field"] == "photos"
