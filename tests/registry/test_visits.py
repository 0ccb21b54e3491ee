"""Household visits: facts updated with history and audit, all or nothing, Chinese messages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from grassroots.accounts.models import Role
from grassroots.accounts.scopes import scope_for
from grassroots.audit.models import AuditEntry
from grassroots.audit.services import actor_of
from grassroots.core.errors import DomainError, NotFound
from grassroots.registry.models import PersonChange, Residence, ResidenceKind, Separation, Visit
from grassroots.registry.services import MemberUpdate, visit_record
from tests.registry.conftest import PHONE_ZHANG, login

pytestmark = pytest.mark.django_db


def _visit(user, dwelling, changes=(), **kw):  # type: ignore[no-untyped-def]
    args = {
        "actor": actor_of(user),
        "scope": scope_for(user, "registry.visit"),
        "dwelling": dwelling,
        "visited_at": timezone.now() - timedelta(hours=1),
        "nobody_home": False,
        "notes": "家中整洁",
        "findings": ["safety_hazard"],
        "changes": list(changes),
    }
    return visit_record(**{**args, **kw})


def test_visit_updates_phone_and_tags_with_history(tree, people):
    worker = tree.users[Role.GRID_WORKER]
    visit = _visit(
        worker,
        people.zhang.dwelling,
        [MemberUpdate(people.zhang.pk, phone="13700001111", tags_add=frozenset({"living_alone"}))],
    )
    people.zhang.refresh_from_db()
    assert people.zhang.phone_masked == "137****1111"
    assert {t.code for t in people.zhang.tags.all()} == {"living_alone"}
    changes = {c.field: c for c in PersonChange.objects.filter(visit=visit)}
    assert set(changes) == {"phone", "tag:living_alone"}
    assert (changes["phone"].before, changes["phone"].after) == ("138****0011", "137****1111")
    assert all(c.origin == "visit" and c.actor_id == worker.pk for c in changes.values())
    actions = list(AuditEntry.objects.order_by("-seq").values_list("action", flat=True)[:3])
    assert sorted(actions) == ["registry.person.update", "registry.person.update", "registry.visit.record"]
    assert PHONE_ZHANG not in str(list(AuditEntry.objects.values_list("detail", flat=True)))


def test_moved_out_closes_the_residence_and_marks_separation(tree, people):
    d = people.zhang.dwelling
    Residence.objects.create(person=people.zhang, kind=ResidenceKind.REGISTERED, dwelling=d, path=d.path)
    Residence.objects.create(person=people.zhang, kind=ResidenceKind.RESIDENT, dwelling=d, path=d.path)
    _visit(tree.users[Role.GRID_WORKER], d, [MemberUpdate(people.zhang.pk, moved_out_to="上海市闵行区某路1号")])
    people.zhang.refresh_from_db()
    assert people.zhang.separation == Separation.REGISTERED_HERE_LIVES_ELSEWHERE
    assert people.zhang.dwelling_id is None and people.zhang.path == d.path
    current = Residence.objects.get(person=people.zhang, kind=ResidenceKind.RESIDENT, until__isnull=True)
    assert current.address == "上海市闵行区某路1号"
    assert Residence.objects.filter(person=people.zhang, until__isnull=False).count() == 1


@pytest.mark.parametrize(
    ("kwargs", "changes", "message"),
    [
        ({"visited_at": timezone.now() + timedelta(days=1)}, [], "走访时间不能晚于当前时间。"),
        ({"findings": ["ufo"]}, [], "未知的排查发现"),
        ({"notes": "字" * 2001}, [], "走访记录不能超过2000字。"),
        ({"nobody_home": True}, [{"phone": "13700001111"}], "无人在家时不能更新住户信息。"),
        ({}, [{"phone": "12345"}], "张三：手机号“12345”格式不正确"),
        ({}, [{"tags_add": frozenset({"elderly_60"})}], "由出生日期自动计算"),
        ({}, [{"tags_add": frozenset({"low_income"})}], "无权修改"),
        ({}, [{"tags_add": frozenset({"nope"})}], "未知的标签"),
    ],
)
def test_bad_input_saves_nothing(tree, people, kwargs, changes, message):
    start = (Visit.objects.count(), PersonChange.objects.count(), AuditEntry.objects.count())
    updates = [MemberUpdate(people.zhang.pk, **c) for c in changes]
    with pytest.raises(DomainError, match=message):
        _visit(tree.users[Role.GRID_WORKER], people.zhang.dwelling, updates, **kwargs)
    assert (Visit.objects.count(), PersonChange.objects.count(), AuditEntry.objects.count()) == start
    people.zhang.refresh_from_db()
    assert people.zhang.phone_masked == "138****0011"


def test_a_later_bad_member_rolls_back_an_earlier_good_one(tree, people):
    with pytest.raises(DomainError):
        _visit(
            tree.users[Role.GRID_WORKER],
            people.zhang.dwelling,
            [MemberUpdate(people.zhang.pk, phone="13700001111"), MemberUpdate(people.li.pk, phone="13700002222")],
        )
    people.zhang.refresh_from_db()
    assert people.zhang.phone_masked == "138****0011" and not Visit.objects.exists()


def test_outsider_cannot_visit(tree, people):
    with pytest.raises(NotFound):
        _visit(tree.outsiders[Role.GRID_WORKER], people.zhang.dwelling)


def test_visit_page_flow_and_history(tree, people):
    client = login(tree.users[Role.GRID_WORKER])
    d = people.zhang.dwelling
    page = client.get(reverse("registry:visit", args=[d.pk]))
    assert page.status_code == 200 and "张三" in page.content.decode() and "低保" not in page.content.decode()
    when = (timezone.localtime() - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    bad = client.post(reverse("registry:visit", args=[d.pk]), {"visited_at": when, f"m{people.zhang.pk}-phone": "1"})
    assert bad.status_code == 400 and "格式不正确" in bad.content.decode() and not Visit.objects.exists()
    ok = client.post(
        reverse("registry:visit", args=[d.pk]),
        {
            "visited_at": when,
            "findings": ["dispute", "hardship"],
            "notes": "邻里噪音纠纷",
            f"m{people.zhang.pk}-phone": "13700001111",
            f"m{people.wang.pk}-tag-living_alone": "on",
        },
    )
    assert ok.status_code == 302
    visit = Visit.objects.get()
    assert visit.findings == ["dispute", "hardship"] and visit.household_id == people.zhang.household_id
    person_page = client.get(reverse("registry:person", args=[people.zhang.pk])).content.decode()
    assert "137****1111" in person_page and "矛盾纠纷" in person_page and "邻里噪音纠纷" in person_page
    assert "13700001111" not in person_page
    wang_page = client.get(reverse("registry:person", args=[people.wang.pk])).content.decode()
    assert "独居" in wang_page and "走访" in wang_page


def test_visit_page_needs_the_capability(tree, people):
    d = people.zhang.dwelling
    assert login(tree.users[Role.SUBDISTRICT_DISPATCHER]).get(reverse("registry:visit", args=[d.pk])).status_code == 403
    assert login(tree.outsiders[Role.GRID_WORKER]).get(reverse("registry:visit", args=[d.pk])).status_code == 404


def test_a_refused_visit_form_comes_back_with_what_was_typed(tree, people):
    client = login(tree.users[Role.GRID_WORKER])
    d = people.zhang.dwelling
    when = (timezone.localtime() - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    z, w = people.zhang.pk, people.wang.pk
    page = client.post(
        reverse("registry:visit", args=[d.pk]),
        {
            "visited_at": when,
            "notes": "复查",
            f"m{z}-phone": "1",  # refused: not a mobile number
            f"m{w}-tag-living_alone": "on",
            f"m{w}-moved": "on",
            f"m{w}-moved_to": "上海市闵行区某路1号",
        },
    )
    html = page.content.decode()
    assert page.status_code == 400 and not Visit.objects.exists()
    assert f'name="m{z}-phone" inputmode="tel" maxlength="20" autocomplete="off" value="1"' in html
    assert f'name="m{w}-tag-living_alone" checked' in html and f'name="m{w}-moved" checked' in html
    assert 'value="上海市闵行区某路1号"' in html and "复查" in html
