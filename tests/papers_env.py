"""Real tickets for the paper tests and the docs/papers renders, built only through the services.

``build(opened, people)`` registers, on the 2026 calendar, one ticket for each paper the hall prints and
returns their numbers by paper kind. Proxy and joint cases go through the workflow services (forward,
department result, extension, close, deliver; copy, opinion, deemed-consent sweep).
"""

from __future__ import annotations

from datetime import date, datetime

from hall.models.base import Base
from hall.services.catalog import items as catalog
from hall.services.people import staff
from hall.services.storage import settings
from hall.services.tickets import intake

ZHANG = intake.ApplicantForm("person", "11010519491231002X", "张建国", "13812345678",
                             "虞山镇张家村3组人民路18号")
LI = intake.ApplicantForm("person", "440524188001010014", "李秀英", "13900001111", "西村1组")
FULL_IDS = ("11010519491231002X", "440524188001010014")
FULL_PHONES = ("13812345678", "13900001111")


def actors(opened) -> dict:
    """Actors for the template hall's staff (the conftest's ``people`` without its fixture)."""
    with opened.db.transaction() as s:
        return {no: staff.actor_for(staff.by_number(s, no), opened.node) for no in ("admin", "c02", "c03", "m01")}


def prepare(opened, people: dict) -> dict:
    """Workflow tables (not in the migration yet), the hall's own settings, W05/W09 clerks; actors by number."""
    Base.metadata.create_all(opened.db.engine)
    with opened.db.transaction() as s:
        settings.set_values(s, opened.system, {
            "hall_name": "虞山镇便民服务中心", "township_name": "虞山镇",
            "hall_address": "虞山镇人民路88号便民服务中心一楼", "service_phone": "0512-52881234",
            "supervision_phone": "0512-52885678"})
        staff.add_staff(s, opened.system, staff.StaffForm("c05", "周卫健", "clerk", "卫健窗口受理员", "W05",
                                                          b_post_no="c02"))
        staff.add_staff(s, opened.system, staff.StaffForm("c09", "吴村建", "clerk", "村建窗口受理员", "W09"))
        extra = {no: staff.actor_for(staff.by_number(s, no), opened.node) for no in ("c05", "c09")}
    return {**people, **extra}


def _register(opened, actor, code: str, now: datetime, applicant=ZHANG, **kw) -> intake.IntakeResult:
    with opened.db.transaction() as s:
        marks = {m["name"]: "received" for m in catalog.current_item(s, code).materials}
        marks.update(kw.pop("materials", {}))
        return intake.register(s, actor, intake.IntakeForm(code, applicant, materials=marks, **kw), now=now)


def tolerance_ticket(opened, who: dict) -> str:
    """社会保障卡申领、补换 (22, W03): photo tolerated (容缺受理) — the paper with the most sheets."""
    with opened.db.transaction() as s:
        photo = next(m["name"] for m in catalog.current_item(s, "22").materials if m.get("tolerable"))
    r = _register(opened, who["c03"], "22", datetime(2026, 3, 5, 14, 30), materials={photo: "tolerated"})
    assert r.state == "accepted" and r.tolerated, r
    return r.number


def build(opened, who: dict) -> dict[str, str]:
    from hall.services.cases import joint, proxy, workflow

    out: dict[str, str] = {}
    # 城乡居民基本养老保险待遇领取申请 (19, W03, proxy to 县社保中心): accepted, forwarded, extended, closed,
    # delivered.
    r = _register(opened, who["c03"], "19", datetime(2026, 3, 5, 9, 42))
    n = out["acceptance"] = out["forward"] = out["extension"] = out["closure"] = r.number
    with opened.db.transaction() as s:
        proxy.forward(s, who["c03"], n, "县社保中心", how_sent="专人报送", note="请核定待遇标准",
                      now=datetime(2026, 3, 6, 10))
        proxy.record_reference(s, who["c03"], n, "CS-2026-0311", now=datetime(2026, 3, 9, 9))
    with opened.db.transaction() as s:
        workflow.extend(s, who["c03"], n, 5, "需县社保中心核查申请人历年缴费记录", "m01", "manager-pass",
                        now=datetime(2026, 3, 20, 9))
    with opened.db.transaction() as s:
        proxy.department_returned(s, who["c03"], n, "approved", "符合领取条件，自2026年4月起按月发放",
                                  returned_on=date(2026, 3, 25), result_doc_no="常社养核〔2026〕0123号",
                                  now=datetime(2026, 3, 25, 16))
    with opened.db.transaction() as s:
        workflow.close(s, who["c03"], n, "approved", "准予按月领取城乡居民基本养老保险待遇",
                       result_doc_no="常社养核〔2026〕0123号", now=datetime(2026, 3, 26, 10))
        workflow.deliver(s, who["c03"], n, "当面领取", "张建国", doc_no="SD-2026-0041",
                         now=datetime(2026, 3, 27, 10, 15))
    # 最低生活保障申请 (07, W02): two materials missing → 补正材料通知书 + 一次性告知单.
    with opened.db.transaction() as s:
        mats = [m["name"] for m in catalog.current_item(s, "07").materials]
    r = _register(opened, who["c02"], "07", datetime(2026, 3, 5, 10, 5), applicant=LI,
                  materials={mats[-1]: "missing", mats[-2]: "missing"})
    assert r.state == "supplement", r
    out["supplement"] = out["notice"] = r.number
    # 临时救助申请 (09, W02): refused with reasons and the organ to apply to instead.
    r = _register(opened, who["c02"], "09", datetime(2026, 3, 5, 11, 20), applicant=LI, decision="refuse",
                  refusal_reason="申请人家庭不属于因突发事件导致基本生活陷入困境的情形。\n"
                                 "申请人已于2026年2月获得同一事由的临时救助。",
                  redirect_organ="县民政局社会救助科")
    out["refusal"] = r.number
    out["tolerance"] = tolerance_ticket(opened, who)
    # 新生儿出生一件事 (37, W05, joint): copied; one agrees, one disagrees-free silence → deemed consent.
    r = _register(opened, who["c05"], "37", datetime(2026, 3, 2, 9, 30))
    n = out["joint"] = r.number
    with opened.db.transaction() as s:
        copies = joint.copy(s, who["c05"], n, [
            joint.CopyRequest("县医保中心", asked="核定新生儿参保登记"),
            joint.CopyRequest("县人社局（社保卡）", higher_review=True, asked="审核并制发社会保障卡"),
            joint.CopyRequest("派出所户籍室", asked="办理出生登记"),
        ], now=datetime(2026, 3, 2, 10))
    ids = {c.department: c.id for c in copies}
    with opened.db.transaction() as s:
        joint.record_opinion(s, who["c05"], ids["县医保中心"], "agree", "", "医保中心刘某",
                             now=datetime(2026, 3, 5, 15))
        joint.record_opinion(s, who["c05"], ids["县人社局（社保卡）"], "agree", "已制卡", "社保卡中心王某",
                             now=datetime(2026, 3, 11, 15))
    with opened.db.transaction() as s:
        joint.sweep_deemed_consent(s, opened.system, date(2026, 3, 10))
    return out
