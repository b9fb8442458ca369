"""Verification in proportion to change: a checkpoint of every chain's head, and the daily check from it.

``ledger verify`` re-hashes every event: 211 s at 1,000,000 tickets, too long for every day. After a complete
verification the chain heads are written to a **checkpoint** beside the data (``ledger-checkpoint.json`` in the
data folder — outside the database, so a hand edit of the file cannot rewrite it together with the chain). The
daily check then:

1. finds each checkpointed head again, the same hash at the same sequence number: an edit anywhere behind it
   that re-hashed the chain, a deleted tail, a deleted chain all change or remove it;
2. counts each chain's events up to its checkpointed head: an event deleted behind it leaves a gap;
3. re-hashes only the events after the heads, each continuing from the one before;
4. compares the ends with the stored heads, like the full verification;

then moves the checkpoint to the new heads. What it cannot see — an edit behind the checkpoint that was not
re-hashed into the chain, which breaks a link no daily check reads — the full verification finds (``ledger verify
--full-chain``, weekly or on demand). The checkpoint is bound to its ledger by the first event's hash: another
ledger's checkpoint is never used.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hall.models import Event, NodeHead
from hall.services.storage import ledger
from hall.services.storage.files import atomic_path

NAME = "ledger-checkpoint.json"
FORMAT = 1


@dataclass(frozen=True)
class Checkpoint:
    ledger_id: str  # the hash of the ledger's first event: which ledger this is
    heads: dict[str, tuple[int, str]]
    events: int
    taken_at: str

    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT, "ledger_id": self.ledger_id, "events": self.events, "taken_at": self.taken_at,
                "heads": {n: [q, h] for n, (q, h) in sorted(self.heads.items())}}


def path_in(data_dir: Path) -> Path:
    return Path(data_dir) / NAME


def _ledger_id(session: Session) -> str:
    first = session.scalars(select(Event.hash).order_by(Event.id).limit(1)).first()
    return first or ""


def load(data_dir: Path, session: Session) -> Checkpoint | None:
    """This ledger's checkpoint, or None (none yet, unreadable, or another ledger's)."""
    try:
        doc = json.loads(path_in(data_dir).read_text(encoding="utf-8"))
        if doc.get("format") != FORMAT:
            return None
        cp = Checkpoint(str(doc["ledger_id"]), {str(n): (int(q), str(h)) for n, (q, h) in doc["heads"].items()},
                        int(doc["events"]), str(doc["taken_at"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return cp if cp.ledger_id == _ledger_id(session) else None


def save(data_dir: Path, session: Session, heads: dict[str, tuple[int, str]], events: int,
         now: datetime | None = None) -> Checkpoint:
    cp = Checkpoint(_ledger_id(session), dict(heads), events,
                    (now or datetime.now()).isoformat(timespec="seconds"))
    target = path_in(data_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError), atomic_path(target, prefix=".ledger-checkpoint.") as tmp:
        tmp.write_text(json.dumps(cp.to_json(), ensure_ascii=False, indent=1), encoding="utf-8")
    return cp


def stored_heads(session: Session) -> dict[str, tuple[int, str]]:
    return {h.node_id: (h.seq, h.hash) for h in session.scalars(select(NodeHead).where(NodeHead.seq > 0))}


def verify_from(session: Session, cp: Checkpoint, *, sparse: frozenset[str] = frozenset(),
                batch: int = 5000) -> tuple[ledger.ChainReport, dict[str, tuple[int, str]]]:
    """The daily check from ``cp`` (see the module): the report, and the heads reached (the next checkpoint)."""
    heads: dict[str, tuple[int, str]] = {}
    behind = 0
    waiting = ledger.parked_links(session)  # a relayed chain's gap its waiting events fill (ledger.verify)
    for node_id, (seq, digest) in sorted(cp.heads.items()):
        at = session.scalars(select(Event).where(Event.node_id == node_id, Event.seq == seq)).first()
        if at is None or at.hash != digest:
            what = ("已不在台账中（末尾事件或整条链被删除）" if at is None
                    else "哈希已改变（此前的台账被改动后重新计算了哈希）")
            return ledger.ChainReport(0, len(cp.heads), at,
                                      f"终端 {node_id} 在检查点（{cp.taken_at}）的第 {seq} 号事件{what}"), heads
        if node_id not in sparse:
            held = int(session.scalar(select(func.count()).select_from(Event)
                                      .where(Event.node_id == node_id, Event.seq <= seq)) or 0)
            held += sum(1 for s in waiting.get(node_id, {}) if s <= seq)
            if held != seq:
                gap = f"终端 {node_id} 在检查点之前应有 {seq} 条事件，实有 {held} 条（有事件被删除）"
                return ledger.ChainReport(0, len(cp.heads), at, gap), heads
        heads[node_id] = (seq, digest)
        behind += seq
    count = 0
    nodes = sorted(set(cp.heads) | set(stored_heads(session)))
    for node_id in nodes:
        last_seq, last_hash = heads.get(node_id, (0, ledger.GENESIS))
        while True:
            rows = session.scalars(select(Event).where(Event.node_id == node_id, Event.seq > last_seq)
                                   .order_by(Event.seq).limit(batch)).all()
            if not rows:
                break
            for ev in rows:
                count += 1
                if node_id in waiting and node_id not in sparse:
                    last_seq, last_hash = ledger.bridge(waiting[node_id], last_seq, last_hash, ev.seq)
                problem = ledger.event_problem(ev, last_seq, last_hash, sparse=node_id in sparse)
                if problem:
                    return ledger.ChainReport(count, len(heads), ev, problem), heads
                last_seq, last_hash = ev.seq, ev.hash
                heads[node_id] = (last_seq, last_hash)
            session.expunge_all()
    report = ledger.heads_report(session, heads, count)
    return ledger.ChainReport(behind + count, report.nodes, report.first_broken, report.problem), heads


def check(session: Session, data_dir: Path, *, daily: bool, sparse: frozenset[str] = frozenset()
          ) -> tuple[ledger.ChainReport, str | None, dict[str, tuple[int, str]]]:
    """``daily``: from this ledger's checkpoint when there is one (else the whole chain); otherwise the whole
    chain. Returns the report, the checkpoint's time used (None: the whole chain) and the heads reached — which
    the caller saves as the next checkpoint (:func:`save`) once every other check of the ledger agrees too."""
    cp = load(data_dir, session) if daily else None
    if cp is not None:
        report, heads = verify_from(session, cp, sparse=sparse)
    else:
        report = ledger.verify(session, sparse=sparse)
        heads = stored_heads(session)
    return report, (cp.taken_at if cp is not None else None), heads
