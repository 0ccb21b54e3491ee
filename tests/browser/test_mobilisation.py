"""One-tap mobilisation in headless Chromium: a leader calls out, a volunteer answers from a phone.

The leader (community worker, desktop width) starts a mobilisation of 城北社区's volunteers; the
fan-out runs (``manage.py mobilisation_fanout --pending``, as the worker would); the volunteer
opens the link from the SMS at 390 px, taps 收到，马上到 and then 已到达; the leader's roster,
refreshed by htmx polling, shows them arrived.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.conftest import _free_port, _require_chromium, _run, _wait_healthy, log_in, shot

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]

SEED = """
import django
django.setup()
from datetime import date
from grassroots.audit.services import SYSTEM
from grassroots.core.ids import make_id_number
from grassroots.registry import services as registry
from grassroots.volunteers.models import Volunteer
from tests.factories import add_personas, build_tree
tree = build_tree()
add_personas(tree)
dwelling = tree.building1.dwellings.order_by("id").first()
person = registry.person_create(
    actor=SYSTEM, name="李志愿", id_number=make_id_number("320583", date(1985, 5, 5), 7, "F"),
    phone="13912345678", dwelling=dwelling,
)
Volunteer.objects.create(person=person, registered_on=date.today(), path=person.path)
"""


@pytest.fixture(scope="module")
def server_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    var = tmp_path_factory.mktemp("mobilisation-var")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRASSROOTS_") and k != "DATABASE_URL"}
    env.update(
        GRASSROOTS_VAR_DIR=str(var),
        DATABASE_URL=f"sqlite:///{var}/db.sqlite3",
        GRASSROOTS_ENV="development",
        GRASSROOTS_DEBUG="1",
        DJANGO_SETTINGS_MODULE="config.settings",
        PYTHONPATH=str(ROOT),
    )
    return env


@pytest.fixture(scope="module")
def live_server_url(server_env: dict[str, str]) -> Iterator[str]:
    """Like tests/browser/conftest.py's server, keeping its environment to read the SMS outbox."""
    _require_chromium()
    manage = [sys.executable, "manage.py"]
    _run([*manage, "migrate", "--noinput", "-v0"], server_env)
    _run([*manage, "init_keys"], server_env)
    _run([sys.executable, "-c", SEED], server_env)
    port = _free_port()
    server = subprocess.Popen(
        [*manage, "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=server_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, server)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _sms_link(server_env: dict[str, str]) -> str:
    db = server_env["DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(db) as conn:
        row = conn.execute(
            "SELECT body FROM notify_notification WHERE kind = 'volunteers.mobilisation' AND channel = 'sms'"
        ).fetchone()
    assert row, "no SMS was queued for the volunteer"
    found = re.search(r"(/volunteers/m/[^/\s]+/)", row[0])
    assert found
    return found.group(1)


def test_a_volunteer_answers_a_mobilisation_from_a_phone(browser, live_server_url: str, server_env) -> None:
    base = live_server_url
    desk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True)
    try:
        leader = desk.new_page()
        log_in(leader, base, "in_community_worker")
        leader.goto(base + "/volunteers/mobilisations/new/")
        leader.get_by_label("动员范围").select_option(label="城北社区")
        for label in ("网格员", "社区工作者", "报到党员", "楼栋长/单元长", "共建单位联络人"):
            leader.get_by_label(label, exact=True).uncheck()
        leader.get_by_label("志愿者", exact=True).check()
        leader.get_by_label("演练").check()
        leader.get_by_label("标题").fill("防汛集合演练")
        leader.get_by_label("动员内容").fill("请立即到社区党群服务中心集合。")
        leader.get_by_label("集合地点").fill("城北社区党群服务中心")
        shot(leader, "mobilisation-start")
        with leader.expect_navigation():
            leader.get_by_role("button", name="立即动员").click()
        assert leader.locator("h1").inner_text() == "防汛集合演练"

        # The worker's job: fan out the pending mobilisation.
        _run([sys.executable, "manage.py", "mobilisation_fanout", "--pending"], server_env)
        link = _sms_link(server_env)

        page = phone.new_page()
        page.goto(base + link)
        assert page.locator("h1").inner_text() == "防汛集合演练"
        assert "城北社区党群服务中心" in page.content()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        shot(page, "mobilisation-link-390")
        with page.expect_navigation():
            page.get_by_role("button", name="收到，马上到").click()
        assert page.locator("#mob-status").count() == 1, page.content()[:1500]
        assert "已确认：马上到" in page.locator("#mob-status").inner_text()
        with page.expect_navigation():
            page.get_by_role("button", name="已到达").click()
        assert "已到达" in page.locator("#mob-status").inner_text()
        shot(page, "mobilisation-link-arrived-390")

        # The leader's roster catches up by polling (every 5 s), without a reload.
        row = leader.locator('#mob-roster tr[data-grid="网格一"]')
        row.locator("td").nth(3).filter(has_text="1").wait_for(timeout=15_000)
        cells = row.locator("td").all_inner_texts()
        assert [c.strip() for c in cells] == ["1", "1", "0", "1", "0"]
        assert "未响应人员（0）" in leader.locator("#mob-roster").inner_text()
        shot(leader, "mobilisation-roster")
    finally:
        desk.close()
        phone.close()
