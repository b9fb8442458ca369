"""Every damaged, tampered, misaddressed, unknown, revoked, replayed or forked bundle is refused with a Chinese
reason and leaves the hall's database exactly as it was; ``kill -9`` during a large import never half-imports."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from mutations import Parties, cases
from sync_env import ROOT, add_point, add_prints, add_tickets, cli, digest, make_hall, make_laptop, ok

from hall.paths import Paths
from hall.services import ledger_check
from hall.services.bootstrap import open_hall
from hall.services.storage import at_rest
from hall.services.sync import exchange, keys
from hall.services.sync.bundle import BundleRejected
from hall.services.sync.keys import NodeKeys

SUITE_CASES = 108  # six of each mutation kind; benchmarks/fuzz_sync.py runs thousands


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    base = tmp_path_factory.mktemp("reject")
    hall = make_hall(base / "hall")
    for point in ("001", "002", "003"):
        add_point(hall, point)
    laps = {p: make_laptop(hall, base / f"lap{p}", p) for p in ("001", "002", "003")}
    for n, lap in enumerate(laps.values()):
        add_tickets(lap, 6, seed=n)
    old = base / "old.hallsync"
    ok(cli(laps["001"], "sync", "export", "--out", str(old)))
    fork = base / "lapfork"
    shutil.copytree(laps["001"], fork)  # the same laptop's disk, cloned, going on differently
    add_tickets(laps["001"], 3, seed=5)
    add_tickets(fork, 2, seed=6)
    bundles = {}
    for name, where in (("new", laps["001"]), ("fork", fork), ("002", laps["002"]), ("003", laps["003"])):
        bundles[name] = base / f"{name}.hallsync"
        ok(cli(where, "sync", "export", "--out", str(bundles[name])))
    ok(cli(hall, "sync", "import", str(bundles["new"])))
    ok(cli(hall, "sync", "import", str(bundles["002"])))
    ok(cli(hall, "sync", "revoke", "003", "--reason", "停用"))
    stranger = NodeKeys.create("99999999-0000-4000-8000-000000000000", "laptop", "009")
    parties = Parties(keys.load(hall), keys.load(laps["001"]), keys.load(laps["002"]), stranger,
                      bundles["new"].read_bytes())
    return {"hall": hall, "old": old, "bundles": bundles, "parties": parties}


def test_mutated_bundles_are_all_rejected_and_change_nothing(scene):
    opened = open_hall(Paths.resolve(scene["hall"]))
    hall_keys = scene["parties"].hall
    try:
        before = ledger_check.digest(opened.db).sha256
        reasons: dict[str, set[str]] = {}
        for i, (kind, data) in enumerate(cases(scene["parties"], SUITE_CASES, seed=1)):
            with pytest.raises(BundleRejected) as caught, opened.db.transaction() as s:
                exchange.import_bundle(s, opened.system, hall_keys, data)
            assert caught.value.message.startswith("同步文件被拒绝：") and "数据库未做任何更改" in caught.value.message
            reasons.setdefault(kind, set()).add(caught.value.reason)
            if i % 27 == 26:
                assert ledger_check.digest(opened.db).sha256 == before, kind
        assert ledger_check.digest(opened.db).sha256 == before
        assert len(reasons) == 18
    finally:
        opened.db.dispose()


@pytest.mark.parametrize(("bundle", "reason"), [
    ("old", "过期的同步文件"), ("fork", "分叉"), ("003", "已被吊销"),
])
def test_replay_fork_and_revoked_peer_are_refused_by_the_cli(scene, bundle, reason):
    path = scene["old"] if bundle == "old" else scene["bundles"][bundle]
    before = digest(scene["hall"])
    run = cli(scene["hall"], "sync", "import", str(path))
    assert run.code == 2 and reason in run.err and "数据库未做任何更改" in run.err
    assert digest(scene["hall"]) == before
    again = cli(scene["hall"], "sync", "import", str(scene["bundles"]["new"]))
    assert again.code == 0 and "已导入过" in again.out


# ------------------------------------------------------------------------------------------------ kill -9
@pytest.fixture(scope="module")
def big(tmp_path_factory):
    """A laptop with 10,001 events (its join, 500 on-the-spot tickets, 9,000 reprints of their receipts) and its
    bundle."""
    base = tmp_path_factory.mktemp("big")
    hall = make_hall(base / "hall")
    add_point(hall, "001")
    lap = make_laptop(hall, base / "lap", "001")
    add_tickets(lap, 500, immediate_only=True)
    add_prints(lap, 9000)
    bundle = base / "big.hallsync"
    ok(cli(lap, "sync", "export", "--out", str(bundle)))
    return {"base": base, "hall": hall, "bundle": bundle, "empty": digest(hall)}


def _events(hall: Path) -> int:
    with at_rest.connect(hall / "hall.sqlite3") as c:
        assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return c.execute("SELECT count(*) FROM events").fetchone()[0]


def test_kill_during_a_ten_thousand_event_import_never_half_imports(big):
    hall = big["hall"]
    start = _events(hall)
    rng = random.Random(3)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    for _ in range(2):  # benchmarks/kill_sync.py does two dozen
        p = subprocess.Popen([sys.executable, "-m", "hall.cli", "--data-dir", str(hall), "sync", "import",
                              str(big["bundle"])], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.5, 1.3))  # start-up is ~0.5 s; the import itself ~0.5 s
        p.send_signal(signal.SIGKILL)
        p.wait()
        n = _events(hall)
        assert n in (start, start + 10_001)  # all or nothing
        if n != start:
            break  # it finished before the kill: the rest would be no-ops
        assert digest(hall) == big["empty"]
    run = cli(hall, "sync", "import", str(big["bundle"]))
    assert run.code == 0
    assert _events(hall) == start + 10_001
    assert "哈希链全部相符" in ok(cli(hall, "ledger", "verify")).out
