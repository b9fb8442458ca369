"""Draft autosave (草稿): an unsaved intake survives a crash or a power cut.

Each draft is one small JSON file in ``Paths.drafts_dir``, written atomically (temporary file, fsync,
``os.replace``, then fsync of the folder), so after a power cut the file holds either the previous or the new
draft, never half of one. Drafts belong to one staff member (``owner``, their staff id); the next start
offers that person's drafts back.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from hall.services.storage import at_rest
from hall.services.storage.files import atomic_path

log = logging.getLogger("hall.drafts")
FORMAT = 1
MAX_BYTES = 256 * 1024  # a form is a few KB; anything larger is not ours
_KEY_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True)
class Draft:
    key: str
    owner: str
    saved_at: datetime
    data: dict[str, Any]
    path: Path

    @property
    def summary(self) -> str:
        """One line for the "restore?" question: who applied for what."""
        parts = [str(self.data.get(k, "")).strip() for k in ("item_name", "name")]
        return "，".join(p for p in parts if p) or "（未填写内容）"


class DraftStore:
    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def _path(self, key: str) -> Path:
        if not _KEY_RE.match(key):
            raise ValueError(f"bad draft key {key!r}")
        return self.folder / f"intake-{key}.json"

    def save(self, key: str, owner: str, data: dict[str, Any], *, now: datetime | None = None) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self._path(key)
        body = json.dumps({"format": FORMAT, "key": key, "owner": owner,
                           "saved_at": (now or datetime.now()).isoformat(timespec="seconds"), "data": data},
                          ensure_ascii=False, indent=1)
        with atomic_path(path, prefix=".intake-") as tmp:
            # A half-typed form may hold anything a paste brought, a lone surrogate too: written as its JSON
            # escape (\udc80, read back as the same character), never an encoding error that loses the draft.
            # In an encrypted data folder the draft is sealed too: it holds the citizen's ID number and phone.
            tmp.write_bytes(at_rest.maybe_seal(body.encode("utf-8", "backslashreplace"), path))
        _fsync_dir(self.folder)
        return path

    def discard(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._path(key).unlink()
        _fsync_dir(self.folder)

    def load_all(self, owner: str | None = None) -> list[Draft]:
        """This person's drafts (everyone's when ``owner`` is None), newest first; unreadable files skipped."""
        out: list[Draft] = []
        if not self.folder.is_dir():
            return out
        for path in self.folder.glob("intake-*.json"):
            draft = _read(path)
            if draft is not None and (owner is None or draft.owner == owner):
                out.append(draft)
        return sorted(out, key=lambda d: d.saved_at, reverse=True)


def _read(path: Path) -> Draft | None:
    try:
        if path.stat().st_size > MAX_BYTES:
            raise ValueError("too large")
        raw = json.loads(at_rest.read_file(path, "草稿").decode("utf-8"))
        if raw.get("format") != FORMAT or not isinstance(raw.get("data"), dict):
            raise ValueError("unknown format")
        return Draft(str(raw["key"]), str(raw["owner"]), datetime.fromisoformat(raw["saved_at"]), raw["data"],
                     path)
    except (OSError, ValueError, KeyError, TypeError, at_rest.EncryptionError) as exc:
        # A draft we cannot read is left where it is (a person may still open it) and logged, never fatal.
        log.warning("skipping unreadable draft %s: %s", path, exc)
        return None


def _fsync_dir(folder: Path) -> None:
    if os.name != "posix":
        return  # Windows has no directory fsync; os.replace is already atomic there
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
