"""管理 → 数据加密…: the data folder's encryption at rest in plain words, turning it on, and the recovery code.

The same services as ``hall-admin encryption`` (:mod:`hall.services.storage.encryption`). The state is a few small
file reads (no query). Turning encryption on rewrites the ledger this program has open, so — as a restore does —
it cannot happen while the window runs: the administrator is told what will happen and asked, another program
holding the ledger is refused with nothing closed, then the main window closes, the program closes the database
and :mod:`hall.ui.encryption_runner` encrypts on a background task and shows the recovery code; the login follows.

:class:`RecoveryDialog` puts a lost key back from the recovery code (a new PC, a reinstalled system, another
Windows user). It is offered here and at start-up, before the login, when the folder's key is not on this PC
(the ledger cannot even be opened then). The code is checked as it is typed, each rule named in Chinese.

SQLite only: on a PostgreSQL hall the dialog says that the server's disk encryption protects it, and its buttons
are disabled.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hall.errors import HallError
from hall.services.storage import encryption
from hall.ui import messages
from hall.ui.ops import Context
from hall.ui.screen_fit import fit_on_screen

BAD = "color: #b00020;"
GOOD = "color: #1b5e20; font-weight: bold;"
PENDING = "color: #555555;"


def code_font(points: float) -> QFont:
    """A fixed-width font for a recovery code: every group lines up, 2 and Z, 5 and S stay apart."""
    font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    font.setPointSizeF(points)
    font.setBold(True)
    return font


class EncryptionDialog(QDialog):
    """``enable_requested``: called once the administrator has confirmed; the main window then closes so that the
    program can encrypt the closed ledger (see the module)."""

    def __init__(self, ctx: Context, parent: QWidget | None = None, *,
                 enable_requested: Callable[[], object] | None = None, data_dir: Path | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.database = Path(ctx.db.engine.url.database or "") if ctx.db.is_sqlite else None
        if data_dir is None:
            data_dir = ctx.paths.data_dir if ctx.paths is not None else (
                self.database.parent if self.database is not None else ctx.data_paths().data_dir)
        self.data_dir = data_dir
        self._enable_requested = enable_requested
        self.state: encryption.State | None = None
        self.setObjectName("encryptionDialog")
        self.setWindowTitle(self.tr("数据加密"))
        layout = QVBoxLayout(self)
        self.headline = QLabel()
        self.headline.setObjectName("encryptionState")
        headline_font = self.headline.font()
        headline_font.setPointSizeF(headline_font.pointSizeF() * 1.5)
        headline_font.setBold(True)
        self.headline.setFont(headline_font)
        self.headline.setWordWrap(True)
        layout.addWidget(self.headline)
        form = QFormLayout()
        self.facts: dict[str, QLabel] = {}
        for key, label in (("database", self.tr("数据文件：")), ("key", self.tr("密钥保存在：")),
                           ("fingerprint", self.tr("密钥指纹：")), ("since", self.tr("启用时间：")),
                           ("backups", self.tr("备份：")), ("drafts", self.tr("草稿：")),
                           ("bundles", self.tr("同步文件："))):
            value = QLabel()
            value.setObjectName(f"encryption_{key}")
            value.setWordWrap(True)
            self.facts[key] = value
            form.addRow(QLabel(label), value)
        layout.addLayout(form)
        self.explain = QLabel()
        self.explain.setObjectName("encryptionExplain")
        self.explain.setWordWrap(True)
        layout.addWidget(self.explain)
        layout.addStretch(1)
        row = QHBoxLayout()
        self.enable_btn = QPushButton(self.tr("启用加密(&E)…"))
        self.enable_btn.setObjectName("enableEncryption")
        self.recover_btn = QPushButton(self.tr("用恢复码恢复(&R)…"))
        self.recover_btn.setObjectName("recoverKey")
        close = QPushButton(self.tr("关闭"))
        row.addWidget(self.enable_btn)
        row.addWidget(self.recover_btn)
        row.addStretch(1)
        row.addWidget(close)
        layout.addLayout(row)
        self.enable_btn.clicked.connect(self.start_enable)
        self.recover_btn.clicked.connect(self.open_recovery)
        close.clicked.connect(self.reject)
        fit_on_screen(self, 52, 19)
        self.refresh()

    # ------------------------------------------------------------------------------------------ the state
    def refresh(self) -> encryption.State | None:
        try:
            self.state = encryption.state(self.data_dir, self.database)
        except HallError as exc:  # a damaged encryption.json: said, nothing offered
            self.state = None
            self.headline.setText(self.tr("无法读取加密设置"))
            self.explain.setText(str(exc))
            self.enable_btn.setEnabled(False)
            self.recover_btn.setEnabled(False)
            return None
        st = self.state
        f = self.facts
        f["bundles"].setText(self.tr("始终加密给接收方（无论是否启用本机加密）"))
        if not st.sqlite:
            self.headline.setText(self.tr("本中心使用 PostgreSQL 服务器"))
            f["database"].setText(self.tr("PostgreSQL 服务器上的数据库"))
            for key in ("key", "fingerprint", "since", "backups", "drafts"):
                f[key].setText("—")
            self.explain.setText(self.tr("数据加密只用于本机的 SQLite 数据文件夹。服务器的数据请用服务器的磁盘加密"
                                         "（BitLocker 或 LUKS）保护。"))
            self.enable_btn.setEnabled(False)
            self.recover_btn.setEnabled(False)
            return st
        f["database"].setText(str(st.database))
        if not st.enabled:
            self.headline.setText(self.tr("未加密"))
            self.headline.setStyleSheet(BAD)
            f["key"].setText("—")
            f["fingerprint"].setText("—")
            f["since"].setText("—")
            f["backups"].setText(self.tr("未加密（{0} 个文件）").format(st.backups.total))
            f["drafts"].setText(self.tr("未加密（{0} 份）").format(st.drafts.total))
            self.explain.setText(self.tr("台账、备份和草稿中的身份证号、电话、住址以明文保存在这台电脑上。"
                                         "村代办点的笔记本电脑和带出中心的备份应当加密（个人信息保护法第五十一条）。"))
        else:
            where = (self.tr("系统密钥库（Windows 数据保护，仅当前 Windows 用户可解开）") if st.key_store == "dpapi"
                     else self.tr("文件 {0}（仅本用户可读）").format(st.key_path))
            if st.key_here:
                self.headline.setText(self.tr("已加密（密钥保存在：{0}）").format(where))
                self.headline.setStyleSheet(GOOD)
                f["key"].setText(where)
            else:
                self.headline.setText(self.tr("已加密，但本机没有它的数据密钥"))
                self.headline.setStyleSheet(BAD)
                f["key"].setText(self.tr("本机没有（请用恢复码恢复）"))
            f["fingerprint"].setText(st.fingerprint)
            f["since"].setText(st.enabled_at.replace("T", " ") or "—")
            f["backups"].setText(self._files_text(st.backups, self.tr("个文件")))
            f["drafts"].setText(self._files_text(st.drafts, self.tr("份")))
            self.explain.setText(self.tr("台账、备份、增量备份和草稿都加密保存；没有本机密钥，这些文件任何人都读不出。"
                                         "换电脑或重装系统后，请用启用加密时抄下的恢复码恢复密钥。"))
        self.enable_btn.setEnabled(not st.enabled)
        self.recover_btn.setEnabled(st.enabled)
        return st

    def _files_text(self, files: encryption.Files, unit: str) -> str:
        if files.all_encrypted:
            return self.tr("已加密（{0} {1}）").format(files.total, unit)
        return self.tr("{0} {1}中有 {2} 个未加密").format(files.total, unit, files.total - files.encrypted)

    # ---------------------------------------------------------------------------------------- actions
    def start_enable(self) -> bool:
        """Explain, ask, refuse when another program holds the ledger; True when the window is asked to close so
        that the program can encrypt."""
        st = self.state
        if st is None or not st.sqlite or st.enabled:
            return False
        text = self.tr(
            "启用加密后：\n"
            "1. 台账文件和已有的备份会被重写为加密文件（台账很大时需要几分钟），增量备份和草稿也加密保存；\n"
            "2. 为此 Hall 会先关闭当前窗口和数据库，加密完成后重新登录；\n"
            "3. 请先关闭这台电脑上其他的 Hall 窗口和 hall-admin；\n"
            "4. 完成后会显示一次恢复码：必须抄在纸上（或打印）交中心主任保管。丢失本机密钥又没有恢复码，"
            "数据将无法读取。\n\n"
            "现在启用加密吗？")
        if not messages.confirm(self, self.tr("启用数据加密"), text, yes=self.tr("启用加密"), no=self.tr("取消")):
            return False
        if encryption.in_use_elsewhere(st.database):
            messages.error(self, self.tr("未启用加密"),
                           self.tr("另一个程序（另一个 Hall 窗口或 hall-admin）正打开着台账文件：请先关闭它，"
                                   "再启用加密。未做任何改动。"))
            return False
        self.accept()
        if self._enable_requested is not None:
            self._enable_requested()
        return True

    def open_recovery(self) -> RecoveryDialog:
        dialog = RecoveryDialog(self.data_dir, self)
        dialog.finished.connect(lambda _r: self.refresh())
        dialog.open()
        return dialog


class RecoveryDialog(QDialog):
    """Type the recovery code (checked as typed); 恢复 puts the key back on this PC, or says why not."""

    def __init__(self, data_dir: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.data_dir = Path(data_dir)
        self.recovered = ""  # the fingerprint of the key put back
        self.setObjectName("recoveryDialog")
        self.setWindowTitle(self.tr("用恢复码恢复数据密钥"))
        layout = QVBoxLayout(self)
        intro = QLabel(self.tr("数据文件夹 {0} 已加密。换了电脑、重装了系统或换了 Windows 用户后，"
                               "本机没有它的数据密钥，需要用启用加密时抄下的恢复码把密钥恢复到本机。\n"
                               "恢复码共 14 组、每组 4 个字母或数字；大小写均可，分组之间可用短横线或空格。")
                       .format(self.data_dir))
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.code = QLineEdit()
        self.code.setObjectName("recoveryCode")
        self.code.setFont(code_font(13))
        self.code.setMaxLength(100)
        self.code.setPlaceholderText("ABCD-EFGH-…")
        layout.addWidget(self.code)
        self.rule = QLabel()
        self.rule.setObjectName("recoveryRule")
        self.rule.setWordWrap(True)
        layout.addWidget(self.rule)
        self.result = QLabel()
        self.result.setObjectName("recoveryResult")
        self.result.setWordWrap(True)
        layout.addWidget(self.result)
        layout.addStretch(1)
        row = QHBoxLayout()
        row.addStretch(1)
        self.recover_btn = QPushButton(self.tr("恢复密钥(&R)"))
        self.recover_btn.setObjectName("recoverButton")
        self.recover_btn.setDefault(True)
        self.close_btn = QPushButton(self.tr("取消"))
        row.addWidget(self.recover_btn)
        row.addWidget(self.close_btn)
        layout.addLayout(row)
        self.code.textChanged.connect(self._typed)
        self.recover_btn.clicked.connect(self.recover)
        self.close_btn.clicked.connect(self._close)
        fit_on_screen(self, 62, 15)  # the whole code in view, spaced as on paper
        self._typed("")

    def _typed(self, text: str) -> None:
        found = encryption.check_code(text)
        self.result.setText("")
        self.recover_btn.setEnabled(found.problem is None and not self.recovered)
        if found.problem is None:
            self.rule.setStyleSheet(GOOD)
            self.rule.setText(self.tr("格式和校验正确：可以恢复。"))
            return
        self.rule.setStyleSheet(PENDING if found.incomplete else BAD)
        self.rule.setText(found.problem)

    def recover(self) -> bool:
        try:
            self.recovered = encryption.recover(self.data_dir, self.code.text())
        except HallError as exc:
            self.result.setStyleSheet(BAD)
            self.result.setText(self.tr("未能恢复：") + str(exc) + "\n" + self.tr("本机未做任何改动。"))
            return False
        self.result.setStyleSheet(GOOD)
        self.result.setText(self.tr("数据密钥已恢复到本机（密钥指纹 {0}）：现在可以打开这个数据文件夹。")
                            .format(self.recovered))
        self.code.setReadOnly(True)
        self.recover_btn.setEnabled(False)
        self.close_btn.setText(self.tr("完成"))
        return True

    def _close(self) -> None:
        if self.recovered:
            self.accept()
        else:
            self.reject()
