"""效能监察, 一次性收费, 先锋岗 and 先照后证 on one real SQLite hall (2026 calendar), read back from papers and
workbooks.

One module-scoped hall: the catalogue is imported once with a fee on item 22 (社会保障卡补换, 20 元) and a
prerequisite on item 20 (资格认证 needs 18 参保登记 closed); every test works on tickets of its own.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook
from sqlalchemy import select
from workflow_env import LI, ZHANG, all_received

from hall.errors import ConflictError, PermissionDenied, ValidationError, ValidationErrors
from hall.exchange import reports_xlsx
from hall.models.workflow import AccountabilityRecord, ProxyLeg
from hall.paths import Paths
from hall.print.notices import StaffBoardRenderer
from hall.print.ticket_layout import TicketPaperRenderer
from hall.services.bootstrap import open_hall
from hall.services.calendar.workdays import HolidayRange, YearNotice
from hall.services.cases import joint, proxy, recalc, workflow
from hall.services.catalog import items as catalog
from hall.services.catalog.spec import fee_text, parse_fee, parse_sheets
from hall.services.people import staff
from hall.services.registers import accountability, inspection
from hall.services.reporting import case_dates, papers, queue, supervision
from hall.services.reporting.stats import Period
from hall.services.storage import ledger
from hall.services.tickets import fees, intake
from hall.services.tickets import record as tickets

FEE_ITEM, NEEDS, NEEDED = "22", "20", "18"
WANG = intake.ApplicantForm("person", "320102199001011232", "王五", "13700001111", "南村2组")


@pytest.fixture(scope="module")
def hall(tmp_path_factory, _sqlite_template):
    data = tmp_path_factory.mktemp("supervision") / "data"
    shutil.copytree(_sqlite_template, data)
    opened = open_hall(Paths.resolve(data))
    with opened.db.transaction() as s:
        spec = catalog.current_spec(s)
        items = tuple(replace(i, fee="补换卡工本费", fee_cents=2000) if i.code == FEE_ITEM else
                      replace(i, prerequisite=NEEDED) if i.code == NEEDS else i for i in spec.items)
        catalog.import_catalog(s, opened.system, replace(spec, items=items), "测试：收费与前置事项")
        staff.add_staff(s, opened.system, staff.StaffForm("c05", "周卫健", "clerk", "卫健窗口", "W05"))
        staff.add_staff(s, opened.system, staff.StaffForm("j01", "钱监察", "inspector", "效能监察员"))
        staff.add_staff(s, opened.system, staff.StaffForm("c04", "孔医保", "clerk", "医保窗口", "W04",
                                                          vanguard=True))
        who = {no: staff.actor_for(staff.by_number(s, no), opened.node)
               for no in ("admin", "c02", "c03", "c05", "m01", "j01", "c04")}
    yield opened, who
    opened.db.dispose()


def _register(opened, actor, code, now, applicant=ZHANG, **kw):
    with opened.db.transaction() as s:
        return intake.register(s, actor, intake.IntakeForm(code, applicant, materials=all_received(s, code), **kw),
                               now=now)


# ------------------------------------------------------------------------------------------- 效能监察
def test_the_inspector_reads_everything_and_writes_only_findings(hall):
    opened, who = hall
    j, c03 = who["j01"], who["c03"]
    number = _register(opened, c03, "19", datetime(2026, 3, 2, 9)).number  # 养老待遇领取 (代办件, 15 wd)
    with opened.db.transaction() as s:
        # Reads: the whole detail, every date with its explanation, the registers.
        d = queue.detail(s, j, number, today=date(2026, 3, 3))
        assert d.actions == ()  # nothing the inspector could do is offered
        dates = case_dates.of_number(s, number)
        assert dates[0].kind == "due" and dates[0].explanation
        accountability.records(s, state=None)
        inspection.record_finding(s, j, number, "受理材料齐全，期限计算无误", now=datetime(2026, 3, 3, 10))
    refused = [
        lambda s: intake.register(s, j, intake.IntakeForm("19", LI)),
        lambda s: workflow.start(s, j, number, "监察员试图办理"),
        lambda s: tickets.void(s, j, number, "监察员试图作废"),
        lambda s: proxy.forward(s, j, number, "县社保局"),
        lambda s: fees.charge(s, j, number, fees.FeeForm("王五", "X1")),
        lambda s: inspection.open_fault_record(s, j, number, "c03", "超期", "属实", measure="提醒谈话"),
        lambda s: accountability.record_finding(s, j, 1, "dismissed", "不予追究"),
        lambda s: staff.update_staff(s, j, staff.StaffForm("c03", "李社保", "clerk", "社保窗口", "W03")),
        # and the ledger itself, whichever service would ask
        lambda s: ledger.append(s, j, "ticket.voided", {"reason": "x", "from_state": "accepted"},
                                ticket_uid=tickets.get(s, number).uid),
    ]
    for attempt in refused:
        with pytest.raises(PermissionDenied), opened.db.transaction() as s:
            attempt(s)
    # Only the inspector records findings (a manager decides on accountability instead).
    with pytest.raises(PermissionDenied), opened.db.transaction() as s:
        inspection.record_finding(s, who["m01"], number, "主任不写监察意见")
    with opened.db.transaction() as s:
        found = inspection.findings(s, number)
        assert [(f.inspector, f.text) for f in found] == [("钱监察", "受理材料齐全，期限计算无误")]
        history = [h.text for h in tickets.history(s, tickets.get(s, number))]
        assert "效能监察意见：受理材料齐全，期限计算无误" in history
        assert tickets.get(s, number).state == "accepted"  # a finding changes nothing of the case


def test_the_manager_opens_a_fault_record_by_hand(hall):
    opened, who = hall
    number = _register(opened, who["c03"], "19", datetime(2026, 3, 4, 9)).number
    with pytest.raises(ValidationError, match="处理措施"), opened.db.transaction() as s:
        inspection.open_fault_record(s, who["m01"], number, "c03", "未一次性告知", "属实")
    with pytest.raises(PermissionDenied), opened.db.transaction() as s:
        inspection.open_fault_record(s, who["c02"], number, "c03", "未一次性告知", "属实", measure="提醒谈话")
    with opened.db.transaction() as s:
        rec_id = inspection.open_fault_record(s, who["m01"], number, "c03", "未一次性告知补正材料",
                                              "经调阅台账属实", measure="批评教育", now=datetime(2026, 3, 6, 9))
        rec = s.get_one(AccountabilityRecord, rec_id)
        assert (rec.cause, rec.state, rec.measure, rec.finding) == ("fault", "upheld", "批评教育", "经调阅台账属实")
        view = next(r for r in accountability.records(s, state=None) if r.id == rec_id)
        assert (view.cause_label, view.ticket_number, view.staff_name) == ("过错责任追究", number, "李社保")
        assert "未一次性告知补正材料" in view.detail


def test_co_department_answers_and_deemed_consent_in_statistics_and_workbook(hall, tmp_path):
    opened, who = hall
    c05 = who["c05"]
    # 新生儿出生一件事 (37): copied Mon 2026-03-02; 5 wd → Mon 3/9, +3 for a higher review → Thu 3/12.
    number = _register(opened, c05, "37", datetime(2026, 3, 2, 9, 30)).number
    with opened.db.transaction() as s:
        copies = joint.copy(s, c05, number, [joint.CopyRequest("县医保中心"),
                                             joint.CopyRequest("县人社局（社保卡）", higher_review=True)],
                            now=datetime(2026, 3, 2, 10))
        ids = {c.department: c.id for c in copies}
        joint.record_opinion(s, c05, ids["县医保中心"], "agree", "", "医保中心刘某", now=datetime(2026, 3, 5, 15))
    with opened.db.transaction() as s:  # the daily rules run three days late: consent dated by the rule, 3/13
        joint.sweep_deemed_consent(s, opened.system, date(2026, 3, 18))
    with opened.db.transaction() as s:
        dates = {d.what: d for d in case_dates.of_number(s, number) if d.kind == "joint_copy"}
        cop = dates["县人社局（社保卡）（第1轮）"]
        assert (cop.due, cop.provisional, cop.state) == (date(2026, 3, 12), False, "逾期视为认可")
        assert cop.explanation[1] == "协办部门答复期限：8 个工作日。"
        period = Period.month(2026, 3)
        rows = {r.department: r for r in supervision.department_stats(s, period)}
        assert (rows["县医保中心"].answered, rows["县医保中心"].avg_answer_days) == (1, 3.0)  # 3/3, 3/4, 3/5
        assert (rows["县人社局（社保卡）"].deemed, rows["县人社局（社保卡）"].deemed_rate) == (1, 1.0)
        deemed = [x for x in supervision.deemed_consents(s, period) if x.number == number]
        assert [(x.department, x.due_on, x.deemed_on) for x in deemed] == [
            ("县人社局（社保卡）", date(2026, 3, 12), date(2026, 3, 13))]
        out = reports_xlsx.monthly_or_quarterly(s, period, tmp_path / "m.xlsx", today=date(2026, 3, 31),
                                                with_ledger=False)
    assert "协办部门答复" in out.sheets and "一次性收费" in out.sheets
    ws = load_workbook(out.path)["协办部门答复"]
    found = {r[1].value: r for r in ws.iter_rows(min_row=4) if r[1].value in ("县医保中心", "县人社局（社保卡）")}
    assert found["县人社局（社保卡）"][8].value == 1.0 and found["县人社局（社保卡）"][8].number_format == "0.0%"
    assert found["县医保中心"][7].value == 3.0 and found["县医保中心"][7].number_format == "0.0"


def test_proxy_leg_into_an_unconfirmed_year_is_marked_provisional(hall):
    opened, who = hall
    number = _register(opened, who["c02"], "10", datetime(2026, 12, 24, 9)).number  # 高龄津贴 (代办件)
    with opened.db.transaction() as s:
        proxy.forward(s, who["c02"], number, "县民政局", dept_days=10, now=datetime(2026, 12, 28, 9))
        leg = next(d for d in case_dates.of_number(s, number) if d.kind == "proxy_leg")
    # 12/29 12/30 12/31 counted in 2026, then Mon–Fri of the unconfirmed 2027 (1/1 included): 暂定.
    assert (leg.due, leg.provisional) == (date(2027, 1, 11), True) and leg.due_text.endswith("（暂定）")
    assert any("2027" in line for line in leg.explanation)
    with opened.db.transaction() as s:
        assert s.scalars(select(ProxyLeg.dept_due_provisional).where(ProxyLeg.ticket_uid == tickets.get(
            s, number).uid)).one() is True  # the leg row keeps the mark too
        # 2027 confirmed (元旦 1/1–1/3): the leg moves a working day and loses 暂定, with one recorded event.
        recalc.confirm_year(s, who["admin"], 2027, YearNotice(
            2027, "国务院办公厅关于2027年部分节假日安排的通知（测试）", (HolidayRange("元旦", date(2027, 1, 1),
                                                                      date(2027, 1, 3)),), ()))
        leg = next(d for d in case_dates.of_number(s, number) if d.kind == "proxy_leg")
        moved = [ledger.load_payload(e) for e in ledger.history(s, tickets.get(s, number).uid)
                 if e.type == "proxy.due_changed"]
    assert (leg.due, leg.provisional) == (date(2027, 1, 12), False)
    assert [(m["new"], m["new_provisional"]) for m in moved] == [("2027-01-12", False)]


# ---------------------------------------------------------------------------------------------- fees
def test_a_fee_is_taken_once_printed_and_summed(hall, tmp_path):
    opened, who = hall
    c03 = who["c03"]
    with opened.db.transaction() as s:
        assert catalog.current_item_view(s, FEE_ITEM).fee_cents == 2000
    r = _register(opened, c03, FEE_ITEM, datetime(2026, 3, 9, 9), fee=fees.FeeForm("张三", "SF-0001"))
    with opened.db.transaction() as s:
        t = tickets.get(s, r.number)
        assert fees.charged(s, t.uid).amount_text == "20.00 元"
    # 一次性收费: a second charge is refused, whoever asks.
    with pytest.raises(ConflictError, match="一次性收费"), opened.db.transaction() as s:
        fees.charge(s, c03, r.number, fees.FeeForm("张三", "SF-0002"))
    other = _register(opened, c03, FEE_ITEM, datetime(2026, 3, 9, 10), applicant=LI).number
    for form, match in ((fees.FeeForm("李四", "SF-0001"), "已用于办件"),
                        (fees.FeeForm("李四", "SF-0003", "25"), "不能超过收费标准 20.00 元"),
                        (fees.FeeForm("", "SF-0003"), "缴费人")):
        with pytest.raises((ConflictError, ValidationError), match=match), opened.db.transaction() as s:
            fees.charge(s, c03, other, form)
    with pytest.raises(ValidationError, match="免费"), opened.db.transaction() as s:
        fees.charge(s, c03, _register(opened, c03, "19", datetime(2026, 3, 9, 11)).number,
                    fees.FeeForm("张三", "SF-0009"))
    with pytest.raises(ValidationErrors, match="收费金额"):
        _register(opened, c03, "19", datetime(2026, 3, 9, 12), fee=fees.FeeForm("张三", "SF-0010"))
    with opened.db.transaction() as s:
        fees.charge(s, c03, other, fees.FeeForm("李四", "SF-0003", "12.5"), now=datetime(2026, 3, 10, 9))
        paper, notice, info = papers.paper_for_ticket(s, r.number, "acceptance", today=date(2026, 3, 9))
        free, _n, _i = papers.paper_for_ticket(s, other, "acceptance")
        n, total = fees.totals(s, date(2026, 3, 1), date(2026, 4, 1))
        out = reports_xlsx.monthly_or_quarterly(s, Period.month(2026, 3), tmp_path / "fees.xlsx",
                                                today=date(2026, 3, 31), with_ledger=False)
    assert (n, total) == (2, 3250)
    assert "一次性收取 20.00 元" in paper.fee_text and "SF-0001" in paper.fee_text
    assert "12.50 元" in free.fee_text
    pdf = tmp_path / "acceptance.pdf"
    TicketPaperRenderer("acceptance", paper, info, notice).render(pdf)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "一次性收取" in text and "20.00" in text and "SF-0001" in text
    ws = load_workbook(out.path)["一次性收费"]
    cells = list(ws.iter_rows(min_row=4, values_only=False))
    amounts = [row[5] for row in cells if row[1].value in (r.number, other)]
    assert [c.value for c in amounts] == [20, 12.5] and {c.number_format for c in amounts} == {"#,##0.00"}
    assert cells[-1][0].value == "合计" and Decimal(str(cells[-1][5].value)) == Decimal("32.5")
    assert "张三" not in {c.value for row in cells for c in row}  # the payer stays off an exported list


@given(st.integers(min_value=0, max_value=10_000_000))
def test_fee_amounts_round_trip_exactly(cents):
    assert parse_fee(fee_text(cents)) == cents
    assert parse_fee(f"￥{cents // 100}.{cents % 100:02d}元") == cents


@given(st.text(max_size=12))
def test_fee_parser_never_guesses(text):
    try:
        cents = parse_fee(text)
    except ValidationError as exc:
        assert exc.field == "收费金额（元）"
    else:
        assert 0 <= cents <= 10_000_000


# ------------------------------------------------------------------------------------- 先照后证, 先锋岗
def test_an_item_needs_its_prerequisite_closed_first(hall):
    opened, who = hall
    c03 = who["c03"]
    with pytest.raises(ValidationErrors, match="须先办结“18 城乡居民基本养老保险参保登记”"):
        _register(opened, c03, NEEDS, datetime(2026, 3, 11, 9), applicant=WANG)
    with opened.db.transaction() as s:  # the form asks the same rule before save
        assert "18" in prerequisites_missing(s, WANG.id_no)
    # A consultation needs nothing first; the prerequisite closed on the spot lets the item in.
    assert _register(opened, c03, NEEDS, datetime(2026, 3, 11, 9), applicant=WANG, kind="explain").state
    assert _register(opened, c03, NEEDED, datetime(2026, 3, 11, 10), applicant=WANG).state == "closed_approved"
    assert _register(opened, c03, NEEDS, datetime(2026, 3, 11, 11), applicant=WANG).state == "closed_approved"
    with opened.db.transaction() as s:
        assert prerequisites_missing(s, WANG.id_no) is None


def prerequisites_missing(s, id_no):
    from hall.services.tickets import prerequisites

    return prerequisites.missing(s, NEEDS, NEEDED, id_no)


def test_a_catalogue_prerequisite_must_name_another_item():
    base = {"事项编码": "A1", "事项名称": "甲", "窗口": "W01", "办件类型": "即办件", "法定时限": "0", "承诺时限": "0",
            "时限单位": "工作日", "法定时限有据": "否", "补正后重新计时": "是"}
    sheets = {"窗口": [{"窗口编码": "W01", "窗口名称": "综合"}],
              "事项": [{**base, "前置事项": "A1"},
                     {**base, "事项编码": "A2", "前置事项": "ZZ", "收费金额（元）": "1.234"}],
              "材料": []}
    with pytest.raises(ValidationErrors) as got:
        parse_sheets(sheets)
    problems = "\n".join(got.value.problems)
    assert "第2行“前置事项”列：不能是本事项自己" in problems
    assert "第3行“前置事项”列：事项编码“ZZ”不在“事项”工作表中" in problems
    assert "第3行“收费金额（元）”列" in problems


def test_the_badge_board_marks_the_vanguard_post(hall, tmp_path):
    opened, _who = hall
    with opened.db.transaction() as s:
        badges = papers.staff_badges(s)
        board = StaffBoardRenderer(badges, papers.hall_info(s))
    assert [b.name for b in badges if b.vanguard] == ["孔医保"]
    assert all(b.name != "钱监察" for b in badges)  # the inspector stands at no window
    pdf = tmp_path / "board.pdf"
    board.render(pdf)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert text.count("党员先锋岗") == 1 and "孔医保" in text


# ------------------------------------------------------------------------------ catalogue view warnings
def test_the_catalogue_view_flags_a_prerequisite_circle_and_a_fee_that_contradicts_its_wording(hall):
    from hall.services.catalog import consistency, overview

    opened, _who = hall
    with opened.db.transaction() as s:
        spec = catalog.current_spec(s)
        rows = {r.code: r for r in overview.rows(s)}
    assert rows[FEE_ITEM].fee == "20 元（补换卡工本费）" and rows[NEEDS].prerequisite == NEEDED
    assert any("协办部门最长答复时间" in w for w in rows["37"].warnings) and not rows["01"].warnings
    assert rows["37"].row == 2 + [i.code for i in spec.items].index("37")  # the exported workbook's row
    circle = tuple(replace(i, prerequisite=NEEDS) if i.code == NEEDED else
                   replace(i, fee_cents=500) if i.code == "01" else i for i in spec.items)
    found = {(w.code, w.reason) for w in consistency.warnings(replace(spec, items=circle))}
    assert (NEEDS, "前置事项循环（20 → 18 → 20），任何申请人都无法受理") in found
    assert (NEEDED, "前置事项循环（18 → 20 → 18），任何申请人都无法受理") in found
    assert ("01", "收费金额为 5.00 元，但收费标准写明“不收费”") in found


def test_the_module_ledger_replays_to_its_live_tables(hall):
    """Every event written above (fees, findings, fault records, the vanguard flag, the catalogue's fees and
    prerequisites) rebuilds exactly the live tables."""
    from hall.services import ledger_check

    opened, _who = hall
    report = ledger_check.check(opened.db, limit=5)
    assert report.ok, report.comparison.differences if report.comparison else report.replay_error


def test_fee_once_and_findings_on_both_databases(hall_db, people):
    """The same rules on SQLite and on the real PostgreSQL server (the item's fee set by a catalogue import)."""
    with hall_db.db.transaction() as s:
        spec = catalog.current_spec(s)
        items = tuple(replace(i, fee_cents=1500) if i.code == FEE_ITEM else i for i in spec.items)
        catalog.import_catalog(s, hall_db.system, replace(spec, items=items), "测试：收费")
        staff.add_staff(s, hall_db.system, staff.StaffForm("j09", "钱监察", "inspector", "效能监察员"))
        j = staff.actor_for(staff.by_number(s, "j09"), hall_db.node)
    number = _register(hall_db, people["c03"], FEE_ITEM, datetime(2026, 3, 9, 9)).number
    with hall_db.db.transaction() as s:
        fees.charge(s, people["c03"], number, fees.FeeForm("张三", "PG-1"), now=datetime(2026, 3, 9, 9, 5))
        inspection.record_finding(s, j, number, "收费与标准一致", now=datetime(2026, 3, 9, 10))
    with pytest.raises(ConflictError, match="一次性收费"), hall_db.db.transaction() as s:
        fees.charge(s, people["c03"], number, fees.FeeForm("张三", "PG-2"))
    with pytest.raises(PermissionDenied), hall_db.db.transaction() as s:
        tickets.void(s, j, number, "监察员试图作废")
    with hall_db.db.reading() as s:
        assert fees.totals(s, date(2026, 3, 1), date(2026, 4, 1)) == (1, 1500)
        assert [f.text for f in inspection.findings(s, number)] == ["收费与标准一致"]
