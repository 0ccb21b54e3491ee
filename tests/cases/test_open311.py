"""Open311 GeoReport v2: arrays everywhere, the error format, public fields only, states, dates, POST."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from django.test import Client

from grassroots.accounts import services as accounts
from grassroots.accounts.models import Role
from grassroots.audit.services import SYSTEM
from grassroots.cases import services
from grassroots.cases.models import Case, CaseAssignment, Channel
from grassroots.cases.workflow import TZ
from grassroots.core import clock
from grassroots.core.crypto import decrypt
from grassroots.core.scope import Scope
from tests.cases.test_cases_services import Env, make_env
from tests.factories import Tree, centre

pytestmark = pytest.mark.django_db

BASE = "/open311/v2"
PHONE = "13912345678"
NAME = "赵敏"


@pytest.fixture
def env(tree: Tree) -> Env:
    return make_env(tree)


def get(path: str, **params: Any) -> tuple[int, Any]:
    response = Client().get(f"{BASE}/{path}", params)
    assert response["Content-Type"].startswith("application/json")
    return response.status_code, json.loads(response.content)


def report(env: Env, *, at: datetime | None = None, ref: str = "", **fields: Any) -> Case:
    lon, lat = centre(0, 0)
    return services.case_submit(
        actor=None,
        scope=Scope.everything(),
        channel=Channel.HOTLINE_12345,
        category=env.category,
        description=fields.pop("description", "路面有坑"),
        lon=lon,
        lat=lat,
        external_ref=ref,
        contact_name=NAME,
        contact_phone=PHONE,
        address_text="阳光花园1幢",
        now=at or clock.now(),
        **fields,
    ).case


def token_for(env: Env) -> str:
    _, raw = accounts.api_token_create(actor=SYSTEM, user=env.tree.users[Role.RESIDENT], name="app")
    return raw


# --- services ---------------------------------------------------------------------------------


def test_services_is_an_array(env: Env) -> None:
    services.categories_seed(actor=SYSTEM)
    status, body = get("services.json")
    assert status == 200 and isinstance(body, list)
    pothole = next(s for s in body if s["service_code"] == "road.pothole")
    assert pothole == {
        "service_code": "road.pothole",
        "service_name": "道路坑洼",
        "description": "城市管理事件",
        "metadata": False,
        "type": "realtime",
        "keywords": "",
        "group": "",
    }
    child = next(s for s in body if s["service_code"] == "community.noise")
    assert child["group"]  # the parent's name


def test_service_definition_and_unknown_code(env: Env) -> None:
    status, body = get("services/road.pothole.json")
    assert status == 200 and body == {"service_code": "road.pothole", "attributes": []}
    status, body = get("services/nope.json")
    assert status == 404 and body == [{"code": 404, "description": "Unknown service_code 'nope'."}]


def test_xml_format(env: Env) -> None:
    report(env)
    response = Client().get(f"{BASE}/services.xml")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/xml")
    root = ET.fromstring(response.content)  # noqa: S314 (our own answer)
    assert root.tag == "services" and root[0].tag == "service"
    assert root.find("service/service_code") is not None
    requests = ET.fromstring(Client().get(f"{BASE}/requests.xml").content)  # noqa: S314 (our own answer)
    assert requests.tag == "service_requests" and requests[0].find("status").text == "open"  # type: ignore[union-attr]
    errors = ET.fromstring(Client().get(f"{BASE}/requests/none.xml").content)  # noqa: S314 (our own answer)
    assert errors.tag == "errors" and errors.find("error/code").text == "404"  # type: ignore[union-attr]


def test_unsupported_format_is_a_json_error(env: Env) -> None:
    status, body = get("services.yaml")
    assert status == 400 and isinstance(body, list) and body[0]["code"] == 400


# --- reading requests -------------------------------------------------------------------------


def test_requests_are_arrays_with_public_fields_only(env: Env) -> None:
    case = report(env)
    CaseAssignment.objects.create(case=case, department=env.tree.department, dispatched_at=case.created_at)
    for path in ("requests.json", f"requests/{case.number}.json"):
        response = Client().get(f"{BASE}/{path}")
        text = response.content.decode()
        assert PHONE not in text and NAME not in text and case.contact_phone_masked not in text
        assert "contact" not in text and "media_url" not in text
        body = json.loads(text)
        assert isinstance(body, list) and len(body) == 1
    item = body[0]
    assert item["service_request_id"] == case.number and item["status"] == "open"
    assert item["service_code"] == "road.pothole" and item["description"] == "路面有坑"
    assert item["agency_responsible"] == "昆山市城管局"
    assert item["address"] == "阳光花园1幢"
    assert (item["long"], item["lat"]) == pytest.approx(centre(0, 0))
    assert item["requested_datetime"].endswith("+08:00")
    assert datetime.fromisoformat(item["requested_datetime"]) == case.created_at.replace(microsecond=0)
    assert item["expected_datetime"] is None


def test_single_request_unknown_is_404(env: Env) -> None:
    status, body = get("requests/2026-999999.json")
    assert status == 404 and body[0]["code"] == 404


@pytest.mark.parametrize(
    ("state", "public"),
    [
        ("submitted", "open"),
        ("dispatched", "open"),
        ("resolved", "open"),
        ("reopened", "open"),
        ("closed", "closed"),
        ("merged", "closed"),
        ("cancelled", "closed"),
    ],
)
def test_status_mapping(env: Env, state: str, public: str) -> None:
    case = report(env)
    Case.objects.filter(pk=case.pk).update(state=state)
    _, body = get(f"requests/{case.number}.json")
    assert body[0]["status"] == public
    _, listed = get("requests.json", status=public)
    assert [r["service_request_id"] for r in listed] == [case.number]
    other = "closed" if public == "open" else "open"
    assert get("requests.json", status=other)[1] == []


def test_date_filters_and_default_window(env: Env) -> None:
    now = clock.now()
    old = report(env, at=now - timedelta(days=100), description="old")
    recent = report(env, at=now - timedelta(days=1), description="recent")
    _, body = get("requests.json")
    assert [r["service_request_id"] for r in body] == [recent.number]  # the last 90 days by default
    start = (now - timedelta(days=120)).astimezone(TZ).isoformat(timespec="seconds")
    end = (now - timedelta(days=50)).astimezone(TZ).isoformat(timespec="seconds")
    _, body = get("requests.json", start_date=start, end_date=end)
    assert [r["service_request_id"] for r in body] == [old.number]
    _, body = get("requests.json", start_date=start)
    assert {r["service_request_id"] for r in body} == {old.number, recent.number}
    day = (now - timedelta(days=100)).astimezone(TZ).date().isoformat()
    _, body = get("requests.json", start_date=day, end_date=day)
    assert [r["service_request_id"] for r in body] == [old.number]
    _, body = get("requests.json", service_request_id=f"{old.number},{recent.number}")
    assert len(body) == 2
    _, body = get("requests.json", service_code="road.pothole,other", start_date=start)
    assert len(body) == 2
    status, body = get("requests.json", start_date="yesterday")
    assert status == 400 and body[0]["code"] == 400 and "start_date" in body[0]["description"]
    status, body = get("requests.json", status="pending")
    assert status == 400


# --- creating requests ------------------------------------------------------------------------


def post(data: dict[str, str], fmt: str = "json") -> tuple[int, Any]:
    response = Client(enforce_csrf_checks=True).post(f"{BASE}/requests.{fmt}", data)
    return response.status_code, json.loads(response.content) if fmt == "json" else response.content


def test_post_without_or_with_a_bad_api_key_is_403(env: Env) -> None:
    lon, lat = centre(0, 0)
    data = {"service_code": "road.pothole", "lat": str(lat), "long": str(lon), "description": "x"}
    assert post(data) == (403, [{"code": 403, "description": "api_key was not provided or is invalid."}])
    assert post({**data, "api_key": "gr_wrong"})[0] == 403
    assert not Case.objects.exists()


def test_post_creates_a_case(env: Env) -> None:
    lon, lat = centre(0, 0)
    data = {
        "api_key": token_for(env),
        "service_code": "road.pothole",
        "lat": str(lat),
        "long": str(lon),
        "description": "人行道破损",
        "first_name": "敏",
        "last_name": "赵",
        "phone": PHONE,
        "email": "a@example.com",
        "device_id": "abc",
    }
    status, body = post(data)
    assert status == 201 and isinstance(body, list) and len(body) == 1
    case = Case.objects.get()
    assert body[0]["service_request_id"] == case.number and "service_notice" in body[0]
    assert case.channel == Channel.OPEN311 and case.reporter == env.tree.users[Role.RESIDENT]
    assert case.contact_name == NAME and case.contact_phone_sealed is not None
    assert decrypt(case.contact_phone_sealed, context="case.contact_phone") == PHONE
    assert case.grid == env.tree.grid1
    status, body = get(f"tokens/{case.number}.json")
    assert status == 200 and body == [{"service_request_id": case.number, "token": case.number}]
    assert get("tokens/unknown.json")[0] == 404
    text = Client().get(f"{BASE}/requests.json").content.decode()
    assert PHONE not in text and NAME not in text


def test_post_by_address_string(env: Env) -> None:
    data = {
        "api_key": token_for(env),
        "service_code": "road.pothole",
        "address_string": "阳光花园1号楼",
        "description": "楼下路面塌陷",
    }
    status, body = post(data)
    assert status == 201
    case = Case.objects.get(number=body[0]["service_request_id"])
    assert case.building == env.tree.building1 and case.address_text == "阳光花园1号楼"


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"service_code": ""}, "service_code is required"),
        ({"service_code": "nope"}, "not a known service"),
        ({"description": ""}, "description is required"),
        ({"description": "长" * 2001}, "longer than 2000"),
        ({"lat": "", "long": ""}, "location is required"),
        ({"lat": "abc"}, "lat must be a number"),
        ({"long": ""}, "together"),
        ({"lat": "31.9", "long": "121.9"}, "不在本平台的任何网格内"),
        ({"lat": "", "long": "", "address_string": "幸福小区3幢"}, "could not be located"),
        ({"phone": "12"}, "联系电话"),
    ],
)
def test_post_bad_fields_are_400(env: Env, change: dict[str, str], words: str) -> None:
    lon, lat = centre(0, 0)
    data = {"api_key": token_for(env), "service_code": "road.pothole", "lat": str(lat), "long": str(lon)}
    data = {**data, "description": "x", **change}
    status, body = post(data)
    assert status == 400 and body[0]["code"] == 400 and words in body[0]["description"]
    assert not Case.objects.exists()


def test_post_xml_answer(env: Env) -> None:
    lon, lat = centre(0, 0)
    data = {"api_key": token_for(env), "service_code": "road.pothole", "lat": str(lat), "long": str(lon)}
    status, content = post({**data, "description": "x"}, fmt="xml")
    root = ET.fromstring(content)  # noqa: S314 (our own answer)
    assert status == 201 and root.tag == "service_requests"
    assert root.find("request/service_request_id").text == Case.objects.get().number  # type: ignore[union-attr]


def test_get_only_on_read_endpoints(env: Env) -> None:
    response = Client().post(f"{BASE}/services.json")
    assert response.status_code == 405 and json.loads(response.content)[0]["code"] == 405


def test_requests_list_query_count(env: Env, django_assert_max_num_queries: Any) -> None:
    for i in range(5):
        case = report(env, description=f"第{i}处")
        CaseAssignment.objects.create(case=case, department=env.tree.department, dispatched_at=case.created_at)
    with django_assert_max_num_queries(3):
        response = Client().get(f"{BASE}/requests.json")
    assert len(json.loads(response.content)) == 5


def test_discovery_names_this_endpoint_and_its_formats(env: Env) -> None:
    status, body = get("discovery.json")
    assert status == 200 and isinstance(body, dict)  # the spec's one object that is not an array
    (endpoint,) = body["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"].endswith("/open311/v2/") and "application/json" in endpoint["formats"]
    xml = Client().get(f"{BASE}/discovery.xml")
    root = ET.fromstring(xml.content)  # noqa: S314 (our own answer)
    assert root.tag == "discovery" and root.find("endpoints") is not None
