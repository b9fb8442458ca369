"""The administrator's screens for scripts/screenshot.py (管理 → 窗口与代办点, 事项目录, 备份与恢复, 公开信息打印,
报表导出, 节假日 preview, 工作人员 with a photo, 数据加密 and its recovery code). Each stage writes only to the data
directory given (use a copy) and to a temporary folder."""

from __future__ import annotations

import io
import json
import tempfile
from pathlib import Path
from typing import Any

# How long each stage's job needs before the grab (the backups stage checks every listed file: ~2 s each).
WAIT_MS = {"points": 2500, "catalog": 3500, "backups": 20000, "notices": 5000, "reports": 2500,
           "calendar-preview": 3500, "staff-photo": 3500, "encryption": 1500, "encryption-code": 6000}
STAGES = ("points", "catalog", "backups", "notices", "reports", "calendar-preview", "staff-photo", "encryption",
          "encryption-code")
_TMP = Path(tempfile.mkdtemp(prefix="hall-shot-"))


def _centre(win: Any, dialog: Any, w: int, h: int) -> None:
    screen = win.screen().availableGeometry()
    dialog.resize(min(w, screen.width() - 20), min(h, screen.height() - 70))  # room for the title bar
    dialog.move((screen.width() - dialog.width()) // 2, max(30, (screen.height() - dialog.height()) // 2))


def stage(name: str, win: Any) -> None:
    {"points": _points, "catalog": _catalog, "backups": _backups, "notices": _notices, "reports": _reports,
     "calendar-preview": _calendar, "staff-photo": _staff_photo, "encryption": _encryption,
     "encryption-code": _encryption_code}[name](win)


def _points(win: Any) -> None:
    _centre(win, win.open_points_admin(), 960, 680)


def _catalog(win: Any) -> None:
    import openpyxl

    from hall.exchange.catalog_xlsx import write_catalog_xlsx
    from hall.services.catalog import items as catalog

    with win.ctx.db.reading() as s:
        spec = catalog.current_spec(s)
    book = write_catalog_xlsx(spec, _TMP / "事项清单（有误）.xlsx")
    wb = openpyxl.load_workbook(book)
    ws = wb["事项"]
    heads = [c.value for c in ws[1]]
    ws.cell(3, heads.index("承诺时限") + 1, "很快")
    ws.cell(5, heads.index("办件类型") + 1, "加急件")
    ws.cell(9, heads.index("窗口") + 1, "W99")
    wb["材料"].cell(4, 3, "")
    wb.save(book)
    dialog = win.open_catalog_admin()
    _centre(win, dialog, 1000, 620)
    dialog.check_file(book)


def _backups(win: Any) -> None:
    dialog = win.open_backups()
    _centre(win, dialog, 1000, 560)
    dialog.backup_now()


def _encryption(win: Any) -> None:
    _centre(win, win.open_encryption(), 820, 440)


def _encryption_code(win: Any) -> None:
    """启用加密 run for real — on a copy of the ledger in a temporary folder, its key in a temporary key folder, so
    the data directory given stays plain — and its recovery code shown, over the main window."""
    import os

    from hall.ui.encryption_runner import EnableDialog

    os.environ["HALL_KEY_DIR"] = str(_TMP / "keys")
    copy = _TMP / "encrypted-copy"
    copy.mkdir()
    win.ctx.db.backup(copy / "hall.sqlite3")
    dialog = EnableDialog(copy, copy / "hall.sqlite3", win.hall_name, win)
    dialog.setModal(True)
    dialog.show()
    _centre(win, dialog, 820, 500)


def _photo() -> bytes:
    """A drawn stand-in for an ID photo (no real person's face in the documentation)."""
    from PIL import Image, ImageDraw

    photo = Image.new("RGB", (600, 800), (222, 232, 244))
    draw = ImageDraw.Draw(photo)
    draw.ellipse((190, 150, 410, 400), fill=(240, 208, 180))
    draw.rectangle((120, 430, 480, 800), fill=(40, 60, 110))
    out = io.BytesIO()
    photo.save(out, "PNG")
    return out.getvalue()


def _notices(win: Any) -> None:
    from hall.services.people import staff
    from hall.ui.admin_notices import STAFF

    with win.ctx.db.transaction() as s:
        people = [p for p in staff.list_staff(s) if p.active and p.role in ("clerk", "manager")][:4]
        for p, resume in zip(people, ("2015年起任中心主任", "2018年起在综合窗口；熟悉党群服务", "新到岗",
                                      "2019年起在民政窗口；熟悉低保、临时救助"), strict=False):
            staff.set_profile(s, win.ctx.actor, p.staff_no, photo=_photo(), resume=resume)

    dialog = win.open_notices()
    _centre(win, dialog, 1100, 900)
    dialog.choose(STAFF)
    dialog.preview()


def _reports(win: Any) -> None:
    dialog = win.open_reports()
    _centre(win, dialog, 700, 260)


def _calendar(win: Any) -> None:
    from hall.ui.calendar_dialog import CalendarDialog

    year = win._today().year + 1
    notice = _TMP / f"{year}.json"
    notice.write_text(json.dumps({"year": year, "notice": "示例（非真实通知）", "holidays": [
        {"name": "元旦", "start": f"{year}-01-01", "end": f"{year}-01-03"},
        {"name": "春节", "start": f"{year}-02-06", "end": f"{year}-02-14"}],
        "makeup_workdays": [f"{year}-02-20"]}, ensure_ascii=False), encoding="utf-8")
    dialog = CalendarDialog(win.ctx, win, open_file=lambda _p: str(notice), today=win._today())
    dialog.open()
    _centre(win, dialog, 820, 740)
    dialog.load_file()
    dialog.preview_year()


def _staff_photo(win: Any) -> None:
    path = _TMP / "photo.png"
    path.write_bytes(_photo())
    dialog = win.open_staff_admin()
    _centre(win, dialog, 1000, 600)

    def edit() -> None:
        if dialog.directory is None:
            from PySide6.QtCore import QTimer

            QTimer.singleShot(100, edit)
            return
        clerk = next(p for p in dialog.directory.people if p.role == "clerk" and p.active)
        dialog.choose(clerk.staff_no)
        form = dialog.edit_selected()

        def fill() -> None:
            if form.profile is None or not form.profile.loaded:
                from PySide6.QtCore import QTimer

                QTimer.singleShot(100, fill)
                return
            form.profile.use_file(path)
            form.profile.resume.setPlainText("2019年起在本窗口工作；熟悉低保、临时救助政策")
            _centre(win, form, 560, 560)

        fill()

    edit()
