"""The ledger written by the previous release (tests/fixtures/release-1, built by its own command line through
tests/fixtures/build_release_1.py): a plain module, so any test can take a fresh copy of it."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "release-1"
META = json.loads((FIXTURE / "release-1.json").read_text(encoding="utf-8"))


def copy_to(data: Path) -> Path:
    """A copy of the fixture's data directory at ``data`` (the fixture itself is never opened: opening upgrades)."""
    data.mkdir(parents=True)
    with gzip.open(FIXTURE / "hall.sqlite3.gz", "rb") as src, open(data / "hall.sqlite3", "wb") as dst:
        shutil.copyfileobj(src, dst)
    shutil.copyfile(FIXTURE / "node.json", data / "node.json")
    return data
