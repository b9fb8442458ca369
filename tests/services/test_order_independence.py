"""The same events from two nodes, applied in any interleaving that keeps each chain's own order, give the same
projections — and the facts both nodes tell resolve to the newest (occurred_at, event id), an empty value never
blanking a known one.

Two nodes are two copies of one hall: the hall itself (intake point 000) and a village laptop (001). Both take
tickets for the same returning citizens, with other phones, addresses and spellings of the name, at times that
may tie to the microsecond; the manager at the hall and the village clerk herself both mark her attendance for
one day. Every event is written by the services on its own node; the test only replays them.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import projection_digest as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from hall.models import Applicant, Event
from hall.models.workflow import Attendance
from hall.paths import Paths
from hall.services.base.validators import id_check_char
from hall.services.bootstrap import open_hall
from hall.services.cases import bposts
from hall.services.people import staff
from hall.services.storage import ledger
from hall.services.tickets import intake

DAY = date(2026, 11, 23)  # a Monday
IDS = [f + id_check_char(f) for f in ("11010519491231002", "32058119650208030", "37082620081006962")]
NAMES = ("张三", "张叁", "张三丰")
PHONES = ("", "13800138000", "13900139000")
ADDRESSES = ("", "东村1组", "西村2组")


@dataclass(frozen=True)
class Visit:
    village: bool  # told on the village laptop (else at the hall)
    who: int  # index into IDS
    name: int
    phone: int
    address: int
    minute: int  # after 09:00 on DAY: equal minutes on both nodes tie (broken by the event id)


@dataclass(frozen=True)
class Mark:
    village: bool  # the village clerk checks herself in; at the hall the manager marks her
    status: str
    minute: int


visits = st.builds(Visit, st.booleans(), st.integers(0, 2), st.integers(0, 2), st.integers(0, 2), st.integers(0, 2),
                   st.integers(0, 3))
marks = st.builds(Mark, st.booleans(), st.sampled_from(("present", "absent", "leave", "business")),
                  st.integers(0, 3))


@pytest.fixture(scope="module")
def templates(_sqlite_template, tmp_path_factory):
    """The seeded hall with its staff (conftest's template) and an empty, migrated database to replay into."""
    empty = tmp_path_factory.mktemp("replay-template")
    pd.empty_hall(empty).dispose()
    return _sqlite_template, empty


def _nodes(hall_template: Path, root: Path):
    hall_dir, village_dir = root / "hall", root / "village"
    shutil.copytree(hall_template, hall_dir)
    shutil.copytree(hall_template, village_dir)
    (village_dir / "node.json").unlink()  # the laptop is a node of its own
    hall = open_hall(Paths.resolve(hall_dir))
    village = open_hall(Paths.resolve(village_dir), intake_point="001")
    assert hall.node.node_id != village.node.node_id
    return hall, village


def _play(hall, village, visits_: list[Visit], marks_: list[Mark]) -> None:
    with hall.db.transaction() as s:
        clerk = staff.actor_for(staff.by_number(s, "c02"), hall.node)
        manager = staff.actor_for(staff.by_number(s, "m01"), hall.node)
    with village.db.transaction() as s:
        villager = staff.actor_for(staff.by_number(s, "v01"), village.node)
    at = datetime.combine(DAY, datetime.min.time()).replace(hour=9)
    for v in visits_:
        node, actor = (village, villager) if v.village else (hall, clerk)
        form = intake.IntakeForm("04", intake.ApplicantForm("person", IDS[v.who], NAMES[v.name], PHONES[v.phone],
                                                            ADDRESSES[v.address]))
        with node.db.transaction() as s:
            intake.register(s, actor, form, now=at + timedelta(minutes=v.minute))
    for m in marks_:
        node, actor = (village, villager) if m.village else (hall, manager)
        status = "present" if m.village else m.status  # a clerk can only check herself in
        with node.db.transaction() as s:
            bposts.mark_attendance(s, actor, "v01", status, day=DAY, now=at + timedelta(minutes=m.minute))


def _chains(hall, village, base_events: int) -> tuple[list[Event], list[Event], list[Event]]:
    with hall.db.reading() as s:
        every = list(s.scalars(select(Event).order_by(Event.id)))
        s.expunge_all()  # plain values from here on (the reading session rolls back and closes)
    with village.db.reading() as s:
        mine = list(s.scalars(select(Event).where(Event.node_id == village.node.node_id).order_by(Event.id)))
        s.expunge_all()
    return every[:base_events], every[base_events:], mine


def _replay(empty: Path, root: Path, name: str, order: list[Event]) -> dict[str, list[str]]:
    """Apply ``order`` to a copy of the empty database; its projections, after checking the rule on them."""
    folder = root / name
    shutil.copytree(empty, folder)
    target = pd.empty_hall(folder)  # seeding the calendar again is a no-op: the template has it
    columns = [c.name for c in Event.__table__.columns if c.name != "id"]
    try:
        with target.transaction() as s:
            for ev in order:
                s.execute(Event.__table__.insert(), {c: getattr(ev, c) for c in columns})
                ledger.apply(s, ev, json.loads(ev.payload))
        with target.reading() as s:
            _newest_facts_hold(s, order)
            return pd.tables(s)
    finally:
        target.dispose()


def _newest_facts_hold(s, order: list[Event]) -> None:
    """Per field, the newest non-empty value told wins (the rule itself, checked on the replayed rows)."""
    told: dict[str, list[tuple[str, datetime, dict]]] = {}
    for ev in order:
        if ev.type == "ticket.received":
            a = json.loads(ev.payload)["applicant"]
            told.setdefault(a["id_no"], []).append((ledger.stamp(ev.occurred_at, ev.event_id), ev.occurred_at, a))
    for id_no, facts in told.items():
        facts.sort(key=lambda f: f[0])
        row = s.scalars(select(Applicant).where(Applicant.id_no == id_no)).one()
        assert row.name == facts[-1][2]["name"]
        for field in ("phone", "address"):
            known = [a[field] for _stamp, _at, a in facts if a[field]]
            assert getattr(row, field) == (known[-1] if known else ""), (id_no, field)
        assert row.updated_at == max(at for _stamp, at, _a in facts)
    marks_ = sorted((ledger.stamp(ev.occurred_at, ev.event_id), json.loads(ev.payload)["status"]) for ev in order
                    if ev.type == "attendance.marked")
    if marks_:
        assert s.scalars(select(Attendance.status).where(Attendance.day == DAY)).one() == marks_[-1][1]


def _interleave(a: list[Event], b: list[Event], picks: list[bool]) -> list[Event]:
    """Merge two chains, each in its own order: ``picks`` says which chain gives the next event."""
    i = j = 0
    out = []
    for take_a in picks:
        if take_a and i < len(a):
            out.append(a[i])
            i += 1
        elif j < len(b):
            out.append(b[j])
            j += 1
    return out + a[i:] + b[j:]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(st.lists(visits, min_size=2, max_size=8), st.lists(marks, max_size=4), st.lists(st.booleans(), max_size=30))
def test_two_chains_in_any_interleaving_give_the_same_projections(templates, visits_, marks_, picks):
    hall_template, empty = templates
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        hall, village = _nodes(hall_template, root)
        try:
            with hall.db.reading() as s:
                base_events = s.scalar(select(func.count()).select_from(Event))
            _play(hall, village, visits_, marks_)
            base, at_hall, in_village = _chains(hall, village, base_events)
        finally:
            hall.db.dispose()
            village.db.dispose()
        first = _replay(empty, root, "hall-first", base + at_hall + in_village)
        second = _replay(empty, root, "village-first", base + in_village + at_hall)
        mixed = _replay(empty, root, "mixed", base + _interleave(at_hall, in_village, picks))
        assert not pd.differences(first, second), pd.differences(first, second)
        assert not pd.differences(first, mixed), pd.differences(first, mixed)
