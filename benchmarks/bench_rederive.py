"""Re-derive every date around the tickets after a calendar change (``rederive.rederive_all``), on a real SQLite
hall with ``--n`` open dates of each heavy kind: pending copies to a co-department (joint cases), closure
follow-ups (closed tickets) and open complaints — what a large hall holds open at once is a few hundred.

    .venv/bin/python benchmarks/bench_rederive.py [--n 300]

Built through the services (untimed); then a local holiday is added (untimed, committed) and the timed part is
``rederive_all`` in its own transaction with its commit, every date moved by the holiday getting its event.
Baseline from the same run: the same rows read bare (three Core SELECTs of the same columns), no engine, no
events.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from hall.models.workflow import Complaint, FollowUp, JointCopy
from hall.paths import Paths
from hall.services.bootstrap import open_hall
from hall.services.calendar import workdays
from hall.services.cases import joint, rederive, workflow
from hall.services.catalog import items as catalog
from hall.services.people import staff
from hall.services.registers import complaints
from hall.services.tickets import intake


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=300)
    n = ap.parse_args().n
    with tempfile.TemporaryDirectory(prefix="bench-rederive-") as tmp:
        opened = open_hall(Paths.resolve(Path(tmp) / "data"))
        sys_actor = opened.system
        with opened.db.transaction() as s:
            staff.add_staff(s, sys_actor, staff.StaffForm("c05", "周卫健", "clerk", "卫健窗口", "W05"))
            staff.add_staff(s, sys_actor, staff.StaffForm("c02", "王民政", "clerk", "民政窗口", "W02"))
            staff.add_staff(s, sys_actor, staff.StaffForm("m01", "赵主任", "manager", "中心主任"))
            who = {no: staff.actor_for(staff.by_number(s, no), opened.node) for no in ("c05", "c02", "m01")}
            marks37 = {m["name"]: "received" for m in catalog.current_item(s, "37").materials}
            marks09 = {m["name"]: "received" for m in catalog.current_item(s, "09").materials}
        person = intake.ApplicantForm("person", "11010519491231002X", "张三")
        t0 = time.perf_counter()
        for i in range(n):
            at = datetime(2026, 6, 1, 9) + timedelta(seconds=i)
            with opened.db.transaction() as s:
                number = intake.register(s, who["c05"], intake.IntakeForm("37", person, materials=marks37),
                                         now=at).number
                joint.copy(s, who["c05"], number, [joint.CopyRequest("县医保中心")], now=at)
                closed = intake.register(s, who["c02"], intake.IntakeForm("09", person, materials=marks09),
                                         now=at).number
                workflow.close(s, who["c02"], closed, "approved", "同意", now=at)
                complaints.register(s, who["c02"], "窗口人员态度生硬", "现场", ticket_number=closed, now=at)
        print(f"built {n} copies, {n} follow-ups, {n} complaints in {time.perf_counter() - t0:.1f} s (untimed)")
        with opened.db.transaction() as s:
            workdays.add_local_holiday(s, sys_actor, date(2026, 6, 3), "测试节")

        began = time.perf_counter()
        with opened.db.transaction() as s:
            moved = rederive.rederive_all(s, sys_actor, why="测试节")
        took = time.perf_counter() - began

        began = time.perf_counter()
        with opened.db.reading() as s:
            bare = (len(s.execute(select(JointCopy.copied_on, JointCopy.higher_review, JointCopy.due_on)).all())
                    + len(s.execute(select(FollowUp.source_key, FollowUp.due_on)).all())
                    + len(s.execute(select(Complaint.received_on, Complaint.due_on)).all()))
        base = time.perf_counter() - began
        print(f"rederive_all: {len(moved)} dates moved of {bare} open, {took * 1000:.0f} ms with its commit "
              f"(bare read of the same rows: {base * 1000:.1f} ms)")
        opened.db.dispose()


if __name__ == "__main__":
    main()
