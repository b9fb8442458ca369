"""Start-up: the login dialog is on screen before the database has opened, and waits for it."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from hall.errors import DatabaseError
from hall.paths import Paths
from hall.services.storage.node import NodeIdentity
from hall.ui.login_dialog import LoginDialog
from hall.ui.startup import BackgroundOpen

pytestmark = pytest.mark.gui


def test_login_appears_before_the_database_is_open_and_waits_for_it(qtbot, hall_sqlite):
    data_dir = hall_sqlite.db.backups_dir.parent
    hall_sqlite.db.dispose()
    opening = BackgroundOpen(Paths.resolve(data_dir), None, None)
    dlg = LoginDialog(None, hall_sqlite.node, "", opening=opening)
    qtbot.addWidget(dlg)
    dlg.show()
    opening.start()
    qtbot.keyClicks(dlg.staff_no, "c03")
    qtbot.keyClicks(dlg.password, "clerk-pass-1")
    qtbot.keyClick(dlg.password, Qt.Key.Key_Return)
    assert dlg.actor is not None and dlg.actor.window_code == "W03"
    assert dlg.title.text() == "示例镇便民服务中心"
    dlg.opened.db.dispose()


def test_first_start_switches_to_setting_the_admin_password(qtbot, tmp_path):
    opening = BackgroundOpen(Paths.resolve(tmp_path / "new"), None, None)
    dlg = LoginDialog(None, NodeIdentity("n1"), "", opening=opening)
    qtbot.addWidget(dlg)
    dlg.show()
    with qtbot.waitSignal(dlg.finished, timeout=30000) as blocker:
        opening.start()
    assert blocker.args == [LoginDialog.NEEDS_ADMIN]
    opening.wait_result().db.dispose()


def test_a_broken_database_closes_the_login_and_is_reported(qtbot, tmp_path):
    paths = Paths.resolve(tmp_path / "broken").ensure()
    paths.database_file.write_bytes(b"not a database" * 200)
    opening = BackgroundOpen(paths, None, None)
    dlg = LoginDialog(None, NodeIdentity("n1"), "", opening=opening)
    qtbot.addWidget(dlg)
    dlg.show()
    with qtbot.waitSignal(dlg.finished, timeout=30000) as blocker:
        opening.start()
    assert blocker.args == [LoginDialog.DialogCode.Rejected.value]
    with pytest.raises(DatabaseError, match="损坏"):
        opening.wait_result()
    opening.wait()


def test_a_corrupt_node_file_is_a_message_not_a_traceback(tmp_path):
    from hall.errors import HallError

    path = tmp_path / "node.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(HallError, match="终端标识文件已损坏"):
        NodeIdentity.load_or_create(path)
