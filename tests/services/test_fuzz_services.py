"""A few thousand hostile inputs through every service that takes typed text (benchmarks/fuzz_inputs.py), on a
real SQLite file: nothing but the project's own errors, nothing forbidden stored, every export and paper written.

The same harness runs 100,000 inputs on SQLite and on PostgreSQL from the command line (see its docstring).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

HARNESS = Path(__file__).resolve().parents[2] / "benchmarks" / "fuzz_inputs.py"


@pytest.fixture(scope="module")
def harness():
    spec = importlib.util.spec_from_file_location("fuzz_inputs", HARNESS)
    module = importlib.util.module_from_spec(spec)
    sys.modules["fuzz_inputs"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop("fuzz_inputs", None)


def test_hostile_inputs_through_every_service(harness, hall_sqlite, tmp_path):
    report = harness.run(inputs=3000, seed=20260302, workdir=tmp_path, opened=hall_sqlite)
    print(report.summary())
    assert report.baseline_failures == []  # every scenario's valid input is accepted: the fixtures are right
    assert report.unhandled == []
    assert report.unclean_messages == []
    assert report.stored_bad == []
    assert report.export_failures == []
    assert report.inputs == 3000
    # The run reached deep: many inputs were accepted and stored (then scanned), and refusals were many too.
    assert report.accepted > 400 and report.rejected > 1000
    assert report.stored_rows_scanned > 10_000
    # Monthly reports, both ledgers and papers, before and after hostile rows were written straight in.
    assert sum("monthly" in e for e in report.exports) >= 2
    assert sum("ledger" in e for e in report.exports) == 4
    assert sum("paper" in e and "refused" not in e for e in report.exports) >= 4
    scenarios = {name for name, seen in report.per_scenario.items() if seen["accepted"] + seen["rejected"]}
    assert len(scenarios) >= len(harness.SCENARIOS) - 3  # (rare ones may not come up in a short run)


def test_the_harness_finds_what_it_looks_for(harness):
    """Its checks are not vacuous: a stored control character, a bad message and an escape are each seen."""
    assert harness._bad_char("办结\x07", one_line=False) == "\x07"
    assert harness._bad_char("第一行\n第二行", one_line=True) == "\n"
    assert harness._bad_char("第一行\n第二行", one_line=False) is None
    assert harness._bad_char("a\ud800", one_line=False) == "\ud800"
    assert harness._bad_char("反\u202e向", one_line=False) == "\u202e"
    assert not harness._message_clean("办件编号：\x00")
    assert harness._message_clean("办件编号：不能为空")
    seen = {harness.hostile(harness.random.Random(i)) for i in range(3000)}
    assert any("\x00" in s for s in seen) and any(any(0xD800 <= ord(c) <= 0xDFFF for c in s) for s in seen)
    assert any(len(s) >= 10_000 for s in seen) and "" in seen and "0" in seen
    assert any(s.startswith("=") for s in seen) and any("DROP TABLE" in s for s in seen)
