"""Per-ticket papers (文书): what each one says, as sheets (domain-rules.md §4, 行政许可法 §32).

``build_sheets(kind, ticket, hall, item)`` returns the sheets; :mod:`hall.print.ticket_layout` draws them
on A4 and :mod:`hall.print.receipt80` on the 80 mm roll. The applicant's ID and phone arrive masked and
are checked again here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from hall.errors import ValidationError
from hall.print.base import zh_date, zh_datetime
from hall.print.data import HallInfo, ItemNotice, MaterialLine, TicketPaper
from hall.print.guard import check_ticket_masked
from hall.print.sheet import Sheet, TableSection, TextSection

MATERIAL_HEADER = ("序号", "材料名称", "形式", "份数", "出具单位")
MATERIAL_WIDTHS = (0.8, 4.6, 2.2, 0.8, 2.1)


@dataclass(frozen=True)
class PaperKind:
    code: str
    title: str
    build: Callable[[TicketPaper, HallInfo, ItemNotice | None], list[Sheet]]
    needs_item: bool = False


def _q(name: str) -> str:
    """An item name in quotes, unless it already opens with its own (“身后一件事”联办 …)."""
    return name if name.startswith("“") else f"“{name}”"


def _due_text(t: TicketPaper) -> str:
    if t.due_date is None:
        return "当场办结" if t.kind in ("immediate", "explain") else "—"
    text = zh_date(t.due_date) + " 下班前"
    if t.due_provisional:
        text += "（暂定：该年度节假日安排尚未公布，公布后重新计算）"
    return text


def _material_rows(materials: tuple[MaterialLine, ...]) -> tuple[tuple[str, ...], ...]:
    return tuple((str(i), m.name + (f"（{m.note}）" if m.note else ""), m.form, str(m.count), m.issuer or "申请人")
                 for i, m in enumerate(materials, start=1))


def _applicant_fields(t: TicketPaper) -> list[tuple[str, str]]:
    rows = [("申请人", t.applicant_name)]
    if t.applicant_id_masked:
        rows.append(("证件号码", t.applicant_id_masked))
    if t.applicant_phone_masked:
        rows.append(("联系电话", t.applicant_phone_masked))
    if t.applicant_address:
        rows.append(("住址", t.applicant_address))
    if t.agent_name:
        agent = t.agent_name
        if t.agent_id_masked:
            agent += f"（证件号码 {t.agent_id_masked}）"
        if t.agent_phone_masked:
            agent += f"（电话 {t.agent_phone_masked}）"
        rows.append(("代理人/经办人", agent))
    return rows


def _head_fields(t: TicketPaper) -> list[tuple[str, str]]:
    # The ticket number heads every sheet (text and QR), so it is not repeated in the grid.
    return [("事项名称", f"{t.item_code} {t.item_name}"), ("办件类型", t.kind_zh), ("受理窗口", t.window)]


def _phones(hall: HallInfo) -> tuple[str, str]:
    return ("咨询电话", hall.service_phone), ("监督投诉电话", hall.supervision_phone)


def _staff(t: TicketPaper) -> str:
    return t.staff_name + (f"（工号 {t.staff_no}）" if t.staff_no else "")


def _salute(t: TicketPaper) -> str:
    return f"{t.applicant_name}："


def acceptance(t: TicketPaper, hall: HallInfo, item: ItemNotice | None) -> list[Sheet]:
    fields = [*_head_fields(t), *_applicant_fields(t), ("受理时间", zh_datetime(t.accepted_at)),
              ("受理人", _staff(t)), ("承诺时限", t.limit_text or "—"), ("承诺办结日期", _due_text(t)),
              *((("收费", t.fee_text),) if t.fee_text else ()), *_phones(hall)]
    notes = ["请妥善保管本通知书，凭本通知书和有效身份证件查询进度、领取办理结果。",
             f"办公时间：{hall.office_hours}。"]
    notes.append(f"办结日期计算说明：{t.due_explanation}" if t.due_explanation
                 else "受理当日不计入办理时限；法定节假日不计入工作日。")
    return [Sheet(
        title="受理通知书", number=t.number, recipient=_salute(t),
        statements=(f"你（单位）于{zh_datetime(t.accepted_at)}提出的{_q(t.item_name)}申请，经审查，申请材料齐全、"
                    "符合法定形式，根据《中华人民共和国行政许可法》第三十二条的规定，决定予以受理。",),
        fields=tuple(fields),
        sections=(TableSection("已收申请材料", MATERIAL_HEADER, _material_rows(t.materials_received),
                               MATERIAL_WIDTHS),),
        notes=tuple(notes), signatures=("申请人（签收）", "受理人（签字）"))]


def one_time_notice(t: TicketPaper, hall: HallInfo, item: ItemNotice | None) -> list[Sheet]:
    if item is None:
        raise ValidationError("一次性告知单", "需要事项的办事指南（法律依据、条件、流程、材料）")
    received = {m.name for m in t.materials_received}
    rows = tuple((str(i), m.name, m.form, str(m.count), m.issuer or "申请人",
                  "已收" if m.name in received else "需提交") for i, m in enumerate(item.materials, start=1))
    sections: list[TableSection | TextSection] = [
        TextSection("一、设定依据", (item.legal_basis,)),
        TextSection("二、办理条件", item.conditions, numbered=True),
        TextSection("三、办理流程", item.procedure_steps, numbered=True),
        TableSection("四、申请材料（全部）", (*MATERIAL_HEADER, "本次情况"), rows, (0.8, 3.9, 2.2, 0.8, 1.9, 1.4)),
    ]
    if item.departments:
        sections.append(TextSection("五、联办/承办部门" if item.kind == "joint" else "五、承办部门", item.departments))
    fields = [("事项名称", f"{item.code} {item.name}"), ("办件类型", item.kind_zh),
              ("办理窗口", item.window), ("办理地点", item.place), ("办理时限", item.limit_text),
              ("收费标准", item.fee), ("咨询电话", item.service_phone), ("监督投诉电话", item.supervision_phone),
              ("告知人", _staff(t)), ("告知时间", zh_datetime(t.accepted_at))]
    return [Sheet(
        title="一次性告知单", number=t.number, recipient=_salute(t),
        statements=(f"你（单位）咨询/申请办理的{_q(item.name)}事项，现将办理依据、条件、流程和所需全部材料一次性告知如下。"
                    "请按本告知单准备材料；本中心不得要求提交本告知单以外的材料。",),
        fields=tuple(fields), sections=tuple(sections),
        notes=("材料形式“原件”须现场核验后退还；“复印件”请使用 A4 纸并由申请人签名。",),
        signatures=("申请人（签收）", "告知人（签字）"))]


def supplement(t: TicketPaper, hall: HallInfo, item: ItemNotice | None) -> list[Sheet]:
    if t.supplement_due:
        due = zh_date(t.supplement_due) + ("（暂定：该年节假日安排尚未确认）" if t.supplement_due_provisional else "")
    else:
        due = "收到本通知书之日起 5 日内（最后一日为节假日的，顺延至节假日后的第一个工作日）"
    if t.supplement_stage == "handling":
        asked = zh_date(t.supplement_requested_on) if t.supplement_requested_on else zh_date(t.paper_date)
        statement = (f"你（单位）于{zh_datetime(t.accepted_at)}提出的{_q(t.item_name)}申请已于受理后进入办理，"
                     f"经审查，需要你（单位）补正下列材料。根据《中华人民共和国行政许可法》第三十二条及一次性告知制度，"
                     f"现一次性告知需要补正的全部材料，请于{due}前补正：")
        notes = (f"自{asked}起至收到全部补正材料之日止，不计入办理时限；收到全部补正材料后恢复计时，"
                 f"承诺办结日期相应顺延。",
                 f"逾期未补正的，本中心将依据现有材料作出决定，因材料不全可能决定不予批准（办结不通过）；"
                 f"你（单位）可以重新提出申请。补正期限：{due}。",
                 "补正期限按自然日计算，最后一日为法定节假日的，顺延至节假日后的第一个工作日（《中华人民共和国民法典》"
                 "第二百零三条）。")
    else:
        statement = (f"你（单位）于{zh_datetime(t.accepted_at)}提出的{_q(t.item_name)}申请，经审查，申请材料不齐全或者"
                     "不符合法定形式。根据《中华人民共和国行政许可法》第三十二条第一款第（四）项的规定，现一次性告知"
                     f"你（单位）需要补正的全部材料，请于{due}前补正：")
        notes = ("补正期间不计入办理时限，收到全部补正材料的次日起重新计算。",
                 f"逾期未补正的，视为放弃本次申请，申请材料予以退回；你（单位）可以重新提出申请。补正期限：{due}。")
    return [Sheet(
        title="补正材料通知书", number=t.number, recipient=_salute(t),
        statements=(statement,),
        fields=(*_head_fields(t), ("申请人", t.applicant_name), ("补正期限", due), ("经办人", _staff(t)),
                *((("补正原因", t.supplement_reason),) if t.supplement_reason else ()), *_phones(hall)),
        sections=(TableSection("需补正材料", MATERIAL_HEADER, _material_rows(t.materials_missing),
                               MATERIAL_WIDTHS),),
        notes=notes,
        signatures=("申请人（签收）", "经办人（签字）"))]


def refusal(t: TicketPaper, hall: HallInfo, item: ItemNotice | None) -> list[Sheet]:
    if not t.refusal_reasons:
        raise ValidationError("不予受理理由", "不予受理必须写明理由")
    review = t.review_organ or f"{hall.township}的上一级人民政府"
    court = t.court or "有管辖权的人民法院"
    redirect = (f"该申请事项依法不属于本机关职权范围，请向{t.redirect_organ}提出申请。" if t.redirect_organ
                else "")
    return [Sheet(
        title="不予受理通知书", number=t.number, recipient=_salute(t),
        statements=(f"你（单位）于{zh_datetime(t.accepted_at)}提出的{_q(t.item_name)}申请，经审查，因下列理由，"
                    "根据《中华人民共和国行政许可法》第三十二条的规定，决定不予受理：",),
        fields=(*_head_fields(t), ("申请人", t.applicant_name), ("经办人", _staff(t)), *_phones(hall)),
        sections=(TextSection("不予受理理由", t.refusal_reasons, numbered=True),
                  TextSection("应向何机关申请", (t.redirect_organ or "本事项无需改向其他机关申请",)),
                  TextSection("救济途径", (
                      f"{redirect}如不服本决定，可以自收到本通知书之日起六十日内向{review}申请行政复议，"
                      f"或者自收到本通知书之日起六个月内向{court}提起行政诉讼。",))),
        signatures=("申请人（签收）", "经办人（签字）"))]


def tolerance(t: TicketPaper, hall: HallInfo, item: ItemNotice | None) -> list[Sheet]:
    if not t.materials_missing:
        raise ValidationError("容缺材料", "容缺受理至少要列出一项暂缺的次要材料")
    due = zh_date(t.supplement_due) if t.supplement_due else "—"
    rows = _material_rows(t.materials_missing)
    sheets = []
    for copy in ("第一联（申请人留存）", "第二联（窗口存档）"):
        sheets.append(Sheet(
            title="容缺受理通知书", number=t.number, recipient=_salute(t), copy_label=copy,
            statements=(f"你（单位）于{zh_datetime(t.accepted_at)}提出的{_q(t.item_name)}申请，主要申请材料齐全，"
                        "下列次要材料暂缺。根据容缺受理制度，经你（单位）书面承诺，决定先予受理。"
                        f"请于{due}前补交下列材料：",),
            fields=(*_head_fields(t), ("申请人", t.applicant_name), ("补交期限", due),
                    ("承诺办结日期", _due_text(t)), ("受理人", _staff(t)), *_phones(hall)),
            sections=(TableSection("容缺材料", MATERIAL_HEADER, rows, MATERIAL_WIDTHS),),
            notes=("容缺材料补交期间暂停计算办理时限。",
                   f"逾期未补交的，终止办理，已作出的决定依法撤销，相应后果由申请人承担。补交期限：{due}。"),
            signatures=("申请人（签收）", "受理人（签字）")))
    for copy in ("第一联（申请人留存）", "第二联（窗口存档）"):
        sheets.append(Sheet(
            title="容缺受理承诺书", number=t.number, recipient=f"{hall.name}：", copy_label=copy,
            statements=(f"本人（单位）{t.applicant_name}申请办理{_q(t.item_name)}（办件编号 {t.number}），"
                        f"因下列次要材料暂缺，申请容缺受理。本人（单位）承诺于{due}前补交下列材料，并对所提交材料的"
                        "真实性负责；如未按期补交或者材料不实，自愿承担终止办理、撤销决定等全部后果。",),
            fields=(("申请人", t.applicant_name), ("证件号码", t.applicant_id_masked or "—"),
                    ("联系电话", t.applicant_phone_masked or "—"), ("补交期限", due)),
            sections=(TableSection("承诺补交材料", MATERIAL_HEADER, rows, MATERIAL_WIDTHS),),
            signatures=("承诺人（签字、捺印）",), seal=False))
    return sheets


def _department_rows(t: TicketPaper) -> tuple[tuple[str, ...], ...]:
    rows = []
    for i, d in enumerate(t.departments, start=1):
        due = zh_date(d.answer_due) + ("（暂定）" if d.due_provisional else "") if d.answer_due else "—"
        rows.append((str(i), f"{d.name}（{d.role}）", d.ask, due))
    return tuple(rows)


def forward(t: TicketPaper, hall: HallInfo, item: ItemNotice | None) -> list[Sheet]:
    if not t.departments:
        raise ValidationError("接收部门", "转办（上报）单必须写明接收部门")
    names = "、".join(d.name for d in t.departments)
    return [Sheet(
        title="转办（上报）单", number=t.number, recipient=f"{names}：",
        statements=(f"本中心于{zh_datetime(t.accepted_at)}受理的{_q(t.item_name)}申请，已完成受理初审，"
                    f"现按代办程序转报你单位办理。{t.forward_ask}请于答复期限前将办理结果（或你单位受理编号）反馈本中心"
                    f"{t.window}窗口，以便按时送达申请人。",),
        fields=(*_head_fields(t), ("申请人", t.applicant_name), ("受理时间", zh_datetime(t.accepted_at)),
                ("全程承诺办结日期", _due_text(t)), ("转报人", _staff(t)), *_phones(hall)),
        sections=(TableSection("接收部门及答复期限", ("序号", "接收部门", "请办理/答复事项", "答复期限"),
                               _department_rows(t), (0.7, 3.2, 4.4, 2.2)),
                  TableSection("随附材料", MATERIAL_HEADER, _material_rows(t.materials_received), MATERIAL_WIDTHS)),
        signatures=("移交人（签字）", "接收人（签字）"))]


def joint(t: TicketPaper, hall: HallInfo, item: ItemNotice | None) -> list[Sheet]:
    if not t.departments:
        raise ValidationError("协办部门", "联办抄告单必须列出协办部门")
    names = "、".join(d.name for d in t.departments if d.role != "主办")
    copy_sheet = Sheet(
        title="联办抄告单", number=t.number, recipient=f"{names}：",
        statements=(f"本中心于{zh_datetime(t.accepted_at)}受理{_q(t.item_name)}联办申请，按“一门受理、抄告相关、并联审批、"
                    "限时反馈”的要求抄告你单位。请于各自答复期限前反馈审核意见（同意 / 不同意 / 需补充）；"
                    "逾期未回复的，视为认可。",),
        fields=(*_head_fields(t), ("申请人", t.applicant_name), ("受理时间", zh_datetime(t.accepted_at)),
                ("全案承诺办结日期", _due_text(t)), ("主办经办人", _staff(t)), *_phones(hall)),
        sections=(TableSection("协办部门及答复期限", ("序号", "部门", "审核事项", "答复期限"), _department_rows(t),
                               (0.7, 3.2, 4.4, 2.2)),),
        notes=("答复期限：自抄告之日起 5 个工作日；需报上级审核的加 3 个工作日。",),
        signatures=("抄告人（签字）", "部门接收人（签字）"))
    record_rows = []
    for i, d in enumerate(t.departments, start=1):
        if d.opinion == "逾期视为认可" or (not d.opinion and d.answered_on is None):
            outcome = "逾期未回复，视为认可" if d.opinion else "尚未回复"
        else:
            outcome = d.opinion + (f"：{d.opinion_note}" if d.opinion_note else "")
        record_rows.append((str(i), d.name, zh_date(d.answer_due) if d.answer_due else "—",
                            zh_date(d.answered_on) if d.answered_on else "—", outcome))
    record_sheet = Sheet(
        title="联办审核意见及逾期视为认可记录", number=t.number,
        statements=("以下为各协办部门的答复情况。协办部门在答复期限届满未回复的，依照联办制度视为认可，"
                    "本记录作为主办窗口办结的依据，存档备查。",),
        fields=(("办件编号", t.number), ("事项名称", f"{t.item_code} {t.item_name}"), ("申请人", t.applicant_name)),
        sections=(TableSection("答复情况", ("序号", "部门", "答复期限", "答复日期", "意见/结果"), tuple(record_rows),
                               (0.7, 3.0, 2.1, 2.1, 3.0)),),
        signatures=("主办经办人（签字）", "中心负责人（签字）"))
    return [copy_sheet, record_sheet]


def _extension_basis(t: TicketPaper) -> str:
    """信访 items extend under 信访工作条例 §32 (60 日 + 30 日); every other item under 行政许可法 §42."""
    return "《信访工作条例》第三十二条" if "信访" in t.item_name else "《中华人民共和国行政许可法》第四十二条"


def extension(t: TicketPaper, hall: HallInfo, item: ItemNotice | None) -> list[Sheet]:
    ext = t.extension
    if ext is None:
        raise ValidationError("延期", "延期告知书需要原、新办结日期、理由和批准人")
    new_due = zh_date(ext.new_due) + ("（暂定）" if ext.new_due_provisional else "")
    return [Sheet(
        title="延期告知书", number=t.number, recipient=_salute(t),
        statements=(f"你（单位）于{zh_datetime(t.accepted_at)}提出的{_q(t.item_name)}申请，因{ext.reason}，"
                    f"不能在原承诺期限内办结。根据{_extension_basis(t)}的规定，经{ext.approver}批准，"
                    f"办理期限延长至{new_due}。特此告知。",),
        fields=(*_head_fields(t), ("申请人", t.applicant_name), ("原承诺办结日期", zh_date(ext.old_due)),
                ("延期后办结日期", new_due), ("延期理由", ext.reason), ("批准人", ext.approver),
                ("批准日期", zh_date(ext.approved_on)), ("经办人", _staff(t)), *_phones(hall)),
        signatures=("申请人（签收）", "经办人（签字）"))]


def closure(t: TicketPaper, hall: HallInfo, item: ItemNotice | None) -> list[Sheet]:
    cl = t.closure
    if cl is None:
        raise ValidationError("办结", "办结通知书需要办理结果和结果文书编号")
    delivered = zh_datetime(cl.delivered_at) if cl.delivered_at else "　　　　年　　月　　日　　时"
    notice = Sheet(
        title="办结通知书", number=t.number, recipient=_salute(t),
        statements=(f"你（单位）于{zh_datetime(t.accepted_at)}提出的{_q(t.item_name)}申请，已于{zh_date(cl.closed_on)}"
                    f"办结，办理结果为：{cl.result}。结果文书编号：{cl.result_doc_no}。",),
        fields=(*_head_fields(t), ("申请人", t.applicant_name), ("办理结果", cl.result),
                ("结果文书编号", cl.result_doc_no), ("办结日期", zh_date(cl.closed_on)),
                ("送达方式", cl.delivery_method or "窗口领取"), ("经办人", _staff(t)), *_phones(hall)),
        notes=("如对办理结果有异议，可以依法申请行政复议或者提起行政诉讼。欢迎对本次服务作出评价（好差评）。",),
        signatures=("申请人（签收）",))
    receipt = Sheet(
        title="送达回证", number=t.number, seal=True,
        fields=(("办件编号", t.number), ("送达文书名称及文号", f"办结通知书、{cl.result_doc_no}"),
                ("受送达人", cl.receiver_name or t.applicant_name), ("送达地点", hall.address),
                ("送达方式", cl.delivery_method or "窗口领取"), ("送达时间", delivered),
                ("办理结果", cl.result)),
        notes=("受送达人拒绝签收的，送达人应在备注栏注明情况，并由见证人签字。",),
        signatures=("受送达人（签收）", "送达人（签字）", "见证人（签字）"))
    return [notice, receipt]


PAPER_KINDS: dict[str, PaperKind] = {p.code: p for p in (
    PaperKind("acceptance", "受理通知书", acceptance),
    PaperKind("notice", "一次性告知单", one_time_notice, needs_item=True),
    PaperKind("supplement", "补正材料通知书", supplement),
    PaperKind("refusal", "不予受理通知书", refusal),
    PaperKind("tolerance", "容缺受理通知书", tolerance),
    PaperKind("forward", "转办（上报）单", forward),
    PaperKind("joint", "联办抄告单", joint),
    PaperKind("extension", "延期告知书", extension),
    PaperKind("closure", "办结通知书", closure),
)}


def build_sheets(kind: str, ticket: TicketPaper, hall: HallInfo, item: ItemNotice | None = None) -> list[Sheet]:
    paper = PAPER_KINDS.get(kind)
    if paper is None:
        raise ValidationError("文书种类", f"不认识“{kind}”，可选：{'、'.join(PAPER_KINDS)}")
    check_ticket_masked(ticket)
    return paper.build(ticket, hall, item)
