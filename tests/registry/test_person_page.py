"""The person page: masked by default, scoped, audited; a full value only with a right and a reason."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from grassroots.accounts.models import Role
from grassroots.audit.models import AuditEntry
from grassroots.registry.models import (
    ImportJob,
    PersonChange,
    Residence,
    ResidenceKind,
    Source,
    SourceRecord,
    Tag,
)
from grassroots.registry.services import person_refresh_separation
from tests.registry.conftest import ID_ZHANG, PHONE_ZHANG, login

pytestmark = pytest.mark.django_db


def url(person):  # type: ignore[no-untyped-def]
    return reverse("registry:person", args=[person.pk])


@pytest.mark.parametrize("role", [Role.GRID_WORKER, Role.COMMUNITY_WORKER, Role.SUBDISTRICT_DISPATCHER, Role.ADMIN])
def test_page_is_masked_for_every_role(tree, people, role):
    page = login(tree.users[role]).get(url(people.zhang)).content.decode()
    assert "张三" in page and people.zhang.id_number_masked in page and "138****0011" in page
    assert ID_ZHANG not in page and PHONE_ZHANG not in page
    assert "王芳" in page  # household member, linked
    assert url(people.wang) in page


@pytest.mark.parametrize("role", [Role.GRID_WORKER, Role.COMMUNITY_WORKER, Role.SUBDISTRICT_DISPATCHER])
def test_outsiders_get_404(tree, people, role):
    response = login(tree.outsiders[role]).get(url(people.zhang))
    assert response.status_code == 404 and "张三" not in response.content.decode()


@pytest.mark.parametrize("role", [Role.DEPARTMENT_OFFICER, Role.PARTY_SECRETARY, Role.DISTRICT_LEADER])
def test_roles_without_registry_view_get_403(tree, people, role):
    assert login(tree.users[role]).get(url(people.zhang)).status_code == 403


def test_sensitive_tags_only_for_unmask_roles(tree, people):
    people.zhang.tags.add(Tag.objects.get(code="low_income"), Tag.objects.get(code="veteran"))
    grid_page = login(tree.users[Role.GRID_WORKER]).get(url(people.zhang)).content.decode()
    assert "退役军人" in grid_page and "低保" not in grid_page and "1 个敏感标签" in grid_page
    community_page = login(tree.users[Role.COMMUNITY_WORKER]).get(url(people.zhang)).content.decode()
    assert "低保/低收入" in community_page
    assert "60岁以上老人" in community_page  # derived from the birth date, not stored


def test_reveal_needs_the_right_and_a_reason(tree, people):
    reveal = reverse("registry:reveal", args=[people.zhang.pk])
    grid = login(tree.users[Role.GRID_WORKER])
    assert grid.post(reveal, {"field": "id_number", "reason": "核实身份信息"}).status_code == 403
    worker = login(tree.users[Role.COMMUNITY_WORKER])
    start = AuditEntry.objects.count()
    short = worker.post(reveal, {"field": "id_number", "reason": "看"})
    assert short.status_code == 400 and ID_ZHANG not in short.content.decode()
    assert not AuditEntry.objects.filter(seq__gt=start, action="registry.person.unmask").exists()
    ok = worker.post(reveal, {"field": "id_number", "reason": "核实低保申请"})
    assert ok.status_code == 200 and ID_ZHANG in ok.content.decode() and PHONE_ZHANG not in ok.content.decode()
    assert ok["Cache-Control"].startswith("no-store") or "no-store" in ok["Cache-Control"]
    entry = AuditEntry.objects.filter(action="registry.person.unmask").latest("seq")
    assert entry.detail == {"field": "id_number", "reason": "核实低保申请"}
    assert entry.actor_id == tree.users[Role.COMMUNITY_WORKER].pk
    # Shown once: the next plain view is masked again.
    assert ID_ZHANG not in worker.get(url(people.zhang)).content.decode()
    phone = worker.post(reveal, {"field": "phone", "reason": "联系本人核实"})
    assert PHONE_ZHANG in phone.content.decode() and ID_ZHANG not in phone.content.decode()


def test_outsider_cannot_reveal(tree, people):
    reveal = reverse("registry:reveal", args=[people.zhang.pk])
    response = login(tree.outsiders[Role.COMMUNITY_WORKER]).post(reveal, {"field": "phone", "reason": "核实身份信息"})
    assert response.status_code == 404
    assert not AuditEntry.objects.filter(action="registry.person.unmask").exists()


def _history(tree, people):  # type: ignore[no-untyped-def]
    source = Source.objects.create(code="police", name="公安户籍")
    job = ImportJob.objects.create(
        source=source,
        path=tree.chengbei.path,
        file="x.xlsx",
        file_name="户籍2026.xlsx",
        file_sha256="0" * 64,
        file_size=1,
    )
    record = SourceRecord.objects.create(
        job=job,
        source=source,
        row_number=7,
        raw_cipher=b"x",
        status="accepted",
        person=people.zhang,
        path=people.zhang.path,
    )
    people.zhang.provenance = {"name": record.pk, "id_number": record.pk}
    people.zhang.save()
    from django.utils import timezone

    PersonChange.objects.create(
        person=people.zhang, path=people.zhang.path, at=timezone.now(), origin="import", field="phone",
        before="", after="138****0011", source_record=record,
    )  # fmt: skip
    Residence.objects.create(person=people.zhang, kind=ResidenceKind.REGISTERED, address="安徽省某县", path="")
    Residence.objects.create(
        person=people.zhang, kind=ResidenceKind.RESIDENT, dwelling=people.zhang.dwelling, path=people.zhang.path
    )
    person_refresh_separation(person=people.zhang)
    return record


def test_provenance_residences_history(tree, people):
    _history(tree, people)
    page = login(tree.users[Role.COMMUNITY_WORKER]).get(url(people.zhang)).content.decode()
    assert "公安户籍 · 户籍2026.xlsx · 第7行" in page
    assert "安徽省某县" in page and "人在户不在(户籍在外)" in page
    assert "138****0011" in page and "导入" in page


def test_person_page_query_count_is_fixed(tree, people):
    from django.utils import timezone

    record = _history(tree, people)
    client = login(tree.users[Role.COMMUNITY_WORKER])
    client.get(url(people.zhang))
    with CaptureQueriesContext(connection) as first:
        client.get(url(people.zhang))
    for i in range(10):
        PersonChange.objects.create(
            person=people.zhang, path=people.zhang.path, at=timezone.now(), origin="edit", field="phone",
            before="", after=f"{i}", actor=tree.users[Role.ADMIN], source_record=record,
        )  # fmt: skip
        Residence.objects.create(person=people.zhang, kind=ResidenceKind.REGISTERED, address=f"地址{i}", path="")
        SourceRecord.objects.create(
            job=record.job, source=record.source, row_number=100 + i, raw_cipher=b"x", status="accepted",
            person=people.zhang, path=people.zhang.path,
        )  # fmt: skip
    with CaptureQueriesContext(connection) as second:
        client.get(url(people.zhang))
    assert len(second) == len(first), [q["sql"] for q in second.captured_queries]
