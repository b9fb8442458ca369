"""The citizen's rating screen (好差评): the window the applicant touches, never the clerk.

The clerk's side only *asks* for a rating (:func:`request_citizen_rating`): ``ratings.request_rating`` issues a
one-time token sealed to this node's enrolled rating screen, which is handed to the one :class:`RatingScreen` of
this program. That screen rates through its own :class:`~hall.services.registers.ratings.CitizenChannel`, made
around the screen's key (its own file, loaded by :func:`open_channel`, never given to the clerk's window; see
hall/services/registers/rating_channel.py) — it holds no staff ``Actor`` at all, and the service refuses any
staff ``Actor`` anyway; only that key opens the sealed invite. Every rating is recorded in the ledger as made
by the citizen channel, naming the device (``申请人（W02窗口评价屏）``) and this computer's node id.

Where the screen goes (:func:`rating_screen_for`): full-screen on a second monitor when there is one (the small
touch screen facing the citizen); on a single-monitor PC it is an ordinary separate window on the clerk's own
monitor. Honestly: there the clerk *could* touch it. What still holds is that nothing in the clerk's session
can rate (the token never reaches the clerk's window, and the service refuses staff logins), and every rating
records the device it came from, so a hall that cares puts a second screen or a tablet at the counter.

An invite not answered within ``timeout_ms`` (default 60 s without a touch) is dropped from the screen and the
screen returns to "欢迎光临"; the token stays unused in the database and the local unrated rule
(``ratings.sweep_unrated``) applies later.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, TypeVar

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QResizeEvent, QScreen
from PySide6.QtWidgets import (
    QApplication,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from hall.errors import ConflictError, HallError, PermissionDenied, ValidationError
from hall.services.base.masking import Audience, FieldKind, mask_for
from hall.services.registers import rating_channel, ratings
from hall.services.registers.rating_channel import ScreenKey
from hall.services.registers.ratings import CitizenChannel, RatingInvite
from hall.services.storage import settings
from hall.services.tickets import record as tickets
from hall.ui import messages
from hall.ui.background import Loader
from hall.ui.ops import ChangeListener, ChangeSignal, Context, read, run, transact
from hall.ui.screen_fit import room, text_size

if TYPE_CHECKING:
    from pathlib import Path

    from sqlalchemy.orm import Session

    from hall.services.storage.db import Database
    from hall.services.storage.node import NodeIdentity

T = TypeVar("T")

# Highest first, as the official 好差评 devices lay them out (left = best).
LEVELS = (5, 4, 3, 2, 1)
# (background, text): green → amber → red, toned down so they read at a glance without glaring.
LEVEL_COLOURS = {5: ("#2e7d32", "#ffffff"), 4: ("#5b9a3c", "#ffffff"), 3: ("#d8a31a", "#2b2100"),
                 2: ("#d9752f", "#ffffff"), 1: ("#b83a32", "#ffffff")}
# What citizens most often give as the reason for a 差评 (one tap each; several may be chosen).
# Marked for lupdate here, translated where shown.
POOR_REASONS = (
    QT_TRANSLATE_NOOP("RatingScreen", "等候时间太长"), QT_TRANSLATE_NOOP("RatingScreen", "服务态度不好"),
    QT_TRANSLATE_NOOP("RatingScreen", "材料要求说不清"), QT_TRANSLATE_NOOP("RatingScreen", "来回跑了多次"),
    QT_TRANSLATE_NOOP("RatingScreen", "办理进度太慢"), QT_TRANSLATE_NOOP("RatingScreen", "对办理结果不满意"),
)
DEFAULT_TIMEOUT_MS = 60_000
DEFAULT_THANKS_MS = 6_000
PAGES = ("idle", "rate", "reason", "thanks", "notice")


def device_name(window_code: str | None) -> str:
    """The device as the ledger names it: ``申请人（W02窗口评价屏）``.

    The node id is not repeated here: every ledger event already carries it (``events.node_id``), and the
    actor name column is 40 characters.
    """
    return f"{window_code}窗口评价屏" if window_code else "大厅评价屏"


def citizen_message(exc: HallError) -> str:
    """What the citizen reads when the rating could not be taken: plain words, no codes or tokens."""
    if isinstance(exc, ConflictError):
        return QCoreApplication.translate("RatingScreen", "这次服务您已经评价过了，不能重复评价。\n感谢您的支持！")
    if isinstance(exc, PermissionDenied):
        return QCoreApplication.translate("RatingScreen", "这次评价已失效，\n请工作人员重新发起评价。")
    return QCoreApplication.translate("RatingScreen", "评价暂时无法提交：{0}。请告诉窗口工作人员。") \
        .format(str(exc).rstrip("。"))


@dataclass(frozen=True)
class _Pending:
    invite: RatingInvite
    applicant: str  # masked for a public screen ("" when it must not be shown, e.g. a child under 14)


class RatingScreen(QWidget):
    """The citizen-facing window: idle → rate (→ reason for a 差评) → thanks, or a plain notice, → idle."""

    rated = Signal(str, int)  # ticket number, level (the clerk's views learn of it from the change signal)

    def __init__(self, db: Database, channel: CitizenChannel, *, hall_name: str = "",
                 timeout_ms: int = DEFAULT_TIMEOUT_MS, thanks_ms: int = DEFAULT_THANKS_MS,
                 clock: Callable[[], datetime] = datetime.now, parent: QWidget | None = None) -> None:
        if not isinstance(channel, CitizenChannel):  # the screen must never be built around a staff login
            raise TypeError("RatingScreen rates only through a CitizenChannel")
        super().__init__(parent)
        self.db = db
        self.channel = channel
        self.hall_name = hall_name or self.tr("便民服务中心")
        self.clock = clock
        self.changes: ChangeSignal | None = None  # set by rating_screen_for: the clerk's session, told of a rating
        self.heard: ChangeSignal | None = None  # the session whose settings changes this screen follows
        self._names: Loader | None = None
        self._pending: _Pending | None = None
        self._level = 0
        self.setWindowTitle(self.tr("服务评价 — ") + self.hall_name)
        self.setObjectName("ratingScreen")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        # A visible rating screen must not keep the program running after the clerk closes the main window.
        self.setAttribute(Qt.WidgetAttribute.WA_QuitOnClose, False)
        self.setMinimumSize(text_size(self, 43, 22))

        self.idle_timer = QTimer(self, singleShot=True, interval=timeout_ms)
        self.idle_timer.timeout.connect(self.show_idle)
        self.back_timer = QTimer(self, singleShot=True, interval=thanks_ms)
        self.back_timer.timeout.connect(self.show_idle)

        self.stack = QStackedWidget()
        self.pages: dict[str, QWidget] = {}
        for name, build in (("idle", self._build_idle), ("rate", self._build_rate), ("reason", self._build_reason),
                            ("thanks", self._build_thanks), ("notice", self._build_notice)):
            page = build()
            self.pages[name] = page
            self.stack.addWidget(page)
        self.hall_label = QLabel(self.hall_name, objectName="hallName")
        self.stage_label = QLabel("", objectName="stageTag")
        top = QHBoxLayout()
        top.addWidget(self.hall_label, 1)
        top.addWidget(self.stage_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 12, 20, 16)
        layout.addLayout(top)
        layout.addWidget(self.stack, 1)
        self._scale_for(800, 480)
        self.show_idle()

    # ------------------------------------------------------------------------------------------- pages
    def _build_idle(self) -> QWidget:
        page = QWidget()
        v = QVBoxLayout(page)
        v.addStretch(2)
        v.addWidget(QLabel(self.tr("欢迎光临"), objectName="welcome", alignment=Qt.AlignmentFlag.AlignCenter))
        self.idle_hall = QLabel(self.hall_name, objectName="idleHall", alignment=Qt.AlignmentFlag.AlignCenter)
        v.addWidget(self.idle_hall)
        v.addStretch(1)
        v.addWidget(QLabel(self.tr("办理业务后，请在这里对我们的服务作出评价"), objectName="hint",
                           alignment=Qt.AlignmentFlag.AlignCenter))
        v.addStretch(2)
        return page

    def _build_rate(self) -> QWidget:
        page = QWidget()
        v = QVBoxLayout(page)
        self.item_label = QLabel("", objectName="itemLine", alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True)
        self.ticket_label = QLabel("", objectName="ticketLine", alignment=Qt.AlignmentFlag.AlignCenter,
                                   wordWrap=True)
        self.window_label = QLabel("", objectName="windowLine", alignment=Qt.AlignmentFlag.AlignCenter,
                                   wordWrap=True)
        v.addWidget(self.item_label)
        v.addWidget(self.ticket_label)
        v.addWidget(self.window_label)
        v.addStretch(1)
        v.addWidget(QLabel(self.tr("请您对本次服务作出评价"), objectName="prompt",
                           alignment=Qt.AlignmentFlag.AlignCenter))
        v.addStretch(1)
        row = QHBoxLayout()
        row.setSpacing(12)
        self.level_buttons: dict[int, QPushButton] = {}
        for level in LEVELS:
            b = QPushButton(ratings.RATING_LEVELS[level])
            b.setProperty("level", str(level))
            b.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # a touch screen: no focus rectangles
            b.clicked.connect(lambda _=False, lv=level: self.choose(lv))
            self.level_buttons[level] = b
            row.addWidget(b)
        v.addLayout(row, 4)
        return page

    def _build_reason(self) -> QWidget:
        page = QWidget()
        v = QVBoxLayout(page)
        self.reason_title = QLabel("", objectName="reasonTitle", alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True)
        v.addWidget(self.reason_title)
        grid = QGridLayout()
        grid.setSpacing(10)
        self.reason_buttons: list[QPushButton] = []
        for i, reason in enumerate(POOR_REASONS):
            b = QPushButton(self.tr(reason), checkable=True, objectName="reason")
            b.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            b.toggled.connect(self._reasons_changed)
            self.reason_buttons.append(b)
            grid.addWidget(b, i // 3, i % 3)
        v.addLayout(grid, 3)
        self.reason_edit = QLineEdit(objectName="reasonEdit", maxLength=200)
        self.reason_edit.setPlaceholderText(self.tr("其他意见（可不填）"))
        self.reason_edit.textChanged.connect(self._reasons_changed)
        v.addWidget(self.reason_edit)
        self.reason_hint = QLabel("", objectName="reasonHint", alignment=Qt.AlignmentFlag.AlignCenter,
                                  wordWrap=True)
        v.addWidget(self.reason_hint)
        row = QHBoxLayout()
        row.setSpacing(12)
        self.back_button = QPushButton(self.tr("返回重选"), objectName="secondary")
        self.back_button.clicked.connect(self._back_to_levels)
        self.submit_button = QPushButton(self.tr("提交评价"), objectName="submit")
        self.submit_button.clicked.connect(self._submit_reason)
        for b in (self.back_button, self.submit_button):
            b.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        row.addWidget(self.back_button, 1)
        row.addWidget(self.submit_button, 2)
        v.addLayout(row, 2)
        return page

    def _build_thanks(self) -> QWidget:
        page = QWidget()
        v = QVBoxLayout(page)
        v.addStretch(2)
        v.addWidget(QLabel(self.tr("感谢您的评价！"), objectName="welcome", alignment=Qt.AlignmentFlag.AlignCenter))
        self.thanks_detail = QLabel("", objectName="hint", alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True)
        v.addWidget(self.thanks_detail)
        v.addStretch(3)
        return page

    def _build_notice(self) -> QWidget:
        page = QWidget()
        v = QVBoxLayout(page)
        v.addStretch(2)
        self.notice_label = QLabel("", objectName="notice", alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True)
        v.addWidget(self.notice_label)
        v.addStretch(3)
        return page

    # ------------------------------------------------------------------------------------------- states
    @property
    def state(self) -> str:
        """Which page shows: idle | rate | reason | thanks | notice."""
        return PAGES[self.stack.currentIndex()]

    @property
    def pending(self) -> RatingInvite | None:
        return self._pending.invite if self._pending else None

    def _top(self, stage_label: str) -> None:
        """The top strip: hall name and stage while a rating is pending; empty on the idle page (it says both)."""
        self.stage_label.setText(stage_label)
        self.stage_label.setVisible(bool(stage_label))
        self.hall_label.setVisible(bool(stage_label))

    def _show(self, name: str) -> None:
        self.stack.setCurrentWidget(self.pages[name])

    def show_idle(self) -> None:
        """欢迎光临: no rating pending (also after the timeout — the invite simply stays unused)."""
        self.idle_timer.stop()
        self.back_timer.stop()
        self._pending = None
        self._level = 0
        self._top("")
        self._show("idle")

    def show_invite(self, invite: RatingInvite) -> None:
        """A rating request from the clerk: show what is being rated and wait for the citizen's touch."""
        self.back_timer.stop()
        today = self.clock().date()
        self._pending = _Pending(invite, read(self.db, lambda s: _public_name(s, invite.ticket_number, today)))
        self._level = 0
        self.item_label.setText(invite.item_name)
        parts = [self.tr("办件编号 {0}").format(invite.ticket_number)]
        if self._pending.applicant:
            parts.append(self.tr("申请人 {0}").format(self._pending.applicant))
        self.ticket_label.setText("　·　".join(parts))
        who = self.tr("{0} 窗口").format(invite.window_code) if invite.window_code else ""
        if invite.staff_name:
            who += self.tr("　工作人员 {0}").format(invite.staff_name)
        self.window_label.setText(who.strip())
        self._top(invite.stage_label)
        self._show("rate")
        self.idle_timer.start()

    def touch(self) -> None:
        """The citizen did something: the idle countdown starts again."""
        if self._pending is not None:
            self.idle_timer.start()

    def choose(self, level: int) -> None:
        """A tap on one of the five levels: a 差评 asks why first, the others are recorded at once."""
        if self._pending is None or self.state != "rate":  # a second tap after the rating went in
            return
        self.touch()
        if level in ratings.POOR:
            self._level = level
            for b in self.reason_buttons:
                b.blockSignals(True)
                b.setChecked(False)
                b.blockSignals(False)
            self.reason_edit.clear()
            self.reason_title.setText(self.tr("很抱歉让您{0}，请告诉我们原因（可多选）")
                                      .format(ratings.RATING_LEVELS[level]))
            self._reasons_changed()
            self._show("reason")
            return
        self._submit(level, "")

    def reason_text(self) -> str:
        chosen = [b.text() for b in self.reason_buttons if b.isChecked()]
        other = self.reason_edit.text().strip()
        return "；".join([*chosen, *([other] if other else [])])

    def _reason_required(self) -> bool:
        # The service asks a 差评 for its reason, except the second rating after a rectification.
        return self._pending is not None and self._pending.invite.stage != "second"

    def _reasons_changed(self) -> None:
        self.touch()
        ok = not self._reason_required() or len(self.reason_text()) >= 2
        self.submit_button.setEnabled(ok)
        self.reason_hint.setText("" if ok else self.tr("请至少选择一项原因，或写下您的意见，以便我们整改"))

    def _back_to_levels(self) -> None:
        if self._pending is None:
            return
        self.touch()
        self._level = 0
        self._show("rate")

    def _submit_reason(self) -> None:
        if self._pending is not None and self._level in ratings.POOR and self.state == "reason":
            self._submit(self._level, self.reason_text())

    def _submit(self, level: int, comment: str) -> None:
        pending = self._pending
        assert pending is not None
        self._pending = None  # one tap, one submission: a second tap finds nothing pending
        self.idle_timer.stop()
        number = pending.invite.ticket_number
        try:
            _none, changed = transact(self.db, lambda session: ratings.rate(
                session, self.channel, pending.invite.token, level, comment, now=self.clock()))
        except ValidationError as exc:
            self._pending = pending  # fixable here: stay on the page and say what is missing
            self.idle_timer.start()
            self.reason_hint.setText(str(exc))
            return
        except HallError as exc:
            self.notice_label.setText(citizen_message(exc))
            self._show("notice")
            self.back_timer.start()
            return
        self.thanks_detail.setText(
            self.tr("您的评价：{0}。我们会认真核实整改，并回访听取您的意见。").format(ratings.RATING_LEVELS[level])
            if level in ratings.POOR else self.tr("您的评价：{0}。欢迎再次光临！").format(ratings.RATING_LEVELS[level]))
        self._show("thanks")
        self.back_timer.start()
        if self.changes is not None:
            self.changes.announce(changed, self)
        self.rated.emit(number, level)

    def reload_hall_name(self) -> None:
        """The hall's name again (the settings changed), read in the background."""
        if self._names is None:
            self._names = Loader(self.db, self)
        self._names.request(lambda s: str(settings.get(s, "hall_name") or ""), self._show_hall_name)

    def _show_hall_name(self, name: str) -> None:
        self.hall_name = name or self.tr("便民服务中心")
        self.setWindowTitle(self.tr("服务评价 — ") + self.hall_name)
        self.hall_label.setText(self.hall_name)
        self.idle_hall.setText(self.hall_name)

    # ------------------------------------------------------------------------------------------- look
    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._scale_for(event.size().width(), event.size().height())

    def _scale_for(self, width: int, height: int) -> None:
        """Type sized from the window, so 800×480 and 1024×768 both read from a step back."""
        u = max(14, min(height // 22, width // 38))
        css = [
            "QWidget#ratingScreen { background: #f3f5f7; }",
            f"QLabel#hallName {{ font-size: {u}px; color: #4a5866; }}",
            f"QLabel#stageTag {{ font-size: {u}px; color: #1f4e79; background: #dde8f3; border-radius: 6px;"
            f" padding: 2px 10px; }}",
            f"QLabel#welcome {{ font-size: {u * 3}px; font-weight: bold; color: #1f4e79; }}",
            f"QLabel#idleHall {{ font-size: {int(u * 1.5)}px; color: #33414e; }}",
            f"QLabel#hint {{ font-size: {u}px; color: #5b6875; }}",
            f"QLabel#itemLine {{ font-size: {int(u * 1.3)}px; font-weight: bold; color: #22303c; }}",
            f"QLabel#ticketLine {{ font-size: {u}px; color: #33414e; }}",
            f"QLabel#reasonTitle {{ font-size: {int(u * 1.2)}px; font-weight: bold; color: #1f4e79; }}",
            f"QLabel#windowLine {{ font-size: {u}px; color: #4a5866; }}",
            f"QLabel#prompt {{ font-size: {int(u * 1.5)}px; font-weight: bold; color: #1f4e79; }}",
            f"QLabel#notice {{ font-size: {int(u * 1.6)}px; color: #8a3a00; }}",
            f"QLabel#reasonHint {{ font-size: {u}px; color: #8a3a00; }}",
            f"QPushButton {{ font-size: {int(u * 1.2)}px; font-weight: bold; border: none; border-radius: 12px;"
            f" min-height: {u * 3}px; padding: 4px 2px; }}",
            "QPushButton#reason { background: #ffffff; color: #33414e; border: 2px solid #c5ced6; }",
            "QPushButton#reason:checked { background: #fbe3d3; color: #7a2e00; border: 3px solid #d9752f; }",
            "QPushButton#secondary { background: #dfe4e9; color: #33414e; }",
            "QPushButton#submit { background: #1f4e79; color: #ffffff; }",
            "QPushButton#submit:disabled { background: #a9b6c2; color: #eef1f4; }",
            f"QLineEdit#reasonEdit {{ font-size: {u}px; min-height: {int(u * 1.8)}px; padding: 0 8px;"
            f" border: 2px solid #c5ced6; border-radius: 8px; background: #ffffff; }}",
        ]
        for level, (bg, fg) in LEVEL_COLOURS.items():
            css.append(f'QPushButton[level="{level}"] {{ background: {bg}; color: {fg}; }}')
            css.append(f'QPushButton[level="{level}"]:pressed {{ background: {fg}; color: {bg};'
                       f" border: 4px solid {bg}; }}")
        self.setStyleSheet("\n".join(css))


def _public_name(session: Session, number: str, today: date) -> str:
    """The applicant's name as a screen others can see may show it: masked, omitted for a child under 14."""
    t = tickets.get(session, number)
    minor = t.applicant_birth is not None and _age(t.applicant_birth, today) < 14
    if t.applicant_type != "person":
        return t.applicant_name  # an organisation's name is not personal data
    return mask_for(Audience.PUBLIC, FieldKind.NAME, t.applicant_name, minor_under_14=minor) or ""


def _age(birth: date, today: date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


# ------------------------------------------------------------------------------------------- clerk side
def citizen_screen(screens: Sequence[T], clerk_screen: T | None) -> T | None:
    """The monitor the citizen faces: one that is not the clerk's; None on a single-monitor PC."""
    if len(screens) < 2:
        return None
    others = [s for s in screens if s is not clerk_screen]
    return others[0] if others else None


def open_channel(db: Database, node: NodeIdentity, data_dir: Path, device: str) -> CitizenChannel:
    """The rating screen's own channel: its key file loaded here (never handed to the clerk's window), enrolled
    for this node the first time (a different key already enrolled is refused: the administrator replaces it)."""
    key = ScreenKey.load_or_create(data_dir)
    transact(db, lambda s: rating_channel.ensure_enrolled(s, node.node_id, node.intake_point, key, device))
    return CitizenChannel(node.node_id, device, key=key)


def rating_screen_for(ctx: Context, clerk_window: QWidget | None = None) -> RatingScreen:
    """The one rating screen of this program (created on first use), shown where the citizen can touch it.

    It is found among the application's top-level windows rather than kept in a global, and is never a child of
    the clerk's window (so nothing in the clerk's window tree can press a rating button).
    """
    screen = next((w for w in QApplication.topLevelWidgets()
                   if isinstance(w, RatingScreen) and w.db is ctx.db and w.channel.node_id == ctx.node.node_id),
                  None)
    if screen is None:
        hall_name = read(ctx.db, lambda s: str(settings.get(s, "hall_name") or ""))
        screen = RatingScreen(ctx.db, open_channel(ctx.db, ctx.node, ctx.data_paths().data_dir,
                                                   device_name(ctx.actor.window_code)), hall_name=hall_name)
    screen.changes = ctx.changes  # after a new login the current session's views are the ones to refresh
    if screen.heard is not ctx.changes:  # the hall's name may change in the settings: the screen shows it
        screen.heard = ctx.changes
        ChangeListener(screen, ctx.changes, lambda c: c.settings, lambda _c: screen.reload_hall_name())
    if not screen.isVisible():
        _place(screen, clerk_window)
    return screen


def _place(screen: RatingScreen, clerk_window: QWidget | None) -> None:
    clerk_screen: QScreen | None = clerk_window.screen() if clerk_window is not None else None
    target = citizen_screen(QGuiApplication.screens(), clerk_screen or QGuiApplication.primaryScreen())
    if target is not None:
        screen.setScreen(target)
        screen.setGeometry(target.geometry())
        screen.showFullScreen()
        return
    # Single monitor: an ordinary window beside the clerk's (see the module docstring for what that means).
    # 1024×768 at most, frame included, inside the free area of the clerk's screen (a taskbar, 150 % scaling).
    free = room(clerk_window) if clerk_window is not None else room(screen)
    screen.resize(min(1024, free.width()), min(768, free.height()))
    screen.show()
    screen.raise_()


def request_citizen_rating(parent: QWidget | None, ctx: Context, number: str, stage: str, *,
                           rectification_id: int | None = None, now: datetime | None = None,
                           initiator: object | None = None) -> None:
    """请群众评价: issue the one-time token (through ``ops.run``) and hand it to the citizen's screen.

    The clerk's window gets nothing it could rate with: the token goes straight to the rating screen.
    """
    title = QCoreApplication.translate("RatingScreen", "无法请申请人评价")
    try:  # the screen first: it enrols its key on its first opening, and the invite is sealed to that key
        screen = rating_screen_for(ctx, parent.window() if parent is not None else None)
    except HallError as exc:
        messages.error(parent, title, str(exc))
        return
    invite = run(parent, ctx, lambda s: ratings.request_rating(s, ctx.actor, number, stage,
                                                                rectification_id=rectification_id, now=now),
                 title=title, initiator=initiator)
    if invite is None:
        return
    screen.show_invite(invite)
