"""Saving the same intake form twice — the hall server went away during the first save, whose commit may or may not
have reached it — registers the citizen once: the second save finds the ticket by the form's id."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from hall.models import Event, Ticket
from hall.services.tickets import intake

FORM = intake.IntakeForm("11", intake.ApplicantForm("person", "11010519491231002X", "王秀英"),
                         materials={})


def test_the_same_form_saved_again_is_found_not_registered_twice(hall_db, people):
    key = uuid.uuid4().hex  # a draft's key, as the intake form has it
    with hall_db.db.transaction() as s:
        materials = {m["name"]: "received" for m in intake.catalog.current_item(s, "11").materials}
        form = intake.IntakeForm(FORM.item_code, FORM.applicant, materials=materials)
        first = intake.register(s, people["c02"], form, uid=key)
    with hall_db.db.transaction() as s:
        events = s.scalar(select(func.count()).select_from(Event))
        again = intake.register(s, people["c02"], form, uid=key)
        assert s.scalar(select(func.count()).select_from(Event)) == events  # nothing written
    assert not first.already_saved and again.already_saved
    assert (again.number, again.ticket_id, again.state, again.papers) == (first.number, first.ticket_id,
                                                                          first.state, first.papers)
    assert "未重复登记" in again.warnings[0]
    with hall_db.db.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Ticket)) == 1
        assert s.scalar(select(Ticket.uid)) == str(uuid.UUID(key))
        other = intake.register(s, people["c02"], form, uid=uuid.uuid4().hex)  # another form: another ticket
    assert other.number != first.number and not other.already_saved
