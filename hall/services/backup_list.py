"""What the backups folder holds, for 管理 → 备份与恢复: each file's kind, date and size, and a check of one file.

The files are the ones :mod:`hall.services.backup_chain` writes (the rolling base ``hall-base.sqlite3`` and the
daily ``hall-incr-*`` restore points; the previous scheme's weekly ``hall-full-*`` copies), the old daily copy
(``hall-daily-*``), the copy before a schema upgrade (``hall-before-upgrade-*``) and ``hall-admin backup --out``.
A full copy is checked as a restore would check it (:func:`hall.services.backups.check_file`, an encrypted one
with this PC's key); an increment by reading it through (unsealed when encrypted; every line parses, the count
matches its header) and finding its base — a restore from it checks the assembled result again.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import re
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from hall.errors import DatabaseError, HallError
from hall.services import backup_chain, backups
from hall.services.storage import runlock
from hall.services.storage.db import Database

KIND_LABELS = {"base": "完整备份（滚动）", "full": "完整备份", "incremental": "增量备份（还原点）", "daily": "每日备份",
               "upgrade": "升级前备份",
               "other": "备份文件"}
BACKUP_LOCK_KEY = 0x4841_4C4C_4241_434B  # "HALLBACK": the claim's advisory-lock number (see runlock)
_DATE = re.compile(r"(\d{8})(?:-(\d{6}))?")


@dataclass(frozen=True)
class BackupEntry:
    path: Path
    kind: str  # a key of KIND_LABELS
    taken: datetime  # from the date in its name, else the file's modification time
    bytes: int

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]


@dataclass(frozen=True)
class BackupCheck:
    path: Path
    events: int  # events the file holds (an increment: the events it adds)
    summary: str  # what was checked, in Chinese


def _kind(name: str) -> str | None:
    if name.startswith("hall-incr-") and name.endswith(".jsonl.gz"):
        return "incremental"
    if not name.endswith(".sqlite3") or name.startswith("."):
        return None  # the ``.json`` beside a full copy, a temporary file being written
    if name == backup_chain.BASE:
        return "base"
    for prefix, kind in (("hall-full-", "full"), ("hall-daily-", "daily"), ("hall-before-upgrade-", "upgrade")):
        if name.startswith(prefix):
            return kind
    return "other"


def _taken(path: Path) -> datetime:
    written = datetime.fromtimestamp(path.stat().st_mtime)
    found = _DATE.search(path.name)
    if found:
        try:
            named = datetime.strptime(found.group(1) + (found.group(2) or "000000"), "%Y%m%d%H%M%S")
        except ValueError:
            return written  # eight digits that are no date: the file's own time instead
        # A name with the day only (hall-full-20261204): the time it was written that day, when it still says so.
        return written if not found.group(2) and written.date() == named.date() else named
    return written


def list_backups(folder: Path) -> list[BackupEntry]:
    """The restorable files in ``folder``, newest first (none when the folder does not exist yet)."""
    if not folder.is_dir():
        return []
    out = []
    for path in folder.iterdir():
        kind = _kind(path.name)
        if kind is None or not path.is_file():
            continue
        out.append(BackupEntry(path, kind, _taken(path), path.stat().st_size))
    return sorted(out, key=lambda e: (e.taken, e.path.name), reverse=True)


def check_backup(path: Path) -> BackupCheck:
    """Check one backup file; a ``DatabaseError`` naming the file and what is wrong when it would not restore."""
    if path.name.endswith(".jsonl.gz"):
        return _check_increment(path)
    found = backups.check_file(path)
    return BackupCheck(path, found.events, f"文件结构完好，台账 {found.events} 条事件哈希链相符")


def _check_increment(path: Path) -> BackupCheck:
    try:
        with backup_chain._open_increment(path) as fh:  # unsealed first when the ledger is encrypted
            header = json.loads(fh.readline())
            lines = sum(1 for line in fh if json.loads(line) is not None)
    except (OSError, EOFError, zlib.error, gzip.BadGzipFile, ValueError, UnicodeDecodeError) as exc:
        raise DatabaseError(f"备份文件“{path.name}”未通过检查：增量文件已损坏或不完整（{type(exc).__name__}）。"
                            "未做任何改动。") from None
    if not isinstance(header, dict) or int(header.get("events", -1)) != lines:
        raise DatabaseError(f"备份文件“{path.name}”未通过检查：事件条数与文件头不符（文件不完整）。未做任何改动。")
    base = path.with_name(str(header.get("base", "")))
    if not base.is_file():
        raise DatabaseError(f"备份文件“{path.name}”未通过检查：所依据的完整备份“{base.name}”不存在。未做任何改动。")
    return BackupCheck(path, lines, f"增量文件完整（{lines} 条新事件），所依据的完整备份 {base.name} 在")


def sqlite_file(paths: object, url: str | None) -> Path | None:
    """The SQLite file a restore replaces (None: a PostgreSQL hall, restored on its server)."""
    if not url:
        return Path(paths.database_file)  # type: ignore[attr-defined]
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    return Path(parsed.database) if parsed.get_backend_name() == "sqlite" and parsed.database else None


@contextlib.contextmanager
def one_backup_at_a_time(db: Database, *, wait_s: float = 120.0,
                         waiting: Callable[[], None] | None = None) -> Iterator[bool]:
    """Hold the ledger's one backup claim (an OS file lock beside the database: every thread and program on the
    PC sees it) for the block — waiting up to ``wait_s`` for another backup to finish (the window's daily copy at
    start-up); yields False when ``wait_s`` is 0 and it is taken (the caller skips), raises after a longer wait.
    Two backups at once would both write the rolling base."""
    deadline = time.monotonic() + wait_s
    while True:
        with runlock.exclusive(db.engine, "backup", BACKUP_LOCK_KEY) as claim:
            if claim.held:
                yield True
                return
        if wait_s <= 0:
            yield False
            return
        if time.monotonic() >= deadline:
            who = f"（{claim.holder.host}，进程 {claim.holder.pid}）" if claim.holder else ""
            raise HallError(f"另一个备份正在进行{who}，请稍后再试。")
        if waiting is not None:
            waiting()
        time.sleep(0.2)
