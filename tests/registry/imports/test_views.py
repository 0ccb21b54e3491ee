"""Pages: permission, scope, upload → mapping/preview → start → job done → rejected download."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from grassroots.accounts.models import Role
from grassroots.audit.models import AuditEntry
from grassroots.audit.services import SYSTEM
from grassroots.registry.imports import services
from grassroots.registry.models import ImportJob, ImportStatus, Person, SourceRecord
from tests.registry.imports.helpers import csv_bytes, person_id, source, upload

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def worker(client, tree):
    client.force_login(tree.users[Role.COMMUNITY_WORKER])
    return client


def rows() -> bytes:
    return csv_bytes(
        [
            ["张三", person_id(1), "13812340001", "男", "阳光花园1幢1单元101室", "", "常住", ""],
            ["李四", person_id(2)[:-1] + "0" if person_id(2)[-1] != "0" else "1", "", "", "", "", "", ""],
            ["=cmd|' /C calc'!A0", "1", "", "", "", "", "", ""],
            ["王五", person_id(3), "", "", "幸福家园1幢1单元101室", "", "", ""],
        ]
    )


@pytest.mark.parametrize("role", [Role.GRID_WORKER, Role.DEPARTMENT_OFFICER, Role.PARTY_SECRETARY, Role.RESIDENT])
def test_roles_without_registry_import_are_refused(client, tree, role):
    client.force_login(tree.users[role])
    job = upload(rows(), "a.csv", source(), tree.chengbei)
    for url in [reverse("imports:list"), reverse("imports:upload"), reverse("imports:detail", args=[job.pk])]:
        assert client.get(url).status_code in (403, 404)


def test_anonymous_is_sent_to_login(client, tree):
    assert client.get(reverse("imports:list")).status_code == 302


def test_another_communitys_job_is_404(client, tree):
    job = upload(rows(), "a.csv", source(), tree.chengbei)
    client.force_login(tree.outsiders[Role.COMMUNITY_WORKER])
    for name in ["detail", "mapping", "progress", "rejected"]:
        assert client.get(reverse(f"imports:{name}", args=[job.pk])).status_code == 404
    assert client.post(reverse("imports:retry", args=[job.pk])).status_code == 404
    assert "a.csv" not in client.get(reverse("imports:list")).content.decode()


def test_upload_preview_start_done_and_download(worker, tree, settings, django_capture_on_commit_callbacks):
    settings.TASKS = IMMEDIATE
    src = source()
    response = worker.post(
        reverse("imports:upload"), {"source": src.pk, "file": SimpleUploadedFile("名单.csv", rows())}
    )
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("imports:mapping", args=[job.pk])
    assert job.path == tree.chengbei.path and job.status == ImportStatus.UPLOADED

    page = worker.get(response["Location"]).content.decode()
    assert "前 4 行" in page and "UTF-8" in page
    assert 'value="id_number" selected' in page and "身份证号校验位错误" in page and "cell-error" in page
    assert "未匹配到房屋" in page and "将拒收" in page
    assert SourceRecord.objects.count() == Person.objects.count() == 0  # the preview writes nothing

    headers = services.import_job_preview(job=job).table.headers  # page order (jsonb reorders keys)
    posted = {f"col_{i}": job.mapping[h] for i, h in enumerate(headers)}
    with django_capture_on_commit_callbacks(execute=True):
        response = worker.post(
            reverse("imports:mapping", args=[job.pk]),
            {**posted, "sheet": "", "shown_sheet": "", "action": "start"},
        )
    assert response.status_code == 302
    job.refresh_from_db()
    assert (job.status, job.accepted_rows, job.rejected_rows) == (ImportStatus.DONE, 2, 2)
    assert job.task_id.startswith("task:")

    page = worker.get(reverse("imports:detail", args=[job.pk])).content.decode()
    assert "已完成" in page and "下载拒收行" in page and "幸福家园1幢1单元101室" in page
    partial = worker.get(reverse("imports:progress", args=[job.pk]), HTTP_HX_REQUEST="true")
    assert partial["HX-Refresh"] == "true" and "hx-get" not in partial.content.decode()

    download = worker.get(reverse("imports:rejected", args=[job.pk]))
    sheet = load_workbook(io.BytesIO(download.content)).active
    cells = [c for row in sheet.iter_rows() for c in row]
    assert {c.data_type for c in cells} <= {"s", "inlineStr"}  # text only: no "f" (formula), no "n"
    assert "=cmd|' /C calc'!A0" in [c.value for c in cells]
    assert job.file_name in worker.get(reverse("imports:list")).content.decode()


def test_mapping_errors_are_shown_and_nothing_starts(worker, tree):
    job = upload(rows(), "a.csv", source(), tree.chengbei)
    response = worker.post(
        reverse("imports:mapping", args=[job.pk]), {"col_0": "", "sheet": "", "shown_sheet": "", "action": "start"}
    )
    assert response.status_code == 400 and "必须指定哪一列是“姓名”" in response.content.decode()
    job.refresh_from_db()
    assert job.status == ImportStatus.UPLOADED


def test_refused_upload_shows_a_chinese_message(worker, tree, settings):
    settings.IMPORT_MAX_ROWS = 1
    response = worker.post(
        reverse("imports:upload"), {"source": source().pk, "file": SimpleUploadedFile("a.csv", rows())}
    )
    assert response.status_code == 400 and "数据行过多" in response.content.decode()
    assert ImportJob.objects.count() == 0


def test_admin_must_pick_an_area(client, tree):
    client.force_login(tree.users[Role.ADMIN])
    src = source()
    response = client.post(reverse("imports:upload"), {"source": src.pk, "file": SimpleUploadedFile("a.csv", rows())})
    assert response.status_code == 400 and ImportJob.objects.count() == 0
    response = client.post(
        reverse("imports:upload"),
        {"source": src.pk, "file": SimpleUploadedFile("a.csv", rows()), "area": tree.chengnan.pk},
    )
    assert response.status_code == 302 and ImportJob.objects.get().path == tree.chengnan.path


def test_a_stale_running_job_can_be_retried(worker, tree, settings, django_capture_on_commit_callbacks):
    settings.TASKS = IMMEDIATE
    job = upload(rows(), "a.csv", source(), tree.chengbei)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.RUNNING, mapping={**job.mapping}, heartbeat_at=None)
    assert "重试" in worker.get(reverse("imports:detail", args=[job.pk])).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        assert worker.post(reverse("imports:retry", args=[job.pk])).status_code == 302
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE and job.processed_rows == 4


def test_preview_masks_id_numbers_and_phones(worker, tree):
    job = upload(rows(), "a.csv", source(), tree.chengbei)
    page = worker.get(reverse("imports:mapping", args=[job.pk])).content.decode()
    assert person_id(1) not in page and "13812340001" not in page
    assert person_id(1)[:4] + "**********" + person_id(1)[-4:] in page and "138****0001" in page


def test_rejected_rows_file_only_for_the_uploader_or_who_may_unmask(client, tree, settings):
    """A dispatcher may import but not unmask: another person's rejected rows (full IDs) stay closed."""
    settings.TASKS = IMMEDIATE
    job = upload(rows(), "a.csv", source(), tree.chengbei)
    services.import_job_start(actor=SYSTEM, job=job, mapping=job.mapping, enqueue=False)
    services.import_job_run(job_id=job.pk, actor=SYSTEM)
    job.refresh_from_db()
    assert job.rejected_rows == 2
    client.force_login(tree.users[Role.SUBDISTRICT_DISPATCHER])
    assert "下载拒收行" not in client.get(reverse("imports:detail", args=[job.pk])).content.decode()
    assert client.get(reverse("imports:rejected", args=[job.pk])).status_code == 403
    assert not AuditEntry.objects.filter(action="registry.import.rejected_download").exists()
    job.created_by = tree.users[Role.SUBDISTRICT_DISPATCHER]
    job.save()
    assert client.get(reverse("imports:rejected", args=[job.pk])).status_code == 200
    assert AuditEntry.objects.filter(action="registry.import.rejected_download").count() == 1
