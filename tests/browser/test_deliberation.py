"""A proposal goes from a resident's phone to a decided, done and reviewed action, in headless Chromium.

A resident proposes a topic with a photo at 390 px → three neighbours support it on their phones
and the third support reaches 城北社区's threshold (3) → a community worker at a desk holds a
民生会客厅: agenda, invitees, attendance, minutes, a decision with votes, one action completed →
the resident reviews the outcome and sees the whole history.
"""

from __future__ import annotations

import io
import re

import pytest

from tests.browser.conftest import log_in, shot

pytestmark = pytest.mark.browser

SEED = """
import django
django.setup()
from grassroots.accounts import services as accounts
from grassroots.accounts.models import Role
from grassroots.audit.services import SYSTEM
from grassroots.engage import services as engage
from tests.factories import PASSWORD, add_personas, build_tree
tree = build_tree()
add_personas(tree)
engage.setting_save(actor=tree.users[Role.ADMIN], area=tree.chengbei, support_threshold=3, review_days=7)
for i in range(3):
    accounts.user_create(
        actor=SYSTEM, username=f"neighbour{i}", password=PASSWORD, role=Role.RESIDENT, area=tree.chengbei
    )
"""
PHONE = {"viewport": {"width": 390, "height": 844}, "locale": "zh-CN", "is_mobile": True}
TITLE = "3幢北侧增设电动车充电棚"


def _jpeg() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (320, 240), (40, 120, 60)).save(out, "JPEG")
    return out.getvalue()


def _fits(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_a_topic_goes_from_a_phone_to_a_reviewed_action(browser, live_server_url: str) -> None:
    base = live_server_url
    contexts: list = []

    def new_page(username: str, **options):
        contexts.append(
            browser.new_context(**(options or {"viewport": {"width": 1280, "height": 900}, "locale": "zh-CN"}))
        )
        page = contexts[-1].new_page()
        log_in(page, base, username)
        return page

    try:
        # 1. The resident proposes on the phone, with a photo and a place.
        phone = new_page("in_resident", **PHONE)
        phone.goto(base + "/engage/h5/topics/new/")
        phone.get_by_label("议题").fill(TITLE)
        phone.get_by_label("详细说明").fill("楼道里给电动车充电有火灾隐患，建议在3幢北侧空地建一个充电棚。")
        phone.get_by_label("所在网格").select_option(label="网格一")
        phone.get_by_label("楼栋").select_option(label="阳光花园1幢")
        phone.get_by_label("具体地点").fill("1幢北侧空地")
        phone.locator("#id_photos").set_input_files(
            files=[{"name": "IMG_0002.jpg", "mimeType": "image/jpeg", "buffer": _jpeg()}]
        )
        _fits(phone)
        shot(phone, "deliberation-1-resident-propose")
        with phone.expect_navigation():
            phone.get_by_role("button", name="提交议题").click()
        assert re.search(r"/engage/h5/topics/\d+/$", phone.url), phone.url
        topic_url = phone.url
        topic_id = topic_url.rstrip("/").rsplit("/", 1)[1]
        assert "征集附议" in phone.content()
        assert phone.locator("img[src*='/engage/photos/']").count() == 1
        _fits(phone)
        shot(phone, "deliberation-2-resident-proposed")

        # 2. Three neighbours support it on their phones; the third reaches the threshold.
        for i in range(3):
            neighbour = new_page(f"neighbour{i}", **PHONE)
            neighbour.goto(base + "/engage/h5/topics/")
            with neighbour.expect_navigation():
                neighbour.get_by_role("link", name=re.compile(TITLE)).click()
            with neighbour.expect_navigation():
                neighbour.get_by_role("button", name="我也支持（附议）").click()
            assert "已附议" in neighbour.content()
        shot(neighbour, "deliberation-3-neighbour-supported")
        assert "议事中" in neighbour.content()

        # 3. The community worker holds a meeting at a desk.
        desk = new_page("in_community_worker")
        desk.goto(base + "/engage/topics/")
        desk.get_by_role("link", name=TITLE).wait_for()
        shot(desk, "deliberation-4-worker-topics")
        desk.goto(base + "/engage/meetings/")
        form = desk.locator("form[aria-label='召开议事会议']")
        form.get_by_label("区域").select_option(label="城北社区")
        form.get_by_label("会议形式").select_option(label="民生会客厅")
        form.get_by_label("会议名称").fill("城北社区民生会客厅（12月）")
        form.get_by_label("会议时间").fill("2026-12-01T19:00")
        form.get_by_label("会议地点").fill("社区党群服务中心二楼")
        with desk.expect_navigation():
            form.get_by_role("button", name="创建会议").click()
        desk.get_by_label("议事中的议题").select_option(label=f"{TITLE}（附议 3）")
        with desk.expect_navigation():
            desk.get_by_role("button", name="列入议程").click()
        invite = desk.locator("form[aria-label='邀请参会']")
        for i in range(3):
            invite = desk.locator("form[aria-label='邀请参会']")
            invite.get_by_label("姓名").fill(f"居民代表{i + 1}")
            invite.get_by_label("身份").fill("居民代表")
            invite.get_by_label("平台账号").fill(f"neighbour{i}")
            with desk.expect_navigation():
                invite.get_by_role("button", name="添加").click()
        for box in desk.locator("input[name='present']").all():
            box.check()
        with desk.expect_navigation():
            desk.get_by_role("button", name="记录到会").click()
        assert "已记录到会 3 人" in desk.content()
        desk.get_by_label("会议纪要").fill("与会居民一致同意建设充电棚，由社区牵头、物业实施。")
        with desk.expect_navigation():
            desk.get_by_role("button", name="保存纪要").click()
        vote = desk.locator("form[aria-label='表决']")
        vote.get_by_label("决定事项").fill("在3幢北侧空地建设电动车充电棚，年底前完工。")
        vote.get_by_label("赞成").fill("3")
        vote.get_by_label("反对").fill("0")
        vote.get_by_label("弃权").fill("0")
        shot(desk, "deliberation-5-worker-meeting")
        with desk.expect_navigation():
            vote.get_by_role("button", name="记录表决结果").click()
        assert desk.url.endswith(f"/engage/topics/{topic_id}/")
        assert "表决通过" in desk.content()

        # 4. One action, then its completion.
        action = desk.locator("form[aria-label='添加办理事项']")
        action.get_by_label("办理方式").select_option(label="一般事项")
        action.get_by_label("办理事项").fill("建设充电棚")
        action.get_by_label("责任人/单位").fill("阳光花园物业")
        action.get_by_label("完成时限").fill("2026-12-31")
        with desk.expect_navigation():
            action.get_by_role("button", name="添加办理事项").click()
        assert "办理中" in desk.content()
        desk.get_by_label("进度(%)").fill("100")
        desk.get_by_label("进展说明").fill("充电棚已建成并通电")
        with desk.expect_navigation():
            desk.get_by_role("button", name="更新").click()
        assert "评议中" in desk.content()
        shot(desk, "deliberation-6-worker-action-done")

        # 5. The resident reviews the outcome on the phone and sees the whole history.
        phone.goto(topic_url)
        phone.get_by_text("满意", exact=True).click()
        phone.get_by_label("意见建议").fill("充电方便多了，谢谢！")
        with phone.expect_navigation():
            phone.get_by_role("button", name="提交评议").click()
        text = phone.locator("body").inner_text()
        for step in (
            "提出议题",
            "附议达到门槛",
            "列入会议议程",
            "会议表决通过",
            "建设充电棚",
            "办事完成",
            "评议：满意",
        ):
            assert step in text, step
        _fits(phone)
        shot(phone, "deliberation-7-resident-reviewed")
    finally:
        for context in contexts:
            context.close()
