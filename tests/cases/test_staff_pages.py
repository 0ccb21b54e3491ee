"""Staff pages of the case loop: queue, case page, inbox, patrol, verify list and case list.

Role and scope per page (403 / 404 / 200), the whole loop through the pages with photos,
rejection → re-dispatch / arbitration, stale versions, inbox colours at given times, query counts.
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from grassroots.accounts.models import Role
from grassroots.cases import services
from grassroots.cases.models import AssignmentState, Case, CaseAssignment, CaseEvent, CasePhoto, PhotoStage
from grassroots.cases.workflow import TZ, Action, CaseState
from grassroots.core import clock
from tests.cases.test_cases_services import Env, act, make_env, submit
from tests.factories import centre

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=TZ)  # a Monday


class Clock:
    def __init__(self) -> None:
        self.at = NOW

    def now(self) -> datetime:
        return self.at


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> Clock:
    c = Clock()
    monkeypatch.setattr(clock, "now", c.now)
    return c


@pytest.fixture
def env(tree: Any, frozen: Clock, settings: Any, tmp_path: Any) -> Env:
    settings.MEDIA_ROOT = tmp_path
    return make_env(tree)


def jpeg(name: str = "scene.jpg", colour: str = "red") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(buffer, "JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def as_(client: Any, env: Env, role: str, *, outsider: bool = False) -> Any:
    client.force_login(env.tree.outsiders[role] if outsider else env.user(role))
    return client


def step(client: Any, case: Case | int, action: str, role: str, **fields: Any) -> Any:
    case_id = case if isinstance(case, int) else case.pk
    version = Case.objects.get(pk=case_id).version
    data = {"action": action, "role": role, "expected_version": version, **fields}
    return client.post(reverse("cases:case", args=[case_id]), data)


def page_text(response: Any) -> str:
    return response.content.decode()


# --- capability and scope ----------------------------------------------------------------------

PAGES = ["cases:queue", "cases:inbox", "cases:patrol", "cases:verify_list", "cases:list"]
ALLOWED = {
    Role.RESIDENT: set(),
    Role.PARTY_SECRETARY: set(),
    Role.GRID_WORKER: {"cases:patrol", "cases:verify_list", "cases:list"},
    Role.COMMUNITY_WORKER: {"cases:queue", "cases:patrol", "cases:verify_list", "cases:list"},
    Role.SUBDISTRICT_DISPATCHER: {"cases:queue", "cases:list"},
    Role.DEPARTMENT_OFFICER: {"cases:inbox", "cases:list"},
    Role.DISTRICT_LEADER: {"cases:list"},
    Role.ADMIN: set(PAGES),
}


@pytest.mark.parametrize("role", list(ALLOWED))
def test_each_page_by_role(client: Any, env: Env, role: str) -> None:
    as_(client, env, role)
    for name in PAGES:
        expected = 200 if name in ALLOWED[role] else 403
        assert client.get(reverse(name)).status_code == expected, (role, name)


def test_anonymous_is_sent_to_login(client: Any, env: Env) -> None:
    response = client.get(reverse("cases:queue"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_case_page_in_and_out_of_scope(client: Any, env: Env) -> None:
    case = submit(env)  # in 网格一 of 城北社区
    act(env, case, Role.COMMUNITY_WORKER, Action.whistle)  # sent to 城管局 only
    url = reverse("cases:case", args=[case.pk])
    for role in (
        Role.GRID_WORKER,
        Role.COMMUNITY_WORKER,
        Role.SUBDISTRICT_DISPATCHER,
        Role.DEPARTMENT_OFFICER,
        Role.DISTRICT_LEADER,
        Role.ADMIN,
    ):
        assert as_(client, env, role).get(url).status_code == 200, role
    for role in (Role.GRID_WORKER, Role.COMMUNITY_WORKER, Role.SUBDISTRICT_DISPATCHER, Role.DEPARTMENT_OFFICER):
        assert as_(client, env, role, outsider=True).get(url).status_code == 404, role
    # No capability: refused before the case is looked up, the same for a missing case.
    assert as_(client, env, Role.RESIDENT).get(url).status_code == 403
    assert as_(client, env, Role.PARTY_SECRETARY).get(reverse("cases:case", args=[999999])).status_code == 403
    assert as_(client, env, Role.ADMIN).get(reverse("cases:case", args=[999999])).status_code == 404
    # Acting out of scope is 404 as well, and changes nothing.
    response = step(as_(client, env, Role.COMMUNITY_WORKER, outsider=True), case, "cancel", "community", reason="x")
    assert response.status_code == 404 and Case.objects.get(pk=case.pk).state == CaseState.dispatched


def test_a_step_the_caller_may_not_take_is_refused(client: Any, env: Env) -> None:
    case = submit(env)
    as_(client, env, Role.GRID_WORKER)
    response = step(client, case, "whistle", "community", departments=[env.tree.department.pk])
    assert response.status_code == 403 and Case.objects.get(pk=case.pk).state == CaseState.submitted


# --- the whole loop through the pages ----------------------------------------------------------


def test_the_whole_loop_through_the_pages(client: Any, env: Env, frozen: Clock) -> None:
    tree = env.tree
    # A grid worker reports from patrol with a photo, located by the phone's GPS.
    as_(client, env, Role.GRID_WORKER)
    page = client.get(reverse("cases:patrol"))
    assert "阳光花园" in page_text(page) and "1幢" in page_text(page)  # buildings grouped by compound
    lon, lat = centre(0, 0)
    response = client.post(
        reverse("cases:patrol"),
        {"category": env.category.pk, "description": "井盖缺失", "lon": lon, "lat": lat, "photos": [jpeg()]},
    )
    assert response.status_code == 302, page_text(response)
    case = Case.objects.get()
    assert response["Location"] == reverse("cases:case", args=[case.pk])
    assert case.channel == "grid_patrol" and case.grid == tree.grid1 and case.reporter == env.user(Role.GRID_WORKER)
    photo = CasePhoto.objects.get(case=case)
    assert photo.stage == PhotoStage.REPORT
    detail = page_text(client.get(response["Location"]))
    assert reverse("cases:photo", args=[photo.pk]) in detail and "井盖缺失" in detail
    assert client.get(reverse("cases:photo", args=[photo.pk])).status_code == 200

    # The community sees it in its queue and whistles; the duty list's department is pre-selected.
    as_(client, env, Role.COMMUNITY_WORKER)
    assert case.number in page_text(client.get(reverse("cases:queue")))
    detail = page_text(client.get(reverse("cases:case", args=[case.pk])))
    assert "常规哨" in detail and "24小时" in detail and "7个工作日" in detail
    assert f'value="{tree.department.pk}"' in detail and "checked" in detail
    response = step(client, case, "whistle", "community", departments=[tree.department.pk])
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.state == CaseState.dispatched and case.acknowledge_by == NOW + timedelta(hours=24)

    # The department acknowledges from its inbox, starts and resolves with a result photo.
    as_(client, env, Role.DEPARTMENT_OFFICER)
    frozen.at = NOW + timedelta(hours=1)
    inbox = page_text(client.get(reverse("cases:inbox")))
    assert case.number in inbox and "剩余 23 小时" in inbox and "sla-green" in inbox
    back = reverse("cases:inbox") + "?tab=dispatched"
    response = step(client, case, "acknowledge", "department", next=back)
    assert response.status_code == 302 and response["Location"] == back
    assert CaseAssignment.objects.get(case=case).state == AssignmentState.ACKNOWLEDGED
    assert case.number in page_text(client.get(reverse("cases:inbox"), {"tab": "acknowledged"}))
    assert step(client, case, "start", "department").status_code == 302
    missing = step(client, case, "resolve", "department", result="")
    assert missing.status_code == 400 and "请填写办理结果" in page_text(missing)
    response = step(client, case, "resolve", "department", result="已补装井盖", photos=[jpeg("done.jpg", "blue")])
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.state == CaseState.resolved
    assert CasePhoto.objects.filter(case=case, stage=PhotoStage.RESULT).count() == 1

    # The grid worker finds it on the verify list and verifies it on site.
    as_(client, env, Role.GRID_WORKER)
    assert case.number in page_text(client.get(reverse("cases:verify_list")))
    assert step(client, case, "begin_verification", "grid_worker").status_code == 302
    response = step(client, case, "verify_pass", "grid_worker", photos=[jpeg("check.jpg", "green")])
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.state == CaseState.closed and case.closed_at == frozen.at
    assert CasePhoto.objects.filter(case=case, stage=PhotoStage.VERIFY).count() == 1
    actions = list(CaseEvent.objects.filter(case=case).values_list("action", flat=True))
    assert actions == ["submit", "whistle", "acknowledge", "start", "resolve", "begin_verification", "verify_pass"]
    assert f"{case.number}</a>" not in page_text(client.get(reverse("cases:verify_list")))
    detail = page_text(client.get(reverse("cases:case", args=[case.pk])))
    assert "办结照片" in detail and "核实照片" in detail and "已补装井盖" in detail


def test_patrol_by_building_and_refusals(client: Any, env: Env) -> None:
    as_(client, env, Role.GRID_WORKER)
    url = reverse("cases:patrol")
    nowhere = client.post(url, {"category": env.category.pk, "description": "路灯不亮"})
    assert nowhere.status_code == 400 and "请使用手机定位，或选择所在楼栋" in page_text(nowhere)
    lon, lat = centre(2, 0)  # 网格三: another community
    outside = client.post(url, {"category": env.category.pk, "description": "路灯不亮", "lon": lon, "lat": lat})
    assert outside.status_code == 400 and "不在您的管辖范围内" in page_text(outside)
    other = client.post(url, {"category": env.category.pk, "description": "x", "building": env.tree.building3.pk})
    assert other.status_code == 400  # 8幢 is not offered to this worker
    too_many = client.post(
        url,
        {
            "category": env.category.pk,
            "description": "x",
            "building": env.tree.building1.pk,
            "photos": [jpeg(f"{i}.jpg") for i in range(10)],
        },
    )
    assert too_many.status_code == 400 and "照片最多9张" in page_text(too_many)
    assert not Case.objects.exists()
    ok = client.post(url, {"category": env.category.pk, "description": "楼道堆物", "building": env.tree.building1.pk})
    assert ok.status_code == 302
    case = Case.objects.get()
    assert case.building == env.tree.building1 and case.channel == "grid_patrol"


# --- rejection, re-dispatch, arbitration, merge --------------------------------------------------


def test_reject_then_re_dispatch_then_arbitration(client: Any, env: Env) -> None:
    tree = env.tree
    case = act(env, submit(env), Role.COMMUNITY_WORKER, Action.whistle)
    as_(client, env, Role.DEPARTMENT_OFFICER)
    no_reason = step(client, case, "reject", "department", reason=" ", next=reverse("cases:inbox"))
    assert no_reason.status_code == 400 and "请填写原因" in page_text(no_reason)
    assert step(client, case, "reject", "department", reason="不属于城管职责").status_code == 302
    case.refresh_from_db()
    assert case.state == CaseState.rejected
    assert case.number in page_text(client.get(reverse("cases:inbox"), {"tab": "rejected"}))

    # The community sees it under 退单待处理 and re-dispatches to the water authority.
    as_(client, env, Role.COMMUNITY_WORKER)
    queue = page_text(client.get(reverse("cases:queue"), {"tab": "rejected"}))
    assert case.number in queue
    assert step(client, case, "re_dispatch", "community", departments=[tree.other_department.pk]).status_code == 302
    case.refresh_from_db()
    assert case.state == CaseState.dispatched
    assert CaseAssignment.objects.get(case=case, department=tree.other_department).state == "dispatched"

    # The water authority rejects too; the dispatcher arbitrates, naming 城管局 with a reason.
    client.force_login(tree.outsiders[Role.DEPARTMENT_OFFICER])  # 水务局's officer
    assert step(client, case, "reject", "department", reason="不是水务").status_code == 302
    as_(client, env, Role.COMMUNITY_WORKER)
    assert step(client, case, "escalate_to_arbitration", "community", reason="两部门互相推诿").status_code == 302
    as_(client, env, Role.SUBDISTRICT_DISPATCHER)
    assert case.number in page_text(client.get(reverse("cases:queue"), {"tab": "arbitration"}))
    no_reason = step(client, case, "arbitrate", "dispatcher", departments=[tree.department.pk])
    assert no_reason.status_code == 400 and "仲裁理由" in page_text(no_reason)
    response = step(client, case, "arbitrate", "dispatcher", departments=[tree.department.pk], reason="路面归城管")
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.state == CaseState.dispatched
    assert CaseAssignment.objects.get(case=case, department=tree.department).state == "dispatched"
    # The community worker is not offered arbitration (a dispatcher's step).
    as_(client, env, Role.COMMUNITY_WORKER)
    assert "待仲裁" not in page_text(client.get(reverse("cases:queue")))


def test_duplicates_are_suggested_and_merged(client: Any, env: Env) -> None:
    first = submit(env)
    second = submit(env, offset_m=20)
    as_(client, env, Role.COMMUNITY_WORKER)
    detail = page_text(client.get(reverse("cases:case", args=[second.pk])))
    assert "疑似重复" in detail and first.number in detail and "合并到此案件" in detail
    assert step(client, second, "merge", "community", target=first.number).status_code == 302
    second.refresh_from_db()
    assert second.state == CaseState.merged and second.merged_into_id == first.pk
    bad = step(client, first, "merge", "community", target="2026-999999")
    assert bad.status_code == 400 and "未找到该案件" in page_text(bad)


# --- concurrency -------------------------------------------------------------------------------


def test_a_stale_version_shows_the_conflict_and_changes_nothing(client: Any, env: Env) -> None:
    case = submit(env)
    as_(client, env, Role.COMMUNITY_WORKER)
    url = reverse("cases:case", args=[case.pk])
    act(env, case, Role.SUBDISTRICT_DISPATCHER, Action.accept)  # someone else was faster
    before = Case.objects.get(pk=case.pk)
    response = client.post(
        url,
        {
            "action": "whistle",
            "role": "community",
            "expected_version": case.version,
            "departments": [env.tree.department.pk],
        },
    )
    assert response.status_code == 409
    text = page_text(response)
    assert "该案件刚刚已被他人处理" in text and "社区自办" in text  # the fresh state is shown
    after = Case.objects.get(pk=case.pk)
    assert (after.state, after.version) == (before.state, before.version) == (CaseState.accepted, 2)
    assert not CaseAssignment.objects.exists()


def test_a_race_inside_the_service_is_a_conflict_too(client: Any, env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    case = submit(env)
    as_(client, env, Role.COMMUNITY_WORKER)
    from grassroots.cases import staff_views

    def faster(**kwargs: Any) -> Any:
        act(env, case, Role.SUBDISTRICT_DISPATCHER, Action.accept)
        return services.case_act(**kwargs)

    monkeypatch.setattr(staff_views, "case_act", faster)
    response = step(client, case, "cancel", "community", reason="重复")
    assert response.status_code == 409 and "该案件刚刚已被他人处理" in page_text(response)
    assert Case.objects.get(pk=case.pk).state == CaseState.accepted


# --- the inbox's colours -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("after", "colour", "countdown"),
    [
        (timedelta(hours=1), "green", "剩余 23 小时"),
        (timedelta(hours=19, minutes=10), "amber", "剩余 4 小时"),  # past 80 % of 24 h
        (timedelta(hours=23, minutes=30), "amber", "剩余 30 分钟"),
        (timedelta(hours=26), "red", "已超期 2 小时"),
        (timedelta(days=3), "red", "已超期 2 天"),
    ],
)
def test_inbox_colours_at_given_times(
    client: Any, env: Env, frozen: Clock, after: timedelta, colour: str, countdown: str
) -> None:
    act(env, submit(env), Role.COMMUNITY_WORKER, Action.whistle)
    frozen.at = NOW + after
    text = page_text(as_(client, env, Role.DEPARTMENT_OFFICER).get(reverse("cases:inbox")))
    assert f"sla sla-{colour}" in text and countdown in text


def test_inbox_handling_deadline_and_missed_flag(client: Any, env: Env, frozen: Clock) -> None:
    case = act(env, submit(env), Role.COMMUNITY_WORKER, Action.whistle)
    act(env, case, Role.DEPARTMENT_OFFICER, Action.acknowledge, at=NOW + timedelta(hours=1))
    frozen.at = NOW + timedelta(days=1)
    as_(client, env, Role.DEPARTMENT_OFFICER)  # signed in that day: a session lasts 12 hours at most
    text = page_text(client.get(reverse("cases:inbox"), {"tab": "acknowledged"}))
    assert "sla sla-green" in text and "办结时限 12-02 23:59" in text
    Case.objects.filter(pk=case.pk).update(handle_missed=True)  # as the sweep marks it
    text = page_text(client.get(reverse("cases:inbox"), {"tab": "acknowledged"}))
    assert "sla sla-red" in text


# --- queue tabs, order and filters -------------------------------------------------------------


def test_queue_tabs_order_and_filters(client: Any, env: Env) -> None:
    old = submit(env, at=NOW - timedelta(days=2))
    new = submit(env, at=NOW - timedelta(hours=1), offset_m=200)
    late = act(env, submit(env, at=NOW - timedelta(days=1), offset_m=400), Role.COMMUNITY_WORKER, Action.whistle)
    Case.objects.filter(pk=late.pk).update(overdue=True, level=1)
    as_(client, env, Role.COMMUNITY_WORKER)
    pending = page_text(client.get(reverse("cases:queue")))
    assert pending.index(old.number or "") < pending.index(new.number or "")  # oldest first
    assert late.number not in pending
    everything = page_text(client.get(reverse("cases:queue"), {"tab": "all"}))
    assert everything.index(late.number or "") < everything.index(old.number or "")  # overdue first
    assert late.number in page_text(client.get(reverse("cases:queue"), {"tab": "overdue"}))
    escalated = page_text(client.get(reverse("cases:queue"), {"tab": "escalated"}))
    assert late.number in escalated and old.number not in escalated
    by_channel = page_text(client.get(reverse("cases:queue"), {"tab": "all", "channel": "hotline_12345"}))
    assert old.number not in by_channel
    by_grid = page_text(client.get(reverse("cases:queue"), {"tab": "all", "grid": env.tree.grid2.pk}))
    assert old.number not in by_grid
    by_category = page_text(client.get(reverse("cases:queue"), {"tab": "all", "category": env.category.pk}))
    assert old.number in by_category
    # Outside the community: nothing of 城北社区.
    client.force_login(env.tree.outsiders[Role.COMMUNITY_WORKER])
    assert old.number not in page_text(client.get(reverse("cases:queue"), {"tab": "all"}))


def test_case_list_filters(client: Any, env: Env) -> None:
    old = submit(env, at=NOW - timedelta(days=5))
    new = act(env, submit(env, offset_m=300), Role.COMMUNITY_WORKER, Action.accept)
    as_(client, env, Role.DISTRICT_LEADER)
    url = reverse("cases:list")
    assert new.number in page_text(client.get(url, {"state": "accepted"}))
    assert old.number not in page_text(client.get(url, {"state": "accepted"}))
    recent = page_text(client.get(url, {"date_from": (NOW - timedelta(days=1)).date().isoformat()}))
    assert new.number in recent and old.number not in recent
    assert old.number in page_text(client.get(url, {"date_to": (NOW - timedelta(days=4)).date().isoformat()}))
    assert old.number in page_text(client.get(url, {"overdue": "0", "state": "bogus"}))  # a bad value is dropped
    # A department sees only what was sent to it.
    as_(client, env, Role.DEPARTMENT_OFFICER)
    assert old.number not in page_text(client.get(url))


# --- query counts ------------------------------------------------------------------------------


def _many(env: Env, n: int) -> list[Case]:
    cases = [submit(env, at=NOW - timedelta(hours=i), offset_m=100 * i) for i in range(n)]
    for case in cases[: n // 2]:
        act(env, case, Role.COMMUNITY_WORKER, Action.whistle)
    return cases


@pytest.mark.parametrize("n", [2, 12])
def test_queue_query_count(client: Any, env: Env, django_assert_max_num_queries: Any, n: int) -> None:
    _many(env, n)
    as_(client, env, Role.COMMUNITY_WORKER)
    with django_assert_max_num_queries(13):
        assert client.get(reverse("cases:queue"), {"tab": "all"}).status_code == 200


@pytest.mark.parametrize("n", [2, 12])
def test_inbox_query_count(client: Any, env: Env, django_assert_max_num_queries: Any, n: int) -> None:
    _many(env, n * 2)
    as_(client, env, Role.DEPARTMENT_OFFICER)
    with django_assert_max_num_queries(10):
        assert client.get(reverse("cases:inbox")).status_code == 200


@pytest.mark.parametrize("n", [2, 12])
def test_list_and_verify_query_count(client: Any, env: Env, django_assert_max_num_queries: Any, n: int) -> None:
    cases = _many(env, n)
    Case.objects.filter(pk__in=[c.pk for c in cases[n // 2 :]]).update(state=CaseState.resolved.value)
    as_(client, env, Role.COMMUNITY_WORKER)
    with django_assert_max_num_queries(10):
        assert client.get(reverse("cases:list")).status_code == 200
    with django_assert_max_num_queries(10):
        assert client.get(reverse("cases:verify_list")).status_code == 200
