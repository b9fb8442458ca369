"""The one free-text rule (validators.free_text) and every parser of typed text, under hostile input.

Properties: each parser raises nothing but the project's own error on any string; what it accepts holds no
character the rule forbids (nor one openpyxl refuses) and survives UTF-8; parsing its own output gives it back.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from hall.errors import HallError, ValidationError
from hall.services.base import masking
from hall.services.base.validators import (
    free_text,
    has_forbidden_chars,
    parse_credit_code,
    parse_id_number,
    parse_key,
    parse_person_name,
    parse_phone,
    search_text,
    shown,
)
from hall.services.reporting.stats import Period
from hall.services.storage.settings import DEFAULTS, clean_value
from hall.services.tickets import search as ticket_search
from hall.services.tickets.numbering import parse_number

TODAY = date(2026, 3, 5)

# Written out here, independently of validators.py: what no stored text may contain.
NONCHARS = {0xFDD0 + i for i in range(32)} | {p << 16 | low for p in range(17) for low in (0xFFFE, 0xFFFF)}


def forbidden(c: str, *, multiline: bool) -> bool:
    o = ord(c)
    if c in "\t\n":
        return not multiline
    return (o < 0x20 or 0x7F <= o <= 0x9F or 0xD800 <= o <= 0xDFFF or o in NONCHARS
            or 0x202A <= o <= 0x202E or 0x2066 <= o <= 0x2069 or c in "\u2028\u2029")


def clean(text: str, *, multiline: bool = False) -> bool:
    """``text`` may be stored: no forbidden character, nothing openpyxl refuses, encodable as UTF-8."""
    text.encode("utf-8")  # raises on a lone surrogate
    return not any(forbidden(c, multiline=multiline) for c in text) and not ILLEGAL_CHARACTERS_RE.search(text)


def message_ok(exc: HallError) -> bool:
    """A message a dialog and the log can carry: encodable, no control characters but newlines, bounded."""
    text = str(exc)
    return clean(text, multiline=True) and "\t" not in text and len(text) < 2000


# --- hostile strings -------------------------------------------------------------------------------------------

HOSTILE_CHARS = (
    "\x00", "\x01", "\x07", "\x08", "\t", "\n", "\x0b", "\x0c", "\r", "\x1b", "\x1f", "\x7f", "\x85", "\x9f",
    "\ud800", "\udbff", "\udc00", "\udfff", "\u200b", "\u200d", "\u200e", "\u200f", "\u202a", "\u202e", "\u2066",
    "\u2069", "\u2028", "\u2029", "\ufeff", "\ufffe", "\uffff", "\ufdd0", "\U0001fffe", "\U0010ffff", "\u3000",
    "\xa0", "\u2000", "\u2001", "\u00b4", "\u0301", "\u0338", "\uf900", "\ufa10", "\ue000", "０", "１", "９", "Ｘ",
    "－", "٣", "¹", "㍻", "👨\u200d👩\u200d👧", "🏳️\u200d🌈", "\U00020000", " ", "=", "+", "-", "@", "'", '"', "%",
    "_", "\\", "X", "x", "·", "•", "张", "三", "0", "1", "3", "8",
)
fragments = st.one_of(
    st.sampled_from(HOSTILE_CHARS),
    st.sampled_from(("=cmd|' /C calc'!A0", "'; DROP TABLE tickets; --", "1' OR '1'='1", "{0}", "%s", "\r\n",
                     "13812345678", "11010519491231002X", "91350100M000100Y43", "0512-66881234", "王小明",
                     "320581101-000-20260305-0001", "   ", "e\u0301", "ﬁ", "\u05d0\u05d1", "\u0627\u0644")),
    st.characters(),  # any code point but a surrogate (hypothesis leaves those out; the samples above add them)
    st.text(max_size=8),
)
hostile = st.lists(fragments, max_size=12).map("".join)
limits = st.integers(min_value=1, max_value=60)


# --- free_text: examples -----------------------------------------------------------------------------------------

def rule_of(call) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        call()
    return info.value


def test_free_text_examples():
    assert free_text("  第一行\r\n第二行\t完  \r\n\r\n", "备注", max_len=100, multiline=True) == "第一行\n第二行\t完"
    assert free_text("a\x0bb\x0cc\u2028d", "办理结果", max_len=100, multiline=True) == "a\nb\nc\nd"  # Word's breaks
    assert free_text("  张三　 李四  ", "签收人", max_len=40) == "张三 李四"
    assert free_text("e\u0301", "说明", max_len=10) == "\u00e9"  # NFC
    assert free_text("\n申请人本人\n", "签收人", max_len=40) == "申请人本人"  # a pasted line break at an end
    assert free_text("   ", "备注", max_len=100, required=False) == ""
    assert free_text(None, "备注", max_len=100, required=False) == ""
    assert free_text("=cmd|' /C calc'!A0", "备注", max_len=100) == "=cmd|' /C calc'!A0"  # the export guards it
    assert free_text("字" * 200, "备注", max_len=200) == "字" * 200


@pytest.mark.parametrize(("value", "kwargs", "message"), [
    ("", {}, "退回原因：不能为空"),
    ("办结\x07了", {}, "退回原因：含有不可打印的控制字符（第 3 个字符），请删除后重试"),
    ("  a\x00", {}, "退回原因：含有不可打印的控制字符（第 4 个字符），请删除后重试"),
    ("a\ud800b", {}, "退回原因：含有无法保存的残缺字符（第 2 个字符），请删除后重新输入"),
    ("ab\u202ecd", {}, "退回原因：含有改变文字方向的隐藏字符（第 3 个字符），请删除后重试"),
    ("a\ufffe", {}, "退回原因：含有无效字符（第 2 个字符），请删除后重试"),
    ("第一行\n第二行", {}, "退回原因：不能换行（第 4 个字符），请写在一行内"),
    ("a\tb", {}, "退回原因：不能包含制表符（第 2 个字符），请改用空格"),
    ("a\x85b", {"multiline": True}, "退回原因：含有不可打印的控制字符（第 2 个字符），请删除后重试"),
    ("好", {"min_len": 2}, "退回原因：至少2个字（现为1个字）"),
    ("字" * 201, {"max_len": 200}, "退回原因：不能超过200个字（现为201个字）"),
])
def test_free_text_names_the_field_and_the_rule(value, kwargs, message):
    assert str(rule_of(lambda: free_text(value, "退回原因", **{"max_len": 500, **kwargs}))) == message


def test_free_text_refuses_what_is_not_text():
    assert str(rule_of(lambda: free_text(12, "备注", max_len=10))) == "备注：应为文字"  # type: ignore[arg-type]


def test_shown_and_search_text_make_any_value_quotable():
    assert shown("a\x00b\u202e" + "字" * 30) == "ab" + "字" * 18 + "…"
    assert search_text("  王\x00小\ud800明  ") == "王 小 明"
    assert search_text("x" * 500, 60) == "x" * 60
    assert search_text(None) == ""  # type: ignore[arg-type]


# --- free_text: properties ---------------------------------------------------------------------------------------

@settings(max_examples=1500, suppress_health_check=[HealthCheck.too_slow])
@given(hostile, st.booleans(), st.booleans(), limits, st.integers(min_value=1, max_value=3))
@example("a\u00b4", False, True, 10, 1)
@example("\u2001x\u2000", False, True, 10, 1)
@example(" \u0301", True, True, 10, 1)
def test_free_text_accepts_only_clean_text_and_is_idempotent(value, multiline, required, max_len, min_len):
    try:
        out = free_text(value, "备注", max_len=max_len, multiline=multiline, required=required, min_len=min_len)
    except ValidationError as exc:
        assert exc.field == "备注"
        assert message_ok(exc)
        return
    assert clean(out, multiline=multiline)
    assert len(out) <= max_len
    assert out == out.strip()
    assert unicodedata.is_normalized("NFC", out)
    if not multiline:
        assert "  " not in out
    if out:
        assert len(out) >= min_len
    else:
        assert not required
    assert free_text(out, "备注", max_len=max_len, multiline=multiline, required=required, min_len=min_len) == out


@settings(max_examples=500)
@given(hostile)
def test_a_text_with_a_forbidden_character_is_refused_not_repaired(value):
    core = value.strip(" \t\n\r\x0b\x0c\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
                       "\u200a\u2028\u2029\u202f\u205f\u3000")
    bad = any(forbidden(c, multiline=True) and c not in "\r\x0b\x0c\u2028\u2029" for c in core)
    try:
        free_text(value, "备注", max_len=10_000, multiline=True, required=False)
    except ValidationError:
        assert bad
    else:
        assert not bad


# --- every other parser ------------------------------------------------------------------------------------------

def _valid_mutations():
    return st.one_of(hostile, st.sampled_from(("0", "", " ", "00", "+86", "0086", "1", "01", "010", "0512-",
                                                 "转801", "x1", "#", "138 1234 5678", "１３８１２３４５６７８",
                                                 "(0512)66881234-801", "+86 0512-6688 1234 分机 123456")))


@settings(max_examples=1500)
@given(_valid_mutations())
@example("0")
@example("٣")
@example("0512-66881234转٣")
def test_parse_phone_raises_only_its_own_error_and_is_idempotent(text):
    try:
        out = parse_phone(text)
    except ValidationError as exc:
        assert exc.field == "联系电话" and message_ok(exc)
        return
    assert re.fullmatch(r"[0-9]{3,4}-[0-9]{7,8}(转[0-9]{1,6})?|1[3-9][0-9]{9}", out) and len(out) <= 24  # the column
    assert parse_phone(out) == out


@settings(max_examples=800)
@given(hostile)
def test_parse_id_number_and_credit_code_raise_only_their_own_error(text):
    for parse in (lambda t: parse_id_number(t, today=TODAY).number, parse_credit_code):
        try:
            out = parse(text)
        except ValidationError as exc:
            assert message_ok(exc)
            continue
        assert clean(out) and out.isascii() and len(out) == 18
        assert parse(out) == out


@settings(max_examples=1500)
@given(hostile)
@example("张\u202e三")
@example("·")
def test_parse_person_name_raises_only_its_own_error_and_is_idempotent(text):
    try:
        out = parse_person_name(text)
    except ValidationError as exc:
        assert exc.field == "姓名" and message_ok(exc)
        return
    assert clean(out) and 0 < len(out) <= 40
    assert parse_person_name(out) == out


@settings(max_examples=1000)
@given(hostile, limits)
def test_parse_key_raises_only_its_own_error_and_is_idempotent(text, max_len):
    try:
        out = parse_key(text, "办件编号", max_len=max_len)
    except ValidationError as exc:
        assert message_ok(exc)
        return
    assert clean(out) and 0 < len(out) <= max_len
    assert unicodedata.is_normalized("NFKC", out)
    assert parse_key(out, "办件编号", max_len=max_len) == out


@settings(max_examples=1000)
@given(hostile, st.integers(min_value=1, max_value=80))
def test_search_text_and_shown_never_raise(text, max_len):
    out = search_text(text, max_len)
    assert clean(out) and len(out) <= max_len and out == out.strip()
    assert search_text(out, max_len) == out
    quoted = shown(text)
    assert clean(quoted) and len(quoted) <= 21
    assert not has_forbidden_chars(quoted)
    ticket_search.classify(text)  # pure, never raises


@settings(max_examples=800)
@given(st.one_of(hostile, st.sampled_from(("320581101-000-20261399-0001", "320581101-000-٢٠٢٦٠٣٠٥-0001",
                                           "３２０５８１１０１-000-20260305-0001", "0000-13", "2026-13", "9999-12",
                                           "0000Q1", "9999Q4", "٢٠٢٦-١", "2026-1", "2026Q4"))))
def test_ticket_number_and_period_parsers_raise_only_their_own_error(text):
    for parse in (parse_number, Period.parse_month, Period.parse_quarter):
        try:
            out = parse(text)
        except ValidationError as exc:
            assert message_ok(exc)
            continue
        if parse is parse_number:
            assert re.fullmatch(r"[0-9]{9}", out[0]) and out[2].year >= 1
        else:
            assert out.until > out.since


@settings(max_examples=800)
@given(hostile)
def test_masking_never_raises_and_leaves_no_forbidden_character(text):
    for mask in (masking.mask_name, masking.mask_id_for_clerk, masking.mask_id_for_receipt, masking.mask_phone):
        out = mask(text)
        assert isinstance(out, str)
    masking.village_only(text)
    masking.find_unmasked_identifiers(text)
    for kind in masking.FieldKind:
        for audience in masking.Audience:
            out = masking.mask_for(audience, kind, text)
            assert out is None or isinstance(out, str)


@settings(max_examples=600)
@given(st.sampled_from(sorted(DEFAULTS)), st.one_of(hostile, st.integers(), st.none(),
                                                    st.dictionaries(hostile, hostile, max_size=3)))
def test_settings_accept_only_clean_values(key, value):
    try:
        out = clean_value(key, value)
    except ValidationError as exc:
        assert message_ok(exc)
        return
    assert clean_value(key, out) == out
    for s in ([out] if isinstance(out, str) else [*out.keys(), *out.values()] if isinstance(out, dict) else []):
        assert clean(s)


@settings(max_examples=600)
@given(st.one_of(hostile, st.integers(), st.floats(), st.none(), st.booleans()),
       st.one_of(hostile, st.integers(), st.none()), st.one_of(hostile, st.dates().map(str)), hostile)
@example("2027", "春节", "2027-02-10", "国办发明电〔2026〕\x001号")
@example("99999999999999999999", "x", "2027-02-10", "")
def test_a_holiday_notice_raises_only_its_own_error(year, name, start, reference):
    from hall.services.calendar.workdays import notice_from_dict, validate_notice

    try:
        notice = notice_from_dict({"year": year, "notice": reference, "holidays": [{"name": name, "start": start}],
                                   "makeup_workdays": [start]})
        validate_notice(notice)
    except HallError as exc:
        assert message_ok(exc)
