"""Estates pages: capability first (403), scope next (404), audited reads, forms, query counts."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from grassroots.accounts.models import Role
from grassroots.audit.models import AuditEntry
from grassroots.audit.services import SYSTEM
from grassroots.estates import services
from grassroots.estates.models import OwnersCommittee, OwnersCommitteeMember
from grassroots.places import services as places
from tests.estates.conftest import ALL, TERM, TODAY, Estate

pytestmark = pytest.mark.django_db


def _client(user) -> Client:  # type: ignore[no-untyped-def]
    c = Client()
    c.force_login(user)
    return c


def _urls(estate: Estate) -> list[str]:
    return [
        reverse("estates:committees"),
        reverse("estates:committee", args=[estate.committee.pk]),
    ]


@pytest.mark.parametrize("role", [Role.RESIDENT, Role.GRID_WORKER, Role.DEPARTMENT_OFFICER])
def test_roles_without_party_view_get_403(estate: Estate, role: str) -> None:
    c = _client(estate.tree.users[role])
    for url in [
        *_urls(estate),
        reverse("estates:committee_create"),
        reverse("estates:member_add", args=[estate.committee.pk]),
    ]:
        assert c.get(url).status_code == 403, url


@pytest.mark.parametrize(
    "role", [Role.COMMUNITY_WORKER, Role.SUBDISTRICT_DISPATCHER, Role.PARTY_SECRETARY, Role.DISTRICT_LEADER, Role.ADMIN]
)
def test_roles_with_party_view_see_their_scope(estate: Estate, role: str) -> None:
    c = _client(estate.tree.users[role])
    page = c.get(reverse("estates:committees"))
    assert page.status_code == 200
    assert "阳光花园第一届业主委员会" in page.content.decode()
    assert c.get(reverse("estates:committee", args=[estate.committee.pk])).status_code == 200


def test_view_only_roles_cannot_manage(estate: Estate) -> None:
    c = _client(estate.tree.users[Role.SUBDISTRICT_DISPATCHER])
    assert c.get(reverse("estates:committee_create")).status_code == 403
    assert c.get(reverse("estates:member_add", args=[estate.committee.pk])).status_code == 403
    url = reverse("estates:committee", args=[estate.committee.pk])
    assert "增加或接替委员" not in c.get(url).content.decode()
    assert c.post(url, {"action": "end", "reason": "x"}).status_code == 403
    estate.committee.refresh_from_db()
    assert estate.committee.is_active


@pytest.mark.parametrize("role", [Role.COMMUNITY_WORKER, Role.PARTY_SECRETARY, Role.SUBDISTRICT_DISPATCHER])
def test_out_of_scope_is_404(estate: Estate, role: str) -> None:
    c = _client(estate.tree.outsiders[role])
    seat = estate.seat("张三")
    assert c.get(reverse("estates:committee", args=[estate.committee.pk])).status_code == 404
    assert c.get(reverse("estates:committees") + f"?area={estate.tree.chengbei.pk}").status_code == 404
    page = c.get(reverse("estates:committees"))
    assert page.status_code == 200 and "阳光花园第一届" not in page.content.decode()
    if role != Role.SUBDISTRICT_DISPATCHER:
        assert c.get(reverse("estates:member_add", args=[estate.committee.pk])).status_code == 404
        url = reverse("estates:committee", args=[estate.committee.pk])
        assert c.post(url, {"action": "end_seat", "seat": seat.pk, "until": "2026-06-01"}).status_code == 404
        seat.refresh_from_db()
        assert seat.until is None


def test_list_flags_committees_not_more_than_half(estate: Estate) -> None:
    estate.seat("党员", party_member=True)
    estate.seat("群众")
    html = _client(estate.tree.users[Role.PARTY_SECRETARY]).get(reverse("estates:committees")).content.decode()
    assert 'class="flagged"' in html and "未过半" in html and "50.0%" in html
    estate.seat("党员乙", party_member=True)
    html = _client(estate.tree.users[Role.PARTY_SECRETARY]).get(reverse("estates:committees")).content.decode()
    assert '<span class="flag">未过半</span>' not in html and "66.7%" in html


def test_committee_page_marks_party_members_masks_ids_and_is_audited(estate: Estate) -> None:
    a = estate.seat("党员甲", party_member=True)
    b = estate.seat("群众乙")
    user = estate.tree.users[Role.PARTY_SECRETARY]
    html = _client(user).get(reverse("estates:committee", args=[estate.committee.pk])).content.decode()
    assert html.count('<span class="party">党员</span>') == 1
    assert a.person.id_number_masked in html
    assert "*" in a.person.id_number_masked
    entry = AuditEntry.objects.filter(action="estates.committee.members.view").latest("seq")
    assert entry.actor_id == user.pk
    assert sorted(entry.detail["ids"]) == sorted([str(a.person_id), str(b.person_id)])


def test_create_committee_add_member_and_end_seat_through_the_pages(estate: Estate) -> None:
    t = estate.tree
    c = _client(t.users[Role.COMMUNITY_WORKER])  # 城北社区
    compound = places.compound_create(actor=SYSTEM, community=t.chengbei, name="幸福里")
    page = c.get(reverse("estates:committees"))
    assert "幸福里" in page.content.decode()  # listed without a committee
    response = c.post(
        reverse("estates:committee_create"),
        {"compound": compound.pk, "name": "幸福里业委会", "term_start": "2026-01-01", "term_end": "2032-01-01"},
    )
    assert response.status_code == 200 and "不超过5年" in response.content.decode()
    response = c.post(
        reverse("estates:committee_create"),
        {"compound": compound.pk, "name": "幸福里业委会", "term_start": "2026-01-01", "term_end": "2030-12-31"},
    )
    committee = OwnersCommittee.objects.get(name="幸福里业委会")
    assert response.status_code == 302 and response.url == reverse("estates:committee", args=[committee.pk])

    person = estate.person("陈九", party_member=True)
    add = reverse("estates:member_add", args=[committee.pk])
    found = c.get(add, {"q": "陈九"}).content.decode()
    assert f"?person={person.pk}" in found
    response = c.post(add + f"?person={person.pk}", {"person": person.pk, "post": "director", "since": "2026-01-01"})
    assert response.status_code == 302
    seat = OwnersCommitteeMember.objects.get(committee=committee)
    assert (seat.person_id, seat.post) == (person.pk, "director")
    # 陈九 lives in 阳光花园, not 幸福里: seated with a warning.
    detail = c.get(response.url).content.decode()
    assert "未登记居住在幸福里" in detail and "100.0%" in detail

    response = c.post(
        reverse("estates:committee", args=[committee.pk]),
        {"action": "end_seat", "seat": seat.pk, "until": TODAY.isoformat()},
    )
    assert response.status_code == 302
    seat.refresh_from_db()
    assert seat.until == TODAY
    # A bad date is a message, not an error page.
    response = c.post(
        reverse("estates:committee", args=[committee.pk]),
        {"action": "edit", "name": "幸福里业委会", "term_start": "2026-01-01", "term_end": "2025-01-01"},
        follow=True,
    )
    assert response.status_code == 200 and "任期止须晚于任期起" in response.content.decode()


def _fill(estate: Estate, start: int, n: int) -> None:

    for i in range(start, start + n):
        community = [estate.tree.chengbei, estate.tree.chengnan][i % 2]
        compound = places.compound_create(actor=SYSTEM, community=community, name=f"小区{i}")
        committee = services.committee_create(
            actor=SYSTEM, scope=ALL, compound=compound, name=f"业委会{i}", term_start=TERM[0], term_end=TERM[1]
        )
        for j in range(3):
            person = estate.person(f"委员{i}-{j}", party_member=bool(j % 2))
            services.member_add(
                actor=SYSTEM, scope=ALL, committee=committee, person=person, post="member", since=date(2025, 1, 1)
            )
        places.compound_create(actor=SYSTEM, community=community, name=f"无业委会{i}")


@pytest.mark.parametrize("role", [Role.ADMIN, Role.SUBDISTRICT_DISPATCHER])
def test_list_does_not_grow_queries(estate: Estate, role: str, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    c = _client(estate.tree.users[role])
    url = reverse("estates:committees")
    _fill(estate, 0, 2)
    c.get(url)  # warm the session
    with django_assert_max_num_queries(30) as small:
        assert c.get(url).status_code == 200
    _fill(estate, 2, 8)
    with django_assert_max_num_queries(len(small.captured_queries)) as large:
        page = c.get(url)
    assert page.status_code == 200 and "业委会9" in page.content.decode()
    assert len(large.captured_queries) == len(small.captured_queries)


def test_committee_page_does_not_grow_queries(estate: Estate, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    c = _client(estate.tree.users[Role.PARTY_SECRETARY])
    url = reverse("estates:committee", args=[estate.committee.pk])
    estate.seat("甲", party_member=True)
    c.get(url)
    with django_assert_max_num_queries(40) as small:
        assert c.get(url).status_code == 200
    for i in range(8):
        estate.seat(f"乙{i}", party_member=bool(i % 2))
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert c.get(url).status_code == 200


def test_replace_through_the_member_page(estate: Estate) -> None:
    old = estate.seat("老委员", post="deputy")
    newcomer = estate.person("新委员", party_member=True)
    c = _client(estate.tree.users[Role.PARTY_SECRETARY])
    add = reverse("estates:member_add", args=[estate.committee.pk]) + f"?person={newcomer.pk}"
    assert "老委员" in c.get(add).content.decode()  # offered as the seat to take over
    response = c.post(add, {"person": newcomer.pk, "post": "deputy", "since": TODAY.isoformat(), "replaces": old.pk})
    assert response.status_code == 302
    old.refresh_from_db()
    assert old.until == date(2026, 5, 31)
    assert OwnersCommitteeMember.objects.get(person=newcomer).since == TODAY
