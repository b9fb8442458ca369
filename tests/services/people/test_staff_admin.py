"""Staff administration: edit, disable/enable, reset a password — each one ledger event, each refusal naming the
field or the rule with nothing written; a disabled person cannot log in, a reset password must be replaced, and
the hall can never lose its last administrator."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from hall.errors import ConflictError, HallError, PermissionDenied, ValidationError
from hall.models import Event
from hall.services.people import staff


def _events(s) -> int:  # type: ignore[no-untyped-def]
    return s.scalar(select(func.count()).select_from(Event))


@pytest.fixture
def who(hall_sqlite):
    from hall_fixtures import actors_of

    return actors_of(hall_sqlite)


def test_edit_changes_only_what_changed_and_keeps_the_staff_number(hall_sqlite, who):
    with hall_sqlite.db.transaction() as s:
        v = staff.view(s, "c03")
        out = staff.update_staff(s, who["admin"], staff.StaffForm("c03", v.name, "manager", "副主任"))
        ev = s.scalars(select(Event).order_by(Event.id.desc())).first()
        assert ev.type == "staff.changed"
        from hall.services.storage import ledger

        assert ledger.load_payload(ev)["values"] == {"role": "manager", "post": "副主任", "window_code": None}
        assert (out.staff_no, out.role, out.window_code) == ("c03", "manager", None)
        n = _events(s)
        staff.update_staff(s, who["admin"], staff.StaffForm("c03", v.name, "manager", "副主任"))  # no change
        assert _events(s) == n


@pytest.mark.parametrize(("form", "message"), [
    (staff.StaffForm("c03", "", "clerk", window_code="W01"), "姓名"),
    (staff.StaffForm("c03", "王五", "boss", window_code="W01"), "角色：应为"),
    (staff.StaffForm("c03", "王五", "clerk"), "窗口工作人员必须指定所在窗口"),
    (staff.StaffForm("c03", "王五", "clerk", window_code="W99"), "窗口“W99”不存在"),
    (staff.StaffForm("c03", "王五", "village", intake_point="000"), "村代办员应属于某个村代办点"),
    (staff.StaffForm("c03", "王五", "clerk", window_code="W01", intake_point="777"), "受理点“777”不存在"),
    (staff.StaffForm("nobody", "王五", "clerk", window_code="W01"), "工号“nobody”不存在"),
])
def test_a_refused_edit_names_the_field_and_writes_nothing(hall_sqlite, who, form, message):
    with hall_sqlite.db.transaction() as s:
        n = _events(s)
        with pytest.raises(HallError, match=message):
            staff.update_staff(s, who["admin"], form)
        assert _events(s) == n


def test_only_an_administrator_administers(hall_sqlite, who):
    with hall_sqlite.db.transaction() as s:
        for fn in (lambda: staff.update_staff(s, who["m01"], staff.StaffForm("c03", "王五", "manager")),
                   lambda: staff.set_active(s, who["m01"], "c03", False, "调离"),
                   lambda: staff.reset_password(s, who["m01"], "c03", "temporary-1")):
            with pytest.raises(PermissionDenied, match="只有系统管理员"):
                fn()


def test_a_disabled_person_cannot_log_in_until_enabled(hall_sqlite, who):
    from hall_fixtures import PASSWORDS

    with hall_sqlite.db.transaction() as s:
        staff.set_active(s, who["admin"], "c02", False, "调离本中心")
    with hall_sqlite.db.transaction() as s, pytest.raises(HallError, match="工号或密码不正确"):
        staff.authenticate(s, "c02", PASSWORDS["c02"], hall_sqlite.node)
    with hall_sqlite.db.transaction() as s:
        with pytest.raises(ConflictError, match="已经是停用状态"):
            staff.set_active(s, who["admin"], "c02", False, "again")
        with pytest.raises(ValidationError, match="启用原因"):
            staff.set_active(s, who["admin"], "c02", True, "  ")
        staff.set_active(s, who["admin"], "c02", True, "返岗")
    with hall_sqlite.db.transaction() as s:
        assert staff.authenticate(s, "c02", PASSWORDS["c02"], hall_sqlite.node).role == "clerk"


def test_the_last_administrator_stays(hall_sqlite, who):
    with hall_sqlite.db.transaction() as s:
        with pytest.raises(ConflictError, match="不能停用自己的账号"):
            staff.set_active(s, who["admin"], "admin", False, "x")
        with pytest.raises(ConflictError, match="唯一的系统管理员"):
            staff.update_staff(s, who["admin"], staff.StaffForm("admin", "系统管理员", "manager"))
        staff.add_staff(s, who["admin"], staff.StaffForm("admin2", "第二管理员", "admin", password="second-admin-1"))
        staff.update_staff(s, who["admin"], staff.StaffForm("admin", "系统管理员", "manager"))  # now allowed


def test_a_reset_password_works_once_and_must_be_replaced(hall_sqlite, who):
    from hall_fixtures import PASSWORDS

    with hall_sqlite.db.transaction() as s:
        with pytest.raises(ValidationError, match="密码：至少8位"):
            staff.reset_password(s, who["admin"], "c02", "short")
        staff.reset_password(s, who["admin"], "c02", "temporary-1")
    with hall_sqlite.db.transaction() as s:
        with pytest.raises(HallError):
            staff.authenticate(s, "c02", PASSWORDS["c02"], hall_sqlite.node)
        clerk = staff.authenticate(s, "c02", "temporary-1", hall_sqlite.node)
        assert staff.must_set_password(s, clerk.staff_id)
        staff.set_password(s, clerk, "c02", "my-own-pass-1")
    with hall_sqlite.db.transaction() as s:
        clerk = staff.authenticate(s, "c02", "my-own-pass-1", hall_sqlite.node)
        assert not staff.must_set_password(s, clerk.staff_id)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(["edit", "off", "on", "reset"]), st.sampled_from(["c02", "c03"]),
                          st.sampled_from(["W01", "W02", None]), st.sampled_from(["clerk", "manager"])),
                max_size=6))
def test_any_sequence_of_administration_replays_to_the_live_tables(hall_sqlite, who, steps):
    """Whatever is accepted or refused, the projection equals a replay (the fixture's teardown checks it too)."""
    from hall.services import ledger_check

    for action, no, window, role in steps:
        try:
            with hall_sqlite.db.transaction() as s:
                if action == "edit":
                    staff.update_staff(s, who["admin"], staff.StaffForm(no, "改名" + no, role, window_code=window))
                elif action in ("off", "on"):
                    staff.set_active(s, who["admin"], no, action == "on", "轮岗")
                else:
                    staff.reset_password(s, who["admin"], no, "temporary-1")
        except HallError:
            pass
    report = ledger_check.check(hall_sqlite.db)
    assert report.ok, report
