from __future__ import annotations

import pytest

from hall.errors import HallError
from hall.print import fonts
from hall.print.fonts import FontCandidate, NoCjkFontError, cjk_fonts, try_register


def test_cjk_fonts_registered_and_cached():
    fs = cjk_fonts()
    assert fs.body and fs.heading and fs.title
    assert cjk_fonts() is fs  # one registration per process


def test_cff_otf_is_refused_not_crashing(tmp_path):
    fake = tmp_path / "NotoSansCJKsc-Regular.otf"
    fake.write_bytes(b"OTTO" + b"\0" * 64)  # CFF-flavoured OpenType header
    assert try_register(FontCandidate(fake, 0)) is None


def test_no_font_at_all_is_a_clear_chinese_error(monkeypatch):
    monkeypatch.setattr(fonts, "_index_font_files", lambda: {})
    monkeypatch.setattr(fonts, "_fc_list_candidates", lambda: [])
    monkeypatch.delenv(fonts.FONT_ENV, raising=False)
    with pytest.raises(NoCjkFontError) as err:
        fonts.discover_fonts()
    assert isinstance(err.value, HallError)
    assert "中文" in str(err.value) and "字体" in str(err.value)


def test_env_override_with_a_refused_file_falls_back(monkeypatch, tmp_path):
    fake = tmp_path / "bad.otf"
    fake.write_bytes(b"OTTO" + b"\0" * 64)
    monkeypatch.setenv(fonts.FONT_ENV, str(fake))
    fs = fonts.discover_fonts()
    assert "bad" not in fs.body
