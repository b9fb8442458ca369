"""Paper data from real tickets (built through the services), public data from the database catalogue, and
the print record in the ledger. The PDFs are rendered and read back."""

from __future__ import annotations

import re
from datetime import date

import pytest
from papers_env import FULL_IDS, FULL_PHONES, build, prepare
from sqlalchemy import select

from hall.errors import NotFound, ValidationError
from hall.models import Event
from hall.print.guard import check_public, find_unmasked
from hall.print.notices import BookletRenderer, StaffBoardRenderer, WindowBoardRenderer
from hall.print.ticket_layout import TicketPaperRenderer
from hall.services.reporting import papers
from hall.services.storage import ledger
from hall.services.tickets import record as tickets

pytest.importorskip("hall.services.cases.joint")


@pytest.fixture
def env(hall_db, people):
    who = prepare(hall_db, people)
    return hall_db, who, build(hall_db, who)


def _text(path) -> str:
    from pypdf import PdfReader

    return "".join(re.sub(r"\s+", "", p.extract_text() or "") for p in PdfReader(str(path)).pages)


REQUIRED = {
    "acceptance": ["受理通知书", "张建国", "1101**********002X", "138****5678", "张家村3组", "待遇领取申请表",
                   "原件及复印件", "2026年3月5日09:42", "2026年4月2日", "李社保", "0512-52885678", "延期5个工作日"],
    "notice": ["一次性告知单", "最低生活保障申请", "本人银行账户信息", "需提交", "县民政局", "0512-57688002"],
    "supplement": ["补正材料通知书", "家庭收入与财产申报", "本人银行账户信息", "2026年3月10日", "逾期未补正"],
    "refusal": ["不予受理通知书", "不属于因突发事件", "同一事由的临时救助", "县民政局社会救助科", "行政复议",
                "行政诉讼"],
    "tolerance": ["容缺受理通知书", "容缺受理承诺书", "近期白底证件照", "第二联"],
    "forward": ["转办（上报）单", "县社保中心", "2026年3月25日", "请核定待遇标准", "随附材料"],
    "joint": ["联办抄告单", "县医保中心", "派出所户籍室", "2026年3月12日", "逾期未回复，视为认可", "已制卡"],
    "extension": ["延期告知书", "2026年3月26日", "2026年4月2日", "需县社保中心核查", "赵主任"],
    "closure": ["办结通知书", "送达回证", "常社养核〔2026〕0123号", "当面领取", "2026年3月27日10:15"],
}


@pytest.mark.parametrize("kind", list(REQUIRED))
def test_every_paper_from_a_real_ticket(env, kind, tmp_path):
    hall, _who, numbers = env
    with hall.db.transaction() as s:
        paper, item, info = papers.paper_for_ticket(s, numbers[kind], kind, today=date(2026, 3, 27))
    assert info.name == "虞山镇便民服务中心" and info.township == "虞山镇人民政府"
    out = tmp_path / f"{kind}.pdf"
    TicketPaperRenderer(kind, paper, info, item).render(out)
    text = _text(out)
    for needle in [numbers[kind], "虞山镇便民服务中心", *REQUIRED[kind]]:
        assert needle.replace(" ", "") in text, f"{kind}: {needle}"
    assert not find_unmasked(text)
    for full in (*FULL_IDS, *FULL_PHONES):
        assert full not in text
    assert "人民路18号" not in text  # address: village/group only


def test_papers_for_follows_the_state(env):
    hall, _who, n = env
    with hall.db.transaction() as s:
        assert papers.papers_for(tickets.get(s, n["supplement"])) == ("supplement", "notice")
        assert papers.papers_for(tickets.get(s, n["refusal"])) == ("refusal",)
        assert papers.papers_for(tickets.get(s, n["tolerance"])) == ("acceptance", "tolerance", "notice")
        assert papers.papers_for(tickets.get(s, n["closure"])) == ("closure", "extension", "forward", "acceptance",
                                                                     "notice")
        assert papers.papers_for(tickets.get(s, n["joint"]))[0] == "joint"


def test_a_paper_the_record_cannot_support_is_refused_in_chinese(env):
    hall, _who, n = env
    with hall.db.transaction() as s:
        with pytest.raises(ValidationError, match="延期告知书"):
            papers.paper_for_ticket(s, n["tolerance"], "extension")
        with pytest.raises(ValidationError, match=r"受理通知书.*尚未受理"):
            papers.paper_for_ticket(s, n["supplement"], "acceptance")
        with pytest.raises(ValidationError, match="文书种类"):
            papers.paper_for_ticket(s, n["acceptance"], "nonsense")
        with pytest.raises(NotFound, match="不存在"):
            papers.paper_for_ticket(s, "320581101-000-20990101-0001", "acceptance")
        # Names the counter UI uses are accepted.
        assert papers.paper_code("one_time_notice") == "notice" and papers.paper_code("completion") == "closure"


def test_print_and_reprint_are_ledger_events(env):
    hall, who, n = env
    number = n["acceptance"]
    with hall.db.transaction() as s:
        assert papers.print_count(s, number, "acceptance") == 0
        papers.record_print(s, who["c03"], number, "acceptance", 1, False, "柜台打印机 W03")
        papers.record_print(s, who["c03"], number, "acceptance", 2, True, "柜台打印机 W03")
        assert papers.print_count(s, number, "acceptance") == 2
        with pytest.raises(ValidationError, match="份数"):
            papers.record_print(s, who["c03"], number, "acceptance", 0, False, "x")
    with hall.db.transaction() as s:
        t = tickets.get(s, number)
        evs = s.scalars(select(Event).where(Event.ticket_uid == t.uid, Event.type == "ticket.printed")
                        .order_by(Event.id)).all()
        payloads = [ledger.load_payload(e) for e in evs]
        assert [(p["paper"], p["copies"], p["reprint"]) for p in payloads] == [("acceptance", 1, False),
                                                                              ("acceptance", 2, True)]
        assert evs[1].actor_name == "李社保" and evs[1].occurred_at is not None
        lines = [h.text for h in tickets.history(s, t) if h.type == "ticket.printed"]
        assert lines[-1] == "打印文书：受理通知书 2 份（补打），柜台打印机 W03"
        assert ledger.verify(s).ok


def test_public_data_from_the_database_catalogue(env, tmp_path):
    hall, _who, _n = env
    with hall.db.transaction() as s:
        items = papers.item_notices(s)
        badges = papers.staff_badges(s)
        boards = papers.window_boards(s, "W03")
        info = papers.hall_info(s)
        with pytest.raises(NotFound, match="W99"):
            papers.window_boards(s, "W99")
    assert len(items) == 76 and items[0].code == "01"
    w03 = next(i for i in items if i.code == "19")
    assert w03.service_phone == "0512-57688003" and "李社保（社保窗口）" in w03.staff_on_duty
    assert {b.name for b in badges} >= {"王民政", "李社保", "赵主任"} and "系统管理员" not in {b.name for b in badges}
    assert len(boards) == 1 and boards[0].code == "W03" and boards[0].staff[0].name == "李社保"
    check_public("test", items, badges, boards, allowed=[info.service_phone, info.supervision_phone,
                                                         *(i.service_phone for i in items)])
    out = tmp_path / "board.pdf"
    WindowBoardRenderer(boards, info).render(out)
    assert "城乡居民基本养老保险待遇领取申请" in _text(out)
    StaffBoardRenderer(badges, info).render(tmp_path / "staff.pdf")
    assert "挂牌上岗" in _text(tmp_path / "staff.pdf")
    BookletRenderer(items[:4], info).render(tmp_path / "booklet.pdf")
    assert "目录" in _text(tmp_path / "booklet.pdf")
