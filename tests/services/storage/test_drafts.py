"""Draft autosave files: atomic writes, one owner's drafts, unreadable files skipped, nothing left behind."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hall.services.storage.drafts import DraftStore


def test_save_load_discard(tmp_path):
    store = DraftStore(tmp_path / "drafts")
    assert store.load_all("7") == []  # the folder does not exist yet
    store.save("a1", "7", {"item_name": "老年人优待证办理", "name": "王小明"}, now=datetime(2026, 11, 26, 9))
    store.save("b2", "7", {"item_name": "失业登记", "name": ""}, now=datetime(2026, 11, 26, 10))
    store.save("c3", "8", {"item_name": "x"})
    drafts = store.load_all("7")
    assert [d.key for d in drafts] == ["b2", "a1"]  # newest first, only this person's
    assert drafts[1].summary == "老年人优待证办理，王小明" and drafts[0].summary == "失业登记"
    assert len(store.load_all()) == 3
    store.save("a1", "7", {"item_name": "老年人优待证办理", "name": "王小明", "phone": "139"})
    assert store.load_all("7")[0].data["phone"] == "139"  # the same file is rewritten
    store.discard("a1")
    store.discard("a1")  # twice is harmless
    assert [d.key for d in store.load_all("7")] == ["b2"]
    assert not list((tmp_path / "drafts").glob(".intake-*"))  # no temporary files left


def test_unreadable_drafts_are_skipped_not_fatal(tmp_path, caplog):
    store = DraftStore(tmp_path)
    store.save("good", "1", {"name": "张三"})
    (tmp_path / "intake-torn.json").write_text('{"format": 1, "key": "torn", "da', encoding="utf-8")
    (tmp_path / "intake-other.json").write_text(json.dumps({"format": 99, "data": {}}), encoding="utf-8")
    (tmp_path / "intake-huge.json").write_text("x" * 300_000, encoding="utf-8")
    assert [d.key for d in store.load_all("1")] == ["good"]
    assert "skipping unreadable draft" in caplog.text
    assert (tmp_path / "intake-torn.json").exists()  # left for a person to look at


def test_keys_cannot_escape_the_folder(tmp_path):
    store = DraftStore(tmp_path)
    for bad in ("../x", "a/b", "", "x" * 65, "名字"):
        with pytest.raises(ValueError):
            store.save(bad, "1", {})


@settings(max_examples=40, deadline=None)
@given(st.dictionaries(st.text(min_size=1, max_size=12),
                       st.one_of(st.text(max_size=40), st.booleans(), st.integers(),
                                 st.dictionaries(st.text(max_size=8), st.sampled_from(["received", "missing"]))),
                       max_size=8))
def test_any_form_content_round_trips(tmp_path_factory, data):
    store = DraftStore(tmp_path_factory.mktemp("d"))
    store.save("k", "1", data)
    assert store.load_all("1")[0].data == data


@settings(max_examples=200)
@given(st.text(st.characters(codec=None)) | st.sampled_from(["张\ud800三", "\udfff", "a\x00b", "\U0001f600"]))
def test_any_half_typed_text_survives_a_draft(tmp_path_factory, value):
    """A draft holds what the form holds, before any rule: a pasted lone surrogate or NUL too."""
    store = DraftStore(tmp_path_factory.mktemp("d"))
    store.save("k", "7", {"name": value, "note": value})
    assert store.load_all("7")[0].data == {"name": value, "note": value}
