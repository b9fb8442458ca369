"""`hall-admin catalog export|import` end to end on a real data directory (HALL_HOME per test)."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from hall.cli import main
from hall.models import CatalogVersion, Event
from hall.paths import Paths
from hall.services.bootstrap import open_hall
from hall.services.catalog import items as catalog


def run(capsys, *argv: str) -> tuple[int, list[str], list[str]]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out.splitlines(), err.splitlines()


def state() -> tuple[int, int, int]:
    """(current catalogue version, number of versions, number of ledger events)."""
    opened = open_hall(Paths.resolve(None))
    try:
        with opened.db.transaction() as s:
            current = s.scalar(select(CatalogVersion.id).where(CatalogVersion.is_current))
            return (current, s.scalar(select(func.count()).select_from(CatalogVersion)),
                    s.scalar(select(func.count()).select_from(Event)))
    finally:
        opened.db.dispose()


@pytest.fixture
def exported(tmp_path, capsys) -> Path:
    out = tmp_path / "catalog.xlsx"
    code, lines, err = run(capsys, "catalog", "export", "--out", str(out))
    assert code == 0, err
    assert lines == [f"已导出事项清单：{out}（窗口 11 个，事项 76 项，材料 "
                     f"{sum(len(i.materials) for i in catalog.read_tsv_dir(catalog.default_catalog_dir()).items)}"
                     " 条）"]
    return out


def test_export_then_import_changes_nothing(exported, capsys):
    before = state()
    code, lines, err = run(capsys, "catalog", "import", str(exported))
    assert (code, lines[0], err) == (0, "无变化：与当前事项清单相同，未生成新版本", [])
    # The default catalogue's 新生儿出生一件事 (37, joint, 5 working days) cannot wait for a higher review.
    assert lines[1:] == [ln for ln in lines[1:] if ln.startswith("提示：事项 第 ")] and len(lines) == 2
    assert "（37 " in lines[1] and "至少应为 9 个工作日" in lines[1]
    assert state() == before


def test_import_of_an_edited_workbook_prints_the_new_version(exported, tmp_path, capsys):
    wb = load_workbook(exported)
    wb["事项"]["B2"] = "政务服务咨询"
    edited = tmp_path / "edited.xlsx"
    wb.save(edited)
    version, versions, _events = state()
    code, lines, _err = run(capsys, "catalog", "import", str(edited))
    assert code == 0
    assert lines[0] == f"已导入事项清单，新版本 {version + 1}（窗口 11 个，事项 76 项）"
    assert all(ln.startswith("提示：事项 第 ") for ln in lines[1:])
    assert state()[:2] == (version + 1, versions + 1)
    opened = open_hall(Paths.resolve(None))
    try:
        with opened.db.transaction() as s:
            assert catalog.current_item(s, "01").name == "政务服务咨询"
    finally:
        opened.db.dispose()
    # and exporting again gives back the edited catalogue
    again = tmp_path / "again.xlsx"
    assert run(capsys, "catalog", "export", "--out", str(again))[0] == 0
    assert load_workbook(again)["事项"]["B2"].value == "政务服务咨询"


def _bad_workbooks(exported: Path, tmp_path: Path) -> dict[str, Path]:
    files = {}

    def variant(name, change):
        wb = load_workbook(exported)
        change(wb)
        files[name] = tmp_path / f"{name}.xlsx"
        wb.save(files[name])

    variant("merged", lambda wb: wb["事项"].merge_cells("D2:D4"))
    variant("formula", lambda wb: wb["事项"].cell(row=5, column=6, value="=1+1"))
    variant("unknown_window", lambda wb: wb["事项"].cell(row=5, column=4, value="W99"))
    variant("missing_sheet", lambda wb: wb.remove(wb["材料"]))
    return files


def test_many_problems_are_printed_one_per_line_and_nothing_is_imported(exported, tmp_path, capsys):
    wb = load_workbook(exported)
    wb["事项"].cell(row=5, column=4, value="W99")
    wb["事项"].cell(row=6, column=6, value="=1+1")
    wb["窗口"].merge_cells("B2:B3")
    bad = tmp_path / "bad.xlsx"
    wb.save(bad)
    before = state()
    code, lines, err = run(capsys, "catalog", "import", str(bad))
    assert code == 2 and lines == []
    assert err[0] == "错误：bad.xlsx：事项清单文件有误，未导入。问题如下："
    assert "工作表“事项”第5行“窗口”列：窗口“W99”不在“窗口”工作表中" in err
    assert any(line.startswith("工作表“事项”第6行") and "公式" in line for line in err)
    assert any(line.startswith("工作表“窗口”第2行“窗口名称”列：单元格 B2:B3 是合并单元格") for line in err)
    assert state() == before


@pytest.mark.parametrize("name", ["merged", "formula", "unknown_window", "missing_sheet"])
def test_each_hostile_workbook_leaves_the_database_unchanged(exported, tmp_path, capsys, name):
    path = _bad_workbooks(exported, tmp_path)[name]
    before = state()
    code, lines, err = run(capsys, "catalog", "import", str(path))
    assert code == 2 and lines == []
    assert all(line.startswith(("错误：", "工作表“")) for line in err)
    assert len(err) >= 2
    assert state() == before


@pytest.mark.parametrize(("content", "reason"), [
    (b"just text\n", "不是 Excel 工作簿"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "打开密码"),
])
def test_a_file_that_is_not_a_workbook_gets_one_line(tmp_path, capsys, content, reason):
    path = tmp_path / "x.xlsx"
    path.write_bytes(content)
    before = state()
    code, lines, err = run(capsys, "catalog", "import", str(path))
    assert code == 2 and lines == [] and len(err) == 1
    assert err[0].startswith("错误：事项清单文件：") and reason in err[0]
    assert state() == before


def test_truncated_workbook_and_missing_file(exported, tmp_path, capsys):
    data = exported.read_bytes()
    cut = tmp_path / "cut.xlsx"
    cut.write_bytes(data[: len(data) - 200])
    code, _lines, err = run(capsys, "catalog", "import", str(cut))
    assert code == 2 and len(err) == 1 and "已损坏" in err[0]
    code, _lines, err = run(capsys, "catalog", "import", str(tmp_path / "none.xlsx"))
    assert code == 2 and err == [f"错误：事项清单文件：找不到文件“{tmp_path / 'none.xlsx'}”"]


def test_export_to_a_bad_place_says_why_in_one_line(tmp_path, capsys):
    code, _lines, err = run(capsys, "catalog", "export", "--out", str(tmp_path / "no" / "c.xlsx"))
    assert code == 2 and len(err) == 1 and "不存在" in err[0]
    code, _lines, err = run(capsys, "catalog", "export", "--out", str(tmp_path / "c.csv"))
    assert code == 2 and err == ["错误：导出文件：文件名应以 .xlsx 结尾"]
