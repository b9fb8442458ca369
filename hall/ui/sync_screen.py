"""管理 → 同步… (the hall's administrator) and 同步 (village staff on an enrolled laptop): the 同步 screen.

At the hall: 登记村代办点电脑 (a laptop's request file → its fingerprint shown large to compare → confirmation →
the provisioning file), the enrolled laptops with their fingerprint, enrolment, last sync and pending counts,
撤销 with a reason, 导出同步文件 for the chosen laptop, 导入同步文件. On a laptop: its hall, last sync, pending
counts, the same export and import, and 立即同步 over the hall's LAN (the address of ``hall-admin sync serve`` is
kept in the user's settings). Before a file is written the screen says what it will carry (counts by kind);
after an import, the result in plain words or the Chinese reason it was refused (nothing changed then).

Everything that reads or writes — the overview, a preview, an export, an import, the LAN — runs on a background
``Task``; writes are operations (hall/ui/ops.py) so the queue and the other screens learn what changed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from hall.errors import HallError
from hall.services.storage.changes import MAX_TICKETS, Changes
from hall.services.sync import directory, enrolment, journal, lan, peers, state
from hall.services.sync.bundle import MAX_FILE, BundleRejected
from hall.services.sync.keys import NodeKeys
from hall.ui import messages
from hall.ui.background import Task
from hall.ui.ops import ChangeListener, Context, OperationTask
from hall.ui.sync_files import (
    BUNDLE_FILTER,
    PROVISION_FILTER,
    REQUEST_FILTER,
    Chooser,
    fingerprint_label,
    grouped,
    write_file,
)

PEER_HEADERS = ("受理点", "终端", "指纹", "登记时间", "最近同步", "待发事件", "待确认办件", "状态")
RECENT_HEADERS = ("时间", "方向", "对方", "事件数", "结果")
DIRECTIONS = {"export": "导出", "import": "导入", "join": "开通"}
URL_KEY = "sync/hall_url"
OK_STYLE = "color: #1b5e20; font-size: 15px; font-weight: bold;"
BAD_STYLE = "color: #b00020; font-size: 15px; font-weight: bold;"


def _when(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d %H:%M") if at is not None else "—"


def preview_text(p: journal.Preview) -> str:
    kinds = "、".join(f"{label} {n}" for label, n in p.by_kind) or "无"
    return f"共 {p.events} 条事件，涉及办件 {p.tickets} 件：{kinds}"


class SyncDialog(QDialog):
    def __init__(self, ctx: Context, parent: QWidget | None = None, *, chooser: Chooser | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.chooser = chooser or Chooser()
        self.data_dir = ctx.data_paths().data_dir
        self.overview: state.Overview | None = None
        self._tasks: list[Task] = []
        self.setObjectName("syncDialog")
        self.setWindowTitle(self.tr("同步（村代办点电脑与中心）"))
        layout = QVBoxLayout(self)

        self.who = QLabel(self.tr("正在读取…"))
        self.who.setObjectName("syncWho")
        self.who.setWordWrap(True)
        layout.addWidget(self.who)
        self.directory_line = QLabel()
        self.directory_line.setObjectName("syncStaffDirectory")
        self.directory_line.setWordWrap(True)
        layout.addWidget(self.directory_line)
        prints = QHBoxLayout()
        own = QVBoxLayout()
        self.own_caption = QLabel(self.tr("本机指纹"))
        self.own_print = fingerprint_label()
        self.own_print.setObjectName("syncOwnFingerprint")
        own.addWidget(self.own_caption)
        own.addWidget(self.own_print)
        prints.addLayout(own)
        prints.addSpacing(48)
        other = QVBoxLayout()
        self.compare_caption = QLabel()
        self.compare_print = fingerprint_label()
        self.compare_print.setObjectName("syncCompareFingerprint")
        self.compare_print.setStyleSheet("color: #0d47a1;")
        other.addWidget(self.compare_caption)
        other.addWidget(self.compare_print)
        prints.addLayout(other)
        prints.addStretch(1)
        layout.addLayout(prints)

        self.peer_box = QGroupBox(self.tr("已登记的村代办点电脑"))
        peer_layout = QVBoxLayout(self.peer_box)
        self.peers = QTableWidget(0, len(PEER_HEADERS))
        self.peers.setObjectName("syncPeers")
        self.peers.setHorizontalHeaderLabels([self.tr(h) for h in PEER_HEADERS])
        self.peers.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.peers.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.peers.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.peers.verticalHeader().hide()
        self.peers.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.peers.horizontalHeader().setStretchLastSection(True)
        peer_layout.addWidget(self.peers)
        layout.addWidget(self.peer_box, 2)

        buttons = QHBoxLayout()
        self.enrol_btn = QPushButton(self.tr("登记村代办点电脑…"))
        self.enrol_btn.setObjectName("syncEnrol")
        self.enrol_btn.clicked.connect(self.enrol)
        self.revoke_btn = QPushButton(self.tr("撤销（吊销）…"))
        self.revoke_btn.setObjectName("syncRevoke")
        self.revoke_btn.clicked.connect(self.revoke)
        self.export_btn = QPushButton(self.tr("导出同步文件…"))
        self.export_btn.setObjectName("syncExport")
        self.export_btn.clicked.connect(self.export)
        self.import_btn = QPushButton(self.tr("导入同步文件…"))
        self.import_btn.setObjectName("syncImport")
        self.import_btn.clicked.connect(self.import_file)
        self.sync_now_btn = QPushButton(self.tr("立即同步"))
        self.sync_now_btn.setObjectName("syncNow")
        self.sync_now_btn.clicked.connect(self.sync_now)
        for b in (self.enrol_btn, self.revoke_btn, self.export_btn, self.import_btn, self.sync_now_btn):
            buttons.addWidget(b)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.url_row = QWidget()
        url_layout = QHBoxLayout(self.url_row)
        url_layout.setContentsMargins(0, 0, 0, 0)
        url_layout.addWidget(QLabel(self.tr("中心同步地址（中心服务器上 hall-admin sync serve）：")))
        self.url = QLineEdit()
        self.url.setObjectName("syncUrl")
        self.url.setPlaceholderText("http://192.168.1.10:8765")
        url_layout.addWidget(self.url, 1)
        layout.addWidget(self.url_row)

        # Events of imported files that wait for what they depend on (parking): how many, and for what.
        self.parked = QLabel()
        self.parked.setObjectName("syncParked")
        self.parked.setWordWrap(True)
        self.parked.setStyleSheet("color: #8a5a00;")
        self.parked.hide()
        layout.addWidget(self.parked)

        self.result = QLabel()
        self.result.setObjectName("syncResult")
        self.result.setWordWrap(True)
        self.result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.result)

        recent_box = QGroupBox(self.tr("同步记录（本机导出、导入的同步文件）"))
        recent_layout = QVBoxLayout(recent_box)
        self.recent = QTableWidget(0, len(RECENT_HEADERS))
        self.recent.setObjectName("syncRecent")
        self.recent.setHorizontalHeaderLabels([self.tr(h) for h in RECENT_HEADERS])
        self.recent.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.recent.verticalHeader().hide()
        self.recent.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.recent.horizontalHeader().setStretchLastSection(True)
        recent_layout.addWidget(self.recent)
        layout.addWidget(recent_box, 1)

        from hall.ui.connections import settings

        self.url.setText(str(settings().value(URL_KEY, "") or ""))
        # Another counter (or `hall-admin sync serve`) took a bundle in or enrolled a laptop: read again.
        self.listener = ChangeListener(self, ctx.changes, self._concerns, lambda _c: self.reload(),
                                       coalesce_ms=500, own=self)
        self._set_role(None)
        self.resize(1200, 680)
        self.reload()

    # ------------------------------------------------------------------------------------ reading
    @property
    def busy(self) -> bool:
        return any(t.running for t in self._tasks)

    @staticmethod
    def _concerns(changes: Changes) -> bool:
        return bool(changes.any_tickets or changes.staff or changes.settings or changes.catalog)

    def _keys(self) -> NodeKeys:
        return enrolment.own_keys(self.data_dir, self.ctx.node)

    def reload(self) -> None:
        db, keys_of = self.ctx.db, self._keys

        def job(_progress: Any) -> state.Overview:
            mine = keys_of()
            with db.reading() as s:
                return state.overview(s, mine)

        self._start(Task(job, self), self._show)

    def _start(self, task: Task, done: Callable[[Any], None],
               failed: Callable[[HallError], None] | None = None) -> None:
        self._tasks = [t for t in self._tasks if t.running]
        self._tasks.append(task)
        task.succeeded.connect(done)
        task.failed.connect(failed or self._failed)
        task.ended.connect(self._update_buttons)
        self._update_buttons()
        task.start()

    def _operation(self, fn: Callable[[Any], Any], done: Callable[[Any], None]) -> None:
        def finished(result: Any) -> None:
            done(result)
            self.reload()

        def failed(exc: HallError) -> None:
            self._failed(exc)
            self.reload()

        self._start(OperationTask(self.ctx, fn, self, initiator=self), finished, failed)

    def _failed(self, exc: HallError) -> None:
        self.show_result(str(exc), ok=False)

    def show_result(self, text: str, *, ok: bool = True) -> None:
        self.result.setText(text)
        self.result.setStyleSheet(OK_STYLE if ok else BAD_STYLE)

    def _set_role(self, role: str | None) -> None:
        hall = role == "hall"
        self.peer_box.setTitle(self.tr("已登记的村代办点电脑") if hall else self.tr("中心"))
        # A laptop has one partner: its line, not a list's worth of empty space.
        self.peers.setMaximumHeight(16_777_215 if hall else 76)
        self.peer_box.setMaximumHeight(16_777_215 if hall else 120)
        self.enrol_btn.setVisible(hall)
        self.revoke_btn.setVisible(hall)
        self.sync_now_btn.setVisible(role == "laptop")
        self.url_row.setVisible(role == "laptop")
        self.directory_line.setVisible(role == "laptop")
        self._update_buttons()

    def _update_buttons(self) -> None:
        ready = self.overview is not None and self.overview.role in ("hall", "laptop") and not self.busy
        for b in (self.enrol_btn, self.revoke_btn, self.export_btn, self.import_btn, self.sync_now_btn):
            b.setEnabled(ready)

    def _show(self, ov: state.Overview) -> None:
        self.overview = ov
        self._set_role(ov.role)
        where = self.tr("中心大厅") if ov.role == "hall" else self.tr("村代办点（受理点 {0}）").format(ov.intake_point)
        self.who.setText(self.tr("本机：{0}　终端 {1}").format(where, ov.node_id[:8]))
        self.own_caption.setText(self.tr("本机指纹（中心）") if ov.role == "hall" else self.tr("本机指纹"))
        self.directory_line.setText(self._directory_text(ov.staff_directory))
        self.own_print.setText(grouped(ov.fingerprint))
        if ov.role == "laptop" and not self.compare_caption.text():
            self.compare_caption.setText(self.tr("中心指纹"))
            self.compare_print.setText(grouped(ov.hall_fingerprint))
        if ov.role == "requested":
            self.show_result(self.tr("本机已申请加入，尚未开通：请在退出后重新启动 Hall，用中心给的开通文件“加入”。"),
                             ok=False)
        self.peers.setRowCount(len(ov.peers))
        for row, p in enumerate(ov.peers):
            status = (self.tr("已吊销：{0}（{1}）").format(p.revoke_reason, _when(p.revoked_at)) if p.revoked_at
                      else self.tr("正常"))
            point = self.tr("中心") if ov.role == "laptop" else p.intake_point
            cells = (point, p.node_id[:8], p.fingerprint.upper(), _when(p.enrolled_at), _when(p.last_sync),
                     str(p.pending_events), str(p.pending_tickets), status)
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, p.node_id)
                self.peers.setItem(row, col, item)
        if ov.peers and not self.peers.selectedItems():
            self.peers.selectRow(0)
        self._show_parked(ov)
        self.recent.setRowCount(len(ov.recent))
        points = {p.node_id: p.intake_point for p in ov.peers}
        for row, line in enumerate(ov.recent):
            peer = self.tr("中心") if ov.role == "laptop" else points.get(line.peer, line.peer[:8])
            for col, text in enumerate((_when(line.at), self.tr(DIRECTIONS.get(line.direction, line.direction)),
                                        peer, str(line.events), line.summary)):
                self.recent.setItem(row, col, QTableWidgetItem(text))

    def _show_parked(self, ov: state.Overview) -> None:
        self.parked.setVisible(bool(ov.parked))
        if ov.parked:
            reasons = "\n".join(self.tr("　· {0} 条：{1}").format(w.count, w.reason) for w in ov.parked)
            self.parked.setText(self.tr("暂存 {0} 条事件（已核验，等所依赖的事件到齐后自动导入）：").format(
                ov.parked_count) + "\n" + reasons)

    def _directory_text(self, d: directory.Summary | None) -> str:
        if d is None or not d.people:
            return self.tr("中心人员名录：尚未收到（随中心的下一个同步文件而来）")
        return self.tr("中心人员名录：{0} 人（在岗 {1} 人），{2} 随同步文件更新").format(
            d.people, d.active, _when(d.received_at))

    def selected_peer(self) -> state.PeerLine | None:
        if self.overview is None:
            return None
        rows = {i.row() for i in self.peers.selectedItems()}
        if len(rows) == 1:
            return self.overview.peers[rows.pop()]
        live = [p for p in self.overview.peers if p.revoked_at is None]
        return live[0] if len(live) == 1 else None

    # ------------------------------------------------------------------------------------ the hall
    def enrol(self) -> None:
        path = self.chooser.open_file(self, self.tr("选择村代办点电脑的登记申请文件"), REQUEST_FILTER)
        if not path:
            return

        db = self.ctx.db

        def read(_progress: Any) -> tuple[enrolment.Request, tuple[peers.Earlier, ...]]:
            req = enrolment.parse_request(Path(path).read_bytes()[:enrolment.REQUEST_MAX + 1])
            with db.reading() as s:  # a replacement: what the hall holds of the point's earlier laptops
                return req, peers.earlier(s, req.intake_point)

        self._start(Task(read, self), lambda found: self._confirm_enrol(*found))

    def _confirm_enrol(self, req: enrolment.Request, earlier: tuple[peers.Earlier, ...] = ()) -> None:
        self.compare_caption.setText(self.tr("申请文件中的指纹（受理点 {0}）").format(req.intake_point))
        self.compare_print.setText(grouped(req.fingerprint))
        # Said before the administrator confirms: the old laptop's events the hall never received are gone with it.
        before = "".join(self.tr("{0}\n\n").format(e.text) for e in earlier)
        if not messages.confirm(self, self.tr("核对指纹"), before + self.tr(
                "请与受理点 {0} 电脑屏幕上显示的指纹逐组核对：\n\n{1}\n\n完全一致才登记。一致吗？").format(
                req.intake_point, grouped(req.fingerprint)), yes=self.tr("一致，登记"), no=self.tr("不一致，取消")):
            self.show_result(self.tr("未登记：指纹未确认"), ok=False)
            return
        out = self.chooser.save_file(self, self.tr("保存开通文件（带到村代办点电脑上“加入”）"),
                                     f"{req.intake_point}.hallprov", PROVISION_FILTER)
        if not out:
            return
        db, actor, keys_of = self.ctx.db, self.ctx.actor, lambda: enrolment.hall_keys(self.data_dir, self.ctx.node)

        def job(_progress: Any) -> enrolment.Enrolled:
            mine = keys_of()
            with db.transaction() as s:
                done = enrolment.enrol(s, actor, mine, req)
                write_file(out, done.provision)  # in the transaction: no enrolment without its file
            return done

        def done(e: enrolment.Enrolled) -> None:
            said = self.tr("已登记受理点 {0} 的电脑（终端 {1}）。开通文件已写入 {2}：请带到该电脑上“加入”，"
                           "并在那里核对中心指纹 {3}").format(e.intake_point, e.node_id[:8], out,
                                                       e.hall_fingerprint.upper())
            self.show_result("\n".join([said, *(x.text for x in e.earlier)]))

        self._operation(job, done)

    def revoke(self) -> None:
        peer = self.selected_peer()
        if peer is None or peer.revoked_at is not None:
            messages.error(self, self.tr("撤销终端"), self.tr("请先在列表中选中一台未吊销的电脑"))
            return
        reason = self.chooser.text(self, self.tr("撤销受理点 {0} 的电脑").format(peer.intake_point),
                                   self.tr("撤销原因（必填；此后它发来的同步文件一律拒绝）："))
        if reason is None:
            return
        if not reason.strip():
            self.show_result(self.tr("未撤销：撤销原因必须填写"), ok=False)
            return
        db, actor, node_id = self.ctx.db, self.ctx.actor, peer.node_id

        def job(_progress: Any) -> str:
            with db.transaction() as s:
                return peers.revoke(s, actor, node_id, reason).intake_point

        self._operation(job, lambda point: self.show_result(
            self.tr("已撤销受理点 {0} 的电脑：它发来的同步文件今后一律拒绝").format(point)))

    # ------------------------------------------------------------------------------------ both
    def export(self) -> None:
        to: str | None = None
        if self.overview is not None and self.overview.role == "hall":
            peer = self.selected_peer()
            if peer is None or peer.revoked_at is not None:
                messages.error(self, self.tr("导出同步文件"), self.tr("请先在列表中选中要发给的村代办点电脑（未吊销）"))
                return
            to = peer.node_id
        db, keys_of = self.ctx.db, self._keys

        def look(_progress: Any) -> journal.Preview:
            mine = keys_of()
            with db.reading() as s:
                return journal.preview(s, mine, to=to)

        self._start(Task(look, self), lambda p: self._confirm_export(p, to))

    def _confirm_export(self, p: journal.Preview, to: str | None) -> None:
        whom = self.tr("中心") if to is None else self.tr("受理点 {0} 的电脑").format(p.intake_point)
        text = self.tr("将发给{0}：{1}。\n\n继续并选择保存位置？").format(whom, preview_text(p))
        if not messages.confirm(self, self.tr("导出同步文件"), text, yes=self.tr("继续"), no=self.tr("取消"),
                                default_yes=True):
            return
        suggested = f"{self.ctx.node.intake_point}-{datetime.now():%Y%m%d-%H%M}.hallsync" if to is None else \
            f"000-{p.intake_point}-{datetime.now():%Y%m%d-%H%M}.hallsync"
        out = self.chooser.save_file(self, self.tr("保存同步文件"), suggested, BUNDLE_FILTER)
        if not out:
            return
        db, keys_of = self.ctx.db, self._keys

        def job(_progress: Any) -> journal.Exported:
            mine = keys_of()
            with db.transaction() as s:
                done = journal.export(s, mine, to=to)
                write_file(out, done.data)  # before the commit: an unwritten file is not recorded as sent
            return done

        def done(e: journal.Exported) -> None:
            self.show_result(self.tr("已导出同步文件 {0}（{1} KB）：{2}").format(
                out, max(1, len(e.data) // 1024), preview_text(e.preview)))
            # No ledger event (the record is local), yet these tickets' 同步 column changed: tell the lists.
            many = len(e.ticket_uids) > MAX_TICKETS
            self.ctx.changes.announce(Changes(tickets=frozenset() if many else e.ticket_uids, all_tickets=many),
                                      self)

        self._operation(job, done)

    def import_file(self) -> None:
        path = self.chooser.open_file(self, self.tr("选择要导入的同步文件"), BUNDLE_FILTER)
        if not path:
            return
        db, actor, keys_of = self.ctx.db, self.ctx.actor, self._keys
        data_dir = self.ctx.data_paths().data_dir  # where the signed heads of the chains it holds are kept

        def job(_progress: Any) -> journal.Imported:
            p = Path(path)
            if not p.is_file():
                raise HallError(f"文件不存在：{path}")
            if p.stat().st_size > MAX_FILE:
                raise BundleRejected("文件过大")
            data = p.read_bytes()
            mine = keys_of()
            with db.transaction() as s:
                return journal.import_bundle(s, actor, mine, data, data_dir)

        self._operation(job, lambda r: self.show_result(r.message))

    def sync_now(self) -> None:
        url = self.url.text().strip()
        if not url:
            self.show_result(self.tr("请先填写中心同步地址（例如 http://192.168.1.10:8765）"), ok=False)
            self.url.setFocus()
            return
        from hall.ui.connections import settings

        settings().setValue(URL_KEY, url)
        db, actor, keys_of = self.ctx.db, self.ctx.actor, self._keys
        data_dir = self.ctx.data_paths().data_dir
        self.show_result(self.tr("正在与中心同步…"))

        def job(_progress: Any) -> lan.Pushed:
            return lan.push(db, actor, keys_of(), url, data_dir)

        self._operation(job, lambda r: self.show_result(self.tr("已发送本机 {0}；从中心取回：{1}").format(
            preview_text(r.sent), r.back.message)))
