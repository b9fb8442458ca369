"""Returning citizens by name or initials: bounded index walks, exact names first, latest first."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert

from hall.models import Applicant
from hall.services.base.pinyin import initials
from hall.services.tickets import intake

NAMES = ["王芳", "王芳芳", "王方", "汪芳", "王", "欧阳芳", "王_芳", "王%芳"]


def _add(s, rows):
    base = datetime(2026, 1, 1, 9)
    s.execute(insert(Applicant), [
        {"id_no": f"X{i:017d}", "applicant_type": "person", "name": n, "initials": initials(n),
         "updated_at": base + timedelta(minutes=m)} for i, (n, m) in enumerate(rows)])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(st.sampled_from(NAMES), st.integers(0, 10_000)), min_size=1, max_size=30),
       query=st.sampled_from(["王芳", "王", "wf", "WF", "王_", "王%", "欧阳", "汪"]))
def test_matches_are_exactly_the_prefixes_exact_first_then_latest(hall_sqlite, rows, query):
    with hall_sqlite.db.transaction() as s:
        s.query(Applicant).delete()
        _add(s, rows)
        got = [(a.name, a.updated_at) for a in intake.find_applicant(s, query, limit=50)]
        s.rollback()
    q = query.strip()
    expected = [(n, m) for n, m in rows
                if n.startswith(q) or (q.isascii() and initials(n).startswith(q.lower()))]
    assert sorted(got) == sorted(
        (n, datetime(2026, 1, 1, 9) + timedelta(minutes=m)) for n, m in expected)
    keys = [(name != q, -at.timestamp()) for name, at in got]
    assert keys == sorted(keys)


@pytest.mark.ledger_edited
def test_an_exact_name_comes_first_behind_hundreds_of_prefix_matches(hall_sqlite):
    with hall_sqlite.db.transaction() as s:
        _add(s, [("王" + "芳明强伟" [i % 4] + str(i), i) for i in range(3 * intake.APPLICANT_CANDIDATES)]
             + [("王", 5)])
        got = intake.find_applicant(s, "王", limit=10)
        assert got[0].name == "王"  # the exact name first, whatever the prefix walk found
        assert len(got) == 10
