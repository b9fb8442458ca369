"""涉法信访 papers read back: 受理告知书, 四定一包责任书, 听证记录 and the 领导接访日 notice (pdftotext)."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date

import pytest
from petition_env import at, prepare, worked_case

from hall.errors import ValidationError
from hall.print.petition_papers import PetitionPaperRenderer, ReceptionNoticeRenderer
from hall.print.ticket_layout import TicketPaperRenderer
from hall.services.base.masking import find_unmasked_identifiers
from hall.services.cases import petition_views, workflow
from hall.services.registers import reception
from hall.services.reporting import papers

needs_pdftotext = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")


def _text(path) -> str:
    out = subprocess.run(["pdftotext", "-raw", str(path), "-"], capture_output=True, text=True, check=True)
    return "".join(out.stdout.split())


@pytest.fixture(scope="module")
def printed(tmp_path_factory, _sqlite_template):
    """The worked case's papers and a reception notice, rendered once for the module."""
    from hall_fixtures import actors_of

    from hall.paths import Paths
    from hall.services.bootstrap import open_hall

    data = tmp_path_factory.mktemp("petition-papers") / "data"
    shutil.copytree(_sqlite_template, data)
    opened = open_hall(Paths.resolve(data))
    try:
        who = prepare(opened, actors_of(opened))
        number = worked_case(opened, who)
        out = data.parent
        with opened.db.transaction() as s:
            slot = reception.post_slot(s, who["m01"], "m02", date(2026, 10, 14), "上午 9:00—11:30",
                                       "镇信访接待室", 5, topic="劳资纠纷", now=at(2026, 10, 12))
            reception.book(s, who["c10"], slot.id, "张三", "13812345678", "欠薪", now=at(2026, 10, 12))
            hall = papers.hall_info(s)
            detail = petition_views.case_detail(s, number)
            slots = reception.schedule(s, date(2026, 10, 12), date(2026, 10, 18))
        paths = {}
        for kind in ("accept", "four_fixed", "hearing"):
            paths[kind] = out / f"{kind}.pdf"
            PetitionPaperRenderer(kind, detail, hall, date(2026, 10, 20)).render(paths[kind])
        # The natural-day extension of the case (30 日 on 60 日) and its 延期告知书 from the ticket papers.
        with opened.db.transaction() as s:
            workflow.extend(s, who["c10"], number, 30, "需等待劳动仲裁结果", "m01", "manager-pass",
                            now=at(2026, 11, 2))
        with opened.db.reading() as s:
            paper, _item, hall = papers.paper_for_ticket(s, number, "extension")
        paths["extension"] = out / "extension.pdf"
        TicketPaperRenderer("extension", paper, hall).render(paths["extension"])
        paths["notice"] = out / "notice.pdf"
        ReceptionNoticeRenderer(slots, hall, date(2026, 10, 12), date(2026, 10, 18), date(2026, 10, 12)).render(
            paths["notice"])
        yield number, detail, paths
    finally:
        opened.db.dispose()


@needs_pdftotext
def test_the_case_papers_say_what_the_case_recorded(printed):
    number, _detail, paths = printed
    accept = _text(paths["accept"])
    assert "信访事项受理告知书" in accept and number in accept and "2026年10月8日" in accept  # 告知期限
    assert "予以受理" in accept and "2026年11月17日" in accept  # the 60 日 办结 date
    four = _text(paths["four_fixed"])
    for text in ("四定一包责任书", "定领导", "刘书记", "定人员", "陈综治、王民政", "2026年11月10日前化解",
                 "约谈用人单位，督促补发拖欠工资", "包结案", "已移交县人社局"):
        assert text in four, text
    hearing = _text(paths["hearing"])
    for text in ("信访事项公开听证记录", "人大代表", "周代表", "法律专家", "律师", "当事人近亲属", "镇综治中心",
                 "用人单位同意11月5日前付清拖欠工资"):
        assert text in hearing, text
    for text in (accept, four, hearing):
        assert find_unmasked_identifiers(text) == []  # no ID number or full phone on a case paper


@needs_pdftotext
def test_the_extension_notice_counts_natural_days_under_the_petition_rules(printed):
    _number, _detail, paths = printed
    text = _text(paths["extension"])
    for part in ("延期告知书", "《信访工作条例》第三十二条", "2026年11月17日", "2026年12月17日", "需等待劳动仲裁结果",
                 "赵主任"):
        assert part in text, part
    assert "行政许可法" not in text


@needs_pdftotext
def test_the_reception_notice_lists_each_slot_with_its_room(printed):
    _number, _detail, paths = printed
    notice = _text(paths["notice"])
    for text in ("领导干部接访日安排", "2026年10月14日（周三）", "上午9:00—11:30", "刘书记", "镇党委书记",
                 "镇信访接待室", "劳资纠纷", "5（余4）"):
        assert text in notice, text


def test_a_paper_the_case_cannot_have_yet_is_refused(printed):
    _number, detail, _paths = printed
    from dataclasses import replace

    with pytest.raises(ValidationError, match="尚无听证"):
        PetitionPaperRenderer("hearing", replace(detail, hearings=()), papers.HallInfo("中心", "镇", "址", "1", "2"),
                              date(2026, 10, 20))
