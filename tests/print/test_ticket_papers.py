from __future__ import annotations

import re
from datetime import date

import pytest
import samples as S
from pdf_tools import decode_qr, needs_poppler, pdf_pages_text, pdf_text, pdffonts_rows

from hall.errors import ValidationError
from hall.print.guard import UnmaskedIdentifierError, find_unmasked
from hall.print.receipt80 import Receipt80Renderer
from hall.print.ticket_layout import TicketPaperRenderer
from hall.print.ticket_papers import PAPER_KINDS, build_sheets

COMMON = [S.NUMBER, S.HALL.name, "张建国", "第1页共", "盖章"]
REQUIRED = {
    "acceptance": ["受理通知书", "1101**********002X", "138****5678", "城乡居民基本养老保险待遇领取申请",
                   "居民身份证", "复印件", "2026年3月5日09:42", "2026年3月26日", "李小梅", S.HALL.supervision_phone,
                   "已收申请材料", "户口簿"],
    "notice": ["一次性告知单", "设定依据", "国发〔2014〕8号", "办理条件", "办理流程", "上报县社保中心审核",
               "村（居）民委员会出具的情况证明", "户籍所在地村委会", "不收费", "承诺时限15个工作日",
               "便民服务中心一楼W03窗口", S.HALL.service_phone, S.HALL.supervision_phone, "承办部门", "县社保中心"],
    "supplement": ["补正材料通知书", "近期一寸免冠彩色照片", "白底", "2026年3月12日", "逾期未补正的"],
    "refusal": ["不予受理通知书", "未达到城乡居民基本养老保险待遇领取年龄", "县社会保险经办中心", "行政复议",
                "行政诉讼", "常熟市人民政府", "常熟市人民法院"],
    "tolerance": ["容缺受理通知书", "容缺受理承诺书", "第一联", "第二联", "近期一寸免冠彩色照片",
                  "2026年3月12日", "终止办理"],
    "forward": ["转办（上报）单", "县社保中心", "审核待遇领取资格、核定待遇", "2026年3月23日", "答复期限"],
    "extension": ["延期告知书", "2026年3月26日", "2026年4月9日", "需县社保中心核查申请人历年缴费记录",
                  "中心主任王立新"],
    "closure": ["办结通知书", "送达回证", "通过", "常社养核〔2026〕0123号", "窗口领取", "2026年3月27日10:15",
                "受送达人（签收）"],
}


def _render(kind, tmp_path, renderer=TicketPaperRenderer):
    ticket = S.joint_ticket() if kind == "joint" else S.ticket()
    out = tmp_path / f"{kind}.pdf"
    renderer(kind, ticket, S.HALL, S.item_notice()).render(out)
    return out


@pytest.mark.parametrize("kind", [k for k in PAPER_KINDS if k != "joint"])
def test_paper_carries_every_required_field(kind, tmp_path):
    text = pdf_text(_render(kind, tmp_path))
    for needle in COMMON + REQUIRED[kind]:
        assert needle.replace(" ", "") in text, f"{kind}: missing {needle}"
    assert not find_unmasked(text)


def test_joint_copy_sheet_and_deemed_consent_page(tmp_path):
    pages = pdf_pages_text(_render("joint", tmp_path))
    text = "".join(pages)
    for needle in ["联办抄告单", "镇农业农村办", "镇村镇建设办", "2026年3月12日", "2026年3月17日",
                   "逾期未回复的，视为认可", "逾期视为认可记录", "逾期未回复，视为认可", "同意", "2026年3月10日"]:
        assert needle in text, needle
    assert "逾期视为认可记录" in pages[-1]


@pytest.mark.parametrize("kind", list(PAPER_KINDS))
def test_page_x_of_y(kind, tmp_path):
    pages = pdf_pages_text(_render(kind, tmp_path))
    for n, text in enumerate(pages, start=1):
        assert f"第{n}页共{len(pages)}页" in text


def test_acceptance_fits_one_page_and_tolerance_has_two_copies_each(tmp_path):
    assert len(pdf_pages_text(_render("acceptance", tmp_path))) == 1
    pages = pdf_pages_text(_render("tolerance", tmp_path))
    assert sum("容缺受理通知书" in p for p in pages) == 2 and sum("容缺受理承诺书" in p for p in pages) == 2


@needs_poppler
@pytest.mark.parametrize("kind", ["acceptance", "notice", "closure"])
def test_fonts_embedded(kind, tmp_path):
    rows = pdffonts_rows(_render(kind, tmp_path))
    assert rows
    for row in rows:
        assert row[-5] == "yes", row  # emb column


@needs_poppler
def test_qr_decodes_to_ticket_number(tmp_path):
    assert decode_qr(_render("acceptance", tmp_path)) == [S.NUMBER]


@needs_poppler
def test_roll80_receipt_is_one_page_sized_to_content(tmp_path):
    out = _render("acceptance", tmp_path, Receipt80Renderer)
    from pypdf import PdfReader

    page = PdfReader(str(out)).pages[0]
    width_mm = float(page.mediabox.width) / 72 * 25.4
    height_mm = float(page.mediabox.height) / 72 * 25.4
    assert round(width_mm) == 80 and 120 < height_mm < 400
    text = pdf_text(out)
    for needle in ["受理通知书（回执）", S.NUMBER, "1101**********002X", "138****5678", "2026年3月26日", "第1页共1页"]:
        assert needle in text
    assert decode_qr(out, dpi=200) == [S.NUMBER]
    assert all(r[-5] == "yes" for r in pdffonts_rows(out))


def test_unmasked_applicant_id_is_refused():
    with pytest.raises(UnmaskedIdentifierError):
        TicketPaperRenderer("acceptance", S.ticket(applicant_id_masked=S.FULL_ID), S.HALL)
    with pytest.raises(UnmaskedIdentifierError):
        Receipt80Renderer("acceptance", S.ticket(applicant_phone_masked=S.FULL_PHONE), S.HALL)


def test_missing_inputs_are_named_in_chinese():
    with pytest.raises(ValidationError, match="一次性告知单"):
        TicketPaperRenderer("notice", S.ticket(), S.HALL, None)
    with pytest.raises(ValidationError, match="文书种类"):
        TicketPaperRenderer("nonsense", S.ticket(), S.HALL)
    with pytest.raises(ValidationError, match="不予受理理由"):
        TicketPaperRenderer("refusal", S.ticket(refusal_reasons=()), S.HALL)


def test_provisional_deadline_is_marked(tmp_path):
    out = tmp_path / "p.pdf"
    TicketPaperRenderer("acceptance", S.ticket(due_date=date(2027, 1, 8), due_provisional=True), S.HALL).render(out)
    assert re.search("暂定", pdf_text(out))


@pytest.mark.parametrize("kind", list(PAPER_KINDS))
def test_roll80_every_kind_is_one_page_per_sheet_with_the_same_text(kind, tmp_path):
    # The roll lays the same sheets out in one column, each sheet (and each copy) a page sized to its content.
    pages = pdf_pages_text(_render(kind, tmp_path, Receipt80Renderer))
    n = len(build_sheets(kind, S.joint_ticket() if kind == "joint" else S.ticket(), S.HALL, S.item_notice()))
    assert len(pages) == n and f"第1页共{n}页" in pages[0]
    for needle in [S.NUMBER, S.HALL.name, *REQUIRED.get(kind, [])]:
        assert needle.replace(" ", "") in "".join(pages), f"{kind}: missing {needle}"
