"""Schemathesis against /api/v1/ (ninja's own OpenAPI schema) and /open311/v2/ (open311_schema.yaml).

Generated requests go through the WSGI app, authenticated with an administrator's API token (the
widest scope, so the most code runs), over the module's two-subdistrict world. Each operation
gets a small, bounded number of examples: no server errors, answers that match the documented
schema and status codes.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from config.api import api
from grassroots.accounts.models import Role
from grassroots.accounts.services import api_token_create
from grassroots.audit.services import SYSTEM

pytestmark = [pytest.mark.django_db]

APP = get_wsgi_application()
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance]
BOUNDED = settings(
    max_examples=12,
    deadline=None,
    derandomize=True,  # the same examples every run: a failure here is reproducible
    suppress_health_check=list(HealthCheck),
)

API_SCHEMA = schemathesis.openapi.from_dict(api.get_openapi_schema(path_prefix="/api/v1"))
API_SCHEMA.app = APP
OPEN311_SCHEMA = schemathesis.openapi.from_path(
    Path(__file__).resolve().parents[2] / "grassroots" / "cases" / "open311_schema.yaml"
)
OPEN311_SCHEMA.app = APP


@pytest.fixture(scope="module")
def token(world: Any, django_db_blocker: Any) -> str:
    with django_db_blocker.unblock():
        _, raw = api_token_create(actor=SYSTEM, user=world.users[Role.ADMIN], name="schemathesis")
    return raw


@pytest.fixture(autouse=True, scope="module")
def _keep_the_test_connection() -> Iterator[None]:
    # The raw WSGI handler closes "old" connections around each request, and inside the test's
    # transaction PostgreSQL's looks old (autocommit off): disconnect that, as Django's test client does.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture(autouse=True)
def _no_rate_limits(settings: Any) -> None:
    # Hundreds of generated requests from one client: the limits have tests of their own.
    settings.GRASSROOTS_RATE_LIMITS = {"open311": "off", "report": "off", "login": "off", "sms_send": "off"}


@pytest.fixture(scope="module")
def real_ids(world: Any) -> dict[str, int]:
    return {
        "area_id": world.a.grid.pk,
        "building_id": world.a.building.pk,
        "case_id": world.a.pk("case"),
        "category_id": world.category.pk,
    }


@pytest.fixture(scope="module")
def case_number(world: Any) -> str:
    return str(world.a.objects["case"].number)


@pytest.fixture(scope="module")
def place(world: Any) -> tuple[float, float]:
    return (world.a.building.lon, world.a.building.lat)


@API_SCHEMA.parametrize()
@BOUNDED
def test_api_v1(case: Any, token: str, real_ids: dict[str, int], place: tuple[float, float]) -> None:
    # Random ids nearly always miss: send every other generated integer id to a real object instead,
    # so that the answers with data are checked against their schemas too.
    for name, value in (case.path_parameters or {}).items():
        if name in real_ids and isinstance(value, int) and value % 2 == 0:
            case.path_parameters[name] = real_ids[name]
    lon, lat = place
    if isinstance(case.query, dict) and isinstance(case.query.get("lon"), float) and len(case.query) % 2:
        case.query.update(lon=lon, lat=lat)  # a point inside a grid
    if isinstance(case.body, dict) and "category_id" in case.body and len(case.body) % 2:  # a valid report
        case.body.update(category_id=real_ids["category_id"], lon=lon, lat=lat, photos=[], building_id=None)
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)


@OPEN311_SCHEMA.parametrize()
@BOUNDED
def test_open311_v2(case: Any, token: str, case_number: str, place: tuple[float, float]) -> None:
    if isinstance(case.body, dict) and "api_key" in case.body:
        case.body["api_key"] = token  # a real key, so creating reaches past the key check
        if len(str(case.body.get("description", ""))) % 2:  # and every other one a real service and place
            case.body.update(service_code="road.pothole", lat=str(place[1]), long=str(place[0]))
    if (
        case.path_parameters
        and "service_request_id" in case.path_parameters
        and len(str(case.path_parameters["service_request_id"])) % 2
    ):
        case.path_parameters["service_request_id"] = case_number  # every other request names a real case
    case.call_and_validate(checks=CHECKS)
