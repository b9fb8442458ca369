"""The 效能监察员's window: every case (read-only queue), the 效能监察 lists and the catalogue with its warnings.

The inspector changes nothing: the case detail opens without its action buttons and offers only 记录监察意见
(their own finding). ``hall/__main__`` opens this window instead of the counter's for the ``inspector`` role.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QLabel, QMainWindow, QTabWidget

from hall.services.base.actor import ROLE_LABELS
from hall.services.storage import settings
from hall.ui.catalog_view import CatalogView
from hall.ui.inspector_view import InspectorView
from hall.ui.ops import Context, read
from hall.ui.queue_view import QueueView
from hall.ui.ticket_detail import TicketDetailDialog, open_detail


class InspectorWindow(QMainWindow):
    def __init__(self, ctx: Context, *, today: Callable[[], date] = date.today) -> None:
        super().__init__()
        self.ctx = ctx
        self._today = today
        self.switch_user = False  # read by the program when the window has closed: log in again, not quit
        self.details: list[TicketDetailDialog] = []
        self.hall_name = read(ctx.db, lambda s: str(settings.get(s, "hall_name")))
        self.setWindowTitle(self.tr("Hall 效能监察 — ") + self.hall_name)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("mainTabs")
        self.queue = QueueView(ctx, today=today)
        self.tabs.addTab(self.queue, self.tr("全部办件 F3"))
        self.inspector = InspectorView(ctx, today=today)
        self.tabs.addTab(self.inspector, self.tr("效能监察 F4"))
        self.catalog = CatalogView(ctx)
        self.tabs.addTab(self.catalog, self.tr("事项清单 F10"))
        self.setCentralWidget(self.tabs)
        self.queue.open_ticket.connect(self.open_ticket)
        self.inspector.open_ticket.connect(self.open_ticket)

        who = f"{ctx.actor.name}（{ROLE_LABELS.get(ctx.actor.role, ctx.actor.role)}）"
        self.statusBar().addWidget(QLabel(self.tr("当前用户：") + who))
        self.statusBar().addWidget(QLabel(self.tr("　只读：可查看全部办件、期限与台账，只能记录本人的监察意见")))
        file_menu = self.menuBar().addMenu(self.tr("文件(&F)"))
        switch_action = QAction(self.tr("注销 / 切换用户(&L)"), self)
        switch_action.setObjectName("switchUserAction")
        switch_action.triggered.connect(self.log_out)
        file_menu.addAction(switch_action)
        quit_action = QAction(self.tr("退出(&X)"), self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)
        for key, page in (("F3", self.queue), ("F4", self.inspector), ("F10", self.catalog)):
            act = QAction(self)
            act.setShortcut(QKeySequence(key))
            act.triggered.connect(lambda _c=False, p=page: self.tabs.setCurrentWidget(p))
            self.addAction(act)
        self.resize(1366, 768)

    def open_ticket(self, number: str) -> TicketDetailDialog:
        return open_detail(self, self.ctx, number, self._today, self.details)

    def log_out(self) -> None:
        self.switch_user = True
        if not self.close():
            self.switch_user = False

    def open_hall_info(self, *, first_run: bool = False) -> None:  # the composition root's first-run hook
        return None
