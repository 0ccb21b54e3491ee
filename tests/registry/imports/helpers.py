"""Files and runs for the import tests."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

from openpyxl import Workbook

from grassroots.audit.services import SYSTEM
from grassroots.core.ids import make_id_number
from grassroots.core.scope import Scope
from grassroots.registry.imports import services
from grassroots.registry.models import ImportJob, Source

HEADERS = ["姓名", "身份证号码", "联系电话", "性别", "现住址", "户籍地址", "人员类型", "低保"]


def person_id(seq: int, sex: str = "M", born: date = date(1980, 5, 17)) -> str:
    return make_id_number("320583", born, seq, sex)


def csv_bytes(rows: list[list[Any]], headers: list[str] = HEADERS, encoding: str = "utf-8") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list[Any]], headers: list[str] | None = HEADERS, sheet: str = "人员") -> bytes:
    book = Workbook()
    ws = book.active
    ws.title = sheet
    if headers:
        ws.append(headers)
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def source(code: str = "police", trust: int = 50, name: str = "公安") -> Source:
    return Source.objects.create(code=code, name=name, trust=trust)


def upload(data: bytes, name: str, src: Source, area: Any, **kwargs: Any) -> ImportJob:
    job, _ = services.import_job_create(
        actor=SYSTEM, scope=Scope(area_path=area.path), source=src, data=data, file_name=name, **kwargs
    )
    return job


def run(job: ImportJob, mapping: dict[str, str] | None = None) -> ImportJob:
    job.refresh_from_db()
    services.import_job_start(actor=SYSTEM, job=job, mapping=mapping or job.mapping, enqueue=False)
    return services.import_job_run(job_id=job.pk, actor=SYSTEM)


def import_file(data: bytes, name: str, src: Source, area: Any) -> ImportJob:
    return run(upload(data, name, src, area))
