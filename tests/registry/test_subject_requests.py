"""Data-subject requests: a resident asks for a copy, a correction or a deletion; staff answer in 15 working days."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse

from grassroots.accounts.models import Role
from grassroots.audit.models import AuditEntry
from grassroots.audit.services import SYSTEM, actor_of
from grassroots.cases.selectors import work_calendar
from grassroots.cases.worktime import WorkCalendar
from grassroots.core import crypto
from grassroots.core.errors import DomainError, NotFound
from grassroots.core.ids import InvalidIdNumber
from grassroots.core.scope import Scope
from grassroots.registry.imports.pipeline import RAW_CONTEXT
from grassroots.registry.models import ImportJob, Residence, Source, SourceRecord
from grassroots.registry.selectors import subject_requests as selectors
from grassroots.registry.services import subject_requests as services
from grassroots.registry.subject_request_models import SubjectRequest, SubjectRequestStatus
from tests.cases.test_cases_services import make_env, submit
from tests.factories import Tree
from tests.registry.conftest import ID_LI, ID_ZHANG, PHONE_ZHANG, People, login

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
EVERYTHING = Scope.everything()


def _submit(tree: Tree, *, kind: str = "copy", id_number: str = ID_ZHANG, resident=None, now=None) -> SubjectRequest:  # type: ignore[no-untyped-def]
    resident = resident or tree.users[Role.RESIDENT]
    return services.subject_request_submit(
        actor=actor_of(resident),
        requester_id=resident.pk,
        path=resident.area.path,
        kind=kind,
        name="张三",
        id_number=id_number,
        details="请提供平台保存的我的全部个人信息。",
        calendar=work_calendar(),
        now=now,
    )


def _worker(tree: Tree):  # type: ignore[no-untyped-def]
    return tree.users[Role.COMMUNITY_WORKER]


def _start(tree: Tree, request: SubjectRequest, person_id: int | None) -> SubjectRequest:
    worker = _worker(tree)
    return services.subject_request_start(
        actor=actor_of(worker), actor_user_id=worker.pk, scope=EVERYTHING, request_id=request.pk, person_id=person_id
    )


def _answer(tree: Tree, request: SubjectRequest, answer: str = "已答复。", **kwargs) -> SubjectRequest:  # type: ignore[no-untyped-def]
    worker = _worker(tree)
    return services.subject_request_answer(
        actor=actor_of(worker),
        actor_user_id=worker.pk,
        scope=EVERYTHING,
        request_id=request.pk,
        answer=answer,
        **kwargs,
    )


# --- submitting ------------------------------------------------------------------------------


def test_due_date_is_15_working_days_and_skips_national_day(tree: Tree):
    # Tuesday 29 September 2026: 国庆 1–7 October is off, Saturday 10 October is an adjusted working day.
    request = _submit(tree, now=datetime(2026, 9, 29, 10, 0, tzinfo=SHANGHAI))
    assert request.due_on == date(2026, 10, 26)
    assert not request.due_provisional
    monday_to_friday = WorkCalendar(official_years=range(0))  # what a calendar without holidays would say
    assert monday_to_friday.add_workdays(date(2026, 9, 29), 15) == date(2026, 10, 20)


def test_due_date_in_a_year_without_a_schedule_is_marked_provisional(tree: Tree):
    request = _submit(tree, now=datetime(2026, 12, 24, 10, 0, tzinfo=SHANGHAI))
    assert request.due_on.year == 2027
    assert request.due_provisional


def test_request_is_stored_encrypted_with_the_registry_id_digest(tree: Tree, people: People):
    request = _submit(tree)
    stored = SubjectRequest.objects.get(pk=request.pk)
    assert stored.id_number_hash == people.zhang.id_number_hash
    assert stored.id_number_masked == people.zhang.id_number_masked
    for column in ("name_cipher", "id_number_cipher", "details_cipher"):
        blob = bytes(getattr(stored, column))
        assert "张三".encode() not in blob and ID_ZHANG.encode() not in blob
    assert crypto.decrypt(bytes(stored.name_cipher), context="subject_request.name") == "张三"
    entry = AuditEntry.objects.filter(action="registry.subject_request.submit").get()
    assert entry.object_id == str(request.pk) and "张三" not in json.dumps(entry.detail, ensure_ascii=False)


def test_an_invalid_id_number_is_refused(tree: Tree):
    bad = ID_ZHANG[:-1] + ("0" if ID_ZHANG[-1] != "0" else "1")
    with pytest.raises(InvalidIdNumber):
        _submit(tree, id_number=bad)
    assert not SubjectRequest.objects.exists()


def test_resident_submits_on_the_h5_page_and_sees_the_due_date(tree: Tree):
    client = login(tree.users[Role.RESIDENT])
    page = client.get(reverse("cases:h5_data_request_new"))
    assert page.status_code == 200 and "提出个人信息请求" in page.content.decode()
    bad = client.post(
        reverse("cases:h5_data_request_new"),
        {"kind": "copy", "name": "张三", "id_number": "320583195003091234", "details": "请给我副本"},
    )
    assert bad.status_code == 200 and "身份证号" in bad.content.decode()
    assert not SubjectRequest.objects.exists()
    response = client.post(
        reverse("cases:h5_data_request_new"),
        {"kind": "correction", "name": "张三", "id_number": ID_ZHANG, "details": "手机号登记有误"},
    )
    request = SubjectRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("cases:h5_data_request", args=[request.pk])
    today = datetime.now(SHANGHAI).date()
    assert request.due_on == work_calendar().add_workdays(today, 15)
    detail = client.get(response["Location"]).content.decode()
    assert "更正、补充个人信息" in detail and "已提交" in detail and request.due_on.strftime("%Y-%m-%d") in detail


# --- who sees what -----------------------------------------------------------------------------


def test_resident_sees_only_their_own_requests(tree: Tree):
    mine = _submit(tree)
    other_resident = tree.outsiders[Role.RESIDENT]
    theirs = _submit(tree, resident=other_resident, id_number=ID_LI)
    client = login(tree.users[Role.RESIDENT])
    listing = client.get(reverse("cases:h5_data_requests")).content.decode()
    assert reverse("cases:h5_data_request", args=[mine.pk]) in listing
    assert reverse("cases:h5_data_request", args=[theirs.pk]) not in listing
    assert client.get(reverse("cases:h5_data_request", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("cases:h5_data_request_copy", args=[theirs.pk])).status_code == 404
    assert [d.request.pk for d in selectors.resident_requests(requester_id=other_resident.pk)] == [theirs.pk]
    with pytest.raises(NotFound):
        selectors.resident_request(requester_id=other_resident.pk, request_id=mine.pk)


def test_staff_scope_another_communitys_worker_gets_404(tree: Tree):
    request = _submit(tree)  # the resident lives in 城北社区
    url = reverse("registry:subject_request", args=[request.pk])
    assert login(tree.users[Role.COMMUNITY_WORKER]).get(url).status_code == 200
    assert login(tree.users[Role.SUBDISTRICT_DISPATCHER]).get(url).status_code == 200
    assert login(tree.users[Role.ADMIN]).get(url).status_code == 200
    outsider = login(tree.outsiders[Role.COMMUNITY_WORKER])  # 城南社区
    assert outsider.get(url).status_code == 404
    assert outsider.post(url, {"op": "refuse", "reason": "不办"}).status_code == 404
    assert outsider.post(reverse("registry:subject_request_copy", args=[request.pk])).status_code == 404
    queue = outsider.get(reverse("registry:subject_requests")).content.decode()
    assert url not in queue
    assert login(tree.outsiders[Role.SUBDISTRICT_DISPATCHER]).get(url).status_code == 404
    # Roles without the capability are refused before anything is looked up.
    assert login(tree.users[Role.GRID_WORKER]).get(url).status_code == 403
    assert login(tree.users[Role.RESIDENT]).get(reverse("registry:subject_requests")).status_code == 403
    assert SubjectRequest.objects.get().status == SubjectRequestStatus.SUBMITTED


def test_navigation_offers_the_pages_by_role(tree: Tree):
    worker_home = login(tree.users[Role.COMMUNITY_WORKER]).get("/").content.decode()
    assert reverse("registry:subject_requests") in worker_home
    resident_home = login(tree.users[Role.RESIDENT]).get("/").content.decode()
    assert reverse("cases:h5_data_requests") in resident_home
    assert reverse("registry:subject_requests") not in resident_home
    assert reverse("registry:subject_requests") not in login(tree.users[Role.GRID_WORKER]).get("/").content.decode()


# --- answering ----------------------------------------------------------------------------------


def _source_record(people: People, tree: Tree) -> SourceRecord:
    source = Source.objects.create(code="civil", name="民政局")
    job = ImportJob.objects.create(
        source=source,
        created_by=tree.users[Role.ADMIN],
        path=people.zhang.path,
        file="imports/x.xlsx",
        file_name="低保名单.xlsx",
        file_sha256="0" * 64,
        file_size=1,
    )
    raw = {"姓名": "张三", "身份证号": ID_ZHANG, "救助类别": "低保"}
    Residence.objects.create(
        person=people.zhang, kind="registered", address="江苏省昆山市玉山镇北门路1号", since=date(1980, 1, 1)
    )
    Residence.objects.create(
        person=people.zhang, kind="resident", dwelling=people.zhang.dwelling, path=people.zhang.path
    )
    return SourceRecord.objects.create(
        job=job,
        source=source,
        row_number=2,
        raw_cipher=crypto.encrypt(json.dumps(raw, ensure_ascii=False), context=RAW_CONTEXT),
        name="张三",
        status="accepted",
        person=people.zhang,
        path=people.zhang.path,
    )


def test_the_copy_holds_the_persons_data_and_is_audited(tree: Tree, people: People):
    _source_record(people, tree)
    env = make_env(tree)
    case = submit(env)  # reported by the same resident account
    request = _submit(tree)
    worker = login(_worker(tree))
    url = reverse("registry:subject_request", args=[request.pk])
    page = worker.get(url).content.decode()
    assert "张三" in page and people.zhang.id_number_masked in page  # the ID digest found the person
    assert worker.post(url, {"op": "start", "person": str(people.zhang.pk)}).status_code == 302
    assert worker.post(url, {"op": "answer", "answer": "副本已生成。"}).status_code == 302
    request.refresh_from_db()
    assert request.status == SubjectRequestStatus.ANSWERED and request.person_id == people.zhang.pk
    export = AuditEntry.objects.get(action="registry.subject_request.copy_export")
    assert (export.object_type, export.object_id) == ("person", str(people.zhang.pk))

    resident = login(tree.users[Role.RESIDENT])
    assert "下载我的个人信息副本" in resident.get(reverse("cases:h5_data_request", args=[request.pk])).content.decode()
    response = resident.get(reverse("cases:h5_data_request_copy", args=[request.pk]))
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    data = json.loads(response.content)
    person = data["人员信息"]
    assert (person["姓名"], person["身份证号"], person["手机号"]) == ("张三", ID_ZHANG, PHONE_ZHANG)
    assert [r["类型"] for r in data["居住记录"]] == ["户籍", "常住(实际居住)"]
    assert data["居住记录"][0]["地址"] == "江苏省昆山市玉山镇北门路1号" and data["居住记录"][1]["房屋"]
    assert data["来源记录"][0]["原始内容"]["救助类别"] == "低保" and data["来源记录"][0]["来源"] == "民政局"
    assert [c["编号"] for c in data["反映的问题"]] == [case.number]
    download = AuditEntry.objects.get(action="registry.subject_request.copy_download")
    assert download.actor_id == tree.users[Role.RESIDENT].pk
    # Staff downloads are audited too (and only by POST).
    assert worker.get(reverse("registry:subject_request_copy", args=[request.pk])).status_code == 405
    assert worker.post(reverse("registry:subject_request_copy", args=[request.pk])).status_code == 200
    assert AuditEntry.objects.filter(action="registry.subject_request.copy_download").count() == 2


def test_a_copy_for_someone_not_in_the_registry_says_so(tree: Tree):
    request = _submit(tree)
    _start(tree, request, None)
    _answer(tree, request)
    content, _ = services.subject_request_copy_download(actor=SYSTEM, request=SubjectRequest.objects.get())
    assert "未查到" in json.loads(content)["人员信息"]


def test_start_only_links_the_person_the_id_number_finds(tree: Tree, people: People):
    request = _submit(tree)
    with pytest.raises(DomainError, match="身份证号"):
        _start(tree, request, people.wang.pk)
    assert SubjectRequest.objects.get().status == SubjectRequestStatus.SUBMITTED
    assert _start(tree, request, people.zhang.pk).person_id == people.zhang.pk


def test_a_correction_names_what_was_corrected(tree: Tree, people: People):
    request = _submit(tree, kind="correction")
    _start(tree, request, people.zhang.pk)
    page = login(_worker(tree)).get(reverse("registry:subject_request", args=[request.pk])).content.decode()
    assert reverse("registry:person", args=[people.zhang.pk]) in page
    with pytest.raises(DomainError, match="勾选"):
        _answer(tree, request, "已更正手机号。")
    answered = _answer(tree, request, "已更正手机号。", corrected_fields=["phone", "bogus"])
    assert answered.corrected_fields == ["phone"] and not answered.copy_cipher


def test_a_deletion_refused_with_a_reason_the_resident_reads(tree: Tree, people: People):
    request = _submit(tree, kind="deletion")
    worker = login(_worker(tree))
    url = reverse("registry:subject_request", args=[request.pk])
    assert "保存期限尚未届满" in worker.get(url).content.decode()  # the suggested reason
    empty = worker.post(url, {"op": "refuse", "reason": "  "})
    assert empty.status_code == 200 and "请填写不予办理的理由" in empty.content.decode()
    worker.post(url, {"op": "refuse", "reason": "依法保存期限未满，暂不能删除。"})
    request.refresh_from_db()
    assert request.status == SubjectRequestStatus.REFUSED and request.answered_at is not None
    page = login(tree.users[Role.RESIDENT]).get(reverse("cases:h5_data_request", args=[request.pk])).content.decode()
    assert "不予办理的理由" in page and "依法保存期限未满" in page


@pytest.mark.parametrize(
    ("steps", "then"),
    [
        ([], "answer"),  # answering needs the request taken on first
        (["start"], "start"),
        (["start", "answer"], "answer"),
        (["start", "answer"], "refuse"),
        (["refuse"], "start"),
        (["refuse"], "refuse"),
    ],
)
def test_status_transitions_are_checked(tree: Tree, steps: list[str], then: str):
    request = _submit(tree)
    worker = _worker(tree)
    ops = {
        "start": lambda: _start(tree, request, None),
        "answer": lambda: _answer(tree, request),
        "refuse": lambda: services.subject_request_refuse(
            actor=actor_of(worker), actor_user_id=worker.pk, scope=EVERYTHING, request_id=request.pk, reason="理由"
        ),
    }
    for step in steps:
        ops[step]()
    before = SubjectRequest.objects.get().status
    with pytest.raises(DomainError, match="不能改为"):
        ops[then]()
    assert SubjectRequest.objects.get().status == before


def test_transitions_table_ends_in_answered_or_refused():
    S = SubjectRequestStatus
    assert services.TRANSITIONS[S.SUBMITTED] == {S.IN_PROGRESS, S.REFUSED}
    assert services.TRANSITIONS[S.IN_PROGRESS] == {S.ANSWERED, S.REFUSED}
    assert not services.TRANSITIONS[S.ANSWERED] and not services.TRANSITIONS[S.REFUSED]


# --- the queue ----------------------------------------------------------------------------------


def test_overdue_requests_are_listed_and_marked(tree: Tree):
    long_ago = datetime.now(SHANGHAI) - timedelta(days=40)
    late = _submit(tree, now=long_ago)
    answered_late = _submit(tree, now=long_ago)
    _start(tree, answered_late, None)
    _answer(tree, answered_late)
    fresh = _submit(tree)
    worker = login(_worker(tree))
    overdue = worker.get(reverse("registry:subject_requests") + "?show=overdue").content.decode()
    assert reverse("registry:subject_request", args=[late.pk]) in overdue
    assert reverse("registry:subject_request", args=[fresh.pk]) not in overdue
    assert reverse("registry:subject_request", args=[answered_late.pk]) not in overdue
    assert "超期" in overdue and "row-overdue" in overdue
    rows = selectors.subject_request_queue(actor=SYSTEM, scope=EVERYTHING)
    assert [(r.request.pk, r.overdue) for r in rows] == [(late.pk, True), (fresh.pk, False)]
    assert selectors.overdue_count(scope=EVERYTHING) == 1
    closed = worker.get(reverse("registry:subject_requests") + "?show=closed").content.decode()
    assert reverse("registry:subject_request", args=[answered_late.pk]) in closed


def test_the_queue_reads_are_audited_and_query_count_is_bounded(tree: Tree, django_assert_max_num_queries):  # type: ignore[no-untyped-def]
    for _ in range(5):
        _submit(tree)
    client: Client = login(_worker(tree))
    with django_assert_max_num_queries(25):
        response = client.get(reverse("registry:subject_requests"))
    assert response.status_code == 200
    entry = AuditEntry.objects.filter(action="registry.subject_request.view").latest("seq")
    assert len(entry.detail["ids"]) == 5
