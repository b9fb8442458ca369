"""Plain data the paper renderers draw: frozen dataclasses, no ORM, no database, no reportlab.

It lives in the services layer because :mod:`hall.services.reporting.papers` builds it from tickets and the catalogue
(services may not import ``hall.print``); :mod:`hall.print.data` re-exports it for the renderers. Masking
happens before the data is built (``hall.services.base.masking``), and :mod:`hall.print.guard` re-checks it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

KIND_ZH = {
    "explain": "解释件",
    "immediate": "即办件",
    "promised": "承诺件",
    "proxy": "代办件",
    "joint": "联办件",
}

MATERIAL_FORMS = ("原件", "复印件", "原件及复印件", "电子件")


@dataclass(frozen=True)
class HallInfo:
    name: str  # 便民服务中心 full name, printed on every paper
    township: str  # issuing township government (for the seal line)
    address: str
    service_phone: str  # 咨询电话
    supervision_phone: str  # 监督投诉电话
    office_hours: str = "法定工作日 上午 8:30—12:00，下午 14:00—17:30"
    seal_text: str = ""  # the issuer line under the seal (落款); empty: ``name``

    @property
    def issuer(self) -> str:
        return self.seal_text or self.name


@dataclass(frozen=True)
class MaterialLine:
    name: str
    form: str = "原件"  # one of MATERIAL_FORMS
    count: int = 1
    issuer: str = ""  # who issues it (出具单位), e.g. 申请人自备 / 村委会
    note: str = ""


@dataclass(frozen=True)
class DepartmentRequest:
    """A department a ticket is forwarded to (代办件) or copied to (联办件 抄告)."""

    name: str
    ask: str  # what is asked of it
    answer_due: date | None
    role: str = "协办"  # 主办 / 协办 / 上报
    due_provisional: bool = False
    reference_no: str = ""  # the department's own number
    answered_on: date | None = None
    opinion: str = ""  # 同意 / 不同意 / 需补充 / 逾期视为认可 ("" = not answered yet)
    opinion_note: str = ""


@dataclass(frozen=True)
class Extension:
    old_due: date
    new_due: date
    reason: str
    approver: str
    approved_on: date
    new_due_provisional: bool = False


@dataclass(frozen=True)
class Closure:
    result: str  # 通过 / 容缺通过 / 不通过 …
    result_doc_no: str  # 结果文书编号
    closed_on: date
    delivery_method: str = ""  # 窗口领取 / 邮寄 / 村代办员送达 …
    delivered_at: datetime | None = None
    receiver_name: str = ""  # who received it (blank: to sign on paper)


@dataclass(frozen=True)
class TicketPaper:
    """Everything any per-ticket paper needs; papers pick the fields their §4 row requires."""

    number: str
    item_code: str
    item_name: str
    kind: str  # explain / immediate / promised / proxy / joint
    window: str  # "W03 人社就业与养老保险"
    applicant_name: str
    applicant_id_masked: str  # 3201**********1234, already masked
    applicant_phone_masked: str  # 138****5678, already masked
    accepted_at: datetime
    staff_name: str  # 受理人
    applicant_address: str = ""  # village/group only
    agent_name: str = ""
    agent_id_masked: str = ""
    agent_phone_masked: str = ""
    staff_no: str = ""
    limit_text: str = ""  # "承诺时限 15 个工作日"
    due_date: date | None = None
    due_provisional: bool = False
    due_explanation: str = ""
    materials_received: tuple[MaterialLine, ...] = ()
    materials_missing: tuple[MaterialLine, ...] = ()  # to supply (补正) or tolerated (容缺)
    supplement_due: date | None = None  # deadline for 补正 / 容缺 materials
    supplement_due_provisional: bool = False  # the deadline falls in a year whose calendar is not confirmed
    supplement_stage: str = "intake"  # intake | handling (补正 after acceptance: the clock is stopped meanwhile)
    supplement_requested_on: date | None = None
    supplement_reason: str = ""  # why the 补正 during handling was needed (the clerk's note)
    refusal_reasons: tuple[str, ...] = ()
    fee_text: str = ""  # 一次性收费: "免费", or the amount taken with its receipt number and payer
    redirect_organ: str = ""  # where to apply instead (不予受理)
    review_organ: str = ""  # 行政复议机关
    court: str = ""  # 人民法院 for 行政诉讼
    forward_ask: str = ""  # what the higher department is asked (转办/上报)
    departments: tuple[DepartmentRequest, ...] = ()
    extension: Extension | None = None
    closure: Closure | None = None
    issued_on: date | None = None  # paper date; defaults to the acceptance day

    @property
    def kind_zh(self) -> str:
        return KIND_ZH.get(self.kind, self.kind)

    @property
    def paper_date(self) -> date:
        return self.issued_on or self.accepted_at.date()


@dataclass(frozen=True)
class ItemNotice:
    """One item's public guide (六公开 / 一次性告知): nothing personal in it."""

    code: str
    name: str
    window: str  # "W02 民政事务"
    kind: str
    legal_basis: str
    conditions: tuple[str, ...]
    procedure_steps: tuple[str, ...]
    materials: tuple[MaterialLine, ...]
    fee: str
    limit_text: str  # "承诺时限 30 个工作日（法定时限 …）"
    place: str
    service_phone: str
    supervision_phone: str
    departments: tuple[str, ...] = ()  # co-departments (联办) or the handling department (代办)
    staff_on_duty: tuple[str, ...] = ()  # names (and posts) as posted in the hall
    note: str = ""

    @property
    def kind_zh(self) -> str:
        return KIND_ZH.get(self.kind, self.kind)


@dataclass(frozen=True)
class StaffBadge:
    """挂牌上岗: never a personal ID number or phone."""

    name: str
    post: str
    staff_no: str
    window: str
    photo_path: str | None = None
    b_post: str = ""  # 代理岗 (职位代理制)
    photo: bytes | None = None  # the JPEG chosen in 管理 → 工作人员 (preferred over ``photo_path``)
    resume: str = ""  # 简历: a few lines under the name
    vanguard: bool = False  # (党员)先锋岗: marked on the badge


@dataclass(frozen=True)
class WindowBoard:
    code: str  # W03
    name: str
    items: tuple[ItemNotice, ...]
    staff: tuple[StaffBadge, ...] = field(default_factory=tuple)


# The paper kinds (domain-rules.md §4) by code, as the CLI, the counter UI and the ledger name them.
PAPER_TITLES: dict[str, str] = {
    "acceptance": "受理通知书",
    "notice": "一次性告知单",
    "supplement": "补正材料通知书",
    "refusal": "不予受理通知书",
    "tolerance": "容缺受理通知书",
    "forward": "转办（上报）单",
    "joint": "联办抄告单",
    "extension": "延期告知书",
    "closure": "办结通知书",
}
# Other names callers use for the same papers (intake's IntakeResult.papers says one_time_notice/completion).
PAPER_ALIASES: dict[str, str] = {
    "one_time_notice": "notice", "completion": "closure", "delivery": "closure", "receipt": "acceptance",
}


def limit_text(kind: str, limit: int, unit: str, statutory: int | None = None) -> str:
    """The time limit as the public reads it: "承诺时限 15 个工作日（法定时限 20 个工作日）"."""
    if kind == "explain":
        return "当场答复（解释件）"
    if limit <= 0:
        return "当场办结（即办件）"
    unit_zh = "个工作日" if unit == "workday" else "日（自然日，末日为节假日的顺延）"
    text = f"承诺时限 {limit} {unit_zh}"
    if statutory and statutory > limit:
        text += f"（法定时限 {statutory} {'个工作日' if unit == 'workday' else '日'}）"
    return text


def default_procedure(kind: str, handled_by: str = "") -> tuple[str, ...]:
    """The standard steps of each kind (domain-rules.md §2) when an item has no steps of its own."""
    dept = handled_by or "上级主管部门"
    return {
        "explain": ("申请人到窗口咨询", "窗口登记咨询事项", "窗口解答政策并一次性告知办理要求",
                    "出具一次性告知单", "登记归档"),
        "immediate": ("申请人提交申请材料", "窗口审核材料（材料不全的一次性告知）", "当场办结并出具办理结果",
                      "申请人评价（好差评）", "登记归档"),
        "promised": ("申请人提交申请材料", "窗口审查材料，出具受理通知书（材料不全的出具补正材料通知书）",
                     "承办人审查（需现场核查的，实地核查）", "作出办理决定", "送达办理结果", "评价、归档"),
        "proxy": ("委托：申请人填写代办委托", "受理：窗口受理并初审材料，出具受理通知书",
                  f"办理：窗口将申请材料转报{dept}", f"跟踪：窗口跟踪{dept}办理进度",
                  "送达：取回办理结果，通知申请人领取或送达", "归档：整理办件材料归档",
                  "上报：按要求报送代办情况", "回访：回访申请人，听取评价"),
        "joint": ("一门受理：主办窗口统一收件、受理", f"抄告相关：抄告协办部门（{dept}）",
                  "并联审批：各协办部门自抄告之日起 5 个工作日内反馈意见（需上级审核的加 3 个工作日），逾期视为认可",
                  "主办窗口汇总意见、作出决定", "限时反馈：送达办理结果", "归档、回访"),
    }.get(kind, ("申请人提交申请", "窗口受理", "办理", "送达结果"))
