"""The manager's 1M ledger: the cached demo ledger with the hall's daily rules run once for its last day.

A hall that has run Hall for years has what the daily rules leave behind — accountability records for every
ticket that went overdue, closure follow-ups waiting (a backlog of thousands), deemed ratings. The plain demo
ledger has none of it, so the manager's screens would be timed on empty side panels. This cache is built once
from ``ledger-N`` (a copy, never the original) under ``benchmarks/.data/manager-ledger-N/`` and, like every cached
ledger, never written to afterwards: benchmarks work on ``_ledger.working_copy`` of it.
"""

from __future__ import annotations

import json
import shutil
import time
from datetime import datetime
from pathlib import Path

from _ledger import DATA, DATABASE, LAST, cached_ledger


def manager_ledger(tickets: int) -> Path:
    """``benchmarks/.data/manager-ledger-N/``: ``ledger-N`` plus one run of the daily rules for ``LAST``."""
    home = DATA / f"manager-ledger-{tickets}"
    marker = home / "daily.json"
    source = cached_ledger(tickets)  # rebuilt first when an older schema wrote it
    if marker.exists() and json.loads(marker.read_text(encoding="utf-8")).get("from_built") == _built(source):
        return home
    if home.exists():
        shutil.rmtree(home)  # half-built by an interrupted run
    print(f"building {home.name} from {source.name}: copy, then the daily rules for {LAST} (once) …", flush=True)
    home.mkdir(parents=True)
    for name in (DATABASE, "node.json"):
        shutil.copyfile(source / name, home / name)
    from hall.paths import Paths
    from hall.services.base.actor import Actor
    from hall.services.bootstrap import open_hall
    from hall.services.cases import daily

    opened = open_hall(Paths(home))
    t0 = time.perf_counter()
    with opened.db.transaction() as s:
        report = daily.run(s, Actor.system(opened.node.node_id, opened.node.intake_point), LAST)
    took = time.perf_counter() - t0
    opened.db.dispose()  # a TRUNCATE checkpoint: one file, no WAL
    print("\n".join(report.lines()), flush=True)
    marker.write_text(json.dumps({"from": source.name, "from_built": _built(source), "daily_for": LAST.isoformat(),
                                  "seconds": round(took, 1),
                                  "report": report.lines(), "built": datetime.now().isoformat(timespec="seconds")},
                                 ensure_ascii=False))
    return home


def _built(source: Path) -> str:
    """When the source ledger was built: a manager ledger made from an earlier build of it is stale."""
    return json.loads((source / "demo-data.json").read_text(encoding="utf-8")).get("built", "")
