"""Re-render the PNGs in docs/papers/ from REAL tickets, built through the services in a throw-away hall.

    .venv/bin/python docs/papers/render.py

A temporary data directory gets the seeded hall (catalogue, 2026 calendar), staff, and the tickets of
tests/papers_env.py (accepted, 补正, 不予受理, 容缺, proxy forwarded/extended/closed, joint with a
deemed consent); each paper comes from ``hall.services.reporting.papers`` and is drawn by ``hall.print``, then pdftoppm
turns the chosen page into a PNG beside this script.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "services")]


def main() -> int:
    from papers_env import build, prepare

    from hall.paths import Paths
    from hall.print.notices import BookletRenderer, FlowchartRenderer, SixPublicRenderer, StaffBoardRenderer
    from hall.print.receipt80 import Receipt80Renderer
    from hall.print.ticket_layout import TicketPaperRenderer
    from hall.services.bootstrap import open_hall
    from hall.services.people import staff
    from hall.services.reporting import papers

    with tempfile.TemporaryDirectory() as tmp:
        opened = open_hall(Paths.resolve(Path(tmp) / "data"), None)
        with opened.db.transaction() as s:
            staff.create_first_admin(s, opened.system, "admin-pass-1")
            for no, name, post, window, b in (("c02", "王民政", "民政窗口受理员", "W02", None),
                                              ("c03", "李社保", "人社窗口受理员", "W03", "c02")):
                staff.add_staff(s, opened.system, staff.StaffForm(no, name, "clerk", post, window, b_post_no=b,
                                                                  password="clerk-pass-1"))
            staff.add_staff(s, opened.system, staff.StaffForm("m01", "赵主任", "manager", "中心主任",
                                                              password="manager-pass"))
            people = {no: staff.actor_for(staff._by_no(s, no), opened.node) for no in ("c02", "c03", "m01")}
        who = prepare(opened, people)
        numbers = build(opened, who)
        out = Path(tmp)
        jobs: list[tuple[str, Path, int]] = []

        def ticket_pdf(kind: str, name: str, renderer=TicketPaperRenderer, page: int = 1) -> None:
            with opened.db.transaction() as s:
                paper, item, hall = papers.paper_for_ticket(s, numbers[kind], kind, today=date(2026, 3, 12))
            path = out / f"{name}.pdf"
            renderer(kind, paper, hall, item).render(path)
            jobs.append((name, path, page))

        ticket_pdf("acceptance", "acceptance-notice")
        ticket_pdf("notice", "one-time-notice")
        ticket_pdf("notice", "one-time-notice-p2", page=2)
        ticket_pdf("acceptance", "receipt-80mm", Receipt80Renderer)
        ticket_pdf("joint", "joint-notice")
        ticket_pdf("joint", "joint-deemed-consent", page=2)
        with opened.db.transaction() as s:
            hall = papers.hall_info(s)
            item = papers.item_notice(s, "19")
            badges = papers.staff_badges(s)
            items = papers.item_notices(s)
        for name, r in (("six-public", SixPublicRenderer([item], hall)), ("flowchart", FlowchartRenderer([item], hall)),
                        ("staff-board", StaffBoardRenderer(badges, hall))):
            path = out / f"{name}.pdf"
            r.render(path)
            jobs.append((name, path, 1))
        booklet = out / "booklet.pdf"
        BookletRenderer(items, hall, issued_on=date(2026, 3, 12)).render(booklet)
        jobs.append(("booklet-toc", booklet, 2))  # page 1 is the cover, the contents start on page 2
        for name, path, page in jobs:
            subprocess.run(["pdftoppm", "-r", "80", "-png", "-f", str(page), "-l", str(page), "-singlefile",
                            str(path), str(HERE / name)], check=True)
            print(HERE / f"{name}.png")
        opened.db.dispose()
        shutil.rmtree(out / "data", ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
