"""Intake through the service layer, on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from hall.errors import PermissionDenied, ValidationErrors
from hall.models import Applicant, Event, Ticket
from hall.services.cases import workflow
from hall.services.catalog import items as catalog
from hall.services.storage import ledger
from hall.services.tickets import intake
from hall.services.tickets import record as tickets

ZHANG = intake.ApplicantForm("person", "11010519491231002X", "张三", "13812345678", "东村3组")


def all_received(session, code):
    return {m["name"]: "received" for m in catalog.current_item(session, code).materials}


def test_default_catalogue_is_seeded(hall_db):
    with hall_db.db.transaction() as s:
        assert len(catalog.windows(s)) == 11
        items = catalog.current_items(s)
        assert len(items) == 76
        assert {i.default_kind for i in items} == {"explain", "immediate", "promised", "proxy", "joint"}
        assert [i.code for i in catalog.find_items(items, "dbsq")][:1] == ["07"]  # 简称 低保申请
        assert catalog.find_items(items, "07")[0].name.startswith("最低生活保障")


def test_complete_promised_ticket_is_accepted_with_derived_deadline(hall_db, people):
    now = datetime(2026, 2, 12, 10, 0)
    with hall_db.db.transaction() as s:
        form = intake.IntakeForm("09", ZHANG, materials=all_received(s, "09"))
        r = intake.register(s, people["c02"], form, now=now)
    assert r.state == "accepted" and r.kind == "promised"
    assert r.number == "320581101-000-20260212-0001"
    # 临时救助 15 working days from Thu 2026-02-12, across 春节 and the make-up Saturdays.
    assert r.due_date == date(2026, 3, 11)
    assert r.papers == ("acceptance",)
    with hall_db.db.transaction() as s:
        t = tickets.get(s, r.number)
        assert (t.applicant_sex, t.applicant_birth) == ("female", date(1949, 12, 31))
        assert t.first_owner_id == people["c02"].staff_id and t.is_open
        assert s.scalar(select(func.count()).select_from(Event).where(Event.ticket_uid == t.uid)) == 1


def test_missing_materials_turn_the_save_into_supplement(hall_db, people):
    with hall_db.db.transaction() as s:
        marks = all_received(s, "09")
        first = next(iter(marks))
        marks[first] = "missing"
        r = intake.register(s, people["c02"], intake.IntakeForm("09", ZHANG, materials=marks),
                            now=datetime(2026, 3, 2, 9))
    assert r.state == "supplement" and r.missing == (first,) and r.due_date is None
    assert r.papers == ("supplement", "one_time_notice")
    with hall_db.db.transaction() as s:
        tickets.supplement_received(s, people["c02"], r.number, now=datetime(2026, 3, 5, 9))
    with hall_db.db.transaction() as s:
        t = tickets.get(s, r.number)
        assert t.state == "accepted" and t.accepted_on == date(2026, 3, 5)
        assert t.due_date == date(2026, 3, 26)  # 15 working days after Thu 3/5
        assert all(m["status"] == "received" for m in t.materials)


def test_immediate_item_closes_on_the_spot(hall_db, people):
    with hall_db.db.transaction() as s:
        r = intake.register(s, people["c02"], intake.IntakeForm("11", ZHANG), now=datetime(2026, 5, 6, 9))
    assert r.state == "closed_approved" and r.due_date == date(2026, 5, 6)
    with hall_db.db.transaction() as s:
        t = tickets.get(s, r.number)
        assert not t.is_open and t.closed_on_time is True
        assert [h.type for h in tickets.history(s, t)] == ["ticket.received", "ticket.closed"]


def test_on_the_spot_close_leaves_the_same_row_with_or_without_loaded_objects(hall_db, people):
    # The ticket.closed projector updates through Core when nothing is loaded in the unit of work (the
    # counter's save) and through the ORM otherwise; both must leave exactly the same row.
    now = datetime(2026, 5, 6, 9)
    with hall_db.db.transaction() as s:
        held = s.scalars(select(Event).limit(1)).first()  # something is loaded: the ORM path
        assert held is not None and s.identity_map
        orm = intake.register(s, people["c02"], intake.IntakeForm("11", ZHANG), now=now)
    with hall_db.db.transaction() as s:
        assert not s.identity_map and not s.new  # nothing loaded: the Core path
        core = intake.register(s, people["c02"], intake.IntakeForm("11", ZHANG), now=now)
    with hall_db.db.transaction() as s:
        rows = [tickets.get(s, r.number) for r in (orm, core)]
        cols = ("state", "result", "is_open", "closed_at", "closed_on_time", "version", "updated_at")
        assert [tuple(getattr(t, c) for c in cols) for t in rows] == [
            ("closed_approved", "当场办结", False, now, True, 2, now)] * 2


def test_every_problem_is_listed_and_nothing_is_written(hall_db, people):
    bad = intake.ApplicantForm("person", "110105194912310021", "", "12345")
    with hall_db.db.transaction() as s:
        before = s.scalar(select(func.count()).select_from(Event))
    with pytest.raises(ValidationErrors) as err, hall_db.db.transaction() as s:
        intake.register(s, people["c02"], intake.IntakeForm("09", bad, kind="proxy", note="x" * 3000))
    text = str(err.value)
    for field in ("公民身份号码", "申请人姓名", "联系电话"):
        assert field in text
    with hall_db.db.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Event)) == before
        assert s.scalar(select(func.count()).select_from(Ticket)) == 0


def test_kind_change_needs_a_reason_and_refusal_needs_reasons(hall_db, people):
    with pytest.raises(ValidationErrors, match="须填写原因"), hall_db.db.transaction() as s:
        intake.register(s, people["c02"], intake.IntakeForm("09", ZHANG, kind="proxy"))
    with pytest.raises(ValidationErrors, match="不予受理必须写明理由"), hall_db.db.transaction() as s:
        intake.register(s, people["c02"], intake.IntakeForm("09", ZHANG, decision="refuse"))
    with hall_db.db.transaction() as s:
        r = intake.register(s, people["c02"], intake.IntakeForm("09", ZHANG, kind="explain"))
        assert r.kind == "explain" and r.state == "closed_approved"
        r2 = intake.register(s, people["c02"], intake.IntakeForm(
            "09", ZHANG, decision="refuse", refusal_reason="不属于本镇受理范围", redirect_organ="县民政局"))
        assert r2.state == "refused" and r2.papers == ("refusal",)


def test_returning_citizen_found_by_id_and_name(hall_db, people):
    with hall_db.db.transaction() as s:
        intake.register(s, people["c02"], intake.IntakeForm("11", ZHANG))
    with hall_db.db.transaction() as s:
        by_id = intake.find_applicant(s, "11010519491231002x")
        by_name = intake.find_applicant(s, "张三")
        by_initials = intake.find_applicant(s, "zs")
        assert [a.phone for a in by_id] == ["13812345678"]
        assert by_name[0].address == "东村3组" and by_initials[0].id_no == "11010519491231002X"
        assert s.scalar(select(func.count()).select_from(Applicant)) == 1


def test_clerk_cannot_act_on_another_windows_ticket(hall_db, people):
    with hall_db.db.transaction() as s:
        r = intake.register(s, people["c02"], intake.IntakeForm("09", ZHANG, materials=all_received(s, "09")))
    with pytest.raises(PermissionDenied, match="W02"), hall_db.db.transaction() as s:
        workflow.close(s, people["c03"], r.number, "approved", "同意救助")
    with hall_db.db.transaction() as s:
        workflow.close(s, people["m01"], r.number, "approved", "同意救助")
        assert not tickets.get(s, r.number).is_open


def test_village_staff_number_with_their_point(hall_db, people):
    with hall_db.db.transaction() as s:
        r = intake.register(s, people["v01"], intake.IntakeForm("11", ZHANG), now=datetime(2026, 6, 1, 9))
    assert r.number == "320581101-001-20260601-0001"
    with hall_db.db.transaction() as s:
        assert ledger.verify(s).ok  # two chains: the hall node and the village node


def test_ticket_numbers_unique_with_concurrent_writers(hall_db, people):
    numbers: list[str] = []
    errors: list[BaseException] = []

    def clerk(n: int) -> None:
        try:
            for _ in range(n):
                with hall_db.db.transaction() as s:
                    numbers.append(intake.register(s, people["c02"], intake.IntakeForm("11", ZHANG)).number)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=clerk, args=(8,)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(numbers) == 32 == len(set(numbers))
    serials = sorted(int(n.rsplit("-", 1)[1]) for n in numbers)
    assert serials == list(range(1, 33))
    with hall_db.db.transaction() as s:
        assert ledger.verify(s).ok


def test_a_returning_citizens_details_are_the_newest_told_field_by_field(hall_db, people):
    """Per field, the newest visit that told a value wins, by its time (not by the order the saves arrive in, as
    a village laptop's tickets arrive late); a visit that leaves a field empty never blanks it."""
    def visit(hour: int, name: str, phone: str, address: str, id_no: str = ZHANG.id_no) -> None:
        with hall_db.db.transaction() as s:
            intake.register(s, people["c02"], intake.IntakeForm(
                "11", intake.ApplicantForm("person", id_no, name, phone, address)), now=datetime(2026, 3, 2, hour))

    def row(id_no: str = ZHANG.id_no) -> tuple:
        with hall_db.db.transaction() as s:
            a = s.scalars(select(Applicant).where(Applicant.id_no == id_no)).one()
            return a.name, a.initials, a.phone, a.address, a.updated_at.hour

    visit(10, "张三", "13812345678", "东村3组")
    visit(9, "张叁", "13900000000", "")  # an older visit, saved later: nothing of it is newer
    assert row() == ("张三", "zs", "13812345678", "东村3组", 10)
    visit(11, "张三丰", "", "")  # the newest visit tells only the name
    assert row() == ("张三丰", "zsf", "13812345678", "东村3组", 11)
    visit(8, "张三", "", "西村1组")  # the oldest visit: its address is older than the one on record
    assert row() == ("张三丰", "zsf", "13812345678", "东村3组", 11)
    other = "110105194912310038"
    visit(10, "李四", "", "", id_no=other)
    visit(9, "李四", "13700000000", "南村2组", id_no=other)  # older, but the only one that told them
    assert row(other) == ("李四", "ls", "13700000000", "南村2组", 10)
