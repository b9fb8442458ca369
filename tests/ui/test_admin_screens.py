"""管理's administrator screens through their real widgets on a real SQLite hall with real files: 窗口与代办点,
事项目录导入导出 (a broken workbook listed row by row, nothing written), 公开信息打印 (the badge board with a photo
and résumé, saved as a PDF and read back), 报表导出 (a workbook read back), 节假日 preview (equal to what the
change then does), 工作人员's photo (a hostile file refused beside the field), 备份与恢复 (backup now, check, a
corrupt backup refused, a restore with its digest compared) — and no SQL on the GUI thread opening any of them."""

from __future__ import annotations

import io
import json
import shutil
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from gui_guard import GuiThreadSql
from PIL import Image
from pypdf import PdfReader
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from hall.exchange import export_process
from hall.paths import Paths
from hall.services import backup_list, ledger_check
from hall.services.catalog import items as catalog
from hall.services.people import staff
from hall.services.tickets import intake
from hall.ui import messages
from hall.ui.admin_catalog import CatalogAdminDialog
from hall.ui.admin_notices import STAFF, NoticesDialog
from hall.ui.admin_points import PointsAdminDialog
from hall.ui.admin_reports import ReportsDialog
from hall.ui.background import active_jobs
from hall.ui.backup_dialog import BackupDialog
from hall.ui.calendar_dialog import CalendarDialog
from hall.ui.main_window import MainWindow
from hall.ui.ops import ChangeSignal, Context
from hall.ui.restore_runner import RestoreDialog, restore_then_reopen
from hall.ui.staff_admin import StaffAdminDialog

pytestmark = pytest.mark.gui
WAIT = 15_000


@pytest.fixture
def admin(qtbot, hall_sqlite, monkeypatch, tmp_path):
    from hall_fixtures import actors_of

    monkeypatch.setattr(messages, "shown", [])
    monkeypatch.setattr(messages, "ask_hook", lambda _t, _x: True)
    actors = actors_of(hall_sqlite)
    ctx = Context(hall_sqlite.db, hall_sqlite.node, actors["admin"], ChangeSignal())
    return ctx


def _idle(qtbot) -> None:
    qtbot.waitUntil(lambda: active_jobs() == 0, timeout=WAIT)
    qtbot.wait(5)  # the last result's queued delivery


def _png(w: int = 600, h: int = 800) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (w, h), "teal").save(out, "PNG")
    return out.getvalue()


def test_menu_entries_and_windows_points_catalogue_notices_reports(qtbot, admin, hall_sqlite, tmp_path):
    win = MainWindow(admin, tmp_path / "drafts")
    win.stop_daily_timers()
    qtbot.addWidget(win)
    manage = next(a.menu() for a in win.menuBar().actions() if a.text() == "管理(&G)")
    texts = [a.text() for a in manage.actions() if "&" in a.text()]
    keys = [t[t.index("&") + 1].upper() for t in texts]
    assert len(keys) == len(set(keys)) and len(keys) >= 5, texts  # every new entry's mnemonic unique
    sql = GuiThreadSql(hall_sqlite.db.engine)
    with sql.watching():
        for name in ("pointsAdminAction", "catalogAdminAction", "noticesAction", "reportsAction"):
            next(a for a in manage.actions() if a.objectName() == name).trigger()
        _idle(qtbot)
    assert sql.statements == []  # every screen reads in the background

    # 窗口与代办点: a bad code is marked beside its field, what was typed stays; then saved and disabled.
    points = win.findChild(PointsAdminDialog)
    qtbot.waitUntil(lambda: points.places is not None, timeout=WAIT)
    form = points.add_window()
    form.widgets["code"].setText("12")
    form.widgets["name"].setText("不动产窗口")
    assert not form.save() and form.isVisible()
    assert "窗口编码" in form.error.text() and "color: #b00020" in form.labels["code"].styleSheet()
    assert form.widgets["name"].text() == "不动产窗口"
    form.widgets["code"].setText("W12")
    assert form.save()
    qtbot.waitUntil(lambda: any(w.code == "W12" for w in points.places.windows), timeout=WAIT)
    points.choose(points.window_table, "W12")
    assert points.toggle_window()
    points.choose(points.point_table, "001")
    assert not points.toggle_point()  # v01 works there: refused with the reason
    assert "在岗人员" in messages.shown[-1][1]
    form = points.add_point()
    form.widgets["code"].setText("002")
    form.widgets["name"].setText("西村代办点")
    assert form.save()
    qtbot.waitUntil(lambda: any(p.code == "002" for p in points.places.points), timeout=WAIT)
    qtbot.waitUntil(lambda: any(w.code == "W12" and not w.active for w in points.places.windows), timeout=WAIT)

    # 事项目录: export, a broken copy listed row by row with nothing written, then a changed one imported.
    cat = win.findChild(CatalogAdminDialog)
    book = tmp_path / "catalog.xlsx"
    cat.export_to(book)
    _idle(qtbot)
    assert "已导出事项清单" in cat.note.text()
    wb = openpyxl.load_workbook(book)
    ws = wb["事项"]
    heads = [c.value for c in ws[1]]
    ws.cell(3, heads.index("承诺时限") + 1, "很快")
    ws.cell(4, heads.index("办件类型") + 1, "加急件")
    broken = tmp_path / "broken.xlsx"
    wb.save(broken)
    with hall_sqlite.db.reading() as s:
        before = catalog.current_spec(s).content_hash()
    cat.check_file(broken)
    _idle(qtbot)
    rows = [[cat.table.item(r, c).text() for c in range(4)] for r in range(cat.table.rowCount())]
    assert ["事项", "3", "承诺时限"] in [r[:3] for r in rows] and ["事项", "4", "办件类型"] in [r[:3] for r in rows]
    assert "未导入" in cat.note.text()
    with hall_sqlite.db.reading() as s:
        assert catalog.current_spec(s).content_hash() == before
    wb = openpyxl.load_workbook(book)
    wb["事项"].cell(2, heads.index("事项名称") + 1, "改过名字的事项")
    wb.save(broken)
    cat.check_file(broken)  # the confirmation is answered yes: imported in the background
    # Two jobs in a row (the check, then the import after the confirmation): wait for the import itself, not for a
    # moment with no job running between them.
    qtbot.waitUntil(lambda: cat.imported is not None, timeout=WAIT)
    _idle(qtbot)
    assert cat.imported is not None and "新版本" in cat.note.text()

    # 公开信息打印: the badge board with a photo and a résumé, previewed and saved as a PDF.
    with hall_sqlite.db.transaction() as s:
        staff.set_profile(s, admin.actor, "c02", photo=_png(), resume="2019年起在民政窗口")
    notices = win.findChild(NoticesDialog)
    notices.choose(STAFF)
    notices.save_file = lambda _p, name: str(tmp_path / name)
    notices.preview()
    _idle(qtbot)
    assert notices.notice is not None and notices.pages_layout.count() >= 1
    out = notices.save_pdf()
    page = PdfReader(out).pages[0]
    assert "王民政" in page.extract_text() and "2019年起在民政窗口" in page.extract_text() and page.images

    # 报表导出: the monthly workbook for a chosen month, by the exporter (in this process: no child to spawn).
    reports = win.findChild(ReportsDialog)
    reports.runner = lambda job, db: _write_in_process(job, db)
    reports.save_file = lambda _p, _s: str(tmp_path / "月报")
    reports.choose("monthly", 2026, "m12")
    reports.export()
    _idle(qtbot)
    assert reports.result is not None and reports.result.path == tmp_path / "月报.xlsx"
    assert list(reports.result.sheets) == openpyxl.load_workbook(reports.result.path).sheetnames


def _write_in_process(job, db):  # type: ignore[no-untyped-def]
    with db.reading() as s:
        return export_process.write(s, job)


def test_photo_in_the_staff_dialog_and_the_calendar_preview(qtbot, admin, hall_sqlite, tmp_path):
    dlg = StaffAdminDialog(admin)
    qtbot.addWidget(dlg)
    qtbot.waitUntil(lambda: dlg.directory is not None, timeout=WAIT)
    dlg.choose("c02")
    form = dlg.edit_selected()
    qtbot.waitUntil(lambda: form.profile.loaded, timeout=WAIT)
    fake = tmp_path / "photo.png"
    fake.write_bytes(b"\x89PNG\r\n\x1a\n<script>not an image</script>")
    form.profile.use_file(fake)
    _idle(qtbot)
    assert "照片" in form.profile.hint.text() and "损坏" in form.profile.hint.text()
    assert "b00020" in form.profile.photo_label.styleSheet() and form.profile.photo == ""
    good = tmp_path / "good.png"
    good.write_bytes(_png())
    form.profile.use_file(good)
    _idle(qtbot)
    assert isinstance(form.profile.photo, bytes) and form.profile.preview.pixmap() is not None
    form.profile.resume.setPlainText("长" * (staff.RESUME_LIMIT + 1))
    form.save()  # refused, the form stays with the text
    assert form.isVisible() and "简历" in form.error.text()
    form.profile.resume.setPlainText("擅长低保、临时救助")
    form.save()
    assert not form.isVisible()
    with hall_sqlite.db.reading() as s:
        photo, resume = staff.profile(s, "c02")
    assert photo and resume == "擅长低保、临时救助"

    # 节假日: what confirming 2027 would do, shown before — and the change then does exactly that.
    manager = _manager(hall_sqlite)
    with hall_sqlite.db.transaction() as s:
        marks = {m["name"]: "received" for m in catalog.current_item(s, "03").materials}
        number = intake.register(s, manager, intake.IntakeForm(
            "03", intake.ApplicantForm("person", "11010519491231002X", "张三"), materials=marks),
            now=datetime(2026, 12, 28, 9)).number
    notice = tmp_path / "2027.json"
    notice.write_text(json.dumps({"year": 2027, "notice": "测试用", "holidays": [
        {"name": "元旦", "start": "2027-01-01", "end": "2027-01-03"}], "makeup_workdays": []}, ensure_ascii=False),
        encoding="utf-8")
    cal = CalendarDialog(admin, open_file=lambda _p: str(notice), today=date(2026, 12, 28))
    qtbot.addWidget(cal)
    cal.load_file()
    cal.preview_year()
    qtbot.waitUntil(lambda: cal.previewed is not None, timeout=WAIT)
    preview = cal.previewed[1]
    assert (number, date(2027, 1, 4), date(2027, 1, 5)) in preview.moved
    assert f"{number}：2027-01-04 → 2027-01-05" in cal.result_label.text() and "预览" in cal.result_label.text()
    cal.confirm()
    qtbot.waitUntil(lambda: not cal.busy and not cal.loader.busy, timeout=WAIT)
    assert "预览（尚未保存）" in messages.shown[-1][1]  # the question showed what would change
    assert f"重新计算的在办件期限：{len(preview.moved)}" in cal.result_label.text().replace(" ", "") or \
        f"{len(preview.moved)} 件" in cal.result_label.text()


def _manager(opened):  # type: ignore[no-untyped-def]
    from hall_fixtures import actors_of

    return actors_of(opened)["m01"]


@pytest.mark.ledger_edited  # the restore replaces the file the fixture opened
def test_backup_now_check_and_restore(qtbot, admin, hall_sqlite, tmp_path):
    folder = tmp_path / "backups"
    requested: list[Path] = []
    dlg = BackupDialog(admin, backups_dir=folder, restore=requested.append,
                       save_file=lambda _p, _s: str(tmp_path / "usb" / "copy"))
    qtbot.addWidget(dlg)
    _idle(qtbot)
    assert dlg.entries == [] and dlg.restore_btn.isEnabled() is False
    with backup_list.one_backup_at_a_time(hall_sqlite.db) as mine:  # the window's daily copy holds the claim
        assert mine
        with backup_list.one_backup_at_a_time(hall_sqlite.db, wait_s=0) as other:
            assert not other  # another backup (another thread here, or another program) skips or waits
    dlg.backup_now()  # the first time: the checked rolling base, and its first restore point
    _idle(qtbot)
    assert sorted(e.kind for e in dlg.entries) == ["base", "incremental"]
    checks = {dlg.table.item(r, 4).text(): dlg.table.item(r, 3).text() for r in range(dlg.table.rowCount())}
    assert checks["hall-base.sqlite3"] == "已核验"
    first_point = next(e.path for e in dlg.entries if e.kind == "incremental")
    (tmp_path / "usb").mkdir()
    dlg.backup_to_file()
    _idle(qtbot)
    assert (tmp_path / "usb" / "copy.sqlite3").is_file() and "已核验" in dlg.note.text()
    with hall_sqlite.db.transaction() as s:  # something the restore takes away again
        staff.add_intake_point(s, admin.actor, "009", "后来的代办点")
    dlg.backup_now()  # again: a second restore point, the base rolled forward to it
    _idle(qtbot)
    assert sorted(e.kind for e in dlg.entries) == ["base", "incremental", "incremental"]

    good = first_point  # the restore point from before the new intake point
    bad = folder / "hall-daily-20261201.sqlite3"
    data = bytearray((folder / "hall-base.sqlite3").read_bytes())
    data[len(data) // 2:len(data) // 2 + 4096] = b"\x00" * 4096
    bad.write_bytes(bytes(data))
    dlg.refresh()
    _idle(qtbot)
    dlg.choose(bad.name)
    dlg.check_selected()
    _idle(qtbot)
    row = next(r for r in range(dlg.table.rowCount()) if dlg.table.item(r, 4).text() == bad.name)
    assert dlg.table.item(row, 3).text().startswith("未通过")
    dlg.restore_from(bad)  # refused before anything closes
    _idle(qtbot)
    assert requested == [] and "未通过检查" in messages.shown[-1][1]
    dlg.restore_from(good)
    _idle(qtbot)
    assert requested == [good]

    # What the program then does once the window has closed (hall/__main__.py): close the database, restore with
    # a progress dialog, open the database again for the login.
    with hall_sqlite.db.reading() as s:
        assert "009" in {p.code for p in staff.intake_points(s)}
    seen: list[RestoreDialog] = []

    def close_when_done() -> None:
        found = [w for w in QApplication.topLevelWidgets() if isinstance(w, RestoreDialog) and w.isVisible()]
        if found and not found[0].running:
            seen.append(found[0])
            found[0].accept()
        else:
            QTimer.singleShot(20, close_when_done)

    QTimer.singleShot(0, close_when_done)
    data_dir = Path(hall_sqlite.db.engine.url.database).parent
    reopened = restore_then_reopen(Paths.resolve(data_dir), None, None, hall_sqlite, good)
    try:
        report = seen[0].report
        assert report is not None and report.digest_restored == report.digest_backup and report.moved_aside
        assert "已从" in seen[0].text.text()
        with reopened.db.reading() as s:
            assert "009" not in {p.code for p in staff.intake_points(s)}
        assert ledger_check.check(reopened.db, limit=5).ok
    finally:
        reopened.db.dispose()
    shutil.rmtree(folder)


@pytest.fixture
def full_disk(tmp_path):
    """A real 4 MB tmpfs, filled but for 100 KB: a backup onto it fails with ENOSPC, as on a full USB stick."""
    import os
    import subprocess
    import sys

    where = tmp_path / "tiny"
    where.mkdir()
    if sys.platform != "linux" or os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root on Linux")
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(where)]).returncode != 0:
        pytest.skip("tmpfs cannot be mounted here")
    try:
        with open(where / "filler.bin", "wb") as fh:
            fh.write(b"\0" * max(shutil.disk_usage(where).free - 100_000, 0))
        yield where
    finally:
        subprocess.run(["umount", str(where)], check=False)


def test_a_full_disk_is_told_in_chinese_and_leaves_no_half_file(qtbot, admin, full_disk):
    dlg = BackupDialog(admin, backups_dir=full_disk / "backups",
                       save_file=lambda _p, _s: str(full_disk / "copy.sqlite3"))
    qtbot.addWidget(dlg)
    _idle(qtbot)
    dlg.backup_now()
    _idle(qtbot)
    assert "磁盘空间不足" in messages.shown[-1][1] and "磁盘空间不足" in dlg.note.text()
    dlg.backup_to_file()
    _idle(qtbot)
    assert "磁盘空间不足" in messages.shown[-1][1]
    left = sorted(p.name for p in full_disk.rglob("*") if p.is_file())
    assert left == ["filler.bin"], left  # no .part, no temporary file, no half copy
