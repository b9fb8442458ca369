"""Sample plain data for the print tests and the docs/papers renders (masked as the services mask)."""

from __future__ import annotations

from datetime import date, datetime

from hall.print.data import (
    Closure,
    DepartmentRequest,
    Extension,
    HallInfo,
    ItemNotice,
    MaterialLine,
    StaffBadge,
    TicketPaper,
)
from hall.services.base.masking import mask_id_for_receipt, mask_phone

FULL_ID = "11010519491231002X"
FULL_PHONE = "13812345678"
NUMBER = "320581101-000-20260305-0012"

HALL = HallInfo(
    name="虞山镇便民服务中心",
    township="虞山镇人民政府",
    address="虞山镇人民路 88 号便民服务中心一楼",
    service_phone="0512-52881234",
    supervision_phone="0512-52885678",
)

RECEIVED = (
    MaterialLine("城乡居民基本养老保险待遇领取申请表", "原件", 1, "窗口提供"),
    MaterialLine("居民身份证", "复印件", 1, "申请人自备"),
    MaterialLine("户口簿（户主页及本人页）", "复印件", 1, "申请人自备"),
    MaterialLine("本人银行卡或社保卡（金融账户）", "复印件", 1, "开户银行"),
)
MISSING = (
    MaterialLine("近期一寸免冠彩色照片", "原件", 2, "申请人自备", "白底"),
    MaterialLine("村（居）民委员会出具的情况证明", "原件", 1, "户籍所在地村委会"),
)


def ticket(**overrides: object) -> TicketPaper:
    base: dict[str, object] = dict(
        number=NUMBER,
        item_code="19",
        item_name="城乡居民基本养老保险待遇领取申请",
        kind="proxy",
        window="W03 人社就业与养老保险",
        applicant_name="张建国",
        applicant_id_masked=mask_id_for_receipt(FULL_ID),
        applicant_phone_masked=mask_phone(FULL_PHONE),
        applicant_address="张家村3组",
        accepted_at=datetime(2026, 3, 5, 9, 42),
        staff_name="李小梅",
        staff_no="YS0307",
        limit_text="承诺时限 15 个工作日（代办件：本中心 3 个工作日 + 县社保中心 12 个工作日）",
        due_date=date(2026, 3, 26),
        due_provisional=False,
        due_explanation="受理日 3月5日不计入；自 3月6日起计 15 个工作日，跳过周末，至 3月26日。",
        materials_received=RECEIVED,
        materials_missing=MISSING,
        supplement_due=date(2026, 3, 12),
        refusal_reasons=("申请人未达到城乡居民基本养老保险待遇领取年龄（年满 60 周岁）。",
                         "申请人已按月领取城镇职工基本养老保险待遇，不得重复领取。"),
        redirect_organ="县社会保险经办中心（职工养老保险窗口）",
        review_organ="常熟市人民政府",
        court="常熟市人民法院",
        forward_ask="请审核申请人待遇领取资格并核定待遇标准。",
        departments=(
            DepartmentRequest("县社保中心", "审核待遇领取资格、核定待遇", date(2026, 3, 23), "上报",
                              reference_no="CS-2026-0311"),
        ),
        extension=Extension(date(2026, 3, 26), date(2026, 4, 9), "需县社保中心核查申请人历年缴费记录",
                            "中心主任 王立新", date(2026, 3, 24)),
        closure=Closure("通过", "常社养核〔2026〕0123号", date(2026, 3, 25), "窗口领取",
                        datetime(2026, 3, 27, 10, 15), ""),
    )
    base.update(overrides)
    return TicketPaper(**base)  # type: ignore[arg-type]


def joint_ticket() -> TicketPaper:
    return ticket(
        item_code="59", item_name="农村村民宅基地和建房（规划许可）审批", kind="joint",
        window="W09 自然资源与村镇建设", limit_text="承诺时限 20 个工作日（联办件）", due_date=date(2026, 4, 2),
        departments=(
            DepartmentRequest("镇自然资源所", "审核是否符合国土空间规划和用途管制", date(2026, 3, 12), "主办"),
            DepartmentRequest("镇农业农村办", "审核宅基地申请资格、是否符合“一户一宅”", date(2026, 3, 12),
                              answered_on=date(2026, 3, 10), opinion="同意"),
            DepartmentRequest("镇村镇建设办", "审核建房设计图及施工安全", date(2026, 3, 17), due_provisional=False,
                              opinion="逾期视为认可"),
        ),
    )


def item_notice() -> ItemNotice:
    return ItemNotice(
        code="19", name="城乡居民基本养老保险待遇领取申请", window="W03 人社就业与养老保险", kind="proxy",
        legal_basis="《国务院关于建立统一的城乡居民基本养老保险制度的意见》（国发〔2014〕8号）；"
                    "《城乡居民基本养老保险经办规程》（人社部发〔2019〕84号）",
        conditions=("参加城乡居民基本养老保险、年满 60 周岁、累计缴费满 15 年；",
                    "未领取国家规定的基本养老保障待遇。"),
        procedure_steps=("申请人到窗口或村代办点提交申请", "窗口受理并一次性告知", "窗口初审并录入系统",
                         "上报县社保中心审核", "县社保中心核定待遇", "窗口通知申请人并送达结果", "归档、回访"),
        materials=(*RECEIVED, *MISSING),
        fee="不收费", limit_text="承诺时限 15 个工作日", place="便民服务中心一楼 W03 窗口",
        service_phone=HALL.service_phone, supervision_phone=HALL.supervision_phone,
        departments=("县社保中心",), staff_on_duty=("李小梅（A岗）", "周海（B岗）"),
    )


def badges(photo: str | None = None) -> list[StaffBadge]:
    names = [("李小梅", "人社窗口受理员"), ("周海", "人社窗口受理员（B岗）"), ("欧阳娜娜", "民政窗口受理员"),
             ("王立新", "中心主任"), ("陈静", "医保窗口受理员"), ("赵卫东", "退役军人服务专员"),
             ("孙丽", "综合受理窗口"), ("钱多多", "市场监管与税务代办")]
    return [StaffBadge(n, p, f"YS03{i:02d}", f"W{(i % 11) + 1:02d}", photo if i == 0 else None)
            for i, (n, p) in enumerate(names)]
