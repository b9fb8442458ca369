"""Mutated bundles: every way a .hallsync file may be damaged, tampered with, misaddressed or replayed.

Shared by the suite (a hundred cases) and ``benchmarks/fuzz_sync.py`` (thousands). Byte-level damage is done to
the file as it is; content-level tampering is re-signed and re-encrypted with real keys, so it reaches the checks
behind the signature (schema, counts, content hash, chain links, event types, forks).
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hall.services.storage import ledger
from hall.services.sync import bundle, exchange
from hall.services.sync.keys import NodeKeys


@dataclass
class Parties:
    hall: NodeKeys  # the recipient
    laptop: NodeKeys  # the enrolled sender of ``base``
    other: NodeKeys  # another enrolled laptop
    stranger: NodeKeys  # never enrolled
    base: bytes  # a valid bundle from ``laptop`` to ``hall``


Mutation = Callable[[random.Random, Parties], bytes]


def _open(p: Parties) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    o = bundle.open_bundle(p.hall, p.base)
    return copy.deepcopy(o.manifest), copy.deepcopy(o.events)


def _reseal(p: Parties, m: dict[str, Any], events: list[dict[str, Any]], *, fix: bool = True,
            signer: NodeKeys | None = None, to_box: str | None = None) -> bytes:
    if fix:  # a consistent manifest, so the deeper checks are the ones that must refuse it
        m.update(chains=exchange._chains(events), count=len(events), content_sha256=bundle.content_hash(events))
    return bundle.seal(signer or p.laptop, to_box or p.hall.box_key, m, events)


def _rehash_from(events: list[dict[str, Any]], start: int) -> None:
    """Re-hash events[start:] so each link is valid again (a forger who knows the format)."""
    for i in range(start, len(events)):
        e = events[i]
        e["prev_hash"] = events[i - 1]["hash"] if i else ledger.GENESIS
        e["hash"] = ledger.event_hash(
            e["prev_hash"], event_id=e["event_id"], node_id=e["node_id"], seq=e["seq"], actor_id=e["actor_id"],
            actor_name=e["actor_name"], actor_role=e["actor_role"],
            occurred_at=datetime.fromisoformat(e["occurred_at"]), type=e["type"], ticket_uid=e["ticket_uid"],
            payload=e["payload"], format=e["format"], actor_uid=e["actor_uid"])


def flip(rng: random.Random, p: Parties) -> bytes:
    data = bytearray(p.base)
    for _ in range(rng.randint(1, 3)):
        data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    return bytes(data)


def truncate(rng: random.Random, p: Parties) -> bytes:
    return p.base[:rng.randrange(len(p.base))]


def append_garbage(rng: random.Random, p: Parties) -> bytes:
    return p.base + rng.randbytes(rng.randint(1, 64))


def drop_event(rng: random.Random, p: Parties) -> bytes:
    m, ev = _open(p)
    del ev[rng.randrange(1, len(ev) - 1)]  # not the last: dropping it is merely an older bundle
    return _reseal(p, m, ev)


def drop_event_keep_manifest(rng: random.Random, p: Parties) -> bytes:
    m, ev = _open(p)
    del ev[rng.randrange(len(ev))]
    return _reseal(p, m, ev, fix=False)


def reorder(rng: random.Random, p: Parties) -> bytes:
    m, ev = _open(p)
    i = rng.randrange(len(ev) - 1)
    ev[i], ev[i + 1] = ev[i + 1], ev[i]
    return _reseal(p, m, ev, fix=rng.random() < 0.7)


def edit_payload(rng: random.Random, p: Parties) -> bytes:
    m, ev = _open(p)
    e = ev[rng.randrange(len(ev))]
    payload = json.loads(e["payload"])
    payload["tampered"] = rng.randint(0, 9)
    e["payload"] = json.dumps(payload, ensure_ascii=False)
    return _reseal(p, m, ev)


def edit_and_rehash(rng: random.Random, p: Parties) -> bytes:
    """A forger re-hashes the chain after the change: the overlap with what the hall holds is then a fork."""
    m, ev = _open(p)
    i = rng.randrange(len(ev))
    ev[i]["actor_name"] = "伪造"
    _rehash_from(ev, i)
    return _reseal(p, m, ev)


def wrong_count(rng: random.Random, p: Parties) -> bytes:
    m, ev = _open(p)
    m.update(chains=exchange._chains(ev), content_sha256=bundle.content_hash(ev))
    m["count"] = len(ev) + rng.choice([-2, -1, 1, 5])
    return _reseal(p, m, ev, fix=False)


def wrong_range(rng: random.Random, p: Parties) -> bytes:
    m, ev = _open(p)
    m.update(count=len(ev), content_sha256=bundle.content_hash(ev))
    chains = exchange._chains(ev)
    chains[0][rng.choice(["first_seq", "last_seq", "count"])] += 1
    m["chains"] = chains
    return _reseal(p, m, ev, fix=False)


def schema(rng: random.Random, p: Parties) -> bytes:
    m, ev = _open(p)
    m.update(chains=exchange._chains(ev), count=len(ev))  # consistent before the break, which may drop "hash"
    e = ev[rng.randrange(len(ev))]
    choice = rng.randrange(4)
    if choice == 0:
        e["extra"] = 1
    elif choice == 1:
        del e[rng.choice(list(e))]
    elif choice == 2:
        e["seq"] = str(e["seq"])
    else:
        m["unexpected"] = True
    m["content_sha256"] = bundle.content_hash(ev)
    return _reseal(p, m, ev, fix=False)


def foreign_type(rng: random.Random, p: Parties) -> bytes:
    """A validly chained event of a type a laptop may not write (or that nobody knows)."""
    m, ev = _open(p)
    last = copy.deepcopy(ev[-1])
    last.update(seq=last["seq"] + 1, event_id=f"00000000-0000-4000-8000-{rng.randrange(16**12):012x}",
                type=rng.choice(["catalog.imported", "settings.changed", "staff.added", "sync.peer_enrolled",
                                 "no.such_type"]), ticket_uid=None, payload="{}")
    ev.append(last)
    _rehash_from(ev, len(ev) - 1)
    return _reseal(p, m, ev)


def other_node(rng: random.Random, p: Parties) -> bytes:
    m, ev = _open(p)
    ev[rng.randrange(len(ev))]["node_id"] = p.other.node_id
    return _reseal(p, m, ev)


def noncanonical_time(rng: random.Random, p: Parties) -> bytes:
    m, ev = _open(p)
    e = ev[rng.randrange(len(ev))]
    e["occurred_at"] = e["occurred_at"][:19]
    return _reseal(p, m, ev)


def bad_signature(rng: random.Random, p: Parties) -> bytes:
    m, ev = _open(p)
    return _reseal(p, m, ev, signer=rng.choice([p.other, p.stranger, p.hall]))


def wrong_recipient(rng: random.Random, p: Parties) -> bytes:
    m, ev = _open(p)
    if rng.random() < 0.5:
        return _reseal(p, m, ev, to_box=p.other.box_key)  # encrypted to another laptop
    m["to"] = p.other.node_id  # encrypted to the hall but addressed to another node
    return _reseal(p, m, ev)


def unknown_peer(rng: random.Random, p: Parties) -> bytes:
    m, ev = _open(p)
    m["from"] = p.stranger.node_id
    return _reseal(p, m, ev, signer=p.stranger)


def wrong_kind(rng: random.Random, p: Parties) -> bytes:
    m, ev = _open(p)
    m[rng.choice(["kind", "v"])] = rng.choice(["provision", max(bundle.VERSIONS) + 1, "x"])
    return _reseal(p, m, ev)


MUTATIONS: tuple[Mutation, ...] = (
    flip, truncate, append_garbage, drop_event, drop_event_keep_manifest, reorder, edit_payload, edit_and_rehash,
    wrong_count, wrong_range, schema, foreign_type, other_node, noncanonical_time, bad_signature, wrong_recipient,
    unknown_peer, wrong_kind,
)


def cases(parties: Parties, n: int, seed: int = 0) -> list[tuple[str, bytes]]:
    """``n`` mutated bundles, every mutation in turn, each with its own random choices."""
    rng = random.Random(seed)
    return [(m.__name__, m(rng, parties)) for m in (MUTATIONS[i % len(MUTATIONS)] for i in range(n))]
