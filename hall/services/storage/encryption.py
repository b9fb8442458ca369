"""Encryption at rest as the administrator uses it: what state a data folder is in, turning encryption on, putting a
lost key back from the recovery code — one set of calls for ``hall-admin encryption`` and 管理 → 数据加密….

The mechanics (SQLCipher, the sealed small files, the key store) are :mod:`hall.services.storage.at_rest`; this
module adds what a person needs around them: the state in plain facts (where the key is kept, its fingerprint,
whether the backups and drafts are encrypted), the refusal of a PostgreSQL hall (its server encrypts its own disk),
a recovery code checked as it is typed (its length, its alphabet, its check), and every failure of turning it on
(another program has the ledger open, a full disk, a file that cannot be written) as a Chinese message with
nothing half-done. Neither the key nor the code is ever logged.
"""

from __future__ import annotations

import errno
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hall.errors import HallError
from hall.services.storage import at_rest
from hall.services.storage.files import in_use

log = logging.getLogger("hall.encryption")

GROUPS = 14
GROUP_LEN = 4
CODE_CHARS = GROUPS * GROUP_LEN
# Base32's letters and digits, and the look-alikes a person may copy from paper (0→O, 1→I, 8→B: base32 has none).
_ALPHABET = set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567018")
_SEPARATORS = set(" -\t\u3000－—")

SERVER_ONLY = ("本中心的数据在 PostgreSQL 服务器上：数据加密只用于本机的 SQLite 数据文件夹。"
               "服务器的数据请用服务器的磁盘加密（BitLocker 或 LUKS）保护。")

Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class Files:
    """Files of one kind in the data folder: how many there are, and how many of them are encrypted."""

    total: int
    encrypted: int

    @property
    def all_encrypted(self) -> bool:
        return self.encrypted == self.total


@dataclass(frozen=True)
class State:
    sqlite: bool  # False: a PostgreSQL hall (nothing here applies)
    enabled: bool
    data_dir: Path
    database: Path | None
    database_encrypted: bool = False
    key_here: bool = False  # this PC holds the folder's key
    key_store: str = ""  # "dpapi" (Windows, for the Windows user) or "file" (a 0600 file)
    key_path: str = ""
    fingerprint: str = ""  # the key's id in groups of four (names the key, reveals nothing of it)
    enabled_at: str = ""
    backups: Files = Files(0, 0)
    drafts: Files = Files(0, 0)


def database_of(data_dir: Path, url: str | None) -> Path | None:
    """The SQLite file a program opened with ``url`` uses (None: a PostgreSQL hall)."""
    if not url:
        return Path(data_dir) / "hall.sqlite3"
    from sqlalchemy.engine import make_url

    from hall.services.storage.db import normalise_url

    parsed = make_url(normalise_url(url))
    if parsed.get_backend_name() != "sqlite":
        return None
    return Path(parsed.database or "")


def fingerprint(key_id: str) -> str:
    return " ".join(key_id[i:i + 4] for i in range(0, len(key_id), 4)).upper()


def state(data_dir: Path, database: Path | None) -> State:
    """The data folder's encryption as facts (a few small file reads; no query). A damaged ``encryption.json``
    raises its Chinese message."""
    data_dir = Path(data_dir)
    if database is None:
        return State(False, False, data_dir, None)
    found = at_rest.status(data_dir)
    backups = data_dir / "backups"
    full = sorted(backups.glob("*.sqlite3")) if backups.is_dir() else []
    small = sorted(backups.glob("*.jsonl.gz")) if backups.is_dir() else []
    drafts_dir = data_dir / "drafts"
    drafts = sorted(drafts_dir.glob("*.json")) if drafts_dir.is_dir() else []
    return State(
        True, found.enabled, data_dir, Path(database),
        database_encrypted=at_rest.is_encrypted_file(Path(database)),
        key_here=found.key_here, key_store="dpapi" if sys.platform == "win32" else "file",
        key_path=found.key_path, fingerprint=fingerprint(found.key_id) if found.enabled else "",
        enabled_at=found.enabled_at,
        backups=Files(len(full) + len(small), sum(at_rest.is_encrypted_file(p) for p in full)
                      + sum(_sealed(p) for p in small)),
        drafts=Files(len(drafts), sum(_sealed(p) for p in drafts)))


def _sealed(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            return at_rest.is_sealed(fh.read(8))
    except OSError:
        return False


def needs_recovery(data_dir: Path) -> bool:
    """The folder is encrypted and this PC has not got its key (a new PC, a reinstalled system): the recovery code
    is needed before the program can open it. A damaged configuration is left to the opening, which says so."""
    try:
        found = at_rest.status(Path(data_dir))
    except HallError:
        return False
    return found.enabled and not found.key_here


def in_use_elsewhere(database: Path | None) -> bool:
    """Another program (a second Hall, hall-admin) has the ledger open now — checked before this program closes
    its own connections to turn encryption on (POSIX locks do not see this process's own)."""
    return database is not None and database.exists() and in_use(database)


def enable(data_dir: Path, database: Path | None, *, progress: Progress | None = None) -> at_rest.Enabled:
    """Turn encryption on for the data folder (see :func:`at_rest.enable`); the program must have closed the ledger.
    Every refusal or failure is a ``HallError`` in Chinese, and the folder stays readable as it was."""
    if database is None:
        raise HallError(SERVER_ONLY)
    try:
        try:
            done = at_rest.enable(Path(data_dir), Path(database), in_use=in_use, progress=progress)
        except OSError as exc:
            raise _os_error(exc, Path(data_dir)) from exc
        except at_rest.DATABASE_ERRORS as exc:
            raise _db_error(exc, Path(database)) from exc
    except HallError as exc:
        log.warning("encryption not enabled: %s", exc)  # file names and the reason; no key, no code
        raise
    log.info("encryption enabled for the data folder (%d files converted)", len(done.converted))
    return done


def _os_error(exc: OSError, where: Path) -> HallError:
    name = Path(exc.filename).name if exc.filename else str(where)
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return HallError(f"磁盘空间不足，无法写入加密后的文件（{name}）：未启用加密，数据保持原样。"
                         "请腾出至少与台账文件一样大的空间后再试。")
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EBUSY):
        return HallError(f"文件 {name} 正被其他程序占用或没有写入权限：未启用加密，数据保持原样。"
                         "请关闭所有窗口的 Hall 和其他打开该文件的程序后再试。")
    return HallError(f"无法写入 {name}（{exc.strerror or exc.__class__.__name__}）：未启用加密，数据保持原样。")


def _db_error(exc: BaseException, where: Path) -> HallError:
    text = str(exc).lower()
    if "full" in text:
        return HallError(f"磁盘空间不足，无法写入加密后的台账（{where.name}）：未启用加密，数据保持原样。"
                         "请腾出至少与台账文件一样大的空间后再试。")
    if "locked" in text or "busy" in text:
        return HallError(f"台账文件 {where.name} 正被另一个程序使用：未启用加密，数据保持原样。"
                         "请先关闭所有窗口的 Hall，再启用加密。")
    return HallError(f"台账文件 {where.name} 无法读取或已损坏，未启用加密：请先从最近的备份恢复（管理 → 备份与恢复）。")


@dataclass(frozen=True)
class CodeCheck:
    """A recovery code as typed so far: ``problem`` None when it is whole and its check holds; ``incomplete`` when
    it is only not finished yet (nothing wrong in what was typed)."""

    problem: str | None
    incomplete: bool = False


def check_code(text: str) -> CodeCheck:
    """What is wrong with a recovery code as typed so far. The rules are named: 14 groups of 4, letters A–Z and
    digits 2–7, the last group's check."""
    chars: list[str] = []
    for position, ch in enumerate(text.upper(), start=1):
        if ch in _SEPARATORS:
            continue
        if ch not in _ALPHABET:
            return CodeCheck(f"第 {position} 个字符“{ch}”不能出现在恢复码中：恢复码只有字母 A–Z 和数字 2–7"
                             "（分组之间可用短横线或空格）。")
        chars.append(ch)
    if len(chars) < CODE_CHARS:
        return CodeCheck(f"恢复码共 {GROUPS} 组、每组 {GROUP_LEN} 个字母或数字：已输入 {len(chars)} 个，"
                         f"还差 {CODE_CHARS - len(chars)} 个。", incomplete=True)
    if len(chars) > CODE_CHARS:
        return CodeCheck(f"恢复码共 {GROUPS} 组、每组 {GROUP_LEN} 个字母或数字（{CODE_CHARS} 个）：多了 "
                         f"{len(chars) - CODE_CHARS} 个，请逐组核对。")
    try:
        at_rest.parse_recovery_code("".join(chars))
    except HallError as exc:
        return CodeCheck(str(exc))
    return CodeCheck(None)


def recover(data_dir: Path, code: str) -> str:
    """Put the folder's key back on this PC from the recovery code; returns the key's fingerprint. A code with a
    typo, or from another folder, is refused in Chinese and nothing is written."""
    problem = check_code(code).problem
    if at_rest.read_config(Path(data_dir)) is None:
        raise HallError("该数据文件夹没有启用加密，不需要恢复密钥。")
    if problem is not None:
        raise at_rest.EncryptionError(problem)
    try:
        key = at_rest.recover(Path(data_dir), code)
    except OSError as exc:
        raise HallError(f"无法把数据密钥写入本机的密钥文件夹（{at_rest.key_dir()}）："
                        f"{exc.strerror or exc.__class__.__name__}。") from exc
    log.info("data key recovered from the recovery code")
    return fingerprint(key.key_id)
