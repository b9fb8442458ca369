"""One change signal: every operation from the UI announces what it changed, once, and each screen reloads only when
the change concerns it — counted on a manager's real main window, with ticket details and the calendar dialog open.

And a refreshed table keeps the person's place: the selected row stays selected, the rows on screen stay on
screen, when another ticket (or register entry) changes, comes or goes.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest
from gui_guard import GuiThreadSql
from PySide6.QtWidgets import QApplication

from hall.services.base.validators import id_check_char
from hall.services.cases import workflow
from hall.services.catalog import items as catalog
from hall.services.registers import complaints
from hall.services.reporting import queue
from hall.services.storage import settings
from hall.services.storage.changes import Changes
from hall.services.tickets import intake
from hall.ui import messages
from hall.ui.background import active_jobs
from hall.ui.calendar_dialog import CalendarDialog
from hall.ui.main_window import MainWindow
from hall.ui.ops import ChangeSignal, Context, run
from hall.ui.queue_view import QueueView
from hall.ui.registers_view import RegistersView

pytestmark = pytest.mark.gui
TODAY = date(2026, 11, 26)
NOW = datetime(2026, 11, 26, 10)


def person(i: int, name: str = "") -> intake.ApplicantForm:
    body = f"320581{date(1960, 1, 1) + timedelta(days=i):%Y%m%d}{i % 1000:03d}"
    given = "甲乙丙丁戊己庚辛壬癸"[i % 10] + "子丑寅卯辰巳午未申酉戌亥"[i // 10 % 12]
    return intake.ApplicantForm("person", body + id_check_char(body), name or "王" + given)


def accepted(s, actor, i: int, when: datetime, code: str = "09") -> str:
    marks = {m["name"]: "received" for m in catalog.current_item(s, code).materials}
    return intake.register(s, actor, intake.IntakeForm(code, person(i), marks), now=when).number


def settle(qtbot, listeners=()) -> None:
    """Every coalesced reaction fired and every background read delivered."""
    for _ in range(3):
        qtbot.waitUntil(lambda: not any(x.waiting for x in listeners) and active_jobs() == 0,
                        timeout=20_000)
        qtbot.wait(30)


# ------------------------------------------------------------------------------ who hears what
@pytest.fixture
def hall(hall_sqlite, monkeypatch, tmp_path):
    from hall_fixtures import actors_of

    monkeypatch.setattr(messages, "shown", [])
    monkeypatch.setattr(messages, "ask_hook", lambda _t, _x: True)
    people = actors_of(hall_sqlite)
    with hall_sqlite.db.transaction() as s:
        x = accepted(s, people["c02"], 1, datetime(2026, 11, 16, 9))
        y = accepted(s, people["c02"], 2, datetime(2026, 11, 17, 9))
    return hall_sqlite, people, x, y


class Session:
    """A manager's main window (queue on screen), the details of tickets X and Y, and an administrator's calendar
    dialog on the same signal; every screen's listener, by name."""

    def __init__(self, qtbot, hall, tmp_path) -> None:
        opened, people, x, y = hall
        self.qtbot, self.opened, self.people = qtbot, opened, people
        self.signal = ChangeSignal()
        self.told: list[tuple[Changes, object]] = []
        self.signal.changed.connect(lambda c, who: self.told.append((c, who)))
        self.ctx = Context(opened.db, opened.node, people["m01"], self.signal)
        self.win = MainWindow(self.ctx, tmp_path / "drafts", today=lambda: TODAY, now=lambda: NOW)
        self.win.stop_daily_timers()
        qtbot.addWidget(self.win)
        self.win.show()
        qtbot.waitExposed(self.win)
        self.win.go_queue()
        self.x, self.y = self.win.open_ticket(x), self.win.open_ticket(y)
        self.admin = Context(opened.db, opened.node, people["admin"], self.signal)
        self.calendar = CalendarDialog(self.admin, self.win, today=TODAY)
        qtbot.addWidget(self.calendar)
        w = self.win
        self.listeners = {"queue": w.queue.listener, "dashboard": w.dashboard.listener, "stats": w.stats.listener,
                          "attendance": w.attendance.listener, "intake": w.intake.listener, "window": w.listener,
                          "detail X": self.x.listener, "detail Y": self.y.listener,
                          "calendar dialog": self.calendar.listener,
                          **{f"register {n}": p.listener for n, p in w.registers.pages.items()}}
        settle(qtbot, self.listeners.values())

    def reached_by(self, operation) -> tuple[set[str], Changes]:  # type: ignore[no-untyped-def]
        """Run ``operation`` and return the screens that reacted, and the one announcement it made."""
        before = {n: x.reacted for n, x in self.listeners.items()}
        told = len(self.told)
        queue_reads = self.win.queue.model.loader.requests
        operation()
        self.qtbot.waitUntil(lambda: len(self.told) > told, timeout=20_000)  # a background operation ends later
        settle(self.qtbot, self.listeners.values())
        assert len(self.told) == told + 1, "one operation, one announcement"
        reached = {n for n, x in self.listeners.items() if x.reacted > before[n]}
        assert all(x.reacted <= before[n] + 1 for n, x in self.listeners.items()), "one reaction per screen"
        # The queue is on screen: a change that concerns it is exactly one reload, one that does not is none.
        assert self.win.queue.model.loader.requests - queue_reads == (1 if "queue" in reached else 0)
        return reached, self.told[-1][0]


TICKET_VIEWS = {"queue", "dashboard", "stats"}


def test_each_operation_reaches_the_screens_it_concerns_and_no_other(qtbot, hall, tmp_path):
    opened, _people, x_number, _y_number = hall
    s = Session(qtbot, hall, tmp_path)
    win = s.win
    gui = GuiThreadSql(opened.db.engine)

    # 收件登记 through the intake form: the lists that count tickets.
    def save_intake():
        win.go_intake()
        with opened.db.reading() as session:
            win.intake.load_item(catalog.current_item_view(session, "09"))
        win.intake.all_received()
        applicant = person(7, "刘新")
        win.intake.id_edit.setText(applicant.id_no)
        win.intake.name_edit.setText(applicant.name)
        assert win.intake.save() is not None
        win.go_queue()

    reached, changes = s.reached_by(save_intake)
    assert reached == TICKET_VIEWS and len(changes.tickets) == 1 and s.told[-1][1] is win.intake

    # 开始办理 on X in its detail: X shows it itself (no second read), Y hears nothing.
    reached, changes = s.reached_by(lambda: s.x.perform("start", {"note": ""}))
    assert reached == TICKET_VIEWS and changes.tickets == {s.x.detail.uid}
    assert "办理中" in s.x.header.text() and not s.x.loading

    # 办结 X: the ticket lists, and the follow-up register and dashboard panel if the closure scheduled one.
    reached, changes = s.reached_by(lambda: s.x.perform("close", {"outcome": "approved", "result": "同意",
                                                                  "doc_no": ""}))
    follow = {"register followups"} if changes.touches("followups") else set()
    assert reached == TICKET_VIEWS | follow

    # 作废 Y in its detail.
    reached, changes = s.reached_by(lambda: s.y.perform("void", {"reason": "重复登记"}))
    assert reached == TICKET_VIEWS and changes.tickets == {s.y.detail.uid} and "已作废" in s.y.header.text()

    # A register action: a complaint about ticket X. The complaints page shows it itself; X's detail hears it
    # (a new line in its history); no ticket list, no other register reloads.
    page = win.registers.pages["complaints"]
    page_reads = page.loader.requests
    reached, changes = s.reached_by(lambda: page.perform("register", {
        "content": "办理太慢", "channel": "现场", "complainant": "", "phone": "", "ticket_number": x_number,
        "staff_no": "", "window_code": ""}))
    assert reached == {"detail X"} and changes.registers == {"complaints"} and not changes.any_tickets
    assert page.loader.requests == page_reads + 1  # its own reload, at once
    qtbot.waitUntil(lambda: not s.x.loading)
    assert any("投诉" in s.x.history.item(r, 2).text() for r in range(s.x.history.rowCount()))

    # A calendar change (an administrator adds a local holiday): every screen that counts working days.
    s.calendar.local_name.setText("三月三")
    reached, changes = s.reached_by(s.calendar.add_local)
    assert changes.calendar and s.told[-1][1] is s.calendar
    assert reached == TICKET_VIEWS | {"intake", "detail X", "detail Y"}

    # A settings change: the window's title, the intake's promised date; no list.
    reached, changes = s.reached_by(lambda: run(None, s.admin, lambda session: settings.set_values(
        session, s.admin.actor, {"hall_name": "改名后的中心"})))
    assert reached == {"window", "intake"} and changes.settings
    assert win.windowTitle().endswith("改名后的中心")

    # A new catalogue (an administrator renames item 11): the item finder and the intake's time limits, and the
    # names the dashboard and the statistics show; no ticket list.
    def import_catalogue():
        def change(session):  # type: ignore[no-untyped-def]
            spec = catalog.current_spec(session)
            items = tuple(replace(i, name="老年人优待证办理（新名称）") if i.code == "11" else i for i in spec.items)
            return catalog.import_catalog(session, s.admin.actor, replace(spec, items=items), "测试导入")
        assert run(None, s.admin, change) is not None

    reached, changes = s.reached_by(import_catalogue)
    assert reached == {"window", "intake", "dashboard", "stats"} and changes.catalog
    win.finder.search.setText("新名称")
    assert [i.code for i in win.finder.shown] == ["11"]

    # 考勤: the attendance screen shows it itself; the dashboard's duty panel and the review hear it.
    win.go_attendance()
    qtbot.waitUntil(lambda: not win.attendance.loading)
    row = next(i for i, d in enumerate(win.attendance.lines) if d.staff_no == "c02")
    win.attendance.table.selectRow(row)
    reached, changes = s.reached_by(lambda: win.attendance.mark_selected("present"))
    assert reached == {"dashboard", "stats"} and changes.registers == {"attendance"}

    # What another counter did, fed into the same signal (the hall LAN): every screen it concerns reloads, none
    # of them on the GUI thread.
    with gui.watching():
        reached, _ = s.reached_by(lambda: s.signal.announce(Changes.from_events([
            ("ticket.closed", s.y.detail.uid), ("followup.done", s.x.detail.uid), ("staff.b_post_set", None)])))
    assert gui.statements == []
    # (a B-post set is staff: the attendance screen and every register show staff names)
    assert reached == TICKET_VIEWS | {"detail X", "detail Y", "attendance"} | {
        f"register {n}" for n in s.win.registers.pages}


def test_a_hidden_screen_only_marks_itself_stale_and_reloads_once_when_shown(qtbot, hall, tmp_path):
    s = Session(qtbot, hall, tmp_path)
    dash = s.win.dashboard
    reads = dash.loader.requests
    for i in range(3):  # three counters close tickets while the manager looks at the queue
        s.signal.announce(Changes.from_events([("ticket.closed", f"elsewhere-{i}")]))
    settle(qtbot, s.listeners.values())
    assert dash.loader.requests == reads  # hidden: nothing counted yet
    s.win.go_dashboard()
    settle(qtbot, s.listeners.values())
    assert dash.loader.requests == reads + 1  # shown: counted once, for all three


# ------------------------------------------------------------------------------ the queue keeps its place
@pytest.fixture
def long_queue(hall_sqlite):
    """60 open W02 tickets, due one after another."""
    from hall_fixtures import actors_of

    people = actors_of(hall_sqlite)
    with hall_sqlite.db.transaction() as s:
        numbers = [accepted(s, people["c02"], 100 + i, datetime(2026, 10, 1, 9) + timedelta(days=i))
                   for i in range(60)]
    return hall_sqlite, people, numbers


def test_the_queue_keeps_the_selected_ticket_and_the_viewport_when_other_tickets_change(qtbot, long_queue,
                                                                                          monkeypatch):
    opened, people, numbers = long_queue
    monkeypatch.setattr(messages, "ask_hook", lambda _t, _x: True)
    view = QueueView(Context(opened.db, opened.node, people["c02"]), today=lambda: TODAY)
    qtbot.addWidget(view)
    view.resize(1000, 320)  # a dozen rows visible
    view.show()
    qtbot.waitExposed(view)
    settle(qtbot, [view.listener])
    table, model = view.table, view.model
    assert model.rowCount() == 60

    def row_of(number: str) -> int:
        return next(r for r in range(model.rowCount()) if model.row_at(r).number == number)

    table.setFocus()
    table.selectRow(row_of(numbers[40]))
    table.verticalScrollBar().setValue(32)  # rows 32… on screen, the selected one among them
    chosen = model.row_at(table.currentIndex().row()).id
    top = model.row_at(table.rowAt(0)).id
    value = table.verticalScrollBar().value()

    def place() -> tuple[int, int, int]:
        return model.row_at(table.currentIndex().row()).id, model.row_at(table.rowAt(0)).id, \
            table.verticalScrollBar().value()

    # 1. Another ticket, far above, is started: its row changes in place — nothing moves.
    run(None, view.ctx, lambda s: workflow.start(s, people["c02"], numbers[3], ""))
    settle(qtbot, [view.listener])
    assert place() == (chosen, top, value) and model.row_at(3).state == "in_progress"

    # 2. Two tickets above the viewport are closed: they leave the open list, the rows on screen stay put.
    for n in (numbers[5], numbers[10]):
        run(None, view.ctx, lambda s, n=n: workflow.close(s, people["c02"], n, "approved", "同意", now=NOW))
    settle(qtbot, [view.listener])
    assert model.rowCount() == 58 and place() == (chosen, top, value - 2)

    # 3. A new ticket that sorts first arrives (another counter): everything shifts down one row, the view too.
    with opened.db.transaction() as s:
        made = accepted(s, people["c02"], 999, datetime(2026, 9, 1, 9))
        uid = queue.detail(s, people["c02"], made).uid
    with GuiThreadSql(opened.db.engine).watching() as gui:
        view.ctx.changes.announce(Changes.from_events([("ticket.received", uid)]))
        settle(qtbot, [view.listener])
    assert gui.statements == []
    assert model.row_at(0).number == made and place() == (chosen, top, value - 1)

    # 4. The selected ticket itself is closed elsewhere: it leaves, the viewport still stays on the same rows.
    below_top = model.row_at(table.rowAt(0)).id
    run(None, view.ctx, lambda s: workflow.close(s, people["c02"], numbers[40], "approved", "同意", now=NOW))
    settle(qtbot, [view.listener])
    assert model.row_of(chosen) is None and model.row_at(table.rowAt(0)).id == below_top


# ------------------------------------------------------------------------------ a register keeps its place
def test_a_register_keeps_the_selected_row_and_the_viewport_when_another_entry_changes(qtbot, hall_sqlite,
                                                                                      monkeypatch, qtmodeltester):
    from hall_fixtures import actors_of

    monkeypatch.setattr(messages, "ask_hook", lambda _t, _x: True)
    people = actors_of(hall_sqlite)
    with hall_sqlite.db.transaction() as s:
        made = [complaints.register(s, people["c02"], f"第{i}件投诉内容", "现场", window_code="W02",
                                    now=datetime(2026, 9, 1, 9) + timedelta(days=i)).number for i in range(60)]
    ctx = Context(hall_sqlite.db, hall_sqlite.node, people["m01"])
    v = RegistersView(ctx, today=lambda: TODAY)
    qtbot.addWidget(v)
    v.resize(1100, 360)
    v.show()
    qtbot.waitExposed(v)
    page = v.show_register("complaints")
    settle(qtbot, [p.listener for p in v.pages.values()])
    table, model = page.table, page.model
    assert model.rowCount() == 60

    def at(row: int) -> str:
        return model.row_at(row).number

    table.selectRow(next(r for r in range(60) if at(r) == made[45]))
    table.verticalScrollBar().setValue(38)
    top, value = at(table.rowAt(0)), table.verticalScrollBar().value()
    assert value == 38

    # Another manager answers two complaints above the viewport and one below it: three rows leave the list.
    for n in (made[2], made[7], made[55]):
        run(None, ctx, lambda s, n=n: complaints.answer(s, people["admin"], n, False, "已核实，不属实", now=NOW))
    settle(qtbot, [p.listener for p in v.pages.values()])
    assert model.rowCount() == 57
    assert page.current_row().number == made[45] and at(table.rowAt(0)) == top
    assert table.verticalScrollBar().value() == value - 2
    # A new complaint lands at the end: nothing on screen moves.
    run(None, ctx, lambda s: complaints.register(s, people["c02"], "新的投诉", "电话", window_code="W02", now=NOW))
    settle(qtbot, [p.listener for p in v.pages.values()])
    assert model.rowCount() == 58 and at(57).startswith("TS-20261126")
    assert page.current_row().number == made[45] and at(table.rowAt(0)) == top
    assert table.verticalScrollBar().value() == value - 2
    qtmodeltester.check(model, force_py=True)


def test_keyed_updates_pass_the_model_tester(qtbot, qtmodeltester):
    """Removals, moves, insertions and changes in one update, under Qt's own model checks."""
    from dataclasses import dataclass

    from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt

    from hall.ui.keep_place import update_rows

    @dataclass(frozen=True)
    class Row:
        key: int
        text: str

    class Model(QAbstractTableModel):
        def __init__(self) -> None:
            super().__init__()
            self.rows: list[Row] = [Row(k, f"r{k}") for k in range(20)]

        def rowCount(self, parent=QModelIndex()):  # noqa: B008
            return 0 if parent.isValid() else len(self.rows)

        def columnCount(self, parent=QModelIndex()):  # noqa: B008
            return 0 if parent.isValid() else 2

        def data(self, index, role=Qt.ItemDataRole.DisplayRole):
            if role == Qt.ItemDataRole.DisplayRole and index.isValid() and index.row() < len(self.rows):
                r = self.rows[index.row()]
                return (str(r.key), r.text)[index.column()]
            return None

    m = Model()
    qtmodeltester.check(m, force_py=True)
    selected = m.index(12, 0)
    from PySide6.QtCore import QPersistentModelIndex

    kept = QPersistentModelIndex(selected)
    middle = [Row(k, "changed" if k == 12 else f"r{k}") for k in range(4, 20) if k not in (6, 7, 15)]
    new = [Row(k, f"r{k}") for k in (100, 0, 1, 3, 2)] + middle + [Row(200, "n")]
    update_rows(m, m.rows, new, lambda r: r.key, 2)
    assert m.rows == new
    assert kept.isValid() and m.rows[kept.row()].key == 12 and m.data(m.index(kept.row(), 1)) == "changed"
    qtmodeltester.check(m, force_py=True)
    QApplication.processEvents()


def test_a_closed_detail_stops_listening(qtbot, hall, tmp_path):
    """A ticket's detail deletes itself when closed; its subscription goes with it (nothing disconnects by hand,
    and a change announced afterwards reaches only the living)."""
    from PySide6.QtCore import QCoreApplication, QEvent

    s = Session(qtbot, hall, tmp_path)
    uid = s.x.detail.uid
    listeners = len(s.win.details)
    s.x.reject()  # Esc: closed, deleted later
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    assert len(s.win.details) == listeners - 1
    reads = s.y.loader.requests
    s.signal.announce(Changes.from_events([("ticket.closed", uid), ("ticket.closed", s.y.detail.uid)]))
    settle(qtbot, [s.y.listener])
    assert s.y.loader.requests == reads + 1


def test_the_citizens_screen_follows_the_halls_name(qtbot, hall_sqlite):
    from hall_fixtures import actors_of

    from hall.ui.rating_screen import rating_screen_for

    people = actors_of(hall_sqlite)
    ctx = Context(hall_sqlite.db, hall_sqlite.node, people["c02"])
    screen = rating_screen_for(ctx)
    qtbot.addWidget(screen)
    assert rating_screen_for(ctx) is screen  # asked again: still one screen, one subscription
    run(None, ctx, lambda s: settings.set_values(s, people["admin"], {"hall_name": "新名字便民服务中心"}))
    qtbot.waitUntil(lambda: screen.idle_hall.text() == "新名字便民服务中心", timeout=10_000)
    assert screen.windowTitle().endswith("新名字便民服务中心")
