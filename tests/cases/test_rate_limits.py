"""Rate limits per client IP on public intake and login (grassroots.core.ratelimit).

Resident reports (H5 and QR stickers), Open311 POSTs, the password login and (in
tests/accounts/test_sms_login.py) the SMS code pages: HTTP 429 past the limit, a Chinese page
or the API's own error format, a Retry-After header, and a fresh budget once the window
ends. Windows are fixed and aligned on the project's clock, which the tests move.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock
from xml.etree import ElementTree as ET

import pytest
from django.core.cache import cache
from django.test import Client, RequestFactory
from django.urls import reverse

from grassroots.accounts import services as accounts
from grassroots.accounts.models import Role
from grassroots.audit.services import SYSTEM
from grassroots.core import clock
from grassroots.core.client_ip import client_ip
from grassroots.core.ratelimit import Rate, hit, parse_rates, rates_for, too_many_requests, wait_text
from tests.factories import PASSWORD, Tree

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)  # a whole hour: every window starts here
REPORT = "/cases/h5/report/"
LOGIN = "/accounts/login/"
OPEN311 = "/open311/v2/requests"
TOO_MANY = "操作过于频繁"


class Clock:
    def __init__(self) -> None:
        self.at = T0

    def now(self) -> datetime:
        return self.at

    def set(self, seconds: float) -> None:
        self.at = T0 + timedelta(seconds=seconds)


@pytest.fixture(autouse=True)
def _clear_cache() -> Iterator[None]:
    cache.clear()  # counters must not leak from one test to the next
    yield
    cache.clear()


@pytest.fixture
def now(monkeypatch: pytest.MonkeyPatch) -> Clock:
    c = Clock()
    monkeypatch.setattr(clock, "now", c.now)
    return c


@pytest.fixture
def resident(tree: Tree) -> Client:
    client = Client()
    client.force_login(tree.users[Role.RESIDENT])
    return client


def _report(client: Client, ip: str = "10.0.0.1", query: str = "", **extra: Any) -> Any:
    # An empty form is refused (400) by the view: it still counts, as any POST does.
    return client.post(f"{REPORT}{query}", {"description": ""}, REMOTE_ADDR=ip, **extra)


# --- the limiter ---------------------------------------------------------------------------------


def test_rates_parse_in_seconds_or_units() -> None:
    assert parse_rates("10/60, 60/3600") == (Rate(10, 60), Rate(60, 3600))
    assert parse_rates("10/m,60/h,100/d,5/s") == (Rate(10, 60), Rate(60, 3600), Rate(100, 86400), Rate(5, 1))
    assert parse_rates("off") == parse_rates("") == ()
    for bad in ("ten/60", "0/60", "10/0", "10/week"):
        with pytest.raises((ValueError, KeyError)):
            parse_rates(bad)


def test_wait_text_rounds_up() -> None:
    assert [wait_text(s) for s in (0, 43, 119, 120, 3299, 7200, 82500)] == [
        "1 秒",
        "43 秒",
        "119 秒",
        "2 分钟",
        "55 分钟",
        "2 小时",
        "23 小时",
    ]


def test_a_limit_holds_exactly_and_resets_with_its_window(settings: Any, now: Clock) -> None:
    settings.GRASSROOTS_RATE_LIMITS = {"x": "3/60,6/3600"}
    assert [hit("x", "a") for _ in range(3)] == [None, None, None]
    refusal = hit("x", "a")
    assert refusal is not None and refusal.retry_after == 60
    assert hit("x", "b") is None  # another key has its own budget
    now.set(59)
    assert hit("x", "a").retry_after == 1  # type: ignore[union-attr]
    now.set(60)
    assert hit("x", "a") is None  # a new minute; the hour has counted 6 calls (refused ones count too)
    refusal = hit("x", "a")
    assert refusal is not None and refusal.retry_after == 3600 - 60
    now.set(3600)
    assert hit("x", "a") is None


def test_an_unconfigured_or_disabled_limit_lets_everything_through(settings: Any) -> None:
    settings.GRASSROOTS_RATE_LIMITS = {"report": "off"}
    assert all(hit("report", "a") is None for _ in range(50))
    assert all(hit("no-such-limit", "a") is None for _ in range(50))


def test_a_failing_cache_lets_requests_through(settings: Any) -> None:
    settings.GRASSROOTS_RATE_LIMITS = {"x": "1/60"}
    with mock.patch("grassroots.core.ratelimit.cache.incr", side_effect=ConnectionError("redis down")):
        assert hit("x", "a") is None and hit("x", "a") is None


def test_api_clients_get_a_json_error() -> None:
    from grassroots.core.ratelimit import Refusal

    request = RequestFactory().post("/api/v1/cases/", HTTP_ACCEPT="application/json")
    response = too_many_requests(request, Refusal(30))
    assert response.status_code == 429
    assert json.loads(response.content) == {
        "detail": "操作过于频繁，请 30 秒后再试。",
        "code": "rate_limited",
        "retry_after": 30,
    }


# --- client IP ---------------------------------------------------------------------------------


def _ip(settings: Any, remote: str, forwarded: str | None, proxies: list[str]) -> str:
    settings.GRASSROOTS_TRUSTED_PROXIES = proxies
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return client_ip(RequestFactory().get("/", REMOTE_ADDR=remote, **extra))


def test_x_forwarded_for_is_believed_only_from_a_trusted_proxy(settings: Any) -> None:
    assert _ip(settings, "203.0.113.9", "1.2.3.4", []) == "203.0.113.9"
    assert _ip(settings, "203.0.113.9", "1.2.3.4", ["10.0.0.1"]) == "203.0.113.9"
    assert _ip(settings, "10.0.0.1", "1.2.3.4", ["10.0.0.1"]) == "1.2.3.4"
    assert _ip(settings, "10.0.0.1", None, ["10.0.0.1"]) == "10.0.0.1"
    # nginx appends the peer to what the client sent: the client's own first hop is not believed.
    assert _ip(settings, "10.0.0.1", "6.6.6.6, 1.2.3.4", ["10.0.0.1"]) == "1.2.3.4"
    # A chain of our own proxies (networks allowed) is walked from the right.
    assert _ip(settings, "10.0.0.1", "1.2.3.4, 10.0.5.5", ["10.0.0.0/16"]) == "1.2.3.4"
    assert _ip(settings, "10.0.0.1", "garbage", ["10.0.0.1"]) == "10.0.0.1"
    assert _ip(settings, "::1", "2001:db8::7", ["::1"]) == "2001:db8::7"


def test_reports_behind_a_trusted_proxy_are_counted_per_client(settings: Any, resident: Client, now: Clock) -> None:
    settings.GRASSROOTS_RATE_LIMITS = {**settings.GRASSROOTS_RATE_LIMITS, "report": "2/60"}
    settings.GRASSROOTS_TRUSTED_PROXIES = ["10.9.9.9"]
    for _ in range(2):
        assert _report(resident, "10.9.9.9", HTTP_X_FORWARDED_FOR="1.1.1.1").status_code == 400
    assert _report(resident, "10.9.9.9", HTTP_X_FORWARDED_FOR="1.1.1.1").status_code == 429
    assert _report(resident, "10.9.9.9", HTTP_X_FORWARDED_FOR="2.2.2.2").status_code == 400
    # From an untrusted peer the header changes nothing: one budget for that peer.
    for _ in range(2):
        assert _report(resident, "5.5.5.5", HTTP_X_FORWARDED_FOR="3.3.3.3").status_code == 400
    assert _report(resident, "5.5.5.5", HTTP_X_FORWARDED_FOR="4.4.4.4").status_code == 429


# --- resident reports (H5 and QR) --------------------------------------------------------------


def test_reports_are_limited_to_ten_a_minute_per_ip(resident: Client, now: Clock) -> None:
    for _ in range(10):
        assert _report(resident).status_code == 400
    now.set(30)
    response = _report(resident)
    assert response.status_code == 429
    assert response["Retry-After"] == "30"
    body = response.content.decode()
    assert TOO_MANY in body and "请 30 秒后再试" in body and "<title>操作过于频繁" in body
    assert _report(resident, "10.0.0.2").status_code == 400  # another client
    assert resident.get(REPORT, REMOTE_ADDR="10.0.0.1").status_code == 200  # reading the form is not limited
    now.set(60)
    assert _report(resident).status_code == 400  # the next minute


def test_the_defaults_are_the_documented_ones() -> None:
    assert rates_for("report") == (Rate(10, 60), Rate(60, 3600))
    assert rates_for("open311") == (Rate(30, 60),)
    assert rates_for("login") == (Rate(20, 60),)
    assert rates_for("sms_send") == (Rate(20, 3600),)
    assert rates_for("propose") == (Rate(5, 60), Rate(30, 3600))


def test_topic_proposals_have_their_own_limit(resident: Client, now: Clock) -> None:
    url = reverse("engage:h5_propose")
    statuses = [resident.post(url, {"title": ""}, REMOTE_ADDR="10.0.0.1").status_code for _ in range(5)]
    assert 429 not in statuses
    refused = resident.post(url, {"title": ""}, REMOTE_ADDR="10.0.0.1")
    assert refused.status_code == 429 and TOO_MANY in refused.content.decode()
    assert _report(resident).status_code == 400  # reports keep their own budget
    now.set(60)
    assert resident.post(url, {"title": ""}, REMOTE_ADDR="10.0.0.1").status_code != 429


def test_reports_are_limited_per_hour_too(settings: Any, resident: Client, now: Clock) -> None:
    # The hourly window with small numbers (the defaults, 10 a minute and 60 an hour, are above).
    settings.GRASSROOTS_RATE_LIMITS = {**settings.GRASSROOTS_RATE_LIMITS, "report": "2/60,6/3600"}
    for minute in range(3):
        now.set(minute * 60)
        for _ in range(2):
            assert _report(resident).status_code == 400
    now.set(3 * 60)
    response = _report(resident)
    assert response.status_code == 429 and response["Retry-After"] == str(3600 - 180)
    assert "请 57 分钟后再试" in response.content.decode()
    now.set(3600)
    assert _report(resident).status_code == 400


def test_qr_sticker_reports_share_the_limit(settings: Any, tree: Tree, resident: Client, now: Clock) -> None:
    settings.GRASSROOTS_RATE_LIMITS = {**settings.GRASSROOTS_RATE_LIMITS, "report": "3/60"}
    query = f"?building={tree.building1.pk}"
    for _ in range(5):
        assert resident.get(f"{REPORT}{query}", REMOTE_ADDR="10.0.0.1").status_code == 200  # scanning is free
    assert _report(resident, query=query).status_code == 400
    assert _report(resident).status_code == 400
    assert _report(resident, query=query).status_code == 400
    response = _report(resident, query=query)
    assert response.status_code == 429 and TOO_MANY in response.content.decode()


def test_an_anonymous_report_goes_to_login_without_counting(settings: Any, now: Clock) -> None:
    settings.GRASSROOTS_RATE_LIMITS = {**settings.GRASSROOTS_RATE_LIMITS, "report": "1/60"}
    for _ in range(3):
        assert _report(Client()).status_code == 302


# --- Open311 ------------------------------------------------------------------------------------


def _open311(data: dict[str, str], fmt: str = "json", ip: str = "10.0.0.1") -> Any:
    return Client(enforce_csrf_checks=True).post(f"{OPEN311}.{fmt}", data, REMOTE_ADDR=ip)


def test_open311_posts_are_limited_per_api_key(tree: Tree, now: Clock) -> None:
    _, key = accounts.api_token_create(actor=SYSTEM, user=tree.users[Role.RESIDENT], name="app")
    _, other = accounts.api_token_create(actor=SYSTEM, user=tree.users[Role.RESIDENT], name="other")
    for _ in range(30):
        assert _open311({"api_key": key}).status_code == 400  # no service_code: refused, counted
    response = _open311({"api_key": key})
    assert response.status_code == 429 and response["Retry-After"] == "60"
    assert json.loads(response.content) == [{"code": 429, "description": "Too many requests: try again in 60 seconds."}]
    xml = _open311({"api_key": key}, fmt="xml")
    assert xml.status_code == 429
    assert ET.fromstring(xml.content).find("error/code").text == "429"  # type: ignore[union-attr]  # noqa: S314 (our own answer)
    assert _open311({"api_key": other}).status_code == 400  # another client, same address
    assert Client().get(f"{OPEN311}.json", REMOTE_ADDR="10.0.0.1").status_code == 200  # reads are not limited
    now.set(60)
    assert _open311({"api_key": key}).status_code == 400


def test_open311_posts_without_a_key_are_limited_per_ip(tree: Tree, now: Clock) -> None:
    for _ in range(30):
        assert _open311({}).status_code == 403
    assert _open311({}).status_code == 429
    assert _open311({}, ip="10.0.0.2").status_code == 403


# --- password login -----------------------------------------------------------------------------


def test_login_posts_are_limited_to_twenty_a_minute_per_ip(tree: Tree, now: Clock) -> None:
    client = Client()
    for i in range(20):
        # Different names: the per-account lockout (django-axes, 5 failures) never triggers here.
        response = client.post(LOGIN, {"username": f"nobody{i}", "password": "x"}, REMOTE_ADDR="10.0.0.1")
        assert response.status_code == 200
    user = tree.users[Role.GRID_WORKER]
    response = client.post(LOGIN, {"username": user.username, "password": PASSWORD}, REMOTE_ADDR="10.0.0.1")
    assert response.status_code == 429 and TOO_MANY in response.content.decode()
    assert "_auth_user_id" not in client.session  # refused before the password was even checked
    assert client.get(LOGIN, REMOTE_ADDR="10.0.0.1").status_code == 200  # the page itself still shows
    other = Client().post(LOGIN, {"username": user.username, "password": PASSWORD}, REMOTE_ADDR="10.0.0.2")
    assert other.status_code == 302
    now.set(60)
    response = client.post(LOGIN, {"username": user.username, "password": PASSWORD}, REMOTE_ADDR="10.0.0.1")
    assert response.status_code == 302
