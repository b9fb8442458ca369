"""Finding a ticket in the queue as a clerk does: the last four digits of the serial read off a receipt, the
citizen's ID tail or phone tail, and the status (在办 / 已办结 / 全部 / 作废) and receipt-date filters."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from gui_guard import GuiThreadSql
from PySide6.QtWidgets import QApplication

from hall.services.base.validators import id_check_char
from hall.services.cases import workflow
from hall.services.catalog import items as catalog
from hall.services.reporting import queue
from hall.services.reporting.queue import TicketFilter
from hall.services.tickets import intake
from hall.services.tickets import record as tickets
from hall.ui.ops import ChangeSignal, Context
from hall.ui.queue_view import QueueView

pytestmark = pytest.mark.gui
TODAY = date(2026, 11, 26)
PHONES = ["13812340001", "13912345566", "0512-66887766", "13700009999", "15100001234", "18800004321"]


@pytest.fixture
def counter(hall_sqlite):
    """Six W02 tickets: three received today (serials 0001–0003), three on 11-02; one closed, one voided."""
    from hall_fixtures import actors_of

    people = actors_of(hall_sqlite)
    c02 = people["c02"]
    numbers: list[str] = []
    with hall_sqlite.db.transaction() as s:
        item = catalog.current_item(s, "09")
        received = {m["name"]: "received" for m in item.materials}
        for i, phone in enumerate(PHONES):
            body = f"3205811970010{i + 1}{i:03d}"
            when = datetime(2026, 11, 26, 9, i) if i < 3 else datetime(2026, 11, 2, 9, i)
            form = intake.IntakeForm("09", intake.ApplicantForm("person", body + id_check_char(body),
                                                                f"周{'一二三四五六'[i]}", phone), received)
            numbers.append(intake.register(s, c02, form, now=when).number)
        workflow.close(s, c02, numbers[3], "approved", "同意", now=datetime(2026, 11, 20, 10))
        tickets.void(s, c02, numbers[4], "重复登记", now=datetime(2026, 11, 3, 10))
    return hall_sqlite, people, numbers


def _view(qtbot, hall, actor) -> QueueView:
    view = QueueView(Context(hall.db, hall.node, actor, ChangeSignal()), today=lambda: TODAY)
    qtbot.addWidget(view)
    view.show()
    qtbot.waitExposed(view)
    view.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is view)
    _settle(qtbot, view)
    return view


def _settle(qtbot, view) -> None:
    qtbot.waitUntil(lambda: not view.searching, timeout=10_000)


def _shown(view) -> set[str]:
    return {view.model.row_at(r).number for r in range(view.model.rowCount())}


def _type(qtbot, view, typed: str) -> set[str]:
    view.search.clear()
    view.search.setFocus()
    qtbot.keyClicks(view.search, typed)
    _settle(qtbot, view)
    return _shown(view)


def test_search_box_finds_by_serial_tail_id_tail_and_phone_tail(qtbot, counter):
    hall, people, numbers = counter
    view = _view(qtbot, hall, people["c02"])
    assert _shown(view) == set(numbers) - {numbers[3], numbers[4]}  # 在办: neither the closed nor the voided
    with hall.db.transaction() as s:
        id_no = tickets.get(s, numbers[5]).applicant_id_no
    with GuiThreadSql(hall.db.engine).watching() as gui:
        assert numbers[2].endswith("-0003") and numbers[2] in _type(qtbot, view, "0003")  # today's 0003
        assert _type(qtbot, view, numbers[4][-13:]) == {numbers[4]}  # date-serial "20261102-0002", voided too
        assert _type(qtbot, view, numbers[1]) == {numbers[1]}  # the whole number
        assert numbers[5] in _type(qtbot, view, id_no[-6:])  # 身份证后六位
        assert _type(qtbot, view, "5566") == {numbers[1]}  # 手机尾号
        assert _type(qtbot, view, "7766") == {numbers[2]}  # a landline's tail
        assert numbers[3] in _type(qtbot, view, "zs")  # 周四 by pinyin initials, closed but found
    assert gui.statements == []  # every search ran on the pool


def test_status_and_date_filters(qtbot, counter):
    hall, people, numbers = counter
    view = _view(qtbot, hall, people["c02"])
    view.set_status("done")
    _settle(qtbot, view)
    assert _shown(view) == {numbers[3]} and "共 1 件" in view.counts_label.text()
    view.set_status("voided")
    _settle(qtbot, view)
    assert _shown(view) == {numbers[4]}
    view.set_status("all")
    _settle(qtbot, view)
    assert _shown(view) == set(numbers)
    # Received 11-01 to 11-10: the three of 11-02, whatever their state.
    view.date_from.setDate(date(2026, 11, 1))
    view.date_to.setDate(date(2026, 11, 10))
    view.dated.setChecked(True)
    _settle(qtbot, view)
    assert _shown(view) == set(numbers[3:])
    assert _type(qtbot, view, "0001") == set()  # today's 0001 lies outside the dates
    view.search.clear()
    view.set_quick("overdue")  # a quick filter is about open tickets: the status goes back to 在办
    _settle(qtbot, view)
    assert view.status_key == "open" and numbers[3] not in _shown(view) and numbers[4] not in _shown(view)


def test_status_filters_and_phone_tail_read_their_own_indexes(counter):
    """The plans on SQLite without statistics: 作废 reads ix_tickets_state_due, 已办结 never the state index (a
    planner would sort every closed ticket), 全部 pages by due date from ix_tickets_due without sorting the ledger,
    a phone tail reads ix_tickets_phone_tail; no statement of a page scans the tickets."""
    hall, _people, _numbers = counter
    with hall.db.transaction() as s:
        for status, cap in (("done", 1000), ("voided", 1000), ("all", 1000)):
            f = queue.with_status(TicketFilter(window="W02"), status)
            assert queue.counts(s, f, today=TODAY, cap=cap).total == queue.count(s, f, today=TODAY)
        assert queue.counts(s, queue.with_status(TicketFilter(), "all"), today=TODAY, cap=2).capped
        n = {st: queue.count(s, queue.with_status(TicketFilter(window="W02"), st), today=TODAY)
             for st in queue.STATUSES}
        assert (n["open"], n["done"], n["voided"], n["all"]) == (4, 1, 1, 6)
        conn = s.connection()
        plans: dict[str, list[str]] = {}
        for name, f in (("voided", queue.with_status(TicketFilter(), "voided")),
                        ("done", queue.with_status(TicketFilter(), "done")),
                        ("all", queue.with_status(TicketFilter(), "all")),
                        ("phone", TicketFilter(open_only=False, text="5566"))):
            plans[name] = [" | ".join(r[-1] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))
                           for sql in _page_sql(s, f)]
    for name, steps in plans.items():
        assert steps and not any("SCAN tickets" in p for p in steps), (name, steps)
    assert "ix_tickets_state_due" in plans["voided"][0], plans["voided"]
    assert not any("ix_tickets_state_due" in p for p in plans["done"]), plans["done"]
    assert "ix_tickets_due" in plans["all"][0] and "TEMP B-TREE" not in plans["all"][0], plans["all"]
    assert any("ix_tickets_phone_tail" in p for p in plans["phone"]), plans["phone"]


def _page_sql(s, f: TicketFilter) -> list[str]:
    """The statements on tickets :func:`queue.page` runs for ``f`` (captured as they execute)."""
    from sqlalchemy import event

    seen: list[str] = []
    engine = s.get_bind()

    def grab(_conn, _cursor, statement, params, _context, _many):
        if "FROM tickets" in statement or "JOIN tickets" in statement:
            seen.append(_inline(statement, params))

    event.listen(engine, "before_cursor_execute", grab)
    try:
        queue.page(s, f, today=TODAY, limit=50)
    finally:
        event.remove(engine, "before_cursor_execute", grab)
    return seen


def _inline(statement: str, params) -> str:
    """SQLite's positional parameters put back as literals, so EXPLAIN QUERY PLAN can run the statement."""
    out = statement
    for p in params or ():
        lit = "NULL" if p is None else (str(int(p)) if isinstance(p, bool | int) else
                                        "'" + str(p).replace("'", "''") + "'")
        out = out.replace("?", lit, 1)
    return out
