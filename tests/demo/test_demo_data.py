"""Demo data: real event chains that verify, replay to the same projections, and match the intake service."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from hall.cli import main as main_cli
from hall.demo import data as demo_data
from hall.errors import ValidationError
from hall.models import (
    Applicant,
    CatalogVersion,
    Event,
    IntakePoint,
    Item,
    NodeHead,
    Staff,
    Ticket,
    TicketSerial,
)
from hall.services import ledger_check, projections
from hall.services.base.actor import Actor
from hall.services.people import staff
from hall.services.storage import ledger, projection_keys
from hall.services.storage.db import Database
from hall.services.tickets import intake
from hall.services.tickets.numbering import parse_number

START, END = date(2025, 1, 2), date(2025, 6, 30)
N = 2000


def generate(opened, n: int = N, seed: int = 5) -> demo_data.DemoReport:
    return demo_data.generate(opened.db, opened.node, n, seed=seed, start=START, end=END)


def all_rows(session, model) -> list[tuple]:
    cols = list(model.__table__.columns)
    return [tuple(r) for r in session.execute(select(*cols).order_by(cols[0]))]


def test_chain_verifies_and_counts_are_plausible(hall_db):
    report = generate(hall_db)
    assert report.tickets == N
    with hall_db.db.transaction() as s:
        check = ledger.verify(s)
        assert check.ok, check.problem
        assert check.nodes == 5  # the hall and four village laptops, each its own chain
        assert s.scalar(select(func.count()).select_from(Ticket)) == N
        events = Counter(dict(s.execute(select(Event.type, func.count()).group_by(Event.type)).all()))
        assert events["ticket.received"] == N
        # The tickets' events, with the 补正 requests intake records beside a ticket saved as 补正.
        assert sum(v for k, v in events.items() if k.startswith(("ticket.", "supplement."))) == report.events
        heads = {h.node_id: h.seq for h in s.scalars(select(NodeHead))}
        per_node = dict(s.execute(select(Event.node_id, func.max(Event.seq)).group_by(Event.node_id)).all())
        assert heads == per_node

        kinds = Counter(dict(s.execute(select(Ticket.kind, func.count()).group_by(Ticket.kind)).all()))
        catalogue = Counter(s.scalars(select(Item.default_kind).where(Item.is_current)))
        assert set(kinds) == {"explain", "immediate", "promised", "proxy", "joint"}
        for kind in ("immediate", "promised", "proxy", "joint"):  # catalogue proportions, loosely
            expected = catalogue[kind] / sum(catalogue.values())
            assert 0.5 * expected < kinds[kind] / N < 1.6 * expected, kind
        assert s.scalar(select(func.count(func.distinct(Ticket.window_code)))) == 11
        assert s.scalar(select(func.count(func.distinct(Ticket.item_code)))) == 76
        points = Counter(dict(s.execute(select(Ticket.intake_point, func.count()).group_by(Ticket.intake_point))
                              .all()))
        assert set(points) == {"000", "001", "002", "003", "004"}
        assert 0.7 < points["000"] / N < 0.9
        nodes_per_point = s.execute(select(Ticket.intake_point, func.count(func.distinct(Ticket.node_id)))
                                    .group_by(Ticket.intake_point)).all()
        assert all(n == 1 for _p, n in nodes_per_point)

        states = Counter(dict(s.execute(select(Ticket.state, func.count()).group_by(Ticket.state)).all()))
        closed = sum(v for k, v in states.items() if k.startswith("closed_"))
        assert closed > 0.8 * N
        assert states["refused"] > 0 and states["voided"] > 0 and states["accepted"] > 0
        assert states["closed_rejected"] > 0 and states["closed_tolerated"] > 0
        late = s.scalar(select(func.count()).where(Ticket.closed_on_time.is_(False)))
        assert 0 < late < 0.1 * closed
        overdue = s.scalar(select(func.count()).where(Ticket.is_open, Ticket.due_date < END))
        assert overdue > 0
        # Received on working days only, inside the period, with Mondays busier than Fridays.
        received = s.scalars(select(Ticket.received_at)).all()
        assert min(received).date() >= START and max(received).date() <= END
        weekdays = Counter(r.weekday() for r in received)
        assert weekdays[0] > weekdays[4]
        assert s.scalar(select(func.count()).select_from(Applicant)) == s.scalar(
            select(func.count(func.distinct(Ticket.applicant_id_no))))
        # Staff were created through the service: two clerks per window, a manager, a villager per point.
        assert s.scalar(select(func.count()).where(Staff.role == "village")) >= 4
        assert {w for (w,) in s.execute(select(Staff.window_code).where(Staff.role == "clerk"))} >= {
            f"W{i:02d}" for i in range(1, 12)}


def test_numbers_are_unique_and_match_the_serials(hall_sqlite):
    generate(hall_sqlite)
    with hall_sqlite.db.transaction() as s:
        rows = s.execute(select(Ticket.number, Ticket.intake_point, Ticket.received_at)).all()
        assert len({r.number for r in rows}) == len(rows) == N
        top: dict[tuple[str, str], int] = {}
        for number, point, received in rows:
            _township, p, day, serial = parse_number(number)
            assert (p, day) == (point, received.date())
            key = (p, day.strftime("%Y%m%d"))
            top[key] = max(top.get(key, 0), serial)
        serials = {(t.point, t.day): t.last for t in s.scalars(select(TicketSerial))}
        assert serials == top
        # Serials count up in the order tickets arrived at each point.
        by_key: dict[tuple[str, str], list[tuple[datetime, int]]] = {}
        for number, point, received in rows:
            by_key.setdefault((point, number[14:22]), []).append((received, int(number[-4:])))
        for seq in by_key.values():
            assert [n for _t, n in sorted(seq)] == list(range(1, len(seq) + 1))
        # The next ticket registered through the service takes the next serial.
        day = max(r.received_at for r in rows if r.intake_point == "000")
    system = hall_sqlite.system
    with hall_sqlite.db.transaction() as s:
        result = intake.register(s, system, intake.IntakeForm(
            "04", intake.ApplicantForm("person", "11010519491231002X", "王芳")), now=day.replace(hour=18))
    assert result.number.endswith(f"-{top[('000', day.strftime('%Y%m%d'))] + 1:04d}")
    with hall_sqlite.db.transaction() as s:
        assert ledger.verify(s).ok


def test_replaying_the_events_gives_the_same_projections(hall_sqlite, tmp_path):
    generate(hall_sqlite)
    replica = projections.install(Database.open(f"sqlite:///{(tmp_path / 'replica.sqlite3').as_posix()}"))
    try:
        with hall_sqlite.db.transaction() as src, replica.transaction() as dst:
            cols = list(Event.__table__.columns)
            for row in src.execute(select(*cols).order_by(Event.id)).mappings():
                ev = Event(**dict(row))
                dst.add(ev)
                ledger.apply(dst, ev, json.loads(row["payload"]))
            dst.flush()
            for model in (Ticket, Applicant, Staff, Item):
                assert all_rows(src, model) == all_rows(dst, model), model.__name__
            assert ledger.verify(dst).ok
    finally:
        replica.dispose()


def _form_from(p: dict) -> intake.IntakeForm:
    """The intake form a clerk would have filled in to produce the payload ``p``."""
    a = p["applicant"]
    agent = intake.AgentForm(p["agent"]["name"], p["agent"]["id_no"], p["agent"]["phone"]) if p["agent"] else None
    return intake.IntakeForm(
        item_code=p["item_code"], applicant=intake.ApplicantForm(a["type"], a["id_no"], a["name"], a["phone"],
                                                                 a["address"]),
        materials={m["name"]: m["status"] for m in p["materials"]}, kind=p["kind"], kind_reason=p["kind_reason"],
        agent=agent, note=p["note"], decision="refuse" if p["state"] == "refused" else "accept",
        refusal_reason=p["refusal_reason"], redirect_organ=p["redirect_organ"],
    )


def test_generated_tickets_equal_what_the_intake_service_writes(hall_sqlite, fresh_hall):
    """Each kind of generated intake, registered again through intake.register: the same events and row."""
    generate(hall_sqlite, 600)
    with hall_sqlite.db.transaction() as s:
        received = s.execute(select(Event).where(Event.type == "ticket.received").order_by(Event.id)).scalars().all()
        samples: dict[tuple, Event] = {}
        for ev in received:
            p = json.loads(ev.payload)
            key = (p["kind"], p["state"], p["applicant"]["type"], p["agent"] is not None,
                   any(m["status"] == "tolerated" for m in p["materials"]), p["intake_point"])
            samples.setdefault(key, ev)
        assert len(samples) >= 10
        expected = {}
        for key, ev in samples.items():
            chain = s.scalars(select(Event).where(Event.ticket_uid == ev.ticket_uid).order_by(Event.id)).all()
            ticket = s.scalars(select(Ticket).where(Ticket.uid == ev.ticket_uid)).one()
            expected[key] = (ev, chain, ticket, _stable(s, ticket))
        # The second hall knows the same people and catalogue by their stable ids (it learns them from the first
        # one's events, as a node would from a sync, unless both fixtures are one database), so the same payloads
        # mean the same there.
        known = s.scalars(select(Event).where(Event.type.in_(("staff.added", "catalog.imported")))
                          .order_by(Event.id)).all()
        s.expunge_all()
    with fresh_hall.db.transaction() as s:
        for ev in known:
            p = json.loads(ev.payload)
            model, uid = (Staff, p["uid"]) if ev.type == "staff.added" else (CatalogVersion, p["version_uid"])
            if s.scalars(select(model.id).where(model.uid == uid)).first() is None:
                ledger.apply(s, ev, p)
    for key, (ev, chain, generated, generated_refs) in expected.items():
        p = json.loads(ev.payload)
        with fresh_hall.db.transaction() as s:
            person = s.scalars(select(Staff).where(Staff.uid == ev.actor_uid)).one()
            actor = Actor(staff_id=person.id, name=ev.actor_name, role=ev.actor_role, node_id=ev.node_id,
                          intake_point=p["intake_point"], staff_uid=ev.actor_uid)
            if p["intake_point"] != "000" and s.get(IntakePoint, p["intake_point"]) is None:
                staff.add_intake_point(s, fresh_hall.system, p["intake_point"], "代办点")
            result = intake.register(s, actor, _form_from(p), now=ev.occurred_at)
            mine = s.scalars(select(Event).where(Event.ticket_uid == s.get_one(Ticket, result.ticket_id).uid)
                             .order_by(Event.id)).all()
            got = json.loads(mine[0].payload)
            assert {k: v for k, v in got.items() if k not in ("uid", "number")} == \
                   {k: v for k, v in p.items() if k not in ("uid", "number")}, key
            assert (mine[0].format, mine[0].actor_uid, mine[0].actor_id) == (ev.format, ev.actor_uid, None), key
            # What the service appends on the spot (a same-day close) the generator appended too.
            same_spot = [(e.type, e.payload) for e in chain if e.occurred_at == ev.occurred_at]
            assert [(e.type, e.payload) for e in mine][1:] == same_spot[1:], key
            if len(chain) == len(mine):  # nothing happened later: the projections must be equal too
                t = s.get_one(Ticket, result.ticket_id)
                # Row ids of staff and items are each database's own: compared by their stable ids.
                skip = {"id", "uid", "number", "version", "item_id", "owner_id", "first_owner_id"}
                for col in Ticket.__table__.columns:
                    if col.name not in skip:
                        assert getattr(t, col.name) == getattr(generated, col.name), (key, col.name)
                assert _stable(s, t) == generated_refs, key


def _stable(session, t: Ticket) -> tuple:
    """A ticket's item and owners by their stable ids."""
    item = session.get_one(Item, t.item_id)
    version = session.get_one(CatalogVersion, item.version_id)
    uids = [session.get_one(Staff, i).uid if i is not None else None for i in (t.first_owner_id, t.owner_id)]
    return (version.uid, item.code, *uids)


def test_same_seed_same_tickets(tmp_path):
    from hall.paths import Paths
    from hall.services.bootstrap import open_hall

    seen = []
    for name in ("a", "b"):
        opened = open_hall(Paths(tmp_path / name))
        try:
            generate(opened, 150, seed=11)
            with opened.db.transaction() as s:
                seen.append(s.execute(select(Ticket.uid, Ticket.number, Ticket.state, Ticket.applicant_id_no)
                                      .order_by(Ticket.id)).all())
        finally:
            opened.db.dispose()
    assert seen[0] == seen[1]


def test_a_second_run_extends_the_chains(hall_sqlite):
    generate(hall_sqlite, 300, seed=1)
    generate(hall_sqlite, 300, seed=2)
    with hall_sqlite.db.transaction() as s:
        assert ledger.verify(s).ok
        numbers = s.scalars(select(Ticket.number)).all()
        assert len(numbers) == len(set(numbers)) == 600
        assert s.scalar(select(func.count()).select_from(Applicant)) == s.scalar(
            select(func.count(func.distinct(Ticket.applicant_id_no))))


def test_a_counter_saves_a_ticket_after_the_demo_data(hall_db, people):
    # PostgreSQL hands out ids from a sequence the demo rows (written with explicit ids) must not collide with.
    generate(hall_db, 50, seed=3)
    with hall_db.db.transaction() as s:
        result = intake.register(s, people["c02"], intake.IntakeForm(
            "11", intake.ApplicantForm("person", "11010519491231002X", "张三", "13800138000")))
    with hall_db.db.transaction() as s:
        assert s.scalar(select(func.max(Ticket.id))) == result.ticket_id
        assert s.scalar(select(func.count()).select_from(Ticket)) == 51
        assert ledger.verify(s).ok


@pytest.mark.parametrize(("n", "start", "end", "field"), [
    (-1, START, END, "办件数量"),
    (10, END, START, "日期范围"),
    (10, START, date.today(), "结束日期"),
    (10, date(2025, 10, 1), date(2025, 10, 7), "日期范围"),  # 国庆: no working day at all
])
def test_bad_requests_are_refused_with_the_field_named(hall_sqlite, n, start, end, field):
    with pytest.raises(ValidationError) as info:
        demo_data.generate(hall_sqlite.db, hall_sqlite.node, n, seed=1, start=start, end=end)
    assert info.value.field == field
    with hall_sqlite.db.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Ticket)) == 0


def test_cli_prints_progress_and_rate(capsys):
    from hall.cli import main

    assert main(["demo-data", "--tickets", "120", "--from", "2025-03-01", "--to", "2025-03-31"]) == 0
    out = capsys.readouterr()
    assert "已生成 120 件办件" in out.out and "件/秒" in out.out
    assert main(["ledger", "verify"]) == 0
    assert main(["demo-data", "--tickets", "5", "--from", "2025-03-31", "--to", "2025-03-01"]) == 2
    assert "日期范围" in capsys.readouterr().err


def _cli(hall, capsys, *args: str) -> tuple[int, str, str]:
    url = hall.db.engine.url.render_as_string(hide_password=False)
    argv = ["--data-dir", str(hall.db.backups_dir.parent), *([] if hall.db.is_sqlite else ["--db", url]), *args]
    capsys.readouterr()
    rc = main_cli(argv)
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_a_fresh_demo_ledger_is_what_a_rebuild_from_its_events_gives(hall_db, capsys):
    """Nothing but the projectors wrote the demo tables: ``ledger check`` finds every table equal to a replay."""
    report = generate(hall_db, 3000, seed=8)
    rc, out, err = _cli(hall_db, capsys, "ledger", "check", "--quiet")
    assert rc == 0, out + err
    assert "所有表一致" in out
    check = ledger_check.check(hall_db.db)
    assert check.ok and check.comparison.tables == len(projection_keys.state_tables())
    assert check.comparison.rows_live == check.comparison.rows_rebuilt > 3000 + report.applicants
    with hall_db.db.reading() as s:
        assert ledger.verify(s).ok


def test_the_same_seed_again_is_refused_and_writes_nothing(hall_sqlite, capsys):
    args = ("demo-data", "--tickets", "200", "--seed", "3", "--from", "2025-03-01", "--to", "2025-03-31")
    assert _cli(hall_sqlite, capsys, *args)[0] == 0
    before = ledger_check.digest(hall_sqlite.db).sha256
    with hall_sqlite.db.reading() as s:
        events = s.scalar(select(func.count()).select_from(Event))
    rc, _out, err = _cli(hall_sqlite, capsys, *args)
    assert rc == 2 and "已有演示数据" in err and "--seed" in err
    with pytest.raises(demo_data.DemoDataExists):
        demo_data.generate(hall_sqlite.db, hall_sqlite.node, 200, seed=3, start=date(2025, 3, 1),
                           end=date(2025, 3, 31))
    assert ledger_check.digest(hall_sqlite.db).sha256 == before
    with hall_sqlite.db.reading() as s:
        assert s.scalar(select(func.count()).select_from(Event)) == events
        assert ledger.verify(s).ok
    # Another seed adds more.
    assert _cli(hall_sqlite, capsys, *args[:4], "4", *args[5:])[0] == 0
    with hall_sqlite.db.reading() as s:
        assert s.scalar(select(func.count()).select_from(Ticket)) == 400


def test_not_a_hall_node_village_points_get_their_own_nodes():
    hall_node = "5b0e7c1e-1111-4222-8333-944455556666"
    ids = {demo_data.village_node_id(hall_node, p) for p in demo_data.VILLAGES}
    assert len(ids) == 4 and hall_node not in ids
    assert demo_data.village_node_id(hall_node, "001") == demo_data.village_node_id(hall_node, "001")
