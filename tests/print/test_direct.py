"""The direct (no-platypus) layout: wrapping, pagination with split tables and texts, page operators."""

from __future__ import annotations

import dataclasses

import samples as S
from hypothesis import given, settings
from hypothesis import strategies as st
from pdf_tools import pdf_pages_text

from hall.print.data import MaterialLine
from hall.print.direct import Gap, Paginator
from hall.print.fastflow import Grid, KeepWithNext, PageOps, Text, text_width, wrap_text
from hall.print.fonts import cjk_fonts
from hall.print.notices import SixPublicRenderer


@settings(max_examples=80, deadline=None)
@given(st.text(alphabet="申请材料齐全、符合法定形式，（）“”《》ABC123×-. ", max_size=120),
       st.floats(min_value=40, max_value=300))
def test_wrap_keeps_every_character_and_fits_the_width(text, width):
    body = cjk_fonts().body
    lines = wrap_text(text, body, 10.5, width)
    assert "".join(lines) == text
    for line in lines:
        # A line may exceed the width only by one carried punctuation mark (避头尾) or as a single glyph.
        assert text_width(line, body, 10.5) <= width + 10.5 * 1.05 + 1e-6 or len(line) == 1


def test_paragraphs_each_start_a_line():
    body = cjk_fonts().body
    assert wrap_text("一\n二\n\n三", body, 10, 200) == ["一", "二", "", "三"]


def test_long_table_splits_with_its_header_repeated_and_heading_kept(tmp_path):
    many = tuple(MaterialLine(f"第{i}号证明材料（加盖公章的原件及复印件）", "原件", 1, "申请人自备")
                 for i in range(1, 61))
    item = dataclasses.replace(S.item_notice(), materials=many)
    out = tmp_path / "six.pdf"
    SixPublicRenderer([item], S.HALL).render(out)
    pages = pdf_pages_text(out)
    assert len(pages) >= 2
    assert all(f"第{n}页共{len(pages)}页" in p for n, p in enumerate(pages, start=1))
    with_header = [p for p in pages if "序号材料名称形式份数出具单位" in p]
    assert len(with_header) >= 2  # the header row repeats on the continuation page
    text = "".join(pages)
    for i in (1, 30, 60):
        assert f"第{i}号证明材料" in text
    assert text.index("第60号证明材料") < text.index("二、办事程序")


def test_paginator_spacing_and_page_breaks():
    fonts = cjk_fonts()
    pg = Paginator(0, 0, 200, 100)
    pg.new_page()
    head = Text("标题", fonts.heading, 12, 16, space_before=4, space_after=2)
    body = Text("\n".join(f"第{i}行" for i in range(10)), fonts.body, 10, 10)
    pg.flow([Gap(50), KeepWithNext(head, body)])
    # 50 of gap and 4 space before leave 46: the heading (16) and its 2 after leave room for two 10-pt lines.
    assert len(pg.pages) == 2
    first = [t for t in pg.pages[0].texts if t[4].startswith("第")]
    second = [t for t in pg.pages[1].texts if t[4].startswith("第")]
    assert len(first) == 2 and len(second) == 8
    assert second[0][3] > first[-1][3]  # continuation starts at the next page's top


def test_grid_emits_one_group_per_colour():
    fonts = cjk_fonts()
    g = Grid([["序号", "名称"], ["1", "申请表"], ["2", "身份证"]], [40, 120], fonts.body, fonts.heading,
             header_rows=1)
    g.wrap(160, 1000)
    ops = PageOps()
    g.emit(ops, 10, 10)
    assert len(ops.fills) == 1 and len(ops.strokes) == 1
    assert len(next(iter(ops.strokes.values()))) == 6 and len(ops.texts) == 6
