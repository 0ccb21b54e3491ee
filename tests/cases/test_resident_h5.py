"""The resident H5 pages through the Django test client: report, my reports, the case page, rating."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from grassroots.accounts.models import Role as AccountRole
from grassroots.audit.services import SYSTEM
from grassroots.cases import services
from grassroots.cases.coords import distance_m, wgs84_to_gcj02
from grassroots.cases.models import Case, CaseEvent, CasePhoto, Channel, PhotoStage
from grassroots.cases.services.photos import photo_upload
from grassroots.cases.workflow import Action, CaseState, Rating
from grassroots.core import clock
from grassroots.places.models import Entrance
from tests.cases.test_cases_services import Env, act, make_env, submit
from tests.cases.test_photos import jpeg_with_gps, png_bytes
from tests.factories import Tree, centre

pytestmark = pytest.mark.django_db
REPORT = "/cases/h5/report/"


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def env(tree: Tree) -> Env:
    return make_env(tree)


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def resident(env: Env) -> Client:
    return client_for(env.user(AccountRole.RESIDENT))


def jpeg_file(name: str = "IMG_0001.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, jpeg_with_gps(), content_type="image/jpeg")


def form_data(env: Env, **extra: Any) -> dict[str, Any]:
    lon, lat = centre(0, 0)
    data: dict[str, Any] = {
        "category": env.category.pk,
        "description": "小区门口路面有个大坑",
        "lon": f"{lon:.7f}",
        "lat": f"{lat:.7f}",
        "coord": "wgs84",
        "source": "gps",
    }
    data.update(extra)
    return data


def html(response: Any) -> str:
    return str(response.content.decode())


def closed_case(env: Env) -> Case:
    """A resident's report driven through the whole loop to closed, by the services."""
    case = submit(env)
    case = act(env, case, AccountRole.COMMUNITY_WORKER, Action.whistle)
    case = act(env, case, AccountRole.DEPARTMENT_OFFICER, Action.acknowledge)
    case = act(env, case, AccountRole.DEPARTMENT_OFFICER, Action.start)
    case = act(env, case, AccountRole.DEPARTMENT_OFFICER, Action.resolve, result="已修补路面")
    case = act(env, case, AccountRole.GRID_WORKER, Action.begin_verification)
    case = act(env, case, AccountRole.GRID_WORKER, Action.verify_pass)
    assert case.state == CaseState.closed
    return case


# --- who may report -----------------------------------------------------------------------


def test_anonymous_qr_scan_goes_to_login_and_comes_back(env: Env) -> None:
    target = f"{REPORT}?building={env.tree.building1.pk}&entrance=1"
    response = Client().get(target)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")
    assert quote(target, safe="/") in response["Location"]


def test_only_those_who_may_report(env: Env) -> None:
    assert client_for(env.user(AccountRole.PARTY_SECRETARY)).get(REPORT).status_code == 403
    assert client_for(env.user(AccountRole.GRID_WORKER)).get(REPORT).status_code == 200
    assert client_for(env.user(AccountRole.RESIDENT)).get(REPORT).status_code == 200


def test_report_page_is_phone_first(resident: Client, env: Env) -> None:
    page = html(resident.get(REPORT))
    assert 'name="viewport"' in page and "width=device-width" in page
    assert re.search(r'<input type="file"[^>]*accept="image/\*"[^>]*capture="environment"[^>]*multiple', page)
    assert "使用我的位置" in page and "data-pick-map" in page
    assert "道路坑洼" in page and "<optgroup" in page


def test_categories_are_grouped_and_inactive_ones_left_out(resident: Client, env: Env) -> None:
    road = services.category_create(actor=SYSTEM, code="road", name="道路设施", kind="event")
    services.category_create(actor=SYSTEM, code="road.sign", name="路牌缺失", kind="event", parent=road)
    services.category_create(actor=SYSTEM, code="old", name="旧分类", kind="community", is_active=False)
    page = html(resident.get(REPORT))
    assert 'label="道路设施（城市管理事件）"' in page and "路牌缺失" in page
    assert "旧分类" not in page
    assert f'<option value="{road.pk}"' not in page  # a heading, not something to report


# --- submitting ---------------------------------------------------------------------------


def test_report_with_photos_and_the_phones_position(resident: Client, env: Env) -> None:
    data = form_data(env, photos=[jpeg_file(), SimpleUploadedFile("b.png", png_bytes(), content_type="image/png")])
    response = resident.post(REPORT, data)
    case = Case.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("cases:h5_case", args=[case.pk])
    assert case.channel == Channel.RESIDENT_H5 and case.grid == env.tree.grid1
    assert case.reporter == env.user(AccountRole.RESIDENT) and case.building is None
    photos = list(CasePhoto.objects.filter(case=case))
    assert len(photos) == 2 and {p.stage for p in photos} == {PhotoStage.REPORT}
    for photo in photos:
        with photo.file.open("rb") as handle:
            assert b"PhoneCo" not in handle.read()
    page = html(resident.get(response["Location"]))
    assert "反映已提交" in page and case.number in page
    assert page.count(reverse("cases:photo", args=[photos[0].pk])) >= 1


def test_wechat_gcj02_position_is_converted(resident: Client, env: Env) -> None:
    lon, lat = centre(0, 0)
    g_lon, g_lat = wgs84_to_gcj02(lon, lat)
    resident.post(REPORT, form_data(env, lon=f"{g_lon:.7f}", lat=f"{g_lat:.7f}", coord="gcj02"))
    case = Case.objects.get()
    assert case.lon is not None and case.lat is not None
    assert distance_m(case.lon, case.lat, lon, lat) < 1


def test_report_from_a_building_qr_code(resident: Client, env: Env) -> None:
    building = env.tree.building1
    entrance = Entrance.objects.get(building=building, number=2)
    page = html(resident.get(f"{REPORT}?building={building.pk}&entrance={entrance.pk}"))
    assert "阳光花园1幢2单元" in page and "无需定位" in page
    assert "使用我的位置" not in page
    data = {
        "category": env.category.pk,
        "description": "楼道里堆满杂物",
        "building": building.pk,
        "entrance": entrance.pk,
        "photos": [jpeg_file()],
    }
    response = resident.post(REPORT, data)
    assert response.status_code == 302
    case = Case.objects.get()
    assert case.channel == Channel.QR_CODE and case.building == building
    assert (case.lon, case.lat) == (building.lon, building.lat) and case.grid == env.tree.grid1
    assert case.address_text == "阳光花园1幢2单元"
    assert CasePhoto.objects.filter(case=case).count() == 1


def test_an_unknown_building_says_so(resident: Client, env: Env) -> None:
    page = html(resident.get(f"{REPORT}?building=999999"))
    assert "二维码对应的楼栋不存在" in page and "使用我的位置" in page


def test_validation_errors_keep_the_input(resident: Client, env: Env) -> None:
    response = resident.post(REPORT, {"description": "路灯不亮了已经三天", "lon": "", "lat": ""})
    page = html(response)
    assert response.status_code == 400
    assert "请选择问题类型" in page and "请提供问题位置" in page
    assert "路灯不亮了已经三天" in page
    response = resident.post(REPORT, form_data(env, description="坑"))
    assert response.status_code == 400 and "至少5个字" in html(response)
    assert not Case.objects.exists()


def test_a_bad_photo_is_named_and_the_good_one_kept(resident: Client, env: Env) -> None:
    fake = SimpleUploadedFile("notes.jpg", b"this is not an image at all\n" * 20, content_type="image/jpeg")
    response = resident.post(REPORT, form_data(env, photos=[jpeg_file("good.jpg"), fake]))
    page = html(response)
    assert response.status_code == 400
    assert "照片“notes.jpg”不是 JPEG、PNG 或 WebP 图片" in page
    assert not Case.objects.exists()
    kept = CasePhoto.objects.get(case__isnull=True)
    assert f'name="staged" value="{kept.pk}" checked' in page
    assert "小区门口路面有个大坑" in page
    # The second try carries the kept photo: nothing is picked again.
    response = resident.post(REPORT, form_data(env, staged=[kept.pk]))
    assert response.status_code == 302
    kept.refresh_from_db()
    assert kept.case == Case.objects.get()


def test_someone_elses_staged_photo_is_not_taken(resident: Client, env: Env) -> None:
    other = client_for(env.user(AccountRole.GRID_WORKER))
    other.post(REPORT, form_data(env, description="x", photos=[jpeg_file()]))  # refused: too short, photo staged
    theirs = CasePhoto.objects.get()
    response = resident.post(REPORT, form_data(env, staged=[theirs.pk]))
    assert response.status_code == 400 and "之前上传的照片已失效" in html(response)
    assert not Case.objects.exists()


def test_ten_photos_are_refused_before_uploading(resident: Client, env: Env) -> None:
    files = [SimpleUploadedFile(f"{i}.png", png_bytes((10 + i, 10)), content_type="image/png") for i in range(10)]
    response = resident.post(REPORT, form_data(env, photos=files))
    assert response.status_code == 400 and "照片最多9张" in html(response)
    assert not CasePhoto.objects.exists() and not Case.objects.exists()


def test_a_point_outside_every_grid(resident: Client, env: Env) -> None:
    response = resident.post(REPORT, form_data(env, lon="121.9", lat="31.9"))
    assert response.status_code == 400 and "不在本平台的任何网格内" in html(response)


def test_duplicates_nearby_are_mentioned(resident: Client, env: Env) -> None:
    submit(env, at=clock.now() - timedelta(days=1))
    response = resident.post(REPORT, form_data(env), follow=True)
    assert "附近7天内已有相同问题" in html(response)
    assert Case.objects.count() == 2  # informational: nothing is merged


def test_grid_outlines_for_the_map(resident: Client, env: Env) -> None:
    data = resident.get(reverse("cases:h5_grids")).json()
    assert len(data["features"]) == 4
    assert all(set(f["properties"]) == {"name"} for f in data["features"])
    assert client_for(env.user(AccountRole.PARTY_SECRETARY)).get(reverse("cases:h5_grids")).status_code == 403


# --- my reports ---------------------------------------------------------------------------


def test_my_reports_newest_first_with_rating_badge_and_pages(resident: Client, env: Env) -> None:
    closed = closed_case(env)
    for i in range(11):
        submit(env, at=closed.created_at + timedelta(minutes=i + 1))
    submit(env, reporter=AccountRole.GRID_WORKER)
    page = html(resident.get(reverse("cases:h5_mine")))
    numbers = re.findall(r'<span class="mono">(\d{4}-\d{6})</span>', page)
    assert len(numbers) == 10
    mine = Case.objects.filter(reporter=env.user(AccountRole.RESIDENT)).order_by("-created_at", "-id")
    assert numbers == [c.number for c in mine[:10]]
    assert "第 1 / 2 页" in page and "待评价" not in page
    second = html(resident.get(reverse("cases:h5_mine") + "?page=2"))
    assert closed.number in second and "待评价" in second and "已结案" in second
    assert len(re.findall(r'<span class="mono">', second)) == 2


def test_my_reports_empty(resident: Client) -> None:
    assert "您还没有反映过问题" in html(resident.get(reverse("cases:h5_mine")))


# --- one case -----------------------------------------------------------------------------


def test_case_page_timeline_shows_roles_never_staff_names(resident: Client, env: Env) -> None:
    case = closed_case(env)
    page = html(resident.get(reverse("cases:h5_case", args=[case.pk])))
    for label in (
        "提交反映",
        "吹哨派遣",
        "部门报到",
        "办结反馈",
        "核实通过，结案",
        "已修补路面",
        "网格员",
        "社区工作者",
    ):
        assert label in page, label
    assert "昆山市城管局" in page
    for user in env.tree.users.values():
        if user.role != AccountRole.RESIDENT:
            assert user.username not in page
    assert "评价办理结果" in page


def test_result_photos_show_per_stage(resident: Client, env: Env) -> None:
    officer = env.user(AccountRole.DEPARTMENT_OFFICER)
    case = act(env, submit(env), AccountRole.COMMUNITY_WORKER, Action.whistle)
    case = act(env, case, AccountRole.DEPARTMENT_OFFICER, Action.acknowledge)
    case = act(env, case, AccountRole.DEPARTMENT_OFFICER, Action.start)
    photo = photo_upload(actor=officer, upload=io.BytesIO(jpeg_with_gps()), name="after.jpg")
    act(env, case, AccountRole.DEPARTMENT_OFFICER, Action.resolve, result="已修补", photos=(str(photo.pk),))
    page = html(resident.get(reverse("cases:h5_case", args=[case.pk])))
    assert "办结照片" in page and reverse("cases:photo", args=[photo.pk]) in page
    assert resident.get(reverse("cases:photo", args=[photo.pk])).status_code == 200


def test_other_peoples_cases_are_404(env: Env) -> None:
    case = submit(env)
    url = reverse("cases:h5_case", args=[case.pk])
    assert client_for(env.tree.outsiders[AccountRole.RESIDENT]).get(url).status_code == 404
    # Staff who may see the case still have no reporter's page for it.
    assert client_for(env.user(AccountRole.COMMUNITY_WORKER)).get(url).status_code == 404
    assert client_for(env.user(AccountRole.RESIDENT)).get(url + "x").status_code == 404
    assert client_for(env.user(AccountRole.RESIDENT)).get(url).status_code == 200


def test_rating_closes_the_loop(resident: Client, env: Env) -> None:
    case = closed_case(env)
    url = reverse("cases:h5_case", args=[case.pk])
    response = resident.post(
        url, {"op": "evaluate", "rating": "satisfied", "comment": "修得很快", "version": case.version}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.rating == Rating.satisfied and case.state == CaseState.closed and case.evaluated_since_close
    page = html(resident.get(url))
    assert "感谢您的评价" in page and "评价：满意" in page and "修得很快" in page
    assert "评价办理结果" not in page
    assert "待评价" not in html(resident.get(reverse("cases:h5_mine")))


def test_unsatisfied_needs_a_reason_and_reopens(resident: Client, env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    case = closed_case(env)
    # The rating comes a day after closing, inside the reopening window, whatever today's date is
    # (the case was driven on the fixed clock of the services tests).
    assert case.closed_at is not None
    monkeypatch.setattr("grassroots.core.clock.now", lambda: case.closed_at + timedelta(days=1))
    url = reverse("cases:h5_case", args=[case.pk])
    response = resident.post(url, {"op": "evaluate", "rating": "unsatisfied", "version": case.version})
    assert response.status_code == 400 and "请说明不满意的原因" in html(response)
    response = resident.post(url, {"op": "evaluate", "rating": "", "version": case.version})
    assert response.status_code == 400 and "请选择满意度" in html(response)
    response = resident.post(
        url, {"op": "evaluate", "rating": "unsatisfied", "comment": "坑还在", "version": case.version}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.state == CaseState.reopened and case.evaluation_reopens == 1
    assert "重新办理" in html(resident.get(url))


def test_a_stale_version_is_a_clear_409(resident: Client, env: Env) -> None:
    case = closed_case(env)
    url = reverse("cases:h5_case", args=[case.pk])
    response = resident.post(url, {"op": "evaluate", "rating": "satisfied", "version": case.version - 1})
    assert response.status_code == 409
    page = html(response)
    assert "刚刚有了新进展" in page
    assert f'name="version" value="{case.version}"' in page  # the retry carries the current version
    assert Case.objects.get(pk=case.pk).rating == ""


def test_resident_withdraws_while_submitted(resident: Client, env: Env) -> None:
    case = submit(env)
    url = reverse("cases:h5_case", args=[case.pk])
    assert "撤回这条反映" in html(resident.get(url))
    response = resident.post(url, {"op": "cancel", "reason": "", "version": case.version})
    assert response.status_code == 400 and "请填写撤回原因" in html(response)
    response = resident.post(url, {"op": "cancel", "reason": "已经自己解决了", "version": case.version})
    assert response.status_code == 302
    assert Case.objects.get(pk=case.pk).state == CaseState.cancelled
    page = html(resident.get(url))
    assert "撤回反映" in page and "已作废" in page and "撤回这条反映" not in page
    assert CaseEvent.objects.filter(case=case, action="cancel", role="resident").exists()


def test_withdrawing_after_acceptance_is_refused_with_the_new_state(resident: Client, env: Env) -> None:
    case = submit(env)
    url = reverse("cases:h5_case", args=[case.pk])
    act(env, case, AccountRole.COMMUNITY_WORKER, Action.accept)
    response = resident.post(url, {"op": "cancel", "reason": "不需要了", "version": case.version})
    assert response.status_code == 409 and "刚刚有了新进展" in html(response)
    assert "撤回这条反映" not in html(response) and "社区自办" in html(response)
    assert Case.objects.get(pk=case.pk).state == CaseState.accepted
