"""涉法信访 papers: 受理告知书, 四定一包责任书, 公开听证（答询）记录, and the 领导接访日 public notice.

The case papers are :class:`~hall.print.sheet.Sheet` values laid out like every ticket paper
(:func:`hall.print.ticket_layout.sheet_blocks`); the reception notice is a public notice (no ticket number, no
personal data: leaders by name and post, which 挂牌上岗 posts anyway).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from reportlab.lib.units import mm

from hall.errors import ValidationError
from hall.print.base import SealArea, para, zh_date
from hall.print.data import HallInfo
from hall.print.direct import Block, Columns, DirectRenderer, Drawn, Gap
from hall.print.fastflow import PageOps
from hall.print.fonts import FontSet
from hall.print.sheet import Sheet, TableSection, TextSection
from hall.print.ticket_layout import section_flowables, sheet_blocks
from hall.services.cases.petition_views import CaseDetail, HearingView
from hall.services.registers.reception import SlotView

WEEKDAYS = "一二三四五六日"
KINDS = {"accept": "信访事项受理告知书", "four_fixed": "四定一包责任书", "hearing": "听证（答询）记录"}


def _due(d: date | None, provisional: bool) -> str:
    return (zh_date(d) + ("（暂定）" if provisional else "")) if d else "—"


def _head(c: CaseDetail) -> tuple[tuple[str, str], ...]:
    r = c.row
    return (("办件编号", r.number), ("信访人", r.petitioner), ("信访事项", c.item_name),
            ("登记日期", zh_date(r.received_on)), ("首办责任人", r.first_owner or "—"))


def accept_notice(c: CaseDetail, hall: HallInfo) -> list[Sheet]:
    r = c.row
    if r.accept_state == "pending":
        raise ValidationError("受理告知", f"信访件 {r.number} 尚未决定是否受理")
    told = zh_date(c.accept_told_on)
    if r.accept_state == "accepted":
        due = _due(r.due_date, r.due_provisional)
        statement = (f"你于{zh_date(r.received_on)}提出的信访事项，经审查，属于本机关职权范围，根据《信访工作条例》"
                     f"第二十四条的规定，决定予以受理。本机关将自受理之日起六十日内办结（{due}前）；情况复杂的，经批准可以适当延长办理期限，但延长期限不得超过三十日，并告知你延期理由。")
        title = "信访事项受理告知书"
    else:
        statement = (f"你于{zh_date(r.received_on)}提出的信访事项，经审查，{c.accept_note}。根据《信访工作条例》"
                     "的规定，本机关不予受理。你可以依照法律、法规规定的程序向有关机关提出，或者依法申请行政复议、"
                     "提起行政诉讼。")
        title = "信访事项不予受理告知书"
    return [Sheet(
        title=title, number=r.number, recipient=f"{r.petitioner}：", statements=(statement,),
        fields=(*_head(c), ("告知期限", _due(r.accept_due_on, False)), ("告知日期", told),
                ("告知内容", c.accept_note or "—"), ("服务电话", hall.service_phone),
                ("监督电话", hall.supervision_phone)),
        notes=("信访人对办理意见不服的，可以自收到书面答复之日起三十日内请求原办理机关的上一级机关复查。",),
        signatures=("信访人（签收）", "经办人（签字）"))]


def four_fixed(c: CaseDetail, hall: HallInfo) -> list[Sheet]:
    f = c.four_fixed
    if f is None:
        raise ValidationError("四定一包", f"信访件 {c.row.number} 尚未确定四定一包")
    rows = (("定领导", f.leader), ("定人员", "、".join(f.staff)), ("定时间", f"{zh_date(f.by_date)}前化解"),
            ("定措施", f.measures), ("包结案", f.pledge))
    return [Sheet(
        title="信访事项四定一包责任书", number=c.row.number,
        statements=(f"为依法及时就地解决{c.row.petitioner}反映的信访事项，落实首办责任制，经研究，对本案实行“四定一包”"
                    "（定领导、定人员、定时间、定措施、包结案），责任如下。",),
        fields=_head(c),
        sections=(TableSection("四定一包", ("项目", "内容"), rows, (1.2, 6.8)),
                  TextSection("办理进展", tuple(f"{zh_date(x.told_on)}（{x.channel}）{x.content}"
                                               for x in c.feedback) or ("（暂无）",))),
        notes=(f"确定日期：{zh_date(f.fixed_on)}；确定人：{f.fixed_by}。",
               "包案领导和责任人员未按期化解的，按责任追究制度处理。"),
        signatures=("包案领导（签字）", "责任人（签字）"))]


def hearing_record(c: CaseDetail, hearing: HearingView | None = None) -> list[Sheet]:
    h = hearing or (c.hearings[-1] if c.hearings else None)
    if h is None:
        raise ValidationError("听证记录", f"信访件 {c.row.number} 尚无听证（答询）记录")
    people = tuple((role, name, unit or "—") for role, name, unit in h.participants)
    return [Sheet(
        title=f"信访事项{h.form_label}记录", number=c.row.number,
        fields=(*_head(c), ("形式", h.form_label), ("日期", zh_date(h.held_on)), ("地点", h.place),
                ("主持人", h.host)),
        sections=(TableSection("参加人员", ("身份", "姓名", "单位"), people, (2, 2, 4)),
                  TextSection("听证（答询）情况", tuple(h.record.splitlines()) or ("—",)),
                  TextSection("结论", tuple(h.conclusion.splitlines()) or ("—",))),
        signatures=("主持人（签字）", "记录人（签字）", "参加人员（签字）"))]


def build_sheets(kind: str, c: CaseDetail, hall: HallInfo) -> list[Sheet]:
    if kind == "accept":
        return accept_notice(c, hall)
    if kind == "four_fixed":
        return four_fixed(c, hall)
    if kind == "hearing":
        return hearing_record(c)
    raise ValidationError("文书种类", f"不认识“{kind}”，可选：{'、'.join(KINDS)}")


class PetitionPaperRenderer(DirectRenderer):
    """One 信访 paper for one case on A4 (each sheet starts a page)."""

    def __init__(self, kind: str, case: CaseDetail, hall: HallInfo, issued: date,
                 fonts: FontSet | None = None) -> None:
        super().__init__(fonts)
        self.case, self.hall, self.issued = case, hall, issued
        self.sheets = build_sheets(kind, case, hall)
        self.title_meta = f"{self.sheets[0].title} {case.row.number}"

    def footer_left(self) -> str:
        return f"{self.hall.name}  监督投诉电话：{self.hall.supervision_phone}"

    def footer_right(self) -> str:
        return self.case.row.number

    def layout(self) -> list[PageOps]:
        pages = self.paginator()
        for sheet in self.sheets:
            pages.new_page()
            pages.flow(sheet_blocks(sheet, self.hall, self.issued, self.styles, self.fonts, self.frame_width))
        return pages.pages


class ReceptionNoticeRenderer(DirectRenderer):
    """领导干部接访日安排 (一把手接访日), posted on the 公示栏: who receives when and where, how many can book."""

    title_meta = "领导接访日安排"

    def __init__(self, slots: Sequence[SlotView], hall: HallInfo, since: date, until: date, issued: date,
                 fonts: FontSet | None = None) -> None:
        super().__init__(fonts)
        self.slots, self.hall, self.since, self.until, self.issued = list(slots), hall, since, until, issued

    def footer_left(self) -> str:
        return f"{self.hall.name}  咨询电话：{self.hall.service_phone}  监督电话：{self.hall.supervision_phone}"

    def layout(self) -> list[PageOps]:
        s, w = self.styles, self.frame_width
        rows = tuple((f"{zh_date(x.on_day)}（周{WEEKDAYS[x.on_day.weekday()]}）", x.slot, x.leader_name,
                      x.leader_post or "—", x.place, x.topic or "不限", f"{x.capacity}（余 {x.free}）")
                     for x in self.slots)
        blocks: list[Block] = [
            para(self.hall.name, s.hall), para("领导干部接访日安排", s.title),
            para(f"（{zh_date(self.since)}至{zh_date(self.until)}）", s.docno),
            para("为畅通群众诉求表达渠道，依法及时就地解决群众合理诉求，本镇实行领导干部接访日制度（一把手接访日）。"
                 "群众可到便民服务中心综治信访窗口或拨打咨询电话预约，每个时段按预约先后接待，约满为止。", s.body),
            Gap(3 * mm),
            *section_flowables(TableSection("接访安排", ("日期", "时段", "接访领导", "职务", "地点", "接访主题",
                                                     "可约人数"), rows, (2.4, 2.0, 1.3, 1.5, 1.9, 1.3, 1.2),
                                            empty_text="本期暂无接访安排"), s, w),
            Gap(2 * mm),
            para("预约须实名，同一信访人同一日只能预约一个时段；不能按时到场的，请提前取消预约。", s.small),
            Gap(4 * mm),
            Columns([(w - 50 * mm, []),
                     (50 * mm, [Drawn(SealArea(self.hall.issuer, self.issued, self.fonts, 50 * mm))])]),
        ]
        pages = self.paginator()
        pages.new_page()
        pages.flow(blocks)  # type: ignore[arg-type]
        return pages.pages
