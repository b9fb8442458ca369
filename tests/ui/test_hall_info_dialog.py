"""管理 → 本中心信息: an administrator sees the hall's current letterhead and rules, a refused value is named
beside its field with what was typed kept and nothing saved, and a saved change reaches the window's title and
the papers at once (one ``settings.changed`` event naming only what changed)."""

from __future__ import annotations

import pytest
from gui_guard import GuiThreadSql
from PySide6.QtWidgets import QLineEdit, QSpinBox
from sqlalchemy import select

from hall.models import Event
from hall.services.reporting import papers
from hall.services.storage import ledger, settings
from hall.ui import messages
from hall.ui.background import active_jobs
from hall.ui.main_window import MainWindow
from hall.ui.ops import ChangeSignal, Context

pytestmark = pytest.mark.gui


@pytest.fixture
def admin_window(qtbot, hall_sqlite, tmp_path, monkeypatch):
    from hall_fixtures import actors_of

    monkeypatch.setattr(messages, "shown", [])
    monkeypatch.setattr(messages, "ask_hook", lambda _t, _x: True)
    ctx = Context(hall_sqlite.db, hall_sqlite.node, actors_of(hall_sqlite)["admin"], ChangeSignal())
    win = MainWindow(ctx, tmp_path / "drafts")
    win.stop_daily_timers()
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: active_jobs() == 0, timeout=20_000)
    return win


def _open(qtbot, win):
    manage = next(a.menu() for a in win.menuBar().actions() if a.text() == "管理(&G)")
    action = next(a for a in manage.actions() if a.objectName() == "hallInfoAction")
    sql = GuiThreadSql(win.ctx.db.engine)
    with sql.watching():
        action.trigger()
        qtbot.waitUntil(lambda: win.findChild(QLineEdit, "hall_name") is not None
                        and win.findChild(QLineEdit, "hall_name").text() != "", timeout=10_000)
    assert sql.statements == []  # read in the background
    return win.findChild(QLineEdit, "hall_name").window()


def test_a_refused_value_is_named_and_nothing_is_saved(qtbot, admin_window, hall_sqlite):
    dialog = _open(qtbot, admin_window)
    code = dialog.findChild(QLineEdit, "township_code")
    assert code.text() == "320581101" and dialog.findChild(QSpinBox, "supplement_days").value() == 5
    dialog.findChild(QLineEdit, "hall_name").setText("东山镇便民服务中心")
    code.setText("3205811")
    dialog.save()
    assert dialog.isVisible() and code.text() == "3205811"  # kept what was typed
    assert "乡镇代码：应为9位数字" in dialog.note.text() and "color" in dialog.labels["township_code"].styleSheet()
    assert messages.shown[-1][0] == "本中心信息未保存"
    with hall_sqlite.db.transaction() as s:
        assert settings.get(s, "hall_name") == "示例镇便民服务中心"


def test_a_saved_change_reaches_the_title_and_the_papers(qtbot, admin_window, hall_sqlite):
    dialog = _open(qtbot, admin_window)
    dialog.findChild(QLineEdit, "hall_name").setText("东山镇便民服务中心")
    dialog.findChild(QLineEdit, "office_hours").setText("周一至周五 8:30—17:30")
    dialog.findChild(QSpinBox, "supplement_days").setValue(7)
    dialog.save()
    assert not dialog.isVisible()
    qtbot.waitUntil(lambda: admin_window.windowTitle() == "Hall — 东山镇便民服务中心", timeout=10_000)
    with hall_sqlite.db.transaction() as s:
        info = papers.hall_info(s)
        ev = s.scalars(select(Event).where(Event.type == "settings.changed").order_by(Event.id.desc())).first()
        assert ledger.load_payload(ev)["values"] == {"hall_name": "东山镇便民服务中心",
                                                     "office_hours": "周一至周五 8:30—17:30", "supplement_days": 7}
    assert (info.name, info.office_hours, info.issuer) == ("东山镇便民服务中心", "周一至周五 8:30—17:30",
                                                           "东山镇便民服务中心")


def test_first_run_second_step_says_what_it_is_for(qtbot, admin_window):
    dialog = admin_window.open_hall_info(first_run=True)
    qtbot.waitUntil(lambda: dialog.loaded is not None, timeout=10_000)
    assert dialog.windowTitle() == "首次使用（第2步，共2步）— 本中心信息"
    intro = dialog.findChild(type(dialog.note), "firstRunIntro")
    assert intro is not None and "办件编号以乡镇代码开头" in intro.text()
    dialog.save()  # nothing changed: closes without an event
    assert not dialog.isVisible()
