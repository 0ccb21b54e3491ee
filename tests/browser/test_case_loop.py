"""The whole case loop in headless Chromium, each person on their own pages.

A resident reports a pothole with a photo from their phone (GPS position) → the community
whistles → the department reports in, starts and answers with a photo → the grid worker
verifies on site → the resident rates the result. Every step is a click on the real page;
the timeline the resident sees at the end has every step with who and when.
"""

from __future__ import annotations

import io
import re

import pytest

from tests.browser.conftest import log_in, shot
from tests.factories import centre

pytestmark = pytest.mark.browser

SEED = """
import django
django.setup()
from tests.cases.test_cases_services import make_env
from tests.factories import add_personas, build_tree
tree = build_tree()
add_personas(tree)
make_env(tree)  # 道路坑洼 → the district's 城管局 (tree.department), whose officer is in_department_officer
"""


def _jpeg(colour: tuple[int, int, int]) -> bytes:
    from PIL import Image

    image = Image.new("RGB", (320, 240), colour)
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (31.0, 23.0, 0.0), 3: "E", 4: (120.0, 58.0, 0.0)}  # the phone's GPS
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def _staff_step(page, button: str, *, fill: dict[str, str] | None = None, photo: bytes | None = None) -> None:
    """Submit the step form whose button reads ``button`` and wait for the page to come back."""
    form = page.locator("form.step", has=page.get_by_role("button", name=button, exact=True))
    for label, value in (fill or {}).items():
        form.get_by_label(label).fill(value)
    if photo is not None:
        form.locator('input[type="file"]').set_input_files(
            files=[{"name": "result.jpg", "mimeType": "image/jpeg", "buffer": photo}]
        )
    with page.expect_navigation():
        form.get_by_role("button", name=button, exact=True).click()
    assert "已被他人处理" not in page.content()


def test_a_report_goes_round_the_whole_loop(browser, live_server_url: str) -> None:
    base = live_server_url
    lon, lat = centre(0, 0)  # inside 网格一
    phone = browser.new_context(
        viewport={"width": 390, "height": 844},
        locale="zh-CN",
        is_mobile=True,
        geolocation={"longitude": lon, "latitude": lat},
        permissions=["geolocation"],
    )
    desks: list = []

    def desk_page(username: str):  # a fresh browser profile per officer: nobody inherits a session
        desks.append(browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN"))
        staff = desks[-1].new_page()
        log_in(staff, base, username)
        return staff

    try:
        # 1. The resident reports from the phone: category, words, a photo, the phone's position.
        page = phone.new_page()
        log_in(page, base, "in_resident")
        nav = page.get_by_role("navigation", name="主导航")
        nav.get_by_role("link", name="案件").click()  # a resident's pages come in sections
        nav.get_by_role("link", name="随手拍").click()
        page.get_by_label("问题类型").select_option(label="道路坑洼")
        page.get_by_label("问题描述").fill("小区北门外路面有一个大坑，晚上看不清")
        page.locator("[data-photo-input]").set_input_files(
            files=[{"name": "IMG_0001.jpg", "mimeType": "image/jpeg", "buffer": _jpeg((160, 40, 40))}]
        )
        page.get_by_role("button", name="使用我的位置").click()
        page.get_by_text("已获取您的位置").wait_for()
        shot(page, "loop-1-resident-report")
        with page.expect_navigation():
            page.get_by_role("button", name="提交反映").click()
        match = re.search(r"/cases/h5/cases/(\d+)/", page.url)
        assert match, page.url
        case_url = f"{base}/cases/{match.group(1)}/"
        h5_url = page.url
        assert page.locator("img[src*='/cases/photos/']").count() == 1
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        shot(page, "loop-2-resident-reported")

        # 2. The community worker finds it in the queue and whistles to the department on the duty list.
        staff = desk_page("in_community_worker")
        staff.goto(base + "/cases/queue/")
        staff.get_by_text("小区北门外路面有一个大坑").first.wait_for()
        staff.goto(case_url)
        _staff_step(staff, "吹哨")
        assert "已吹哨派遣" in staff.content()
        shot(staff, "loop-3-community-whistled")

        # 3. The department reports in, starts and answers with a photo.
        staff = desk_page("in_department_officer")
        staff.goto(base + "/cases/inbox/")
        staff.get_by_text("小区北门外路面有一个大坑").first.wait_for()
        shot(staff, "loop-4-department-inbox")
        staff.goto(case_url)
        _staff_step(staff, "报到")
        _staff_step(staff, "开始处置")
        _staff_step(staff, "办结反馈", fill={"办理结果": "已用沥青修补，路面平整"}, photo=_jpeg((40, 40, 160)))
        assert "已办结待核实" in staff.content()

        # 4. The grid worker verifies on site.
        staff = desk_page("in_grid_worker")
        staff.goto(base + "/cases/verify/")
        staff.get_by_text("小区北门外路面有一个大坑").first.wait_for()
        staff.goto(case_url)
        _staff_step(staff, "开始核实")
        _staff_step(staff, "核实通过")
        assert "已结案" in staff.content()
        shot(staff, "loop-5-grid-verified")

        # 5. The resident is told (我的消息), follows the message to the case, sees the whole timeline, rates.
        page.get_by_role("link", name=re.compile("消息")).click()
        page.get_by_text("您反映的问题已办结，请评价").wait_for()
        with page.expect_navigation():
            page.get_by_role("link", name="查看详情").first.click()
        assert page.url == h5_url
        page.get_by_text("满意", exact=True).click()
        with page.expect_navigation():
            page.get_by_role("button", name="提交评价").click()
        timeline = page.locator("body").inner_text()
        for step in ("吹哨", "报到", "已用沥青修补", "核实", "满意"):
            assert step in timeline, step
        assert page.locator("img[src*='/cases/photos/']").count() == 2  # the report's and the answer's
        assert "in_department_officer" not in page.content()  # residents see departments, not staff logins
        shot(page, "loop-6-resident-rated")
    finally:
        phone.close()
        for context in desks:
            context.close()
