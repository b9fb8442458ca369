"""补正 at any stage: a proper 补正材料通知书 during handling (after acceptance) and at intake, its supply deadline by
the one date rule — read back from the printed PDF."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import date, datetime

import pytest
from pypdf import PdfReader
from sqlalchemy import select
from workflow_env import ZHANG, prepare, register

from hall.errors import ConflictError, ValidationError
from hall.models.workflow import SupplementRequest
from hall.print.ticket_layout import TicketPaperRenderer
from hall.services.cases import supplement, workflow
from hall.services.catalog import items as catalog
from hall.services.reporting import papers
from hall.services.tickets import intake
from hall.services.tickets import record as tickets

D = date
FREE = "村委会出具的家庭困难情况说明"


@pytest.fixture
def env(hall_sqlite):
    from hall_fixtures import actors_of

    return hall_sqlite, prepare(hall_sqlite, actors_of(hall_sqlite))


def _text(pdf) -> str:
    return "".join(re.sub(r"\s+", "", p.extract_text() or "") for p in PdfReader(str(pdf)).pages)


def test_a_supplement_during_handling_issues_a_notice_with_a_deadline_off_national_day(env, tmp_path):
    hall, who = env
    # 临时救助 (09, 15 working days) accepted Mon 2026-09-21: due 10/19 (中秋 9/25, 国庆 10/1–10/7, 10/10 worked).
    number = register(hall, who["c02"], "09", datetime(2026, 9, 21, 9))
    with hall.db.transaction() as s:
        listed = [m["name"] for m in catalog.current_item(s, "09").materials]
        with pytest.raises(ValidationError, match="至少列出一项"):
            supplement.request(s, who["c02"], number, [], now=datetime(2026, 9, 28, 9))
        with pytest.raises(ValidationError, match="不在本事项的材料清单中"):
            supplement.request(s, who["c02"], number, ["结婚证"], now=datetime(2026, 9, 28, 9))
        change = supplement.request(s, who["c02"], number, [listed[2]], [FREE], "医疗票据不全",
                                    now=datetime(2026, 9, 28, 9))
        assert change.old_due == D(2026, 10, 19)
        t = tickets.get(s, number)
        assert papers.papers_for(t)[0] == "supplement"
        with pytest.raises(ConflictError, match="请先恢复计时"):
            supplement.request(s, who["c02"], number, [listed[3]], now=datetime(2026, 9, 29, 9))
        (req,) = s.scalars(select(SupplementRequest))
        # 5 日 from Mon 9/28: day 5 is Sat 10/3, inside 国庆 → Thu 10/8 (民法典 §203).
        assert (req.stage, req.due_on, req.due_provisional, req.state) == ("handling", D(2026, 10, 8), False, "open")
        assert [(m["name"], m["source"]) for m in req.materials] == [(listed[2], "item"), (FREE, "free")]
        paper, _notice, hall_info = papers.paper_for_ticket(s, number, "supplement")
    assert paper.supplement_stage == "handling" and paper.supplement_due == D(2026, 10, 8)
    assert paper.paper_date == D(2026, 9, 28)  # the notice (and its seal) is dated the day of the 补正
    pdf = tmp_path / "supplement.pdf"
    TicketPaperRenderer("supplement", paper, hall_info).render(pdf)
    text = _text(pdf)
    for needed in ("补正材料通知书", number, "2026年10月8日", re.sub(r"\s+", "", listed[2]), FREE, "逾期未补正的",
                   "不予批准", "不计入办理时限", "第二百零三条", "一次性告知", "补正原因", "医疗票据不全"):
        assert needed in text, needed
    if shutil.which("pdftoppm"):  # a person looks at this page (see the report)
        subprocess.run(["pdftoppm", "-r", "60", "-png", "-f", "1", "-l", "1", "-singlefile", str(pdf),
                        str(tmp_path / "supplement")], check=True)
        assert (tmp_path / "supplement.png").stat().st_size > 10_000

    with hall.db.transaction() as s:
        # The materials arrive: the clock runs again (the pause days not counted), the request is supplied.
        change = workflow.resume(s, who["c02"], number, now=datetime(2026, 10, 9, 9))
        assert change.new_due > D(2026, 10, 19)
        (req,) = s.scalars(select(SupplementRequest))
        assert (req.state, req.supplied_on) == ("supplied", D(2026, 10, 9))
        assert "supplement" not in papers.papers_for(tickets.get(s, number))


def test_a_supplement_at_intake_records_its_request_by_the_rule(env):
    hall, who = env
    with hall.db.transaction() as s:
        item = catalog.current_item(s, "09")
        marks = {m["name"]: "received" for m in item.materials}
        missing = item.materials[1]["name"]
        marks[missing] = "missing"
        r = intake.register(s, who["c02"], intake.IntakeForm("09", ZHANG, materials=marks),
                            now=datetime(2026, 9, 28, 9))
        assert r.state == "supplement"
        (req,) = s.scalars(select(SupplementRequest))
        assert (req.stage, req.due_on, [m["name"] for m in req.materials]) == ("intake", D(2026, 10, 8), [missing])
        paper, _n, _h = papers.paper_for_ticket(s, r.number, "supplement")
        assert (paper.supplement_stage, paper.supplement_due) == ("intake", D(2026, 10, 8))
        tickets.supplement_received(s, who["c02"], r.number, now=datetime(2026, 10, 8, 9))
        (req,) = s.scalars(select(SupplementRequest))
        assert (req.state, req.supplied_on) == ("supplied", D(2026, 10, 8))
