"""Property tests of the bundle reader: whatever bytes or JSON arrive, the only error is a refusal in Chinese; a
sealed bundle opens to exactly what was sealed."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hall.services.sync import bundle
from hall.services.sync.keys import NodeKeys

HALL = NodeKeys.create("11111111-1111-4111-8111-111111111111", "hall", "000")
LAPTOP = NodeKeys.create("22222222-2222-4222-8222-222222222222", "laptop", "001")

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=8,
)
MANIFEST_KEYS = sorted(bundle.MANIFEST_FIELDS)
EVENT_KEYS = sorted(bundle.EVENT_FIELDS)


def _manifest(events: list) -> dict:
    return {"v": 1, "kind": "bundle", "from": LAPTOP.node_id, "to": HALL.node_id,
            "created_at": "2026-03-02T09:00:00.000000", "chains": [], "ack": {}, "count": len(events),
            "content_sha256": bundle.content_hash(events), "extra": {}}


@settings(max_examples=50, deadline=None)
@given(st.dictionaries(st.sampled_from(["manifest", "events", "x"]), json_values, max_size=3)
       | st.fixed_dictionaries({"manifest": st.dictionaries(st.sampled_from(MANIFEST_KEYS), json_values),
                                "events": st.lists(st.dictionaries(st.sampled_from(EVENT_KEYS), json_values),
                                                   max_size=3)})
       | st.builds(lambda chains: {**_manifest([]), "chains": chains}, st.lists(
           st.dictionaries(st.sampled_from(sorted(bundle.CHAIN_FIELDS)), json_values), max_size=2)).map(
           lambda m: {"manifest": m, "events": []}))
def test_parse_refuses_anything_malformed_with_a_reason(doc):
    try:
        bundle.parse(doc)
    except bundle.BundleRejected as exc:
        assert exc.message.startswith("同步文件被拒绝：")


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_are_refused(data):
    try:
        bundle.open_bundle(HALL, bundle.MAGIC + data if data[:1] == b"\x00" else data)
    except bundle.BundleRejected:
        return
    raise AssertionError("random bytes were accepted")


@settings(max_examples=25, deadline=None)
@given(st.dictionaries(st.text(max_size=6), st.text(max_size=12), max_size=4))
def test_seal_then_open_gives_back_the_same_manifest(extra):
    m = _manifest([])
    m["extra"] = extra
    opened = bundle.open_bundle(HALL, bundle.seal(LAPTOP, HALL.box_key, m, []))
    bundle.check_signature(opened, LAPTOP.sign_key)
    assert opened.manifest == m and opened.events == []


hex64 = st.text("0123456789abcdef", min_size=64, max_size=64)
texts = st.text(max_size=12)  # any characters but lone surrogates (which no bundle can carry)
events_st = st.lists(st.fixed_dictionaries({
    "event_id": texts, "node_id": st.just(LAPTOP.node_id), "seq": st.integers(-5, 10**12),
    "format": st.integers(0, 3), "actor_id": st.none() | st.integers(), "actor_uid": st.none() | texts,
    "actor_name": texts, "actor_role": texts, "occurred_at": texts, "type": texts,
    "ticket_uid": st.none() | texts, "payload": st.text(max_size=40), "prev_hash": hex64, "hash": hex64}),
    max_size=4)


def _chains_of(events: list) -> list:
    if not events:
        return []
    return [{"node_id": LAPTOP.node_id, "first_seq": events[0]["seq"], "last_seq": events[-1]["seq"],
             "first_prev": events[0]["prev_hash"], "last_hash": events[-1]["hash"], "count": len(events)}]


@settings(max_examples=40, deadline=None)
@given(events_st)
def test_sealed_body_is_the_canonical_json_and_its_hash_is_filled_in(events):
    m = {**_manifest(events), "chains": _chains_of(events), "content_sha256": None}
    opened = bundle.open_bundle(HALL, bundle.seal(LAPTOP, HALL.box_key, m, events))
    bundle.check_signature(opened, LAPTOP.sign_key)
    assert opened.manifest["content_sha256"] == bundle.content_hash(events)
    assert opened.body == bundle._encode({"manifest": opened.manifest, "events": events})  # one encoding, same bytes
    assert opened.events == events
    assert bundle._split(opened.body)[1] == bundle._encode(events)  # the hash is checked over the events' bytes


@settings(max_examples=40, deadline=None)
@given(events_st, st.sampled_from(["indent", "manifest first", "spaces", "trailing"]), st.booleans())
def test_a_body_in_another_layout_is_checked_against_the_events_reencoded(events, layout, tamper):
    """A body seal does not write (another order, whitespace): the content hash is still the canonical one, so a
    changed event after the manifest was made is refused whatever the layout."""
    m = {**_manifest(events), "chains": _chains_of(events)}
    if tamper and events:
        events = [{**events[0], "payload": events[0]["payload"] + "x"}, *events[1:]]
    doc = {"manifest": m, "events": events}
    if layout == "indent":
        text = json.dumps(doc, ensure_ascii=False, sort_keys=True, indent=1)
    elif layout == "manifest first":
        text = json.dumps(doc, ensure_ascii=False)
    elif layout == "spaces":
        text = json.dumps(doc, ensure_ascii=False, sort_keys=True)
    else:
        text = json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + " "
    data = bundle.seal_body(LAPTOP, HALL.box_key, text.encode())
    if tamper and events:
        with pytest.raises(bundle.BundleRejected, match="内容摘要不符"):
            bundle.open_bundle(HALL, data)
    else:
        assert bundle.open_bundle(HALL, data).events == events


@settings(max_examples=40, deadline=None)
@given(events_st.filter(bool), st.data())
def test_any_changed_event_byte_in_the_sealed_layout_is_refused(events, data):
    """The content hash over the events' own bytes: a body re-signed after one event changed is refused."""
    m = {**_manifest(events), "chains": _chains_of(events)}
    body = bundle._encode({"manifest": m, "events": events})
    start = len(b'{"events":')
    end = start + len(bundle._encode(events))
    i = data.draw(st.integers(start, end - 1))
    forged = body[:i] + bytes([body[i] ^ 0x20]) + body[i + 1:]
    try:
        opened = bundle.open_bundle(HALL, bundle.seal_body(LAPTOP, HALL.box_key, forged))
    except bundle.BundleRejected:
        return
    assert opened.events == events  # only a change that parses back to the very same events may pass


odd_events_st = st.lists(events_st.flatmap(lambda evs: st.just(evs[0]) if evs else st.nothing()).flatmap(
    lambda e: st.sampled_from([
        e, {**e, "seq": True}, {**e, "actor_id": 1.5}, {**e, "payload": None}, {**e, "extra": 1},
        {k: v for k, v in e.items() if k != "hash"}, {**e, "actor_uid": 7}, {**e, "ticket_uid": ["x"]},
    ])), max_size=4)


@settings(max_examples=60, deadline=None)
@given(events_st, odd_events_st)
def test_events_written_out_field_by_field_are_the_canonical_json(events, odd):
    """What a sealed bundle carries: byte for byte the canonical JSON of the events, for exported events (any
    characters) and for anything else a caller might hand in (other keys, other value classes: the fallback)."""
    assert bundle.encode_events(events) == bundle._encode(events)
    assert bundle.encode_events(odd) == bundle._encode(odd)
    assert bundle.encode_events(events + odd) == bundle._encode(events + odd)


def _problem(events: list) -> str | None:
    try:
        bundle._event_problem(events)
    except bundle.BundleRejected as exc:
        return exc.reason
    return None


schema_breaks_st = events_st.filter(bool).flatmap(lambda evs: st.sampled_from([
    lambda e: e, lambda e: {**e, "seq": True}, lambda e: {**e, "format": False}, lambda e: {**e, "seq": 1.0},
    lambda e: {**e, "actor_id": "1"}, lambda e: {**e, "payload": None}, lambda e: {**e, "extra": 1},
    lambda e: {k: v for k, v in e.items() if k != "type"}, lambda e: {**e, "ticket_uid": ["x"]},
    lambda e: {**e, "hash": e["hash"].upper()}, lambda e: {**e, "hash": e["hash"][:63]},
    lambda e: {**e, "prev_hash": e["prev_hash"] + "0"}, lambda e: {**e, "hash": e["hash"][:63] + "\n"},
    lambda e: {**e, "hash": e["hash"][:63], "prev_hash": e["prev_hash"] + "0"},  # lengths that add up to 128
    lambda e: [e], lambda e: None,
]).flatmap(lambda change: st.integers(0, len(evs) - 1).map(
    lambda i: [change(e) if j == i else e for j, e in enumerate(evs)])))


@settings(max_examples=150, deadline=None)
@given(schema_breaks_st)
def test_the_whole_list_schema_check_agrees_with_the_event_by_event_rules(events):
    """The strict schema over the whole list at once (bundle._events_fit) passes exactly the events the rules
    applied to each event pass; what it refuses is then named by the first event's broken rule."""
    assert bundle._events_fit(events) == (_problem(events) is None)
    m = {**_manifest(events if all(isinstance(e, dict) for e in events) else []), "count": len(events)}
    if _problem(events) is not None:
        with pytest.raises(bundle.BundleRejected) as refused:
            bundle.parse({"manifest": m, "events": events})
        assert refused.value.reason == _problem(events)


@pytest.mark.parametrize("version", bundle.VERSIONS)
def test_each_version_verifies_its_own_signature_and_no_other(version):
    """Version 2 signs the body's SHA-256 (Ed25519 would hash 10 MB twice); version 1, an earlier release's file,
    signed the body itself and is still read. A body signed one way and labelled the other is refused, as is any
    change of a byte once signed, and a version this release does not know."""
    events: list = []
    m = {**_manifest(events), "v": version}
    opened = bundle.open_bundle(HALL, bundle.seal(LAPTOP, HALL.box_key, m, events))
    assert opened.manifest["v"] == version
    bundle.check_signature(opened, LAPTOP.sign_key)
    with pytest.raises(bundle.BundleRejected, match="签名不符"):
        bundle.check_signature(opened, HALL.sign_key)  # another key
    other = 1 if version == 2 else 2
    body = bundle._encode({"manifest": {**m, "content_sha256": bundle.content_hash(events)}, "events": events})
    swapped = bundle.open_bundle(HALL, bundle.seal_body(LAPTOP, HALL.box_key, body, version=other))
    with pytest.raises(bundle.BundleRejected, match="签名不符"):
        bundle.check_signature(swapped, LAPTOP.sign_key)  # signed as the other version says, labelled this one
    for v in (3, 0, True, 2.0, "2"):
        with pytest.raises(bundle.BundleRejected):
            bundle.open_bundle(HALL, bundle.seal(LAPTOP, HALL.box_key, {**m, "v": v}, events))
