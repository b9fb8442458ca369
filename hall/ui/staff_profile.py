"""The badge board's photo and short résumé in 工作人员 → 修改 (hall/ui/staff_admin.py).

The current ones are read in the background. A chosen file is checked at once off the GUI thread by the same
service that stores it (:func:`hall.services.people.photos.prepare_photo`: JPEG/PNG by content, size, pixel count,
decoded in full, scaled) and shown as it will print; a refused file is named beside the field with the rule, and
the photo shown stays the one before. Saved with the person's other fields, in one ``staff.changed`` event.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hall.errors import HallError, ValidationError
from hall.services.people import photos, staff
from hall.ui.background import Loader, Task
from hall.ui.ops import Context

BAD = "color: #b00020; font-weight: bold;"
PREVIEW = (90, 120)


def _ask_photo(parent: QWidget) -> str:
    path, _ = QFileDialog.getOpenFileName(parent, parent.tr("选择照片"), "", parent.tr("图片 (*.jpg *.jpeg *.png)"))
    return path


class ProfileFields(QGroupBox):
    def __init__(self, ctx: Context, staff_no: str, parent: QWidget | None = None, *,
                 open_file: Callable[[QWidget], str] = _ask_photo) -> None:
        super().__init__(parent)
        self.setTitle(self.tr("挂牌上岗公示：照片与简历"))
        self.setObjectName("profileFields")
        self.open_file = open_file
        self.loaded = False
        self.photo: bytes | str | None = ""  # "" unchanged, None removed, bytes: the chosen file
        self.task: Task | None = None
        row = QHBoxLayout(self)
        self.preview = QLabel(self.tr("无照片"))
        self.preview.setObjectName("photoPreview")
        self.preview.setFixedSize(*PREVIEW)
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setStyleSheet("border: 1px dashed #999; color: #777;")
        row.addWidget(self.preview)
        side = QVBoxLayout()
        form = QFormLayout()
        self.photo_label = QLabel(self.tr("照片："))
        buttons = QHBoxLayout()
        self.choose_btn = QPushButton(self.tr("选择照片(&H)…"))
        self.remove_btn = QPushButton(self.tr("移除照片(&Y)"))
        buttons.addWidget(self.choose_btn)
        buttons.addWidget(self.remove_btn)
        buttons.addStretch(1)
        form.addRow(self.photo_label, buttons)
        self.resume = QPlainTextEdit()
        self.resume.setObjectName("resume")
        self.resume.setFixedHeight(64)
        self.resume.setPlaceholderText(self.tr("如 2019年起在民政窗口；擅长低保、临时救助（至多{0}字）")
                                       .format(staff.RESUME_LIMIT))
        self.resume_label = QLabel(self.tr("简历(&J)："))
        self.resume_label.setBuddy(self.resume)
        form.addRow(self.resume_label, self.resume)
        side.addLayout(form)
        self.hint = QLabel(self.tr("JPEG 或 PNG，最大 {0} MB；自动裁成 3:4 证件照比例。")
                           .format(photos.MAX_FILE_BYTES // 1024 // 1024))
        self.hint.setObjectName("photoHint")
        self.hint.setWordWrap(True)
        side.addWidget(self.hint)
        row.addLayout(side, 1)
        self.choose_btn.clicked.connect(self.choose)
        self.remove_btn.clicked.connect(self.remove)
        self.resume.textChanged.connect(self._count)
        for w in (self.choose_btn, self.remove_btn, self.resume):
            w.setEnabled(False)  # until the current ones are shown
        self.loader = Loader(ctx.db, self)
        self.loader.request(lambda s: staff.profile(s, staff_no), self._loaded)

    def _loaded(self, got: tuple[str, str]) -> None:
        stored, resume = got
        self.resume.setPlainText(resume)
        self._show(base64.b64decode(stored) if stored else None)
        self.loaded = True
        for w in (self.choose_btn, self.remove_btn, self.resume):
            w.setEnabled(True)

    def _show(self, jpeg: bytes | None) -> None:
        if jpeg is None:
            self.preview.clear()
            self.preview.setText(self.tr("无照片"))
            return
        pixmap = QPixmap()
        pixmap.loadFromData(jpeg)
        self.preview.setPixmap(pixmap.scaled(*PREVIEW, Qt.AspectRatioMode.KeepAspectRatio,
                                             Qt.TransformationMode.SmoothTransformation))

    def _count(self) -> None:
        n = len(self.resume.toPlainText().strip())
        over = n > staff.RESUME_LIMIT
        self.resume_label.setStyleSheet(BAD if over else "")
        self.hint.setText(self.tr("简历 {0}/{1} 字").format(n, staff.RESUME_LIMIT) + (self.tr("，超出上限") if over
                                                                                       else ""))

    def choose(self) -> Task | None:
        path = self.open_file(self)
        return self.use_file(Path(path)) if path else None

    def use_file(self, path: Path) -> Task | None:
        """Check ``path`` in the background; shown when it passes, named with the rule when it does not."""
        try:
            if path.stat().st_size > photos.MAX_FILE_BYTES:  # never read a huge file into memory
                raise ValidationError(photos.FIELD, f"文件过大（{path.stat().st_size / 1024 / 1024:.1f} MB），"
                                                    f"最大 {photos.MAX_FILE_BYTES // 1024 // 1024} MB")
            data = path.read_bytes()
        except OSError as exc:
            self.mark(ValidationError(photos.FIELD, f"无法读取文件“{path.name}”：{exc.strerror or exc}"))
            return None
        except ValidationError as exc:
            self.mark(exc)
            return None

        def job(_progress: Any) -> bytes:
            return base64.b64decode(photos.prepare_photo(data))

        self.task = Task(job, self)
        self.task.succeeded.connect(lambda jpeg: self._accepted(data, jpeg))
        self.task.failed.connect(self.mark)
        self.task.start()
        return self.task

    def _accepted(self, data: bytes, jpeg: bytes) -> None:
        self.photo = data
        self.photo_label.setStyleSheet("")
        self.hint.setText(self.tr("照片已选好（{0}×{1}），保存后生效。").format(*photos.SIZE))
        self._show(jpeg)

    def remove(self) -> None:
        self.photo = None
        self._show(None)

    def mark(self, exc: HallError) -> None:
        field = exc.field if isinstance(exc, ValidationError) else None
        self.photo_label.setStyleSheet(BAD if field == photos.FIELD else "")
        self.resume_label.setStyleSheet(BAD if field == "简历" else "")
        if field in (photos.FIELD, "简历"):
            self.hint.setText(str(exc))

    def changes(self) -> dict[str, Any] | None:
        """What :func:`staff.set_profile` is given (None before the current values arrived)."""
        if not self.loaded:
            return None
        return {"photo": self.photo, "resume": self.resume.toPlainText()}
