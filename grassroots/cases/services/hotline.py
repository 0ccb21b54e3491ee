"""Importing 12345 hotline work orders (xlsx/xls/csv) as cases: preview, then confirm row by row.

Columns are found by header text with synonyms (工单编号/工单号/受理编号, 诉求类型/问题分类, …),
never by position. Each row becomes a case on the ``hotline_12345`` channel whose
``external_ref`` is the order number, so importing the same file twice adds nothing. A row is
located by its coordinates (GCJ-02 or WGS-84), else by matching its address to a building,
and must fall inside the importer's area. Rows are written one by one, each in its own
savepoint: a bad row is reported and never costs the good ones. The caller's phone is sealed
by ``case_submit`` and only ever shown masked.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core import signing
from django.db import IntegrityError, transaction

from grassroots.audit.services import Actor, audit_record
from grassroots.cases.coords import gcj02_to_wgs84
from grassroots.cases.models import Case, Category, Channel
from grassroots.cases.services.cases import case_submit
from grassroots.core import clock
from grassroots.core.crypto import decrypt, encrypt
from grassroots.core.errors import DomainError, NotFound
from grassroots.core.masking import mask_phone
from grassroots.core.scope import Scope
from grassroots.places import selectors as places
from grassroots.places.models import Building
from grassroots.registry.imports.address import building_number, normalise_address, parse_address, road_number
from grassroots.registry.imports.mapping import normalise_header
from grassroots.registry.imports.readers import Cell, cell_text, read_table

# field → (label shown in messages, header synonyms).
FIELDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "order": ("工单编号", ("工单编号", "工单号", "受理编号", "工单流水号", "受理号", "工单编码")),
    "received_at": ("来电时间", ("来电时间", "受理时间", "登记时间", "来电日期", "受理日期")),
    "category": ("诉求类型", ("诉求类型", "问题分类", "诉求分类", "问题类型", "事项分类", "事项编码")),
    "description": ("诉求内容", ("诉求内容", "问题描述", "来电内容", "诉求描述", "工单内容")),
    "address": ("地址", ("地址", "事发地址", "事发地点", "问题地址", "诉求地址")),
    "lon": ("经度", ("经度", "lon", "lng", "longitude")),
    "lat": ("纬度", ("纬度", "lat", "latitude")),
    "coord": ("坐标系", ("坐标系", "坐标类型", "坐标系统")),
    "contact_name": ("来电人", ("来电人", "联系人", "来电人姓名", "诉求人", "联系人姓名")),
    "contact_phone": ("联系电话", ("联系电话", "来电号码", "联系人电话", "来电人电话", "联系方式")),
}
REQUIRED = ("order", "category", "description")
_LOOKUP = {normalise_header(s): f for f, (_, names) in FIELDS.items() for s in names}
COLUMNS_HELP = [label for label, _ in FIELDS.values()]
COORDS = ("gcj02", "wgs84")
MAX_ROWS = 5000
MAX_DESCRIPTION = 5000
PREVIEW_ROWS = 20
BATCH = 100
TOKEN_SALT = "cases.hotline_import"  # noqa: S105 (a signing salt, not a password)
TOKEN_MAX_AGE = 60 * 60
_SCIENTIFIC = re.compile(r"^\d(\.\d+)?[eE]\+?\d+$")
_ORDER_OK = re.compile(r"^[0-9A-Za-z_\-./#]{1,64}$")
_GCJ_WORDS = ("gcj", "火星", "高德", "腾讯", "国测局")
_WGS_WORDS = ("wgs", "gps", "84")
_BD_WORDS = ("bd", "百度")


class HotlineImportError(DomainError):
    """The file as a whole cannot be imported (no rows, a required column missing …)."""

    code = "hotline_import"


@dataclass
class HotlineRow:
    row: int
    order: str = ""
    received_at: str = ""
    category: Category | None = None
    category_text: str = ""
    description: str = ""
    address: str = ""
    lon: float | None = None  # WGS-84
    lat: float | None = None
    building: Building | None = None
    grid_name: str = ""
    contact_name: str = ""
    contact_phone: str = ""
    existing: bool = False
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and not self.existing

    @property
    def phone_masked(self) -> str:
        digits = "".join(ch for ch in self.contact_phone if ch.isdigit())
        return mask_phone(digits) if digits else ""

    @property
    def contact_masked(self) -> str:
        return (self.contact_name[:1] + "*" * (len(self.contact_name) - 1)) if self.contact_name else ""


@dataclass
class HotlinePreview:
    rows: list[HotlineRow]
    coord: str

    @property
    def ready(self) -> list[HotlineRow]:
        return [r for r in self.rows if r.ok]

    @property
    def existing(self) -> list[HotlineRow]:
        return [r for r in self.rows if r.existing]

    @property
    def refused(self) -> list[HotlineRow]:
        return [r for r in self.rows if r.problems]

    @property
    def shown(self) -> list[HotlineRow]:
        """The first rows, then every other row with a problem (a problem is never hidden)."""
        head = self.rows[:PREVIEW_ROWS]
        return head + [r for r in self.rows[PREVIEW_ROWS:] if r.problems]

    @property
    def problems(self) -> list[tuple[int, str]]:
        return [(r.row, p) for r in self.rows for p in r.problems]


@dataclass
class HotlineResult:
    created: list[tuple[int, str]] = field(default_factory=list)  # (row, case number)
    existing: list[int] = field(default_factory=list)
    refused: list[tuple[int, str, str]] = field(default_factory=list)  # (row, order number, reason)

    @property
    def counts(self) -> dict[str, int]:
        return {"created": len(self.created), "existing": len(self.existing), "refused": len(self.refused)}


RawRow = tuple[int, dict[str, Any]]  # (row number, {field: text, or the number an order cell held})


# --- reading ---------------------------------------------------------------------------------


def _order_cell(value: Cell) -> Any:
    # Numbers stay numbers so the check can tell a lossless 14-digit order number from a mangled one.
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    return cell_text(value)


def read_hotline_rows(data: bytes, file_name: str) -> list[RawRow]:
    """The file's rows keyed by field; a missing required column refuses the whole file."""
    table = read_table(data, file_name)
    columns: dict[str, str] = {}
    for header in table.headers:
        found = _LOOKUP.get(normalise_header(header))
        if found and found not in columns:
            columns[found] = header
    missing = [FIELDS[f][0] for f in REQUIRED if f not in columns]
    if missing:
        raise HotlineImportError(f"缺少列：{'、'.join(missing)}。表头应包括：{'、'.join(COLUMNS_HELP)}。")
    if ("lon" in columns) != ("lat" in columns):
        raise HotlineImportError("经度和纬度两列须同时提供。")
    if not table.rows:
        raise HotlineImportError("文件里没有数据行。")
    if len(table.rows) > MAX_ROWS:
        raise HotlineImportError(f"一次最多导入{MAX_ROWS}条工单，本文件有{len(table.rows)}行，请拆分后导入。")
    rows: list[RawRow] = []
    for number, cells in table.rows:
        values: dict[str, Any] = {}
        for name, header in columns.items():
            value = cells.get(header)
            values[name] = _order_cell(value) if name == "order" else cell_text(value)
        rows.append((number, values))
    return rows


# --- locating by address ---------------------------------------------------------------------


@dataclass(frozen=True)
class _BuildingEntry:
    building_id: int
    path: str
    compound: str
    number: int | None
    name: str
    road: str


class BuildingIndex:
    """Every building, keyed by compound and building number, for matching free-text addresses.

    Built over the whole city on purpose: an address in someone else's area is then refused as
    out of scope rather than as unknown, which tells the importer what to do with the row.
    """

    def __init__(self, entries: Iterable[_BuildingEntry]) -> None:
        self.entries = list(entries)
        self.compounds = sorted({e.compound for e in self.entries if e.compound}, key=len, reverse=True)

    @classmethod
    def load(cls) -> BuildingIndex:
        rows = Building.objects.values_list("id", "path", "name", "address", "compound__name")
        return cls(
            _BuildingEntry(bid, path, normalise_address(cname or ""), building_number(name), name, road_number(addr))
            for bid, path, name, addr, cname in rows.iterator(chunk_size=5000)
        )

    def match(self, raw: str) -> tuple[int | None, str]:
        """(building id, "") or (None, why the address does not locate)."""
        parsed = parse_address(raw)
        if not parsed.text:
            return None, "地址为空，且没有经纬度，无法定位到网格。"
        compound = next((c for c in self.compounds if c in parsed.text), "")
        if compound:
            candidates = [e for e in self.entries if e.compound == compound]
        else:
            candidates = [e for e in self.entries if e.road and e.road in parsed.text]
        if not candidates:
            return None, "地址无法定位到网格：没有找到对应的小区或门牌。"
        if parsed.building is None:
            if len(candidates) == 1:
                return candidates[0].building_id, ""
            return None, "地址无法定位到网格：地址中没有楼栋号。"
        found = [e for e in candidates if e.number == parsed.building]
        if len(found) > 1:
            on_road = [e for e in found if e.road and e.road in parsed.text]
            found = on_road or found
        if not found:
            return None, f"地址无法定位到网格：该小区没有{parsed.building}号楼。"
        if len(found) > 1:
            return None, f"地址无法定位到网格：有{len(found)}栋楼可能对应，请补充小区名或门牌号。"
        return found[0].building_id, ""


# --- checking --------------------------------------------------------------------------------


class _Lookup:
    def __init__(self) -> None:
        active = list(Category.objects.filter(is_active=True).select_related("parent"))
        self.by_code = {c.code.lower(): c for c in active}
        self.by_name: dict[str, list[Category]] = {}
        for c in active:
            self.by_name.setdefault(c.name, []).append(c)
            if c.parent is not None:
                self.by_name.setdefault(f"{c.parent.name}/{c.name}", []).append(c)
        self._buildings: BuildingIndex | None = None
        self._building_rows: dict[int, Building] = {}

    @property
    def buildings(self) -> BuildingIndex:
        if self._buildings is None:
            self._buildings = BuildingIndex.load()
        return self._buildings

    def category(self, text: str) -> tuple[Category | None, str]:
        if text.strip().lower() in self.by_code:
            return self.by_code[text.strip().lower()], ""
        key = re.sub(r"\s*[/／>＞]\s*", "/", text.strip())
        found = self.by_name.get(key, [])
        if len(found) == 1:
            return found[0], ""
        if not found:
            return None, f"诉求类型“{text}”不是启用中的事项分类（请填写事项名称或编码）。"
        codes = "、".join(c.code for c in found)
        return None, f"诉求类型“{text}”有{len(found)}个同名事项，请改填事项编码（{codes}）。"

    def building(self, building_id: int) -> Building:
        if building_id not in self._building_rows:
            self._building_rows[building_id] = Building.objects.select_related("grid").get(pk=building_id)
        return self._building_rows[building_id]


def _order_number(plan: HotlineRow, value: Any) -> None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        # Excel keeps 15 significant digits: a longer order number stored as a number has lost its tail.
        if (isinstance(value, float) and not value.is_integer()) or abs(value) >= 1e15:
            plan.problems.append(
                "工单编号在Excel中是数字格式，末尾数字可能已丢失（Excel只保留15位有效数字）；"
                "请把该列设为文本格式后重新导出。"
            )
            return
        plan.order = str(int(value))
        return
    text = str(value or "").strip()
    if _SCIENTIFIC.match(text):
        plan.problems.append("工单编号被显示成科学计数法，末尾数字已丢失；请在Excel中把该列设为文本后重新导出。")
    elif not text:
        plan.problems.append("工单编号不能为空。")
    elif not _ORDER_OK.match(text):
        plan.problems.append("工单编号只能包含字母、数字和 - _ . / #，且不超过64个字符。")
    else:
        plan.order = text


def _coord_system(text: str, default: str) -> tuple[str, str]:
    word = text.strip().lower()
    if not word:
        return default, ""
    if any(w in word for w in _BD_WORDS):
        return "", "坐标系为百度坐标（BD-09），暂不支持；请导出 GCJ-02 或 WGS-84 坐标。"
    if any(w in word for w in _GCJ_WORDS):
        return "gcj02", ""
    if any(w in word for w in _WGS_WORDS):
        return "wgs84", ""
    return "", f"坐标系“{text}”无法识别，只能填 GCJ-02 或 WGS-84。"


def _locate(plan: HotlineRow, cells: dict[str, Any], coord: str, scope: Scope, lookup: _Lookup) -> None:
    lon_text, lat_text = str(cells.get("lon", "")).strip(), str(cells.get("lat", "")).strip()
    if lon_text or lat_text:
        try:
            lon, lat = float(lon_text), float(lat_text)
        except ValueError:
            plan.problems.append("经度/纬度不是有效的数字（须同时填写）。")
            return
        system, problem = _coord_system(str(cells.get("coord", "")), coord)
        if problem:
            plan.problems.append(problem)
            return
        if system == "gcj02":
            lon, lat = gcj02_to_wgs84(lon, lat)
        try:
            grid = places.case_grid_at_point(scope=Scope.everything(), lon=lon, lat=lat)
        except NotFound:
            plan.problems.append("经纬度不在本平台的任何网格内，无法定位到网格。")
            return
        except DomainError as exc:
            plan.problems.append(f"经纬度有误：{exc.message}")
            return
        plan.lon, plan.lat = lon, lat
    else:
        building_id, problem = lookup.buildings.match(plan.address)
        if building_id is None:
            plan.problems.append(problem)
            return
        plan.building = lookup.building(building_id)
        grid = plan.building.grid
    plan.grid_name = grid.name
    if not scope.covers_path(grid.path):
        plan.problems.append("位置不在您的管辖范围内，请转交所属街道或社区导入。")


def _check_phone(plan: HotlineRow) -> None:
    digits = "".join(ch for ch in plan.contact_phone if ch.isdigit())
    if plan.contact_phone and not 7 <= len(digits) <= 15:
        plan.problems.append("联系电话格式不正确。")


def hotline_import_check(*, scope: Scope, rows: list[RawRow], coord: str = "gcj02") -> HotlinePreview:
    """Every row checked against the current tables; nothing is written."""
    if coord not in COORDS:
        raise HotlineImportError("坐标系只能是 gcj02 或 wgs84。")
    lookup = _Lookup()
    plans: list[HotlineRow] = []
    seen: dict[str, int] = {}
    for number, cells in rows:
        plan = HotlineRow(
            row=number,
            received_at=str(cells.get("received_at", "")),
            category_text=str(cells.get("category", "")).strip(),
            description=str(cells.get("description", "")).strip(),
            address=str(cells.get("address", "")).strip()[:255],
            contact_name=str(cells.get("contact_name", "")).strip()[:50],
            contact_phone=str(cells.get("contact_phone", "")).strip(),
        )
        plans.append(plan)
        _order_number(plan, cells.get("order"))
        if plan.order:
            if plan.order in seen:
                plan.problems.append(f"工单编号与第{seen[plan.order]}行重复。")
            else:
                seen[plan.order] = plan.row
        if not plan.category_text:
            plan.problems.append("诉求类型不能为空。")
        else:
            plan.category, problem = lookup.category(plan.category_text)
            if problem:
                plan.problems.append(problem)
        if not plan.description:
            plan.problems.append("诉求内容不能为空。")
        elif len(plan.description) > MAX_DESCRIPTION:
            plan.problems.append(f"诉求内容超过{MAX_DESCRIPTION}字。")
        _check_phone(plan)
        _locate(plan, cells, coord, scope, lookup)
    existing = set(
        Case.objects.filter(channel=Channel.HOTLINE_12345, external_ref__in=list(seen)).values_list(
            "external_ref", flat=True
        )
    )
    for plan in plans:
        if plan.order in existing and not plan.problems:
            plan.existing = True
    return HotlinePreview(plans, coord)


# --- writing ---------------------------------------------------------------------------------


def hotline_import_apply(
    *,
    actor: Actor,
    user: Any,
    scope: Scope,
    rows: list[RawRow],
    file_name: str,
    coord: str = "gcj02",
    now: datetime | None = None,
) -> HotlineResult:
    """Check again (the tables may have changed since the preview) and create each good row's case.

    Batches of rows share a transaction; each row has its own savepoint, so a row refused at
    write time (a concurrent import of the same order, a grid redrawn meanwhile) is reported and
    the others are kept. ``user`` becomes the reporter (None for a command).
    """
    now = now or clock.now()
    preview = hotline_import_check(scope=scope, rows=rows, coord=coord)
    result = HotlineResult()
    for plan in preview.rows:
        if plan.problems:
            result.refused.append((plan.row, plan.order, "；".join(plan.problems)))
        elif plan.existing:
            result.existing.append(plan.row)
    ready = preview.ready
    for start in range(0, len(ready), BATCH):
        with transaction.atomic():
            for plan in ready[start : start + BATCH]:
                _write_row(plan, user=user, scope=scope, now=now, result=result)
    result.refused.sort()
    audit_record(
        actor=actor,
        action="cases.hotline.import",
        object_type="hotline_import",
        area_path=scope.area_path or "",
        detail={"file": file_name, "rows": len(preview.rows), "coord": coord, **result.counts},
        at=now,
    )
    return result


def _write_row(plan: HotlineRow, *, user: Any, scope: Scope, now: datetime, result: HotlineResult) -> None:
    assert plan.category is not None
    try:
        with transaction.atomic():
            submitted = case_submit(
                actor=user,
                scope=scope,
                channel=Channel.HOTLINE_12345,
                category=plan.category,
                description=plan.description,
                lon=plan.lon,
                lat=plan.lat,
                building=plan.building,
                external_ref=plan.order,
                contact_name=plan.contact_name,
                contact_phone=plan.contact_phone,
                address_text=plan.address,
                now=now,
            )
    except IntegrityError:
        # Another import of the same order won the race: the unique constraint is the last word.
        result.existing.append(plan.row)
    except DomainError as exc:
        result.refused.append((plan.row, plan.order, exc.message))
    else:
        result.created.append((plan.row, submitted.case.number or ""))


# --- the preview token -----------------------------------------------------------------------


def _context(user_id: int | None) -> str:
    return f"cases.hotline_import.{user_id or 0}"


def preview_token(rows: list[RawRow], file_name: str, coord: str, *, user_id: int | None) -> str:
    """The checked rows for the confirm step, signed and sealed: they hold callers' phones."""
    signed = signing.dumps({"file": file_name, "coord": coord, "rows": rows}, salt=TOKEN_SALT, compress=True)
    return base64.urlsafe_b64encode(encrypt(signed, context=_context(user_id))).decode()


def rows_from_token(token: str, *, user_id: int | None) -> tuple[list[RawRow], str, str]:
    """(rows, file name, coordinate system) from ``preview_token``; the same user only."""
    try:
        signed = decrypt(base64.urlsafe_b64decode(token.encode()), context=_context(user_id))
        payload = signing.loads(signed, salt=TOKEN_SALT, max_age=TOKEN_MAX_AGE)
    except Exception:  # noqa: BLE001 - bad base64, a foreign or altered seal, an expired signature
        raise HotlineImportError("预览已过期或无效，请重新上传文件。") from None
    rows = [(int(number), dict(cells)) for number, cells in payload["rows"]]
    return rows, str(payload["file"]), str(payload["coord"])


def refused_report_token(result: HotlineResult) -> str:
    """The refused rows (row, order number, reason: no personal data), signed for the CSV download."""
    return signing.dumps(result.refused, salt=TOKEN_SALT + ".report", compress=True)


def refused_report_rows(token: str) -> list[tuple[int, str, str]]:
    try:
        rows = signing.loads(token, salt=TOKEN_SALT + ".report", max_age=TOKEN_MAX_AGE)
    except signing.BadSignature:
        raise HotlineImportError("清单已过期或无效，请重新导入查看。") from None
    return [(int(r), str(o), str(m)) for r, o, m in rows]
