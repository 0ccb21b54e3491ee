"""Check-in (报到) in headless Chromium: a resident on a phone opens the community's check-in link,
submits, and the party secretary confirms at a desk; the member then shows as checked in."""

from __future__ import annotations

from datetime import date

import pytest

from grassroots.core.ids import make_id_number
from tests.browser.conftest import log_in, shot

pytestmark = pytest.mark.browser

SEED = """
import django
django.setup()
from tests.factories import add_personas, add_resident, build_tree
from tests.party.conftest import make_party
tree = build_tree()
add_personas(tree)
make_party(tree)
add_resident(tree, seq=7, name="林晓")
print(tree.chengbei.pk)
"""


def test_a_resident_checks_in_and_the_secretary_confirms(browser, live_server_url: str) -> None:
    base = live_server_url
    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True)
    desk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    try:
        page = phone.new_page()
        log_in(page, base, "in_resident")
        page.goto(base + "/party/checkin/")  # the resident's own community's check-in page (as from a QR code)
        assert "城北社区" in page.content()
        page.get_by_label("姓名").fill("林晓")
        page.get_by_label("身份证号").fill(make_id_number("320583", date(1950, 3, 9), 7, "M"))
        page.get_by_label("手机号").fill("13812340007")
        page.get_by_label("个人特长（选填）").fill("水电维修")
        shot(page, "party-checkin-1-phone-form")
        with page.expect_navigation():
            page.get_by_role("button", name="提交报到").click()
        page.get_by_text("报到申请已提交").wait_for()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        shot(page, "party-checkin-2-phone-submitted")

        staff = desk.new_page()
        log_in(staff, base, "in_party_secretary")
        staff.goto(base + "/party/checkins/")
        row = staff.locator("tr", has_text="林晓")
        row.wait_for()
        assert "水电维修" in row.inner_text()
        shot(staff, "party-checkin-3-queue")
        with staff.expect_navigation():
            row.get_by_role("button", name="确认报到").click()
        staff.get_by_text("已确认林晓报到").wait_for()
        staff.goto(base + "/party/members/")
        member_row = staff.locator("tr", has_text="林晓")
        assert "已报到" in member_row.inner_text()
        assert "*" in member_row.inner_text()  # the masked ID
        shot(staff, "party-checkin-4-members")
        with staff.expect_navigation():
            member_row.get_by_role("link", name="林晓").click()
        assert "已报到" in staff.content()
        shot(staff, "party-checkin-5-member")
        staff.goto(base + "/party/")
        shot(staff, "party-tree")
        staff.goto(base + "/party/targets/")
        shot(staff, "party-targets")
        staff.goto(base + "/party/reports/unit/")
        shot(staff, "party-unit-report")
    finally:
        phone.close()
        desk.close()
