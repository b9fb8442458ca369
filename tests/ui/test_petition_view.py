"""The 信访 page on a real SQLite hall (2026 calendar): the case list and the selected case's detail with its
四定一包 and hearing, actions through the page as a click would, and the leaders' reception schedule."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from manager_session import wait_until
from petition_env import prepare, worked_case
from PySide6.QtCore import Qt

from hall.ui import messages
from hall.ui.ops import ChangeSignal, Context
from hall.ui.petition_view import PetitionView, parse_participants

pytestmark = pytest.mark.gui
TODAY = date(2026, 10, 21)


@pytest.fixture
def hall(hall_sqlite, monkeypatch):
    from hall_fixtures import actors_of

    monkeypatch.setattr(messages, "shown", [])
    monkeypatch.setattr(messages, "ask_hook", lambda _t, _x: True)
    who = prepare(hall_sqlite, actors_of(hall_sqlite))
    return hall_sqlite, who, worked_case(hall_sqlite, who)


def settle(page):
    assert wait_until(lambda: not page.loading, 10), "the page did not load"
    return page


def column(page, header: str) -> list[str]:
    m = settle(page).model
    col = next(c for c in range(m.columnCount()) if m.headerData(c, Qt.Orientation.Horizontal) == header)
    return [m.data(m.index(r, col)) for r in range(m.rowCount())]


def test_the_case_screen_shows_the_case_and_records_on_it(qtbot, qtmodeltester, hall):
    opened, who, number = hall
    v = PetitionView(Context(opened.db, opened.node, who["m01"], ChangeSignal()), today=lambda: TODAY,
                     now=lambda: datetime(2026, 10, 21, 10))
    qtbot.addWidget(v)
    v.show()
    page = settle(v.cases)
    assert column(page, "办件编号") == [number] and column(page, "受理告知") == ["已受理"]
    assert column(page, "办结期限") == ["2026-11-17"] and column(page, "首办责任人") == ["陈综治"]
    qtmodeltester.check(page.model, force_py=True)
    page.select_where(lambda r: r.number == number)
    assert wait_until(lambda: v.detail.case is not None, 10)
    text = v.detail.browser.toPlainText()
    for part in ("信访受理告知期限：15 日", "四定一包", "定领导",
                 "刘书记", "陈综治、王民政", "约谈用人单位", "公开听证", "人大代表 周代表",
                 "法律专家 吴教授", "用人单位同意11月5日前付清", "县人力资源和社会保障局", "人社监〔2026〕31号",
                 "李律师（律师，示例律师事务所", "139****1111"):
        assert part in text, part
    assert "13900001111" not in text and "11010519491231002X" not in text
    assert page.buttons["four_fixed"].isEnabled() and not page.buttons["followups"].isEnabled()
    assert page.perform("feedback", {"channel": "电话", "content": "用人单位已支付一半，余款月底前付清"})
    assert wait_until(lambda: "余款月底前付清" in v.detail.browser.toPlainText(), 10)
    assert page.perform("transfer", {"organ": "县住房和城乡建设局", "reference": "示信移〔2026〕9号"})
    assert wait_until(lambda: "县住房和城乡建设局" in v.detail.browser.toPlainText(), 10)
    pending = [x.id for x in v.detail.case.transfers if x.state == "sent"]
    assert page.perform("transfer_answered", {"transfer": str(pending[0]), "organ_ref": "建信〔2026〕2号",
                                              "answer": "已约谈施工企业"})
    assert wait_until(lambda: "已约谈施工企业" in v.detail.browser.toPlainText(), 10)
    # 生成文书: the 四定一包责任书 as a PDF in the data directory, said where.
    assert page.perform("paper", {"kind": "four_fixed"})
    path = messages.shown[-1][1].split("已生成：", 1)[1]
    from pypdf import PdfReader

    assert "四定一包责任书" in "".join(p.extract_text() for p in PdfReader(path).pages).replace(" ", "")
    # The service's own refusal reaches the clerk as a message, nothing saved.
    assert not page.perform("hearing", {"form": "hearing", "held_on": "2026-10-21", "place": "镇综治中心",
                                        "host": "刘书记", "participants": "当事人 张三", "record": "记录",
                                        "conclusion": "结论"})
    assert "人大代表、政协委员、法律专家或律师" in messages.shown[-1][1]
    # 办结 from the 信访 page schedules the 回访 by rule (closure 10-21 + 30 日 = 11-20, + 90 日 = 2027-01-19).
    assert page.perform("close", {"outcome": "approved", "result": "拖欠工资已付清"})
    settle(page)
    assert page.model.rowCount() == 0  # 未办结 only
    page.choices["scope"].setCurrentIndex(page.choices["scope"].findData("all"))
    settle(page)
    page.select_where(lambda r: r.number == number)
    assert not page.buttons["close"].isEnabled() and not page.buttons["followups"].isEnabled()
    assert page.buttons["followup_done"].isEnabled()
    assert wait_until(lambda: "第 1 次：2026-11-20" in v.detail.browser.toPlainText(), 10)
    assert "第 2 次：2027-01-19（暂定）" in v.detail.browser.toPlainText()


def test_the_reception_schedule_is_posted_and_booked_on_screen(qtbot, qtmodeltester, hall):
    opened, who, _number = hall
    v = PetitionView(Context(opened.db, opened.node, who["m01"], ChangeSignal()), today=lambda: TODAY,
                     now=lambda: datetime(2026, 10, 21, 10))
    qtbot.addWidget(v)
    v.setCurrentWidget(v.reception)
    v.show()
    page = settle(v.reception)
    assert page.buttons["post_slot"].isEnabled()
    assert page.perform("post_slot", {"leader_no": "m02", "on_day": "2026-10-28", "slot": "上午",
                                      "place": "镇信访接待室", "capacity": 2, "topic": "涉法涉诉"})
    assert column(page, "接访领导") == ["刘书记"] and column(page, "已约 / 可约") == ["0 / 2"]
    qtmodeltester.check(page.model, force_py=True)
    page.select_where(lambda r: r.leader_name == "刘书记")
    values = {"name": "张三", "phone": "13812345678", "subject": "反映欠薪", "ticket_number": ""}
    assert page.perform("book", values)
    assert column(page, "已约 / 可约") == ["1 / 2"]
    page.select_where(lambda r: r.leader_name == "刘书记")
    assert not page.perform("book", values)  # the same petitioner, the same day
    assert "不能重复预约" in messages.shown[-1][1]
    assert not page.perform("post_slot", {"leader_no": "m02", "on_day": "2026-10-28", "slot": "上午",
                                          "place": "镇信访接待室", "capacity": 2, "topic": ""})
    assert "已安排接访" in messages.shown[-1][1]
    assert page.perform("notice", {})
    from pypdf import PdfReader

    text = "".join(p.extract_text() for p in PdfReader(messages.shown[-1][1].split("已生成：", 1)[1]).pages)
    assert "领导干部接访日安排" in text.replace(" ", "") and "刘书记" in text


def test_the_named_staff_board_and_a_named_appointment(qtbot, hall):
    opened, who, number = hall
    v = PetitionView(Context(opened.db, opened.node, who["c10"], ChangeSignal()), today=lambda: TODAY,
                     now=lambda: datetime(2026, 10, 21, 10))
    qtbot.addWidget(v)
    v.setCurrentWidget(v.board)
    v.show()
    board = settle(v.board)
    assert "陈综治" in column(board, "姓名") and set(column(board, "照片")) == {"（暂无照片）"}
    assert set(column(board, "简历")) == {"（简历待补充）"}
    v.setCurrentIndex(0)
    page = settle(v.cases)
    page.select_where(lambda r: r.number == number)
    assert page.perform("named", {"staff_no": "c02", "on_day": "2026-10-23", "slot": "上午"})
    from hall.services.registers import appointments

    with opened.db.reading() as s:
        booked = appointments.for_day(s, date(2026, 10, 23))
    assert [(a.staff_name, a.citizen_name, a.purpose) for a in booked] == [
        ("王民政", "张三", f"信访点名约访（{number}）")]


def test_participants_are_read_one_a_line():
    got = parse_participants("人大代表 周代表 镇人大\n\n当事人，张三")
    assert [(p.role, p.name, p.unit) for p in got] == [("人大代表", "周代表", "镇人大"), ("当事人", "张三", "")]
    with pytest.raises(Exception, match="身份 姓名 单位"):
        parse_participants("张三")
