"""Projections are installed explicitly: one registry, every appended event type has exactly one projector, an
unknown type is refused before anything is written, and a script that imports one service projects like the GUI."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from datetime import datetime
from pathlib import Path

import pytest
from ledger_types import appended_event_types
from sqlalchemy import create_engine, func, select

from hall.models import Event, Ticket
from hall.models.base import Base
from hall.services import projections
from hall.services.base.actor import Actor
from hall.services.storage import ledger
from hall.services.storage.db import Database


def test_every_appended_type_has_exactly_one_projection_and_nothing_is_projected_for_nobody():
    built = projections.build()
    appended = appended_event_types()
    assert len(appended) > 40  # the scan really reads the services
    missing = sorted(appended - built.types)
    assert missing == [], f"appended without a projector: {missing}"
    unused = sorted(built.types - set(appended))
    assert unused == [], f"projectors for types no code appends: {unused}"
    # One function per type (collect refuses two), and a set-based twin only beside a one-event projector.
    assert set(built.many) <= set(built.one)


def test_two_projectors_for_one_type_are_refused():
    planted = type(sys)("planted_projectors")

    @ledger.projector("ticket.closed")
    def _again(session, ev, payload):
        return None

    _again.__module__ = planted.__name__
    planted._again = _again
    with pytest.raises(RuntimeError, match=r"two projectors for ticket\.closed"):
        projections.collect((*projections.MODULES, planted))


@pytest.fixture
def bare_db(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'bare.sqlite3'}")
    Base.metadata.create_all(engine)
    db = Database(engine)
    yield db
    db.dispose()


def _events(db: Database) -> int:
    with db.transaction() as s:
        return s.scalar(select(func.count()).select_from(Event))


def test_a_database_without_installed_projections_cannot_append(bare_db):
    with pytest.raises(ledger.ProjectionsNotInstalled), bare_db.transaction() as s:
        ledger.append(s, Actor.system("node-a"), "settings.changed", {"key": "hall_name", "value": "x"})
    assert _events(bare_db) == 0


def test_an_unknown_event_type_is_refused_before_anything_is_written(bare_db):
    projections.install(bare_db)
    with pytest.raises(ledger.UnknownEventType, match=r"ticket\.teleported"), bare_db.transaction() as s:
        ledger.append(s, Actor.system("node-a"), "ticket.teleported", {"to": "moon"})
    with pytest.raises(ledger.UnknownEventType), bare_db.transaction() as s:
        ledger.append_many(s, Actor.system("node-a"), "ticket.teleported", [({"to": "moon"}, None)])
    assert _events(bare_db) == 0


def test_replaying_an_unknown_event_type_raises_instead_of_skipping(bare_db):
    projections.install(bare_db)
    ev = Event(event_id="e1", node_id="n", seq=1, actor_id=None, actor_name="x", actor_role="system",
               occurred_at=datetime(2026, 12, 1, 9), type="ticket.teleported", ticket_uid=None,
               payload=json.dumps({}), prev_hash=ledger.GENESIS, hash="0" * 64)
    with pytest.raises(ledger.UnknownEventType), bare_db.transaction() as s:
        ledger.apply(s, ev, {})


def test_a_script_importing_only_intake_closes_an_immediate_ticket(hall_sqlite):
    """The defect the registry fixes: with projectors registered on import, a script importing only the intake
    service saved an on-the-spot ticket whose ledger said closed while its row stayed accepted and open."""
    home = Path(hall_sqlite.db.engine.url.database).parent
    script = textwrap.dedent(f"""
        import json, sys
        from datetime import datetime
        from hall.paths import Paths
        from hall.services.bootstrap import open_hall
        from hall.services.people import staff
        from hall.services.tickets import intake

        from pathlib import Path
        opened = open_hall(Paths(Path({str(home)!r})))
        with opened.db.transaction() as s:
            clerk = staff.actor_for(staff.by_number(s, "c02"), opened.node)
            form = intake.IntakeForm("11", intake.ApplicantForm("person", "11010519491231002X", "张三",
                                                                "13812345678", "东村3组"))
            r = intake.register(s, clerk, form, now=datetime(2026, 5, 6, 9))
        from sqlalchemy import text
        with opened.db.transaction() as s:
            row = s.execute(text("SELECT state, is_open FROM tickets WHERE number = :n"), {{"n": r.number}}).one()
        print(json.dumps([row[0], bool(row[1])]))
        loaded = sorted(m for m in sys.modules if m.startswith("hall.services.cases"))
        print(json.dumps(loaded), file=sys.stderr)
        opened.db.dispose()
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    state, is_open = json.loads(proc.stdout.strip().splitlines()[-1])
    assert (state, is_open) == ("closed_approved", False)


def test_ticket_rows_are_only_what_the_projectors_wrote(hall_sqlite):
    # Sanity for the fixture hall: every ticket row has its ticket.received event.
    with hall_sqlite.db.transaction() as s:
        rows = s.scalar(select(func.count()).select_from(Ticket))
        received = s.scalar(select(func.count()).select_from(Event).where(Event.type == "ticket.received"))
    assert rows == received
