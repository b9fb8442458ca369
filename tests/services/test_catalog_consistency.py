"""Catalogue consistency warnings: a joint item overdue by construction, a promised limit above the statutory."""

from __future__ import annotations

from dataclasses import replace

from hall.services.catalog import consistency
from hall.services.catalog import items as catalog
from hall.services.catalog.items import default_catalog_dir


def test_the_default_catalogue_flags_its_joint_items_that_cannot_be_met():
    spec = catalog.read_tsv_dir(default_catalog_dir())
    found = consistency.warnings(spec)
    joint = {i.code: i for i in spec.items if i.default_kind == "joint" and len(i.departments) > 1}
    short = {c for c, i in joint.items() if i.promised_limit < 9}
    assert {w.code for w in found} == short and "37" in short
    (w37,) = [w for w in found if w.code == "37"]
    row = 2 + [i.code for i in spec.items].index("37")
    assert w37.row == row
    assert w37.text().startswith(f"事项 第 {row} 行（37 ")
    assert "承诺时限 5 个工作日短于协办部门最长答复时间" in w37.reason and "至少应为 9 个工作日" in w37.reason


def test_a_promised_limit_above_the_statutory_one_and_a_natural_day_joint_item():
    spec = catalog.read_tsv_dir(default_catalog_dir())
    base = next(i for i in spec.items if i.code == "37")
    over = replace(base, code="90", promised_limit=25, statutory_limit=20)
    natural = replace(base, code="91", limit_unit="day", promised_limit=10, statutory_limit=10)
    fine = replace(base, code="92", limit_unit="day", promised_limit=11, statutory_limit=11)
    got = consistency.warnings(replace(spec, items=(over, natural, fine)))
    assert [(w.row, w.code) for w in got] == [(2, "90"), (3, "91")]
    assert got[0].reason == "承诺时限 25 个工作日超过法定时限 20 个工作日"
    assert "至少应为 11 日" in got[1].reason
