"""A village laptop before it has joined its hall: 申请加入 and 加入, shown before the login (there is nobody to log
in as yet — the village's staff come from the hall with the provisioning file).

申请加入: the intake point code, then where to write the request file; the laptop's fingerprint is shown large to
read aloud to the hall's administrator. 加入: the provisioning file the hall wrote; the ledger is created from the
hall's events (never seeded here: a seed of its own would collide with the hall's), and the hall's fingerprint is
shown to compare with the hall's screen. Both run on a background ``Task``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from hall.errors import HallError
from hall.paths import Paths
from hall.services.sync import keys
from hall.ui.background import Task
from hall.ui.sync_files import PROVISION_FILTER, REQUEST_FILTER, Chooser, fingerprint_label, grouped, write_file
from hall.ui.sync_screen import BAD_STYLE, OK_STYLE


def awaiting_join(paths: Paths) -> bool:
    """This data directory belongs to a laptop that asked to join and has not been provisioned yet."""
    try:
        found = keys.load(paths.data_dir)
    except HallError:
        return False  # the program's start says what is wrong with the key file
    return found is not None and found.role == "laptop" and found.hall is None


class LaptopEnrolDialog(QDialog):
    def __init__(self, paths: Paths, parent: QWidget | None = None, *, chooser: Chooser | None = None) -> None:
        super().__init__(parent)
        self.paths = paths
        self.chooser = chooser or Chooser()
        self.task: Task | None = None
        self.joined = False
        self.setObjectName("laptopEnrolDialog")
        self.setWindowTitle(self.tr("村代办点电脑：加入中心"))
        layout = QVBoxLayout(self)
        intro = QLabel(self.tr("本机是村代办点电脑。第一步“申请加入”：生成本机密钥和登记申请文件，交给中心管理员登记；"
                               "第二步“加入”：选择中心给的开通文件。两边屏幕上的指纹须逐组核对一致。"))
        intro.setWordWrap(True)
        layout.addWidget(intro)
        row = QHBoxLayout()
        row.addWidget(QLabel(self.tr("本机受理点编码（001 起）：")))
        self.point = QLineEdit("001")
        self.point.setObjectName("enrolPoint")
        self.point.setMaxLength(3)
        self.point.setFixedWidth(80)
        row.addWidget(self.point)
        self.request_btn = QPushButton(self.tr("申请加入…"))
        self.request_btn.setObjectName("enrolRequest")
        self.request_btn.clicked.connect(self.request)
        row.addWidget(self.request_btn)
        self.join_btn = QPushButton(self.tr("加入…"))
        self.join_btn.setObjectName("enrolJoin")
        self.join_btn.clicked.connect(self.join)
        row.addWidget(self.join_btn)
        row.addStretch(1)
        layout.addLayout(row)
        self.caption = QLabel()
        layout.addWidget(self.caption)
        self.fingerprint = fingerprint_label()
        self.fingerprint.setObjectName("enrolFingerprint")
        layout.addWidget(self.fingerprint)
        self.result = QLabel()
        self.result.setObjectName("enrolResult")
        self.result.setWordWrap(True)
        layout.addWidget(self.result)
        layout.addStretch(1)
        self.done_btn = QPushButton(self.tr("完成，去登录"))
        self.done_btn.setObjectName("enrolDone")
        self.done_btn.clicked.connect(self.accept)
        layout.addWidget(self.done_btn)
        self.resize(760, 420)
        found = keys.load(paths.data_dir)
        self.joined = found is not None and found.hall is not None  # nothing left to do here: go and log in
        self._show_keys()

    @property
    def busy(self) -> bool:
        return self.task is not None and self.task.running

    def _show_keys(self) -> None:
        mine = keys.load(self.paths.data_dir)
        requested = mine is not None and mine.role == "laptop"
        self.point.setEnabled(mine is None)
        self.request_btn.setEnabled(mine is None and not self.busy)
        self.join_btn.setEnabled(requested and not self.joined and not self.busy)
        self.done_btn.setEnabled(self.joined)
        if mine is not None and not self.joined:
            self.point.setText(mine.intake_point)
            self.caption.setText(self.tr("本机指纹（请与中心管理员屏幕上显示的逐组核对）："))
            self.fingerprint.setText(grouped(mine.fingerprint))

    def _run(self, fn: Any, done: Any) -> None:
        self.task = Task(fn, self)
        self.task.succeeded.connect(done)
        self.task.failed.connect(lambda exc: self._said(str(exc), ok=False))
        self.task.ended.connect(self._show_keys)
        self.task.start()
        self._show_keys()

    def _said(self, text: str, *, ok: bool = True) -> None:
        self.result.setText(text)
        self.result.setStyleSheet(OK_STYLE if ok else BAD_STYLE)

    def request(self) -> None:
        point = self.point.text().strip()
        out = self.chooser.save_file(self, self.tr("保存登记申请文件（交给中心管理员）"), f"{point}.hallreq",
                                     REQUEST_FILTER)
        if not out:
            return
        from hall.services.sync import enrolment

        paths = self.paths

        def job(_progress: Any) -> tuple[str, str]:
            _mine, req = enrolment.make_request(paths, point)
            code = enrolment.encrypt_new_laptop(paths)  # the laptop's data is encrypted from the first byte
            write_file(out, req.to_bytes())
            return out, code

        self._run(job, lambda done: self._said(self.tr(
            "已生成登记申请文件 {0}：请交给中心管理员登记，并核对下面的指纹。拿到开通文件后点“加入…”。\n"
            "本机数据已加密。恢复码（只显示这一次，请抄在纸上交中心主任保管）：{1}").format(*done)))

    def join(self) -> None:
        path = self.chooser.open_file(self, self.tr("选择中心给的开通文件"), PROVISION_FILTER)
        if not path:
            return
        paths = self.paths

        def job(_progress: Any) -> Any:
            from hall.services.bootstrap import open_hall
            from hall.services.sync import enrolment, heads

            data = Path(path).read_bytes()
            opened = open_hall(paths)  # a laptop's ledger: migrated, never seeded (its key file says laptop)
            try:
                with opened.db.transaction() as s:
                    joined = enrolment.join(s, opened.system, keys.load(paths.data_dir), data)
                joined.keys.save(paths.data_dir)  # only once the ledger holds the hall's events
                with opened.db.reading() as s:  # an earlier laptop's signed heads, now that its key is known
                    heads.keep_recorded(s, paths.data_dir)
            finally:
                opened.db.dispose()
            return joined

        def done(joined: Any) -> None:
            self.joined = True
            self.caption.setText(self.tr("中心指纹（请与中心屏幕上显示的逐组核对）："))
            self.fingerprint.setText(grouped(joined.hall_fingerprint))
            village = self.tr("，本村原有办件 {0} 件").format(joined.tickets) if joined.tickets else ""
            self._said(self.tr("已开通：受理点 {0}，从中心收到 {1} 条事件（事项清单、日历、设置、本村人员{2}）。"
                               "请用中心为本村登记的工号登录。").format(joined.keys.intake_point, joined.received,
                                                                village))

        self._run(job, done)
