"""The dashboard's 同步冲突 box: the count and list of tickets frozen by a sync conflict, and a line for the sync
flags a person must check (an ID number with two names, two nodes on one intake-point code).

Read on the background ``Loader`` beside the dashboard's snapshot (hall/services/sync/conflicts.py, flags.py);
hidden while there is nothing to show. Activating a conflict opens its ticket (``ticket_requested``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGroupBox, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from hall.services.sync import conflicts, flags
from hall.services.sync.conflicts import ConflictView
from hall.services.sync.flags import Flag
from hall.ui.background import Loader
from hall.ui.ops import Context

SHOWN = 8  # conflicts listed on the dashboard (the rest: hall-admin sync conflicts, the 同步 screen)


FLAGS_MAX_AGE_S = 3600  # the flags are derived again at least this often while anything syncs


@dataclass(frozen=True)
class SyncAlerts:
    conflicts: tuple[ConflictView, ...]
    flags: tuple[Flag, ...]


@dataclass(frozen=True)
class _Quick:
    conflicts: tuple[ConflictView, ...]
    imports: tuple[Any, ...] | None  # what the exchanges record (None: this database syncs with nobody)


def _read_quick(session: Any) -> _Quick:
    """The open conflicts (a small table) and a stamp of the exchanges, read with every dashboard refresh."""
    return _Quick(tuple(conflicts.listing(session)), flags.stamp(session))



class SyncAlertsBox(QGroupBox):
    ticket_requested = Signal(str)  # a ticket number

    def __init__(self, ctx: Context, parent: QWidget | None = None) -> None:
        super().__init__(self.tr("同步冲突"), parent)
        self.setObjectName("syncAlerts")
        self.setStyleSheet("QGroupBox#syncAlerts { color: #b00020; font-weight: bold; }")
        self.loader = Loader(ctx.db, self)
        # The flags are derived from every ticket (seconds at a million): on a long job's thread, only where this
        # database syncs, and again only when an exchange was recorded since (or an hour passed) — never on every
        # refresh, which would keep the screens' one reading thread busy.
        self.flags_loader = Loader(ctx.db, self, long=True)
        self._flags: tuple[Flag, ...] = ()
        self._flags_stamp: tuple[Any, ...] | None = None
        self._flags_at = 0.0
        self._conflicts: tuple[ConflictView, ...] = ()
        self.alerts: SyncAlerts | None = None
        lay = QVBoxLayout(self)
        self.list = QListWidget()
        self.list.setObjectName("syncAlertList")
        self.list.setMaximumHeight(120)
        self.list.itemActivated.connect(self._activated)
        lay.addWidget(self.list)
        self.hide()

    @property
    def loading(self) -> bool:
        return self.loader.busy or self.flags_loader.busy

    def refresh(self) -> None:
        self.loader.request(_read_quick, self._quick_arrived)

    def _quick_arrived(self, quick: _Quick) -> None:
        self._conflicts = quick.conflicts
        if quick.imports is None:
            self._flags, self._flags_stamp = (), None
        elif (quick.imports != self._flags_stamp or time.monotonic() - self._flags_at > FLAGS_MAX_AGE_S) \
                and not self.flags_loader.busy:
            stamp = quick.imports
            self.flags_loader.request(lambda s: tuple(flags.listing(s)),
                                      lambda found: self._flags_arrived(stamp, found))
        self.show_alerts(SyncAlerts(self._conflicts, self._flags))

    def _flags_arrived(self, stamp: tuple[Any, ...], found: tuple[Flag, ...]) -> None:
        self._flags, self._flags_stamp, self._flags_at = found, stamp, time.monotonic()
        self.show_alerts(SyncAlerts(self._conflicts, self._flags))

    def show_alerts(self, alerts: SyncAlerts) -> None:
        if alerts == self.alerts:
            return
        self.alerts = alerts
        self.list.clear()
        for v in alerts.conflicts[:SHOWN]:
            item = QListWidgetItem(self.tr("{0}：{1} / {2}（{3}）").format(
                v.number, v.side_a, v.side_b, f"{v.found_at:%m-%d %H:%M}"))
            item.setToolTip(self.tr("{0}：中心与村代办点各自办理了该办件，须由中心主任处理（双击打开）").format(
                v.item_name))
            item.setData(Qt.ItemDataRole.UserRole, v.number)
            self.list.addItem(item)
        if len(alerts.conflicts) > SHOWN:
            self.list.addItem(self.tr("……另有 {0} 件（hall-admin sync conflicts 列出全部）").format(
                len(alerts.conflicts) - SHOWN))
        if alerts.flags:
            kinds = sorted({f.label for f in alerts.flags})
            self.list.addItem(self.tr("同步提示 {0} 条须核实：{1}（hall-admin sync flags）").format(
                len(alerts.flags), "、".join(kinds)))
        self.setTitle(self.tr("同步冲突（{0}）").format(len(alerts.conflicts)))
        self.setVisible(bool(alerts.conflicts or alerts.flags))

    def _activated(self, item: QListWidgetItem) -> None:
        number = item.data(Qt.ItemDataRole.UserRole)
        if number:
            self.ticket_requested.emit(number)
