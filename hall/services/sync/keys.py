"""This node's sync key pair and what it knows of its partner, in one file of the data directory (mode 0600).

Kept outside the event tables on purpose: an event is copied to every peer, a private key must never be. The
file holds an Ed25519 signing key (who sent a bundle) and a separate X25519 key (what a bundle is encrypted to),
the node's role (``hall`` or ``laptop``) and, on a laptop, the hall's public keys received at ``sync join``.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from hall.errors import HallError
from hall.models import NodeHead

KEY_FILE = "sync_keys.json"
_RAW = serialization.Encoding.Raw


def key_path(data_dir: Path) -> Path:
    return data_dir / KEY_FILE


def fingerprint(sign_hex: str, box_hex: str) -> str:
    """What two people read aloud to each other at enrolment: 8 groups of 4 hex digits over both public keys."""
    digest = hashlib.sha256(bytes.fromhex(sign_hex) + bytes.fromhex(box_hex)).hexdigest()[:32]
    return " ".join(digest[i:i + 4] for i in range(0, 32, 4))


@dataclass(frozen=True)
class Partner:
    """The other side's public keys: the hall as a laptop knows it."""

    node_id: str
    sign_key: str
    box_key: str

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.sign_key, self.box_key)


@dataclass(frozen=True)
class NodeKeys:
    node_id: str
    role: str  # "hall" | "laptop"
    intake_point: str
    sign: Ed25519PrivateKey
    box: X25519PrivateKey
    hall: Partner | None = None  # a laptop's hall, once joined
    # A laptop: its point's earlier (revoked) laptops' public signing keys, node -> key, as its hall enrolled them
    # and sent them inside its signed files: their relayed chains' signed heads are checked against these.
    earlier: Mapping[str, str] = field(default_factory=dict)

    @property
    def sign_key(self) -> str:
        return self.sign.public_key().public_bytes(_RAW, serialization.PublicFormat.Raw).hex()

    @property
    def box_key(self) -> str:
        return self.box.public_key().public_bytes(_RAW, serialization.PublicFormat.Raw).hex()

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.sign_key, self.box_key)

    def with_hall(self, hall: Partner) -> NodeKeys:
        return replace(self, hall=hall)

    def with_earlier(self, earlier: Mapping[str, str]) -> NodeKeys:
        """These keys knowing the earlier laptops' keys ``earlier`` too (the hall's word for each node is kept)."""
        return replace(self, earlier={**self.earlier, **earlier})

    @classmethod
    def create(cls, node_id: str, role: str, intake_point: str) -> NodeKeys:
        return cls(node_id, role, intake_point, Ed25519PrivateKey.generate(), X25519PrivateKey.generate())

    @classmethod
    def from_seed(cls, node_id: str, role: str, intake_point: str, seed: bytes) -> NodeKeys:
        """Keys derived from ``seed`` (a demo ledger that must come out the same every run; never for real use)."""
        sign = hashlib.sha256(b"sign" + seed).digest()
        box = hashlib.sha256(b"box" + seed).digest()
        return cls(node_id, role, intake_point, Ed25519PrivateKey.from_private_bytes(sign),
                   X25519PrivateKey.from_private_bytes(box))

    def save(self, data_dir: Path) -> Path:
        path = key_path(data_dir)
        priv = serialization.PrivateFormat.Raw
        data: dict[str, Any] = {
            "node_id": self.node_id, "role": self.role, "intake_point": self.intake_point,
            "sign": self.sign.private_bytes(_RAW, priv, serialization.NoEncryption()).hex(),
            "box": self.box.private_bytes(_RAW, priv, serialization.NoEncryption()).hex(),
            "hall": None if self.hall is None else {"node_id": self.hall.node_id, "sign_key": self.hall.sign_key,
                                                    "box_key": self.hall.box_key},
            "earlier": dict(sorted(self.earlier.items())),
        }
        tmp = path.with_suffix(".tmp")
        # Created 0600 from the start: a private key must never be readable by others, not even for a moment.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh)
        tmp.replace(path)
        return path


def load(data_dir: Path) -> NodeKeys | None:
    path = key_path(data_dir)
    if not path.exists():
        return None
    try:
        d = json.loads(path.read_text(encoding="utf-8"))
        hall = d.get("hall")
        return NodeKeys(
            str(d["node_id"]), str(d["role"]), str(d["intake_point"]),
            Ed25519PrivateKey.from_private_bytes(bytes.fromhex(d["sign"])),
            X25519PrivateKey.from_private_bytes(bytes.fromhex(d["box"])),
            None if not hall else Partner(str(hall["node_id"]), str(hall["sign_key"]), str(hall["box_key"])),
            {str(n): str(k) for n, k in (d.get("earlier") or {}).items()},
        )
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise HallError(f"本机同步密钥文件已损坏：{path}。请联系系统管理员（需在中心重新登记本机）") from None


def is_laptop(data_dir: Path) -> bool:
    """A village laptop is provisioned from the hall: it never seeds a catalogue, calendar or points of its own."""
    keys = load(data_dir)
    return keys is not None and keys.role == "laptop"


def sparse_nodes(data_dir: Path, session: Session | None = None) -> frozenset[str]:
    """Chains this node holds only in part: on a laptop, every hall-side chain (its hall relays only the reference
    events and those on the village's tickets, from each counter PC's chain) — with ``session``, every chain the
    ledger has a head of but the laptop's own and its point's earlier laptops' (held whole, checked link by link:
    those the hall gave it keys of, and those the ledger shows, ledger.relayed_whole); without, the hall's alone."""
    keys = load(data_dir)
    if keys is None or keys.role != "laptop" or keys.hall is None:
        return frozenset()
    found = {keys.hall.node_id}
    if session is not None:
        from hall.services.storage import ledger

        whole = {*keys.earlier, *ledger.relayed_whole(session)}
        found.update(n for n in session.scalars(select(NodeHead.node_id)) if n != keys.node_id and n not in whole)
    return frozenset(found)


def public_sign(hex_key: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(bytes.fromhex(hex_key))


def public_box(hex_key: str) -> X25519PublicKey:
    return X25519PublicKey.from_public_bytes(bytes.fromhex(hex_key))
