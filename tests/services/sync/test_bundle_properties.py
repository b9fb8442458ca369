"""Property tests of the bundle reader: whatever bytes or JSON arrive, the only error is a refusal in Chinese; a
sealed bundle opens to exactly what was sealed."""

from __future__ import annotations

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
