"""Every page that takes a spreadsheet refuses bad files the same way, with a Chinese message and no writes.

The places (grep request.FILES / FileField in grassroots/): the registry import
(tests/registry/imports/test_pipeline.py), the duty list, the holiday table, the 12345 hotline
import, the service-guide import and the batch ID lookup here; photos (cases and engage) in
tests/cases/test_photos.py. Each file is refused for its size before it is read, for its
content whatever its name says, and as a zip bomb before any parser inflates it.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from grassroots.accounts.models import Role
from grassroots.audit.models import AuditEntry
from grassroots.audit.services import SYSTEM
from grassroots.cases import services as case_services
from grassroots.cases.models import CalendarDay, Case, DutyAssignment
from grassroots.core.errors import DomainError
from grassroots.core.uploads import read_upload
from grassroots.engage.models import ServiceGuide
from tests.factories import Tree

pytestmark = pytest.mark.django_db

TOO_LARGE = "文件过大"
RENAMED = "内容不是Excel文件"
BOMB = "疑似压缩炸弹"


def zip_bomb(inflated: int = 30 * 1024 * 1024) -> bytes:
    """A small archive shaped like a workbook whose one sheet inflates to ``inflated`` bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr("xl/workbook.xml", '<?xml version="1.0"?><workbook/>')
        with archive.open("xl/worksheets/sheet1.xml", "w") as sheet:
            block = b"\0" * (1024 * 1024)
            for _ in range(inflated // len(block)):
                sheet.write(block)
    return out.getvalue()


def named(data: bytes, name: str) -> io.BytesIO:
    file = io.BytesIO(data)
    file.name = name
    return file


@dataclass
class Place:
    url: str
    role: Role
    fields: Callable[[Tree], dict[str, Any]]
    written: Callable[[], int]  # rows the upload would have written


PLACES = {
    "duty": Place("cases:duty_import", Role.ADMIN, lambda t: {}, lambda: DutyAssignment.objects.count()),
    "calendar": Place(
        "cases:calendar", Role.ADMIN, lambda t: {"year": 2031, "mark_complete": "on"}, CalendarDay.objects.count
    ),
    "hotline": Place("cases:hotline_import", Role.COMMUNITY_WORKER, lambda t: {"coord": "gcj02"}, Case.objects.count),
    "guide": Place(
        "engage:guide_import", Role.COMMUNITY_WORKER, lambda t: {"area": t.chengbei.pk}, ServiceGuide.objects.count
    ),
    "batch": Place("registry:batch", Role.COMMUNITY_WORKER, lambda t: {}, lambda: 0),
}


@pytest.fixture
def bomb() -> bytes:
    data = zip_bomb()
    assert len(data) < 100_000  # small on the wire
    return data


def post(tree: Tree, place: Place, file: io.BytesIO) -> tuple[int, str]:
    client = Client()
    client.force_login(tree.users[place.role])
    response = client.post(reverse(place.url), {**place.fields(tree), "file": file})
    return response.status_code, response.content.decode()


@pytest.mark.parametrize("name", list(PLACES))
def test_zip_bomb_renamed_file_and_oversized_file_are_refused(
    tree: Tree, name: str, bomb: bytes, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    case_services.categories_seed(actor=SYSTEM)
    place = PLACES[name]
    before, audits = place.written(), AuditEntry.objects.count()

    status, body = post(tree, place, named(bomb, "名单.xlsx"))
    assert status == 400 and BOMB in body, body[-2000:]

    status, body = post(tree, place, named(b"\x89PNG\r\n\x1a\n" + b"\0" * 200, "名单.xlsx"))
    assert status == 400 and RENAMED in body

    settings.IMPORT_MAX_BYTES = 1000
    monkeypatch.setattr("grassroots.registry.forms.MAX_UPLOAD", 1000)
    status, body = post(tree, place, named(b"a,b\n" * 400, "名单.csv"))
    assert status in (200, 400) and TOO_LARGE in body  # a form error re-shows the page with the message

    assert place.written() == before
    assert AuditEntry.objects.count() == audits  # no import recorded, nothing written


def test_read_upload_refuses_before_reading_and_when_the_size_lies() -> None:
    class Claimed(io.BytesIO):
        size = 10

    reads: list[int] = []

    class Counting(io.BytesIO):
        size = 5000

        def read(self, size: int | None = -1) -> bytes:
            reads.append(size or -1)
            return super().read(size)

    with pytest.raises(DomainError, match=r"文件过大：0\.0 MB，最大允许 0\.0 MB"):
        read_upload(Counting(b"x" * 5000), limit=1000)
    assert reads == []  # refused by its size alone
    with pytest.raises(DomainError, match="文件过大"):
        read_upload(Claimed(b"x" * 5000), limit=1000)  # claims 10 bytes, holds 5000: at most limit+1 read
    assert read_upload(Claimed(b"x" * 10), limit=1000) == b"x" * 10
