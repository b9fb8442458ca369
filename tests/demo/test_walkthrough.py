"""The walkthrough plays every workflow through the services: every event type any code appends is in its ledger,
the chain verifies, and each flow reached its end (not just its first event)."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from ledger_types import appended_event_types
from sqlalchemy import func, select

from hall.cli import main
from hall.demo import data as demo_data
from hall.demo import walkthrough
from hall.models import Event, Staff, Ticket
from hall.models.petition import PetitionCase, PetitionFollowUp, ReceptionBooking
from hall.models.workflow import (
    AccountabilityRecord,
    Appointment,
    CircuitVisit,
    Complaint,
    Escalation,
    FollowUp,
    JointCopy,
    ProxyLeg,
    Rating,
    Rectification,
    SubstitutedTicket,
    Substitution,
    Transfer,
)
from hall.services import ledger_check, projections
from hall.services.storage import ledger
from hall.services.sync import conflicts as sync_conflicts

TODAY = date(2026, 6, 10)  # a Wednesday; the Dragon Boat Festival (06-19) falls in the days after it


def _walk(opened, tickets: int = 60, seed: int = 4):
    first = walkthrough.first_day(opened.db, TODAY)
    demo_data.generate(opened.db, opened.node, tickets, seed=seed, end=first - timedelta(days=1))
    return walkthrough.run(opened.db, opened.node, seed=seed, today=TODAY)


def test_every_event_type_is_produced_and_the_chain_verifies(hall_db):
    report = _walk(hall_db)
    appended = appended_event_types()
    projected = set(projections.build().one)
    with hall_db.db.transaction() as s:
        check = ledger.verify(s)
        assert check.ok, check.problem
        types = walkthrough.event_types(s)
    assert projected - types == set(), "projected types the walkthrough never produced"
    assert appended - types == set(), "appended types the walkthrough never produced"
    # Nothing in the ledger that the source does not name either: the two lists above are the whole story.
    assert types == projected | appended
    # The walkthrough wrote every type itself (demo intake and bootstrap aside, it does not lean on them) — but
    # the calendar's seeding, which only opening a new hall records.
    assert set(report.events) == types - {"calendar.seeded"}
    assert len(report.days) == walkthrough.DAYS and max(report.days) < TODAY and report.notes == ()


def test_each_flow_reaches_its_end(hall_sqlite):
    report = _walk(hall_sqlite)
    with hall_sqlite.db.transaction() as s:
        mine = set(report.tickets)
        states = Counter(t.state for t in s.scalars(select(Ticket).where(Ticket.number.in_(mine))))
        assert states["delivered"] == 2 and states["closed_rejected"] == 1 and states["voided"] == 1
        assert states["withdrawn"] == 1 and states["closed_approved"] >= 4
        assert {c.state for c in s.scalars(select(JointCopy))} >= {"agree", "disagree", "deemed_consent"}
        # The second leg is one of the dates a local holiday moves (walkthrough.dates_around), still out.
        assert [leg.state for leg in s.scalars(select(ProxyLeg))] == ["returned", "sent"]
        assert sorted(t.state for t in s.scalars(select(Transfer))) == ["accepted", "declined"]
        assert [e.state for e in s.scalars(select(Escalation))] == ["decided"]
        rect, pending = s.scalars(select(Rectification).order_by(Rectification.id)).all()
        assert pending.state == "open"  # dates_around: its deadline moved by the local holiday
        assert rect.state == "closed" and rect.upheld and rect.second_level == 4
        assert Counter(r.source for r in s.scalars(select(Rating)))["citizen"] == 4
        sub = s.scalars(select(Substitution)).one()
        assert sub.ended_on is not None and sub.ended_on > sub.started_on
        assert all(row.returned for row in s.scalars(select(SubstitutedTicket)))
        # the 信访 case's 点名约访 (hall/demo/petition_walk.py) is the second kept one
        assert sorted(a.state for a in s.scalars(select(Appointment))) == ["booked", "kept", "kept", "missed"]
        case = s.scalars(select(PetitionCase).order_by(PetitionCase.id)).first()
        assert case.accept_state == "accepted" and case.four_fixed is not None
        assert sorted(v.state for v in s.scalars(select(PetitionFollowUp))) == ["done", "due"]
        assert sorted(b.state for b in s.scalars(select(ReceptionBooking))) == ["booked", "cancelled"]
        assert [v.state for v in s.scalars(select(CircuitVisit))] == ["done"]
        assert sorted(c.state for c in s.scalars(select(Complaint))) == ["answered", "open"]
        assert s.scalar(select(func.count()).where(FollowUp.state == "done")) == 3
        found = {r.cause: r.state for r in s.scalars(select(AccountabilityRecord).where(
            AccountabilityRecord.state != "open"))}
        # the manager's 过错责任追究 opened by hand is found at once
        assert found == {"complaint": "upheld", "deemed_consent": "dismissed", "fault": "upheld"}
        # The holder's own walkthrough ticket went to the B-post while they were away, and back to them.
        handed = {row.ticket_uid for row in s.scalars(select(SubstitutedTicket))}
        back = s.scalars(select(Ticket).where(Ticket.uid.in_(handed), Ticket.number.in_(mine))).one()
        assert back.owner_id == sub.holder_id and back.is_open
        assert s.get(Staff, sub.holder_id).b_post_id == sub.b_post_id
        # Events of the days played are in time order on the hall's chain (the real-time ones come last).
        times = list(s.scalars(select(Event.occurred_at).where(Event.node_id == hall_sqlite.node.node_id,
                                                               Event.occurred_at >= min(report.days))
                               .order_by(Event.seq)))
        played = [t for t in times if t.date() <= max(report.days)]
        assert played == sorted(played)
    # A sync conflict projects its ticket again from the ticket's own events (hall/services/sync/conflicts.py):
    # done for every ticket of every flow above, the state is exactly what it was.
    before = ledger_check.digest(hall_sqlite.db).sha256
    with hall_sqlite.db.transaction() as s:
        top = s.scalar(select(func.max(Event.id)))
        for uid in s.scalars(select(Ticket.uid).where(Ticket.number.in_(mine))).all():
            sync_conflicts.reproject(s, uid, top)
    assert ledger_check.digest(hall_sqlite.db).sha256 == before


def test_demo_data_with_workflows_then_daily_from_the_command_line(tmp_path, capsys):
    data = str(tmp_path / "data")
    assert main(["--data-dir", data, "demo-data", "--tickets", "40", "--workflows"]) == 0
    out = capsys.readouterr().out
    assert "全流程走查" in out and "提示" not in out
    assert main(["--data-dir", data, "daily"]) == 0
    assert main(["--data-dir", data, "ledger", "verify"]) == 0
    assert "台账完好" in capsys.readouterr().out
