"""A ledger written by the previous release (tests/fixtures/release-1, built by its own command line through
tests/fixtures/build_release_1.py) opens with the current code: its chain verifies and it holds every event type.

The fixture is the old release's output and is never rebuilt by the current code: what this test guards is that
today's Hall still reads yesterday's ledgers.
"""

from __future__ import annotations

import gzip
import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from ledger_types import appended_event_types
from sqlalchemy import func, select

from hall.cli import main
from hall.models import Event
from hall.paths import Paths
from hall.services import projections
from hall.services.bootstrap import open_hall
from hall.services.people import staff
from hall.services.storage import ledger
from hall.services.tickets import intake

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "release-1"
META = json.loads((FIXTURE / "release-1.json").read_text(encoding="utf-8"))
# Event types the code added after release 1 (the old ledger cannot hold them): name each one here when it comes.
NEW_SINCE_RELEASE_1: frozenset[str] = frozenset({
    "calendar.seeded",  # the calendar seeding as an event
    "staff.changed", "staff.active_set", "staff.password_reset",  # staff administration
    "intake_point.changed",  # 管理 → 窗口与代办点: a proxy point renamed or disabled
    "sync.peer_enrolled", "sync.peer_revoked", "sync.joined",  # village-laptop sync (hall/services/sync)
    "sync.conflict_resolved",  # a sync conflict resolved by the manager (hall/services/sync/conflicts.py)
    # every derived date by the one date rule: 补正 requests at any stage, re-derived on calendar changes
    "supplement.requested", "supplement.due_changed", "joint.due_changed", "proxy.due_changed",
    "rectification.due_changed", "complaint.due_changed", "followup.due_changed", "appointment.moved",
    # 涉法信访 on the ticket engine (hall/services/cases/petition*.py, hall/services/registers/reception.py)
    "petition.registered", "petition.accept_decided", "petition.agent_added", "petition.four_fixed",
    "petition.feedback_given", "petition.hearing_recorded", "petition.transferred", "petition.transfer_answered",
    "petition.followups_scheduled", "petition.followup_done", "petition.due_changed",
    "reception.slot_posted", "reception.booked", "reception.cancelled",
    # 效能监察 findings and 一次性收费 (hall/services/registers/inspection.py, hall/services/tickets/fees.py)
    "inspection.finding_recorded", "ticket.fee_charged",
    "rating.screen_enrolled",  # the rating screen's enrolled key (the citizen channel)
    "ledger.head_signed",  # signed chain heads (tamper evidence with an anchor)
})


@pytest.fixture
def release_1(tmp_path) -> Path:
    """A copy of the fixture's data directory (the fixture itself is never opened: opening may upgrade it)."""
    data = tmp_path / "data"
    data.mkdir()
    with gzip.open(FIXTURE / "hall.sqlite3.gz", "rb") as src, open(data / "hall.sqlite3", "wb") as dst:
        shutil.copyfileobj(src, dst)
    shutil.copyfile(FIXTURE / "node.json", data / "node.json")
    return data


def test_the_fixture_is_one_small_self_contained_file(release_1):
    assert sorted(p.name for p in FIXTURE.iterdir()) == ["hall.sqlite3.gz", "node.json", "release-1.json"]
    assert (FIXTURE / "hall.sqlite3.gz").stat().st_size < 2_000_000
    db = release_1 / "hall.sqlite3"
    assert db.stat().st_size == META["sqlite_bytes"]
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # no WAL needed beside it
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone()[0] == META["alembic_revision"]
    finally:
        conn.close()
    assert len(META["commit"]) == 40 and not META["code_dirty"]


def test_the_current_code_opens_it_and_the_chain_verifies(release_1, capsys):
    assert main(["--data-dir", str(release_1), "ledger", "verify"]) == 0
    out = capsys.readouterr().out
    # Opening it (the command opens the hall) upgraded it and recorded, as one event, the calendar release 1 had
    # written into its tables directly; every one of its own events still verifies.
    assert f"台账完好：{META['events_total'] + 1} 条事件，{META['nodes']} 个终端" in out


def test_it_holds_every_event_type_the_code_writes(release_1):
    opened = open_hall(Paths.resolve(release_1))
    try:
        with opened.db.transaction() as s:
            counts = dict(s.execute(select(Event.type, func.count()).group_by(Event.type)).all())
    finally:
        opened.db.dispose()
    # Opening lost nothing and wrote only the calendar's seeding, which release 1 wrote outside the ledger.
    assert counts == {**META["events_by_type"], "calendar.seeded": 1}
    written_now = set(projections.build().one) | appended_event_types()
    assert written_now - NEW_SINCE_RELEASE_1 - set(counts) == set(), "types the fixture lacks"
    assert set(counts) - written_now == set(), "types the current code no longer knows"


def test_the_next_save_on_it_works(release_1):
    opened = open_hall(Paths.resolve(release_1))
    try:
        with opened.db.transaction() as s:
            clerk = staff.actor_for(staff.by_number(s, "W0101"), opened.node)
            result = intake.register(s, clerk, intake.IntakeForm(
                "04", intake.ApplicantForm("person", "11010519491231002X", "张三", "13800138000")))
        assert result.state == "closed_approved"
        with opened.db.transaction() as s:
            check = ledger.verify(s)
        assert check.ok and check.events == META["events_total"] + 3, check.problem  # seeding, received, closed
    finally:
        opened.db.dispose()
