"""Queue pages: keyset pagination, filters and sorts in SQL, counts, days left, ticket detail, ID reveal log."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from hall.errors import PermissionDenied
from hall.services import catalog, intake, queue, tickets
from hall.services.queue import TicketFilter
from hall.services.validators import id_check_char

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
