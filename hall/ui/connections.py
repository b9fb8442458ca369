"""Saved hall-server connections, chosen in the login dialog: the address in the user's settings (QSettings),
never the password — that is typed at login and kept only in the OS keyring, when there is one.

``HALL_SETTINGS`` (a file path) puts the settings in an INI file instead of the user's native store (tests, a
portable install).
"""

from __future__ import annotations

import contextlib
import logging
import os
from dataclasses import dataclass

from PySide6.QtCore import QSettings

from hall.services.storage import dburl

log = logging.getLogger("hall.ui.connections")

KEY = "connections/servers"
LAST = "connections/last"  # "local" or a saved address
LOCAL = "local"
MAX_SAVED = 10
KEYRING_SERVICE = "Hall 大厅服务器"


def settings() -> QSettings:
    path = os.environ.get("HALL_SETTINGS")
    if path:
        return QSettings(path, QSettings.Format.IniFormat)
    return QSettings("Hall", "Hall")


@dataclass(frozen=True)
class Saved:
    url: str  # without the password

    @property
    def label(self) -> str:
        user = dburl.parse(self.url).username
        return f"大厅服务器 {dburl.server_label(self.url)}（{user}）"


class SavedConnections:
    """The servers this user has logged in to, newest first, and which one (or the local ledger) was used last."""

    def __init__(self, store: QSettings | None = None) -> None:
        self.store = store if store is not None else settings()

    def servers(self) -> list[Saved]:
        raw = self.store.value(KEY, [])
        urls = [raw] if isinstance(raw, str) else list(raw or [])
        out = []
        for url in urls:
            try:
                out.append(Saved(dburl.without_password(str(url))))  # a hand-edited file with a password: dropped
            except Exception:  # an unreadable entry is skipped, never fatal
                log.warning("skipping an unreadable saved connection")
        return out

    def remember(self, url: str) -> Saved:
        saved = Saved(dburl.without_password(url))
        urls = [saved.url, *[s.url for s in self.servers() if s.url != saved.url]][:MAX_SAVED]
        self.store.setValue(KEY, urls)
        self.store.setValue(LAST, saved.url)
        self.store.sync()
        return saved

    def used_local(self) -> None:
        self.store.setValue(LAST, LOCAL)
        self.store.sync()

    def last(self) -> str | None:
        """The saved address used last, or None for the local ledger (also when nothing was saved yet)."""
        value = self.store.value(LAST, LOCAL)
        if not value or value == LOCAL:
            return None
        return next((s.url for s in self.servers() if s.url == value), None)


class SecretStore:
    """Database passwords in the OS keyring (Windows Credential Manager, macOS Keychain, the Secret Service) when
    the ``keyring`` package and a real backend are there; otherwise nothing is ever stored."""

    def __init__(self) -> None:
        self._keyring = None
        try:
            import keyring
            from keyring.backends import fail

            backend = keyring.get_keyring()
            if not isinstance(backend, fail.Keyring) and getattr(backend, "priority", 0) > 0:
                self._keyring = keyring
        except Exception:  # not installed, or no usable backend on this PC
            self._keyring = None

    @property
    def available(self) -> bool:
        return self._keyring is not None

    def get(self, url: str) -> str:
        if self._keyring is None:
            return ""
        try:
            return self._keyring.get_password(KEYRING_SERVICE, dburl.without_password(url)) or ""
        except Exception as exc:
            log.warning("keyring read failed: %s", type(exc).__name__)
            return ""

    def set(self, url: str, password: str) -> None:
        if self._keyring is None:
            return
        try:
            self._keyring.set_password(KEYRING_SERVICE, dburl.without_password(url), password)
        except Exception as exc:
            log.warning("keyring write failed: %s", type(exc).__name__)

    def forget(self, url: str) -> None:
        if self._keyring is None:
            return
        with contextlib.suppress(Exception):  # nothing stored: nothing to forget
            self._keyring.delete_password(KEYRING_SERVICE, dburl.without_password(url))


def first_target(explicit: str | None, saved: SavedConnections, secrets: SecretStore) -> tuple[bool, str | None]:
    """What to open while the login dialog is up: ``(start, url)`` — ``start`` False when the person must first
    type the saved server's password. ``url`` None is the local ledger."""
    if explicit:
        return True, explicit
    last = saved.last()
    if last is None:
        return True, None
    password = secrets.get(last)
    return (True, dburl.with_password(last, password)) if password else (False, last)
