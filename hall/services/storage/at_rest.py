"""Encryption at rest: the SQLite ledger, its backups, the daily increments and the drafts (个人信息保护法 §51).

A village laptop leaves the building with every citizen's ID number, phone and address on it; a backup goes home
on a USB stick. With encryption on, none of those files can be read without the data key:

- the ledger and every full backup are SQLCipher 4 databases (AES-256, HMAC-SHA256 per page — files written
  before 2026-12-04 have SQLCipher's default HMAC-SHA512 and still open; ``sqlcipher3`` has wheels for Linux and
  Windows). The key is 32 random bytes given to SQLCipher as a raw key (``x'…'``), so opening costs no key
  derivation and the search indexes work as before (they are pages like any other);
- the daily increments (gzip JSON lines) and the drafts (JSON) are sealed with ChaCha20-Poly1305 under the same
  key (``HALLENC1`` header, key id, nonce): a flipped byte is refused, never half-read.

Where the key lives: **outside the data folder** — a copy of the folder (or of a backup) carries no key. On
Windows it is wrapped by DPAPI for the Windows user (a disk taken out of the laptop cannot unwrap it without
that user's Windows password); elsewhere it is a 0600 file under the user's configuration folder, which protects
copies and backups, while a stolen whole disk needs full-disk encryption (LUKS) — docs/encryption.md says so.
``HALL_KEY_DIR`` moves the key folder (tests, a hardened install).

Key loss: at ``enable`` the administrator is shown a **recovery code** (the key in base32, 14 groups, with a
check); ``recover`` puts the key back on a new or reinstalled PC. Without the key and the code the data is gone
by design: the note and docs/encryption.md say so in plain words.

Files are recognised by their first bytes (SQLite's magic or ours), never by name, so a plain hall keeps working
unchanged and an encrypted backup restores on any PC that holds its key.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import sqlite3
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from hall.errors import DatabaseError, HallError

try:  # present wherever the project is installed (pyproject); optional only so a bare checkout still imports
    from sqlcipher3 import dbapi2 as sqlcipher
except ImportError:  # pragma: no cover - the dependency is declared
    sqlcipher = None

SQLITE_MAGIC = b"SQLite format 3\x00"
SEAL_MAGIC = b"HALLENC1"
CONFIG_NAME = "encryption.json"
KEY_BYTES = 32
FORMAT = 1

#: Every DB-API error either driver raises: code that catches ``sqlite3.Error`` must catch these.
SQLITE_ERRORS: tuple[type[BaseException], ...] = (sqlite3.Error,) + ((sqlcipher.Error,) if sqlcipher else ())
OPERATIONAL_ERRORS: tuple[type[BaseException], ...] = (sqlite3.OperationalError,) + (
    (sqlcipher.OperationalError,) if sqlcipher else ())
DATABASE_ERRORS: tuple[type[BaseException], ...] = (sqlite3.DatabaseError,) + (
    (sqlcipher.DatabaseError,) if sqlcipher else ())


class EncryptionError(DatabaseError):
    """A key that is missing, wrong, or a sealed file that does not open: always with its Chinese message."""


@dataclass(frozen=True)
class DataKey:
    key: bytes

    @property
    def key_id(self) -> str:
        # Names the key without revealing it (a hash of a random 256-bit key).
        return hashlib.sha256(b"hall-key-id\x00" + self.key).hexdigest()[:16]

    @property
    def pragma(self) -> str:
        return f"PRAGMA key = \"x'{self.key.hex()}'\""


#: The per-page HMAC of SQLCipher files, newest first: new files get the first; an existing file opens with
#: whichever fits (found once per file, see ``profile_of``). SHA-256 costs half of SHA-512 per 4 KB page on this
#: kind of CPU (3.7 µs against 7.2 µs, SHA extensions) and a save at 1M reads and writes dozens of pages;
#: an authenticator of 256 bits is as strong as the AES-256 key it sits beside.
HMAC_PROFILES = ("HMAC_SHA256", "HMAC_SHA512")
NEW_PROFILE = HMAC_PROFILES[0]

#: Pages an encrypted connection keeps decrypted (KiB, negative as SQLite wants): every page read from the file
#: costs an HMAC check and an AES decryption, so the hot index pages of a big ledger are kept. Plain files keep
#: SQLite's default (2 MB): for them a miss is only a copy from the OS cache.
ENCRYPTED_CACHE_KIB = 65536

# The HMAC profile of each encrypted file this process has opened, by (device, inode): a file replaced by
# another (a restore, a conversion) is a new inode and is probed again.
_PROFILE: dict[tuple[int, int], str] = {}

# The keys this process has unlocked, by the folders whose new files they encrypt (the data folder, the folder of
# a --db file elsewhere). Existing encrypted files are opened with whichever unlocked key fits.
_UNLOCKED: dict[Path, DataKey] = {}


# ------------------------------------------------------------------------------------------------- the key store
def key_dir() -> Path:
    override = os.environ.get("HALL_KEY_DIR")
    if override:
        return Path(override)
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
        return base / "Hall" / "keys"
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "hall" / "keys"


def _key_file(key_id: str) -> Path:
    return key_dir() / f"{key_id}.key"


def _store_key(key: DataKey) -> Path:
    folder = key_dir()
    folder.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError):
        folder.chmod(0o700)
    blob = _dpapi(key.key, protect=True) if sys.platform == "win32" else key.key
    path = _key_file(key.key_id)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, blob)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    return path


def _load_key(key_id: str) -> DataKey | None:
    path = _key_file(key_id)
    try:
        blob = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise EncryptionError(f"无法读取本机保存的数据密钥（{path}）：{exc.strerror or exc}。") from exc
    raw = _dpapi(blob, protect=False) if sys.platform == "win32" else blob
    key = DataKey(raw)
    if len(raw) != KEY_BYTES or key.key_id != key_id:
        raise EncryptionError(f"本机保存的数据密钥文件（{path}）已损坏：请用恢复码恢复密钥"
                              "（hall-admin encryption recover）。")
    return key


def _stored_keys() -> list[DataKey]:
    """Every data key kept on this PC (a PC holds one or two: its folder's, perhaps an older one's)."""
    folder = key_dir()
    if not folder.is_dir():
        return []
    out = []
    for path in sorted(folder.glob("*.key")):
        with contextlib.suppress(EncryptionError, OSError):
            key = _load_key(path.stem)
            if key is not None:
                out.append(key)
    return out


def _dpapi(data: bytes, *, protect: bool) -> bytes:  # pragma: no cover - Windows only
    """CryptProtectData / CryptUnprotectData for the current Windows user (no UI, no extra entropy)."""
    import ctypes
    from ctypes import wintypes

    class Blob(ctypes.Structure):
        _fields_ = [("cbData", wintypes.DWORD), ("pbData", ctypes.POINTER(ctypes.c_char))]

    crypt32, kernel32 = ctypes.windll.crypt32, ctypes.windll.kernel32  # type: ignore[attr-defined]
    buf = ctypes.create_string_buffer(data, len(data))
    src, out = Blob(len(data), ctypes.cast(buf, ctypes.POINTER(ctypes.c_char))), Blob()
    ui_forbidden = 0x1
    fn = crypt32.CryptProtectData if protect else crypt32.CryptUnprotectData
    if protect:
        ok = fn(ctypes.byref(src), "hall data key", None, None, None, ui_forbidden, ctypes.byref(out))
    else:
        ok = fn(ctypes.byref(src), None, None, None, None, ui_forbidden, ctypes.byref(out))
    if not ok:
        raise EncryptionError("Windows 无法解开本机保存的数据密钥（可能换了 Windows 用户或重装了系统）："
                              "请用恢复码恢复密钥（hall-admin encryption recover）。")
    try:
        return ctypes.string_at(out.pbData, out.cbData)
    finally:
        kernel32.LocalFree(out.pbData)


# --------------------------------------------------------------------------------------------- recovery codes
def recovery_code(key: DataKey) -> str:
    """The key as 14 groups of 4 base32 letters/digits (the last group ends with a 3-byte check)."""
    check = hashlib.sha256(b"hall-recovery\x00" + key.key).digest()[:3]
    text = base64.b32encode(key.key + check).decode("ascii").rstrip("=")
    return "-".join(text[i:i + 4] for i in range(0, len(text), 4))


def parse_recovery_code(text: str) -> DataKey:
    cleaned = "".join(ch for ch in text.upper() if ch.isalnum())
    # Letters a person misreads on paper: O/0, I/1, L/1 (base32 has no 0, 1, 8, 9).
    cleaned = cleaned.replace("0", "O").replace("1", "I").replace("8", "B")
    try:
        raw = base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))
    except ValueError as exc:
        raise EncryptionError("恢复码格式不对：应为 14 组、每组 4 个字母或数字（如 ABCD-EFGH-…）。") from exc
    if len(raw) != KEY_BYTES + 3:
        raise EncryptionError("恢复码长度不对：应为 14 组、每组 4 个字母或数字，请逐组核对。")
    key = DataKey(raw[:KEY_BYTES])
    if hashlib.sha256(b"hall-recovery\x00" + key.key).digest()[:3] != raw[KEY_BYTES:]:
        raise EncryptionError("恢复码校验不通过：有字符抄错了，请逐组核对后重新输入。")
    return key


# ------------------------------------------------------------------------------------------------ the config
@dataclass(frozen=True)
class Status:
    enabled: bool
    key_id: str = ""
    enabled_at: str = ""
    key_here: bool = False
    key_path: str = ""


def _config_path(data_dir: Path) -> Path:
    return Path(data_dir) / CONFIG_NAME


def read_config(data_dir: Path) -> dict[str, Any] | None:
    path = _config_path(data_dir)
    if not path.exists():
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        if doc.get("format") != FORMAT or not isinstance(doc.get("key_id"), str):
            raise ValueError("unknown format")
        return doc
    except (OSError, ValueError) as exc:
        raise EncryptionError(f"加密设置文件（{path}）无法读取或已损坏：请从备份恢复该文件，"
                              "或联系管理员。") from exc


def status(data_dir: Path) -> Status:
    doc = read_config(data_dir)
    if doc is None:
        return Status(False)
    key_id = doc["key_id"]
    return Status(True, key_id, str(doc.get("enabled_at", "")), _key_file(key_id).exists(), str(_key_file(key_id)))


def _write_config(data_dir: Path, key: DataKey) -> None:
    from hall.services.storage.files import atomic_path

    doc = {"format": FORMAT, "cipher": "sqlcipher4+chacha20poly1305", "key_id": key.key_id,
           "enabled_at": datetime.now().isoformat(timespec="seconds")}
    path = _config_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path, prefix=".encryption.") as tmp:
        tmp.write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")


def unlock(data_dir: Path, *also: Path) -> DataKey | None:
    """At start: the data folder's key from this PC's key store, registered for the folder (and ``also``), or
    None when the folder is not encrypted. A configured folder whose key is not here is refused in Chinese."""
    doc = read_config(data_dir)
    if doc is None:
        return None
    key = _load_key(doc["key_id"])
    if key is None:
        raise EncryptionError(
            f"数据文件夹 {data_dir} 已加密，但本机没有它的数据密钥（例如换了电脑或重装了系统）。"
            "请管理员用启用加密时抄下的恢复码恢复：hall-admin encryption recover。")
    for folder in (data_dir, *also):
        _UNLOCKED[_norm(folder)] = key
    return key


def unlock_beside(path: Path) -> DataKey | None:
    """The key of the data folder holding ``path``, unlocked if it is not yet (None: that folder is plain)."""
    found = key_for_new(path)
    if found is not None:
        return found
    return unlock(Path(path).parent) if read_config(Path(path).parent) is not None else None


def register(folder: Path, key: DataKey) -> None:
    _UNLOCKED[_norm(folder)] = key


def forget(folder: Path) -> None:
    _UNLOCKED.pop(_norm(folder), None)


def _norm(folder: Path) -> Path:
    return Path(os.path.abspath(folder))


def key_for_new(path: Path) -> DataKey | None:
    """The key a NEW file at ``path`` is written with: that of the nearest unlocked folder above it, else None."""
    here = _norm(path)
    for folder in (here, *here.parents):
        if folder in _UNLOCKED:
            return _UNLOCKED[folder]
    return None


def is_encrypted_file(path: Path) -> bool:
    """True for a non-empty file that is neither a plain SQLite database nor empty: SQLCipher or our seal."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(16)
    except OSError:
        return False
    return bool(head) and head != SQLITE_MAGIC


def key_for_file(path: Path) -> DataKey | None:
    """The key that opens an existing encrypted database ``path`` (None for a plain one); refused in Chinese."""
    if not is_encrypted_file(path):
        return None
    candidates = list(dict.fromkeys([k for k in (key_for_new(path),) if k] + list(_UNLOCKED.values())))
    for key in candidates + [k for k in _stored_keys() if k not in candidates]:
        if _opens(path, key):
            return key
    if candidates or _stored_keys():
        raise EncryptionError(f"数据文件 {path} 无法用本机的数据密钥打开：它属于另一个加密的数据文件夹，"
                              "或文件已损坏（可从最近的备份恢复）。", backup_hint="latest")
    raise EncryptionError(f"数据文件 {path} 已加密（或已损坏），本机没有打开它的数据密钥："
                          "请在原电脑上操作，或先用恢复码恢复密钥（hall-admin encryption recover）。")


def _opens(path: Path, key: DataKey) -> bool:
    return _probe(path, key) is not None


def _probe(path: Path, key: DataKey) -> str | None:
    """The HMAC profile under which ``key`` opens the encrypted file ``path``, or None (wrong key, not ours)."""
    if sqlcipher is None:
        return None
    ident = _inode(path)
    known = _PROFILE.get(ident) if ident else None
    for profile in ([known] if known else []) + [p for p in HMAC_PROFILES if p != known]:
        conn = sqlcipher.connect(f"file:{Path(path).as_posix()}?mode=ro", uri=True)
        try:
            # A wrong guess is expected here: SQLCipher would print "hmac check failed" on stderr for it.
            conn.execute("PRAGMA cipher_log_level = NONE")
            conn.execute(key.pragma)
            conn.execute(f"PRAGMA cipher_hmac_algorithm = {profile}")
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlcipher.DatabaseError:
            continue
        finally:
            conn.close()
        if ident:
            _PROFILE[ident] = profile
        return profile
    return None


def _inode(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino) if st.st_size > 0 else None


def profile_of(path: Path, key: DataKey) -> str:
    """The HMAC profile of the encrypted file ``path`` (the new-file profile for a file not written yet)."""
    ident = _inode(path)
    if ident is None:
        return NEW_PROFILE
    return _PROFILE.get(ident) or _probe(path, key) or NEW_PROFILE


def _need_driver() -> Any:
    if sqlcipher is None:
        raise EncryptionError("本程序缺少加密组件 sqlcipher3：请重新安装 Hall（./run setup）。")
    return sqlcipher


def connect(path: Path | str, *, key: DataKey | str | None = "auto", readonly: bool = False,
            profile: str | None = None, **kwargs: Any) -> Any:
    """A DB-API connection to a SQLite file, keyed when it is (or, new, is to be) encrypted.

    ``key="auto"``: an existing file by its first bytes (any unlocked key that fits), a new one by its folder.
    ``profile``: the HMAC of a new encrypted file when it must match another's (SQLite's backup API copies pages
    only between files of one layout); by default an existing file's own, a new file ``NEW_PROFILE``.
    Plain files use the standard ``sqlite3`` module exactly as before."""
    path = Path(path)
    if key == "auto":
        exists = path.exists() and path.stat().st_size > 0
        key = key_for_file(path) if exists else key_for_new(path)
    target = f"file:{path.as_posix()}?mode=ro" if readonly else str(path)
    if key is None:
        return sqlite3.connect(target, uri=readonly, **kwargs)
    assert isinstance(key, DataKey)
    driver = _need_driver()
    ident = _inode(path) if profile is None else None
    cached = _PROFILE.get(ident) if ident else None
    if cached:
        conn = driver.connect(target, uri=readonly, **kwargs)
        try:  # page 1 under the remembered profile: a file replaced since (same inode reused) is probed again
            _keyed(conn, key, cached).execute("PRAGMA schema_version").fetchone()
            return conn
        except driver.OperationalError:
            conn.close()
            raise
        except driver.DatabaseError:
            conn.close()
            _PROFILE.pop(ident, None)  # type: ignore[arg-type]
    hmac = profile or profile_of(path, key)
    return _keyed(driver.connect(target, uri=readonly, **kwargs), key, hmac)


def _keyed(conn: Any, key: DataKey, hmac: str) -> Any:
    conn.execute(key.pragma)  # must be the first statement on the connection
    conn.execute(f"PRAGMA cipher_hmac_algorithm = {hmac}")
    conn.execute(f"PRAGMA cache_size = -{ENCRYPTED_CACHE_KIB}")
    # SQLCipher 4 wipes every freed buffer by default ("memory security"): a large share of each save's CPU, and
    # no protection against anyone who can read this process's memory — the key is there anyway.
    conn.execute("PRAGMA cipher_memory_security = OFF")
    return conn


# ---------------------------------------------------------------------------------------- sealed small files
def seal(data: bytes, key: DataKey) -> bytes:
    from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

    nonce = os.urandom(12)
    head = SEAL_MAGIC + bytes.fromhex(key.key_id) + nonce
    return head + ChaCha20Poly1305(key.key).encrypt(nonce, data, head)


def is_sealed(data: bytes) -> bool:
    return data[:8] == SEAL_MAGIC


def unseal(data: bytes, what: str, key: DataKey | None = None, *, required: bool = False) -> bytes:
    """The plaintext of a sealed file (``what`` names it in the message); plain data is returned unchanged unless
    ``required`` (a file in an encrypted folder: one that is not sealed was put there or altered)."""
    if not is_sealed(data):
        if required:
            raise EncryptionError(f"{what}不是加密文件，但它所在的数据文件夹已加密：文件被替换或改动过，未读取。")
        return data
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

    if len(data) < 8 + 8 + 12 + 16:
        raise EncryptionError(f"{what}已损坏（加密文件不完整）。")
    key_id, nonce = data[8:16].hex(), data[16:28]
    keys = [key] if key is not None else list(dict.fromkeys(_UNLOCKED.values()))
    match = [k for k in keys if k.key_id == key_id]
    if not match:
        stored = _load_key(key_id)
        match = [stored] if stored else []
    if not match:
        raise EncryptionError(f"{what}已加密，本机没有它的数据密钥：请先用恢复码恢复密钥"
                              "（hall-admin encryption recover）。")
    try:
        return ChaCha20Poly1305(match[0].key).decrypt(nonce, data[28:], data[:28])
    except InvalidTag as exc:
        raise EncryptionError(f"{what}已损坏或被改动过（加密校验不通过），未读取其中任何内容。") from exc


def read_file(path: Path, what: str) -> bytes:
    """A small file's content, unsealed; in an encrypted folder only a sealed file is accepted."""
    return unseal(Path(path).read_bytes(), what, required=key_for_new(Path(path)) is not None)


def maybe_seal(data: bytes, path: Path, key: DataKey | str | None = "auto") -> bytes:
    """``data`` sealed when a file at ``path`` is to be encrypted (its folder's key, or the one given)."""
    if key == "auto":
        key = key_for_new(path)
    return seal(data, key) if isinstance(key, DataKey) else data


# ---------------------------------------------------------------------------------------- turning it on
@dataclass(frozen=True)
class Enabled:
    key: DataKey
    recovery_code: str
    converted: list[Path]


def enable(data_dir: Path, database: Path, *, in_use: Any = None, progress: Any = None) -> Enabled:
    """Encrypt this data folder from now on: a new key (stored on this PC), the ledger and its backups converted,
    the increments and drafts sealed. The program must not be running on it (``in_use(path)`` says).
    ``progress(done, total, file name)`` follows the work in bytes (the ledger's by the encrypted copy's growth:
    a large one takes minutes)."""
    _need_driver()
    if read_config(data_dir) is not None:
        raise HallError("该数据文件夹已启用加密，无需再次启用（hall-admin encryption status 查看）。")
    if in_use is not None and database.exists() and in_use(database):
        raise HallError("Hall 正在使用该数据文件：请先关闭所有窗口的 Hall，再启用加密。")
    key = DataKey(os.urandom(KEY_BYTES))
    _store_key(key)
    converted: list[Path] = []
    databases = [database] if database.exists() and not is_encrypted_file(database) else []
    backups = Path(data_dir) / "backups"
    if backups.is_dir():
        databases += [p for p in sorted(backups.glob("*.sqlite3")) if not is_encrypted_file(p)]
    smalls = [small for folder, pattern in ((backups, "*.jsonl.gz"), (Path(data_dir) / "drafts", "*.json"))
              if folder.is_dir() for small in sorted(folder.glob(pattern))]
    sizes = {f: _size(f) for f in databases + smalls}
    total, done = max(sum(sizes.values()), 1), 0
    for db_file in databases:
        def written(n: int, name: str = db_file.name, before: int = done, size: int = sizes[db_file]) -> None:
            if progress is not None:
                progress(before + min(n, size), total, name)

        written(0)
        encrypt_database(db_file, key, written=written)
        converted.append(db_file)
        done += sizes[db_file]
    for small in smalls:
        if progress is not None:
            progress(done, total, small.name)
        data = small.read_bytes()
        if not is_sealed(data):
            _replace_bytes(small, seal(data, key))
            converted.append(small)
        done += sizes[small]
    if progress is not None:
        progress(total, total, "")
    _write_config(data_dir, key)  # last: until here a crash leaves the folder readable as it was, key or not
    register(data_dir, key)
    if database.parent != Path(data_dir):
        register(database.parent, key)
    return Enabled(key, recovery_code(key), converted)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


# SQLite calls the progress handler every this many virtual-machine steps of the export (a few ms apart).
_EXPORT_STEPS = 5_000


def encrypt_database(path: Path, key: DataKey, *, written: Any = None) -> None:
    """Rewrite a plain SQLite file as SQLCipher under ``key`` (sqlcipher_export), atomically, -wal folded first.
    ``written(bytes)`` is told how large the encrypted copy has grown, as the export goes."""
    driver = _need_driver()
    tmp = path.with_name(f".{path.name}.{os.getpid()}.enc")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    try:
        plain = driver.connect(str(path))
        try:
            plain.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            if written is not None:
                def grown() -> int:
                    written(_size(tmp))
                    return 0  # 0: go on (non-zero would interrupt the export)

                plain.set_progress_handler(grown, _EXPORT_STEPS)
            plain.execute(f"ATTACH DATABASE '{tmp.as_posix()}' AS enc KEY \"x'{key.key.hex()}'\"")
            plain.execute(f"PRAGMA enc.cipher_hmac_algorithm = {NEW_PROFILE}")
            plain.execute("SELECT sqlcipher_export('enc')")
            version = plain.execute("PRAGMA user_version").fetchone()[0]
            plain.execute(f"PRAGMA enc.user_version = {int(version)}")
            plain.execute("DETACH DATABASE enc")
        finally:
            plain.close()
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        check = connect(tmp, key=key, profile=NEW_PROFILE)
        try:
            if check.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                raise EncryptionError(f"加密后的数据文件校验不通过，原文件未改动：{path}")
        finally:
            check.close()
        os.replace(tmp, path)
    except BaseException:  # a full disk, a locked file: no half-written copy is left beside the original
        for leftover in (tmp, Path(f"{tmp}-journal")):
            with contextlib.suppress(OSError):
                leftover.unlink()
        raise
    for side in ("-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            Path(f"{path}{side}").unlink()


def recover(data_dir: Path, code: str) -> DataKey:
    """Put the data folder's key back on this PC from the recovery code (checked against the folder's key id)."""
    doc = read_config(data_dir)
    if doc is None:
        raise HallError("该数据文件夹没有启用加密，不需要恢复密钥。")
    key = parse_recovery_code(code)
    if key.key_id != doc["key_id"]:
        raise EncryptionError("这个恢复码不属于该数据文件夹（密钥编号不一致）："
                              "请核对是哪一台电脑、哪一次启用加密时的恢复码。")
    _store_key(key)
    register(data_dir, key)
    return key


def _replace_bytes(path: Path, data: bytes) -> None:
    from hall.services.storage.files import atomic_path

    with atomic_path(path, prefix=f".{path.name}.") as tmp:
        tmp.write_bytes(data)


def copy_database(source: Path, out: Path, *, source_key: DataKey | str | None = "auto",
                  out_key: DataKey | str | None = "same") -> None:
    """A consistent copy of the SQLite file ``source`` (read-only, even in WAL mode) to the new file ``out``.

    ``out_key="same"`` writes it under the source's key (or plain); another key (or None) re-encrypts it —
    SQLCipher's backup API copies pages only between files of one key, so that case goes through
    ``sqlcipher_export``."""
    src_key = key_for_file(source) if source_key == "auto" else source_key
    dst_key = src_key if out_key == "same" else out_key
    assert src_key is None or isinstance(src_key, DataKey)
    assert dst_key is None or isinstance(dst_key, DataKey)
    if src_key == dst_key:
        src = connect(source, key=src_key, readonly=True)
        try:
            dst = connect(out, key=dst_key, profile=profile_of(source, src_key) if src_key else None)
            try:
                src.backup(dst)
            finally:
                dst.close()
        finally:
            src.close()
        return
    driver = _need_driver()
    src = driver.connect(f"file:{Path(source).as_posix()}?mode=ro", uri=True)
    try:
        if src_key is not None:
            src.execute(src_key.pragma)
            src.execute(f"PRAGMA cipher_hmac_algorithm = {profile_of(source, src_key)}")
        literal = f"x'{dst_key.key.hex()}'" if dst_key is not None else ""
        src.execute(f"ATTACH DATABASE '{Path(out).as_posix()}' AS copy KEY \"{literal}\"")
        if dst_key is not None:
            src.execute(f"PRAGMA copy.cipher_hmac_algorithm = {NEW_PROFILE}")
        src.execute("SELECT sqlcipher_export('copy')")
        src.execute("DETACH DATABASE copy")
    finally:
        src.close()


def readonly_engine(path: Path) -> Any:
    """A SQLAlchemy engine reading the SQLite file ``path`` (encrypted or not) without writing to it."""
    from sqlalchemy import create_engine

    key = key_for_file(path)
    url = f"sqlite:///file:{Path(path).as_posix()}?mode=ro&uri=true"
    if key is None:
        return create_engine(url, hide_parameters=True)
    return create_engine("sqlite://", creator=lambda: connect(path, key=key, readonly=True, check_same_thread=False),
                         module=sqlcipher, hide_parameters=True)
