"""涉法信访 at the size of a busy township: ``--n`` open 信访 cases, each with a 移交 awaiting the organ's answer.

    .venv/bin/python benchmarks/bench_petition.py [--n 300]

Built through the services (untimed). Timed, each against a bare baseline from the same run:

- the 信访 page's list (``petition_views.case_list``, 500 rows) — bare: the same join read by Core;
- one case in full (``case_detail``, what the detail pane reads on a selection) — bare: the same six tables read by
  Core for that ticket;
- a local holiday moving every 移交 answer date (``rederive.rederive_all``, one ``petition.due_changed`` each, with
  its commit) — bare: the open transfers read by Core.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from hall.models import Ticket
from hall.models.petition import (
    PetitionAgent,
    PetitionCase,
    PetitionFeedback,
    PetitionFollowUp,
    PetitionHearing,
    PetitionTransfer,
)
from hall.paths import Paths
from hall.services.bootstrap import open_hall
from hall.services.calendar import workdays
from hall.services.calendar.derived import DateRule
from hall.services.cases import petition, petition_steps, petition_views, rederive
from hall.services.catalog import items as catalog
from hall.services.people import staff
from hall.services.tickets import intake


def _ms(samples: list[float]) -> str:
    return f"median {statistics.median(samples) * 1000:.2f} ms"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=300)
    n = ap.parse_args().n
    with tempfile.TemporaryDirectory(prefix="bench-petition-") as tmp:
        opened = open_hall(Paths.resolve(Path(tmp) / "data"))
        with opened.db.transaction() as s:
            staff.add_staff(s, opened.system, staff.StaffForm("c10", "陈综治", "clerk", "综治信访窗口", "W10"))
            clerk = staff.actor_for(staff.by_number(s, "c10"), opened.node)
            marks = {m["name"]: "received" for m in catalog.current_item(s, "68").materials}
        person = intake.ApplicantForm("person", "11010519491231002X", "张三", "13812345678")
        t0 = time.perf_counter()
        numbers = []
        for i in range(n):
            at = datetime(2026, 6, 1, 9) + timedelta(seconds=i)
            with opened.db.transaction() as s:
                case = petition.register_new(s, clerk, intake.IntakeForm("68", person, marks, note="欠薪"), "c10",
                                             now=at)
                number = s.get_one(Ticket, s.scalar(select(Ticket.id).where(Ticket.uid == case.ticket_uid))).number
                petition_steps.transfer(s, clerk, number, "县人社局", f"示信移{i}号", rule=DateRule(2, "day"), now=at)
                numbers.append(number)
        print(f"built {n} 信访 cases with a 移交 each in {time.perf_counter() - t0:.1f} s (untimed)")

        lists, bare_lists, details, bare_details = [], [], [], []
        for i in range(30):
            with opened.db.reading() as s:
                began = time.perf_counter()
                rows = petition_views.case_list(s, limit=500)
                lists.append(time.perf_counter() - began)
            with opened.db.reading() as s:
                began = time.perf_counter()
                s.execute(select(Ticket.number, Ticket.applicant_name, Ticket.received_at, Ticket.due_date,
                                 Ticket.state, PetitionCase.accept_state, PetitionCase.accept_due_on)
                          .join(PetitionCase, PetitionCase.ticket_uid == Ticket.uid)
                          .order_by(Ticket.received_at.desc()).limit(500)).all()
                bare_lists.append(time.perf_counter() - began)
            number = numbers[i * 7 % n]
            with opened.db.reading() as s:
                began = time.perf_counter()
                petition_views.case_detail(s, number)
                details.append(time.perf_counter() - began)
            with opened.db.reading() as s:
                began = time.perf_counter()
                uid = s.scalar(select(Ticket.uid).where(Ticket.number == number))
                for table in (PetitionCase, PetitionAgent, PetitionHearing, PetitionFeedback, PetitionTransfer,
                              PetitionFollowUp):
                    s.execute(select(table.__table__).where(table.__table__.c.ticket_uid == uid)).all()
                bare_details.append(time.perf_counter() - began)
        print(f"case list ({len(rows)} rows): {_ms(lists)} (bare join: {_ms(bare_lists)})")
        print(f"case detail: {_ms(details)} (bare reads of its six tables: {_ms(bare_details)})")

        with opened.db.transaction() as s:
            workdays.add_local_holiday(s, opened.system, date(2026, 6, 3), "测试节")
        began = time.perf_counter()
        with opened.db.transaction() as s:
            moved = rederive.rederive_all(s, opened.system, why="测试节")
        took = time.perf_counter() - began
        began = time.perf_counter()
        with opened.db.reading() as s:
            bare = len(s.execute(select(PetitionTransfer.sent_on, PetitionTransfer.due_on)
                                 .where(PetitionTransfer.state == "sent")).all())
        base = time.perf_counter() - began
        print(f"rederive_all: {len(moved)} 信访 dates moved of {bare} open transfers, {took * 1000:.0f} ms with its "
              f"commit (bare read of the same rows: {base * 1000:.1f} ms)")
        opened.db.dispose()


if __name__ == "__main__":
    main()
