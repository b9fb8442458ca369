"""Validators for what a clerk types at the counter: ID numbers, credit codes, phones, names, free text.

Pure functions over ``str``; they run on every keystroke, so they avoid per-call allocation of tables and
compile every pattern once at import (cheap: no I/O). Every failure raises
:class:`hall.errors.ValidationError` naming the on-screen field and the rule (domain-rules.md §7), whatever the
input — nothing else ever escapes a parser here.

:func:`free_text` is the one rule for every text a person types, in every service (which says per field whether
it is multi-line); :func:`parse_key` is that rule for the codes that name a record, :func:`search_text` the
never-failing version for a search box, and :func:`shown` makes any value fit to be quoted in a message.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Literal

from hall.errors import ValidationError

# --- 公民身份号码 (GB 11643-1999) -------------------------------------------------------------------

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARS = "10X98765432"  # index = weighted sum mod 11
_DIGITS = frozenset("0123456789")

# Province-level codes (GB/T 2260 first two digits; 71/81/82 Taiwan/HK/Macau, 83 residence permits for
# Taiwan residents). A code outside this set is only a warning: old numbers keep retired area codes.
PROVINCE_CODES: frozenset[str] = frozenset(
    str(code)
    for code in (11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46,
                 50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83)
)

# The standard's own example 440524188001010014 is born 1880; anything earlier is a typo, not a person.
EARLIEST_BIRTH = date(1880, 1, 1)

# ASCII whitespace plus the ideographic space a Chinese IME produces.
_WHITESPACE_RE = re.compile(r"[\s\u3000]+")


@dataclass(frozen=True, slots=True)
class IdNumber:
    """A validated ID number and what it tells (never ask the citizen for sex or birth date)."""

    number: str  # always 18 characters, check character upper-case
    birth_date: date
    sex: Literal["male", "female"]
    area_code: str
    area_known: bool  # False: first two digits are no province code — show a warning, still accept
    upgraded_from_15: bool


def id_check_char(first17: str) -> str:
    """The GB 11643 check character ('0'–'9' or 'X') for the first 17 digits."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError("id_check_char needs exactly 17 ASCII digits")
    total = sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK_CHARS[total % 11]


def _compact(text: str) -> str:
    """NFKC (full-width digits and letters from an IME become ASCII), no whitespace, upper case."""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    return _WHITESPACE_RE.sub("", text).upper()


def _as_text(value: object, field: str) -> str:
    """A parser's input as text: ``None`` is empty; anything else that is not a ``str`` is the field's error."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError(field, "应为文字")
    return value


def _cn_date(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def parse_id_number(
    text: str,
    *,
    today: date | None = None,
    field: str = "公民身份号码",
    earliest_birth: date = EARLIEST_BIRTH,
) -> IdNumber:
    """Validate an 18-digit (or legacy 15-digit) ID number; derive birth date, sex and area.

    Spaces are ignored, lower-case x and full-width characters accepted. A 15-digit number is upgraded
    (``19`` inserted after the area code, check character appended). The right check character is never
    revealed: a wrong one is reported as such, so a guessed number cannot be completed by the program.
    """
    s = _compact(_as_text(text, field))
    n = len(s)
    if n == 0:
        raise ValidationError(field, "不能为空")
    if n == 18:
        body, check = s[:17], s[17]
        if not _DIGITS.issuperset(body) or (check != "X" and check not in _DIGITS):
            raise ValidationError(field, "只能由数字组成，最后一位可以是X")
        upgraded = False
    elif n == 15:
        if not _DIGITS.issuperset(s):
            raise ValidationError(field, "15位旧号码只能由数字组成")
        body, check = s[:6] + "19" + s[6:], ""
        upgraded = True
    else:
        if not _DIGITS.issuperset(s[:-1]) or (s[-1] != "X" and s[-1] not in _DIGITS):
            raise ValidationError(field, f"只能由数字组成，最后一位可以是X（现为{n}位，应为18位）")
        raise ValidationError(field, f"应为18位（或15位旧号码），现为{n}位")

    digits = body[6:14]
    try:
        birth = date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        where = "第7–12位" if upgraded else "第7–14位"
        raise ValidationError(field, f"出生日期（{where}）不是有效日期") from None
    if birth > (today or date.today()):
        raise ValidationError(field, f"出生日期{_cn_date(birth)}晚于今天")
    if birth < earliest_birth:
        raise ValidationError(field, f"出生日期{_cn_date(birth)}早于{earliest_birth.year}年，请核对")

    expected = id_check_char(body)
    if upgraded:
        check = expected
    elif check != expected:
        raise ValidationError(field, "校验码不正确，请逐位核对")

    return IdNumber(
        number=body + check,
        birth_date=birth,
        sex="male" if int(body[16]) % 2 else "female",
        area_code=body[:6],
        area_known=body[:2] in PROVINCE_CODES,
        upgraded_from_15=upgraded,
    )


# --- 统一社会信用代码 (GB 32100-2015) ----------------------------------------------------------------

CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # no I O Z S V
_CREDIT_VALUE = {c: i for i, c in enumerate(CREDIT_ALPHABET)}
_CREDIT_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))  # 1 3 9 27 19 26 16 17 20 29 25 13 8 24 10 30 28


def credit_check_char(first17: str) -> str:
    """The GB 32100 check character for the first 17 characters (upper-case alphabet only)."""
    if len(first17) != 17:
        raise ValueError("credit_check_char needs exactly 17 characters")
    try:
        total = sum(_CREDIT_VALUE[c] * w for c, w in zip(first17, _CREDIT_WEIGHTS, strict=True))
    except KeyError as exc:
        raise ValueError(f"not a credit-code character: {exc.args[0]!r}") from None
    return CREDIT_ALPHABET[(31 - total % 31) % 31]


def parse_credit_code(text: str, field: str = "统一社会信用代码") -> str:
    """Validate a unified social credit code; returns it upper-case without spaces."""
    s = _compact(_as_text(text, field))
    if not s:
        raise ValidationError(field, "不能为空")
    for c in s:
        if c not in _CREDIT_VALUE:
            raise ValidationError(field, f"含有不允许的字符“{_char_shown(c)}”（只用数字和除I、O、Z、S、V外的大写字母）")
    if len(s) != 18:
        raise ValidationError(field, f"应为18位，现为{len(s)}位")
    if credit_check_char(s[:17]) != s[17]:
        raise ValidationError(field, "校验码不正确，请逐位核对")
    return s


# --- 联系电话 -------------------------------------------------------------------------------------

# ASCII digits only: \d would take Arabic-Indic or Devanagari digits, which NFKC leaves as they are.
_PHONE_EXT_RE = re.compile(r"(?:转|分机|ext\.?|x|#)\s*([0-9]{1,6})$", re.IGNORECASE)
_PHONE_SPLIT_RE = re.compile(r"[\s\-()（）—－]+")
_PHONE_HINT = "应为11位手机号码，或带区号的固定电话（如0512-66881234）"


def parse_phone(text: str, field: str = "联系电话") -> str:
    """Validate a mobile or landline number and return its normal form.

    Mobile: ``13812345678`` (a +86 / 0086 prefix is dropped). Landline: ``0512-66881234`` or
    ``010-12345678``, extension as ``0512-66881234转801``. Area codes with three digits are exactly
    010 and 020–029 (national numbering plan), so the split is unambiguous without a hyphen.
    """
    s = _as_text(text, field).strip()
    if not s.isascii():
        s = unicodedata.normalize("NFKC", s)
    if not s:
        raise ValidationError(field, "不能为空")
    if len(s) > 40:  # the longest form, "+86 0512-6688 1234 分机 123456", has 29 characters
        raise ValidationError(field, _PHONE_HINT)
    ext = ""
    m = _PHONE_EXT_RE.search(s)
    if m:
        ext, s = m.group(1), s[: m.start()]
    s = s.strip()
    if s.startswith("+86"):
        s = s[3:]
    elif s.startswith("0086"):
        s = s[4:]
    groups = [g for g in _PHONE_SPLIT_RE.split(s) if g]
    joined = "".join(groups)
    if not joined or not joined.isascii() or not joined.isdigit():
        raise ValidationError(field, f"只能包含数字、空格和“-”；{_PHONE_HINT}")
    if joined.startswith("86") and len(joined) == 13 and joined[2] == "1":
        joined = joined[2:]

    if joined[0] == "1":
        if ext:
            raise ValidationError(field, "手机号码不能带分机号")
        if len(joined) != 11:
            raise ValidationError(field, f"手机号码应为11位，现为{len(joined)}位")
        if joined[1] not in "3456789":
            raise ValidationError(field, "手机号码第二位应为3–9")
        return joined

    if joined[0] != "0":
        if len(joined) in (7, 8):
            raise ValidationError(field, "固定电话请加区号（如0512-66881234）")
        raise ValidationError(field, _PHONE_HINT)
    if len(joined) < 2:
        raise ValidationError(field, _PHONE_HINT)  # a lone "0": not even an area code

    area_len = 3 if joined[1] in "12" else 4
    area = joined[:area_len]
    if len(groups) == 3 and not ext and groups[0] == area and len(groups[1]) in (7, 8):
        local, ext = groups[1], groups[2]  # 0512-66881234-801; "0512 6688 1234" is one local number
    else:
        local = joined[area_len:]
    if len(local) not in (7, 8) or local[0] in "01":
        raise ValidationError(field, f"区号{area}后的号码应为7或8位，且不以0或1开头")
    return f"{area}-{local}" + (f"转{ext}" if ext else "")


# --- free text: the one rule for every text a person types ---------------------------------------------
#
# Characters no stored text may hold, whatever the field:
# - C0 and C1 control characters (tab and line breaks are decided per field, see ``multiline``): PostgreSQL
#   refuses NUL, openpyxl refuses the other C0 controls (a 办结 result pasted from Word crashed every monthly
#   export), and none of them prints;
# - lone surrogates U+D800–DFFF: no UTF-8 encoder (SQLite, PostgreSQL, the log file) accepts them;
# - Unicode noncharacters (U+FDD0–FDEF and the last two code points of every plane): XML 1.0, hence xlsx,
#   forbids U+FFFE and U+FFFF;
# - the bidi embedding, override and isolate controls U+202A–202E and U+2066–2069: invisible, they reorder what
#   a screen or a printed paper shows ("Trojan source"). Emoji, joiners, RTL letters and marks stay allowed.
#
# The classes hold only BMP characters, which re compiles to one bitmap lookup per character (an astral member
# would make it test every range in turn, ten times slower); the astral noncharacters are looked for only in a
# text that has astral characters at all.
_ALWAYS_BAD = "\x00-\x08\x0e-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069\ufdd0-\ufdef\ufffe\uffff"
_LINE_BREAKS = "\n\r\x0b\x0c\u2028\u2029"  # VT and FF are Word's manual line and page breaks
_BAD_MULTI_RE = re.compile(f"[{_ALWAYS_BAD}]")
_BAD_SINGLE_RE = re.compile(f"[{_ALWAYS_BAD}\t{_LINE_BREAKS}]")
_ASTRAL_RE = re.compile("[\U00010000-\U0010ffff]")
_ASTRAL_NONCHAR_RE = re.compile("[" + "".join(chr(p << 16 | 0xFFFE) + chr(p << 16 | 0xFFFF) for p in range(1, 17))
                                + "]")
_SURROGATE_RE = re.compile("[\ud800-\udfff]")
_BIDI_RE = re.compile("[\u202a-\u202e\u2066-\u2069]")
# Every white-space character that is not a control character: trimmed at both ends of any field.
_INLINE_SPACES = " \xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u202f\u205f\u3000"
_EDGE = _INLINE_SPACES + "\t" + _LINE_BREAKS
_LINE_END = _INLINE_SPACES + "\t"
_INLINE_SPACES_RE = re.compile(f"[{_INLINE_SPACES}]+")
_BREAK_RE = re.compile(f"\r\n|[{_LINE_BREAKS}]")


def _first_bad(s: str, multiline: bool = False) -> re.Match[str] | None:
    """The first character of ``s`` no text may hold (tab and line breaks only in a multi-line one)."""
    bad = (_BAD_MULTI_RE if multiline else _BAD_SINGLE_RE).search(s)
    if not s.isascii() and _ASTRAL_RE.search(s, 0, bad.start() if bad else len(s)):
        astral = _ASTRAL_NONCHAR_RE.search(s, 0, bad.start() if bad else len(s))
        if astral is not None:
            return astral
    return bad


def _drop_bad(s: str, replacement: str) -> str:
    s = _BAD_SINGLE_RE.sub(replacement, s)
    return _ASTRAL_NONCHAR_RE.sub(replacement, s) if not s.isascii() and _ASTRAL_RE.search(s) else s


def _bad_char_rule(ch: str, position: int) -> str:
    at = f"（第 {position} 个字符）"
    if ch == "\t":
        return f"不能包含制表符{at}，请改用空格"
    if ch in _LINE_BREAKS:
        return f"不能换行{at}，请写在一行内"
    if _SURROGATE_RE.match(ch):
        return f"含有无法保存的残缺字符{at}，请删除后重新输入"
    if _BIDI_RE.match(ch):
        return f"含有改变文字方向的隐藏字符{at}，请删除后重试"
    if 0xFDD0 <= ord(ch) <= 0xFDEF or ord(ch) & 0xFFFE == 0xFFFE:
        return f"含有无效字符{at}，请删除后重试"
    return f"含有不可打印的控制字符{at}，请删除后重试"


def _trimmed_and_checked(value: str, field: str, multiline: bool) -> str:
    """``value`` trimmed at both ends, or the error naming its first forbidden character (counted as typed)."""
    core = value.strip(_EDGE)
    bad = _first_bad(core, multiline)
    if bad is not None:
        offset = len(value) - len(value.lstrip(_EDGE))
        raise ValidationError(field, _bad_char_rule(bad.group(), offset + bad.start() + 1))
    return core


def free_text(value: str | None, field: str, *, max_len: int, multiline: bool = False, required: bool = True,
              min_len: int = 1) -> str:
    """The one rule for a text a person types (a reason, a result, an opinion, a note, an address, a name of a
    place or an office …); returns the text as it is stored, or raises :class:`ValidationError` naming ``field``
    (its on-screen label) and the rule.

    - Refused anywhere: control characters, lone surrogates, noncharacters, bidi overrides (see above) — the
      message gives the position of the first one, counted in the text as typed.
    - ``multiline``: tab and line breaks are allowed (``\\r\\n``, ``\\r``, VT, FF, U+2028/2029 become ``\\n``;
      spaces at line ends are dropped). Otherwise a tab or an inner line break is refused (a line break pasted
      at either end is trimmed), and every run of spaces — ideographic and no-break ones too — becomes one
      ASCII space.
    - NFC (a decomposed "é" typed on one PC equals the composed one of another), trimmed at both ends.
    - Length in characters after all that: at most ``max_len``; at least ``min_len`` unless the field is
      optional (``required=False``) and left empty, which gives ``""``.

    Idempotent: ``free_text(free_text(x)) == free_text(x)``.
    """
    if value is None:
        value = ""
    elif not isinstance(value, str):
        raise ValidationError(field, "应为文字")
    s = _trimmed_and_checked(value, field, multiline)
    if multiline:
        if not s.isascii():
            s = unicodedata.normalize("NFC", _BREAK_RE.sub("\n", s))
        elif "\r" in s or "\x0b" in s or "\x0c" in s:
            s = _BREAK_RE.sub("\n", s)
        if "\n" in s:
            s = "\n".join(line.rstrip(_LINE_END) for line in s.split("\n")).strip(_EDGE)
    elif not s.isascii():
        s = _INLINE_SPACES_RE.sub(" ", unicodedata.normalize("NFC", s)).strip(" ")
    elif "  " in s:
        s = _INLINE_SPACES_RE.sub(" ", s)
    n = len(s)
    if n == 0:
        if required:
            raise ValidationError(field, "不能为空")
        return ""
    if n < min_len:
        raise ValidationError(field, f"至少{min_len}个字（现为{n}个字）")
    if n > max_len:
        raise ValidationError(field, f"不能超过{max_len}个字（现为{n}个字）")
    return s


def parse_key(value: str | None, field: str, *, max_len: int = 40) -> str:
    """A code a person types or scans to name a record (ticket number, staff number, window or intake point
    code, item code, complaint number): the free-text rule on one line, then NFKC, so full-width digits and
    letters from a Chinese IME name the same record as ASCII ones."""
    s = free_text(value, field, max_len=max_len)
    if s.isascii():
        return s
    return free_text(unicodedata.normalize("NFKC", s), field, max_len=max_len)


def search_text(value: str | None, max_len: int = 60) -> str:
    """What a search box holds, made safe to look up: never raises (a search runs on every keystroke and a
    bad character only finds nothing). Forbidden characters become spaces, spaces are collapsed, the ends
    trimmed and the text cut at ``max_len``."""
    if not isinstance(value, str):
        return ""
    s = _drop_bad(value[:max_len * 4], " ")  # a pasted page: only its start can matter
    if not s.isascii():
        s = unicodedata.normalize("NFC", s)
    return _INLINE_SPACES_RE.sub(" ", s).strip(" ")[:max_len].rstrip(" ")


def has_forbidden_chars(value: str) -> bool:
    """True when ``value`` holds a character no single-line text may hold (control, surrogate, bidi override …)."""
    return _first_bad(value) is not None


def shown(value: object, limit: int = 20) -> str:
    """A value a person gave, fit to be quoted in a message: forbidden characters dropped, at most ``limit``
    characters (a message must never carry a pasted page, or a character the log file cannot encode)."""
    text = value if isinstance(value, str) else str(value)
    s = _INLINE_SPACES_RE.sub(" ", _drop_bad(text[:limit * 4], "")).strip()
    return s if len(s) <= limit else s[:limit] + "…"


def _char_shown(c: str) -> str:
    """One offending character for a message: itself when visible, else its code point (U+202E)."""
    if _first_bad(c) is not None or not c.isprintable():
        return f"U+{ord(c):04X}"
    return c


# --- 姓名 --------------------------------------------------------------------------------------------

# Han ideographs incl. extensions A–I and compatibility forms, 〇, and the private-use area where public
# security bureaus encode rare name characters (生僻字) not yet in Unicode. Latin letters incl. accents.
_NAME_LETTER = (
    "\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\ue000-\uf8ff\U00020000-\U000323af"
    "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f"
)
_NAME_RE = re.compile(rf"[{_NAME_LETTER}]+(?:[·\- '][{_NAME_LETTER}]+)*")
_NAME_CHAR_RE = re.compile(rf"[{_NAME_LETTER}·\- ']")
# Look-alikes people type for the interpunct of minority and foreign names; full-width Latin letters
# from a Chinese IME. (No NFKC here: it would rewrite CJK compatibility ideographs used in real names.)
_NAME_FOLD = str.maketrans(
    {**dict.fromkeys("•・･‧∙⋅．", "·"), **{chr(c + 0xFEE0): chr(c) for c in range(0x41, 0x7B) if chr(c).isalpha()}}
)
_SPACES_RE = re.compile(r"[ \u3000]+")
_AROUND_DOT_RE = re.compile(r" ?· ?")


def parse_person_name(text: str, field: str = "姓名", max_len: int = 40) -> str:
    """Validate a person's name: Chinese or Latin letters, "·" between parts, single spaces inside."""
    if text is not None and not isinstance(text, str):
        raise ValidationError(field, "应为文字")
    s = _trimmed_and_checked(text or "", field, multiline=False)  # the free-text rule's characters
    if not s:
        raise ValidationError(field, "不能为空")
    s = s.translate(_NAME_FOLD)
    if " " in s or "\u3000" in s:
        s = _AROUND_DOT_RE.sub("·", _SPACES_RE.sub(" ", s))
    if len(s) > max_len:
        raise ValidationError(field, f"不能超过{max_len}个字（现为{len(s)}个字）")
    if _NAME_RE.fullmatch(s):
        return s
    for c in s:
        if not _NAME_CHAR_RE.match(c):
            if c.isdigit():
                raise ValidationError(field, "不能包含数字")
            raise ValidationError(field, f"含有不允许的字符“{_char_shown(c)}”（可用汉字、字母和间隔号“·”）")
    raise ValidationError(field, "间隔号“·”、空格或连字符只能用在名字中间，且不能连用")


# --- age -------------------------------------------------------------------------------------------


def age_on(birth: date, on: date) -> int:
    """Full years (周岁) on ``on``, reckoned as Chinese law does.

    The birth day itself is not counted (民法典 §201; 最高法 reading of 周岁: "从周岁生日的第二天起算"), so a
    person is N full years old from the day *after* the N-th birthday. Someone born on 29 February turns
    N on 1 March (the anniversary falls on the month's last day, §202). This errs toward protection for
    minors.
    """
    if on < birth:
        raise ValueError("age_on: date before birth")
    years = on.year - birth.year
    if (on.month, on.day) <= (birth.month, birth.day):
        years -= 1
    return max(years, 0)


def is_minor_under_14(birth: date, on: date | None = None) -> bool:
    """True while the person is not yet 14 full years old (masking rule of domain-rules.md §6)."""
    on = on or date.today()
    return on < birth or age_on(birth, on) < 14
