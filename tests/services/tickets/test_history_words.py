"""History lines in the glossary's words: every event type the product writes has a Chinese label, and actors are
named by name and role — never ``followup.scheduled：…``, ``(citizen)`` or ``系统 (system)``."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st
from ledger_types import appended_event_types

from hall.services.base.actor import NAMED_ONLY_ROLES, ROLE_LABELS, actor_label
from hall.services.reporting import queue  # noqa: F401  (adds its event's label, as the running program does)
from hall.services.tickets.record import EVENT_LABELS, describe

ASCII_WORD = re.compile(r"[A-Za-z_]{3,}")


def test_every_event_type_has_a_chinese_label():
    types = appended_event_types()  # a scan of hall/'s source: once
    assert sorted(t for t in types if t not in EVENT_LABELS) == []
    for t in types:
        assert not ASCII_WORD.search(EVENT_LABELS[t]), (t, EVENT_LABELS[t])
        line = describe(t, {"reason": "原因", "result": "结果", "state": "closed_approved", "kind": "promised"})
        assert t not in line and line.startswith(EVENT_LABELS[t]), line


def test_actors_are_named_in_chinese():
    assert actor_label("系统", "system") == "系统"
    assert actor_label("申请人（评价器）", "citizen") == "申请人（评价器）"
    assert actor_label("王民政", "clerk") == "王民政（窗口工作人员）"


@given(st.text(max_size=8), st.sampled_from([*ROLE_LABELS, *NAMED_ONLY_ROLES, "someday_new_role"]))
def test_no_role_code_ever_reaches_the_line(name, role):
    label = actor_label(name, role)
    assert role not in label.replace(name, "") and label
