"""Party pages: capability first (403), scope next (404), query counts, forms, downloads."""

from __future__ import annotations

import io
from datetime import date

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from grassroots.accounts.models import Role
from grassroots.audit.models import AuditEntry
from grassroots.audit.services import SYSTEM
from grassroots.core.ids import make_id_number
from grassroots.party import services
from grassroots.party.models import Checkin, CheckinState, PartyMember, PartyOrg, ServiceRecord
from tests.factories import add_resident
from tests.party.conftest import ALL, Party, employed_member

pytestmark = pytest.mark.django_db

STAFF_PAGES = ["party:tree", "party:members", "party:checkins", "party:services", "party:targets", "party:unit_report"]


def _client(user) -> Client:  # type: ignore[no-untyped-def]
    c = Client()
    c.force_login(user)
    return c


@pytest.mark.parametrize("role", [Role.RESIDENT, Role.GRID_WORKER, Role.DEPARTMENT_OFFICER])
def test_roles_without_party_view_get_403(party: Party, role: str) -> None:
    c = _client(party.tree.users[role])
    for name in [*STAFF_PAGES, "party:org_create", "party:member_create"]:
        assert c.get(reverse(name)).status_code == 403, name
    assert c.get(reverse("party:org", args=[party.chengbei.pk])).status_code == 403


def test_view_only_roles_cannot_manage(party: Party) -> None:
    c = _client(party.tree.users[Role.SUBDISTRICT_DISPATCHER])
    for name in STAFF_PAGES:
        assert c.get(reverse(name)).status_code == 200, name
    assert c.get(reverse("party:org_create")).status_code == 403
    assert c.get(reverse("party:checkin_qr", args=[party.tree.chengbei.pk])).status_code == 403


def test_out_of_scope_is_404(party: Party) -> None:
    member = employed_member(party, seq=101, name="赵六")
    c = _client(party.tree.outsiders[Role.PARTY_SECRETARY])  # 周市社区
    assert c.get(reverse("party:member", args=[member.pk])).status_code == 404
    assert c.get(reverse("party:org", args=[party.chengbei.pk])).status_code == 404
    assert c.get(reverse("party:tree") + f"?area={party.tree.chengbei.pk}").status_code == 404
    assert c.get(reverse("party:checkin_qr", args=[party.tree.chengbei.pk])).status_code == 404
    ci = services.checkin_request(actor=SYSTEM, community=party.tree.chengbei, person=member.person)
    assert c.post(reverse("party:checkin_decide", args=[ci.pk]), {"action": "confirm"}).status_code == 404
    assert Checkin.objects.get(pk=ci.pk).state == CheckinState.PENDING


def _many(party: Party, n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        m = employed_member(party, seq=200 + i, name=f"成员{i}")
        ci = services.checkin_request(actor=SYSTEM, community=party.tree.chengbei, person=m.person)
        if i % 2:
            services.checkin_confirm(actor=SYSTEM, scope=ALL, checkin=ci)
        services.service_record_add(
            actor=None, member=m, kind="volunteer", on=date(2025, 1, 2), description="巡逻", path=m.path
        )


@pytest.mark.parametrize("name", STAFF_PAGES)
def test_list_pages_do_not_grow_queries(party: Party, name: str, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    c = _client(party.tree.users[Role.PARTY_SECRETARY])
    url = reverse(name) + (f"?unit={party.unit.pk}&year=2025" if name == "party:unit_report" else "")
    _many(party, 2)
    c.get(url)  # warm the session
    with django_assert_max_num_queries(40) as small:
        assert c.get(url).status_code == 200
    _many(party, 8, start=2)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert c.get(url).status_code == 200


def test_member_list_shows_masked_ids_and_audits(party: Party) -> None:
    member = employed_member(party, seq=301, name="钱七")
    c = _client(party.tree.users[Role.PARTY_SECRETARY])
    body = c.get(reverse("party:members")).content.decode()
    assert "钱七" in body and member.person.id_number_masked in body
    assert make_id_number("320583", date(1950, 3, 9), 301, "M") not in body
    assert AuditEntry.objects.filter(action="party.member.list", object_id=str(member.pk)).exists()
    body = c.get(reverse("party:member", args=[member.pk])).content.decode()
    assert "年度目标" in body
    assert AuditEntry.objects.filter(action="party.member.view", object_id=str(member.pk)).exists()


def test_resident_checks_in_and_the_secretary_confirms(party: Party) -> None:
    tree = party.tree
    person = add_resident(tree, seq=401, name="孔八")
    resident = _client(tree.users[Role.RESIDENT])
    assert resident.get(reverse("party:checkin_start")).url == reverse("party:checkin", args=[tree.chengbei.pk])
    url = reverse("party:checkin", args=[tree.chengbei.pk])
    number = make_id_number("320583", date(1950, 3, 9), 401, "M")
    wrong = resident.post(url, {"name": "孔八", "id_number": number, "phone": "13900000000"})
    assert "请联系社区" in wrong.content.decode()
    assert AuditEntry.objects.filter(action="party.checkin.unmatched").exists()
    ok = resident.post(url, {"name": "孔八", "id_number": number, "phone": "13812340401", "skills": "电工"})
    assert "报到申请已提交" in ok.content.decode()
    checkin = Checkin.objects.get(member__person=person)
    assert resident.get(reverse("party:checkin", args=[tree.grid1.pk])).status_code == 404  # not a community
    secretary = _client(tree.users[Role.PARTY_SECRETARY])
    assert "孔八" in secretary.get(reverse("party:checkins")).content.decode()
    r = secretary.post(reverse("party:checkin_decide", args=[checkin.pk]), {"action": "confirm"})
    assert r.status_code == 302
    assert Checkin.objects.get(pk=checkin.pk).state == CheckinState.CONFIRMED


def test_qr_pdf(party: Party) -> None:
    c = _client(party.tree.users[Role.COMMUNITY_WORKER])
    r = c.get(reverse("party:checkin_qr", args=[party.tree.chengbei.pk]))
    assert r.status_code == 200 and r.content.startswith(b"%PDF")


def test_forms_create_an_org_a_member_and_a_service(party: Party) -> None:
    c = _client(party.tree.users[Role.PARTY_SECRETARY])
    r = c.post(
        reverse("party:org_create"), {"level": "grid_branch", "name": "网格二党支部", "area": party.tree.grid2.pk}
    )
    assert r.status_code == 302
    org = PartyOrg.objects.get(name="网格二党支部")
    assert org.parent == party.chengbei
    r = c.post(reverse("party:org_create"), {"level": "grid_branch", "name": "再来", "area": party.tree.grid2.pk})
    assert "已有有效的网格党支部" in r.content.decode()
    person = add_resident(party.tree, seq=501, name="何九")
    r = c.get(reverse("party:member_create") + "?q=何九")
    assert "登记为党员" in r.content.decode()
    r = c.post(
        reverse("party:member_create"),
        {"person": person.pk, "kind": "employed", "employer": party.unit.pk, "residence_area": party.tree.grid1.pk},
    )
    assert r.status_code == 302
    member = PartyMember.objects.get(person=person)
    r = c.post(
        reverse("party:services"),
        {"member": member.pk, "kind": "volunteer", "on": "2025-06-01", "hours": "2", "description": "清扫楼道"},
    )
    assert r.status_code == 302
    record = ServiceRecord.objects.get(member=member)
    assert not record.confirmed
    assert c.post(reverse("party:service_confirm", args=[record.pk])).status_code == 302
    record.refresh_from_db()
    assert record.confirmed


def test_unit_report_downloads(party: Party) -> None:
    employed_member(party, seq=601, name="甘十")
    c = _client(party.tree.users[Role.PARTY_SECRETARY])
    base = reverse("party:unit_report") + f"?unit={party.unit.pk}&year=2025"
    assert "甘十" in c.get(base).content.decode()
    xlsx = c.get(base + "&format=xlsx")
    assert xlsx["Content-Disposition"].startswith("attachment")
    ws = load_workbook(io.BytesIO(xlsx.content)).active
    assert ws["A4"].value == "甘十"
    assert c.get(base + "&format=pdf").content.startswith(b"%PDF")
    assert AuditEntry.objects.filter(action="party.unit_report.export").count() == 2
