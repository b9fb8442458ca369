"""The ticket detail of a ticket in sync conflict: marked 同步冲突, both branches side by side, actions and prints
disabled; the manager's 处理冲突 dialog refuses an empty reason keeping the choice, then resolves it through the real
service, and the detail shows the kept branch in effect and the other 未生效. A clerk sees no 处理冲突."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from hall.errors import ConflictError
from hall.services.base.validators import id_check_char
from hall.services.catalog import items as catalog
from hall.services.reporting import papers, queue
from hall.services.sync import conflicts
from hall.services.tickets import intake
from hall.services.tickets import record as tickets
from hall.ui import messages
from hall.ui.ops import ChangeSignal, Context
from hall.ui.ticket_detail import TicketDetailDialog

pytestmark = pytest.mark.gui


@pytest.fixture
def conflicted(hall_sqlite, monkeypatch):
    """A village ticket the manager closes at the hall while the village's withdrawal of it arrives."""
    from hall_fixtures import actors_of

    monkeypatch.setattr(messages, "shown", [])
    monkeypatch.setattr(messages, "ask_hook", lambda _t, _x: True)
    people = actors_of(hall_sqlite)
    body = "32058119600404123"
    who = intake.ApplicantForm("person", body + id_check_char(body), "赵村民", "13800001111", "东村1组")
    with hall_sqlite.db.transaction() as s:
        item = catalog.current_item(s, "09")
        number = intake.register(s, people["v01"], intake.IntakeForm(
            "09", who, {m["name"]: "received" for m in item.materials}), now=datetime(2026, 11, 20, 9)).number
        uid = tickets.get(s, number).uid
    from hall.services.cases import workflow

    with hall_sqlite.db.transaction() as s:
        workflow.close(s, people["m01"], number, "approved", "准予办理", now=datetime(2026, 11, 23, 10))
    with hall_sqlite.db.transaction() as s:
        assert conflicts.arrive(s, people["v01"], "ticket.withdrawn", {
            "from_state": "accepted", "to": "withdrawn", "reason": "申请人在村里撤回", tickets.PARENT: 1}, uid,
            at=datetime(2026, 11, 23, 9, 30)) == "conflict"
    return hall_sqlite, people, number


def _dialog(qtbot, hall, actor, number) -> TicketDetailDialog:
    dlg = TicketDetailDialog(Context(hall.db, hall.node, actor, ChangeSignal()), number)
    qtbot.addWidget(dlg)
    qtbot.waitUntil(lambda: not dlg.loading and dlg.conflict_panel.view is not None, timeout=5000)
    return dlg


def _rows(table) -> list[list[str]]:
    return [[table.item(r, c).text() for c in range(table.columnCount())] for r in range(table.rowCount())]


def test_the_manager_resolves_a_conflict_in_the_ticket_detail(qtbot, conflicted):
    hall, people, number = conflicted
    dlg = _dialog(qtbot, hall, people["m01"], number)
    panel = dlg.conflict_panel
    assert "同步冲突（已受理）" in dlg.header.text()
    assert not panel.isHidden() and not panel.resolve_btn.isHidden()
    sides = {panel.boxes[0].title(), panel.boxes[1].title()}
    assert sides == {"中心的办理", "代办点 001 的办理"}
    both = _rows(panel.tables[0]) + _rows(panel.tables[1])
    assert any("办结" in r[2] and r[3] == "待处理" for r in both)
    assert any("撤回" in r[2] and r[3] == "待处理" and "（村代办员）" in r[1] for r in both)
    assert not any(b.isEnabled() for b in dlg.buttons.values()) and not dlg.print_btn.isEnabled()
    assert any("待中心主任处理" in t for t in (dlg.history.item(r, 2).text() for r in range(dlg.history.rowCount())))

    # An empty reason is refused; the dialog stays open with the choice kept.
    box = panel.dialog()
    box.keep.setCurrentIndex(1)  # the village's withdrawal
    box.accept()
    assert "处理原因" in box.problem.text() and box.keep.currentData() == "village"
    box.reason.setPlainText("申请人在村里确认撤回")
    box.accept()
    assert box.result() == box.DialogCode.Accepted
    qtbot.waitUntil(lambda: not dlg.loading and panel.view is not None and not panel.view.is_open, timeout=5000)
    assert "已撤回" in dlg.header.text() and "同步冲突" not in dlg.header.text()
    assert panel.resolve_btn.isHidden() and "申请人在村里确认撤回" in panel.summary.text()
    both = _rows(panel.tables[0]) + _rows(panel.tables[1])
    assert any("撤回" in r[2] and r[3] == "已生效" for r in both)
    assert any("办结" in r[2] and r[3] == "未生效" for r in both)
    texts = [dlg.history.item(r, 2).text() for r in range(dlg.history.rowCount())]
    assert any(t.startswith("办结") and t.endswith("（未生效）") for t in texts)
    assert any(t.startswith("处理同步冲突") for t in texts)


def test_a_clerk_sees_the_conflict_but_cannot_resolve_it(qtbot, conflicted):
    hall, people, number = conflicted
    dlg = _dialog(qtbot, hall, people["c02"], number)
    assert not dlg.conflict_panel.isHidden() and dlg.conflict_panel.resolve_btn.isHidden()
    with hall.db.reading() as s:
        assert conflicts.is_conflicted(s, tickets.get(s, number).uid)
        # The queue's 同步冲突 status lists exactly it, marked.
        rows = queue.page(s, queue.with_status(queue.TicketFilter(), "conflict"), today=date(2026, 11, 24)).rows
    assert [(r.number, r.state_label) for r in rows] == [(number, "同步冲突（已受理）")]
    # Nothing is written on it, whichever service tries: a print, a look at the full ID number.
    for write in (lambda s: papers.record_print(s, people["c02"], number, "acceptance"),
                  lambda s: queue.reveal_id(s, people["c02"], number)):
        with pytest.raises(ConflictError, match="该办件存在同步冲突"), hall.db.transaction() as s:
            write(s)


def test_the_dashboard_counts_and_lists_the_conflicts(qtbot, conflicted):
    from hall.ui.dashboard import DashboardWidget

    hall, people, number = conflicted
    dash = DashboardWidget(Context(hall.db, hall.node, people["m01"], ChangeSignal()), open_dialogs=False)
    qtbot.addWidget(dash)
    qtbot.waitUntil(lambda: not dash.loading and dash.sync_alerts.alerts is not None, timeout=5000)
    box = dash.sync_alerts
    assert not box.isHidden() and box.title() == "同步冲突（1）"
    line = box.list.item(0)
    assert number in line.text() and "代办点 001" in line.text()
    with qtbot.waitSignal(dash.ticket_requested) as asked:
        box.list.itemActivated.emit(line)
    assert asked.args == [number]


def test_the_sync_flags_are_derived_off_the_reading_thread_and_only_again_after_an_exchange(qtbot, conflicted):
    """The flags read every ticket (seconds at a million): on a long job's thread, where the database syncs, and
    again only when an exchange was recorded since — never with every dashboard refresh."""
    from hall.models.sync import SyncExchange
    from hall.ui.dashboard import DashboardWidget

    hall, people, number = conflicted
    with hall.db.transaction() as s:  # the same citizen at the hall under another name: a name flag
        village = tickets.get(s, number)
        item = catalog.current_item(s, "09")
        intake.register(s, people["c02"], intake.IntakeForm(
            "09", intake.ApplicantForm("person", village.applicant_id_no, "赵材民", "13800001111", "东村1组"),
            {m["name"]: "received" for m in item.materials}), now=datetime(2026, 11, 24, 9))
    dash = DashboardWidget(Context(hall.db, hall.node, people["m01"], ChangeSignal()), open_dialogs=False)
    qtbot.addWidget(dash)
    box = dash.sync_alerts
    qtbot.waitUntil(lambda: not dash.loading and box.alerts is not None, timeout=5000)
    assert box.flags_loader.requests == 0 and box.alerts.flags == ()  # nothing was ever exchanged here
    from hall.ui.background import task_pool

    assert box.flags_loader._pool is task_pool  # the long jobs' threads, not the screens' reading one

    def exchanged(n: int) -> None:
        with hall.db.transaction() as s:
            s.add(SyncExchange(at=datetime(2026, 11, 24, 10, n), node=hall.node.node_id, peer="laptop-001",
                               direction="import", bundle_id=f"{n:064d}"))

    exchanged(1)
    dash.refresh()
    qtbot.waitUntil(lambda: not dash.loading and bool(box.alerts.flags), timeout=5000)
    assert box.flags_loader.requests == 1 and [f.kind for f in box.alerts.flags] == ["name"]
    assert any("同步提示 1 条须核实" in box.list.item(i).text() for i in range(box.list.count()))
    for _ in range(3):  # refreshes without a new exchange: the conflicts again, the flags kept
        dash.refresh()
        qtbot.waitUntil(lambda: not dash.loading, timeout=5000)
    assert box.flags_loader.requests == 1 and len(box.alerts.flags) == 1
    exchanged(2)
    dash.refresh()
    qtbot.waitUntil(lambda: not dash.loading and box.flags_loader.requests == 2, timeout=5000)
