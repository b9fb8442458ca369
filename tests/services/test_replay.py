"""A ledger with every workflow in it replays to exactly its live projections — in this process, under another
time zone in a process of its own, and with pypinyin answering differently: no projector reads the clock, the
time zone or a library's answer.

The ledger: demo tickets, then the walkthrough of every workflow (hall/demo/walkthrough.py) through the services,
written in format 2 by the current code.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import projection_digest as pd
import pytest
from sqlalchemy import select

import hall
from hall.demo import data as demo_data
from hall.demo import walkthrough
from hall.models import Event
from hall.paths import Paths
from hall.services.base import pinyin
from hall.services.bootstrap import open_hall
from hall.services.storage.db import Database

TODAY = date(2026, 6, 10)
TESTS = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def walked(_sqlite_template, tmp_path_factory) -> Path:
    """A hall data directory after demo intake and the whole walkthrough (built once for this module)."""
    data = tmp_path_factory.mktemp("walked") / "data"
    shutil.copytree(_sqlite_template, data)
    opened = open_hall(Paths.resolve(data))
    try:
        first = walkthrough.first_day(opened.db, TODAY)
        demo_data.generate(opened.db, opened.node, 60, seed=4, end=first - timedelta(days=1))
        walkthrough.run(opened.db, opened.node, seed=4, today=TODAY)
    finally:
        opened.db.dispose()
    return data


def _live(data: Path) -> dict[str, list[str]]:
    db = Database.open(f"sqlite:///{data / 'hall.sqlite3'}")
    try:
        with db.reading() as s:
            return pd.tables(s)
    finally:
        db.dispose()


def _replayed(data: Path, into: Path) -> dict[str, list[str]]:
    source = Database.open(f"sqlite:///{data / 'hall.sqlite3'}")
    target = pd.empty_hall(into)
    try:
        with source.reading() as s:
            pd.replay(s, target)
        with target.reading() as s:
            return pd.tables(s)
    finally:
        source.dispose()
        target.dispose()


def test_the_ledger_replays_to_its_live_projections(walked, tmp_path):
    live = _live(walked)
    assert len(live["tickets"]) > 60 and live["attendance"] and live["calendar_years"]
    db = Database.open(f"sqlite:///{walked / 'hall.sqlite3'}")
    try:
        with db.reading() as s:
            formats = set(s.scalars(select(Event.format)))
            anonymous = s.scalars(select(Event.type).where(Event.actor_id.is_not(None))).all()
    finally:
        db.dispose()
    assert formats == {2} and anonymous == []  # written now: stable actor uids only
    rebuilt = _replayed(walked, tmp_path / "rebuilt")
    assert pd.differences(live, rebuilt) == []


_REPLAY_AND_DIGEST = """
import sys
from pathlib import Path
import projection_digest as pd
from hall.services.storage.db import Database
source = Database.open("sqlite:///" + sys.argv[1])
target = pd.empty_hall(Path(sys.argv[2]))
with source.reading() as s:
    pd.replay(s, target)
with target.reading() as s:
    print(pd.digest(s))
"""


@pytest.mark.parametrize("zone", ["UTC", "Asia/Shanghai", "America/New_York"])
def test_a_replay_in_another_time_zone_gives_the_same_projections(walked, tmp_path, zone):
    env = {**os.environ, "TZ": zone,
           "PYTHONPATH": os.pathsep.join([str(Path(hall.__file__).resolve().parents[1]), str(TESTS)])}
    out = subprocess.run([sys.executable, "-c", _REPLAY_AND_DIGEST, str(walked / "hall.sqlite3"),
                          str(tmp_path / zone.replace("/", "-"))], env=env, capture_output=True, text=True,
                         timeout=300, check=True)
    db = Database.open(f"sqlite:///{walked / 'hall.sqlite3'}")
    try:
        with db.reading() as s:
            live = pd.digest(s)
    finally:
        db.dispose()
    assert out.stdout.strip() == live


def test_a_replay_with_a_different_pypinyin_gives_the_same_projections(walked, tmp_path, monkeypatch):
    """Another pypinyin version may split or read names differently; initials already told stay as told."""
    import pypinyin

    real = pypinyin.lazy_pinyin

    def another_version(text, *args, **kwargs):  # every answer different from the installed one's
        return [part[::-1] + "q" for part in real(text, *args, **kwargs)]

    live = _live(walked)
    pinyin.initials.cache_clear()
    monkeypatch.setattr(pypinyin, "lazy_pinyin", another_version)
    try:
        assert pinyin.initials("低保申请") != "dbsq"  # the stand-in really answers otherwise
        rebuilt = _replayed(walked, tmp_path / "rebuilt")
    finally:
        pinyin.initials.cache_clear()
    assert pd.differences(live, rebuilt) == []


STAFF_REFS = ("staff_uid", "b_post_uid", "holder_uid", "from_owner_uid", "to_owner_uid", "to_staff_uid",
              "approver_uid")
# Keys by which release 1 named staff and items by one database's row ids.
LOCAL_ID_KEYS = frozenset({"staff_id", "staff_ids", "holder_id", "b_post_id", "from_owner", "to_owner",
                           "to_staff_id", "approver_id", "item_id"})


def _walk_payload(value, found: dict[str, list]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            found.setdefault(k, []).append(v)
            _walk_payload(v, found)
    elif isinstance(value, list):
        for v in value:
            _walk_payload(v, found)


def test_every_payload_names_people_and_items_by_stable_ids(walked):
    from hall.models import CatalogVersion, Staff

    db = Database.open(f"sqlite:///{walked / 'hall.sqlite3'}")
    try:
        with db.reading() as s:
            staff_uids = set(s.scalars(select(Staff.uid)))
            versions = set(s.scalars(select(CatalogVersion.uid)))
            found: dict[str, list] = {}
            for ev in s.scalars(select(Event)):
                _walk_payload(json.loads(ev.payload), found)
                assert ev.actor_uid is None or ev.actor_uid in staff_uids
    finally:
        db.dispose()
    assert LOCAL_ID_KEYS & set(found) == set()
    named = [v for key in STAFF_REFS for v in found.get(key, []) if v is not None]
    named += [u for uids in found.get("staff_uids", []) for u in uids]
    assert len(named) > 20 and set(named) <= staff_uids
    assert {key for key in STAFF_REFS if found.get(key)} == set(STAFF_REFS)  # the walkthrough told every kind
    assert set(found["catalog_version"]) <= versions and set(found["version_uid"]) == versions
