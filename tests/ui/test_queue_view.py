"""The lazy ticket table and the queue view over a real SQLite hall."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from gui_guard import GuiThreadSql
from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QFont
from PySide6.QtWidgets import QApplication

from hall.services.base.validators import id_check_char
from hall.services.catalog import items as catalog
from hall.services.reporting import queue
from hall.services.reporting.queue import TicketFilter
from hall.services.storage.changes import Changes
from hall.services.tickets import intake
from hall.ui import messages
from hall.ui.background import wait_idle
from hall.ui.ops import ChangeSignal, Context, read, run
from hall.ui.queue_view import BURST_GAP_MS, QueueView
from hall.ui.ticket_table_model import (
    COL_DAYS,
    COL_DUE,
    COL_NUMBER,
    OVERDUE_BG,
    TODAY_BG,
    IdRole,
    NumberRole,
    RowRole,
    TicketTableModel,
    session_fetcher,
)

pytestmark = pytest.mark.gui
TODAY = date(2026, 11, 26)


@pytest.fixture
def tickets20(hall_sqlite):
    """20 W02 tickets: due in the past (overdue), today, later, one provisional (2027), one awaiting 补正."""
    from hall_fixtures import actors_of

    people = actors_of(hall_sqlite)
    c02 = people["c02"]
    with hall_sqlite.db.transaction() as s:
        item = catalog.current_item(s, "09")
        received = {m["name"]: "received" for m in item.materials}
        days = [datetime(2026, 10, 1, 9) + timedelta(days=2 * i) for i in range(17)]
        days.append(datetime(2026, 11, 5, 9))  # 15 working days → due 2026-11-26: today
        days.append(datetime(2027, 3, 1, 9))  # an unconfirmed year: provisional
        for i, when in enumerate(days):
            body = f"320581196001{10 + i:02d}{i:03d}"
            name = "王" + "甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午未申酉"[i]
            form = intake.IntakeForm("09", intake.ApplicantForm("person", body + id_check_char(body), name),
                                     received)
            intake.register(s, c02, form, now=when)
        body = "32058119700101999"
        intake.register(s, c02, intake.IntakeForm("09", intake.ApplicantForm(
            "person", body + id_check_char(body), "李补正")), now=datetime(2026, 11, 20, 9))
    return hall_sqlite, people


def model_for(hall, flt=None, page_size=4):
    return TicketTableModel(session_fetcher(lambda fn: read(hall.db, fn)), flt or TicketFilter(),
                            today=lambda: TODAY, page_size=page_size)


def test_model_passes_qtmodeltester(qtmodeltester, tickets20):
    hall, _ = tickets20
    model = model_for(hall)
    qtmodeltester.check(model, force_py=True)
    while model.canFetchMore():
        model.fetchMore()
    qtmodeltester.check(model, force_py=True)
    assert model.rowCount() == 20


def test_model_fetches_lazily_page_by_page(tickets20):
    hall, _ = tickets20
    calls = []

    def fetch(*args):
        calls.append(args)
        return read(hall.db, lambda s: queue.page(s, args[0], today=args[1], sort=args[2], descending=args[3],
                                                  after=args[4], limit=args[5]))

    model = TicketTableModel(fetch, TicketFilter(), today=lambda: TODAY, page_size=4)
    assert model.rowCount() == 4 and model.canFetchMore() and len(calls) == 1
    model.fetchMore()
    assert model.rowCount() == 8 and len(calls) == 2 and calls[1][4] is not None  # a keyset cursor, no offset
    ids = [model.data(model.index(r, 0), IdRole) for r in range(8)]
    assert len(set(ids)) == 8


def test_overdue_today_and_provisional_are_marked(tickets20):
    hall, _ = tickets20
    model = model_for(hall, page_size=50)
    rows = [model.data(model.index(r, 0), RowRole) for r in range(model.rowCount())]
    overdue = next(r for r, row in enumerate(rows) if row.overdue)
    today = next(r for r, row in enumerate(rows) if row.due_today)
    provisional = next(r for r, row in enumerate(rows) if row.due_provisional)
    supplement = next(r for r, row in enumerate(rows) if row.state == "supplement")
    assert model.data(model.index(overdue, COL_DAYS)).startswith("超期")
    assert model.data(model.index(overdue, COL_DUE), Qt.ItemDataRole.BackgroundRole).color() == OVERDUE_BG
    assert model.data(model.index(overdue, COL_DUE), Qt.ItemDataRole.ForegroundRole).color().red() > 150
    assert model.data(model.index(today, COL_DAYS)) == "今日到期"
    assert model.data(model.index(today, COL_DUE), Qt.ItemDataRole.BackgroundRole).color() == TODAY_BG
    assert model.data(model.index(provisional, COL_DUE)).endswith("（暂定）")
    assert model.data(model.index(provisional, COL_DUE), Qt.ItemDataRole.ToolTipRole)
    assert model.data(model.index(supplement, COL_DUE)) == "补正后起算"
    assert supplement == len(rows) - 1  # undated last
    assert [row.due_date for row in rows[:-1]] == sorted(row.due_date for row in rows[:-1])


def test_sorting_is_a_new_query(tickets20):
    hall, _ = tickets20
    model = model_for(hall, page_size=50)
    model.sort(COL_NUMBER, Qt.SortOrder.DescendingOrder)
    numbers = [model.data(model.index(r, COL_NUMBER), NumberRole) for r in range(model.rowCount())]
    assert numbers == sorted(numbers, reverse=True) and len(numbers) == 20


def background_model(hall, flt=None, page_size=4):
    return TicketTableModel.in_background(hall.db, flt or TicketFilter(), today=lambda: TODAY, page_size=page_size)


def settle(qtbot, what) -> None:
    """Until the model (or the queue view) has nothing on its way any more."""
    busy = (lambda: what.loading) if isinstance(what, TicketTableModel) else (lambda: what.searching)
    qtbot.waitUntil(lambda: not busy(), timeout=10_000)


def test_background_model_passes_qtmodeltester(qtbot, qtmodeltester, tickets20):
    hall, _ = tickets20
    model = background_model(hall)
    settle(qtbot, model)
    # Checked once: the tester stays connected and checks every insert, in-place update and reset below.
    qtmodeltester.check(model, force_py=True)  # it asks fetchMore itself: the page arrives afterwards
    settle(qtbot, model)
    while model.canFetchMore():
        model.fetchMore()
        settle(qtbot, model)
    assert model.rowCount() == 20
    ids = [model.data(model.index(r, 0), IdRole) for r in range(20)]
    assert len(set(ids)) == 20
    model.refresh()  # in place: removals, changes and insertions, all through the tester's checks
    settle(qtbot, model)
    model.set_filter(TicketFilter(overdue=True))
    settle(qtbot, model)
    while model.canFetchMore():  # to the end: the tester's last look (at teardown) fetches nothing late
        model.fetchMore()
        settle(qtbot, model)
    assert 0 < model.rowCount() < 20


def test_background_model_reads_nothing_on_the_gui_thread(qtbot, tickets20):
    hall, _ = tickets20
    with GuiThreadSql(hall.db.engine).watching() as gui:
        model = background_model(hall)
        assert model.rowCount() == 0 and model.loading  # the first page is on its way, not awaited
        settle(qtbot, model)
        assert model.rowCount() == 4 and model.canFetchMore()
        model.fetchMore()
        assert model.rowCount() == 4 and not model.canFetchMore()  # one fetch at a time
        settle(qtbot, model)
        assert model.rowCount() == 8
        model.sort(COL_NUMBER, Qt.SortOrder.DescendingOrder)
        settle(qtbot, model)
    assert gui.statements == []
    numbers = [model.data(model.index(r, COL_NUMBER), NumberRole) for r in range(model.rowCount())]
    assert numbers == sorted(numbers, reverse=True)


def test_newest_filter_wins(qtbot, tickets20):
    hall, _ = tickets20
    model = background_model(hall, page_size=50)
    settle(qtbot, model)
    arrivals = []
    model.loaded.connect(lambda: arrivals.append(model.rowCount()))
    model.set_filter(TicketFilter(overdue=True))
    model.set_filter(TicketFilter(due_on=TODAY))  # before the first one arrived
    settle(qtbot, model)
    wait_idle()
    qtbot.wait(20)
    assert arrivals == [1] and model.row_at(0).due_today  # the overdue list never showed


def test_refresh_updates_in_place_and_keeps_persistent_indexes(qtbot, tickets20):
    from PySide6.QtCore import QPersistentModelIndex

    hall, people = tickets20
    model = background_model(hall, page_size=50)
    settle(qtbot, model)
    resets = []
    model.modelReset.connect(lambda: resets.append(1))
    kept = QPersistentModelIndex(model.index(5, 0))
    with hall.db.transaction() as s:  # one more ticket, due last of the dated ones
        body = "32058119800101888"
        intake.register(s, people["c02"], intake.IntakeForm("09", intake.ApplicantForm(
            "person", body + id_check_char(body), "新来")), now=datetime(2026, 11, 26, 9))
    model.refresh()
    settle(qtbot, model)
    assert model.rowCount() == 21 and resets == [] and kept.isValid() and kept.row() == 5


def open_view(qtbot, hall, actor, changes=None):
    view = QueueView(Context(hall.db, hall.node, actor, changes or ChangeSignal()), today=lambda: TODAY)
    qtbot.addWidget(view)
    view.show()
    qtbot.waitExposed(view)
    view.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is view)
    settle(qtbot, view)
    return view


def test_queue_view_scopes_quick_filters_search_and_open(qtbot, tickets20, monkeypatch):
    hall, people = tickets20
    monkeypatch.setattr(messages, "ask_hook", lambda _t, _x: True)
    changes = ChangeSignal()
    view = open_view(qtbot, hall, people["c02"], changes)
    view.table.setFocus()
    assert view.scope == "window" and "共 20 件" in view.counts_label.text()
    assert "今日到期 1 件" in view.counts_label.text() and "暂定期限 1 件" in view.counts_label.text()
    view.set_quick("overdue")
    settle(qtbot, view)
    rows = [view.model.row_at(r) for r in range(view.model.rowCount())]
    assert rows and all(r.overdue for r in rows)
    qtbot.keyClick(view.table, Qt.Key.Key_F6)  # 今日到期
    settle(qtbot, view)
    assert view.quick == "today" and view.model.rowCount() == 1
    view.set_quick("open")
    view.search.setText("lbz")  # 李补正 by pinyin initials
    settle(qtbot, view)
    assert view.model.rowCount() == 1 and view.model.row_at(0).applicant_name == "李补正"
    view.search.clear()
    view.set_scope("mine")
    settle(qtbot, view)
    assert view.model.rowCount() == 20
    with qtbot.waitSignal(view.open_ticket) as opened:
        view.table.setFocus()
        view.table.setCurrentIndex(view.model.index(0, 0))
        qtbot.keyClick(view.table, Qt.Key.Key_Return)
    assert opened.args == [view.model.row_at(0).number]

    other = open_view(qtbot, hall, people["c03"])
    assert other.model.rowCount() == 0  # W03 sees none of W02's tickets

    # A new ticket saved through the session's operation runner: one signal, the list and the counts follow.
    body = "32058119800101888"
    run(None, view.ctx, lambda s: intake.register(s, people["c02"], intake.IntakeForm("09", intake.ApplicantForm(
        "person", body + id_check_char(body), "新来")), now=datetime(2026, 11, 26, 9)))
    settle(qtbot, view)
    assert "共 21 件" in view.counts_label.text()


def ime_commit(widget, text: str) -> None:
    """What a Chinese input method sends when the clerk picks a character: a commit, not a key press (QTest's
    key clicks know only Latin-1)."""
    from PySide6.QtGui import QInputMethodEvent

    for ch in text:
        event = QInputMethodEvent()
        event.setCommitString(ch)
        QApplication.sendEvent(widget, event)


def test_typing_runs_no_sql_on_the_gui_thread_and_the_results_arrive(qtbot, tickets20):
    hall, people = tickets20
    view = open_view(qtbot, hall, people["c02"])
    with GuiThreadSql(hall.db.engine).watching() as gui:
        view.search.setFocus()
        ime_commit(view.search, "李")
        assert view.searching and view.model.rowCount() == 20  # the old list stays until the new one is here
        qtbot.wait(BURST_GAP_MS + 10)  # a person's pace, not a scanner's
        ime_commit(view.search, "补")  # typed while "李" may still be on its way: gathered, searched next
        settle(qtbot, view)
        assert [view.model.row_at(r).applicant_name for r in range(view.model.rowCount())] == ["李补正"]
        assert view.model.filter.text == "李补" and "共 1 件" in view.counts_label.text()
        for key in (Qt.Key.Key_Backspace, Qt.Key.Key_Backspace):
            qtbot.wait(BURST_GAP_MS + 10)
            qtbot.keyClick(view.search, key)
        settle(qtbot, view)
        assert view.model.rowCount() == 20 and "共 20 件" in view.counts_label.text()
    assert gui.statements == []


def test_a_scanner_burst_waits_for_its_enter_then_searches_at_once(qtbot, tickets20):
    hall, people = tickets20
    view = open_view(qtbot, hall, people["c02"])
    number = view.model.row_at(7).number
    requests = []
    view.model.loaded.connect(lambda: requests.append(view.model.filter.text))
    with GuiThreadSql(hall.db.engine).watching() as gui:
        view.search.setFocus()
        qtbot.keyClicks(view.search, number)  # 27 keys within a few milliseconds
        assert view.searching and view.model.filter.text in ("", number[:1])  # nothing mid-burst
        qtbot.keyClick(view.search, Qt.Key.Key_Return)
        assert view.model.loading and view.model.filter.text == number  # the search went out with the Enter
        assert view.table.hasFocus()
        settle(qtbot, view)
    assert gui.statements == []
    assert view.model.rowCount() == 1 and view.model.row_at(0).number == number
    assert view.table.currentIndex().row() == 0  # Enter again opens it
    assert "共 1 件" in view.counts_label.text()
    assert requests[-1] == number and all(t in ("", number[:1]) for t in requests[:-1])


def test_a_burst_without_enter_is_searched_once_it_ends(qtbot, tickets20):
    hall, people = tickets20
    view = open_view(qtbot, hall, people["c02"])
    number = view.model.row_at(3).number
    view.search.setFocus()
    qtbot.keyClicks(view.search, number)
    settle(qtbot, view)
    assert view.model.filter.text == number and view.model.rowCount() == 1


def test_counts_of_a_broad_search_are_capped_and_a_short_one_asks_for_more(qtbot, tickets20, monkeypatch):
    hall, people = tickets20
    monkeypatch.setattr(queue, "SEARCH_CAP", 5)
    view = open_view(qtbot, hall, people["c02"])
    view.search.setText("王")
    settle(qtbot, view)
    assert "共 5+ 件" in view.counts_label.text() and view.model.rowCount() == 19
    view.search.setText("320581101-0")  # not yet a ticket number: nothing is looked up
    settle(qtbot, view)
    assert view.model.rowCount() == 0 and "请继续输入" in view.counts_label.text()


def test_a_change_elsewhere_keeps_the_clerks_row_and_scroll(qtbot, tickets20):
    hall, people = tickets20
    changes = ChangeSignal()
    view = open_view(qtbot, hall, people["c02"], changes)
    view.resize(900, 200)  # a few rows visible: the list scrolls
    view.table.setFocus()
    view.table.selectRow(12)
    view.table.scrollTo(view.model.index(12, 0))
    chosen = view.model.row_at(12).id
    scrolled = view.table.verticalScrollBar().value()
    assert scrolled > 0
    top = view.model.row_at(view.table.rowAt(0)).id
    with hall.db.transaction() as s:  # a new ticket that sorts first (the earliest due date): every row moves down
        body = "32058119800101777"
        received = {m["name"]: "received" for m in catalog.current_item(s, "09").materials}
        made = intake.register(s, people["c02"], intake.IntakeForm("09", intake.ApplicantForm(
            "person", body + id_check_char(body), "插队"), received), now=datetime(2026, 9, 1, 9))
        uid = queue.detail(s, people["c02"], made.number).uid
    with GuiThreadSql(hall.db.engine).watching() as gui:
        changes.announce(Changes.from_events([("ticket.received", uid)]))  # as another counter's save arrives
        settle(qtbot, view)
    assert gui.statements == []
    assert view.model.rowCount() == 21
    assert view.model.row_at(view.table.currentIndex().row()).id == chosen
    assert view.model.row_at(0).number == made.number
    assert view.model.row_at(view.table.rowAt(0)).id == top  # the rows on screen stayed on screen
    assert view.table.verticalScrollBar().value() == scrolled + 1


def test_multidata_answers_what_data_answers(qtbot, tickets20):
    """A view paints through multiData (one call per cell); it must say exactly what data() says."""
    from PySide6.QtCore import QModelRoleData

    hall, _ = tickets20
    model = background_model(hall, page_size=50)
    settle(qtbot, model)
    roles = [int(r) for r in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.FontRole, Qt.ItemDataRole.ForegroundRole,
                              Qt.ItemDataRole.BackgroundRole, Qt.ItemDataRole.TextAlignmentRole,
                              Qt.ItemDataRole.DecorationRole, Qt.ItemDataRole.CheckStateRole,
                              Qt.ItemDataRole.ToolTipRole, NumberRole)]
    marked = 0
    for r in range(model.rowCount()):
        for c in range(model.columnCount()):
            index = model.index(r, c)
            asked = [QModelRoleData(role) for role in roles]
            model.multiData(index, asked)
            for rd in asked:
                want, got = model.data(index, rd.role()), rd.data()
                if isinstance(want, QBrush | QFont):
                    marked += 1
                assert got == want, (r, c, rd.role(), got, want)
    assert marked > 0  # overdue and due-today rows were among them


def test_a_narrow_search_over_a_broad_prefix_shows_what_it_has_and_misses_nothing(qtbot, tickets20, monkeypatch):
    """Each background read walks at most a window of the prefix's index range: the first rows show as soon as
    there are some, scrolling (fetchMore) goes on from where the walk stopped, and an empty window is never the
    end of the list."""
    hall, _ = tickets20
    monkeypatch.setattr(queue, "SEARCH_WINDOW", 3)
    for flt in (TicketFilter(open_only=False, text="王", overdue=True), TicketFilter(text="王", due_on=TODAY)):
        model = background_model(hall, flt, page_size=50)
        settle(qtbot, model)
        first = model.rowCount()
        assert first >= 1
        while model.canFetchMore():
            model.fetchMore()
            settle(qtbot, model)
        with hall.db.reading() as s:
            expected = queue.count(s, flt, today=TODAY)
        assert model.rowCount() == expected and len({model.row_at(r).id for r in range(expected)}) == expected
        if flt.overdue:
            assert first < expected  # shown before the whole range was walked


def test_a_search_reads_a_screenful_first_and_the_rest_as_the_list_scrolls(qtbot, tickets20, monkeypatch):
    """A search is re-read on every pause in typing: its first page is queue.SEARCH_PAGE rows (here 3), and
    scrolling (fetchMore) brings the rest a whole page at a time; a list without a search reads its page."""
    from hall.services.reporting import queue

    hall, _ = tickets20
    monkeypatch.setattr(queue, "SEARCH_PAGE", 3)
    model = background_model(hall, TicketFilter(text="王"), page_size=50)
    settle(qtbot, model)
    assert model.rowCount() == 3 and model.canFetchMore()
    model.fetchMore()
    settle(qtbot, model)
    with hall.db.reading() as s:
        matches, listed = (queue.count(s, TicketFilter(text="王"), today=TODAY),
                           queue.count(s, TicketFilter(), today=TODAY))
    assert model.rowCount() == matches > 3 and not model.canFetchMore()
    model.refresh()  # in place: as many rows as are shown, not the first page only
    settle(qtbot, model)
    assert model.rowCount() == matches
    model.set_filter(TicketFilter())
    settle(qtbot, model)
    assert model.rowCount() == listed > matches  # the open list: the model's own page size at once
