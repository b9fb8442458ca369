"""The catalogue as an Excel workbook: export for the administrator, import with every problem listed.

The sheets 窗口/事项/材料 carry exactly the headers of ``catalog_spec``; a fourth sheet 说明 explains them.
Reading ends in ``catalog_spec.parse_sheets`` (the one validator of the catalogue). This module only turns
cells into text and refuses what a cell or file must never be: formulas, merged cells, dates, error values,
numbers in code columns, oversized or encrypted files, zip bombs.

Cell rules on import (also written on the 说明 sheet):
- code and phone columns must be text: a number there has already lost its leading zeros (07 → 7);
- integer columns (排序, 时限, 天数, 序号, 份数) accept numbers; a whole float such as 5.0 is read as "5";
- other text columns accept numbers too and read a whole number as its digits ("3", not "3.0");
- a row whose catalogue columns are all empty is skipped (clearing a row is how people delete it in Excel);
- extra columns are ignored (an administrator's own notes).
"""

from __future__ import annotations

import os
import re
import unicodedata
import zipfile
import zlib
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import iterparse

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter, range_boundaries
from openpyxl.worksheet._read_only import ReadOnlyWorksheet

from hall.errors import ValidationError, ValidationErrors
from hall.exchange.print_setup import apply_print_setup
from hall.services.catalog.spec import (
    FORMS,
    KIND_LABELS,
    LIST_SEP,
    MAX_CELL,
    MAX_ROWS,
    NO,
    SHEET_ITEMS,
    SHEET_MATERIALS,
    SHEET_WINDOWS,
    SHEETS,
    STEP_SEP,
    UNIT_LABELS,
    YES,
    CatalogSpec,
    check_headers,
    parse_sheets,
)
from hall.services.storage.files import atomic_path

README_SHEET = "说明"
FILE_FIELD = "事项清单文件"
TITLE = "事项清单文件有误，未导入"
MAX_FILE_BYTES = 50 * 1024 * 1024  # on disk and unpacked: a real catalogue workbook is about 40 KB
MAX_MEMBERS = 1000  # parts in the zip; Excel writes about a dozen
MAX_SCAN_ROWS = 10 * MAX_ROWS  # physical rows read per sheet, blank ones included, before giving up
MAX_LISTED = 1000  # problems listed one per line; a hostile file could otherwise produce 100k lines
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # encrypted xlsx and old .xls are OLE compound files

INT_KEYS = frozenset({"sort_order", "statutory_limit", "promised_limit", "follow_up_days", "seq", "count"})
CODE_KEYS = frozenset({"code", "window_code", "item_code", "phone"})
YES_NO_KEYS = frozenset({"statutory_anchored", "restart_on_supplement", "tolerable"})

# What each column means, shown on the 说明 sheet: (required, rule). Keyed by (sheet, header).
COLUMN_HELP: dict[tuple[str, str], tuple[bool, str]] = {
    (SHEET_WINDOWS, "窗口编码"): (True, "文本，最多8字，不能重复，例如 W01"),
    (SHEET_WINDOWS, "窗口名称"): (True, "最多80字"),
    (SHEET_WINDOWS, "排序"): (False, "0到999的整数，小的排在前面；空着为0"),
    (SHEET_WINDOWS, "咨询电话"): (False, "文本（保留开头的0），最多40字"),
    (SHEET_ITEMS, "事项编码"): (True, "文本，最多16字，不能重复；“07”要保持文本格式，不能变成数字7"),
    (SHEET_ITEMS, "事项名称"): (True, "最多120字"),
    (SHEET_ITEMS, "简称"): (False, f"群众常用的其他叫法，多个用“{LIST_SEP}”分隔；检索事项时也能按简称找到"),
    (SHEET_ITEMS, "窗口"): (True, "填“窗口”工作表中已有的窗口编码"),
    (SHEET_ITEMS, "办件类型"): (True, "、".join(KIND_LABELS.values()) + "之一"),
    (SHEET_ITEMS, "法定时限"): (True, "0到3650的整数，单位见“时限单位”"),
    (SHEET_ITEMS, "承诺时限"): (True, "0到3650的整数，不能超过法定时限；承诺件、代办件、联办件必须大于0"),
    (SHEET_ITEMS, "时限单位"): (True, "、".join(UNIT_LABELS.values()) + "之一（工作日不含法定节假日和周末）"),
    (SHEET_ITEMS, "法定时限有据"): (True, f"“{YES}”或“{NO}”：法定时限是否有法规明文规定"),
    (SHEET_ITEMS, "补正后重新计时"): (True, f"“{YES}”或“{NO}”：补正材料后时限是否从头计算"),
    (SHEET_ITEMS, "办理部门"): (False, f"多个部门用全角分号“{LIST_SEP}”分隔；代办件、联办件必须填写"),
    (SHEET_ITEMS, "受理条件"): (False, "文字说明"),
    (SHEET_ITEMS, "办理流程"): (False, f"各步骤用“{STEP_SEP}”分隔，例如 申请{STEP_SEP}受理{STEP_SEP}办结"),
    (SHEET_ITEMS, "收费标准"): (False, "文字说明，例如 不收费"),
    (SHEET_ITEMS, "收费金额（元）"): (False, "每件收取的金额（元，最多两位小数），受理时一次性收取；空白为免费"),
    (SHEET_ITEMS, "前置事项"): (False, "先照后证：须先办结的另一事项的编码（同一申请人）；空白为无"),
    (SHEET_ITEMS, "政策依据"): (False, f"文字说明；多条依据可用“{LIST_SEP}”分隔"),
    (SHEET_ITEMS, "保管期限"): (False, "最多20字，例如 10年；空着为10年"),
    (SHEET_ITEMS, "办结后回访天数"): (False, "0到365的整数；0表示不回访，空着为0"),
    (SHEET_ITEMS, "备注"): (False, "文字说明"),
    (SHEET_MATERIALS, "事项编码"): (True, "材料所属事项，填“事项”工作表中已有的事项编码（文本）"),
    (SHEET_MATERIALS, "序号"): (True, "1到999的整数，决定同一事项内材料的先后"),
    (SHEET_MATERIALS, "材料名称"): (True, "最多200字"),
    (SHEET_MATERIALS, "形式"): (True, "、".join(FORMS) + "之一"),
    (SHEET_MATERIALS, "份数"): (True, "1到99的整数"),
    (SHEET_MATERIALS, "出具单位"): (False, "最多80字"),
    (SHEET_MATERIALS, "可容缺"): (True, f"“{YES}”或“{NO}”：缺少该材料时能否先行受理（容缺受理）"),
}

README_NOTES = (
    "本工作簿是便民服务中心的事项清单，可由 hall-admin catalog import 文件名.xlsx 导入。",
    "“窗口”“事项”“材料”三个工作表的第一行是列名，请勿修改列名或工作表名；可以在右侧添加自己的备注列，导入时忽略。",
    "编码、电话等列请保持“文本”格式；不要使用公式、合并单元格或日期格式；整行清空的行在导入时跳过。",
    f"每个单元格最多{MAX_CELL}字，每个工作表最多{MAX_ROWS}行。",
    "导入时检查全部内容：只要有一处问题，整个文件都不导入，并逐条列出工作表、行和列。",
    "导入后生成新的事项清单版本；已受理的办件仍按受理当天的事项规则计时。",
)


# ---------------------------------------------------------------------------------------------- writing

def write_catalog_xlsx(spec: CatalogSpec, path: str | os.PathLike[str]) -> Path:
    """Write ``spec`` as a workbook at ``path`` (replaced atomically: a reader never sees half a file)."""
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise ValidationError("导出文件", "文件名应以 .xlsx 结尾")
    if not path.parent.is_dir():
        raise ValidationError("导出文件", f"文件夹“{path.parent}”不存在")
    wb = Workbook()
    wb.remove(wb.active)
    data = spec.to_sheets()
    for sheet, columns in SHEETS.items():
        _write_table(wb.create_sheet(sheet), sheet, columns, data[sheet])
    _write_readme(wb.create_sheet(README_SHEET))
    _save_atomically(wb, path)
    return path


def _write_table(ws: Any, sheet: str, columns: tuple[tuple[str, str], ...], rows: list[dict[str, str]]) -> None:
    bold = Font(bold=True)
    widths = [_display_width(header) for _key, header in columns]
    for col, (_key, header) in enumerate(columns, 1):
        cell = ws.cell(row=1, column=col, value=header)
        cell.font = bold
    for r, row in enumerate(rows, 2):
        for col, (key, header) in enumerate(columns, 1):
            text = row[key]
            if ILLEGAL_CHARACTERS_RE.search(text):
                raise ValidationError(f"工作表“{sheet}”第{r}行“{header}”列", "含有 Excel 不能保存的控制字符")
            cell = ws.cell(row=r, column=col)
            if key in INT_KEYS:
                cell.value = int(text)  # numbers, so Excel sorts and sums them; read back losslessly
            else:
                cell.value = text
                cell.number_format = "@"
            widths[col - 1] = max(widths[col - 1], _display_width(text))
    for col, (key, _header) in enumerate(columns, 1):
        dim = ws.column_dimensions[get_column_letter(col)]
        dim.width = min(max(widths[col - 1] + 2, 6), 60)
        if key not in INT_KEYS:
            dim.number_format = "@"  # a code typed later into this column stays text ("08", not 8)
    ws.freeze_panes = "A2"
    # Printed for the 六公开 check it ran to 36 portrait pages cut between columns: one page wide instead.
    apply_print_setup(ws, title_rows="1:1")


def _write_readme(ws: Any) -> None:
    bold = Font(bold=True)
    ws.cell(row=1, column=1, value="事项清单填写说明").font = Font(bold=True, size=14)
    r = 2
    for note in README_NOTES:
        ws.cell(row=r, column=1, value=note)
        r += 1
    r += 1
    for col, header in enumerate(("工作表", "列名", "必填", "填写要求"), 1):
        ws.cell(row=r, column=col, value=header).font = bold
    header_row = r
    for sheet, columns in SHEETS.items():
        for _key, header in columns:
            required, rule = COLUMN_HELP.get((sheet, header), (False, ""))
            r += 1
            for col, value in enumerate((sheet, header, YES if required else NO, rule), 1):
                ws.cell(row=r, column=col, value=value).alignment = Alignment(wrap_text=col == 4, vertical="top")
    for col, width in enumerate((10, 18, 6, 80), 1):
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.freeze_panes = f"A{header_row + 1}"
    apply_print_setup(ws, title_rows=f"{header_row}:{header_row}")


def _display_width(text: str) -> int:
    # A CJK character takes two columns in Excel's default font; count only the first line.
    line = text.split("\n", 1)[0][:200]
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line)


def _save_atomically(wb: Workbook, path: Path) -> None:
    with atomic_path(path) as tmp:
        wb.save(tmp)


# ---------------------------------------------------------------------------------------------- reading

class _Unreadable(Exception):
    """openpyxl or zipfile failed inside a file we already let through: the file is corrupt."""


class _Collected:
    """Problems with a sort key (sheet order, row, column order) so the list reads top to bottom."""

    def __init__(self) -> None:
        self.entries: list[tuple[tuple[int, int, int], str]] = []
        self.cells: set[tuple[str, int, str]] = set()  # cells already explained: drop the validator's echo

    def add(self, sheet: str, row: int | None, header: str | None, rule: str, *, cell: bool = False,
            letter: str | None = None) -> None:
        where = _where(sheet, row, header) + (f"{letter}列" if letter else "")  # a column without a header
        self.entries.append((_sort_key(sheet, row, header), f"{where}：{rule}"))
        if cell and row is not None and header:
            self.cells.add((sheet, row, header))

    def messages(self) -> list[str]:
        ordered = [text for _key, text in sorted(self.entries, key=lambda e: e[0])]
        if len(ordered) > MAX_LISTED:
            rest = len(ordered) - MAX_LISTED
            ordered = [*ordered[:MAX_LISTED], f"……另有{rest}处问题未列出，请先改正以上问题"]
        return ordered


def _where(sheet: str, row: int | None, header: str | None) -> str:
    # The same wording as catalog_spec, so both sources of problems read alike.
    where = f"工作表“{sheet}”"
    if row is not None:
        where += f"第{row}行"
    if header:
        where += f"“{header}”列"
    return where


def _sort_key(sheet: str, row: int | None, header: str | None) -> tuple[int, int, int]:
    order = list(SHEETS)
    s = order.index(sheet) if sheet in order else len(order)
    headers = [h for _k, h in SHEETS.get(sheet, ())]
    c = headers.index(header) if header in headers else len(headers)
    return (s, row or 0, c)


def read_catalog_xlsx(path: str | os.PathLike[str]) -> CatalogSpec:
    """A workbook → a validated ``CatalogSpec``.

    Raises ``ValidationError`` (one line) when the file as a whole is unusable (missing, not an xlsx,
    encrypted, corrupt, too large unpacked) and ``ValidationErrors`` listing every problem by sheet, row and
    column otherwise. Nothing is written anywhere: the caller imports the returned spec.
    """
    path = Path(path)
    _check_container(path)
    found = _Collected()
    headers: dict[str, list[str]] = {}
    sheets: dict[str, list[dict[str, str]]] = {}
    row_numbers: dict[str, list[int]] = {}
    complete = True  # every row of every sheet was read (not stopped early)
    try:
        with path.open("rb") as fh:
            try:  # a file object: openpyxl would otherwise refuse a name not ending in .xlsx
                wb = load_workbook(fh, read_only=True, data_only=False, keep_links=False)
            except Exception as exc:
                raise _Unreadable(exc) from exc
            try:
                for sheet in SHEETS:
                    if sheet not in wb.sheetnames:
                        continue
                    try:
                        ws = wb[sheet]
                    except Exception as exc:
                        raise _Unreadable(exc) from exc
                    if not isinstance(ws, ReadOnlyWorksheet):
                        continue  # a chart sheet with the name: check_headers reports the sheet as missing
                    complete &= _read_sheet(ws, sheet, found, headers, sheets, row_numbers)
                    _check_merges(path, ws, sheet, headers[sheet], found)
            finally:
                wb.close()
    except (_Unreadable, zipfile.BadZipFile, zlib.error, EOFError) as exc:
        cause = exc.__cause__ or exc
        raise ValidationError(FILE_FIELD, f"文件已损坏，无法读取（{type(cause).__name__}）") from exc

    header_problems = check_headers(headers)
    for text in header_problems:
        found.entries.append((_sort_key(_sheet_of(text), 0, None), text))
    # Rows are checked only when every sheet and column is there and was read to the end: otherwise each
    # row would repeat "不能为空" for a missing column, or "W01 不在窗口工作表中" for a missing sheet.
    if complete and not header_problems:
        try:
            spec = parse_sheets(sheets)
        except ValidationErrors as exc:
            _merge_validator_problems(found, exc.problems, row_numbers)
        else:
            if not found.entries:
                return spec
    raise ValidationErrors(found.messages(), TITLE)


def _check_container(path: Path) -> None:
    """Refuse what is not a plain, reasonably sized xlsx before any XML is parsed."""
    if not path.is_file():
        raise ValidationError(FILE_FIELD, f"找不到文件“{path}”")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ValidationError(FILE_FIELD, f"文件过大（{size / 2**20:.1f} MB，最多{MAX_FILE_BYTES // 2**20} MB）")
    with path.open("rb") as fh:
        head = fh.read(8)
    if head == OLE_MAGIC:
        raise ValidationError(FILE_FIELD, "文件设置了打开密码（已加密）或是旧版 .xls 格式：请在 Excel 中取消密码，"
                                          "另存为 .xlsx 后再导入")
    if not zipfile.is_zipfile(path):
        raise ValidationError(FILE_FIELD, "不是 Excel 工作簿（.xlsx），或文件已损坏、不完整")
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            if len(infos) > MAX_MEMBERS:
                raise ValidationError(FILE_FIELD, f"压缩包内文件过多（{len(infos)}个），不是正常的 Excel 工作簿")
            # Python's zipfile never inflates a part beyond its declared size, so the directory bounds the work.
            unpacked = sum(i.file_size for i in infos)
            if unpacked > MAX_FILE_BYTES:
                raise ValidationError(FILE_FIELD, f"解压后过大（{unpacked / 2**20:.0f} MB，最多"
                                                  f"{MAX_FILE_BYTES // 2**20} MB），可能是恶意文件，未打开")
            if any(i.flag_bits & 0x1 for i in infos):
                raise ValidationError(FILE_FIELD, "文件已加密，请取消密码后再导入")
            if "[Content_Types].xml" not in {i.filename for i in infos}:
                raise ValidationError(FILE_FIELD, "不是 Excel 工作簿（.xlsx），而是其他压缩文件")
            for info in infos:
                if info.filename.endswith((".xml", ".rels")):
                    with zf.open(info) as part:
                        prolog = part.read(4096).upper()
                    # Excel never writes a DTD; entity tricks (billion laughs, external files) need one.
                    if b"<!DOCTYPE" in prolog or b"<!ENTITY" in prolog:
                        raise ValidationError(FILE_FIELD, f"文件中的“{info.filename}”含有不允许的 DTD 声明，未打开")
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, ValueError) as exc:
        raise ValidationError(FILE_FIELD, f"文件已损坏，无法读取（{type(exc).__name__}）") from exc


def _rows(ws: ReadOnlyWorksheet) -> Iterator[tuple[Any, ...]]:
    it = ws.iter_rows()
    while True:
        try:
            row = next(it)
        except StopIteration:
            return
        except Exception as exc:  # openpyxl parsing a broken or hostile sheet: the file is corrupt
            raise _Unreadable(exc) from exc
        yield row


def _read_sheet(ws: ReadOnlyWorksheet, sheet: str, found: _Collected, headers: dict[str, list[str]],
                sheets: dict[str, list[dict[str, str]]], row_numbers: dict[str, list[int]]) -> bool:
    """Read one sheet into header-keyed text rows; False when it was too long and reading stopped early."""
    # The stored dimension can lie; rows past it would be dropped silently. (When a sheet has no dimension,
    # openpyxl's loader already streamed it once to size it, keeping nothing: bounded by the 50 MB check.)
    ws.reset_dimensions()
    keys = {header: key for key, header in SHEETS[sheet]}
    rows = _rows(ws)
    first = next(rows, ())
    heads = ["" if c.value is None else str(c.value).strip() for c in first]
    headers[sheet] = heads
    positions = {}
    for pos, head in enumerate(heads):
        if head in keys and head not in positions:
            positions[head] = pos
    data: list[dict[str, str]] = []
    numbers: list[int] = []
    for physical, row in enumerate(rows, 2):
        if physical > MAX_SCAN_ROWS:
            found.add(sheet, None, None, f"使用了超过{MAX_SCAN_ROWS}行（含空行），请删除多余的行；未再往下读取")
            return False
        record: dict[str, str] = {}
        for head, pos in positions.items():
            cell = row[pos] if pos < len(row) else None
            text, rule = _cell_text(cell, keys[head])
            if rule:
                found.add(sheet, physical, head, rule, cell=True)
            record[head] = text
        if not any(v.strip() for v in record.values()):
            continue
        if len(data) == MAX_ROWS:
            found.add(sheet, None, None, f"行数过多（超过{MAX_ROWS}行），请检查文件；未再往下读取")
            return False
        data.append(record)
        numbers.append(physical)
    sheets[sheet] = data
    row_numbers[sheet] = numbers
    return True


def _cell_text(cell: Any, key: str) -> tuple[str, str | None]:
    """A cell → (text for the validator, a problem or None)."""
    value = getattr(cell, "value", None)
    if value is None:
        return "", None
    dtype = getattr(cell, "data_type", None)
    if dtype == "f" or (dtype != "s" and isinstance(value, str) and value.startswith("=")):
        formula = value if isinstance(value, str) else "=…"
        return formula, f"不能是公式（{formula[:30]}），请填写数值或文字"
    if dtype == "e":
        return str(value), f"单元格是错误值（{str(value)[:20]}），请填写数值或文字"
    if isinstance(value, bool):
        hint = f"“{YES}”或“{NO}”" if key in YES_NO_KEYS else "文字"
        return str(value), f"不能是逻辑值 TRUE/FALSE，请填写{hint}"
    if isinstance(value, datetime | date | time | timedelta):
        return "", "不能是日期或时间，请把单元格设为“文本”格式后重新填写"
    if isinstance(value, int | float):
        whole = isinstance(value, int) or value.is_integer()
        text = str(int(value)) if whole else repr(value)
        if key in CODE_KEYS:
            return text, f"必须是文本，不能是数字（{text}）：数字会丢掉开头的0，请把单元格设为“文本”格式后重新输入"
        return text, None
    if isinstance(value, str):
        return value, None
    return "", f"无法识别的内容（{type(value).__name__}）"


def _check_merges(path: Path, ws: ReadOnlyWorksheet, sheet: str, heads: list[str], found: _Collected) -> None:
    """Read-only mode does not expose merged cells, so look for <mergeCell> in the sheet's XML part."""
    part = ws._worksheet_path  # openpyxl keeps the part name private; there is no public read-only API
    try:
        with zipfile.ZipFile(path) as zf:
            if not _contains(zf, part, b"mergeCell"):
                return
            refs = []
            with zf.open(part) as fh:
                for _event, elem in iterparse(fh, events=("end",)):
                    if elem.tag.rsplit("}", 1)[-1] == "mergeCell":
                        refs.append(elem.get("ref", ""))
                    elem.clear()
    except Exception as exc:  # a broken part: report the file as corrupt like any other parse failure
        raise _Unreadable(exc) from exc
    for ref in refs:
        try:
            min_col, min_row, _max_col, _max_row = range_boundaries(ref)
        except (ValueError, TypeError):
            found.add(sheet, None, None, f"有无法识别的合并单元格区域（{ref[:30]}）")
            continue
        head = heads[min_col - 1] if min_col and min_col <= len(heads) and heads[min_col - 1] else None
        rule = f"单元格 {ref} 是合并单元格，请取消合并，并在每一行填写完整内容"
        found.add(sheet, min_row, head, rule, letter=None if head else get_column_letter(min_col or 1))


def _contains(zf: zipfile.ZipFile, part: str, needle: bytes) -> bool:
    tail = b""
    with zf.open(part) as fh:
        while chunk := fh.read(1 << 20):
            if needle in tail + chunk:
                return True
            tail = chunk[-len(needle):]
    return False


_LOCATION = re.compile(r"^工作表“(?P<sheet>[^”]+)”(?:第(?P<row>\d+)行)?(?:“(?P<head>[^”]+)”列)?：")
_SAME_AS_ROW = re.compile(r"与第(\d+)行重复")


def _sheet_of(text: str) -> str:
    m = _LOCATION.match(text)
    return m.group("sheet") if m else ""


def _merge_validator_problems(found: _Collected, problems: list[str], row_numbers: dict[str, list[int]]) -> None:
    """parse_sheets numbers rows as if they were consecutive from row 2; put back the real Excel rows."""
    for text in problems:
        m = _LOCATION.match(text)
        if m is None:
            found.entries.append(((len(SHEETS), 0, 0), text))
            continue
        sheet, head = m.group("sheet"), m.group("head")
        numbers = row_numbers.get(sheet, [])

        def real(n: str, numbers: list[int] = numbers) -> str:
            i = int(n) - 2
            return str(numbers[i]) if 0 <= i < len(numbers) else n

        row = None
        if m.group("row"):
            row = int(real(m.group("row")))
            text = f"{_where(sheet, row, head)}{text[m.end() - 1:]}"
            if (sheet, row, head) in found.cells:
                continue  # the cell's type problem (formula, date …) already says it better
        text = _SAME_AS_ROW.sub(lambda d: f"与第{real(d.group(1))}行重复", text)
        found.entries.append((_sort_key(sheet, row, head), text))
