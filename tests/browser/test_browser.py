"""End to end in headless Chromium: a grid worker logs in and walks down to a dwelling.

A real server runs in a subprocess against its own temporary SQLite database, so this
test needs no pytest-django database and leaves nothing behind except screenshots in
test-artifacts/ (git-ignored). Debian's /usr/bin/chromium drives it; Playwright's own
browser download is never used (the network is closed).
"""

from __future__ import annotations

from datetime import date

import pytest

from grassroots.core.ids import make_id_number
from grassroots.core.masking import mask_id_number
from tests.browser.conftest import log_in, shot

pytestmark = pytest.mark.browser

# The resident add_resident() registers: the first dwelling of 1幢 (1单元 101室).
FULL_ID = make_id_number("320583", date(1950, 3, 9), 1, "M")
MASKED_ID = mask_id_number(FULL_ID)

SEED = """
import django
django.setup()
from tests.factories import add_personas, add_resident, build_tree
tree = build_tree()
add_personas(tree)
add_resident(tree)
"""


def _walk_to_dwelling(page, base: str, prefix: str) -> None:
    """From the home page down to 1单元 101室, clicking links like a user would."""
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="地点").click()
    page.wait_for_url(base + "/places/")
    page.get_by_role("link", name="网格一").click()
    page.wait_for_url("**/places/area/*/")
    assert page.locator("h1").inner_text() == "网格一"
    _wait_for_map(page)
    shot(page, f"{prefix}-area")
    page.get_by_role("link", name="阳光花园 1幢").click()
    page.wait_for_url("**/places/building/*/")
    shot(page, f"{prefix}-building")
    page.locator("section.entrance").first.get_by_role("link", name="101", exact=True).click()
    page.wait_for_url("**/places/dwelling/*/")


def _wait_for_map(page) -> None:
    # Grid polygons are SVG paths Leaflet adds once our GeoJSON has loaded.
    page.locator("[data-grid-map] path.leaflet-interactive").first.wait_for(timeout=5000)


def test_grid_worker_walks_down_to_a_dwelling(browser, live_server_url: str) -> None:
    base = live_server_url
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    page = context.new_page()
    try:
        log_in(page, base, "in_grid_worker", screenshot="desktop-login")
        assert "网格员" in page.locator(".topbar").inner_text()
        shot(page, "desktop-home")
        _walk_to_dwelling(page, base, "desktop")
        residents = page.locator("table.responsive")
        assert residents.get_by_text("张伟").is_visible()
        assert residents.get_by_text(MASKED_ID).is_visible()
        assert FULL_ID not in page.content()
        shot(page, "desktop-dwelling")
        page.get_by_role("link", name="网格地图").click()
        _wait_for_map(page)
        assert "网格类型" in page.locator("#map-legend").inner_text()
        shot(page, "desktop-map")
    finally:
        context.close()


def test_phone_width_pages(browser, live_server_url: str) -> None:
    base = live_server_url
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True)
    page = context.new_page()
    try:
        log_in(page, base, "in_grid_worker", screenshot="phone-login")
        shot(page, "phone-home")
        _walk_to_dwelling(page, base, "phone")
        assert page.get_by_text(MASKED_ID).is_visible()
        assert FULL_ID not in page.content()
        # Nothing wider than the screen: the page never scrolls sideways on a phone.
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        shot(page, "phone-dwelling")
        page.get_by_role("link", name="网格地图").click()
        _wait_for_map(page)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        shot(page, "phone-map")
    finally:
        context.close()


def test_dispatcher_expands_the_tree_and_colours_the_map(browser, live_server_url: str) -> None:
    base = live_server_url
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    page = context.new_page()
    try:
        log_in(page, base, "in_subdistrict_dispatcher")
        page.goto(base + "/places/")
        # Open 玉山镇 in place (htmx), then 城北社区 inside it, without leaving the page.
        page.locator("summary", has_text="玉山镇").click(position={"x": 12, "y": 16})
        community = page.locator("summary", has_text="城北社区")
        community.wait_for()
        community.click(position={"x": 12, "y": 16})
        page.get_by_role("link", name="网格二").wait_for()
        assert page.url == base + "/places/"
        shot(page, "desktop-tree")
        page.get_by_role("navigation", name="主导航").get_by_role("link", name="网格地图").click()
        _wait_for_map(page)
        assert page.locator("[data-grid-map] path.leaflet-interactive").count() == 3  # 网格一、二、三
        page.get_by_label("按户数").check()
        assert "300–500 户" in page.locator("#map-legend").inner_text()
        page.locator("[data-grid-map] path.leaflet-interactive").first.click()
        popup = page.locator(".leaflet-popup-content")
        popup.wait_for()
        assert "户" in popup.inner_text()
        assert popup.get_by_role("link", name="查看网格详情").count() == 1
        page.mouse.move(5, 5)  # off the map, so the hover tooltip does not cover the picture
        page.wait_for_timeout(400)  # let the popup's auto-pan finish before the picture
        shot(page, "desktop-map-households", full_page=False)
    finally:
        context.close()
