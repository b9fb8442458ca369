"""管理 → 公开信息打印: the public notices ``hall-admin print notices`` makes — 六公开汇编 (every item's guide),
a window's board, the staff badge board (挂牌上岗, with photos and résumés), an item's flowchart — rendered to PDF
on a background :class:`Task`, previewed page by page, saved as a PDF or printed (the printed pages are the PDF's,
as for the counter's papers)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from hall.errors import HallError
from hall.services.catalog import items as catalog
from hall.ui import messages
from hall.ui.background import Loader, Progress, Task
from hall.ui.ops import Context
from hall.ui.print_preview import paint_to_printer
from hall.ui.progress import ProgressStrip
from hall.ui.screen_fit import fit_on_screen

BOOKLET, WINDOW, STAFF, FLOWCHART = "booklet", "window", "staff", "flowchart"
KINDS = {BOOKLET: "六公开汇编（全部事项办事指南）", WINDOW: "窗口公示牌", STAFF: "工作人员挂牌上岗公示",
         FLOWCHART: "办事流程图"}
PREVIEW_PAGES = 12  # the booklet runs to ~80 pages: the preview shows the first ones, the file holds them all
PREVIEW_DPI = 110


@dataclass(frozen=True)
class Notice:
    title: str
    pdf: bytes
    pages: int
    images: list[QImage]  # the first PREVIEW_PAGES pages (QImage may be made off the GUI thread; QPixmap not)


def render_notice(db, kind: str, choice: str | None) -> tuple[str, bytes]:  # type: ignore[no-untyped-def]
    """(what, PDF bytes) of one public notice, as ``hall-admin print notices`` renders it."""
    from hall.print import notices
    from hall.services.reporting import papers

    with db.reading() as s:
        hall = papers.hall_info(s)
        if kind == WINDOW:
            boards = papers.window_boards(s, choice)
            renderer: notices.PublicRenderer = notices.WindowBoardRenderer(boards, hall)
            what = f"{boards[0].code} 窗口公示" if choice else "窗口公示牌"
        elif kind == STAFF:
            renderer, what = notices.StaffBoardRenderer(papers.staff_badges(s), hall), "工作人员挂牌上岗公示"
        elif kind == FLOWCHART:
            item = papers.item_notice(s, choice or "")
            renderer, what = notices.FlowchartRenderer([item], hall), f"{item.name}办事流程图"
        else:
            items = papers.item_notices(s)
            renderer, what = notices.BookletRenderer(items, hall), f"六公开汇编（{len(items)} 项）"
    return what, renderer.render(None)


def first_pages(pdf: bytes, dpi: float, n: int) -> tuple[int, list[QImage]]:
    """(page count, the first ``n`` pages as images): the 80-page booklet is not rasterised whole for a preview."""
    import pypdfium2

    doc = pypdfium2.PdfDocument(pdf)
    try:
        images = []
        for i in range(min(n, len(doc))):
            page = doc[i]
            bitmap = page.render(scale=dpi / 72, prefer_bgrx=True)
            img = QImage(bitmap.buffer, bitmap.width, bitmap.height, bitmap.stride, QImage.Format.Format_RGB32)
            images.append(img.copy())  # detached from the bitmap's buffer before it is closed
            bitmap.close()
            page.close()
        return len(doc), images
    finally:
        doc.close()


def _ask_save(parent: QWidget, suggested: str) -> str:
    path, _ = QFileDialog.getSaveFileName(parent, parent.tr("保存为 PDF"), suggested, parent.tr("PDF 文件 (*.pdf)"))
    return path


class NoticesDialog(QDialog):
    def __init__(self, ctx: Context, parent: QWidget | None = None, *,
                 save_file: Callable[[QWidget, str], str] = _ask_save) -> None:
        super().__init__(parent)
        self.ctx, self.save_file = ctx, save_file
        self.notice: Notice | None = None
        self.task: Task | None = None
        self.setObjectName("noticesDialog")
        self.setWindowTitle(self.tr("公开信息打印"))
        layout = QVBoxLayout(self)
        bar = QHBoxLayout()
        self.kind = QComboBox()
        self.kind.setObjectName("noticeKind")
        for key, label in KINDS.items():
            self.kind.addItem(self.tr(label), key)
        self.choice = QComboBox()
        self.choice.setObjectName("noticeChoice")
        self.choice.setMinimumWidth(300)
        kind_label = QLabel(self.tr("公示材料(&K)："))
        kind_label.setBuddy(self.kind)
        bar.addWidget(kind_label)
        bar.addWidget(self.kind)
        bar.addWidget(self.choice, 1)
        self.preview_btn = QPushButton(self.tr("生成预览(&G)"))
        self.save_btn = QPushButton(self.tr("保存为 PDF(&S)…"))
        self.print_btn = QPushButton(self.tr("打印(&P)…"))
        close = QPushButton(self.tr("关闭"))
        for w in (self.preview_btn, self.save_btn, self.print_btn, close):
            bar.addWidget(w)
        layout.addLayout(bar)
        self.pages_widget = QWidget()
        self.pages_layout = QVBoxLayout(self.pages_widget)
        self.pages_layout.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setWidget(self.pages_widget)
        layout.addWidget(self.scroll, 1)
        self.progress = ProgressStrip()
        layout.addWidget(self.progress)
        self.note = QLabel(self.tr("选择公示材料后点“生成预览”。"))
        self.note.setObjectName("noticeNote")
        self.note.setWordWrap(True)
        layout.addWidget(self.note)
        self.kind.currentIndexChanged.connect(self._kind_changed)
        self.preview_btn.clicked.connect(self.preview)
        self.save_btn.clicked.connect(self.save_pdf)
        self.print_btn.clicked.connect(self.print_pdf)
        close.clicked.connect(self.reject)
        self.windows: list[tuple[str, str]] = []
        self.items: list[tuple[str, str]] = []
        self.loader = Loader(ctx.db, self)
        self.loader.request(lambda s: ([(w.code, w.name) for w in catalog.window_views(s)],
                                       [(i.code, i.name) for i in catalog.item_views(s)]), self._lookups)
        self._set_ready(False)
        fit_on_screen(self, 66, 40)  # an A4 page previewed at a readable size; it scrolls

    def _lookups(self, got: tuple[list[tuple[str, str]], list[tuple[str, str]]]) -> None:
        self.windows, self.items = got
        self._kind_changed()

    def _kind_changed(self) -> None:
        kind = self.kind.currentData()
        self.choice.clear()
        if kind == WINDOW:
            self.choice.addItem(self.tr("全部窗口"), None)
            for code, name in self.windows:
                self.choice.addItem(f"{code} {name}", code)
        elif kind == FLOWCHART:
            for code, name in self.items:
                self.choice.addItem(f"{code} {name}", code)
        self.choice.setEnabled(kind in (WINDOW, FLOWCHART))
        self.choice.setVisible(kind in (WINDOW, FLOWCHART))

    def choose(self, kind: str, choice: str | None = None) -> None:
        self.kind.setCurrentIndex(self.kind.findData(kind))
        if choice is not None:
            self.choice.setCurrentIndex(max(0, self.choice.findData(choice)))

    def _set_ready(self, ready: bool) -> None:
        self.save_btn.setEnabled(ready)
        self.print_btn.setEnabled(ready)

    @property
    def busy(self) -> bool:
        return self.task is not None and self.task.running

    def preview(self) -> Task | None:
        if self.busy:
            return None
        db, kind, choice = self.ctx.db, self.kind.currentData(), self.choice.currentData()
        drawing, dpi = self.tr("排版并生成 PDF"), PREVIEW_DPI

        def job(progress: Progress) -> Notice:
            progress(0, 0, drawing)
            what, pdf = render_notice(db, kind, choice)
            pages, images = first_pages(pdf, dpi, PREVIEW_PAGES)
            return Notice(what, pdf, pages, images)

        self.task = Task(job, self)
        self.task.succeeded.connect(self._shown)
        self.task.failed.connect(lambda exc: messages.error(self, self.tr("无法生成公示材料"), str(exc)))
        self.task.ended.connect(lambda: self.preview_btn.setEnabled(True))
        self.preview_btn.setEnabled(False)
        self._set_ready(False)
        self.progress.follow(self.task, self.tr("生成公示材料"))
        self.task.start()
        return self.task

    def _shown(self, notice: Notice) -> None:
        self.notice = notice
        while self.pages_layout.count():
            w = self.pages_layout.takeAt(0).widget()
            if w is not None:
                w.deleteLater()
        width = max(self.scroll.viewport().width() - 40, 400)
        for img in notice.images:
            label = QLabel()
            label.setPixmap(QPixmap.fromImage(img.scaledToWidth(min(width, img.width()),
                                                                Qt.TransformationMode.SmoothTransformation)))
            label.setStyleSheet("background: white; border: 1px solid #999;")
            self.pages_layout.addWidget(label)
        more = self.tr("（预览前 {0} 页，保存和打印为全部页）").format(PREVIEW_PAGES) \
            if notice.pages > PREVIEW_PAGES else ""
        self.note.setText(self.tr("{0}：共 {1} 页{2}。").format(notice.title, notice.pages, more))
        self._set_ready(True)

    def save_pdf(self) -> Path | None:
        if self.notice is None:
            return None
        chosen = self.save_file(self, f"{self.notice.title}.pdf")
        if not chosen:
            return None
        out = Path(chosen) if chosen.lower().endswith(".pdf") else Path(chosen + ".pdf")
        try:
            out.write_bytes(self.notice.pdf)
        except OSError as exc:
            messages.error(self, self.tr("未保存"), self.tr("无法写入“{0}”：{1}").format(out, exc.strerror or exc))
            return None
        self.note.setText(self.tr("已保存：{0}（{1} 页）").format(out, self.notice.pages))
        return out

    def print_pdf(self) -> bool:
        if self.notice is None:
            return False
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        dialog = QPrintDialog(printer, self)
        dialog.setWindowTitle(self.tr("打印 ") + self.notice.title)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return False
        try:
            paint_to_printer(printer, self.notice.pdf)
        except HallError as exc:
            messages.error(self, self.tr("打印失败"), str(exc))
            return False
        return True
