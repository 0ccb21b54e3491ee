"""Reading departments' files: CSV (UTF-8/BOM/GB18030), xlsx and xls (python-calamine).

Everything that can go wrong with a file ends as ``ImportFileError`` with a Chinese
message; nothing here touches the database. Limits are read from settings at call
time so tests can override them.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import PurePath
from typing import Any

from django.conf import settings

from grassroots.core.errors import DomainError

Cell = Any  # str | int | float | bool | date | datetime | time | timedelta | None

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls (BIFF in an OLE2 container)
CSV_ENCODINGS = ("utf-8-sig", "gb18030")  # tried in this order; the first that decodes wins
ENCODING_LABELS = {"utf-8-sig": "UTF-8", "gb18030": "GB18030/GBK"}
TEXT_EXTENSIONS = {".csv", ".txt"}
EXCEL_EXTENSIONS = {".xlsx", ".xlsm", ".xls"}
# Rows scanned for the header; a file whose header sits lower is not a table we understand.
HEADER_SCAN_ROWS = 50
MAX_CELL_CHARS = 10_000


class ImportFileError(DomainError):
    code = "import_file"


@dataclass
class Table:
    kind: str  # "csv" | "xlsx" | "xls"
    sheet: str  # sheet name; "" for CSV
    sheets: list[str]
    headers: list[str]  # unique header texts, in column order
    rows: list[tuple[int, dict[str, Cell]]]  # (row number as the sheet shows it, {header: cell}), non-empty only
    encoding: str = ""  # CSV only: the encoding that decoded the file
    header_row: int = 1
    notes: list[str] = field(default_factory=list)

    @property
    def encoding_label(self) -> str:
        return ENCODING_LABELS.get(self.encoding, self.encoding)


def sniff_kind(data: bytes, file_name: str) -> str:
    """The file's real type from its first bytes; the extension must agree."""
    ext = PurePath(file_name).suffix.lower()
    if ext not in TEXT_EXTENSIONS | EXCEL_EXTENSIONS:
        raise ImportFileError("仅支持 xlsx、xls 和 csv 文件。")
    if not data:
        raise ImportFileError("文件是空的。")
    if data.startswith(ZIP_MAGIC):
        if ext not in {".xlsx", ".xlsm"}:
            raise ImportFileError("文件内容是压缩包（xlsx格式），与扩展名不符，请检查文件。")
        return "xlsx"
    if data.startswith(OLE_MAGIC):
        if ext != ".xls":
            raise ImportFileError("文件内容是旧版Excel（xls格式），与扩展名不符，请检查文件。")
        return "xls"
    if ext in EXCEL_EXTENSIONS:
        raise ImportFileError("文件扩展名是Excel，但内容不是Excel文件（可能已损坏或被改名）。")
    if b"\x00" in data[:65536]:
        raise ImportFileError("文件内容不是文本CSV（含有二进制数据）。")
    return "csv"


def check_size(size: int) -> None:
    limit = int(settings.IMPORT_MAX_BYTES)
    if size > limit:
        raise ImportFileError(f"文件过大：{size / 1048576:.1f} MB，最大允许 {limit / 1048576:.1f} MB。")


def check_zip(data: bytes) -> None:
    """Refuse zip bombs before any parser inflates the archive."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, OSError):
        raise ImportFileError("xlsx文件已损坏，无法打开（压缩包结构错误）。") from None
    names = {m.filename for m in members}
    if "[Content_Types].xml" not in names or not any(n.startswith("xl/") for n in names):
        raise ImportFileError("文件是压缩包，但不是Excel工作簿。")
    total = sum(m.file_size for m in members)
    if total > int(settings.IMPORT_MAX_UNZIPPED_BYTES):
        raise ImportFileError(f"xlsx文件解压后过大（{total / 1048576:.0f} MB），已拒绝。")
    compressed = max(1, sum(m.compress_size for m in members))
    if total / compressed > int(settings.IMPORT_MAX_ZIP_RATIO):
        raise ImportFileError("xlsx文件压缩比异常（疑似压缩炸弹），已拒绝。")


def cell_text(value: Cell) -> str:
    """A cell as the text a person would read in the sheet."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return ""
        return str(int(value)) if value.is_integer() and abs(value) < 1e21 else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    return str(value).strip()[:MAX_CELL_CHARS]


def _is_blank(value: Cell) -> bool:
    return cell_text(value) == ""


def _header_index(grid: list[list[Cell]]) -> int:
    """The first non-empty row holding more than one filled cell (a merged title above is skipped)."""
    first = -1
    for i, row in enumerate(grid[:HEADER_SCAN_ROWS]):
        filled = sum(1 for v in row if not _is_blank(v))
        if filled and first < 0:
            first = i
        if filled > 1:
            return i
    if first < 0:
        raise ImportFileError("表格是空的：没有找到表头行。")
    return first


def _unique_headers(cells: list[Cell]) -> list[str]:
    seen: dict[str, int] = {}
    result = []
    for index, value in enumerate(cells):
        text = cell_text(value).replace("\n", "") or f"第{index + 1}列"
        seen[text] = seen.get(text, 0) + 1
        result.append(text if seen[text] == 1 else f"{text}({seen[text]})")
    return result


def _build_table(grid: list[list[Cell]], *, kind: str, sheet: str, sheets: list[str], first_row: int) -> Table:
    if not grid:
        raise ImportFileError("表格是空的：没有任何数据。")
    h = _header_index(grid)
    header_cells = grid[h]
    # Columns with no header and no data are dropped; a headed column is kept even if empty.
    width = max(len(r) for r in grid)
    used = [c for c in range(width) if any(c < len(r) and not _is_blank(r[c]) for r in grid[h:])]
    headers = _unique_headers([header_cells[c] if c < len(header_cells) else "" for c in used])
    rows: list[tuple[int, dict[str, Cell]]] = []
    for offset, row in enumerate(grid[h + 1 :], start=h + 1):
        cells = {headers[i]: row[c] if c < len(row) else "" for i, c in enumerate(used)}
        if any(not _is_blank(v) for v in cells.values()):
            rows.append((first_row + offset, cells))
    limit = int(settings.IMPORT_MAX_ROWS)
    if len(rows) > limit:
        raise ImportFileError(f"数据行过多：{len(rows)} 行，单个文件最多 {limit} 行，请拆分后导入。")
    return Table(kind=kind, sheet=sheet, sheets=sheets, headers=headers, rows=rows, header_row=first_row + h)


def decode_text(data: bytes) -> tuple[str, str]:
    for encoding in CSV_ENCODINGS:
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise ImportFileError("无法识别CSV文件的编码：请另存为 UTF-8 或 GBK 编码后重试。")


def read_csv(data: bytes) -> Table:
    text, encoding = decode_text(data)
    if "\x00" in text:
        raise ImportFileError("文件内容不是文本CSV（含有二进制数据）。")
    try:
        dialect: Any = csv.Sniffer().sniff(text[:4096], delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    try:
        grid: list[list[Cell]] = [list(r) for r in csv.reader(io.StringIO(text, newline=""), dialect)]
    except csv.Error as exc:
        raise ImportFileError(f"CSV格式错误：{exc}（可能有未闭合的引号或超长的单元格）。") from None
    table = _build_table(grid, kind="csv", sheet="", sheets=[], first_row=1)
    table.encoding = encoding
    return table


def read_workbook(data: bytes, *, kind: str, sheet: str = "") -> Table:
    # Imported lazily: the extension is only needed when a spreadsheet arrives.
    import python_calamine

    if kind == "xlsx":
        check_zip(data)
    try:
        book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        names = list(book.sheet_names)
        if not names:
            raise ImportFileError("工作簿里没有工作表。")
        if sheet and sheet not in names:
            raise ImportFileError(f"工作簿里没有名为“{sheet}”的工作表。")
        chosen = sheet or names[0]
        # skip_empty_area=False keeps leading empty rows/columns, so row numbers match the sheet.
        grid = book.get_sheet_by_name(chosen).to_python(skip_empty_area=False)
    except ImportFileError:
        raise
    except Exception:  # noqa: BLE001 - calamine raises many kinds of errors on malformed files
        raise ImportFileError("无法读取该Excel文件：文件可能已损坏，或是受密码保护的工作簿。") from None
    return _build_table(grid, kind=kind, sheet=chosen, sheets=names, first_row=1)


def read_table(data: bytes, file_name: str, *, sheet: str = "") -> Table:
    """Check limits and type, then read the chosen (or first) sheet into a Table."""
    check_size(len(data))
    kind = sniff_kind(data, file_name)
    if kind == "csv":
        return read_csv(data)
    return read_workbook(data, kind=kind, sheet=sheet)
