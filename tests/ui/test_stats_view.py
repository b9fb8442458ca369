"""The statistics screen on the hand-computed ledger (tests/manager_day.py): the numbers on screen are
``stats.collect``'s, the exported workbook read back says the same, and a double-click lists exactly the tickets
counted."""

from __future__ import annotations

from datetime import date

import manager_day as MD
import openpyxl
import pytest

from hall.exchange.reports_xlsx import PERF_COLUMNS
from hall.services.reporting import stats
from hall.services.reporting.stats import Period
from hall.services.storage.changes import Changes
from hall.ui import messages
from hall.ui.ops import COALESCE_MS, ChangeSignal, Context
from hall.ui.stats_view import STAT_FIGURES, TAB_OVERDUE, TAB_PERFORMANCE, StatsView, period_for

SHEETS = {"window": "按窗口", "kind": "按办件类型", "village": "按受理点", "item": "按事项", "staff": "按工作人员"}


@pytest.fixture
def ctx(hall_sqlite, monkeypatch):
    from hall_fixtures import actors_of

    monkeypatch.setattr(messages, "ask_hook", lambda _t, _x: True)  # message boxes never block
    people = actors_of(hall_sqlite)
    built = MD.build(hall_sqlite, people)
    c = Context(hall_sqlite.db, hall_sqlite.node, people["m01"], ChangeSignal())
    c.letters = {n: k for k, n in built.numbers.items()}  # type: ignore[attr-defined]
    return c


@pytest.fixture
def view(qtbot, ctx, tmp_path):
    chosen: list[str] = []

    def save_dialog(_parent, _caption, suggested):
        chosen.append(suggested)
        return str(tmp_path / f"export{len(chosen)}.xlsx")

    v = StatsView(ctx, today=lambda: MD.TODAY, save_dialog=save_dialog, open_dialogs=False)
    v.suggested = chosen  # type: ignore[attr-defined]
    v.qtbot = qtbot  # type: ignore[attr-defined]
    qtbot.addWidget(v)
    return v


def choose(view, *args, **kw) -> None:
    """Pick a period/dimension and wait for the background recount to be on screen."""
    with view.qtbot.waitSignal(view.counted, timeout=10_000):
        view.choose(*args, **kw)


def export(view, start):
    """Start an export (``view.export_current`` / ``export_ledger``) and wait for its workbook."""
    with view.qtbot.waitSignal(view.exported, timeout=20_000) as blocker:
        assert start() is not None
    assert not view.export_task.running
    return blocker.args[0]


def screen(model) -> list[list[str]]:
    return [[model.text(r, c) for c in range(model.columnCount())] for r in range(model.rowCount())]


def sheet_rows(path, name, first_row, ncols, skip_cols=1):
    """Data rows of an exported sheet (cells as text, as on screen: a number as its format shows it), up to the
    合计 row included."""
    ws = openpyxl.load_workbook(path)[name]
    out = []
    for cell_row in ws.iter_rows(min_row=first_row, max_col=ncols):
        row = [c.value for c in cell_row]
        cells = [_as_shown(c) for c in cell_row[skip_cols:]]
        if row[0] == "合计":
            out.append(["合计", *cells[1:]])
            break
        if row[0] is None:
            break
        out.append(cells)
    return out


def _as_shown(cell) -> str:
    v = cell.value
    if hasattr(v, "date"):
        return v.date().isoformat()
    if cell.number_format == "0.0%":
        return "—" if v is None else f"{v * 100:.1f}%"
    if cell.number_format == "0.0":
        return "—" if v is None else f"{v:.1f}"
    return "" if v is None else str(v)


def expected(table: stats.StatsTable) -> list[list[str]]:
    from hall.exchange.reports_xlsx import stats_row_values

    return [[r.label, *map(str, stats_row_values(r))] for r in table.rows] + \
        [["合计", *map(str, stats_row_values(table.total))]]


@pytest.mark.parametrize("dimension", ["window", "item", "kind", "staff", "village"])
def test_screen_equals_collect_and_the_exported_workbook(view, ctx, dimension):
    choose(view, "this_month", dimension)
    with ctx.db.reading() as s:
        table = stats.collect(s, Period.month(2026, 12), dimension, today=MD.TODAY)
    shown = screen(view.stats_model)
    assert shown == expected(table)
    assert view.stats_model.headerData(0, _h(), _display()) == table.dimension_label
    # The Excel export of the same period says the same, cell for cell (statistics sheets start on row 5).
    if dimension == "staff":
        view.tabs.setCurrentIndex(TAB_PERFORMANCE)
    result = export(view, view.export_current)
    assert result is not None and result.path.exists()
    ncols = 2 + len(shown[0]) - 1
    assert sheet_rows(result.path, SHEETS[dimension], 5, ncols) == shown
    assert view.suggested[-1].endswith(".xlsx") and "2026年12月" in view.suggested[-1]


def test_hand_computed_figures_of_december(view):
    choose(view, "this_month", "window")
    w01 = next(r for r in view.table.rows if r.key == "W01")
    # W01 (item 03 and 02): received A C D E F H I; closed H (late) and I; open overdue at 12-16: A and B.
    assert (w01.received, w01.accepted, w01.closed, w01.on_time, w01.closed_late, w01.open_overdue) == \
        (7, 7, 2, 1, 1, 2)
    total = view.table.total
    assert (total.received, total.refused, total.closed, total.on_time, total.rated, total.poor) == \
        (10, 1, 3, 2, 1, 1)
    assert view.stats_model.text(view.stats_model.rowCount() - 1, 7) == "66.7%"
    assert "2026-12-01 至 2026-12-16（截至当日）" in view.subtitle.text()


def _letters(ctx, flt) -> set[str]:
    from hall.ui.dashboard import DrillDialog

    dlg = DrillDialog(ctx, flt, MD.TODAY)
    try:
        numbers = dlg.numbers()
    finally:
        dlg.deleteLater()
    assert len(numbers) == len(set(numbers))
    return {ctx.letters[n] for n in numbers}


@pytest.mark.parametrize("dimension", ["window", "staff", "village"])
def test_a_double_click_lists_exactly_the_tickets_counted(qtbot, view, ctx, dimension):
    choose(view, "this_month", dimension)
    model, table = view.stats_model, view.table
    seen: list[tuple[object, str]] = []
    view.drill_requested.connect(lambda f, t: seen.append((f, t)))
    for r in range(model.rowCount()):
        row = table.total if r == len(table.rows) else table.rows[r]
        for c in range(model.columnCount()):
            heading = "收件" if c == 0 else model.headerData(c, _h(), _display())
            figure = STAT_FIGURES[heading]
            before = len(seen)
            view.stats_table.doubleClicked.emit(model.index(r, c))
            if figure is None:
                assert len(seen) == before and "好差评" in view.hint.text()
                continue
            flt, title = seen[-1]
            assert len(_letters(ctx, flt)) == getattr(row, figure), (row.label, heading)
            assert row.label in title
    w01 = [r for r in range(len(table.rows)) if table.rows[r].key == "W01"]
    if w01:
        cols = {model.headerData(c, _h(), _display()): c for c in range(1, model.columnCount())}
        for heading, letters in (("超期办结", {"H"}), ("超期未办结", {"A", "B"}), ("按时办结", {"I"}),
                                 ("收件", set("ACDEFHI"))):
            view.stats_table.doubleClicked.emit(model.index(w01[0], cols[heading]))
            assert _letters(ctx, seen[-1][0]) == letters, heading
    view.stats_table.doubleClicked.emit(model.index(model.rowCount() - 1, 4))  # 合计 · 办结
    assert _letters(ctx, seen[-1][0]) == set("GHI")


def test_drill_opens_the_lazy_masked_list(qtbot, ctx, tmp_path):
    v = StatsView(ctx, today=lambda: MD.TODAY, save_dialog=lambda *_a: "")
    v.qtbot = qtbot
    qtbot.addWidget(v)
    choose(v, "this_month", "window")
    v.stats_table.doubleClicked.emit(v.stats_model.index(v.stats_model.rowCount() - 1, 0))
    dlg = v.dialogs[-1]
    assert "合计" in dlg.windowTitle() and len(dlg.numbers()) == v.table.total.received
    from hall.ui.ticket_table_model import COL_APPLICANT

    assert {dlg.shown.index(i, COL_APPLICANT).data() for i in range(dlg.shown.rowCount())} == {"张*丰"}
    dlg.close()
    assert v.export_current() is None  # cancelled file dialog: nothing written, nothing said


def test_performance_and_overdue_tabs_match_the_service_and_the_workbook(view, ctx):
    choose(view, "this_month", "window")
    with ctx.db.reading() as s:
        review = stats.performance(s, Period.month(2026, 12), today=MD.TODAY)
        overdue = stats.overdue_list(s, Period.month(2026, 12), today=MD.TODAY)
    shown = screen(view.perf_model)
    assert [row[0] for row in shown[:-1]] == [p.stats.label for p in review]
    wang = next(row for row in shown if row[0] == "王民政")
    assert wang[1] == "c02" and shown[-1][0] == "合计"
    view.tabs.setCurrentIndex(TAB_PERFORMANCE)
    result = export(view, view.export_current)
    assert sheet_rows(result.path, "效绩考核", 4, 2 + len(shown[0]) - 1) == shown
    # Double-click on a person's 超期未办结 → that person's open overdue tickets.
    seen = []
    view.drill_requested.connect(lambda f, t: seen.append(f))
    r = next(i for i, p in enumerate(review) if p.stats.label == "王民政")
    c = 1 + [h for h, _f in PERF_COLUMNS].index("超期未办结")
    view.perf_table.doubleClicked.emit(view.perf_model.index(r, c))
    assert len(_letters(ctx, seen[-1])) == review[r].stats.open_overdue

    over = screen(view.overdue_model)
    assert [row[0] for row in over] == [o.number for o in overdue]
    assert {ctx.letters[o.number] for o in overdue} == {"A", "B", "H", "M"}
    assert view.tabs.tabText(TAB_OVERDUE) == f"超期办件（{len(overdue)}）"
    view.tabs.setCurrentIndex(TAB_OVERDUE)
    result = export(view, view.export_current)
    assert sheet_rows(result.path, "超期办件", 4, len(over[0]) + 1) == over
    view.overdue_table.doubleClicked.emit(view.overdue_model.index(0, 0))
    assert _letters(ctx, seen[-1]) == {ctx.letters[overdue[0].number]}


def test_period_picker(view, ctx):
    choose(view, "last_month", "window")
    assert view.period == Period.month(2026, 11) and view.caption.text().startswith("2026年11月")
    assert view.table.total.on_time == 1  # J, closed 11-18
    choose(view, "this_quarter")
    assert view.period.label == "2026年第四季度" and view.table.period.end == MD.TODAY
    choose(view, "this_year")
    assert view.table.total.closed == 4
    choose(view, "custom", start=date(2026, 12, 10), end=date(2026, 12, 10))
    assert view.table.total.closed == 1 and view.table.period == Period.between(date(2026, 12, 10), date(2026, 12, 10))
    assert view.date_from.isEnabled()
    messages.shown.clear()
    view.choose("custom", start=date(2026, 12, 10), end=date(2026, 12, 1))  # refused at once: nothing counted
    assert messages.shown and "统计期间" in messages.shown[-1][1] and view.period.end == date(2026, 12, 10)
    assert period_for("last_month", date(2027, 1, 5)) == Period.month(2026, 12)
    assert period_for("last_quarter", date(2027, 2, 1)) == Period.quarter(2026, 4)


def test_ledger_export_is_masked_and_a_change_to_tickets_recounts(view, ctx):
    assert view.table is None and not view.loading  # never shown: nothing counted yet
    with view.qtbot.waitSignal(view.counted, timeout=10_000):
        view.show()  # shown while stale: counts
    result = export(view, view.export_ledger)
    ws = openpyxl.load_workbook(result.path)["办件登记台账"]
    text = " ".join(str(c) for row in ws.iter_rows(values_only=True) for c in row if c is not None)
    assert "张*丰" in text and "张三丰" not in text and "11010519491231002X" not in text and "13812345678" not in text
    assert result.rows == view.table.total.received  # nothing voided in this ledger
    first = view.table
    ctx.changes.announce(Changes(settings=True, registers=frozenset({"complaints"})))  # nothing it counts
    view.qtbot.wait(COALESCE_MS + 100)
    assert not view.loading and view.table is first
    with view.qtbot.waitSignal(view.counted, timeout=10_000):
        ctx.changes.announce(Changes(tickets=frozenset({"some-ticket"})))  # on screen: recounts
    assert view.table is not first and view.listener.reacted == 1


def test_figure_models_pass_the_model_tester(view, qtmodeltester):
    choose(view, "this_month", "window")
    for model in (view.stats_model, view.perf_model, view.overdue_model):
        qtmodeltester.check(model)


def _h():
    from PySide6.QtCore import Qt

    return Qt.Orientation.Horizontal


def _display():
    from PySide6.QtCore import Qt

    return Qt.ItemDataRole.DisplayRole


def test_a_failing_export_is_a_chinese_message_and_leaves_no_file(view, tmp_path):
    """The file system refuses the workbook half-way (a file-size limit stands in for a full disk: the same
    write error, without filling a real disk): the person reads why, and no file or temporary file is left."""
    import resource
    import signal

    messages.shown.clear()
    before = set(tmp_path.iterdir())
    old_handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a failed write, not a killed process
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (8192, hard))
    try:
        with view.qtbot.waitSignal(view.export_failed, timeout=20_000) as blocker:
            assert view.export_current() is not None
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, old_handler)
    assert "磁盘空间不足" in blocker.args[0] and "没有生成文件" in blocker.args[0]
    assert messages.shown[-1][0] == "无法导出" and "Traceback" not in messages.shown[-1][1]
    assert set(tmp_path.iterdir()) == before  # neither the workbook nor its temporary file
    assert view.export_button.isEnabled()  # the next export may be tried
