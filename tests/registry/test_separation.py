"""人户分离 lists and counts per grid, from Residence rows and Person.separation."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from grassroots.accounts.models import Role
from grassroots.accounts.scopes import scope_for
from grassroots.audit.services import actor_of
from grassroots.core.errors import NotFound
from grassroots.core.ids import make_id_number
from grassroots.registry import selectors
from grassroots.registry.models import Residence, ResidenceKind, Separation
from grassroots.registry.services import person_refresh_separation
from tests.registry.conftest import create, login

pytestmark = pytest.mark.django_db


def _reside(person, registered, actual):  # type: ignore[no-untyped-def]
    for kind, place in ((ResidenceKind.REGISTERED, registered), (ResidenceKind.RESIDENT, actual)):
        if isinstance(place, str):
            Residence.objects.create(person=person, kind=kind, address=place, path="")
        else:
            Residence.objects.create(person=person, kind=kind, dwelling=place, path=place.path)
    return person_refresh_separation(person=person)


@pytest.fixture
def split(tree, people):  # type: ignore[no-untyped-def]
    d1, d3 = people.zhang.dwelling, people.li.dwelling
    assert _reside(people.zhang, d1, d1) == Separation.NONE
    assert _reside(people.wang, "安徽省某县", d1) == Separation.LIVES_HERE_REGISTERED_ELSEWHERE
    assert _reside(people.li, d1, d3) == Separation.LIVES_HERE_REGISTERED_ELSEWHERE
    away = create(d1, "赵外出", make_id_number("320583", date(1990, 1, 1), 21, "M"))
    assert _reside(away, d1, "上海市某区") == Separation.REGISTERED_HERE_LIVES_ELSEWHERE
    return away


def test_separation_between_two_outside_places_is_none(tree, people):
    assert _reside(people.zhang, "安徽省某县", "上海市某区") == Separation.NONE


def test_grid_lists(tree, people, split):
    worker = tree.users[Role.GRID_WORKER]
    lists = selectors.grid_separation(actor=actor_of(worker), scope=scope_for(worker, "registry.view"), grid=tree.grid1)
    assert [h.row.person for h in lists.lives_here] == [people.wang]
    assert lists.lives_here[0].registered.address == "安徽省某县"
    away = {a.person: a for a in lists.registered_away}
    assert set(away) == {people.li, split}
    assert not away[people.li].visible and not away[people.li].actual_in_scope  # 李四 lives in 城南社区
    assert away[split].visible and away[split].actual.address == "上海市某区"
    grid3 = selectors.grid_separation(
        actor=actor_of(worker), scope=scope_for(tree.users[Role.ADMIN], "registry.view"), grid=tree.grid3
    )
    assert [h.row.person for h in grid3.lives_here] == [people.li] and grid3.registered_away == []


def test_counts_per_grid(tree, people, split):
    dispatcher = tree.users[Role.SUBDISTRICT_DISPATCHER]
    counts = selectors.separation_counts(scope=scope_for(dispatcher, "registry.view"), area=tree.yushan)
    by_grid = {c.grid.name: (c.lives_here, c.registered_away) for c in counts}
    assert by_grid == {"网格一": (1, 2), "网格二": (0, 0), "网格三": (1, 0)}
    with pytest.raises(NotFound):
        selectors.separation_counts(
            scope=scope_for(tree.outsiders[Role.SUBDISTRICT_DISPATCHER], "registry.view"), area=tree.yushan
        )


def test_pages(tree, people, split):
    community = login(tree.users[Role.COMMUNITY_WORKER])
    page = community.get(reverse("registry:separation")).content.decode()
    assert "网格一" in page and "网格三" not in page
    grid_page = community.get(reverse("registry:grid_separation", args=[tree.grid1.pk])).content.decode()
    assert "王芳" in grid_page and "安徽省某县" in grid_page and "赵外出" in grid_page and "上海市某区" in grid_page
    assert "本市其他网格" in grid_page  # 李四's home lies outside 城北社区
    grid_worker = login(tree.users[Role.GRID_WORKER])
    assert grid_worker.get(reverse("registry:separation")).status_code == 302
    outsider = login(tree.outsiders[Role.COMMUNITY_WORKER])
    assert outsider.get(reverse("registry:grid_separation", args=[tree.grid1.pk])).status_code == 404
    assert login(tree.users[Role.PARTY_SECRETARY]).get(reverse("registry:separation")).status_code == 403


def test_counts_page_query_count(tree, people, split, django_assert_max_num_queries):
    client = login(tree.users[Role.SUBDISTRICT_DISPATCHER])
    with django_assert_max_num_queries(16):
        assert client.get(reverse("registry:separation")).status_code == 200
