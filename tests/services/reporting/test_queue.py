"""Queue pages: keyset pagination, filters and sorts in SQL, counts, days left, ticket detail, ID reveal log."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import event, text

from hall.errors import PermissionDenied
from hall.services.base.validators import id_check_char
from hall.services.catalog import items as catalog
from hall.services.reporting import queue
from hall.services.reporting.queue import TicketFilter
from hall.services.tickets import intake
from hall.services.tickets import record as tickets
from hall.services.tickets.search import classify

TODAY = date(2026, 11, 26)  # a Thursday in a confirmed year


def person(n: int, name: str = "王小明") -> intake.ApplicantForm:
    body = f"320581{1950 + n % 50}0{1 + n % 9}1{n % 10}{n % 1000:03d}"
    return intake.ApplicantForm("person", body + id_check_char(body), name, "13912345678", "东村3组")


def make(db, actor, code: str, when: datetime, n: int, *, name: str = "王小明", complete: bool = True) -> str:
    with db.transaction() as s:
        item = catalog.current_item(s, code)
        marks = {m["name"]: "received" for m in item.materials} if complete else {}
        return intake.register(s, actor, intake.IntakeForm(code, person(n, name), marks), now=when).number


@pytest.fixture
def ledger(hall_db, people):
    """W02 tickets received over several weeks: promised (09), proxy (10), one 补正, one refused; a W03 one."""
    c02, c03 = people["c02"], people["c03"]
    numbers = []
    for i in range(14):
        when = datetime(2026, 10, 12, 9, 0) + timedelta(days=3 * i, minutes=i)
        numbers.append(make(hall_db.db, c02, "09" if i % 2 else "10", when, i, name="王小明" if i % 3 else "李四"))
    numbers.append(make(hall_db.db, c02, "09", datetime(2026, 11, 20, 10), 40, complete=False))  # 补正
    make(hall_db.db, c03, "24", datetime(2026, 11, 2, 10), 41, name="张三")  # W03, immediate, closed on the spot
    with hall_db.db.transaction() as s:
        form = intake.IntakeForm("09", person(42, "赵六"), decision="refuse", refusal_reason="不属于本镇受理范围")
        intake.register(s, c02, form, now=datetime(2026, 11, 3, 10))
    return hall_db, numbers


def all_pages(s, f, **kw):
    out, cur = [], None
    while True:
        p = queue.page(s, f, today=TODAY, after=cur, limit=4, **kw)
        out += p.rows
        cur = p.next
        if cur is None:
            return out


@pytest.mark.parametrize("sort", ["due", "received", "number"])
@pytest.mark.parametrize("descending", [False, True])
def test_keyset_pages_walk_every_ticket_once_in_order(ledger, sort, descending):
    hall, _ = ledger
    attr = {"due": "due_date", "received": "received_at", "number": "number"}[sort]
    with hall.db.transaction() as s:
        rows = all_pages(s, TicketFilter(open_only=False), sort=sort, descending=descending)
        total = queue.count(s, TicketFilter(open_only=False), today=TODAY)
    assert len(rows) == total == 17 and len({r.id for r in rows}) == 17
    keys = [getattr(r, attr) for r in rows]
    dated = [k for k in keys if k is not None]
    assert dated == sorted(dated, reverse=descending)
    assert all(k is None for k in keys[len(dated):])  # undated (补正, 不予受理) after every dated one


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("limit", [1, 2, 3, 5, 200])
def test_a_bounded_lookup_pages_by_due_date_with_the_undated_last(ledger, people, descending, limit):
    """One person's tickets (dated and undated: a 补正 has no due date), page by page from the one-statement
    first page on: each ticket once, dated ones in due-date order, then the undated by id."""
    hall, _numbers = ledger
    for i in range(7):  # one citizen, seven visits; every third incomplete (补正: no due date yet)
        make(hall.db, people["c02" if i % 2 else "c03"], "09", datetime(2026, 11, 2 + i, 9), 77, complete=i % 3 != 0)
    with hall.db.transaction() as s:
        id_no = person(77).id_no
        for f in (TicketFilter(open_only=False, text=id_no), TicketFilter(open_only=False, text=id_no, window="W02"),
                  TicketFilter(open_only=False, text="20261102")):
            everything = queue.count(s, f, today=TODAY)
            rows, cur = [], None
            while True:
                p = queue.page(s, f, today=TODAY, after=cur, limit=limit, descending=descending)
                rows += p.rows
                cur = p.next
                if cur is None:
                    break
            assert len(rows) == len({r.id for r in rows}) == everything > 0, f
            dated = [(r.due_date, r.id) for r in rows if r.due_date is not None]
            assert dated == sorted(dated, reverse=descending)
            undated = [r.id for r in rows[len(dated):]]
            assert all(r.due_date is None for r in rows[len(dated):]) and undated == sorted(undated,
                                                                                           reverse=descending)


def test_filters_and_counts(ledger, people):
    hall, numbers = ledger
    c02 = people["c02"]
    with hall.db.transaction() as s:
        mine = all_pages(s, TicketFilter(owner_id=c02.staff_id))
        w02 = all_pages(s, TicketFilter(window="W02"))
        assert {r.number for r in mine} == {r.number for r in w02} == set(numbers)  # refused is not open
        assert all(r.is_open for r in w02)
        overdue = all_pages(s, TicketFilter(window="W02", overdue=True))
        assert overdue and all(r.due_date < TODAY and r.days_left < 0 and r.overdue for r in overdue)
        today = all_pages(s, TicketFilter(due_on=TODAY))
        assert all(r.due_date == TODAY and r.days_left == 0 and r.due_today for r in today)
        c = queue.counts(s, TicketFilter(window="W02"), today=TODAY)
        assert c.total == 15 and c.overdue == len(overdue) and c.due_today == len(today)
        assert queue.count(s, TicketFilter(window="W03"), today=TODAY) == 0  # closed on the spot
        assert queue.count(s, TicketFilter(window="W03", open_only=False), today=TODAY) == 1
        assert [r.state for r in all_pages(s, TicketFilter(state="supplement"))] == ["supplement"]
        assert queue.count(s, TicketFilter(kind="proxy"), today=TODAY) == 7


def test_text_search_by_number_id_name_and_initials(ledger):
    hall, numbers = ledger
    with hall.db.transaction() as s:
        def find(text: str) -> list[str]:
            return [r.number for r in all_pages(s, TicketFilter(open_only=False, text=text))]

        assert find(numbers[3]) == [numbers[3]]
        assert find(numbers[3][:-2]) and all(n.startswith(numbers[3][:-2]) for n in find(numbers[3][:-2]))
        assert len(find("李四")) == 5 and len(find("ls")) == 5 and len(find("LS")) == 5
        assert len(find("张")) == 1
        assert find(person(41).id_no) == find("张三")
        assert find("不存在的人") == []
        assert find("100%") == []  # LIKE wildcards are escaped


def test_days_left_counts_working_days(ledger):
    hall, _ = ledger
    with hall.db.transaction() as s:
        rows = [r for r in all_pages(s, TicketFilter()) if r.due_date is not None]
    for r in rows:
        if r.due_date == date(2026, 11, 30):  # Monday: Fri 27 and Mon 30 are left
            assert r.days_left == 2
        if r.due_date == date(2026, 11, 23):  # last Monday: Tue, Wed, Thu passed
            assert r.days_left == -3
    assert all(isinstance(r.days_left, int) for r in rows)


def test_provisional_filter(hall_db, people):
    make(hall_db.db, people["c02"], "09", datetime(2027, 3, 1, 9), 7)  # 2027 not confirmed
    make(hall_db.db, people["c02"], "09", datetime(2026, 3, 2, 9), 8)
    with hall_db.db.transaction() as s:
        rows = all_pages(s, TicketFilter(provisional=True))
        assert len(rows) == 1 and rows[0].due_provisional and rows[0].due_date.year == 2027
        assert queue.counts(s, TicketFilter(), today=TODAY).provisional == 1


def test_detail_history_and_logged_reveal(ledger, people):
    hall, numbers = ledger
    c02, c03 = people["c02"], people["c03"]
    with hall.db.transaction() as s:
        d = queue.detail(s, c02, numbers[-1], today=TODAY)
        assert d.state == "supplement" and d.applicant_id_masked.count("*") == 8
        assert [m.status for m in d.materials] == ["missing"] * len(d.materials)
        assert d.history[0].type == "ticket.received" and "需补正" in d.history[0].text
    with hall.db.transaction() as s:
        full = queue.reveal_id(s, c02, numbers[-1])
    assert full == person(40).id_no
    with hall.db.transaction() as s:
        t = tickets.get(s, numbers[-1])
        lines = tickets.history(s, t)
        assert lines[-1].type == queue.REVEAL_EVENT and lines[-1].actor == c02.name
        assert "查看完整证件号码" in lines[-1].text
        assert t.version == 1  # a look changes nothing on the ticket
    assert c03.role == "clerk"


def test_reveal_refused_to_the_system(ledger, hall_db):
    hall, numbers = ledger
    with hall.db.transaction() as s, pytest.raises(PermissionDenied):
        queue.reveal_id(s, hall_db.system, numbers[0])


def test_find_applicants_returns_plain_data(ledger):
    hall, _ = ledger
    with hall.db.transaction() as s:
        found = queue.find_applicants(s, person(41).id_no)
        assert [a.name for a in found] == ["张三"] and found[0].phone == "13912345678"
        assert found[0].id_masked.startswith("320581") and "*" in found[0].id_masked
        assert {a.name for a in queue.find_applicants(s, "ls")} == {"李四"}


# ------------------------------------------------------------- drill-down filters (dashboard, statistics)
@pytest.fixture
def day(hall_db, people):
    import manager_day as MD

    return hall_db, {n: k for k, n in MD.build(hall_db, people).numbers.items()}


def letters(s, f, names, today=None):
    import manager_day as MD

    out, cur = [], None
    while True:
        p = queue.page(s, f, today=today or MD.TODAY, after=cur, limit=2)
        out += [names[r.number] for r in p.rows]
        cur = p.next
        if cur is None:
            break
    assert len(out) == len(set(out)) == queue.count(s, f, today=today or MD.TODAY)
    return set(out)


def test_clock_running_is_decided_in_sql_as_the_dashboard_does(day):
    hall, names = day
    with hall.db.transaction() as s:
        # Open: A B C D E F M N. F is paused (a pause in its clock list), N waits for 补正 (state).
        assert letters(s, TicketFilter(overdue=True, clock_running=True), names) == {"A", "B", "M"}
        assert letters(s, TicketFilter(clock_running=False), names) == {"F", "N"}
        assert letters(s, TicketFilter(clock_running=True), names) == {"A", "B", "C", "D", "E", "M"}


def test_clock_running_follows_resume_and_special_steps(day, people):
    import manager_day as MD

    from hall.services.cases import workflow

    hall, names = day
    number = {v: k for k, v in names.items()}
    c02 = people["c02"]
    with hall.db.transaction() as s:
        workflow.resume(s, c02, number["F"], now=datetime(2026, 12, 15, 9))
    with hall.db.transaction() as s:
        assert "F" in letters(s, TicketFilter(clock_running=True), names)
        workflow.pause(s, c02, number["F"], "再次补正", now=datetime(2026, 12, 16, 9))
    with hall.db.transaction() as s:
        assert "F" in letters(s, TicketFilter(clock_running=False), names)
    with hall.db.transaction() as s:
        workflow.special_start(s, c02, number["A"], "公示", now=datetime(2026, 12, 16, 10))
    with hall.db.transaction() as s:
        assert letters(s, TicketFilter(overdue=True, clock_running=True), names) == {"B", "M"}
        assert letters(s, TicketFilter(clock_running=False), names) >= {"A", "F"}
    assert MD.TODAY.year == 2026


def test_life_dates_and_verdicts(day):
    hall, names = day
    dec = dict(open_only=False, exclude_states=("voided",))
    with hall.db.transaction() as s:
        assert letters(s, TicketFilter(received_from=date(2026, 12, 1), received_to=date(2026, 12, 16), **dec),
                       names) == set("ACDEFGHIKN")
        assert letters(s, TicketFilter(accepted_from=date(2026, 12, 1), accepted_to=date(2026, 12, 31), **dec),
                       names) == set("ACDEFGHI")
        closed = TicketFilter(closed_from=date(2026, 12, 1), closed_to=date(2026, 12, 16), has_verdict=True, **dec)
        assert letters(s, closed, names) == set("GHI")
        assert letters(s, replace(closed, on_time=True), names) == set("GI")
        assert letters(s, replace(closed, on_time=False), names) == {"H"}
        assert letters(s, replace(closed, closed_from=date(2026, 12, 10), closed_to=date(2026, 12, 10)),
                       names) == {"H"}
        # Past due at the end of 12-09: B (open), H (closed late on 12-10) — the dashboard's trend says 2.
        assert letters(s, TicketFilter(open_only=False, overdue_at=date(2026, 12, 9), clock_running=True),
                       names) == {"B", "H"}
        assert letters(s, TicketFilter(open_only=False, item_code="09"), names) == set("KMN")
        assert letters(s, TicketFilter(due_from=date(2026, 12, 14), due_to=date(2026, 12, 16)), names) == set("AC")
        assert queue.count(s, TicketFilter(open_only=False, no_owner=True), today=date(2026, 12, 16)) == 0


def test_stats_filter_lists_exactly_the_tickets_counted(day):
    """Every count of every row of every dimension equals the length of its ticket list (SQLite and PG)."""
    import manager_day as MD

    from hall.services.reporting import stats

    hall, names = day
    for period in (stats.Period.month(2026, 12), stats.Period.month(2026, 11), stats.Period.year(2026)):
        with hall.db.transaction() as s:
            tables = stats.collect_many(s, period, tuple(stats.DIMENSIONS), today=MD.TODAY)
            for dim, table in tables.items():
                p = table.period
                for row, key in [(r, r.key) for r in table.rows] + [(table.total, None)]:
                    for figure in queue.STATS_FIGURES:
                        f = queue.stats_filter(p.start, p.end, dim, key, figure)
                        assert queue.count(s, f, today=MD.TODAY) == getattr(row, figure), (period, dim, key, figure)
    with hall.db.transaction() as s:
        dec = stats.Period.month(2026, 12).clipped(MD.TODAY)
        f = queue.stats_filter(dec.start, dec.end, "window", "W01", "open_overdue")
        assert letters(s, f, names) == {"A", "B"}
    with pytest.raises(ValueError):
        queue.stats_filter(dec.start, dec.end, "window", "W01", "rated")


# ------------------------------------------------------------------------------ search as typed, bounded
def every_ticket(s):
    return all_pages(s, TicketFilter(open_only=False))


def searched(s, text, **kw):
    return all_pages(s, TicketFilter(open_only=False, text=text, **kw))


def test_each_search_form_finds_what_it_names(ledger, people):
    hall, numbers = ledger
    v01 = people["v01"]
    village = make(hall.db, v01, "09", datetime(2026, 11, 20, 11), 43)  # another intake point, the same day
    with hall.db.transaction() as s:
        everyone = every_ticket(s)
        township, point, day, serial = numbers[-1].split("-")  # the 补正 ticket of 2026-11-20
        same_day = {r.number for r in everyone if r.number.split("-")[2] == day}
        assert village in same_day and len({n.split("-")[1] for n in same_day}) == 2

        def numbers_of(text, **kw):
            return {r.number for r in searched(s, text, **kw)}

        assert numbers_of(f"{day}-{serial}") == {n for n in same_day if n.endswith(f"-{serial}")}
        assert numbers[-1] in numbers_of(f"{day}-{serial}")
        assert numbers_of(day) == same_day
        assert numbers_of(f"{day}-0") == {n for n in same_day if n.split("-")[3].startswith("0")}
        assert numbers_of(f"{township}-{point}-{day}") == {n for n in same_day if f"-{point}-" in n}
        assert numbers_of(f"{township}-{point}") == set()  # not yet a number: nothing looked up
        c = queue.counts(s, TicketFilter(open_only=False, text=f"{township}-{point}"), today=TODAY)
        assert c == queue.QueueCounts(0, 0, 0, 0)
        # A bare serial is today's ticket at any point (or an ID ending so).
        tails = {r.applicant_id_masked for r in everyone}
        assert all(len(t) == 18 for t in tails)
        on_the_day = queue.page(s, TicketFilter(open_only=False, text=serial), today=date(2026, 11, 20)).rows
        assert {r.number for r in on_the_day} >= {n for n in same_day if n.endswith(f"-{serial}")}
        assert numbers[-1] not in {r.number for r in queue.page(s, TicketFilter(open_only=False, text=serial),
                                                               today=TODAY).rows}
        # ID number tails (后四位 / 后六位) and an ID number typed by hand.
        id_no = person(40).id_no
        with_id = {r.number for r in everyone if r.applicant_id_masked[-4:] == id_no[-4:]}
        assert numbers[-1] in numbers_of(id_no[-4:] if not id_no[-1].isdigit() else id_no[-6:])
        assert numbers_of(id_no[-6:]) <= with_id
        assert numbers_of(id_no[:10]) == numbers_of(id_no) | {
            r.number for r in everyone if tickets.get(s, r.number).applicant_id_no.startswith(id_no[:10])}


def test_id_tail_uses_its_own_index(ledger):
    hall, numbers = ledger
    with hall.db.transaction() as s:
        t = tickets.get(s, numbers[0])
        found = searched(s, t.applicant_id_no[-6:])
        assert numbers[0] in {r.number for r in found}
        assert all(tickets.get(s, r.number).applicant_id_no.endswith(t.applicant_id_no[-6:]) for r in found)
        if s.get_bind().dialect.name == "sqlite":
            names = {row[0] for row in s.execute(text("SELECT name FROM sqlite_master WHERE type = 'index'"))}
            assert "ix_tickets_id_tail" in names


@pytest.mark.parametrize("descending", [False, True])
def test_a_prefix_search_pages_a_window_at_a_time_and_misses_nothing(ledger, monkeypatch, descending):
    hall, _ = ledger
    monkeypatch.setattr(queue, "SEARCH_WINDOW", 3)  # a tiny window: most pages are short, some empty
    with hall.db.transaction() as s:
        for text_, flt in (("王", TicketFilter(open_only=False, kind="proxy")), ("w", TicketFilter(window="W02")),
                           ("l", TicketFilter(open_only=False)), ("320581", TicketFilter(open_only=False))):
            f = replace(flt, text=text_)
            pages, cur = [], None
            while True:
                p = queue.page(s, f, today=TODAY, after=cur, limit=2, descending=descending)
                pages.append(p.rows)
                cur = p.next
                if cur is None:
                    break
            rows = [r for p in pages for r in p]
            assert len(rows) == len({r.id for r in rows}) == queue.count(s, f, today=TODAY), text_
            if text_ == "王":  # a selective filter: short pages within the window, and no row lost
                assert any(len(p) < 2 for p in pages[:-1])
            key = [(r.applicant_name if text_ == "王" else "", r.id) for r in rows]
            if text_ == "王":
                assert key == sorted(key, reverse=descending)


def test_search_counts_are_capped_and_exact_below_the_cap(ledger):
    hall, _ = ledger
    with hall.db.transaction() as s:
        f = TicketFilter(open_only=False, text="王")
        exact = queue.count(s, f, today=TODAY)
        assert exact > 3
        capped = queue.counts(s, f, today=TODAY, cap=3)
        assert capped.capped and capped.total == 3
        # the screen shows only "3+" for it; no figure is read that nobody sees
        assert (capped.due_today, capped.overdue, capped.provisional) == (0, 0, 0)
        full = queue.counts(s, f, today=TODAY, cap=1000)
        assert not full.capped and full.total == exact
        assert full.overdue == queue.count(s, replace(f, overdue=True), today=TODAY)
        assert full.due_today == queue.count(s, replace(f, due_on=TODAY, open_only=True), today=TODAY)
        assert full.provisional == queue.count(s, replace(f, provisional=True, open_only=True), today=TODAY)
        w02 = queue.counts(s, replace(f, window="W02"), today=TODAY, cap=1000)
        assert w02.total == queue.count(s, replace(f, window="W02"), today=TODAY)


SEARCH_FORMS = ("王", "王小明", "李", "w", "wxm", "ls", "lS", "320581", "3205811", "100%", "0001", "123X",
                "320581101-0", "0", "12345", "20261020", "20261020-0", "20261020-0001")


SEARCH_INDEXES = ("INTEGER PRIMARY KEY", "ix_tickets_applicant_name", "ix_tickets_applicant_initials",
                  "ix_tickets_applicant_id_no", "ix_tickets_id_tail", "ix_tickets_phone_tail",
                  "sqlite_autoindex_tickets_1",  # number
                  # a search's open figures: the same keys over the open tickets only
                  "ix_tickets_open_name", "ix_tickets_open_initials", "ix_tickets_open_id_tail",
                  "ix_tickets_open_phone_tail")


def test_no_search_form_walks_the_ticket_table(ledger, people):
    """Every statement a search runs (page and counts, with and without other filters) reads tickets through the
    search's own index — never a SCAN, and never a walk of a filter's index (all of a window's tickets) testing
    each against the search. On a ledger without statistics, as a hall's is."""
    hall, numbers = ledger
    if not hall.db.is_sqlite:
        pytest.skip("the plan check reads SQLite's EXPLAIN QUERY PLAN")
    engine = hall.db.engine
    statements: list[tuple[str, object]] = []

    def seen(_conn, _cursor, statement, parameters, _context, _many):
        if not statement.startswith("EXPLAIN"):
            statements.append((statement, parameters))

    with hall.db.transaction() as s:
        id_no = tickets.get(s, numbers[0]).applicant_id_no
    forms = (*SEARCH_FORMS, numbers[0], numbers[0][:20], numbers[0][14:], id_no, id_no[-6:], id_no[-4:], id_no[:12])
    for text_ in forms:
        for flt in (TicketFilter(open_only=False), TicketFilter(open_only=False, window="W02"),
                    TicketFilter(open_only=False, window="W02", overdue=True),
                    TicketFilter(open_only=False, owner_id=people["c02"].staff_id, provisional=True)):
            f = replace(flt, text=text_)
            statements.clear()
            event.listen(engine, "before_cursor_execute", seen)
            try:
                with hall.db.reading() as s:
                    for sort in ("due", "received", "number"):
                        queue.page(s, f, today=TODAY, sort=sort, limit=2)
                    queue.counts(s, f, today=TODAY)
            finally:
                event.remove(engine, "before_cursor_execute", seen)
            with hall.db.reading() as s:
                for statement, params in statements:
                    plan = [row[3] for row in s.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + statement,
                                                                           params)]
                    reads = [line for line in plan if line.startswith(("SCAN tickets", "SEARCH tickets"))]
                    wrong = [line for line in reads if line.startswith("SCAN") or not line.endswith(")")
                             or not any(f" {name} " in line or f"{name} (" in line for name in SEARCH_INDEXES)]
                    assert wrong == [], (text_, statement, plan)
                    if " AS opened " in statement and classify(text_).kind in ("name", "initials", "id_tail"):
                        # the open figures read the open tickets' own index, not every match
                        assert any("ix_tickets_open_" in line for line in reads), (text_, plan)


def test_a_phone_tail_and_the_statuses_on_either_database(ledger):
    """手机尾号 through ix_tickets_phone_tail's expression (length() - 3: PostgreSQL's substr does not count from the
    end), and 在办 / 已办结 / 作废 / 全部 partitioning the tickets, on SQLite and on PostgreSQL."""
    hall, numbers = ledger
    with hall.db.transaction() as s:
        everyone = all_pages(s, TicketFilter(open_only=False))
        assert set(numbers) <= {r.number for r in searched(s, "5678")}  # every applicant here gave 139…5678
        n = {st: queue.count(s, queue.with_status(TicketFilter(), st), today=TODAY) for st in queue.STATUSES}
        refused = sum(1 for r in everyone if r.state in queue.NOT_DONE)
        assert n["open"] + n["done"] + refused == n["all"] == len(everyone)
        assert n["done"] >= 1 and n["voided"] == 0  # the W03 immediate ticket, closed on the spot
