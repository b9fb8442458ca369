"""管理 → 数据加密… through its real widgets on a real SQLite hall, with the real key store (HALL_KEY_DIR, the
run's own folder): 未加密 on a plain ledger; enabling on a background task ends 已加密 with the recovery code
shown, printed and saved, and the window cannot be closed before 我已抄下 is ticked; the ledger then opens
encrypted with the same ``ledger digest``; a wrong recovery code is refused and changes nothing, the right one
(typed in lower case with spaces) brings the key back; another program holding the ledger, and a PostgreSQL hall,
are told in Chinese with nothing changed; only the administrator finds the menu item, on a village laptop too."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest
from pypdf import PdfReader
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction
from PySide6.QtPrintSupport import QPrinter
from PySide6.QtWidgets import QApplication, QDialog

from hall.errors import HallError
from hall.paths import Paths
from hall.services import ledger_check
from hall.services.bootstrap import open_hall
from hall.services.storage import at_rest, encryption
from hall.services.storage.node import NodeIdentity
from hall.ui import messages
from hall.ui.encryption_dialog import EncryptionDialog, RecoveryDialog
from hall.ui.encryption_runner import EnableDialog, encrypt_then_reopen
from hall.ui.main_window import MainWindow
from hall.ui.ops import ChangeSignal, Context
from hall.ui.restore_runner import release

pytestmark = pytest.mark.gui
WAIT = 30_000


@pytest.fixture
def quiet(monkeypatch):
    monkeypatch.setattr(messages, "shown", [])
    monkeypatch.setattr(messages, "ask_hook", lambda _t, _x: True)


@pytest.fixture
def admin(hall_sqlite, quiet):
    from hall_fixtures import actors_of

    return Context(hall_sqlite.db, hall_sqlite.node, actors_of(hall_sqlite)["admin"], ChangeSignal())


@pytest.fixture
def data_dir(hall_sqlite):
    folder = Path(hall_sqlite.db.engine.url.database).parent
    yield folder
    at_rest.forget(folder)  # the next test's process state: nothing of this folder unlocked


def _encrypted_ledger(path: Path) -> bool:
    return not path.read_bytes()[:16].startswith(at_rest.SQLITE_MAGIC)


def _enable_in_dialog(qtbot, data: Path) -> EnableDialog:
    dlg = EnableDialog(data, data / "hall.sqlite3", "测试镇便民服务中心", start=False)
    qtbot.addWidget(dlg)
    dlg.show()
    dlg.task.start()
    assert dlg.running and dlg.done_ is None  # start() returned at once: the conversion runs off the GUI thread
    qtbot.waitUntil(lambda: not dlg.running, timeout=WAIT)
    assert dlg.error is None, dlg.error
    return dlg


@pytest.mark.ledger_edited  # the ledger file the fixture opened is rewritten encrypted
def test_enabling_shows_the_code_refuses_to_close_unticked_and_keeps_the_ledger(qtbot, admin, hall_sqlite, data_dir,
                                                                                 tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    dlg = EncryptionDialog(admin, data_dir=data_dir)
    qtbot.addWidget(dlg)
    assert dlg.headline.text() == "未加密"
    assert dlg.facts["database"].text() == str(data_dir / "hall.sqlite3")
    assert dlg.enable_btn.isEnabled() and not dlg.recover_btn.isEnabled()
    asked: list[bool] = []
    dlg._enable_requested = lambda: asked.append(True)
    messages.ask_hook = lambda _t, _x: False  # 取消: nothing happens
    assert dlg.start_enable() is False and asked == []
    messages.ask_hook = lambda _t, _x: True
    assert dlg.start_enable() is True and asked == [True]  # the main window is asked to close
    assert "重新登录" in messages.shown[-1][1] and "恢复码" in messages.shown[-1][1]

    before = ledger_check.digest(hall_sqlite.db)
    release(hall_sqlite)  # what the program does once the window has closed
    run = _enable_in_dialog(qtbot, data_dir)
    code = run.recovery_code
    assert run.code.text().replace("\n", "  ").split("  ") == code.split("-") and len(code.split("-")) == 14
    assert run.text.text().startswith("已加密")
    assert at_rest.parse_recovery_code(code).key_id == at_rest.status(data_dir).key_id

    # Not closed until the code is kept: Esc, the window's close and 完成 are refused alike.
    assert not run.finish_btn.isEnabled()
    run.reject()
    run.accept()
    assert run.isVisible() and "请先抄下" in run.note.text()
    # Kept: printed (one page, through the printer path), saved (not into the data folder), copied.
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(tmp_path / "printed.pdf"))
    assert run.print_code(printer) and (tmp_path / "printed.pdf").stat().st_size > 0
    sheet = PdfReader(__import__("io").BytesIO(run.sheet_pdf()))
    assert len(sheet.pages) == 1
    text = sheet.pages[0].extract_text()
    assert all(group in text for group in code.split("-")) and "测试镇便民服务中心" in text
    run.save_file = lambda _p, _s: str(data_dir / "code")
    assert run.save_code() is None and "不能存在数据文件夹里" in messages.shown[-1][1]
    (tmp_path / "usb").mkdir()
    run.save_file = lambda _p, _s: str(tmp_path / "usb" / "code")
    assert code in (run.save_code() or Path("/nonexistent")).read_text(encoding="utf-8")
    run.copy_code()
    assert QApplication.clipboard().text() == code
    QApplication.clipboard().clear()
    run.kept.setChecked(True)
    assert run.finish_btn.isEnabled()
    qtbot.mouseClick(run.finish_btn, Qt.MouseButton.LeftButton)
    assert not run.isVisible() and run.result() == QDialog.DialogCode.Accepted

    # The folder is encrypted now, and says so; the ledger opens encrypted and holds the same state.
    assert _encrypted_ledger(data_dir / "hall.sqlite3")
    shown = EncryptionDialog(admin, data_dir=data_dir)
    qtbot.addWidget(shown)
    assert shown.headline.text().startswith("已加密（密钥保存在：文件 ")
    assert shown.facts["fingerprint"].text() == encryption.fingerprint(at_rest.status(data_dir).key_id)
    assert shown.facts["backups"].text().startswith("已加密") and shown.facts["drafts"].text().startswith("已加密")
    assert not shown.enable_btn.isEnabled() and shown.recover_btn.isEnabled()
    at_rest.forget(data_dir)  # as a new process would
    reopened = open_hall(Paths.resolve(data_dir))
    try:
        assert reopened.db.key is not None
        assert ledger_check.digest(reopened.db) == before
        logged = caplog.text.upper()
        assert "ENCRYPTION ENABLED" in logged  # the event is logged, neither the key nor the code
        assert reopened.db.key.key.hex().upper() not in logged
        assert code.split("-")[3] + "-" + code.split("-")[4] not in logged and code.replace("-", "") not in logged
    finally:
        reopened.db.dispose()


@pytest.mark.ledger_edited
def test_a_lost_key_comes_back_with_the_right_code_only(qtbot, admin, hall_sqlite, data_dir):
    before = ledger_check.digest(hall_sqlite.db)
    release(hall_sqlite)
    code = encryption.enable(data_dir, data_dir / "hall.sqlite3").recovery_code
    key_file = Path(at_rest.status(data_dir).key_path)
    key_file.unlink()  # the OS key store wiped: a reinstalled PC, another Windows user
    at_rest.forget(data_dir)
    assert encryption.needs_recovery(data_dir)
    with pytest.raises(HallError, match="本机没有它的数据密钥"):
        open_hall(Paths.resolve(data_dir))

    status = EncryptionDialog(admin, data_dir=data_dir)
    qtbot.addWidget(status)
    assert status.headline.text() == "已加密，但本机没有它的数据密钥" and status.recover_btn.isEnabled()
    dlg = status.open_recovery()
    qtbot.addWidget(dlg)
    assert isinstance(dlg, RecoveryDialog) and dlg.isVisible()
    # Checked as typed, each rule named.
    qtbot.keyClicks(dlg.code, code[:9])
    assert "还差 48 个" in dlg.rule.text() and not dlg.recover_btn.isEnabled()
    dlg.code.setText(code[:9] + "9")
    assert "第 10 个字符“9”" in dlg.rule.text() and "A–Z" in dlg.rule.text()
    typo = code[:-1] + ("A" if code[-1] != "A" else "B")
    dlg.code.setText(typo)
    assert "校验不通过" in dlg.rule.text() and not dlg.recover_btn.isEnabled()
    dlg.code.setText(code + "-ABCD")
    assert "多了 4 个" in dlg.rule.text()
    # A well-formed code of another folder: refused, nothing written.
    dlg.code.setText(at_rest.recovery_code(at_rest.DataKey(bytes(32))))
    assert dlg.recover_btn.isEnabled()
    assert dlg.recover() is False
    assert "不属于该数据文件夹" in dlg.result.text() and "未做任何改动" in dlg.result.text()
    assert not key_file.exists() and encryption.needs_recovery(data_dir)
    # The right one, as a person types it from paper.
    dlg.code.setText(code.lower().replace("-", " "))
    qtbot.mouseClick(dlg.recover_btn, Qt.MouseButton.LeftButton)
    assert "已恢复到本机" in dlg.result.text() and key_file.exists() and not encryption.needs_recovery(data_dir)
    qtbot.mouseClick(dlg.close_btn, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: status.headline.text().startswith("已加密（密钥保存在"), timeout=WAIT)
    at_rest.forget(data_dir)
    reopened = open_hall(Paths.resolve(data_dir))
    try:
        assert ledger_check.digest(reopened.db) == before
    finally:
        reopened.db.dispose()


def test_a_ledger_open_in_another_program_is_refused_with_nothing_closed(qtbot, admin, data_dir):
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
         "c.execute('SELECT count(*) FROM sqlite_master').fetchone(); print('open', flush=True); sys.stdin.read()",
         str(data_dir / "hall.sqlite3")], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        dlg = EncryptionDialog(admin, data_dir=data_dir)
        qtbot.addWidget(dlg)
        asked: list[bool] = []
        dlg._enable_requested = lambda: asked.append(True)
        assert dlg.start_enable() is False and asked == []
        assert "另一个程序" in messages.shown[-1][1] and "未做任何改动" in messages.shown[-1][1]
        with pytest.raises(HallError, match="请先关闭所有窗口的 Hall"):  # the service refuses it by itself too
            encryption.enable(data_dir, data_dir / "hall.sqlite3")
        assert not (data_dir / "encryption.json").exists() and not _encrypted_ledger(data_dir / "hall.sqlite3")
    finally:
        holder.stdin.close()
        holder.wait(timeout=10)
        holder.stdout.close()


def test_the_dialog_says_postgresql_is_encrypted_on_its_server(qtbot, hall_db, quiet):
    from hall_fixtures import actors_of

    ctx = Context(hall_db.db, hall_db.node, actors_of(hall_db)["admin"], ChangeSignal())
    dlg = EncryptionDialog(ctx)
    qtbot.addWidget(dlg)
    if hall_db.db.is_sqlite:
        assert dlg.headline.text() == "未加密" and dlg.enable_btn.isEnabled()
        return
    assert dlg.headline.text() == "本中心使用 PostgreSQL 服务器" and "BitLocker" in dlg.explain.text()
    assert not dlg.enable_btn.isEnabled() and not dlg.recover_btn.isEnabled()


def test_only_the_administrator_finds_the_menu_item(qtbot, hall_sqlite, tmp_path, quiet):
    from hall_fixtures import actors_of

    people = actors_of(hall_sqlite)
    village = NodeIdentity("village-node-001", "001")
    for who, node, expected in (("c02", hall_sqlite.node, False), ("m01", hall_sqlite.node, False),
                                ("v01", village, False), ("admin", hall_sqlite.node, True), ("admin", village, True)):
        win = MainWindow(Context(hall_sqlite.db, node, people[who], ChangeSignal()), tmp_path / "drafts")
        qtbot.addWidget(win)
        action = win.findChild(QAction, "encryptionAction")
        assert (action is not None) is expected, (who, node.intake_point)
        if action is not None:
            action.trigger()
            found = win.findChild(EncryptionDialog)
            assert found is not None and found.isVisible()
            found.reject()
        win.close()


@pytest.mark.ledger_edited
def test_encrypt_then_reopen_goes_on_to_an_encrypted_ledger(qtbot, hall_sqlite, data_dir, quiet):
    """What the program does after the window closed: release the database, the dialog, open it again."""
    before = ledger_check.digest(hall_sqlite.db)
    seen: list[EnableDialog] = []

    def tick_when_shown() -> None:
        found = [w for w in QApplication.topLevelWidgets() if isinstance(w, EnableDialog) and w.isVisible()]
        if found and not found[0].running:
            seen.append(found[0])
            found[0].reject()  # refused: the code has not been kept yet
            assert found[0].isVisible()
            found[0].kept.setChecked(True)
            found[0].finish_btn.click()
        else:
            QTimer.singleShot(20, tick_when_shown)

    QTimer.singleShot(0, tick_when_shown)
    reopened = encrypt_then_reopen(Paths.resolve(data_dir), None, None, hall_sqlite, "测试镇")
    try:
        assert seen and seen[0].recovery_code and reopened.db.key is not None
        assert ledger_check.digest(reopened.db) == before
    finally:
        reopened.db.dispose()
