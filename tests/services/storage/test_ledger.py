"""The ledger: hash chain per node, tamper detection, projections equal to a replay of the events."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import datetime

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from hall.errors import ConflictError
from hall.models import Applicant, Base, Event, Staff, Ticket
from hall.services import projections
from hall.services.storage import identity, ledger
from hall.services.storage.db import Database
from hall.services.tickets import intake
from hall.services.tickets import record as tickets

ZHANG = intake.ApplicantForm("person", "11010519491231002X", "张三", "13812345678", "东村3组")


def _some_tickets(opened, people):
    a, b, c = _register_three(opened, people)
    with opened.db.transaction() as s:
        tickets.supplement_received(s, people["c02"], b.number, now=datetime(2026, 3, 4, 9))
        tickets.void(s, people["m01"], c.number, "重复登记")
    return a, b, c


@pytest.mark.ledger_edited
def test_chain_verifies_and_names_the_first_tampered_event(hall_db, people):
    _some_tickets(hall_db, people)
    with hall_db.db.transaction() as s:
        report = ledger.verify(s)
        assert report.ok and report.nodes == 2 and report.events > 8
        victim = s.scalars(select(Event).where(Event.type == "ticket.supplemented")).one()
        victim_id = victim.event_id
    # Someone edits a payload behind the program's back (e.g. with a SQLite browser).
    with hall_db.db.engine.begin() as conn:
        conn.execute(sa.text("UPDATE events SET payload = replace(payload, '2026-03-04', '2026-03-01') "
                             "WHERE event_id = :e"), {"e": victim_id})
    with hall_db.db.transaction() as s:
        report = ledger.verify(s)
        assert not report.ok
        assert report.first_broken.event_id == victim_id
        assert "内容" in report.problem


@pytest.mark.ledger_edited
def test_deleting_the_last_event_is_detected(hall_db, people):
    _some_tickets(hall_db, people)
    with hall_db.db.engine.begin() as conn:
        last = conn.execute(sa.text("SELECT max(id) FROM events")).scalar_one()
        conn.execute(sa.text("DELETE FROM events WHERE id = :i"), {"i": last})
    with hall_db.db.transaction() as s:
        assert not ledger.verify(s).ok


def test_projections_equal_a_replay_of_the_events(hall_sqlite, tmp_path):
    from hall_fixtures import actors_of

    people = actors_of(hall_sqlite)
    _some_tickets(hall_sqlite, people)
    # Calendar changes are events too: confirming a year and a local holiday must replay into the same rows.
    from datetime import date

    from hall.services.calendar import workdays as calendar_service

    notice = calendar_service.notice_from_dict({
        "year": 2027, "notice": "测试用（非真实通知）",
        "holidays": [{"name": "元旦", "start": "2027-01-01", "end": "2027-01-03"}],
        "makeup_workdays": [{"date": "2027-01-09", "name": "元旦"}]})
    with hall_sqlite.db.transaction() as s:
        calendar_service.set_year(s, people["admin"], 2027, notice)
        calendar_service.add_local_holiday(s, people["admin"], date(2027, 3, 8), "三月三（测试）")
    replica = projections.install(Database.open(f"sqlite:///{tmp_path / 'replica.sqlite3'}", migrate=False))
    Base.metadata.create_all(replica.engine)
    with hall_sqlite.db.transaction() as src, replica.transaction() as dst:
        for ev in src.scalars(select(Event).order_by(Event.id)):
            copy = Event(**{c.name: getattr(ev, c.name) for c in Event.__table__.columns})
            dst.add(copy)
            dst.flush()
            ledger.apply(dst, copy, json.loads(copy.payload))
    cols = [c for c in Ticket.__table__.columns if c.name != "id"]
    with hall_sqlite.db.transaction() as a, replica.transaction() as b:
        rows_a = [tuple(getattr(t, c.name) for c in cols) for t in a.scalars(select(Ticket).order_by(Ticket.number))]
        rows_b = [tuple(getattr(t, c.name) for c in cols) for t in b.scalars(select(Ticket).order_by(Ticket.number))]
    assert len(rows_a) == 3
    assert rows_a == rows_b
    from hall.models import CalendarDay, CalendarYear

    def calendar_rows(session):
        days = session.execute(select(CalendarDay.day, CalendarDay.is_workday, CalendarDay.kind, CalendarDay.name)
                               .where(CalendarDay.day >= date(2027, 1, 1)).order_by(CalendarDay.day)).all()
        year = session.execute(select(CalendarYear.status, CalendarYear.notice_ref, CalendarYear.confirmed_by)
                               .where(CalendarYear.year == 2027)).all()
        return [tuple(r) for r in days], [tuple(r) for r in year]

    with hall_sqlite.db.transaction() as a, replica.transaction() as b:
        assert calendar_rows(a) == calendar_rows(b)
        assert len(calendar_rows(a)[0]) == 5  # 3 holiday days, 1 make-up day, 1 local holiday
    replica.dispose()


def test_new_events_name_their_actor_by_the_stable_uid_and_the_hash_covers_it(hall_db, people):
    _some_tickets(hall_db, people)
    with hall_db.db.transaction() as s:
        clerk = s.scalars(select(Staff).where(Staff.staff_no == "c02")).one()
        ev = s.scalars(select(Event).where(Event.type == "ticket.received").order_by(Event.id)).first()
        assert (ev.format, ev.actor_id, ev.actor_uid) == (ledger.FORMAT, None, clerk.uid)
        victim = ev.event_id
        assert ledger.verify(s).ok
    other = people["c03"].staff_uid
    tampering = [
        ("UPDATE events SET actor_uid = :o WHERE event_id = :e", "内容"),  # blame someone else
        ("UPDATE events SET actor_id = 3 WHERE event_id = :e", "内容"),  # a local id the v2 header does not hash
        ("UPDATE events SET format = 1 WHERE event_id = :e", "内容"),  # pass it off as a release-1 event
        ("UPDATE events SET format = 7 WHERE event_id = :e", "格式"),
    ]
    for sql, words in tampering:
        with hall_db.db.engine.begin() as conn:
            saved = conn.execute(sa.text("SELECT format, actor_id, actor_uid FROM events WHERE event_id = :e"),
                                 {"e": victim}).one()
            conn.execute(sa.text(sql), {"e": victim, "o": other})
        with hall_db.db.transaction() as s:
            report = ledger.verify(s)
            assert not report.ok and report.first_broken.event_id == victim and words in report.problem, sql
        with hall_db.db.engine.begin() as conn:
            conn.execute(sa.text("UPDATE events SET format = :f, actor_id = :i, actor_uid = :u WHERE event_id = :e"),
                         {"f": saved[0], "i": saved[1], "u": saved[2], "e": victim})
    with hall_db.db.transaction() as s:
        assert ledger.verify(s).ok


def test_both_header_formats_hash_as_specified():
    at = datetime(2026, 3, 2, 9, 0, 0, 123456)
    common = dict(event_id="e", node_id="n", seq=1, actor_name="王民政", actor_role="clerk", occurred_at=at,
                  type="ticket.closed", ticket_uid="t", payload='{"a":1}')
    v1 = ledger.event_hash(ledger.GENESIS, actor_id=2, format=1, **common)
    # Release 1's header, byte for byte: what its events were hashed over.
    head1 = ('{"actor_id":2,"actor_name":"王民政","actor_role":"clerk","event_id":"e","node_id":"n",'
             '"occurred_at":"2026-03-02T09:00:00.123456","seq":1,"ticket_uid":"t","type":"ticket.closed"}')
    assert v1 == hashlib.sha256(f"{ledger.GENESIS}\n{head1}\n{{\"a\":1}}".encode()).hexdigest()
    v2 = ledger.event_hash(ledger.GENESIS, actor_id=None, actor_uid="u-1", format=2, **common)
    head2 = ('{"actor_name":"王民政","actor_role":"clerk","actor_uid":"u-1","event_id":"e","node_id":"n",'
             '"occurred_at":"2026-03-02T09:00:00.123456","seq":1,"ticket_uid":"t","type":"ticket.closed","v":2}')
    assert v2 == hashlib.sha256(f"{ledger.GENESIS}\n{head2}\n{{\"a\":1}}".encode()).hexdigest()
    assert ledger.event_hash(ledger.GENESIS, actor_id=None, actor_uid="u-2", format=2, **common) != v2


def test_a_staff_actor_without_its_uid_cannot_write(hall_db, people):
    nameless = dataclasses.replace(people["c02"], staff_uid=None)
    with pytest.raises(ValueError, match="no stable uid"), hall_db.db.transaction() as s:
        intake.register(s, nameless, intake.IntakeForm("11", ZHANG), now=datetime(2026, 3, 2, 9))
    with hall_db.db.transaction() as s:
        assert ledger.verify(s).ok  # nothing was written


def test_a_rolled_back_staff_row_leaves_no_stale_translation(hall_db, people):
    """The per-database uid -> row id cache learns only what commits. A sync import rolled back on one counter
    and done on another: the first counter then resolves the person to the row the other one wrote."""
    uid = "9a7f4c1e-0000-4000-8000-000000000001"
    added = Event(event_id="3d0c8a52-0000-4000-8000-000000000002", node_id="elsewhere", seq=1, format=2,
                  actor_id=None, actor_uid=None, actor_name="系统", actor_role="system",
                  occurred_at=datetime(2026, 3, 1, 8), type="staff.added", ticket_uid=None, payload="{}")
    payload = {"uid": uid, "staff_no": "S99", "name": "周临时", "role": "clerk", "post": "", "window_code": "W02",
               "intake_point": "000", "b_post_uid": None, "password_hash": ""}
    here = hall_db.db
    there = projections.install(Database.open(str(here.engine.url.render_as_string(hide_password=False))))
    try:
        with pytest.raises(RuntimeError), here.transaction() as s:
            ledger.apply(s, added, payload)
            assert identity.staff_id(s, uid) is not None
            raise RuntimeError("the import fails after the row was written")
        with there.transaction() as s:  # meanwhile the other counter: a new person first (SQLite reuses the id)
            from hall.services.people import staff

            staff.add_staff(s, people["admin"], staff.StaffForm("S98", "吴另一", "clerk", "", "W02"))
            ledger.apply(s, added, payload)
        with here.transaction() as s:
            row = s.scalars(select(Staff).where(Staff.uid == uid)).one()
            assert identity.staff_id(s, uid) == row.id
    finally:
        there.dispose()


def test_replaying_an_event_of_an_unknown_format_raises(hall_sqlite):
    ev = Event(event_id="e-future", node_id="n", seq=1, format=3, actor_id=None, actor_uid=None, actor_name="x",
               actor_role="system", occurred_at=datetime(2026, 12, 1, 9), type="settings.changed", ticket_uid=None,
               payload=json.dumps({"values": {}}), prev_hash=ledger.GENESIS, hash="0" * 64)
    with pytest.raises(ledger.UnknownEventFormat, match="格式 3"), hall_sqlite.db.transaction() as s:
        ledger.apply(s, ev, {"values": {}})


@pytest.mark.parametrize("per_ticket", [False, True])
def test_append_events_writes_what_appending_one_by_one_writes(hall_db, people, monkeypatch, per_ticket):
    """Several actors on two nodes and a node with no chain yet, several types (a set-based projector's, ordinary
    ones', a recorded-only one), one ticket's events in between others': the same rows, hashes, heads and ticket
    rows as ``append`` one at a time — also when the projection is grouped by ticket (``per_ticket``)."""
    import itertools
    import uuid
    from datetime import date

    from hall.services.base.actor import Actor

    a, b, c = (r.number for r in _register_three(hall_db, people))
    with hall_db.db.reading() as s:
        uid_a, uid_b, uid_c = (tickets.get(s, n).uid for n in (a, b, c))
        state_c = tickets.get(s, c).state
    elsewhere = Actor(None, "系统", "system", "node-never-seen-before")
    at = datetime(2026, 3, 5, 9)
    supplemented = {"accepted_on": date(2026, 3, 5), "due_date": date(2026, 3, 19), "due_provisional": False}
    closed = {"state": "closed_approved", "result": "准予办理", "on_time": True}
    drafts = [
        ledger.Draft(people["c02"], "ticket.supplemented", supplemented, uid_b, at),
        ledger.Draft(people["v01"], "ticket.voided", {"reason": "重复登记（测试）", "from_state": state_c}, uid_c, at),
        ledger.Draft(people["m01"], "ticket.printed", {"paper": "receipt"}, uid_a, at),
        ledger.Draft(people["c02"], "ticket.closed", closed, uid_b, at),
        ledger.Draft(elsewhere, "ticket.printed", {"paper": "receipt"}, uid_b, at),
    ]

    def fixed_ids(monkeypatch):
        counter = itertools.count(1)
        monkeypatch.setattr(ledger.uuid, "uuid4", lambda: uuid.UUID(int=next(counter), version=4))

    def state(s, last):
        events = s.execute(select(Event.event_id, Event.node_id, Event.seq, Event.type, Event.ticket_uid,
                                  Event.payload, Event.prev_hash, Event.hash).where(Event.id > last)
                           .order_by(Event.id)).all()
        heads = s.execute(sa.text("SELECT node_id, seq, hash FROM node_heads ORDER BY node_id")).all()
        rows = s.execute(select(*Ticket.__table__.columns).order_by(Ticket.id)).all()
        return [tuple(r) for r in events], [tuple(r) for r in heads], [tuple(r) for r in rows]

    def run(fn):
        fixed_ids(monkeypatch)
        s = hall_db.db.session()
        try:
            s.begin()
            last = s.scalar(select(sa.func.max(Event.id)))
            fn(s)
            s.flush()
            assert ledger.verify(s).ok
            return state(s, last)
        finally:
            s.rollback()
            s.close()

    expected = run(lambda s: [ledger.append(s, d.actor, d.type, d.payload, ticket_uid=d.ticket_uid, at=d.at)
                              for d in drafts])
    got = run(lambda s: ledger.append_events(s, drafts, settle=per_ticket, per_ticket=per_ticket))
    assert got == expected
    events, heads, rows = got
    assert len(events) == 5 and ("node-never-seen-before", 1) in {h[:2] for h in heads}
    state_at = [col.name for col in Ticket.__table__.columns].index("state")
    assert {r[state_at] for r in rows} >= {"closed_approved", "voided"}


def _register_three(opened, people):
    with opened.db.transaction() as s:
        return [intake.register(s, people["c02"], intake.IntakeForm("11", ZHANG), now=datetime(2026, 3, 2, 9)),
                intake.register(s, people["c02"], intake.IntakeForm("09", ZHANG), now=datetime(2026, 3, 2, 10)),
                intake.register(s, people["v01"], intake.IntakeForm("18", ZHANG), now=datetime(2026, 3, 3, 9))]


_texts = st.text(max_size=12)  # any characters: Chinese, quotes, backslashes, controls, U+2028 …


@settings(max_examples=300, deadline=None)
@given(_texts, _texts, st.integers(-2**70, 2**70), st.none() | _texts, _texts, _texts, _texts, _texts,
       st.none() | _texts)
def test_format_2_header_is_the_canonical_json_of_its_fields(event_id, node_id, seq, actor_uid, name, role, at,
                                                             kind, ticket_uid):
    """The header written out field by field is byte for byte canonical() of the header dict, the text release 2
    hashes — so every stored hash still verifies."""
    fields = {"v": 2, "event_id": event_id, "node_id": node_id, "seq": seq, "actor_uid": actor_uid,
              "actor_name": name, "actor_role": role, "occurred_at": at, "type": kind, "ticket_uid": ticket_uid}
    assert ledger._head_2(event_id, node_id, seq, actor_uid, name, role, at, kind, ticket_uid) == ledger.canonical(
        fields)


def test_format_2_header_of_other_value_types_falls_back_to_canonical():
    # A bool seq or a non-str name (never written by the program) still gives canonical()'s text.
    assert ledger._head_2("e", "n", True, None, 5, "r", "t", "k", None) == ledger.canonical(
        {"v": 2, "event_id": "e", "node_id": "n", "seq": True, "actor_uid": None, "actor_name": 5, "actor_role": "r",
         "occurred_at": "t", "type": "k", "ticket_uid": None})


def test_a_stored_format_2_hash_is_unchanged():
    # A hash of release 2 (computed with the canonical dict): the header writer must keep giving it.
    digest = ledger.event_hash(
        ledger.GENESIS, event_id="fb8c4a5a-1f02-4807-85b7-da2810b0fdda", node_id="34aa8257-c42c-4c52-bad8-60de4582fb8e",
        seq=2, actor_id=None, actor_name="系统", actor_role="system", occurred_at=datetime(2026, 3, 2, 9),
        type="ticket.received", ticket_uid="46af87da-53b8-4143-a5d0-17f6f8010463", payload='{"a":"中"}', format=2,
        actor_uid=None)
    head = json.dumps({"v": 2, "event_id": "fb8c4a5a-1f02-4807-85b7-da2810b0fdda",
                       "node_id": "34aa8257-c42c-4c52-bad8-60de4582fb8e", "seq": 2, "actor_uid": None,
                       "actor_name": "系统", "actor_role": "system", "occurred_at": "2026-03-02T09:00:00.000000",
                       "type": "ticket.received", "ticket_uid": "46af87da-53b8-4143-a5d0-17f6f8010463"},
                      ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    assert digest == hashlib.sha256(f"{ledger.GENESIS}\n{head}\n{{\"a\":\"中\"}}".encode()).hexdigest()


def test_an_on_the_spot_close_folded_into_its_intake_leaves_the_row_the_two_projectors_leave(hall_db, people):
    """Projected per ticket (a sync import), a ticket's ``ticket.closed`` right after its ``ticket.received`` is
    folded into the INSERT (ledger.bulk_projector's ``folds``): the same ticket row as projecting both in order.
    A close whose compare-and-set would miss is refused as the UPDATE refuses it, naming the close."""
    with hall_db.db.transaction() as s:
        done = intake.register(s, people["c02"], intake.IntakeForm("11", ZHANG), now=datetime(2026, 3, 2, 9))
    assert done.state == "closed_approved"
    columns = [c for c in Ticket.__table__.columns if c.name != "id"]
    with hall_db.db.reading() as s:
        uid = tickets.get(s, done.number).uid
        before = s.execute(select(*columns).where(Ticket.uid == uid)).one()
        rows = [dict(r) for r in s.execute(select(*[c for c in Event.__table__.columns if c.name != "id"])
                                           .where(Event.ticket_uid == uid).order_by(Event.id)).mappings()]
    assert [r["type"] for r in rows] == ["ticket.received", "ticket.closed"]
    assert projections.build().folds == {"ticket.received": "ticket.closed"}

    def again(payloads, **kw):
        with hall_db.db.transaction() as s:
            s.execute(sa.delete(Ticket.__table__).where(Ticket.uid == uid))
            ledger.project(s, rows, payloads, per_ticket=True, **kw)
            return s.execute(select(*columns).where(Ticket.uid == uid)).one()

    payloads = [json.loads(r["payload"]) for r in rows]
    assert again(payloads) == before
    stale = [payloads[0], {**payloads[1], tickets.PARENT: 7}]

    class Named(Exception):
        pass

    with pytest.raises(Named, match=r"ticket\.closed"):
        again(stale, failed=lambda row, exc: Named(f"{row['type']}: {exc}"))
    with pytest.raises(ConflictError, match="办结与其当前状态不符"):
        again(stale)
    with hall_db.db.reading() as s:
        assert s.execute(select(*columns).where(Ticket.uid == uid)).one() == before  # rolled back: as it was


@settings(max_examples=300, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                                 max_size=3), max_leaves=8),
       st.sampled_from(["", " ", "\n", "x", "}", "\ufeff"]), st.booleans())
def test_a_payload_loads_as_json_loads_loads_it(value, around, before):
    """ledger.loads: the value json.loads gives, or its very error — canonical text, whitespace or junk around it,
    a BOM, anything cut short."""
    text = ledger.canonical({"v": value})
    for candidate in (text, (around + text) if before else (text + around), text[:-1], around):
        try:
            expected = json.loads(candidate)
        except ValueError as exc:
            with pytest.raises(type(exc)) as got:
                ledger.loads(candidate)
            assert str(got.value) == str(exc)
        else:
            assert ledger.loads(candidate) == expected


@settings(max_examples=200, deadline=None)
@given(st.sampled_from([1, 2]), _texts, st.none() | st.integers(-5, 10**6), st.none() | _texts, _texts,
       st.none() | _texts, st.datetimes())
def test_the_hash_read_from_a_bundles_event_is_the_event_hash(fmt, text, actor_id, actor_uid, kind, ticket_uid, at):
    """ledger.event_hash_of (a sync import's re-hash, from the event's mapping, its time as text): the digest
    event_hash computes from the values, in both header formats."""
    fields = dict(event_id=text + "e", node_id=text + "n", seq=7, actor_id=actor_id, actor_uid=actor_uid,
                  actor_name=text, actor_role="clerk", type=kind, ticket_uid=ticket_uid, payload=f'{{"a":{text!r}}}',
                  format=fmt)
    expected = ledger.event_hash("p" * 64, occurred_at=at, **fields)
    assert ledger.event_hash_of({**fields, "prev_hash": "p" * 64,
                                 "occurred_at": at.isoformat(timespec="microseconds")}) == expected


def test_the_intake_run_built_column_by_column_stores_what_the_row_by_row_build_stores(hall_db, people, monkeypatch):
    """A sync import's run of intakes (intake._received_columns, each on-the-spot close folded in): byte for byte
    the ticket and applicant values SQLite holds after the row-by-row build — several items and clerks, a
    citizen without a phone, one who came twice, an on-the-spot close and open tickets."""
    quiet = intake.ApplicantForm("person", "110105195001010004", "李四", "", "")
    with hall_db.db.transaction() as s:
        for i, (code, who, applicant) in enumerate([("11", "c02", ZHANG), ("09", "c02", quiet), ("18", "v01", ZHANG),
                                                    ("11", "v01", quiet)]):
            intake.register(s, people[who], intake.IntakeForm(code, applicant), now=datetime(2026, 3, 2, 9 + i))
    with hall_db.db.reading() as s:
        rows = [dict(r) for r in s.execute(select(*[c for c in Event.__table__.columns if c.name != "id"])
                                           .where(Event.type.in_(["ticket.received", "ticket.closed"]))
                                           .order_by(Event.id)).mappings()]
    payloads = [json.loads(r["payload"]) for r in rows]
    assert [r["type"] for r in rows].count("ticket.closed") >= 1

    def stored(columns_too: bool):
        if not columns_too:
            monkeypatch.setattr(intake, "_received_columns", lambda *a: None)
        try:
            with hall_db.db.transaction() as s:
                s.execute(sa.delete(Ticket.__table__))
                s.execute(sa.text("DELETE FROM applicants"))
                ledger.project(s, rows, payloads, per_ticket=True)
                conn = s.connection()
                out = tuple(conn.exec_driver_sql(  # the raw values (not the ids: a PostgreSQL sequence moves on)
                    f"SELECT {', '.join(c.name for c in table.columns if c.name != 'id')} FROM {table.name} "
                    f"ORDER BY {order}").fetchall() for table, order in ((Ticket.__table__, "uid"),
                                                                          (Applicant.__table__, "id_no")))
                s.rollback()
                return out
        finally:
            monkeypatch.undo()

    with hall_db.db.reading() as s:  # (the columns do build this run, its closes folded in: not row by row)
        waves = ledger._by_ticket(rows, payloads, projections.build().folds)
        run = [i for i, r in enumerate(waves[0]) if r["type"] == "ticket.received"]
        folds = [waves[2][i] for i in run]
        assert any(folds) and intake._received_columns(s, [waves[0][i] for i in run], [waves[1][i] for i in run],
                                                      folds, {}) is not None
    by_rows, by_columns = stored(False), stored(True)
    assert by_columns == by_rows
    assert len(by_rows[0]) == 4 and len(by_rows[1]) == 2
