"""The citizen's rating screen: real widgets on a real SQLite hall; every rating read back from the ledger."""

from __future__ import annotations

import ast
import dataclasses
from datetime import date, datetime
from pathlib import Path

import pytest
from hall_fixtures import rating_pad
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtWidgets import QPushButton, QWidget
from sqlalchemy import select

from hall.models import Event
from hall.models.workflow import RatingRequest
from hall.services.catalog import items as catalog
from hall.services.registers import ratings
from hall.services.tickets import intake
from hall.services.tickets import record as tickets
from hall.ui import messages
from hall.ui import rating_screen as rating_screen_module
from hall.ui.ops import ChangeSignal, Context
from hall.ui.rating_screen import (
    RatingScreen,
    citizen_screen,
    rating_screen_for,
    request_citizen_rating,
)

pytestmark = pytest.mark.gui
ACCEPTED = datetime(2026, 3, 2, 9)
ASKED = datetime(2026, 3, 2, 10)
TAPPED = datetime(2026, 3, 2, 10, 1)
ZHANG = intake.ApplicantForm("person", "11010519491231002X", "张三", "13812345678", "东村3组")


@pytest.fixture
def counter(hall_sqlite, monkeypatch, qtbot):
    """A 承诺件 (临时救助申请, item 09) accepted at W02, the clerk's context and a stand-in clerk window."""
    from hall_fixtures import actors_of

    monkeypatch.setattr(messages, "shown", [])
    monkeypatch.setattr(messages, "ask_hook", lambda _t, _x: True)
    people = actors_of(hall_sqlite)
    with hall_sqlite.db.transaction() as s:
        item = catalog.current_item(s, "09")
        number = intake.register(s, people["c02"], intake.IntakeForm(
            "09", ZHANG, {m["name"]: "received" for m in item.materials}), now=ACCEPTED).number
        assert tickets.get(s, number).kind == "promised"
    ctx = Context(hall_sqlite.db, hall_sqlite.node, people["c02"], ChangeSignal())
    clerk_window = QWidget()
    qtbot.addWidget(clerk_window)
    return hall_sqlite, people, ctx, clerk_window, number


def ask(qtbot, counter) -> RatingScreen:
    """The clerk presses 请群众评价 at acceptance; the rating screen appears with the ticket."""
    _hall, _people, ctx, clerk_window, number = counter
    request_citizen_rating(clerk_window, ctx, number, "acceptance", now=ASKED)
    screen = rating_screen_for(ctx)
    qtbot.addWidget(screen)
    screen.clock = lambda: TAPPED
    return screen


def rated(hall, number: str) -> list[tuple[str, int | None, str, str]]:
    with hall.db.transaction() as s:
        return [(r.stage, r.level, r.source, r.comment) for r in ratings.ratings_of(s, tickets.get(s, number))]


def click(qtbot, button: QPushButton) -> None:
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_rating_at_acceptance_goes_through_the_citizen_channel(qtbot, counter):
    hall, _people, ctx, clerk_window, number = counter
    screen = ask(qtbot, counter)
    assert screen.state == "rate" and screen.isVisible()
    assert screen.parent() is None and not clerk_window.isAncestorOf(screen)
    line = screen.ticket_label.text()
    assert number in line and "张*" in line and "张三" not in line
    assert screen.item_label.text().startswith("临时救助申请")
    assert "W02" in screen.window_label.text() and "王民政" in screen.window_label.text()
    assert screen.stage_label.text() == "受理时评价"
    assert [screen.level_buttons[lv].text() for lv in (5, 4, 3, 2, 1)] == \
        ["非常满意", "满意", "基本满意", "不满意", "非常不满意"]
    # The clerk's window has no rating button of its own.
    assert not {b.text() for b in clerk_window.findChildren(QPushButton)} & set(ratings.RATING_LEVELS.values())

    with qtbot.waitSignal(ctx.changes.changed) as told:
        click(qtbot, screen.level_buttons[4])
    assert told.args[0].touches("ratings") and len(told.args[0].history) == 1 and told.args[1] is screen
    assert screen.state == "thanks" and "满意" in screen.thanks_detail.text()
    assert rated(hall, number) == [("acceptance", 4, "citizen", "")]
    with hall.db.transaction() as s:
        ev = s.scalars(select(Event).where(Event.type == "rating.given")).one()
        assert (ev.actor_id, ev.actor_role, ev.actor_name) == (None, "citizen", "申请人（W02窗口评价屏）")
        assert ev.node_id == hall.node.node_id
    # A second tap on the (now hidden) buttons does nothing; the same screen serves the next request.
    click(qtbot, screen.level_buttons[5])
    assert rated(hall, number) == [("acceptance", 4, "citizen", "")]
    assert rating_screen_for(ctx) is screen


def test_poor_rating_asks_the_reason_and_opens_a_rectification(qtbot, counter):
    hall, _people, _ctx, _clerk_window, number = counter
    screen = ask(qtbot, counter)
    click(qtbot, screen.level_buttons[2])
    assert screen.state == "reason" and "不满意" in screen.reason_title.text()
    assert not screen.submit_button.isEnabled() and "原因" in screen.reason_hint.text()
    click(qtbot, screen.back_button)  # changed their mind, then chose again
    assert screen.state == "rate"
    click(qtbot, screen.level_buttons[2])
    click(qtbot, screen.reason_buttons[0])
    assert screen.submit_button.isEnabled()
    screen.reason_edit.insert("叫号后又等了半小时")  # typed with the input method (QTest cannot type CJK)
    click(qtbot, screen.submit_button)
    assert screen.state == "thanks" and "整改" in screen.thanks_detail.text()
    assert rated(hall, number) == [("acceptance", 2, "citizen", "等候时间太长；叫号后又等了半小时")]
    with hall.db.transaction() as s:
        (rect,) = ratings.rectifications(s, date(2026, 3, 2))
    # rectify_workdays (15) working days from Mon 2 March 2026.
    assert (rect.ticket_number, rect.level, rect.due_on, rect.state_label) == (number, 2, date(2026, 3, 23), "待核实")


def test_a_used_or_invalid_token_is_refused_in_plain_chinese(qtbot, counter):
    hall, people, _ctx, _clerk_window, number = counter
    screen = ask(qtbot, counter)
    invite = screen.pending
    assert invite is not None
    click(qtbot, screen.level_buttons[5])
    assert screen.state == "thanks"
    screen.show_invite(invite)  # the same token handed over again
    click(qtbot, screen.level_buttons[3])
    assert screen.state == "notice"
    assert screen.notice_label.text() == "这次服务您已经评价过了，不能重复评价。\n感谢您的支持！"
    screen.show_invite(dataclasses.replace(invite, token="made-up"))
    click(qtbot, screen.level_buttons[5])
    assert screen.notice_label.text() == "这次评价已失效，\n请工作人员重新发起评价。"
    assert rated(hall, number) == [("acceptance", 5, "citizen", "")]
    # The clerk cannot ask again for a stage already rated: refused on the clerk's side, through ops.run.
    request_citizen_rating(None, Context(hall.db, hall.node, people["c02"], ChangeSignal()), number, "acceptance",
                           now=ASKED)
    assert messages.shown[-1] == ("无法请申请人评价", "该办件的受理时评价已完成")


def test_timeouts_return_to_idle_and_leave_the_invite_unused(qtbot, counter):
    hall, people, _ctx, _clerk_window, number = counter
    screen = RatingScreen(hall.db, rating_pad(hall, "W02窗口评价屏"), hall_name="示例镇",
                          timeout_ms=150, thanks_ms=150, clock=lambda: TAPPED)
    qtbot.addWidget(screen)
    assert screen.state == "idle"
    with hall.db.transaction() as s:
        invite = ratings.request_rating(s, people["c02"], number, "acceptance", now=ASKED)
    screen.show_invite(invite)
    click(qtbot, screen.level_buttons[1])  # a touch: the countdown starts again on the reason page
    assert screen.state == "reason"
    qtbot.waitUntil(lambda: screen.state == "idle", timeout=3000)
    assert screen.pending is None and screen.stage_label.text() == ""
    assert rated(hall, number) == []
    with hall.db.transaction() as s:
        (req,) = s.scalars(select(RatingRequest)).all()
        assert req.used_at is None  # unused: the local unrated rule (sweep_unrated) applies later
    # A new token from the clerk; after the rating the thank-you page also goes back to idle by itself.
    with hall.db.transaction() as s:
        invite = ratings.request_rating(s, people["c02"], number, "acceptance", now=ASKED)
    screen.show_invite(invite)
    click(qtbot, screen.level_buttons[5])
    assert screen.state == "thanks"
    qtbot.waitUntil(lambda: screen.state == "idle", timeout=3000)
    assert rated(hall, number) == [("acceptance", 5, "citizen", "")]


def test_the_clerk_side_has_no_way_to_rate(qtbot, counter):
    hall, people, ctx, clerk_window, number = counter
    # The screen is built around a citizen channel only; a staff login is refused at construction.
    with pytest.raises(TypeError):
        RatingScreen(hall.db, people["c02"])  # type: ignore[arg-type]
    request_citizen_rating(clerk_window, ctx, number, "acceptance", now=ASKED)
    assert rated(hall, number) == []  # asking records nothing but the request
    screen = rating_screen_for(ctx)
    qtbot.addWidget(screen)
    assert not hasattr(screen, "actor") and screen.state == "rate"
    # In the whole UI package, ratings.rate is called exactly once: by RatingScreen, with its own channel.
    calls = []
    for path in Path(rating_screen_module.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for cls_or_fn in ast.walk(tree):
            if not isinstance(cls_or_fn, ast.FunctionDef):
                continue
            for node in ast.walk(cls_or_fn):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "rate":
                    calls.append((path.name, cls_or_fn.name, ast.unparse(node.args[1])))
        assert not any(isinstance(n, ast.ImportFrom) and any(a.name == "rate" for a in n.names)
                       for n in ast.walk(tree)), path
    assert calls == [("rating_screen.py", "_submit", "self.channel")]


def test_single_monitor_gets_a_separate_window_and_the_chooser_picks_the_other_screen(qtbot, counter):
    _hall, _people, ctx, clerk_window, _number = counter
    screen = rating_screen_for(ctx, clerk_window)
    qtbot.addWidget(screen)
    assert screen.isWindow() and screen.isVisible() and not screen.isFullScreen()  # offscreen: one screen
    assert citizen_screen(["clerk", "citizen"], "clerk") == "citizen"
    assert citizen_screen(["citizen", "clerk"], "clerk") == "citizen"
    assert citizen_screen(["only"], "only") is None


@pytest.mark.parametrize("size", [(800, 480), (1024, 768)])
def test_fits_small_touch_screens(qtbot, counter, size):
    screen = ask(qtbot, counter)
    screen.resize(*size)
    qtbot.waitUntil(lambda: screen.size().width() == size[0])
    hint = screen.minimumSizeHint()
    assert hint.width() <= size[0] and hint.height() <= size[1]
    click(qtbot, screen.level_buttons[1])  # the reason page is the fullest one
    for button in [*screen.level_buttons.values(), *screen.reason_buttons, screen.submit_button]:
        assert button.fontMetrics().horizontalAdvance(button.text()) <= button.width(), button.text()
        if button.isVisible():  # a big touch target, wholly inside the window
            assert button.height() >= 60
            assert screen.rect().contains(QRect(button.mapTo(screen, QPoint(0, 0)), button.size()))
