"""Community admission lists: district lines, subdistrict overrides, answers with the rule, scope."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from grassroots.accounts.models import Role
from grassroots.core.errors import DomainError, NotFound
from grassroots.engage.models import AdmissionItem
from grassroots.engage.selectors import guide as reads
from grassroots.engage.services import admission as service
from tests.factories import Tree

pytestmark = pytest.mark.django_db

RESIDENCE_RULE = "《昆山市社区工作准入清单》第12项：居住证明由社区出具。"
KINSHIP_RULE = "国办发〔2018〕47号：亲属关系证明不属于社区职责，由公安机关或公证机构办理。"


@pytest.fixture
def lists(tree: Tree) -> Tree:
    admin = tree.users[Role.ADMIN]
    save = service.admission_save
    save(actor=admin, area=tree.district, kind="certificate", name="居住证明", allowed=True, basis=RESIDENCE_RULE)
    save(actor=admin, area=tree.district, kind="certificate", name="亲属关系证明", allowed=False, basis=KINSHIP_RULE)
    save(actor=admin, area=tree.district, kind="plaque", name="食品安全工作站", allowed=False, basis="不得挂牌")
    save(actor=admin, area=tree.district, kind="duty", name="人口信息采集", allowed=True, basis="清单第3项")
    # 玉山镇 (above 城北社区) refuses 居住证明 for its communities; 周市镇 keeps the district's line.
    save(
        actor=tree.users[Role.SUBDISTRICT_DISPATCHER],
        area=tree.yushan,
        kind="certificate",
        name="居住证明",
        allowed=False,
        basis="玉山镇：居住证明改由派出所出具。",
    )
    return tree


def test_allowed_refused_with_the_rule(lists: Tree) -> None:
    answer = reads.admission_answer(lists.zhoushi_c, kind="certificate", name="居住证明")
    assert (answer.verdict, answer.label, answer.rule) == ("allowed", "允许", RESIDENCE_RULE)
    answer = reads.admission_answer(lists.zhoushi_c, kind="certificate", name=" 亲属关系 证明 ")
    assert (answer.label, answer.rule) == ("不允许", KINSHIP_RULE)
    answer = reads.admission_answer(lists.chengbei, kind="plaque", name="食品安全工作站")
    assert answer.label == "不允许"


def test_a_subdistrict_overrides_the_district(lists: Tree) -> None:
    answer = reads.admission_answer(lists.chengbei, kind="certificate", name="居住证明")
    assert (answer.label, answer.rule, answer.overridden) == ("不允许", "玉山镇：居住证明改由派出所出具。", True)
    assert reads.admission_answer(lists.zhoushi_c, kind="certificate", name="居住证明").overridden is False
    items = reads.effective_items(lists.chengbei, kind="certificate")
    assert [(i.name, i.allowed, i.area.name) for i in items] == [
        ("亲属关系证明", False, "昆山市"),
        ("居住证明", False, "玉山镇"),
    ]


def test_unlisted_says_ask_the_subdistrict(lists: Tree) -> None:
    answer = reads.admission_answer(lists.chengbei, kind="certificate", name="无犯罪记录证明")
    assert answer.label == "未列入清单"
    assert "街道" in answer.rule
    assert answer.item is None
    # a different kind with the same name is not an answer
    assert reads.admission_answer(lists.chengbei, kind="duty", name="居住证明").label == "未列入清单"
    similar = reads.admission_answer(lists.chengbei, kind="certificate", name="亲属关系")
    assert [i.name for i in similar.similar] == ["亲属关系证明"]
    with pytest.raises(NotFound):
        reads.admission_answer(lists.chengbei, kind="nonsense", name="x")


def test_search_by_name(lists: Tree) -> None:
    assert [i.name for i in reads.effective_items(lists.chengbei, q="证明")] == ["亲属关系证明", "居住证明"]
    staff = reads.staff_items(lists.users[Role.COMMUNITY_WORKER], q="食品")
    assert [i.name for i in staff] == ["食品安全工作站"]
    # 城南社区 staff of another subdistrict do not see 玉山镇's override
    outsider = lists.outsiders[Role.SUBDISTRICT_DISPATCHER]  # 周市镇
    assert not reads.staff_items(outsider).filter(area=lists.yushan).exists()
    assert reads.staff_items(outsider).filter(area=lists.district).count() == 4


def test_who_may_edit_which_list(lists: Tree) -> None:
    worker = lists.users[Role.COMMUNITY_WORKER]
    with pytest.raises(NotFound):  # a community does not write its own admission list
        service.admission_save(actor=worker, area=lists.district, kind="duty", name="x", allowed=True, basis="y")
    with pytest.raises(NotFound):  # 周市镇 cannot change 玉山镇's list
        service.admission_save(
            actor=lists.outsiders[Role.SUBDISTRICT_DISPATCHER], area=lists.yushan, kind="duty", name="x",
            allowed=True, basis="y",
        )  # fmt: skip
    admin = lists.users[Role.ADMIN]
    with pytest.raises(DomainError, match="区或街道"):
        service.admission_save(actor=admin, area=lists.chengbei, kind="duty", name="x", allowed=True, basis="y")
    with pytest.raises(DomainError, match="依据"):
        service.admission_save(actor=admin, area=lists.district, kind="duty", name="x", allowed=True, basis=" ")
    with pytest.raises(DomainError, match="已有"):
        service.admission_save(
            actor=admin, area=lists.district, kind="certificate", name="居住证明", allowed=True, basis="y"
        )
    item = AdmissionItem.objects.get(area=lists.district, name="亲属关系证明")
    service.admission_save(
        actor=admin, area=lists.district, kind="certificate", name="亲属关系证明", allowed=True, basis="新规定",
        item_id=item.pk,
    )  # fmt: skip
    assert reads.admission_answer(lists.zhoushi_c, kind="certificate", name="亲属关系证明").label == "允许"
    override = AdmissionItem.objects.get(area=lists.yushan)
    service.admission_delete(actor=lists.users[Role.SUBDISTRICT_DISPATCHER], item_id=override.pk)
    assert reads.admission_answer(lists.chengbei, kind="certificate", name="居住证明").label == "允许"


# --- pages -----------------------------------------------------------------------------------


def client_for(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def test_residents_ask_about_their_community(lists: Tree) -> None:
    resident = client_for(lists.users[Role.RESIDENT])
    page = resident.get(reverse("engage:h5_admission"), {"kind": "certificate", "name": "亲属关系证明"})
    assert page.status_code == 200
    assert "不允许" in page.content.decode() and "国办发" in page.content.decode()
    page = resident.get(reverse("engage:h5_admission"), {"kind": "certificate", "name": "出生证明"})
    assert "未列入清单" in page.content.decode() and "街道" in page.content.decode()
    assert client_for(lists.users[Role.GRID_WORKER]).get(reverse("engage:h5_admission")).status_code == 403


def test_staff_list_pages(lists: Tree) -> None:
    url = reverse("engage:admission")
    assert client_for(lists.users[Role.RESIDENT]).get(url).status_code == 403
    assert client_for(lists.users[Role.DEPARTMENT_OFFICER]).get(url).status_code == 403
    worker = client_for(lists.users[Role.COMMUNITY_WORKER])
    page = worker.get(url, {"q": "证明"})
    assert page.status_code == 200 and "亲属关系证明" in page.content.decode()
    data = {"area": lists.yushan.pk, "kind": "plaque", "name": "关工委", "allowed": "1", "basis": "清单第9项"}
    assert worker.post(url, data).status_code == 403  # a community does not write the list
    dispatcher = client_for(lists.users[Role.SUBDISTRICT_DISPATCHER])
    assert dispatcher.post(url, data).status_code == 302
    item = AdmissionItem.objects.get(name="关工委")
    assert worker.get(reverse("engage:admission_item", args=[item.pk])).status_code == 404
    assert dispatcher.get(reverse("engage:admission_item", args=[item.pk])).status_code == 200
    ask = worker.get(
        reverse("engage:admission_ask"), {"community": lists.chengbei.pk, "kind": "certificate", "name": "居住证明"}
    )
    assert "不允许" in ask.content.decode() and "派出所" in ask.content.decode()
    assert worker.get(reverse("engage:admission_ask"), {"community": lists.chengnan.pk}).status_code == 404
