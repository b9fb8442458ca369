"""No full identifier where it does not belong (个人信息保护法 §25/§51; domain-rules §6).

Valid ID numbers, mobiles and a bank card are planted — written plain and grouped as people type them — in every
free-text field a person can fill (intake note, refusal reason, forward note, the department's answer, pause and
extension reasons, the 办结 result, a co-department's opinion, a complaint, an accountability finding). Then every
masked paper kind, the public notices, every masked workbook, the command line's reports and the log are read back
and scanned: 0 full identifiers. The one scanner the guards use is checked against the masker by hypothesis, and
the workbook guard refuses a masked workbook that would leak, before any file is written.
"""

from __future__ import annotations

import html
import logging
import re
import shutil
import zipfile
from datetime import date, datetime
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from papers_env import LI, ZHANG, _register, prepare

from hall.cli import main
from hall.errors import HallError
from hall.exchange import reports_xlsx
from hall.exchange.pii_guard import PersonalDataInExport
from hall.print.guard import find_unmasked
from hall.print.notices import BookletRenderer
from hall.print.ticket_layout import TicketPaperRenderer
from hall.services.base.masking import find_personal_identifiers, mask_free_text
from hall.services.base.validators import id_check_char
from hall.services.reporting import papers
from hall.services.reporting.stats import LEDGER_COLUMNS_MASKED, LedgerExport, Period


def _valid_id(first17: str) -> str:
    return first17 + id_check_char(first17)


ID_A = _valid_id("32058119900307123")
ID_B = _valid_id("44052419851111002")
MOBILE_A, MOBILE_B = "15951234567", "18688889999"
CARD = "6222021234567890123"
PLANTED = (ID_A, ID_B, MOBILE_A, MOBILE_B, CARD)
# Every way the same numbers are written in the free texts; all must be gone from every masked output.
PLANT = (f"联系人身份证{ID_A}，手机{MOBILE_A}；另一位 {ID_B[:6]} {ID_B[6:14]} {ID_B[14:]}，"
         f"电话 {MOBILE_B[:3]}-{MOBILE_B[3:7]}-{MOBILE_B[7:]}，+86{MOBILE_A}，卡号 {CARD}")
DIGITS = {re.sub(r"\D", "", p) for p in PLANTED}


def _leaks(text: str) -> list[str]:
    """Full identifiers in ``text``: what the guards find, and any planted number in any spacing."""
    squeezed = re.sub(r"[\s\-+]", "", text)
    return find_unmasked(text) + [d for d in DIGITS if d in squeezed]


@pytest.fixture(scope="module")
def world(_sqlite_template, tmp_path_factory):
    from conftest import _open
    from hall_fixtures import actors_of

    data = tmp_path_factory.mktemp("pii") / "data"
    shutil.copytree(_sqlite_template, data)
    opened = _open(data, None)
    try:
        who = prepare(opened, actors_of(opened))
        yield opened, who, _build(opened, who)
    finally:
        opened.db.dispose()


def _build(opened, who) -> dict[str, str]:
    from hall.services.cases import joint, proxy, workflow
    from hall.services.catalog import items as catalog
    from hall.services.registers import accountability, complaints

    out: dict[str, str] = {}
    r = _register(opened, who["c03"], "19", datetime(2026, 3, 5, 9, 42), note=PLANT)
    n = out["acceptance"] = out["forward"] = out["extension"] = out["closure"] = r.number
    with opened.db.transaction() as s:
        proxy.forward(s, who["c03"], n, "县社保中心", how_sent="专人报送", note=PLANT, now=datetime(2026, 3, 6, 10))
    with opened.db.transaction() as s:
        workflow.extend(s, who["c03"], n, 5, "核查：" + PLANT, "m01", "manager-pass", now=datetime(2026, 3, 20, 9))
    with opened.db.transaction() as s:
        proxy.department_returned(s, who["c03"], n, "approved", PLANT, returned_on=date(2026, 3, 25),
                                  result_doc_no="常社养核〔2026〕0123号", now=datetime(2026, 3, 25, 16))
    with opened.db.transaction() as s:
        workflow.close(s, who["c03"], n, "approved", "准予领取；" + PLANT, result_doc_no="常社养核〔2026〕0123号",
                       now=datetime(2026, 3, 26, 10))
        workflow.deliver(s, who["c03"], n, "当面领取", "张建国", now=datetime(2026, 3, 27, 10, 15))
    with opened.db.transaction() as s:
        mats = [m["name"] for m in catalog.current_item(s, "07").materials]
    r = _register(opened, who["c02"], "07", datetime(2026, 3, 5, 10, 5), applicant=LI, note=PLANT,
                  materials={mats[-1]: "missing"})
    out["supplement"] = out["notice"] = r.number
    r = _register(opened, who["c02"], "09", datetime(2026, 3, 5, 11, 20), applicant=LI, decision="refuse",
                  refusal_reason="不符合条件。\n" + PLANT, redirect_organ="县民政局社会救助科")
    out["refusal"] = r.number
    with opened.db.transaction() as s:
        photo = next(m["name"] for m in catalog.current_item(s, "22").materials if m.get("tolerable"))
    out["tolerance"] = _register(opened, who["c03"], "22", datetime(2026, 3, 5, 14, 30),
                                 materials={photo: "tolerated"}, note=PLANT).number
    r = _register(opened, who["c05"], "37", datetime(2026, 3, 2, 9, 30))
    n = out["joint"] = r.number
    with opened.db.transaction() as s:
        copies = joint.copy(s, who["c05"], n, [joint.CopyRequest("县医保中心", asked="核定参保：" + PLANT)],
                            now=datetime(2026, 3, 2, 10))
    with opened.db.transaction() as s:
        joint.record_opinion(s, who["c05"], copies[0].id, "agree", PLANT, "医保中心刘某", now=datetime(2026, 3, 5, 15))
    # Overdue at the end of March, with a pause reason: the overdue list carries it.
    late = out["overdue"] = _register(opened, who["c02"], "09", datetime(2026, 3, 2, 9, 0), applicant=ZHANG).number
    with opened.db.transaction() as s:
        workflow.pause(s, who["c02"], late, "等待补充：" + PLANT, now=datetime(2026, 3, 3, 9))
    with opened.db.transaction() as s:
        workflow.resume(s, who["c02"], late, "已补：" + PLANT, now=datetime(2026, 3, 4, 9))
    with opened.db.transaction() as s:
        complaints.register(s, who["m01"], "投诉内容：" + PLANT, "现场", complainant="匿名",
                            now=datetime(2026, 3, 9, 9))
        accountability.sweep_overdue(s, opened.system, date(2026, 3, 31), now=datetime(2026, 3, 31, 18))
    with opened.db.transaction() as s:
        record = accountability.records(s)[0]
        accountability.record_finding(s, who["m01"], record.id, "upheld", "核实：" + PLANT, measure="提醒谈话",
                                      now=datetime(2026, 4, 1, 9))
    return out


def _xlsx_text(path: Path) -> str:
    with zipfile.ZipFile(path) as zf:  # lxml may write CJK as character references: unescape before scanning
        return html.unescape("".join(zf.read(n).decode("utf-8") for n in zf.namelist() if n.endswith(".xml")))


def _pdf_text(path: Path) -> str:
    from pypdf import PdfReader

    return "".join(p.extract_text() or "" for p in PdfReader(str(path)).pages)


def test_the_plant_is_in_the_ledger_as_typed(world):
    """The clerk's own screen and the ledger keep what was typed: the masking is per output, not at intake."""
    opened, _who, numbers = world
    from hall.services.tickets import record as tickets

    with opened.db.reading() as s:
        t = tickets.get(s, numbers["closure"])
        assert ID_A in (t.result or "")


PAPER_KINDS = ("acceptance", "notice", "supplement", "refusal", "tolerance", "forward", "joint", "extension", "closure")


def test_every_masked_paper_kind_and_the_public_notices(world, tmp_path):
    opened, _who, numbers = world
    texts = {}
    for kind in PAPER_KINDS:
        with opened.db.reading() as s:
            paper, item, info = papers.paper_for_ticket(s, numbers[kind], kind, today=date(2026, 3, 27))
        out = tmp_path / f"{kind}.pdf"
        TicketPaperRenderer(kind, paper, info, item).render(out)
        texts[kind] = _pdf_text(out)
        assert _leaks(texts[kind]) == [], kind
    assert "1101**********002X" in re.sub(r"\s", "", texts["acceptance"])  # the applicant's own, receipt-masked
    assert "3205**********" in re.sub(r"\s", "", texts["closure"])  # the planted ID in the result, masked
    with opened.db.reading() as s:
        notices, info = papers.item_notices(s)[:3], papers.hall_info(s)
    out = tmp_path / "booklet.pdf"
    BookletRenderer(notices, info).render(out)
    assert _leaks(_pdf_text(out)) == []


def test_every_masked_workbook(world, tmp_path):
    opened, who, _numbers = world
    march, today = Period.month(2026, 3), date(2026, 3, 31)
    with opened.db.reading() as s:
        files = [
            reports_xlsx.monthly_or_quarterly(s, march, tmp_path / "m.xlsx", today=today, actor=who["m01"]).path,
            reports_xlsx.monthly_or_quarterly(s, Period.quarter(2026, 1), tmp_path / "q.xlsx", today=today,
                                              actor=who["m01"]).path,
            reports_xlsx.write_overdue(s, who["m01"], march, tmp_path / "o.xlsx", today=today).path,
            reports_xlsx.write_performance(s, who["m01"], march, tmp_path / "p.xlsx", today=today).path,
        ]
    with opened.db.transaction() as s:
        files.append(reports_xlsx.write_ledger(s, who["m01"], march, tmp_path / "l.xlsx", today=today).path)
    for path in files:
        text = _xlsx_text(path)
        assert _leaks(text) == [], path.name
    monthly = _xlsx_text(files[0])
    assert "准予领取" in monthly and "3205**********" in monthly  # the result is there, its ID masked
    assert "等待补充" in _xlsx_text(files[2])  # the overdue reason is there, masked


def test_the_full_export_is_the_one_place_by_design(world, tmp_path):
    opened, who, _numbers = world
    with opened.db.transaction() as s:
        path = reports_xlsx.write_ledger(s, who["admin"], Period.month(2026, 3), tmp_path / "full.xlsx",
                                         today=date(2026, 3, 31), full=True).path
    assert ID_A in _xlsx_text(path)  # not masked, not refused: the administrator's full export, a ledger event


def test_a_masked_workbook_that_would_leak_is_refused_before_it_is_written(tmp_path):
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    row = ("320581101-000-20260305-0001", datetime(2026, 3, 5, 9), "000", "W02", "07", "最低生活保障申请", "代办件",
           "已受理", "张*", "东村3组", None, None, "", None, "", "王民政", f"家属电话 {MOBILE_A}")
    export = LedgerExport(LEDGER_COLUMNS_MASKED, iter([row]))
    try:
        with pytest.raises(PersonalDataInExport) as caught:
            reports_xlsx.write_ledger_sheet(wb, export, Period.month(2026, 3), "虞山镇便民服务中心", "")
    finally:
        reports_xlsx.discard(wb)
    message = str(caught.value)
    assert "办件登记台账" in message and "第 4 行" in message and MOBILE_A not in message
    assert isinstance(caught.value, HallError)


@pytest.mark.ledger_edited
def test_an_exporter_refuses_a_leak_the_masking_did_not_catch(hall_sqlite, tmp_path):
    """A setting typed with a mobile in it (the hall's name) reaches every sheet's heading: refused, no file."""
    from hall_fixtures import actors_of

    from hall.services.storage import settings

    with hall_sqlite.db.transaction() as s:
        settings.set_values(s, hall_sqlite.system, {"hall_name": f"虞山镇便民服务中心（值班 {MOBILE_A}）"})
    out = tmp_path / "exports" / "m.xlsx"
    out.parent.mkdir()
    with hall_sqlite.db.reading() as s, pytest.raises(PersonalDataInExport):
        reports_xlsx.monthly_or_quarterly(s, Period.month(2026, 3), out, today=date(2026, 3, 31),
                                          actor=actors_of(hall_sqlite)["m01"])
    assert list(out.parent.iterdir()) == []  # nothing written, not even a temporary file


def test_command_line_reports_and_the_log(world, capsys, caplog):
    opened, _who, numbers = world
    data = str(opened.db.backups_dir.parent)
    caplog.set_level(logging.DEBUG, logger="hall")
    outputs = []
    for number in sorted(set(numbers.values())):
        capsys.readouterr()
        assert main(["--data-dir", data, "ticket", "show", number]) == 0
        outputs.append(capsys.readouterr())
    for args in (["ledger", "verify"], ["ledger", "digest"], ["ledger", "check", "--quiet"]):
        assert main(["--data-dir", data, *args]) == 0
        outputs.append(capsys.readouterr())
    shown = "\n".join(o.out + o.err for o in outputs)
    assert "准予领取" in shown  # the history is there …
    assert _leaks(shown) == []  # … with the identifiers in it masked
    assert _leaks(caplog.text) == []


def test_with_encryption_on_no_file_of_the_data_folder_or_its_backups_holds_one(world, tmp_path, capsys):
    """The same ledger in a data folder encrypted at rest (hall-admin encryption enable): its database, -wal, full
    backup, daily increment, a backup to a USB stick and a draft hold none of the planted numbers, in any bytes."""
    from conftest import _open

    from hall.services import backup_chain, backups
    from hall.services.storage import at_rest
    from hall.services.storage.drafts import DraftStore

    opened, who, _numbers = world
    data = tmp_path / "encrypted"
    opened.db.backup(data / "hall.sqlite3")
    shutil.copy(Path(opened.db.backups_dir).parent / "node.json", data / "node.json")
    assert main(["--data-dir", str(data), "encryption", "enable"]) == 0
    capsys.readouterr()
    again = _open(data, None)
    try:
        backup_chain.daily(again.db, data / "backups", today=datetime(2026, 3, 30, 18))
        _register(again, who["c02"], "19", datetime(2026, 3, 31, 9), note=PLANT)
        backup_chain.daily(again.db, data / "backups", today=datetime(2026, 3, 31, 18))
        usb = tmp_path / "usb" / "hall.sqlite3"
        backups.take_backup(again.db, usb)
        DraftStore(data / "drafts").save("k1", str(who["c02"].staff_id), {"note": PLANT, "id_no": ID_A})
        assert at_rest.is_encrypted_file(data / "hall.sqlite3") and at_rest.is_encrypted_file(usb)
        files = [p for folder in (data, usb.parent) for p in folder.rglob("*") if p.is_file()]
        assert len(files) >= 6
        for path in files:
            raw = path.read_bytes()
            found = [d for d in DIGITS if d.encode() in raw or d.encode("utf-16-le") in raw]
            assert found == [], f"{path.name}: {found}"
    finally:
        again.db.dispose()
        at_rest.forget(data)


# ------------------------------------------------------------------------------- the masker and the scanner
fragments = st.one_of(
    st.sampled_from([ID_A, ID_B, ID_A.lower(), MOBILE_A, MOBILE_B, CARD, f"+86 {MOBILE_B}", "0512-66881234",
                     f"{ID_B[:6]} {ID_B[6:14]} {ID_B[14:]}", f"{MOBILE_A[:3]} {MOBILE_A[3:7]} {MOBILE_A[7:]}",
                     "6222 0212 3456 7890", "320581101-000-20260305-0012", "2026-03-05", "1500元"]),
    st.text(alphabet="0123456789 -Xx张三，", max_size=6),
)


@given(st.lists(fragments, max_size=8).map("".join))
@example("699159512345670512-66881234")  # a landline running into an ID's last four
def test_masked_free_text_always_passes_the_guards(text):
    masked = mask_free_text(text)
    assert find_personal_identifiers(masked) == []
    assert find_unmasked(masked) == []
    assert mask_free_text(masked) == masked  # idempotent: masking twice changes nothing more


def test_what_free_text_masking_keeps():
    text = f"办件 320581101-000-20260305-0012 于2026-03-05办结，收费1500元；联系{MOBILE_A}"
    assert mask_free_text(text) == "办件 320581101-000-20260305-0012 于2026-03-05办结，收费1500元；联系159****4567"
    assert mask_free_text(f"身份证{ID_A}") == f"身份证3205**********{ID_A[-4:]}"
    assert mask_free_text("座机0512-66881234") == "座机051*****1234"
    assert mask_free_text(CARD) == "*" * 15 + CARD[-4:]
