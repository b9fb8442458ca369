"""A ticket's head by content (hall/services/tickets/lineage.py): what an action on a village ticket names as its
parent, what the sync gate compares it with; a hall ticket's actions name none."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from hall.models import Event
from hall.services.cases import workflow
from hall.services.catalog import items as catalog
from hall.services.reporting import papers
from hall.services.storage import ledger
from hall.services.tickets import intake, lineage
from hall.services.tickets import record as tickets

AT = datetime(2026, 3, 2, 9, 0)


def _register(opened, actor, minute: int) -> str:
    with opened.db.transaction() as s:
        marks = {m["name"]: "received" for m in catalog.current_item(s, "09").materials}
        return intake.register(s, actor, intake.IntakeForm("09", intake.ApplicantForm(
            "person", "11010519491231002X", "张三"), materials=marks), now=AT.replace(minute=minute)).number


def _events(s, number: str) -> list[tuple[int, str, str, dict]]:
    uid = tickets.get(s, number).uid
    return [(e.id, e.type, e.hash, ledger.load_payload(e))
            for e in s.scalars(select(Event).where(Event.ticket_uid == uid).order_by(Event.id))]


def test_an_action_on_a_village_ticket_names_the_last_version_moving_event(hall_db, people):
    number = _register(hall_db, people["v01"], 0)
    with hall_db.db.transaction() as s:
        # A reason that mentions the key, quotes and all, is a value: it makes no event version-moving.
        workflow.start(s, people["v01"], number, '登记 "parent_version": 7 的说明', now=AT.replace(hour=10))
    with hall_db.db.transaction() as s:
        papers.record_print(s, people["v01"], number, "acceptance", printer="PDF")  # moves no version
        papers.record_print(s, people["v01"], number, "acceptance", reprint=True, printer="PDF")
    with hall_db.db.transaction() as s:
        workflow.pause(s, people["v01"], number, "等待申请人补正材料", now=AT.replace(hour=11))
    with hall_db.db.reading() as s:
        (rid, _r, received, _), (sid, _s, started, p_start), *prints, (pid, _p, paused, p_pause) = _events(s, number)
        assert [t for _i, t, _h, _p in prints] == ["ticket.printed", "ticket.printed"]
        assert p_start[tickets.PARENT_HEAD] == received and p_pause[tickets.PARENT_HEAD] == started
        conn = s.connection()
        uid = tickets.get(s, number).uid
        assert lineage.head(conn, uid) == paused
        # As the gate sees it when an event arrives: only what was stored before it.
        assert lineage.head(conn, uid, before=pid) == started == lineage.head(conn, uid, before=prints[0][0])
        assert lineage.head(conn, uid, before=sid) == received
        assert lineage.head(conn, uid, before=rid) is None


def test_a_hall_tickets_actions_carry_the_integer_only(hall_db, people):
    number = _register(hall_db, people["m01"], 5)
    with hall_db.db.transaction() as s:
        workflow.start(s, people["m01"], number, now=AT.replace(hour=10))
        workflow.close(s, people["m01"], number, "approved", "准予办理", now=AT.replace(hour=11))
    with hall_db.db.reading() as s:
        moved = [(t, p.get(tickets.PARENT), tickets.PARENT_HEAD in p) for _i, t, _h, p in _events(s, number)
                 if lineage.moves_version(t, p)]
    assert moved == [("ticket.received", None, False), ("ticket.started", 1, False), ("ticket.closed", 2, False)]
