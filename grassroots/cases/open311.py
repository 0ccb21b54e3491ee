"""Open311 GeoReport v2 at /open311/v2/: services, requests (read and create) and tokens.

Plain Django views, because the format is a suffix (``services.json``, ``services.xml``).
Every list answer — services, requests, a single request, the POST answer, a token, errors —
is an array (JSON) or a list element (XML): existing clients index its first element.

Reads are public per the spec and show public fields only: never the caller's name or phone,
never photos (ours are not public), never internal notes. ``service_request_id`` is
``Case.number``. Creating a request needs an ``api_key`` (an accounts ``ApiToken``); the case
is created synchronously on the ``open311`` channel with the token's user as reporter, so the
token of a request is its ``service_request_id``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps
from typing import Any
from xml.etree import ElementTree as ET

from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.utils.dateparse import parse_date, parse_datetime
from django.views.decorators.csrf import csrf_exempt

from grassroots.accounts.services import api_token_authenticate
from grassroots.cases.models import Case, CaseAssignment, Category, Channel
from grassroots.cases.services.cases import case_submit
from grassroots.cases.services.hotline import BuildingIndex
from grassroots.cases.workflow import TZ, CaseState
from grassroots.core import clock
from grassroots.core.errors import DomainError
from grassroots.core.ratelimit import Refusal, ip_key, rate_limit
from grassroots.core.scope import Scope
from grassroots.places.models import Building

CLOSED_STATES = frozenset({CaseState.closed.value, CaseState.merged.value, CaseState.cancelled.value})
DEFAULT_WINDOW = timedelta(days=90)
MAX_REQUESTS = 1000
MAX_DESCRIPTION = 2000
MAX_IDS = 200
FORMATS = ("json", "xml")

# XML element names: the list root and the item of each answer.
SERVICES_XML = ("services", "service")
REQUESTS_XML = ("service_requests", "request")
ERRORS_XML = ("errors", "error")

Payload = list[dict[str, Any]] | dict[str, Any]
View = Callable[..., HttpResponse]


class Open311Error(Exception):
    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


# --- rendering ---------------------------------------------------------------------------------


def _xml_value(parent: ET.Element, name: str, value: Any) -> None:
    element = ET.SubElement(parent, name)
    if isinstance(value, list):
        for item in value:
            _xml_value(element, "attribute" if isinstance(item, dict) else "value", item)
    elif isinstance(value, dict):
        for key, inner in value.items():
            _xml_value(element, key, inner)
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:
        element.text = str(value)


def render(fmt: str, payload: Payload, names: tuple[str, str], status: int = 200) -> HttpResponse:
    if fmt == "xml":
        if isinstance(payload, dict):  # a service definition: one element, not a list
            root = ET.Element(names[0])
            for key, value in payload.items():
                _xml_value(root, key, value)
        else:
            root = ET.Element(names[0])
            for item in payload:
                _xml_value(root, names[1], item)
        body = b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8", xml_declaration=False)
        return HttpResponse(body, status=status, content_type="text/xml; charset=utf-8")
    body = json.dumps(payload, ensure_ascii=False).encode()
    return HttpResponse(body, status=status, content_type="application/json; charset=utf-8")


def error(fmt: str, status: int, description: str) -> HttpResponse:
    return render(fmt if fmt in FORMATS else "json", [{"code": status, "description": description}], ERRORS_XML, status)


def endpoint(view: View) -> View:
    """Format check and Open311Error → an error array with the same HTTP status."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, fmt: str, **kwargs: Any) -> HttpResponse:
        if fmt not in FORMATS:
            return error("json", 400, f"Unsupported format '{fmt}': use json or xml.")
        try:
            return view(request, *args, fmt=fmt, **kwargs)
        except Open311Error as exc:
            return error(fmt, exc.status, exc.description)

    return wrapper


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(TZ).isoformat(timespec="seconds") if value is not None else None


def _method(request: HttpRequest, *allowed: str) -> None:
    if request.method not in allowed:
        raise Open311Error(405, f"Method {request.method} not allowed here.")


# --- services ----------------------------------------------------------------------------------


def _service(category: Category) -> dict[str, Any]:
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": category.get_kind_display(),
        "metadata": False,
        "type": "realtime",
        "keywords": "",
        "group": category.parent.name if category.parent else "",
    }


DISCOVERY_CHANGESET = "2026-11-29T00:00:00+08:00"  # bump when the endpoint's behaviour changes


@csrf_exempt
@endpoint
def discovery(request: HttpRequest, *, fmt: str) -> HttpResponse:
    """The spec's discovery document: one object naming this endpoint, its formats and contact."""
    _method(request, "GET", "HEAD")
    base = request.build_absolute_uri("/open311/v2/")
    payload = {
        "changeset": DISCOVERY_CHANGESET,
        "contact": "请联系本街道系统管理员 (the street office's administrator)",
        "key_service": "api_key: 由系统管理员签发的 API 令牌 (an API token issued by the administrator)",
        "endpoints": [
            {
                "specification": "http://wiki.open311.org/GeoReport_v2",
                "url": base,
                "changeset": DISCOVERY_CHANGESET,
                "type": "production",
                "formats": ["application/json", "text/xml"],
            }
        ],
    }
    return render(fmt, payload, ("discovery", ""))


@csrf_exempt
@endpoint
def services_list(request: HttpRequest, *, fmt: str) -> HttpResponse:
    _method(request, "GET", "HEAD")
    categories = Category.objects.filter(is_active=True).select_related("parent").order_by("sort", "code")
    return render(fmt, [_service(c) for c in categories], SERVICES_XML)


@csrf_exempt
@endpoint
def service_definition(request: HttpRequest, code: str, *, fmt: str) -> HttpResponse:
    _method(request, "GET", "HEAD")
    if not Category.objects.filter(code=code, is_active=True).exists():
        raise Open311Error(404, f"Unknown service_code '{code}'.")
    return render(fmt, {"service_code": code, "attributes": []}, ("service_definition", ""))


# --- requests: reading -------------------------------------------------------------------------


def _public_cases() -> Any:
    departments = Prefetch("assignments", queryset=CaseAssignment.objects.select_related("department").order_by("id"))
    return Case.objects.select_related("category", "building").prefetch_related(departments)


def public_request(case: Case) -> dict[str, Any]:
    """The fields anyone may read: no contact, no photos, no internal notes."""
    names: list[str] = []
    for assignment in case.assignments.all():
        if assignment.department.name not in names:
            names.append(assignment.department.name)
    address = case.address_text or (case.building.address if case.building else "")
    return {
        "service_request_id": case.number,
        "status": "closed" if case.state in CLOSED_STATES else "open",
        "status_notes": CaseState(case.state).label,
        "service_name": case.category.name,
        "service_code": case.category.code,
        "description": case.description,
        "agency_responsible": "、".join(names),
        "service_notice": "",
        "requested_datetime": _iso(case.created_at),
        "updated_datetime": _iso(case.updated_at),
        "expected_datetime": _iso(case.handle_by),
        "address": address,
        "address_id": "",
        "zipcode": "",
        "lat": case.lat,
        "long": case.lon,
    }


def _parse_when(text: str, name: str, *, end: bool = False) -> datetime:
    value = parse_datetime(text.strip().replace(" ", "+")) if "T" in text else None
    if value is None:
        day = parse_date(text.strip())
        if day is None:
            raise Open311Error(400, f"{name} must be an ISO 8601 date/time, e.g. 2026-11-05T08:15:30+08:00.")
        value = datetime(day.year, day.month, day.day, tzinfo=TZ)
        if end:  # a bare end date includes that whole day
            value += timedelta(days=1, microseconds=-1)
    if value.tzinfo is None:
        value = value.replace(tzinfo=TZ)
    return value


def _filtered(params: Any) -> Any:
    rows = _public_cases()
    ids = [i.strip() for i in params.get("service_request_id", "").split(",") if i.strip()]
    if ids:  # the spec: other parameters are ignored when ids are given
        if len(ids) > MAX_IDS:
            raise Open311Error(400, f"At most {MAX_IDS} service_request_id values per query.")
        return rows.filter(number__in=ids)
    codes = [c.strip() for c in params.get("service_code", "").split(",") if c.strip()]
    if codes:
        rows = rows.filter(category__code__in=codes)
    start_text, end_text = params.get("start_date", ""), params.get("end_date", "")
    end = _parse_when(end_text, "end_date", end=True) if end_text else clock.now()
    start = _parse_when(start_text, "start_date") if start_text else end - DEFAULT_WINDOW
    if start > end:
        raise Open311Error(400, "start_date must not be after end_date.")
    rows = rows.filter(created_at__gte=start, created_at__lte=end)
    statuses = {s.strip().lower() for s in params.get("status", "").split(",") if s.strip()}
    if statuses - {"open", "closed"}:
        raise Open311Error(400, "status must be open or closed.")
    if statuses == {"open"}:
        rows = rows.exclude(state__in=CLOSED_STATES)
    elif statuses == {"closed"}:
        rows = rows.filter(state__in=CLOSED_STATES)
    return rows


def _client_key(request: HttpRequest) -> str:
    # Per API key, so one busy client does not use up another's budget behind the same proxy.
    api_key = request.POST.get("api_key", "").strip()
    return f"key:{api_key}" if api_key else ip_key(request)


def _rate_limited(request: HttpRequest, refusal: Refusal, *args: Any, fmt: str = "json", **kwargs: Any) -> HttpResponse:
    return error(fmt, 429, f"Too many requests: try again in {refusal.retry_after} seconds.")


@csrf_exempt
@rate_limit("open311", key=_client_key, respond=_rate_limited)
@endpoint
def requests_collection(request: HttpRequest, *, fmt: str) -> HttpResponse:
    _method(request, "GET", "HEAD", "POST")
    if request.method == "POST":
        return _create(request, fmt)
    rows = _filtered(request.GET).order_by("-created_at", "-id")[:MAX_REQUESTS]
    return render(fmt, [public_request(c) for c in rows], REQUESTS_XML)


@csrf_exempt
@endpoint
def request_detail(request: HttpRequest, request_id: str, *, fmt: str) -> HttpResponse:
    _method(request, "GET", "HEAD")
    case = _public_cases().filter(number=request_id).first()
    if case is None:
        raise Open311Error(404, f"Unknown service_request_id '{request_id}'.")
    return render(fmt, [public_request(case)], REQUESTS_XML)


@csrf_exempt
@endpoint
def token_detail(request: HttpRequest, token: str, *, fmt: str) -> HttpResponse:
    # Requests are created synchronously: the token handed out is the request id itself.
    _method(request, "GET", "HEAD")
    if not Case.objects.filter(number=token).exists():
        raise Open311Error(404, f"Unknown token '{token}'.")
    return render(fmt, [{"service_request_id": token, "token": token}], REQUESTS_XML)


# --- requests: creating ------------------------------------------------------------------------


def _float(params: Any, name: str) -> float | None:
    text = params.get(name, "").strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise Open311Error(400, f"{name} must be a number.") from None


def _location(params: Any) -> tuple[float | None, float | None, Building | None]:
    lat, lon = _float(params, "lat"), _float(params, "long")
    if (lat is None) != (lon is None):
        raise Open311Error(400, "lat and long must be given together.")
    if lat is not None:
        return lon, lat, None
    address = params.get("address_string", "").strip()
    if not address:
        raise Open311Error(400, "A location is required: lat and long, or address_string.")
    building_id, problem = BuildingIndex.load().match(address)
    if building_id is None:
        raise Open311Error(400, f"address_string could not be located: {problem}")
    return None, None, Building.objects.select_related("grid").get(pk=building_id)


def _create(request: HttpRequest, fmt: str) -> HttpResponse:
    params = request.POST
    user = api_token_authenticate(params.get("api_key", "").strip()) if params.get("api_key", "").strip() else None
    if user is None:
        raise Open311Error(403, "api_key was not provided or is invalid.")
    code = params.get("service_code", "").strip()
    if not code:
        raise Open311Error(400, "service_code is required.")
    category = Category.objects.filter(code=code, is_active=True).first()
    if category is None:
        raise Open311Error(400, f"service_code '{code}' is not a known service.")
    description = params.get("description", "").strip()
    if not description:
        raise Open311Error(400, "description is required.")
    if len(description) > MAX_DESCRIPTION:
        raise Open311Error(400, f"description is longer than {MAX_DESCRIPTION} characters.")
    lon, lat, building = _location(params)
    # Chinese order: family name first.
    name = f"{params.get('last_name', '').strip()}{params.get('first_name', '').strip()}"
    try:
        submitted = case_submit(
            actor=user,
            scope=Scope.everything(),  # like residents, a client reports anywhere the platform covers
            channel=Channel.OPEN311,
            category=category,
            description=description,
            lon=lon,
            lat=lat,
            building=building,
            contact_name=name,
            contact_phone=params.get("phone", ""),
            address_text=params.get("address_string", ""),
        )
    except DomainError as exc:
        raise Open311Error(400, exc.message) from None
    answer = [{"service_request_id": submitted.case.number, "service_notice": "", "account_id": None}]
    return render(fmt, answer, REQUESTS_XML, status=201)
