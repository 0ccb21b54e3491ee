"""One row → cleaned values and problems, each naming its field in Chinese.

Problems are stored with the source record, so their messages never carry personal
data: no ID digits, no phone, no address text. Levels: "error" rejects the row,
"warning" keeps it (the value is dropped or left unmatched), "info" is only shown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from grassroots.core.ids import InvalidIdNumber, InvalidPhone, parse_id_number, parse_mobile
from grassroots.registry.imports.address import AddressIndex, AddressMatch
from grassroots.registry.imports.mapping import FIELDS, TAG_FIELDS
from grassroots.registry.imports.readers import Cell, cell_text
from grassroots.registry.models import ResidenceKind

MAX_NAME = 50
MAX_ADDRESS = 255
_QUOTED = re.compile(r"“[^”]*”")
_CHECK_DETAIL = re.compile(r"：应为.*?。")
# What Excel shows for a long number typed into a general cell, copied into a CSV: 3.20583E+17.
_SCIENTIFIC = re.compile(r"^\d(\.\d+)?[eE]\+?\d+$")
_YES = {"是", "有", "y", "yes", "true", "1", "√", "✓", "是的"}
_NO = {"否", "无", "n", "no", "false", "0", "×", "不是", ""}
_KINDS = {
    "户籍": ResidenceKind.REGISTERED,
    "户籍人口": ResidenceKind.REGISTERED,
    "常住": ResidenceKind.RESIDENT,
    "常住人口": ResidenceKind.RESIDENT,
    "寄住": ResidenceKind.RESIDENT,
    "流动": ResidenceKind.FLOATING,
    "流动人口": ResidenceKind.FLOATING,
    "外来人口": ResidenceKind.FLOATING,
}
_SEXES = {"男": "M", "女": "F", "m": "M", "f": "F", "男性": "M", "女性": "F"}
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日")


@dataclass
class RowResult:
    row_number: int
    raw: dict[str, str]  # header → cell text, as the file had it
    problems: list[dict[str, str]] = field(default_factory=list)
    name: str = ""
    id_number: str = ""  # 18 characters when valid
    sex: str = ""
    birth_date: date | None = None
    phone: str = ""
    ethnicity: str = ""
    relation: str = ""
    kind: str = ""  # ResidenceKind of the actual address
    registered_address: str = ""
    actual_address: str = ""
    registered: AddressMatch | None = None
    actual: AddressMatch | None = None
    tags: set[str] = field(default_factory=set)

    @property
    def accepted(self) -> bool:
        return not any(p["level"] == "error" for p in self.problems)

    def problem(self, field_name: str, message: str, level: str = "error") -> None:
        label = FIELDS.get(field_name, field_name)
        self.problems.append({"field": field_name, "label": label, "level": level, "message": message})

    def problems_for(self, field_name: str) -> list[dict[str, str]]:
        return [p for p in self.problems if p["field"] == field_name]


def safe_id_message(message: str) -> str:
    """parse_id_number's message without the digits it quotes."""
    return _CHECK_DETAIL.sub("。", _QUOTED.sub("", message))


def _parse_date(value: Cell) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = cell_text(value)
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def _check_id(result: RowResult, value: Cell) -> None:
    text = cell_text(value)
    if isinstance(value, int | float) and not isinstance(value, bool) and abs(value) >= 1e15:
        # Excel keeps 15 significant digits: an 18-digit ID stored as a number has lost its tail.
        result.problem(
            "id_number",
            "身份证号在Excel中是数字格式，末尾数字已丢失（Excel只保留15位有效数字）；"
            "请把该列设为文本格式、重新录入后再导入。",
        )
        return
    if _SCIENTIFIC.match(text):
        result.problem("id_number", "身份证号被显示成科学计数法，末尾数字已丢失；请在Excel中把该列设为文本后重新导出。")
        return
    if not text:
        result.problem("id_number", "身份证号为空。")
        return
    try:
        info = parse_id_number(text)
    except InvalidIdNumber as exc:
        result.problem("id_number", safe_id_message(exc.message))
        return
    result.id_number, result.sex, result.birth_date = info.number, info.sex, info.birth_date
    if len(text.strip()) == 15:
        result.problem("id_number", "15位身份证号已转换为18位。", "info")


def validate_row(
    row_number: int,
    cells: dict[str, Cell],
    mapping: dict[str, str],
    addresses: AddressIndex,
) -> RowResult:
    """Validate one row mapped by header text; addresses are matched inside the index's scope."""
    result = RowResult(row_number=row_number, raw={h: cell_text(v) for h, v in cells.items()})
    by_field: dict[str, Any] = {f: cells.get(h, "") for h, f in mapping.items() if f}

    name = re.sub(r"\s+", "", cell_text(by_field.get("name")))
    if not name:
        result.problem("name", "姓名为空。")
    elif len(name) > MAX_NAME:
        result.problem("name", f"姓名过长（超过{MAX_NAME}个字）。")
    result.name = name[:MAX_NAME]

    _check_id(result, by_field.get("id_number"))

    if "sex" in by_field and cell_text(by_field["sex"]) and result.sex:
        given = _SEXES.get(cell_text(by_field["sex"]).lower())
        if given is None:
            result.problem("sex", "性别应填“男”或“女”。", "warning")
        elif given != result.sex:
            result.problem("sex", "性别与身份证号不一致。")
    if "birth_date" in by_field and cell_text(by_field["birth_date"]) and result.birth_date:
        given_date = _parse_date(by_field["birth_date"])
        if given_date is None:
            result.problem("birth_date", "出生日期无法识别（应为 2000-01-31 这样的格式）。", "warning")
        elif given_date != result.birth_date:
            result.problem("birth_date", "出生日期与身份证号不一致。")

    phone = cell_text(by_field.get("phone"))
    if phone:
        try:
            result.phone = parse_mobile(phone)
        except InvalidPhone:
            result.problem("phone", "手机号格式不正确（应为1开头的11位数字），该值未导入。", "warning")

    result.ethnicity = cell_text(by_field.get("ethnicity"))[:20]
    result.relation = cell_text(by_field.get("relation"))[:16]

    kind_text = cell_text(by_field.get("residence_kind"))
    result.kind = _KINDS.get(kind_text, "")
    if kind_text and not result.kind:
        result.problem("residence_kind", "人员类型应为“户籍”“常住”或“流动”，已按常住处理。", "warning")

    for tag_field, code in TAG_FIELDS.items():
        text = cell_text(by_field.get(tag_field)).lower()
        if text in _YES:
            result.tags.add(code)
        elif text not in _NO:
            result.problem(tag_field, "应填“是”或“否”，该值未导入。", "warning")

    for field_name in ("registered_address", "actual_address"):
        text = cell_text(by_field.get(field_name))[:MAX_ADDRESS]
        setattr(result, field_name, text)
        if not text:
            continue
        found = addresses.match(text)
        setattr(result, "registered" if field_name == "registered_address" else "actual", found)
        address_problem(result, field_name, found)
    return result


def address_problem(result: RowResult, field_name: str, found: AddressMatch) -> None:
    """The row's problem for how an address matched (none when it matched fully by itself)."""
    if found.status in ("unmatched", "ambiguous"):
        # An unmatched registered address is normal (registered elsewhere): kept as text.
        # An unplaced actual address goes to the review list (pipeline), unless already decided.
        actual = field_name == "actual_address"
        queued = "已加入待确认地址，由工作人员指定房屋。" if actual and found.needs_review else ""
        level = "warning" if actual else "info"
        result.problem(field_name, f"未匹配到房屋：{found.reason}，按地址文本登记。{queued}", level)
    elif found.choice_id is not None:
        result.problem(field_name, f"{found.reason}（工作人员已指定房屋）。", "info")
    elif found.confidence < 1.0:
        result.problem(field_name, f"{found.reason}（可信度{found.confidence:.0%}）。", "info")
