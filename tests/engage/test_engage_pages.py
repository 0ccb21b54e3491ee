"""The engage pages: capability first (403), out of scope 404, the loop through the pages, query counts."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image

from grassroots.accounts.models import Role
from grassroots.core import clock
from grassroots.engage import services
from grassroots.engage.models import Notice, Topic, TopicPhoto
from grassroots.engage.workflow import TopicState
from tests.engage.conftest import Engage

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


H5_PAGES = ["engage:h5_topics", "engage:h5_propose", "engage:h5_notices"]
STAFF_READ = ["engage:topics", "engage:meetings", "engage:notices"]


@pytest.mark.parametrize("name", H5_PAGES)
def test_h5_pages_are_for_residents(eng: Engage, name: str) -> None:
    assert client_for(eng.resident).get(reverse(name)).status_code == 200
    assert client_for(eng.tree.users[Role.DEPARTMENT_OFFICER]).get(reverse(name)).status_code == 403
    assert Client().get(reverse(name)).status_code == 302  # to the login page


@pytest.mark.parametrize("name", STAFF_READ)
@pytest.mark.parametrize(
    ("role", "status"),
    [(Role.RESIDENT, 403), (Role.DEPARTMENT_OFFICER, 403), (Role.PARTY_SECRETARY, 200), (Role.GRID_WORKER, 200),
     (Role.COMMUNITY_WORKER, 200), (Role.ADMIN, 200)],
)  # fmt: skip
def test_staff_pages_check_the_capability_first(eng: Engage, name: str, role: str, status: int) -> None:
    assert client_for(eng.tree.users[role]).get(reverse(name)).status_code == status


def test_settings_are_for_those_who_run_deliberation(eng: Engage) -> None:
    assert client_for(eng.tree.users[Role.GRID_WORKER]).get(reverse("engage:settings")).status_code == 403
    response = client_for(eng.worker).post(
        reverse("engage:settings"), {"area": eng.tree.grid1.pk, "support_threshold": 5, "review_days": 10}
    )
    assert response.status_code == 302
    assert services.setting_for(eng.tree.grid1) == (5, 10)


def test_topics_of_another_community_are_404(eng: Engage) -> None:
    topic = eng.propose()
    outsider = eng.tree.outsiders[Role.RESIDENT]
    assert client_for(outsider).get(reverse("engage:h5_topic", args=[topic.pk])).status_code == 404
    response = client_for(outsider).post(reverse("engage:h5_topic", args=[topic.pk]), {"op": "support"})
    assert response.status_code == 404
    staff = eng.tree.outsiders[Role.COMMUNITY_WORKER]
    assert client_for(staff).get(reverse("engage:topic", args=[topic.pk])).status_code == 404
    assert client_for(eng.worker).get(reverse("engage:topic", args=[topic.pk])).status_code == 200


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (80, 60), (200, 40, 40)).save(out, "JPEG")
    return out.getvalue()


def test_a_resident_proposes_supports_comments_and_reviews_through_the_pages(eng: Engage) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    page = client_for(eng.resident)
    response = page.post(
        reverse("engage:h5_propose"),
        {
            "title": "增设充电桩",
            "description": "楼道充电危险",
            "grid": eng.tree.grid1.pk,
            "building": "",
            "place_text": "1幢北侧",
            "photos": [SimpleUploadedFile("a.jpg", _jpeg(), "image/jpeg")],
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    topic = Topic.objects.get()
    assert topic.area == eng.tree.grid1 and TopicPhoto.objects.filter(topic=topic).count() == 1
    photo = TopicPhoto.objects.get()
    assert page.get(reverse("engage:photo", args=[photo.pk])).status_code == 200
    assert (
        client_for(eng.tree.outsiders[Role.RESIDENT]).get(reverse("engage:photo", args=[photo.pk])).status_code == 404
    )
    assert page.post(reverse("engage:h5_topic", args=[topic.pk]), {"op": "support"}).status_code == 400  # own topic
    for neighbour in eng.neighbours:
        assert (
            client_for(neighbour).post(reverse("engage:h5_topic", args=[topic.pk]), {"op": "support"}).status_code
            == 302
        )
    assert Topic.objects.get(pk=topic.pk).state == TopicState.discussing
    page.post(reverse("engage:h5_topic", args=[topic.pk]), {"op": "comment", "body": "谢谢大家"})
    eng.decide(Topic.objects.get(pk=topic.pk))
    action = eng.act(topic, deadline=date.today() + timedelta(days=5))
    staff = client_for(eng.worker)
    response = staff.post(
        reverse("engage:topic", args=[topic.pk]), {"op": "progress", "action": action.pk, "progress": 100}
    )
    assert response.status_code == 302
    html = page.get(reverse("engage:h5_topic", args=[topic.pk])).content.decode()
    assert "评议办理结果" in html and "谢谢大家" in html and "会议表决通过" in html
    response = page.post(reverse("engage:h5_topic", args=[topic.pk]), {"op": "review", "rating": "satisfied"})
    assert response.status_code == 302
    assert "您的评议：满意" in page.get(reverse("engage:h5_topic", args=[topic.pk])).content.decode()


def test_staff_hold_a_meeting_through_the_pages(eng: Engage) -> None:
    topic = eng.discuss(eng.propose())
    staff = client_for(eng.worker)
    response = staff.post(
        reverse("engage:meetings"),
        {
            "area": eng.tree.chengbei.pk,
            "kind": "roundtable",
            "title": "圆桌会",
            "starts_at": "2026-12-01T19:00",
            "place": "社区会议室",
        },
    )
    assert response.status_code == 302
    url = response["Location"]
    staff.post(url, {"op": "agenda", "topic": topic.pk})
    for n in eng.neighbours:
        staff.post(url, {"op": "invitee", "name": "", "capacity": "居民代表", "username": n.username})
    meeting = topic.meetings.get()
    ids = list(meeting.invitees.values_list("pk", flat=True))
    staff.post(url, {"op": "attendance", "present": ids[:2]})
    bad = staff.post(
        url,
        {"op": "decision", "topic": topic.pk, "content": "建", "votes_for": 3, "votes_against": 0, "votes_abstain": 0},
    )
    assert bad.status_code == 400 and "超过到会人数 2" in bad.content.decode()
    good = staff.post(
        url,
        {"op": "decision", "topic": topic.pk, "content": "建", "votes_for": 2, "votes_against": 0, "votes_abstain": 0},
    )
    assert good.status_code == 302
    assert Topic.objects.get(pk=topic.pk).state == TopicState.decided
    # a grid worker reads the meeting but may not write to it
    grid_worker = client_for(eng.tree.users[Role.GRID_WORKER])
    assert grid_worker.post(reverse("engage:meetings"), {"kind": "friday"}).status_code == 403


def test_a_notice_page_counts_the_read_once(eng: Engage) -> None:
    notice = services.notice_save(
        actor=eng.worker,
        area=eng.tree.chengbei,
        title="停水",
        body="周三停水",
        kind="outage",
        audience="residents",
        publish=True,
    )
    page = client_for(eng.resident)
    for _ in range(2):
        assert page.get(reverse("engage:h5_notice", args=[notice.pk])).status_code == 200
    assert Notice.objects.get(pk=notice.pk).read_count == 1
    outsider = client_for(eng.tree.outsiders[Role.RESIDENT])
    assert outsider.get(reverse("engage:h5_notice", args=[notice.pk])).status_code == 404
    assert (
        client_for(eng.tree.outsiders[Role.COMMUNITY_WORKER])
        .get(reverse("engage:notice", args=[notice.pk]))
        .status_code
        == 404
    )


def _count(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize(("who", "name"), [("resident", "engage:h5_topics"), ("worker", "engage:topics")])
def test_topic_lists_do_not_grow_with_rows(eng: Engage, who: str, name: str) -> None:
    client = client_for(getattr(eng, who))
    eng.propose("第一件")
    few = _count(client, reverse(name))
    for i in range(8):
        topic = eng.propose(f"议题{i}", area=eng.tree.grid1 if i % 2 else None)
        services.topic_support(actor=eng.neighbours[0], topic_id=topic.pk)
    assert _count(client, reverse(name)) == few


@pytest.mark.parametrize(
    ("who", "name"), [("resident", "engage:h5_notices"), ("worker", "engage:notices"), ("worker", "engage:meetings")]
)
def test_notice_and_meeting_lists_do_not_grow_with_rows(eng: Engage, who: str, name: str) -> None:
    client = client_for(getattr(eng, who))

    def add(i: int) -> None:
        services.notice_save(
            actor=eng.worker,
            area=eng.tree.grid1 if i % 2 else eng.tree.chengbei,
            title=f"公告{i}",
            body="b",
            kind="policy",
            audience="residents",
            publish=True,
        )
        services.meeting_create(
            actor=eng.worker, area=eng.tree.chengbei, kind="friday", title="", starts_at=clock.now()
        )

    add(0)
    few = _count(client, reverse(name))
    for i in range(1, 8):
        add(i)
    assert _count(client, reverse(name)) == few


@pytest.mark.parametrize(
    ("role", "status"),
    [(Role.RESIDENT, 403), (Role.DEPARTMENT_OFFICER, 403), (Role.SUBDISTRICT_DISPATCHER, 403),
     (Role.DISTRICT_LEADER, 403), (Role.GRID_WORKER, 200), (Role.COMMUNITY_WORKER, 200),
     (Role.PARTY_SECRETARY, 200), (Role.ADMIN, 200)],
)  # fmt: skip
def test_who_may_propose_as_staff(eng: Engage, role: str, status: int) -> None:
    assert client_for(eng.tree.users[role]).get(reverse("engage:topic_new")).status_code == status


def test_a_grid_worker_proposes_a_topic_in_their_grid(eng: Engage) -> None:
    worker = eng.tree.users[Role.GRID_WORKER]
    client = client_for(worker)
    page = client.get(reverse("engage:topic_new")).content.decode()
    # Only the places of their scope are offered: their grid, not the neighbouring one.
    assert eng.tree.grid1.name in page and eng.tree.grid2.name not in page
    response = client.post(
        reverse("engage:topic_new"),
        {
            "title": "楼道堆物清理",
            "description": "3号楼楼道长期堆放杂物，有消防隐患，需要居民商量清理办法。",
            "grid": eng.tree.grid1.pk,
            "building": eng.tree.building1.pk,
            "place_text": "3号楼1单元",
        },
    )
    topic = Topic.objects.get(title="楼道堆物清理")
    assert response.status_code == 302 and response["Location"] == reverse("engage:topic", args=[topic.pk])
    assert topic.proposed_by_staff and topic.proposer == worker
    assert topic.area == eng.tree.grid1 and topic.building == eng.tree.building1
    assert topic.state == TopicState.proposed
    assert topic.events.filter(action="propose").count() == 1
    # The community's residents see it on their phones.
    assert client_for(eng.resident).get(reverse("engage:h5_topic", args=[topic.pk])).status_code == 200


def test_staff_proposal_outside_scope_or_incomplete_is_refused(eng: Engage) -> None:
    client = client_for(eng.tree.users[Role.GRID_WORKER])
    before = Topic.objects.count()
    data = {"title": "议题", "description": "内容", "grid": eng.tree.grid2.pk}
    response = client.post(reverse("engage:topic_new"), data)
    assert response.status_code == 400  # grid2 is not offered: a choice error, nothing revealed
    missing = client.post(reverse("engage:topic_new"), {"title": "议题", "description": "内容"})
    assert missing.status_code == 400 and "请选择议题所在的社区或网格" in missing.content.decode()
    assert Topic.objects.count() == before


def test_the_service_refuses_a_staff_role_that_may_not_propose(eng: Engage) -> None:
    from grassroots.core.errors import Forbidden

    with pytest.raises(Forbidden):
        services.topic_propose(
            actor=eng.tree.users[Role.SUBDISTRICT_DISPATCHER], title="议题", description="内容", area=eng.tree.grid1
        )
