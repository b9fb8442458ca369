"""The .hallsync file: verbatim events and a manifest, signed by the sender, encrypted to the recipient.

Layout: ``MAGIC`` | ephemeral X25519 public key (32) | nonce (12) | ChaCha20-Poly1305 ciphertext. The key is
HKDF-SHA256 over the ECDH of the ephemeral key and the recipient's X25519 key, so only the recipient can read a
lost USB stick (citizens' ID numbers are in the payloads). The plaintext is zlib of: the Ed25519 signature (64)
over the manifest (version 2: it commits to the events by their SHA-256; version 1 signed ``body`` itself) |
``body``, where ``body`` is canonical JSON ``{"manifest": …, "events": […]}``. Nothing in it is
trusted before :func:`open_bundle` has decrypted it and the caller has checked the signature with the key of the
peer the manifest names (:func:`check_signature`) and the schema (:func:`parse`).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import zlib
from dataclasses import dataclass
from datetime import datetime
from itertools import product, repeat
from json.encoder import encode_basestring  # type: ignore[attr-defined]
from operator import eq, itemgetter
from typing import Any

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from hall.errors import HallError
from hall.services.sync.keys import NodeKeys, public_box, public_sign

MAGIC = b"HALLSYNC\x01"
MAX_FILE = 256 * 1024 * 1024  # a village's year of intake is a few MB; anything near this is not a bundle
MAX_PLAIN = 1024 * 1024 * 1024
_HEAD = len(MAGIC) + 32 + 12
_INFO = b"hall-sync-v1"

# The stored columns of one event, and the JSON type each must have (strict: nothing more, nothing less).
EVENT_FIELDS: dict[str, tuple[type, ...]] = {
    "event_id": (str,), "node_id": (str,), "seq": (int,), "format": (int,), "actor_id": (int, type(None)),
    "actor_uid": (str, type(None)), "actor_name": (str,), "actor_role": (str,), "occurred_at": (str,),
    "type": (str,), "ticket_uid": (str, type(None)), "payload": (str,), "prev_hash": (str,), "hash": (str,),
}
MANIFEST_FIELDS = frozenset({"v", "kind", "from", "to", "created_at", "chains", "ack", "count", "content_sha256",
                             "extra"})
CHAIN_FIELDS = frozenset({"node_id", "first_seq", "last_seq", "first_prev", "last_hash", "count"})


class BundleRejected(HallError):
    """A bundle that fails any check: the reason in Chinese; nothing was written."""

    def __init__(self, reason: str, kind: str = "invalid") -> None:
        super().__init__(f"同步文件被拒绝：{reason}。数据库未做任何更改")
        self.reason = reason
        self.kind = kind  # "invalid" | "fork" | "replay" | "peer" | "recipient"


def _encode(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def content_hash(events: list[dict[str, Any]]) -> str:
    return hashlib.sha256(_encode(events)).hexdigest()


_q = encode_basestring  # what the encoder writes for a string when ensure_ascii is off (the same C function)
_SORTED_FIELDS = tuple(sorted(EVENT_FIELDS))
_FIELD_VALUES = itemgetter(*_SORTED_FIELDS)


def encode_events(events: list[dict[str, Any]]) -> bytes:
    """``_encode(events)``, byte for byte, each event written out in its sorted key order (as the ledger's format-2
    header is): a sealed bundle carries ten thousand and more, and the generic encoder's per-dict key sorting is
    most of its cost. An event with other keys or values of other classes (never exported) goes through
    ``_encode`` itself."""
    # Each event's text to UTF-8 by itself: no 10 MB string of wide characters built and copied once more.
    return b"".join((b"[", b",".join([_event_text(e).encode() for e in events]), b"]"))


def _event_text(e: dict[str, Any]) -> str:
    if len(e) == len(_SORTED_FIELDS):
        try:
            (actor_id, actor_name, actor_role, actor_uid, event_id, fmt, digest, node_id, at, payload, prev, seq,
             ticket_uid, type_) = _FIELD_VALUES(e)
        except KeyError:
            pass
        else:
            if (actor_name.__class__ is str and actor_role.__class__ is str and event_id.__class__ is str
                    and digest.__class__ is str and node_id.__class__ is str and at.__class__ is str
                    and payload.__class__ is str and prev.__class__ is str and type_.__class__ is str
                    and fmt.__class__ is int and seq.__class__ is int
                    and (actor_id is None or actor_id.__class__ is int)
                    and (actor_uid is None or actor_uid.__class__ is str)
                    and (ticket_uid is None or ticket_uid.__class__ is str)):
                q = _q
                return (f'{{"actor_id":{"null" if actor_id is None else int.__repr__(actor_id)},'
                        f'"actor_name":{q(actor_name)},"actor_role":{q(actor_role)},'
                        f'"actor_uid":{"null" if actor_uid is None else q(actor_uid)},"event_id":{q(event_id)},'
                        f'"format":{int.__repr__(fmt)},"hash":{q(digest)},"node_id":{q(node_id)},'
                        f'"occurred_at":{q(at)},"payload":{q(payload)},"prev_hash":{q(prev)},'
                        f'"seq":{int.__repr__(seq)},"ticket_uid":{"null" if ticket_uid is None else q(ticket_uid)},'
                        f'"type":{q(type_)}}}')
    return _encode(e).decode()


def _key(shared: bytes, eph: bytes, recipient: bytes) -> bytes:
    return HKDF(hashes.SHA256(), 32, salt=None, info=_INFO + eph + recipient).derive(shared)


# The fastest deflate: ~20 % larger than level 6 (1.3 MB against 1.1 MB for 10,000 ticket events), half its CPU.
ZLIB_LEVEL = 1
_EVENTS_AT = b'{"events":'  # how a sealed body starts: its keys sorted, "events" before "manifest"
_MANIFEST_AT = ',"manifest":'


def seal(keys: NodeKeys, recipient_box: str, manifest: dict[str, Any], events: list[dict[str, Any]]) -> bytes:
    """The bundle of ``manifest`` and ``events`` for ``recipient_box``. A manifest whose ``content_sha256`` is None
    gets it here, over the very bytes of the events the body carries (the events are encoded once, not twice)."""
    events_json = encode_events(events)
    if manifest.get("content_sha256") is None:
        manifest = {**manifest, "content_sha256": hashlib.sha256(events_json).hexdigest()}
    # Byte for byte _encode({"manifest": manifest, "events": events}), without encoding the events again.
    head = _encode(manifest)
    return seal_body(keys, recipient_box, _EVENTS_AT + events_json + _MANIFEST_AT.encode() + head + b"}",
                     version=manifest["v"], signed=_SIGNED_V2 + head if manifest["v"] == 2 else None)


# Version 2 signs the manifest, not the whole body: the manifest commits to the events through content_sha256 (the
# SHA-256 of their bytes, which every import checks), and Ed25519 hashes its whole message with SHA-512 — twice to
# sign and once to verify, about 37 ms for a 10 MB body. Version 1 (files of earlier releases) signed the body
# itself and is still read.
VERSIONS = (1, 2)
VERSION = 2
_SIGNED_V2 = b"hallsync v2 manifest:"


def signed_message(body: bytes, manifest: dict[str, Any], version: Any) -> bytes:
    """What the sender's Ed25519 signature covers: version 2, the manifest's canonical bytes; version 1, the body."""
    return _SIGNED_V2 + _encode(manifest) if version == 2 else body


def seal_body(keys: NodeKeys, recipient_box: str, body: bytes, *, version: int = 1,
              signed: bytes | None = None) -> bytes:
    """Sign, compress and encrypt ``body`` as it is (:func:`seal` gives it the canonical JSON of a bundle, its
    manifest's version, which says what the signature covers, and that signed message)."""
    if signed is None:
        signed = signed_message(body, json.loads(body).get("manifest") if version == 2 else {}, version)
    signature = keys.sign.sign(signed)
    deflate = zlib.compressobj(ZLIB_LEVEL)  # the signature and the body fed in turn: no 10 MB copy to join them
    plain = deflate.compress(signature) + deflate.compress(body) + deflate.flush()
    eph = X25519PrivateKey.generate()
    eph_pub = eph.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    recipient = bytes.fromhex(recipient_box)
    key = _key(eph.exchange(public_box(recipient_box)), eph_pub, recipient)
    nonce = os.urandom(12)
    return MAGIC + eph_pub + nonce + ChaCha20Poly1305(key).encrypt(nonce, plain, MAGIC + eph_pub)


@dataclass(frozen=True)
class Opened:
    manifest: dict[str, Any]
    events: list[dict[str, Any]]
    signature: bytes
    body: bytes


def open_bundle(keys: NodeKeys, data: bytes) -> Opened:
    """Decrypt with this node's key and parse strictly; the signature is still to be checked by the caller."""
    if len(data) > MAX_FILE:
        raise BundleRejected(f"文件过大（{len(data) / 1e6:.0f} MB，上限 {MAX_FILE // 1024 // 1024} MB）")
    if len(data) < _HEAD + 16 or not data.startswith(MAGIC):
        raise BundleRejected("不是 Hall 同步文件（文件头不符或文件被截断）")
    eph_pub = data[len(MAGIC):len(MAGIC) + 32]
    nonce = data[len(MAGIC) + 32:_HEAD]
    recipient = bytes.fromhex(keys.box_key)
    try:
        key = _key(keys.box.exchange(public_box(eph_pub.hex())), eph_pub, recipient)
        plain_z = ChaCha20Poly1305(key).decrypt(nonce, data[_HEAD:], MAGIC + eph_pub)
    except (InvalidTag, ValueError):
        raise BundleRejected("无法解密：文件不是发给本机的，或已被改动、截断", "recipient") from None
    try:
        inflater = zlib.decompressobj()
        plain = inflater.decompress(plain_z, MAX_PLAIN)
        if inflater.unconsumed_tail or not inflater.eof:
            raise BundleRejected("解压后内容过大或不完整")
    except zlib.error:
        raise BundleRejected("内容无法解压（文件已损坏）") from None
    if len(plain) < 65:
        raise BundleRejected("内容过短（缺少签名）")
    signature, body = plain[:64], plain[64:]
    try:
        doc, events_json = _split(body)
    except (ValueError, UnicodeDecodeError):
        raise BundleRejected("内容不是有效的 JSON") from None
    manifest, events = parse(doc, events_json)
    return Opened(manifest, events, signature, body)


_DECODER = json.JSONDecoder()


def _split(body: bytes) -> tuple[Any, bytes | None]:
    """The parsed body, and the exact bytes of its events array when the body has the layout :func:`seal` writes
    (``{"events":[…],"manifest":{…}}``, nothing around it); otherwise None, and the body is parsed as any JSON."""
    if body.startswith(_EVENTS_AT):
        try:
            text = body.decode()
            events, end = _DECODER.raw_decode(text, len(_EVENTS_AT))
            if text.startswith(_MANIFEST_AT, end):
                start = end + len(_MANIFEST_AT)
                manifest, stop = _DECODER.raw_decode(text, start)
                if stop == len(text) - 1 and text[stop] == "}":
                    # The events' bytes: all but the short tail (its bytes counted, not the events' 10 MB re-encoded).
                    tail = len(_MANIFEST_AT) + len(text[start:stop].encode()) + 1
                    return {"events": events, "manifest": manifest}, body[len(_EVENTS_AT):len(body) - tail]
        except ValueError:  # UnicodeDecodeError too: then json.loads below decides, as it always has
            pass
    return json.loads(body), None


def check_signature(opened: Opened, sign_key_hex: str) -> None:
    try:
        public_sign(sign_key_hex).verify(opened.signature,
                                         signed_message(opened.body, opened.manifest, opened.manifest["v"]))
    except (InvalidSignature, ValueError):
        raise BundleRejected("签名不符（文件被改动，或不是登记的终端签发的）", "peer") from None


_HEX64 = re.compile(r"[0-9a-f]{64}")
_EVENT_KEYS = frozenset(EVENT_FIELDS)
_EVENT_TYPES = tuple(EVENT_FIELDS.items())
_EVENT_VALUES = itemgetter(*EVENT_FIELDS)
_EVENT_CLASSES = frozenset(product(*EVENT_FIELDS.values()))  # each field's value of exactly one allowed class


def _hex64(value: Any) -> bool:
    return isinstance(value, str) and _HEX64.fullmatch(value) is not None


def _int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def parse(doc: Any, events_json: bytes | None = None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Strict schema: exact keys and types of the manifest, its chains and every event; counts and hash agree.

    ``events_json``: the bytes the events were parsed from (see :func:`_split`). The content hash is then checked
    over those bytes — for a body :func:`seal` wrote they are exactly the canonical encoding, so the events need
    not be encoded again; anything else is checked against the events re-encoded, as without them."""
    if not isinstance(doc, dict) or set(doc) != {"manifest", "events"}:
        raise BundleRejected("内容结构不符（应只有 manifest 与 events）")
    m, events = doc["manifest"], doc["events"]
    if not isinstance(m, dict) or set(m) != MANIFEST_FIELDS:
        raise BundleRejected("清单（manifest）字段不符")
    if type(m["v"]) is not int or m["v"] not in VERSIONS or m["kind"] not in ("bundle", "provision"):
        raise BundleRejected(f"同步文件版本或类型未知（{m['v']!r} / {m['kind']!r}）")
    for name in ("from", "to", "created_at"):
        if not isinstance(m[name], str) or not m[name]:
            raise BundleRejected(f"清单字段 {name} 缺失或类型不对")
    try:
        datetime.fromisoformat(m["created_at"])
    except ValueError:
        raise BundleRejected("清单的生成时间格式不对") from None
    if not _int(m["count"]) or not isinstance(events, list) or m["count"] != len(events):
        raise BundleRejected(f"事件条数不符（清单写 {m['count']!r} 条，实有 "
                             f"{len(events) if isinstance(events, list) else '?'} 条）")
    if not _hex64(m["content_sha256"]) or not isinstance(m["ack"], dict) or not isinstance(m["extra"], dict):
        raise BundleRejected("清单的内容摘要、确认向量或附加信息类型不对")
    if not _events_fit(events):
        _event_problem(events)
    if ((events_json is None or hashlib.sha256(events_json).hexdigest() != m["content_sha256"])
            and content_hash(events) != m["content_sha256"]):
        raise BundleRejected("内容摘要不符（事件被改动、增删或重排）")
    chains = m["chains"]
    if not isinstance(chains, list):
        raise BundleRejected("清单的链范围类型不对")
    nodes = set(map(_NODE_OF, events))
    by_node: dict[str, list[dict[str, Any]]] = {nodes.pop(): events} if len(nodes) == 1 else {}  # (one chain)
    if not by_node:
        for e in events:
            by_node.setdefault(e["node_id"], []).append(e)
    seen = set()
    for c in chains:
        if (not isinstance(c, dict) or set(c) != CHAIN_FIELDS or not isinstance(c["node_id"], str)
                or not all(_int(c[k]) for k in ("first_seq", "last_seq", "count"))
                or not (_hex64(c["first_prev"]) and _hex64(c["last_hash"])) or c["node_id"] in seen):
            raise BundleRejected("清单的链范围字段不符")
        seen.add(c["node_id"])
        got = by_node.get(c["node_id"], [])
        if (c["count"] != len(got) or not got or got[0]["seq"] != c["first_seq"] or got[-1]["seq"] != c["last_seq"]
                or got[0]["prev_hash"] != c["first_prev"] or got[-1]["hash"] != c["last_hash"]):
            raise BundleRejected(f"终端 {str(c['node_id'])[:8]} 的链范围与事件不符（条数、首尾序号或首尾哈希）")
    if seen != set(by_node):
        raise BundleRejected("有事件不属于清单列出的任何链")
    return m, events


_HASHES = itemgetter("hash", "prev_hash")
_NODE_OF = itemgetter("node_id")
_FIELD_CLASSES = tuple((itemgetter(name), frozenset(types)) for name, types in EVENT_FIELDS.items())
_NOT_HEX = str.maketrans("", "", "0123456789abcdef")  # deletes the hex digits: what remains is not one


def _events_fit(events: list[Any]) -> bool:
    """Whether every event has exactly the fields, the classes and the 64-hex hashes :func:`_event_problem`
    requires — the same rules, each over the whole list in C (a set of key comparisons, of each field's classes,
    of hash lengths, the hex digits deleted from all hashes at once) instead of field by field ten thousand times.
    False: :func:`_event_problem` says which event and rule."""
    if not events:
        return True
    if set(map(type, events)) != {dict}:
        return False
    if set(map(eq, map(dict.keys, events), repeat(_EVENT_KEYS))) != {True}:
        return False
    for get, classes in _FIELD_CLASSES:  # (each field's class one of its own: any combination is allowed)
        if not set(map(type, map(get, events))) <= classes:
            return False
    hashes = [h for pair in map(_HASHES, events) for h in pair]
    return set(map(len, hashes)) == {64} and not "".join(hashes).translate(_NOT_HEX)


def _event_problem(events: list[Any]) -> None:
    """The first event that breaks the strict schema, and the rule it breaks, as :class:`BundleRejected` (none:
    events of subclasses of the JSON classes, which only a caller passing its own objects has, pass as before)."""
    fields, values, exact, hex64 = _EVENT_KEYS, _EVENT_VALUES, _EVENT_CLASSES, _HEX64.fullmatch
    for e in events:
        if not isinstance(e, dict) or e.keys() != fields:
            raise BundleRejected("事件字段不符")
        if tuple(map(type, values(e))) not in exact:  # what JSON gives, all at once; otherwise field by field
            for name, types in _EVENT_TYPES:
                value = e[name]
                if not isinstance(value, types) or value.__class__ is bool:
                    raise BundleRejected(f"事件字段 {name} 类型不对")
        if hex64(e["hash"]) is None or hex64(e["prev_hash"]) is None:
            raise BundleRejected("事件哈希格式不对")
