from __future__ import annotations

import pytest
import samples as S
from pdf_tools import needs_poppler, pdf_pages_text, pdf_text, pdffonts_rows

from hall.print.data import WindowBoard
from hall.print.flowchart import Flowchart
from hall.print.fonts import cjk_fonts
from hall.print.guard import UnmaskedIdentifierError, find_unmasked
from hall.print.notices import (
    BookletRenderer,
    FlowchartRenderer,
    SixPublicRenderer,
    StaffBoardRenderer,
    WindowBoardRenderer,
)


@pytest.fixture
def items(hall_sqlite):
    """The shipped catalogue as the hall prints it: seeded into a real database, read by the papers service."""
    from hall.services.reporting import papers

    with hall_sqlite.db.transaction() as s:
        return papers.item_notices(s)


def _public_outputs(items, tmp_path):
    boards = [WindowBoard("W03", "人社就业与养老保险", tuple(i for i in items if i.window.startswith("W03")),
                          tuple(S.badges()[:2]))]
    renderers = {
        "six": SixPublicRenderer([S.item_notice()], S.HALL),
        "booklet": BookletRenderer(items, S.HALL),
        "window": WindowBoardRenderer(boards, S.HALL),
        "staff": StaffBoardRenderer(S.badges(), S.HALL),
        "flow": FlowchartRenderer([S.item_notice(), *items[:3]], S.HALL),
    }
    out = {}
    for name, r in renderers.items():
        out[name] = tmp_path / f"{name}.pdf"
        r.render(out[name])
    return out


def test_every_public_sheet_is_free_of_identifiers_and_numbered(items, tmp_path):
    for name, path in _public_outputs(items, tmp_path).items():
        pages = pdf_pages_text(path)
        assert not find_unmasked("\n".join(pages)), name
        for n, text in enumerate(pages, start=1):
            assert f"第{n}页共{len(pages)}页" in text, (name, n)


def test_six_public_has_the_six_parts(tmp_path):
    out = tmp_path / "six.pdf"
    SixPublicRenderer([S.item_notice()], S.HALL).render(out)
    text = pdf_text(out)
    for needle in ["服务内容", "办事程序", "收费标准", "政策依据", "服务电话", "在岗人员", "不收费", "国发〔2014〕8号",
                   S.HALL.service_phone, "李小梅（A岗）", "上报县社保中心审核", "居民身份证"]:
        assert needle in text, needle


def test_booklet_contents_point_at_the_right_pages(items, tmp_path):
    out = tmp_path / "booklet.pdf"
    r = BookletRenderer(items, S.HALL)
    r.render(out)
    pages = pdf_pages_text(out)
    assert "目录" in pages[1]
    toc = "".join(pages[1:1 + r.toc_pages])
    assert len(pages) > 76 + r.toc_pages
    for item in items:
        # The contents line ends with the page number; that page starts the item's 六公开 sheet.
        start = r.start_pages[item.code]
        assert item.name.replace(" ", "") in toc
        assert f"事项编码{item.code}" in pages[start - 1]
        assert f"事项编码{item.code}" not in pages[start - 2]
    assert list(r.start_pages.values()) == sorted(r.start_pages.values())


def test_staff_board_never_shows_phones_or_ids(tmp_path):
    out = tmp_path / "staff.pdf"
    StaffBoardRenderer(S.badges(), S.HALL).render(out)
    text = pdf_text(out)
    for b in S.badges():
        assert b.name in text and b.staff_no in text and b.post in text
    assert "挂牌上岗" in text
    bad = S.badges()
    bad[0] = bad[0].__class__(bad[0].name, "受理员", S.FULL_ID, "W03")
    with pytest.raises(UnmaskedIdentifierError):
        StaffBoardRenderer(bad, S.HALL)


def test_staff_photo_is_drawn_when_present(tmp_path):
    from PIL import Image

    photo = tmp_path / "p.png"
    Image.new("RGB", (100, 130), (200, 210, 230)).save(photo)
    out = tmp_path / "staff.pdf"
    StaffBoardRenderer(S.badges(str(photo)), S.HALL).render(out)
    from pypdf import PdfReader

    assert len(PdfReader(str(out)).pages[0].images) == 1


def test_flowchart_uses_two_columns_for_many_long_steps():
    fonts = cjk_fonts()
    steps = tuple(f"第{i}步：窗口工作人员对申请材料进行审查核对并录入系统，必要时实地核查" for i in range(1, 15))
    chart = Flowchart(steps, fonts, 156 * 2.8346, 200 * 2.8346)
    assert chart.columns == 2
    assert chart.height <= 200 * 2.8346 + 30
    short = Flowchart(("申请", "受理", "办结"), fonts, 156 * 2.8346, 200 * 2.8346)
    assert short.columns == 1


def test_flowchart_page_text(tmp_path, items):
    out = tmp_path / "flow.pdf"
    FlowchartRenderer([S.item_notice()], S.HALL).render(out)
    text = pdf_text(out)
    assert "办事流程图" in text
    for step in S.item_notice().procedure_steps:
        assert step in text


@needs_poppler
def test_public_fonts_embedded(items, tmp_path):
    for name, path in _public_outputs(items[:5], tmp_path).items():
        assert all(r[-5] == "yes" for r in pdffonts_rows(path)), name
