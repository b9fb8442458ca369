"""The clerk's main window: intake (item finder + form) and the queue, each one key away.

F2 收件登记 (focus in the item finder), F3 办件队列, Ctrl+F find an item, Ctrl+1…Ctrl+- a window's items.
On first show it offers back an intake that was not saved (crash, power cut); closing with unsaved typing asks.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QShowEvent
from PySide6.QtWidgets import QDialog, QLabel, QMainWindow, QMenu, QScrollArea, QSplitter, QTabWidget, QWidget

from hall.errors import HallError
from hall.services import backup_chain, backup_list
from hall.services.base.actor import ROLE_LABELS
from hall.services.cases.petition import is_petition_item
from hall.services.catalog import items as catalog
from hall.services.storage import settings
from hall.services.storage.db import Database
from hall.services.storage.drafts import DraftStore
from hall.ui import messages
from hall.ui.app import settle_heap
from hall.ui.attendance_view import AttendanceView
from hall.ui.background import Loader
from hall.ui.daily_runner import DailyRunner
from hall.ui.dashboard import DashboardWidget
from hall.ui.drafts import offer_restore
from hall.ui.idle_lock import IdleLock
from hall.ui.intake_form import IntakeFormWidget
from hall.ui.item_finder import ItemFinder
from hall.ui.ops import ChangeListener, Context, read
from hall.ui.petition_view import PetitionView
from hall.ui.progress import ProgressStrip
from hall.ui.queue_view import QueueView
from hall.ui.registers_view import RegistersView
from hall.ui.screen_fit import fit_on_screen
from hall.ui.stats_view import StatsView
from hall.ui.ticket_detail import TicketDetailDialog, open_detail

log = logging.getLogger("hall.ui.main")

STYLE = """
QLabel#intakeItem { font-size: 13pt; font-weight: bold; }
QLabel#dueLabel { font-size: 14pt; font-weight: bold; }
QLabel#detailHeader { font-size: 13pt; }
QLabel#queueCounts { font-size: 12pt; }
QLabel#sexValue, QLabel#birthValue { font-weight: bold; }
"""


def _daily_backup(db: Database) -> None:
    try:
        with backup_list.one_backup_at_a_time(db, wait_s=0) as mine:  # never beside 管理 → 备份与恢复's
            if mine:
                backup_chain.daily_if_due(db)  # the day's increment, the rolling base brought up to it
    except Exception as exc:  # a full disk or a closing program must not stop the counter; it is logged
        log.warning("daily backup failed: %s", exc)


def _scrolled(widget: QWidget) -> QScrollArea:
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setFrameShape(QScrollArea.Shape.NoFrame)
    area.setWidget(widget)
    return area


class MainWindow(QMainWindow):
    def __init__(self, ctx: Context, drafts_dir: Path | None = None, *,
                 today: Callable[[], date] = date.today, now: Callable[[], datetime] = datetime.now) -> None:
        super().__init__()
        settle_heap(collect=True)  # before the window exists: see settle_heap
        self.ctx = ctx
        self._today = today
        # The few small lookups the first screen cannot do without, in one read (a few ms at any ledger size);
        # every list and count a screen shows is loaded by that screen in the background.
        self.hall_name, self.windows, self.items = read(ctx.db, lambda s: (
            settings.get(s, "hall_name"), catalog.window_views(s), catalog.item_views(s)))
        self.setWindowTitle(self.tr("Hall — ") + self.hall_name)
        self.setStyleSheet(STYLE)
        self.store = DraftStore(drafts_dir or ctx.data_paths().drafts_dir)
        self._offered = False
        self.details: list[TicketDetailDialog] = []

        self.tabs = QTabWidget()
        self.tabs.setObjectName("mainTabs")
        intake_page = QSplitter(Qt.Orientation.Horizontal)
        self.finder = ItemFinder(self.windows, self.items, ctx.actor.window_code)
        self.intake = IntakeFormWidget(ctx, self.store, today=today, now=now)
        intake_page.addWidget(self.finder)
        intake_page.addWidget(self.intake)
        intake_page.setStretchFactor(0, 3)
        intake_page.setStretchFactor(1, 7)
        intake_page.setSizes([400, 960])
        self.tabs.addTab(intake_page, self.tr("收件登记 F2"))
        self.queue = QueueView(ctx, today=today)
        self.tabs.addTab(self.queue, self.tr("办件队列 F3"))
        # F5–F8 belong to the queue's quick filters; the other pages take F4 and F10–F12.
        self.dashboard: DashboardWidget | None = None
        self.stats: StatsView | None = None
        if ctx.actor.is_supervisor:
            self.dashboard = DashboardWidget(ctx, today=today)
            # In a scroll area: the dashboard never makes the window taller than a 1366×768 counter screen.
            self._dashboard_page = _scrolled(self.dashboard)
            self.tabs.addTab(self._dashboard_page, self.tr("中心看板 F4"))
            self.stats = StatsView(ctx, today=today)
            self.tabs.addTab(self.stats, self.tr("统计考核 F10"))
        self.registers = RegistersView(ctx, today=today)
        self.tabs.addTab(self.registers, self.tr("台账 F12"))
        self.attendance = AttendanceView(ctx, today=today)
        self.tabs.addTab(self.attendance, self.tr("考勤 F11"))
        # 涉法信访 (cases, the leaders' reception schedule): the manager and the windows that take a 信访 item.
        self.petitions: PetitionView | None = None
        if ctx.actor.is_supervisor or ctx.actor.window_code in {i.window_code for i in self.items
                                                                if is_petition_item(i)}:
            self.petitions = PetitionView(ctx, today=today)
            self.tabs.addTab(self.petitions, self.tr("信访"))
        self.setCentralWidget(self.tabs)
        # The item list of earlier versions is still reachable under these names (tests, screenshots).
        self.search, self.table, self.window_combo = self.finder.search, self.finder.table, self.finder.window_combo

        who = f"{ctx.actor.name}（{ROLE_LABELS.get(ctx.actor.role, ctx.actor.role)}"
        who += f"，{ctx.actor.window_code}）" if ctx.actor.window_code else "）"
        self.statusBar().addWidget(QLabel(self.tr("当前用户：") + who))
        self.statusBar().addWidget(QLabel(self.tr("　F2 收件登记　F3 办件队列　Ctrl+F 查找事项　Enter/Ctrl+S 保存　"
                                                  "Ctrl+P 打印")))
        self.statusBar().addPermanentWidget(QLabel(self.tr("受理点 ") + ctx.node.intake_point))

        file_menu = self.menuBar().addMenu(self.tr("文件(&F)"))
        self.restore_from: Path | None = None  # read by the program when the window has closed: restore this
        self.encrypt_requested = False  # read by the program when the window has closed: encrypt the data folder
        self.switch_user = False  # read by the program when the window has closed: log in again, not quit
        switch_action = QAction(self.tr("注销 / 切换用户(&L)"), self)
        switch_action.setObjectName("switchUserAction")
        switch_action.triggered.connect(self.log_out)
        file_menu.addAction(switch_action)
        quit_action = QAction(self.tr("退出(&X)"), self)
        quit_action.setObjectName("quitAction")
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)
        work = self.menuBar().addMenu(self.tr("办件(&B)"))
        entries = [(self.tr("收件登记"), "F2", self.go_intake), (self.tr("办件队列"), "F3", self.go_queue),
                   (self.tr("查找事项"), "Ctrl+F", self.go_intake)]
        if self.dashboard is not None:
            entries.append((self.tr("中心看板"), "F4", self.go_dashboard))
            entries.append((self.tr("统计考核"), "F10", self.go_stats))
        entries.append((self.tr("台账（责任追究、投诉、回访、约访、转办）"), "F12", self.go_registers))
        entries.append((self.tr("考勤"), "F11", self.go_attendance))
        if self.petitions is not None:
            entries.append((self.tr("信访（信访件、领导接访日）"), "Ctrl+Shift+X", self.go_petitions))
        for text, key, fn in entries:
            act = QAction(text, self)
            act.setProperty("hall_page", True)  # switches the page in this window: opens no window of its own
            act.setShortcut(QKeySequence(key))
            act.triggered.connect(fn)
            work.addAction(act)
        if ctx.actor.is_supervisor:
            manage = self.menuBar().addMenu(self.tr("管理(&G)"))
            daily_action = QAction(self.tr("执行每日规则（逾期视为认可、责任追究、回访、B岗）"), self)
            daily_action.setObjectName("dailyRunAction")
            daily_action.triggered.connect(self.run_daily_now)
            manage.addAction(daily_action)
            fault_action = QAction(self.tr("登记过错责任追究…"), self)
            fault_action.setObjectName("faultRecordAction")
            fault_action.triggered.connect(self.open_fault_record)
            manage.addAction(fault_action)
            inspect_action = QAction(self.tr("效能监察（超期、视为认可、协办部门答复、收费）…"), self)
            inspect_action.setObjectName("inspectionAction")
            inspect_action.triggered.connect(self.open_inspection)
            manage.addAction(inspect_action)
            catalog_action = QAction(self.tr("事项清单（一致性提示）…"), self)
            catalog_action.setObjectName("catalogViewAction")
            catalog_action.triggered.connect(self.open_catalog_view)
            manage.addAction(catalog_action)
            if ctx.actor.role in ("admin", "system"):
                cal_action = QAction(self.tr("节假日与调休设置…"), self)
                cal_action.triggered.connect(self.open_calendar)
                manage.addAction(cal_action)
                info_action = QAction(self.tr("本中心信息（名称、乡镇代码、电话、办公时间、落款）与本地规则…"), self)
                info_action.setObjectName("hallInfoAction")
                info_action.triggered.connect(self.open_hall_info)
                manage.addAction(info_action)
                staff_action = QAction(self.tr("工作人员（添加、修改、停用、重置密码、B岗）…"), self)
                staff_action.setObjectName("staffAdminAction")
                staff_action.triggered.connect(self.open_staff_admin)
                manage.addAction(staff_action)
                self._add_admin_screens(manage)
                if ctx.node.intake_point == "000":
                    sync_action = QAction(self.tr("同步（村代办点电脑）…"), self)
                    sync_action.setObjectName("syncAction")
                    sync_action.triggered.connect(self.open_sync)
                    manage.addAction(sync_action)
        if ctx.node.intake_point != "000" and _enrolled_laptop(ctx):
            sync_menu = self.menuBar().addMenu(self.tr("同步(&S)"))
            sync_action = QAction(self.tr("同步（与中心交换同步文件、立即同步）…"), self)
            sync_action.setObjectName("syncAction")
            sync_action.triggered.connect(self.open_sync)
            sync_menu.addAction(sync_action)
        # The hall's daily rules run on the hall's own node, as the system, at start and every hour — in the
        # background, in short transactions, with progress in the status bar.
        self.daily_progress = ProgressStrip()
        self.statusBar().addPermanentWidget(self.daily_progress)
        self.daily = DailyRunner(ctx, self, self.daily_progress, today)
        self._daily_timer = QTimer(self)
        self._daily_timer.setInterval(60 * 60 * 1000)
        self._daily_timer.timeout.connect(self.run_daily_quietly)
        self._daily_first = QTimer(self, singleShot=True, interval=3000)  # a child: cancelled if it closes
        self._daily_first.timeout.connect(self.run_daily_quietly)
        if ctx.node.intake_point == "000":
            self._daily_timer.start()
            self._daily_first.start()
        # Every node keeps a daily copy of its own ledger; off the GUI thread (a large file takes a while).
        # The thread holds the database only, never this widget (Qt objects belong to the GUI thread).
        threading.Thread(target=_daily_backup, args=(ctx.db,), name="hall-daily-backup", daemon=True).start()

        # The hall's name, its windows and its items, read again (in the background) when an operation changed
        # the settings or the catalogue — here, or at another counter of the hall.
        self.lookups = Loader(ctx.db, self)
        self.listener = ChangeListener(self, ctx.changes, lambda c: c.catalog or c.settings,
                                       lambda _c: self.reload_lookups())
        # Idle for the hall's idle_lock_minutes: covered until the password is typed again (hall/ui/idle_lock.py).
        self.idle_lock = IdleLock(self, ctx, self.log_out, before_lock=self._keep_draft)
        self.finder.item_chosen.connect(self.intake.load_item)
        self.intake.done.connect(self.go_intake)
        self.queue.open_ticket.connect(self.open_ticket)
        if self.dashboard is not None:
            self.dashboard.register_requested.connect(self.go_register)
            self.dashboard.ticket_requested.connect(self.open_ticket)
        fit_on_screen(self, 91, 42.5)  # 1366×768 at the 11 pt counter font; less on a smaller or scaled screen

    def reload_lookups(self) -> None:
        self.lookups.request(lambda s: (settings.get(s, "hall_name"), catalog.window_views(s), catalog.item_views(s)),
                             self._lookups_arrived)

    def _lookups_arrived(self, got: tuple[str, list, list]) -> None:  # type: ignore[type-arg]
        self.hall_name, self.windows, self.items = got
        self.setWindowTitle(self.tr("Hall — ") + self.hall_name)
        self.finder.set_catalog(self.windows, self.items)

    # ---------------------------------------------------------------------------------- navigation
    def go_intake(self) -> None:
        self.tabs.setCurrentIndex(0)
        self.finder.search.setFocus()
        self.finder.search.selectAll()

    def go_queue(self) -> None:
        self.tabs.setCurrentIndex(1)
        self.queue.table.setFocus()
        if not self.queue.table.currentIndex().isValid() and self.queue.model.rowCount() > 0:
            self.queue.table.selectRow(0)

    def open_ticket(self, number: str) -> TicketDetailDialog:
        return open_detail(self, self.ctx, number, self._today, self.details)

    def go_dashboard(self) -> None:
        if self.dashboard is not None:
            self.tabs.setCurrentWidget(self._dashboard_page)

    def go_stats(self) -> None:
        if self.stats is not None:
            self.tabs.setCurrentWidget(self.stats)

    def go_petitions(self) -> None:
        if self.petitions is not None:
            self.tabs.setCurrentWidget(self.petitions)

    def go_registers(self) -> None:
        self.tabs.setCurrentWidget(self.registers)

    def go_attendance(self) -> None:
        self.tabs.setCurrentWidget(self.attendance)

    def go_register(self, name: str) -> None:
        """The full list behind a dashboard panel: a register (``followups`` …) or ``attendance``."""
        if name == "attendance":
            self.go_attendance()
            return
        self.registers.show_register(name)
        self.go_registers()

    def run_daily_now(self) -> bool:
        return self.run_daily(quiet=False)

    def run_daily_quietly(self) -> bool:
        return self.run_daily(quiet=True)

    def open_calendar(self) -> None:
        from hall.ui.calendar_dialog import CalendarDialog

        CalendarDialog(self.ctx, self).exec()

    def open_catalog_view(self) -> QDialog:
        from hall.ui.catalog_view import CatalogDialog

        dialog = CatalogDialog(self.ctx, self)
        dialog.open()
        return dialog

    def open_inspection(self) -> QDialog:
        """The 效能监察 lists for the manager (the inspector's own window shows the same view)."""
        from hall.ui.inspector_view import InspectorDialog

        dialog = InspectorDialog(self.ctx, self, today=self._today)
        dialog.view.open_ticket.connect(self.open_ticket)
        dialog.open()
        return dialog

    def open_fault_record(self) -> QDialog:
        """过错责任追究 opened by hand: who, which case, what fault, and the finding (recorded at once)."""
        from hall.ui.fault_dialog import fault_record_dialog

        dialog = fault_record_dialog(self.ctx, self)
        dialog.open()
        return dialog

    def open_staff_admin(self) -> QDialog:
        from hall.ui.staff_admin import StaffAdminDialog

        dialog = StaffAdminDialog(self.ctx, self)
        dialog.open()
        return dialog

    def open_sync(self) -> QDialog:
        from hall.ui.sync_screen import SyncDialog

        dialog = SyncDialog(self.ctx, self)
        dialog.open()
        return dialog

    def open_hall_info(self, *, first_run: bool = False) -> QDialog:
        from hall.ui.hall_info_dialog import HallInfoDialog

        dialog = HallInfoDialog(self.ctx, self, first_run=first_run)
        dialog.open()  # window-modal, not a nested loop: the screens behind keep repainting
        return dialog

    def _add_admin_screens(self, manage: QMenu) -> None:
        """The administrator's other screens (hall/ui/admin_*.py, backup_dialog.py, encryption_dialog.py), each a
        dialog of its own."""
        for text, name, fn in (
                (self.tr("窗口与代办点(&W)…"), "pointsAdminAction", self.open_points_admin),
                (self.tr("事项目录导入导出(&C)…"), "catalogAdminAction", self.open_catalog_admin),
                (self.tr("备份与恢复(&K)…"), "backupAction", self.open_backups),
                (self.tr("数据加密(&Y)…"), "encryptionAction", self.open_encryption),
                (self.tr("公开信息打印(&P)…"), "noticesAction", self.open_notices),
                (self.tr("报表导出(&E)…"), "reportsAction", self.open_reports)):
            act = QAction(text, self)
            act.setObjectName(name)
            act.triggered.connect(fn)
            manage.addAction(act)

    def _open_dialog(self, dialog: QDialog) -> QDialog:
        dialog.open()  # window-modal, not a nested loop
        return dialog

    def open_points_admin(self) -> QDialog:
        from hall.ui.admin_points import PointsAdminDialog

        return self._open_dialog(PointsAdminDialog(self.ctx, self))

    def open_catalog_admin(self) -> QDialog:
        from hall.ui.admin_catalog import CatalogAdminDialog

        return self._open_dialog(CatalogAdminDialog(self.ctx, self))

    def open_backups(self) -> QDialog:
        from hall.ui.backup_dialog import BackupDialog

        return self._open_dialog(BackupDialog(self.ctx, self, restore=self.request_restore))

    def open_encryption(self) -> QDialog:
        from hall.ui.encryption_dialog import EncryptionDialog

        return self._open_dialog(EncryptionDialog(self.ctx, self, enable_requested=self.request_encryption))

    def open_notices(self) -> QDialog:
        from hall.ui.admin_notices import NoticesDialog

        return self._open_dialog(NoticesDialog(self.ctx, self))

    def open_reports(self) -> QDialog:
        from hall.ui.admin_reports import ReportsDialog

        return self._open_dialog(ReportsDialog(self.ctx, self, today=self._today))

    def request_restore(self, backup: Path) -> None:
        """Close this window so that the program can close the database and restore ``backup`` (see
        hall/ui/restore_runner.py); the login follows."""
        self.restore_from = backup
        if not self.close():
            self.restore_from = None

    def request_encryption(self) -> None:
        """Close this window so that the program can close the database and encrypt the data folder (see
        hall/ui/encryption_runner.py); the login follows."""
        self.encrypt_requested = True
        if not self.close():
            self.encrypt_requested = False

    def stop_daily_timers(self) -> None:
        self._daily_timer.stop()
        self._daily_first.stop()

    def run_daily(self, *, quiet: bool) -> bool:
        """Deemed consent, accountability, unrated tickets, follow-ups, B-posts — idempotent for the day; a
        background task (False when a run is already going)."""
        return self.daily.run(quiet=quiet)

    # ------------------------------------------------------------------------------------ drafts
    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._offered:
            self._offered = True
            self.finder.search.setFocus()
            QTimer.singleShot(0, self.offer_drafts)
            QTimer.singleShot(0, settle_heap)  # the long-lived objects exist now: keep full collections short

    def offer_drafts(self) -> bool:
        """Offer the newest unsaved intake of this person back; True when one was restored."""
        draft = offer_restore(self, self.store, str(self.ctx.actor.staff_id))
        if draft is None:
            return False
        item = next((i for i in self.items if i.code == draft.data.get("item_code")), None)
        if item is None:
            messages.error(self, self.tr("无法恢复草稿"),
                           self.tr("草稿中的事项（编码 {0}）已不在当前事项清单中；草稿文件保留在 {1}")
                           .format(draft.data.get("item_code"), draft.path))
            return False
        self.tabs.setCurrentIndex(0)
        self.intake.restore(draft.data, item, draft.key)
        return True

    def _keep_draft(self) -> None:
        if self.intake.is_dirty():
            self.intake.autosaver.flush()

    def log_out(self) -> None:
        """Close this person's window (an unsaved intake is asked about, as on quitting) and show the login."""
        self.switch_user = True
        if not self.close():
            self.switch_user = False

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.intake.is_dirty():
            self.intake.autosaver.flush()
            if not messages.confirm(self, self.tr("有未保存的登记"),
                                    self.tr("当前登记还没有保存。仍要退出吗？\n（已输入的内容作为草稿保留，"
                                            "下次启动时可以恢复。）")):
                event.ignore()
                return
        self.stop_daily_timers()
        self.idle_lock.stop()
        self.daily.stop()  # a daily run stops after its current batch (what it did stays done)
        event.accept()


def _enrolled_laptop(ctx: Context) -> bool:
    """A village laptop joined to its hall (its key file says so: a few hundred bytes, no database read)."""
    from hall.services.sync import keys

    try:
        found = keys.load(ctx.data_paths().data_dir)
    except HallError:
        return True  # a damaged key file: the 同步 screen says what is wrong
    return found is not None and found.role == "laptop" and found.hall is not None
