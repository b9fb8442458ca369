"""The manager's and the windows' registers (台账): 责任追究, 投诉, 回访, 差评整改, 点名约访 / 巡回下访, 转办待接收,
集体研究 — one tab each, every list a small table model over a service call.

Mount with ``RegistersView(ctx, today=…)`` (e.g. a tab of the main window for every role: a clerk sees their
own records, their window's follow-ups, rectifications and transfers; the manager sees and decides all).
Double-click (or Enter) on a row with a ticket opens the ticket detail. Every action runs in one transaction
through ``ops.run``, which announces what it changed; each page reloads only when a change touches the register
it lists (at once while the view is on screen — the tabs carry counts — else when the view is next shown).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QTabWidget, QWidget

from hall.ui.ops import Context
from hall.ui.registers_cases import accountability_page, complaints_page, followups_page, rectifications_page
from hall.ui.registers_model import tr
from hall.ui.registers_page import RegisterPage
from hall.ui.registers_routing import AppointmentsTab, escalations_page, transfers_page
from hall.ui.widgets import StaleWhileHidden

TAB_LABELS = {
    "accountability": QT_TRANSLATE_NOOP("Registers", "责任追究"),
    "complaints": QT_TRANSLATE_NOOP("Registers", "投诉"),
    "followups": QT_TRANSLATE_NOOP("Registers", "回访"),
    "rectifications": QT_TRANSLATE_NOOP("Registers", "差评整改"),
    "visits": QT_TRANSLATE_NOOP("Registers", "点名约访 / 巡回下访"),
    "transfers": QT_TRANSLATE_NOOP("Registers", "转办待接收"),
    "escalations": QT_TRANSLATE_NOOP("Registers", "集体研究"),
}


class RegistersView(StaleWhileHidden, QTabWidget):
    """``pages`` maps a register's name to its page (the appointments tab holds two: ``appointments`` and
    ``visits``). ``today`` is the day the lists count from; ``now`` the time actions are recorded at (by default
    the current time of ``today()``, so a screen run on a fixed day records on that day)."""

    def __init__(self, ctx: Context, parent: QWidget | None = None, *, today: Callable[[], date] = date.today,
                 now: Callable[[], datetime] | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("registersView")
        self.ctx = ctx
        self._today = today
        self._now = now or (lambda: datetime.combine(today(), datetime.now().time()))
        self.pages: dict[str, RegisterPage] = {}
        for name, build in (("accountability", accountability_page), ("complaints", complaints_page),
                            ("followups", followups_page), ("rectifications", rectifications_page)):
            self._add(name, build(ctx, today, self._now))
        self.visits_tab = AppointmentsTab(ctx, today, self._now)
        self.pages["appointments"] = self.visits_tab.appointments
        self.pages["visits"] = self.visits_tab.visits
        for name in ("appointments", "visits"):
            self.pages[name].counted.connect(lambda *_: self._label_visits())
        self.addTab(self.visits_tab, tr(TAB_LABELS["visits"]))
        self._add("transfers", transfers_page(ctx, today, self._now))
        self._add("escalations", escalations_page(ctx, today, self._now))
        # The tabs carry counts: while the view is on screen a changed register reloads even on a tab behind
        # another; while it is hidden the page only marks itself stale, and reloads when the view is shown.
        self._stale = True
        for page in self.pages.values():
            page.live = self.isVisible

    def _add(self, name: str, page: RegisterPage) -> None:
        self.pages[name] = page
        index = self.addTab(page, tr(TAB_LABELS[name]))
        page.counted.connect(lambda total, alerts, i=index, n=name: self._label(i, n, total, alerts))

    def _label(self, index: int, name: str, total: int, alerts: int) -> None:
        """The tab names how many are waiting (and how many are late) without opening it."""
        label = tr(TAB_LABELS[name])
        page = self.pages.get(name)
        if page is not None and page.has_more and page.total is None:
            # A bounded list whose total is not counted: "责任追究（500+）".
            label = QCoreApplication.translate("Registers", "{0}（{1}+）").format(label, total)
        elif total and alerts:
            label = QCoreApplication.translate("Registers", "{0}（{1}，超期{2}）").format(label, total, alerts)
        elif total:
            label = QCoreApplication.translate("Registers", "{0}（{1}）").format(label, total)
        self.setTabText(index, label)

    def _label_visits(self) -> None:
        booked = sum(1 for a in self.pages["appointments"].model.rows() if a.state == "booked")
        planned = sum(1 for v in self.pages["visits"].model.rows() if v.state == "planned")
        self._label(self.indexOf(self.visits_tab), "visits", booked + planned, 0)

    def refresh(self) -> None:
        """Reload every register now."""
        self._stale = False
        for page in self.pages.values():
            page.refresh()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)  # the first time: every register (StaleWhileHidden)
        for page in self.pages.values():
            if page._stale and not page.loading:  # changed while the view was hidden
                page.refresh()

    def show_register(self, name: str) -> RegisterPage:
        """Bring one register to the front (``accountability`` … ``escalations``, ``appointments``, ``visits``)."""
        page = self.pages[name]
        self.setCurrentWidget(self.visits_tab if name in ("appointments", "visits") else page)
        return page
