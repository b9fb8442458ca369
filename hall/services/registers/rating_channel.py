"""The rating screen's key: what makes the citizen channel something clerk code cannot make.

A rating needs a one-time token (ratings.request_rating). The token used to come back to the clerk's code, and a
``CitizenChannel`` was an ordinary object anyone could make, so a clerk calling the services directly could rate
his own ticket. Now:

- each node's rating screen has its own X25519 key pair; the private key lives in a file of the data directory
  (``rating_screen.key``, mode 0600) that only the rating screen loads (:meth:`ScreenKey.load_or_create`); the
  public key is enrolled in the ledger (``rating.screen_enrolled``, the ``rating_screens`` table);
- ``request_rating`` seals the token to the enrolled screen of the clerk's node (:func:`seal`): what it hands back
  is ciphertext the clerk's window cannot open;
- a ``CitizenChannel`` cannot be made without a :class:`ScreenKey`, and ``rate`` takes the sealed invite, which only
  the enrolled screen's private key opens. A channel made around a key of one's own opens nothing.

Honestly: the clerk's program and the screen run as the same operating-system user, so someone who reads the key
file with other tools could still rate; what holds is that nothing handed to the clerk's window can, and every
rating names the device it came from.

Enrolment: the screen enrols itself the first time it opens on a node (:func:`ensure_enrolled`, as the program);
replacing an enrolled key (a new PC, a lost file) is the administrator's (:func:`enrol`).
"""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy.orm import Session

from hall.errors import ConflictError, HallError, PermissionDenied
from hall.models import Event
from hall.models.workflow import RatingScreen
from hall.services.base.actor import Actor
from hall.services.base.permissions import require_admin
from hall.services.base.validators import free_text
from hall.services.storage import ledger

KEY_FILE = "rating_screen.key"
ENROLLED = "rating.screen_enrolled"
_RAW = serialization.Encoding.Raw
_INFO = b"hall-rating-invite-v1"


def _public_hex(key: X25519PublicKey) -> str:
    return key.public_bytes(_RAW, serialization.PublicFormat.Raw).hex()


def _aead_key(shared: bytes, eph: bytes, screen: bytes) -> bytes:
    return HKDF(hashes.SHA256(), 32, salt=None, info=_INFO + eph + screen).derive(shared)


class ScreenKey:
    """The rating screen's private key. Only the rating screen holds one (never a staff ``Context``)."""

    __slots__ = ("_private",)

    def __init__(self, private: X25519PrivateKey) -> None:
        self._private = private

    @classmethod
    def generate(cls) -> ScreenKey:
        return cls(X25519PrivateKey.generate())

    @classmethod
    def from_seed(cls, seed: bytes) -> ScreenKey:
        """A key derived from ``seed``: for a demo ledger that must come out the same every run, never for use."""
        import hashlib

        return cls(X25519PrivateKey.from_private_bytes(hashlib.sha256(b"rating-screen" + seed).digest()))

    @classmethod
    def load_or_create(cls, data_dir: Path) -> ScreenKey:
        path = data_dir / KEY_FILE
        if path.exists():
            try:
                return cls(X25519PrivateKey.from_private_bytes(bytes.fromhex(path.read_text(encoding="ascii"))))
            except (ValueError, UnicodeDecodeError):
                raise HallError(f"评价器密钥文件已损坏：{path}。请系统管理员重新登记本机评价器") from None
        key = cls.generate()
        tmp = path.with_name(path.name + ".tmp")
        # Created 0600 from the start: the private key must never be readable by others, not even for a moment.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            raw = key._private.private_bytes(_RAW, serialization.PrivateFormat.Raw, serialization.NoEncryption())
            fh.write(raw.hex())
        tmp.replace(path)
        return key

    @property
    def public_hex(self) -> str:
        return _public_hex(self._private.public_key())

    def open(self, sealed: str) -> str | None:
        """The token inside ``sealed``, or None when it was not sealed to this key (or is not a sealed invite)."""
        try:
            blob = base64.urlsafe_b64decode(sealed.encode("ascii"))
        except (ValueError, UnicodeEncodeError, AttributeError):
            return None
        if len(blob) < 32 + 12 + 16:
            return None
        eph, nonce, body = blob[:32], blob[32:44], blob[44:]
        try:
            shared = self._private.exchange(X25519PublicKey.from_public_bytes(eph))
            mine = bytes.fromhex(self.public_hex)
            token = AESGCM(_aead_key(shared, eph, mine)).decrypt(nonce, body, _INFO)
        except (InvalidTag, ValueError):
            return None
        return token.decode("ascii", "replace")

    def __repr__(self) -> str:  # never the private key in a log or a traceback
        return f"ScreenKey(public={self.public_hex[:8]}…)"


def seal(public_hex: str, token: str) -> str:
    """``token`` encrypted to the screen whose public key is ``public_hex`` (X25519 + HKDF + AES-GCM)."""
    screen = bytes.fromhex(public_hex)
    eph = X25519PrivateKey.generate()
    eph_pub = bytes.fromhex(_public_hex(eph.public_key()))
    shared = eph.exchange(X25519PublicKey.from_public_bytes(screen))
    nonce = os.urandom(12)
    body = AESGCM(_aead_key(shared, eph_pub, screen)).encrypt(nonce, token.encode("ascii"), _INFO)
    return base64.urlsafe_b64encode(eph_pub + nonce + body).decode("ascii")


def enrolled(session: Session, node_id: str) -> RatingScreen | None:
    return session.get(RatingScreen, node_id)


def enrol(session: Session, actor: Actor, public_hex: str, device: str = "评价器") -> None:
    """Enrol (or replace) the rating screen of ``actor``'s node: the administrator's, or the program's."""
    require_admin(actor, "登记评价器")
    try:
        if len(bytes.fromhex(public_hex)) != 32:
            raise ValueError
    except (ValueError, TypeError):
        raise PermissionDenied("评价器公钥无效：应为64位十六进制") from None
    name = free_text(device, "评价器名称", max_len=40)
    ledger.append(session, actor, ENROLLED, {"node_id": actor.node_id, "device": name, "public_key": public_hex,
                                              "reason": f"登记评价器：{name}"})


def ensure_enrolled(session: Session, node_id: str, intake_point: str, key: ScreenKey,
                    device: str = "评价器") -> None:
    """The screen's first opening on a node enrols its key (as the program). A different key already enrolled is
    refused: replacing one is the administrator's act (:func:`enrol`), never a side effect of opening a screen."""
    found = enrolled(session, node_id)
    if found is None:
        enrol(session, Actor.system(node_id, intake_point), key.public_hex, device)
    elif found.public_key != key.public_hex:
        raise ConflictError("本机评价器的密钥与已登记的不符（评价器文件被更换）：请系统管理员重新登记评价器")


@ledger.projector(ENROLLED)
def _project_enrolled(session: Session, ev: Event, p: dict[str, Any]) -> None:
    stamp = ledger.stamp(ev.occurred_at, ev.event_id)
    row = session.get(RatingScreen, p["node_id"])
    if row is None:
        session.add(RatingScreen(node_id=p["node_id"], device=p["device"], public_key=p["public_key"],
                                 enrolled_at=ev.occurred_at, stamp=stamp))
    elif stamp > row.stamp:  # two enrolments in either order: the newest stands on every node
        row.device, row.public_key, row.enrolled_at, row.stamp = p["device"], p["public_key"], ev.occurred_at, stamp
    session.flush()
