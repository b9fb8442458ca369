"""The catalogue workbook: lossless round trip, and every hostile or malformed file refused with its problems."""

from __future__ import annotations

import functools
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from hall.errors import ValidationError, ValidationErrors
from hall.exchange.catalog_xlsx import COLUMN_HELP, README_SHEET, read_catalog_xlsx, write_catalog_xlsx
from hall.paths import Paths
from hall.services.base.validators import free_text
from hall.services.bootstrap import open_hall
from hall.services.catalog import items as catalog
from hall.services.catalog.spec import MAX_CELL, MAX_ROWS, SHEETS, CatalogSpec


@functools.cache
def shipped_spec() -> CatalogSpec:
    return catalog.read_tsv_dir(catalog.default_catalog_dir())


@pytest.fixture
def default_spec() -> CatalogSpec:
    return shipped_spec()


@pytest.fixture
def exported(tmp_path, default_spec) -> Path:
    return write_catalog_xlsx(default_spec, tmp_path / "catalog.xlsx")


def edited(src: Path, change: Callable[[Workbook], None], name: str = "edited.xlsx") -> Path:
    wb = load_workbook(src)
    change(wb)
    out = src.with_name(name)
    wb.save(out)
    return out


def col(ws, header: str) -> int:
    return next(c.column for c in ws[1] if c.value == header)


def problems(path: Path) -> list[str]:
    with pytest.raises(ValidationErrors) as info:
        read_catalog_xlsx(path)
    assert "未导入" in str(info.value)
    return info.value.problems


def refused(path: Path) -> str:
    with pytest.raises(ValidationError) as info:
        read_catalog_xlsx(path)
    assert "\n" not in str(info.value)
    return str(info.value)


# ------------------------------------------------------------------------------------------ round trip

def test_export_then_read_gives_the_same_catalogue(exported, default_spec):
    assert read_catalog_xlsx(exported) == default_spec


def test_workbook_layout_headers_bold_frozen_text_codes(exported, default_spec):
    wb = load_workbook(exported)
    assert wb.sheetnames == [*SHEETS, README_SHEET]
    for sheet, columns in SHEETS.items():
        ws = wb[sheet]
        assert [c.value for c in ws[1]] == [h for _k, h in columns]
        assert all(c.font.b for c in ws[1])
        assert ws.freeze_panes == "A2"
        assert all(ws.column_dimensions[c.column_letter].width >= 6 for c in ws[1])
    items = wb["事项"]
    code = items.cell(row=2, column=col(items, "事项编码"))
    assert (code.value, code.data_type, code.number_format) == ("01", "s", "@")
    assert items.column_dimensions[code.column_letter].number_format == "@"  # new codes typed later stay text
    limit = items.cell(row=3, column=col(items, "法定时限"))
    assert limit.value == default_spec.items[1].statutory_limit and limit.data_type == "n"
    assert items.max_row == len(default_spec.items) + 1
    assert wb["材料"].max_row == sum(len(i.materials) for i in default_spec.items) + 1


def test_readme_sheet_explains_every_column_and_the_separators(exported):
    assert {(s, h) for s, cols in SHEETS.items() for _k, h in cols} <= set(COLUMN_HELP)
    text = "\n".join(str(c.value) for row in load_workbook(exported)[README_SHEET].iter_rows() for c in row
                     if c.value)
    for word in ("解释件", "即办件", "承诺件", "代办件", "联办件", "工作日", "“是”或“否”", "；", "→", "文本", "公式",
                 "合并单元格", str(MAX_ROWS)):
        assert word in text
    for _sheet, cols in SHEETS.items():
        for _k, header in cols:
            assert header in text


def test_export_replaces_an_existing_file_atomically_and_leaves_no_temp_files(tmp_path, default_spec):
    out = tmp_path / "c.xlsx"
    out.write_bytes(b"old")
    write_catalog_xlsx(default_spec, out)
    assert read_catalog_xlsx(out) == default_spec
    bad_item = replace(default_spec.items[0], note="控制字符\x01")
    with pytest.raises(ValidationError, match="第2行“备注”列"):
        write_catalog_xlsx(replace(default_spec, items=(bad_item, *default_spec.items[1:])), out)
    assert read_catalog_xlsx(out) == default_spec  # the previous export is intact
    assert [p.name for p in tmp_path.iterdir()] == ["c.xlsx"]


def test_export_refuses_other_suffixes_and_missing_folders(tmp_path, default_spec):
    with pytest.raises(ValidationError, match=r"\.xlsx"):
        write_catalog_xlsx(default_spec, tmp_path / "c.xls")
    with pytest.raises(ValidationError, match="不存在"):
        write_catalog_xlsx(default_spec, tmp_path / "nope" / "c.xlsx")


def test_round_trip_through_the_database_is_lossless_and_creates_no_version(tmp_path, default_spec):
    opened = open_hall(Paths.resolve(str(tmp_path / "data")))
    try:
        with opened.db.transaction() as s:
            first = catalog.current_spec(s)
        assert first == default_spec
        path = write_catalog_xlsx(first, tmp_path / "out.xlsx")
        with opened.db.transaction() as s:
            assert catalog.import_catalog(s, opened.system, read_catalog_xlsx(path), "test") is None
            assert catalog.current_spec(s) == default_spec
        # An edited workbook does make a new version, and reads back as edited.
        path = edited(path, lambda wb: wb["窗口"].cell(row=2, column=2, value="综合受理窗口"))
        with opened.db.transaction() as s:
            version = catalog.import_catalog(s, opened.system, read_catalog_xlsx(path), "test")
            assert version is not None
            assert catalog.current_spec(s).windows[0].name == "综合受理窗口"
    finally:
        opened.db.dispose()


def _as_stored(t: str) -> str:
    """``t`` as the free-text rule stores it (what the round trip must give back exactly); "" if refused."""
    try:
        return free_text(t, "备注", max_len=2000, multiline=True, required=False)
    except ValidationError:
        return ""


_text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=300).map(_as_stored).filter(
    lambda t: not t.startswith("=") and not ILLEGAL_CHARACTERS_RE.search(t))
_code = st.text("0123456789.eE+-xW", min_size=1, max_size=8).filter(lambda t: not t.startswith("="))


@settings(max_examples=25, deadline=None)
@given(note=_text, fee=_text, code=_code)
def test_any_text_and_number_like_codes_survive_the_round_trip(note, fee, code):
    # Codes such as "007", "1e5" or "3.0" must stay exactly as typed, never become numbers.
    default_spec = shipped_spec()
    assume(code not in {it.code for it in default_spec.items} | {w.code for w in default_spec.windows})
    window = replace(default_spec.windows[0], code=code)
    items = tuple(replace(it, window_code=code) if it.window_code == default_spec.windows[0].code else it
                  for it in default_spec.items)
    items = (replace(items[0], code=code, note=note, fee=fee), *items[1:])
    spec = CatalogSpec((window, *default_spec.windows[1:]), items)
    with tempfile.TemporaryDirectory() as tmp:
        path = write_catalog_xlsx(spec, Path(tmp) / "p.xlsx")
        assert read_catalog_xlsx(path) == spec


def test_blank_rows_extra_columns_and_extra_sheets_are_ignored_with_real_row_numbers(exported, default_spec):
    def change(wb):
        items = wb["事项"]
        for c in items[4]:  # clear row 4 (how people delete a row in Excel) …
            c.value = None
        items.cell(row=1, column=30, value="我的备注")
        items.cell(row=6, column=30, value="=1+1")  # formulas in an administrator's own column do not matter
        items.cell(row=10, column=col(items, "窗口"), value="W99")
        wb.create_sheet("草稿").append(["随便写"])

    found = problems(edited(exported, change))
    assert found == [
        "工作表“事项”第10行“窗口”列：窗口“W99”不在“窗口”工作表中",  # Excel's row 10, not the 9th data row
        "工作表“材料”“事项编码”列：材料所属事项“03”不在“事项”工作表中",  # item 03 was on the cleared row
    ]


# ------------------------------------------------------------------------------------------ hostile cells

def test_unknown_window_is_named_by_sheet_row_and_column(exported):
    path = edited(exported, lambda wb: wb["事项"].cell(row=5, column=col(wb["事项"], "窗口"), value="W99"))
    assert problems(path) == ["工作表“事项”第5行“窗口”列：窗口“W99”不在“窗口”工作表中"]


def test_duplicate_codes_name_both_rows(exported):
    def change(wb):
        wb["事项"].cell(row=9, column=1, value="02")  # item 02 is on row 3
        wb["窗口"].cell(row=4, column=1, value="W01")

    found = problems(edited(exported, change))
    assert "工作表“窗口”第4行“窗口编码”列：窗口编码“W01”重复" in found
    assert "工作表“事项”第9行“事项编码”列：事项编码“02”与第3行重复" in found


def test_duplicate_item_code_reports_the_real_first_row(exported):
    def change(wb):
        for c in wb["事项"][2]:
            c.value = None  # row 2 now blank: item 02 sits on Excel row 3, the validator's second row
        wb["事项"].cell(row=9, column=1, value="02")

    found = [p for p in problems(edited(exported, change)) if "重复" in p]
    assert found == ["工作表“事项”第9行“事项编码”列：事项编码“02”与第3行重复"]


def test_formulas_are_refused_once_per_cell(exported):
    def change(wb):
        items = wb["事项"]
        items.cell(row=5, column=col(items, "法定时限"), value="=10+10")
        items.cell(row=6, column=col(items, "事项名称"), value="=A1")
        wb["窗口"].cell(row=2, column=1, value='=CONCAT("W","01")')

    found = problems(edited(exported, change))
    assert "工作表“事项”第5行“法定时限”列：不能是公式（=10+10），请填写数值或文字" in found
    assert "工作表“事项”第6行“事项名称”列：不能是公式（=A1），请填写数值或文字" in found
    assert sum("第6行“事项名称”列" in p for p in found) == 1
    assert any(p.startswith("工作表“窗口”第2行“窗口编码”列：不能是公式") for p in found)
    assert found == sorted(found, key=lambda p: (not p.startswith("工作表“窗口”"),))  # 窗口 first


def test_merged_cells_are_found_although_read_only_mode_hides_them(exported):
    def change(wb):
        items = wb["事项"]
        c = col(items, "窗口")
        items.merge_cells(start_row=2, start_column=c, end_row=4, end_column=c)
        wb["材料"].merge_cells("J5:K6")  # outside the catalogue columns, still reported by letter

    found = problems(edited(exported, change))
    assert any(p.startswith("工作表“事项”第2行“窗口”列：单元格 D2:D4 是合并单元格") for p in found)
    assert any(p.startswith("工作表“材料”第5行J列：单元格 J5:K6 是合并单元格") for p in found)
    assert "工作表“事项”第3行“窗口”列：不能为空" in found  # the merge emptied the rows below


def test_wrong_types_dates_booleans_errors_numbers_in_code_columns(exported):
    def change(wb):
        items, mats, wins = wb["事项"], wb["材料"], wb["窗口"]
        items.cell(row=3, column=col(items, "事项编码"), value=7)
        items.cell(row=4, column=col(items, "法定时限"), value=date(2026, 5, 1))
        items.cell(row=5, column=col(items, "承诺时限"), value="三天")
        items.cell(row=6, column=col(items, "办件类型"), value="急件")
        items.cell(row=7, column=col(items, "备注"), value="#N/A")
        items.cell(row=8, column=col(items, "法定时限"), value=5.0)  # a whole float is a fine integer
        items.cell(row=8, column=col(items, "承诺时限"), value=2.5)
        mats.cell(row=2, column=col(mats, "可容缺"), value=True)
        mats.cell(row=3, column=col(mats, "份数"), value="abc")
        wins.cell(row=2, column=col(wins, "咨询电话"), value=51257688001)
        wins.cell(row=3, column=col(wins, "排序"), value=1000)

    found = problems(edited(exported, change))
    for expected in (
        "工作表“窗口”第2行“咨询电话”列：必须是文本，不能是数字（51257688001）",
        "工作表“窗口”第3行“排序”列：应在0到999之间，实为1000",
        "工作表“事项”第3行“事项编码”列：必须是文本，不能是数字（7）",
        "工作表“事项”第4行“法定时限”列：不能是日期或时间",
        "工作表“事项”第5行“承诺时限”列：应为0到3650之间的整数，实为“三天”",
        "工作表“事项”第6行“办件类型”列：应为解释件、即办件、承诺件、代办件、联办件之一，实为“急件”",
        "工作表“事项”第7行“备注”列：单元格是错误值（#N/A）",
        "工作表“事项”第8行“承诺时限”列：应为0到3650之间的整数，实为“2.5”",
        "工作表“材料”第2行“可容缺”列：不能是逻辑值 TRUE/FALSE，请填写“是”或“否”",
        "工作表“材料”第3行“份数”列：应为1到99之间的整数，实为“abc”",
    ):
        assert any(p.startswith(expected) for p in found), expected
    assert not any("第8行“法定时限”" in p for p in found)
    assert not any("第4行“法定时限”列：应为" in p for p in found)  # the date problem is not echoed


def test_huge_cells_are_refused_by_length(exported):
    path = edited(exported, lambda wb: wb["事项"].cell(row=2, column=col(wb["事项"], "受理条件"), value="长" * 5000))
    assert problems(path) == [f"工作表“事项”第2行“受理条件”列：内容过长（5000字，最多{MAX_CELL}字）"]


def test_missing_sheet_and_missing_column_are_listed_without_row_noise(exported):
    def change(wb):
        del wb["材料"]
        wb["事项"].delete_cols(col(wb["事项"], "办件类型"))
        wb["窗口"].cell(row=2, column=1, value="=1")

    found = problems(edited(exported, change))
    assert "工作表“材料”：缺少该工作表" in found
    assert "工作表“事项”第1行“办件类型”列：缺少该列" in found
    assert any(p.startswith("工作表“窗口”第2行“窗口编码”列：不能是公式") for p in found)
    assert len(found) == 3


def test_every_problem_in_the_file_is_listed_together(exported):
    def change(wb):
        wb["窗口"].cell(row=3, column=2).value = None
        wb["事项"].cell(row=5, column=col(wb["事项"], "窗口"), value="W99")
        wb["材料"].cell(row=4, column=1, value="99")

    found = problems(edited(exported, change))
    assert found == [
        "工作表“窗口”第3行“窗口名称”列：不能为空",
        "工作表“事项”第5行“窗口”列：窗口“W99”不在“窗口”工作表中",
        "工作表“材料”“事项编码”列：材料所属事项“99”不在“事项”工作表中",
    ]


def test_100k_rows_stop_reading_early(tmp_path):
    wb = Workbook(write_only=True)
    for sheet, columns in SHEETS.items():
        ws = wb.create_sheet(sheet)
        ws.append([h for _k, h in columns])
        if sheet == "窗口":
            ws.append(["W01", "综合", 1, ""])
        if sheet == "事项":
            for i in range(100_000):
                ws.append([f"A{i}" if i != 90_000 else "=1+1"])  # a formula far beyond the limit
    path = tmp_path / "big.xlsx"
    wb.save(path)
    found = problems(path)
    assert found == [f"工作表“事项”：行数过多（超过{MAX_ROWS}行），请检查文件；未再往下读取"]


def test_blank_rows_far_down_are_not_scanned_forever(exported):
    path = edited(exported, lambda wb: wb["窗口"].cell(row=1_000_000, column=20, value="x"))
    assert problems(path) == ["工作表“窗口”：使用了超过50000行（含空行），请删除多余的行；未再往下读取"]


# ------------------------------------------------------------------------------------------ hostile files

def test_text_file_renamed_xlsx(tmp_path):
    path = tmp_path / "catalog.xlsx"
    path.write_text("事项编码\t事项名称\n01\t咨询\n", encoding="utf-8")
    assert refused(path) == "事项清单文件：不是 Excel 工作簿（.xlsx），或文件已损坏、不完整"


def test_truncated_xlsx(exported):
    data = exported.read_bytes()
    exported.write_bytes(data[: len(data) // 2])
    assert "不是 Excel 工作簿" in refused(exported)


def test_corrupt_part_inside_a_valid_zip(exported, tmp_path):
    src = zipfile.ZipFile(exported)
    path = tmp_path / "corrupt.xlsx"
    with zipfile.ZipFile(path, "w") as out:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/worksheets/sheet2.xml":
                data = data[: len(data) // 2]  # cut the XML mid-element
            out.writestr(info, data)
    assert "文件已损坏，无法读取" in refused(path)


def test_bad_crc_is_corrupt(exported, tmp_path):
    data = bytearray(exported.read_bytes())
    info = zipfile.ZipFile(exported).getinfo("xl/worksheets/sheet2.xml")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data[start + info.compress_size // 2] ^= 0xFF
    path = tmp_path / "crc.xlsx"
    path.write_bytes(bytes(data))
    assert "文件已损坏" in refused(path)


def test_password_protected_or_old_xls(tmp_path):
    path = tmp_path / "locked.xlsx"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 4000)
    assert "打开密码" in refused(path)


def test_zip_bomb_is_refused_from_the_directory(tmp_path):
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        with z.open("xl/worksheets/sheet1.xml", "w") as fh:
            chunk = b"\0" * (1 << 20)
            for _ in range(60):
                fh.write(chunk)
    assert path.stat().st_size < 1 << 20
    assert "解压后过大（60 MB" in refused(path)


def test_a_zip_that_is_not_a_workbook(tmp_path):
    path = tmp_path / "other.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("readme.txt", "hello")
    assert "其他压缩文件" in refused(path)


def test_entity_declarations_are_refused(exported, tmp_path):
    src = zipfile.ZipFile(exported)
    path = tmp_path / "laughs.xlsx"
    with zipfile.ZipFile(path, "w") as out:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"<worksheet", b'<!DOCTYPE w [<!ENTITY a "aaaa">]><worksheet', 1)
            out.writestr(info, data)
    assert "DTD" in refused(path)


def test_missing_file(tmp_path):
    assert "找不到文件" in refused(tmp_path / "nope.xlsx")
