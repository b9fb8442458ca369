"""The hall keeps a village's signed chain heads at every sync import: a village chain later truncated in the
hall's database (its tail deleted, its head rewound) is reported by the hall's `ledger verify`."""

from __future__ import annotations

import json
from contextlib import closing

import pytest
from sync_env import add_point, add_tickets, cli, make_hall, make_laptop, ok

from hall.paths import Paths
from hall.services.bootstrap import open_hall
from hall.services.storage import anchor, at_rest
from hall.services.sync import heads


@pytest.mark.ledger_edited
def test_village_heads_signed_by_its_daily_run_are_kept_and_checked_at_the_hall(tmp_path):
    hall = make_hall(tmp_path / "hall")
    add_point(hall, "001")
    lap = make_laptop(hall, tmp_path / "lap", "001")
    add_tickets(lap, 4, seed=7)
    # The laptop signs its head as its daily rules do (`hall-admin daily` on a laptop stops earlier, at its
    # backup check, which verifies the hall's partial chain as a whole one: a separate, older problem).
    opened = open_hall(Paths.resolve(lap))
    try:
        heads.sign_now(opened.db, opened.system, lap)
    finally:
        opened.db.dispose()
    bundle = tmp_path / "001.hallsync"
    ok(cli(lap, "sync", "export", "--out", str(bundle)))
    ok(cli(hall, "sync", "import", str(bundle)))

    village = json.loads((lap / "sync_keys.json").read_text(encoding="utf-8"))["node_id"]
    kept = anchor.load_anchor(hall)
    assert village in kept and kept[village].signature_ok()
    assert ok(cli(hall, "ledger", "verify")).code == 0

    # At the hall, someone deletes the tail of the village's chain and rewinds its head.
    with closing(at_rest.connect(Paths.resolve(hall).database_file)) as conn:
        conn.execute("DELETE FROM events WHERE node_id=? AND seq>=?", (village, kept[village].seq - 1))
        last, digest = conn.execute("SELECT seq, hash FROM events WHERE node_id=? ORDER BY seq DESC LIMIT 1",
                                    (village,)).fetchone()
        conn.execute("UPDATE node_heads SET seq=?, hash=? WHERE node_id=?", (last, digest, village))
        conn.commit()
    run = cli(hall, "ledger", "verify")
    assert run.code == 1 and "链被截短" in run.err and village[:8] in run.err
