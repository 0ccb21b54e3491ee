"""The mobilisation pages: start, roster (htmx fragment), end, drills, and the phone link."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from grassroots.accounts.models import Role
from grassroots.places.models import AreaMode
from grassroots.volunteers.models import Audience, Mobilisation, MobilisationMode, Recipient
from grassroots.volunteers.services import mobilisation as svc
from tests.volunteers.test_mobilisation import add_forces, start, token_of

pytestmark = pytest.mark.django_db


def login(client, user):
    client.force_login(user)
    return client


def test_leader_starts_and_watches_the_roster(client, tree, django_capture_on_commit_callbacks):
    add_forces(tree)
    login(client, tree.users[Role.COMMUNITY_WORKER])
    page = client.get(reverse("volunteers:mobilisation_start"))
    assert page.status_code == 200 and "立即动员" in page.content.decode()
    options = re.findall(r'<option value="(\d+)"', page.content.decode())
    assert str(tree.chengbei.pk) in options and str(tree.chengnan.pk) not in options
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(
            reverse("volunteers:mobilisation_start"),
            {
                "area": tree.chengbei.pk,
                "audiences": [Audience.VOLUNTEERS, Audience.BUILDING_HEADS],
                "mode": MobilisationMode.EMERGENCY,
                "title": "防汛",
                "message": "请到社区集合",
                "assembly_point": "党群服务中心",
                "assemble_by": "2026-12-01T08:30",
            },
        )
    mob = Mobilisation.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "volunteers:mobilisation_detail", args=[mob.pk]
    )
    tree.grid1.refresh_from_db()
    assert tree.grid1.mode == AreaMode.EMERGENCY
    svc.mobilisation_fanout(mobilisation_id=mob.pk)
    detail = client.get(response["Location"]).content.decode()
    assert 'hx-trigger="every 5s"' in detail and "网格一" in detail
    fragment = client.get(reverse("volunteers:mobilisation_roster", args=[mob.pk])).content.decode()
    assert fragment.startswith('<section id="mob-roster"') and "未响应人员（2）" in fragment
    assert client.get(reverse("volunteers:mobilisation_index")).status_code == 200
    ended = client.post(reverse("volunteers:mobilisation_end", args=[mob.pk]))
    assert ended.status_code == 302
    tree.grid1.refresh_from_db()
    assert tree.grid1.mode == AreaMode.NORMAL
    after = client.get(reverse("volunteers:mobilisation_detail", args=[mob.pk])).content.decode()
    assert "hx-trigger" not in after and "已结束" in after


def test_pages_refuse_outside_scope_and_role(client, tree):
    add_forces(tree)
    mob = start(tree, area=tree.chengbei)
    login(client, tree.outsiders[Role.COMMUNITY_WORKER])  # 城南社区
    assert client.get(reverse("volunteers:mobilisation_detail", args=[mob.pk])).status_code == 404
    assert client.get(reverse("volunteers:mobilisation_roster", args=[mob.pk])).status_code == 404
    assert client.post(reverse("volunteers:mobilisation_end", args=[mob.pk])).status_code == 404
    posted = client.post(
        reverse("volunteers:mobilisation_start"),
        {"area": tree.chengbei.pk, "audiences": ["volunteers"], "mode": "normal", "title": "x", "message": "y"},
    )
    assert posted.status_code == 200 and "area" in posted.context["form"].errors
    login(client, tree.users[Role.GRID_WORKER])
    assert client.get(reverse("volunteers:mobilisation_start")).status_code == 403
    assert client.get(reverse("volunteers:mobilisation_detail", args=[mob.pk])).status_code == 403
    client.logout()
    assert client.get(reverse("volunteers:mobilisation_index")).status_code == 302  # to the login page
    assert Mobilisation.objects.count() == 1


def test_link_acknowledge_arrive_decline(client, tree):
    f = add_forces(tree)
    mob = start(tree)
    svc.mobilisation_fanout(mobilisation_id=mob.pk)
    vol = Recipient.objects.get(mobilisation=mob, person=f.people["vol"])
    url = reverse("volunteers:mobilisation_link", args=[token_of(vol)])
    page = client.get(url)
    body = page.content.decode()
    assert page.status_code == 200 and "防汛集合" in body and "城北社区党群服务中心" in body
    assert "收到，马上到" in body and "无法参加" in body and page["Referrer-Policy"] == "same-origin"
    assert client.post(url, {"answer": "acknowledge"}).status_code == 302
    assert client.post(url, {"answer": "acknowledge"}).status_code == 302  # idempotent
    body = client.get(url).content.decode()
    assert "已确认" in body and "已到达" in body
    client.post(url, {"answer": "arrive"})
    vol.refresh_from_db()
    assert vol.acknowledged_at and vol.arrived_at and not vol.declined
    assert "已到达（" in client.get(url).content.decode()
    other = Recipient.objects.get(mobilisation=mob, person=f.people["member"])
    other_url = reverse("volunteers:mobilisation_link", args=[token_of(other)])
    client.post(other_url, {"answer": "decline", "reason": "值班"})
    other.refresh_from_db()
    assert other.declined
    assert client.get(reverse("volunteers:mobilisation_link", args=["not-a-token"])).status_code == 404
    svc.mobilisation_end(actor=tree.users[Role.COMMUNITY_WORKER], mobilisation=mob)
    ended = client.get(url).content.decode()
    assert "本次动员已结束" in ended and "收到，马上到" not in ended
    refused = client.post(other_url, {"answer": "acknowledge"})
    assert refused.status_code == 400 and "已结束" in refused.content.decode()


def test_drills_page(client, tree):
    add_forces(tree)
    drill = start(tree, mode=MobilisationMode.DRILL, title="秋季消防演练")
    svc.mobilisation_fanout(mobilisation_id=drill.pk)
    r = Recipient.objects.filter(mobilisation=drill).first()
    svc.recipient_answer(token=token_of(r), answer="acknowledge")
    start(tree, title="日常动员")
    login(client, tree.users[Role.SUBDISTRICT_DISPATCHER])
    body = client.get(reverse("volunteers:mobilisation_drills")).content.decode()
    assert "秋季消防演练" in body and "日常动员" not in body and "确认用时 中位" in body
    detail = client.get(reverse("volunteers:mobilisation_detail", args=[drill.pk])).content.decode()
    assert "演练响应时间" in detail
