"""Masking of personal data by audience (domain-rules.md §6; 个人信息保护法 §25/§51, GB/T 35273).

Screens, papers and exports ask :func:`mask_for` what they may show; the print and export tests scan
their output with :func:`find_unmasked_identifiers`. Functions take what the validators return (ID
numbers of 18 characters, normalised phones) but never fail on odd input: when in doubt, hide more.
"""

from __future__ import annotations

import re
from datetime import date
from enum import Enum, StrEnum

from hall.errors import ValidationError
from hall.services.base.validators import id_check_char, parse_phone


class Audience(Enum):
    """Who will see the value (the columns of the §6 table)."""

    CLERK = "clerk"  # counter screen
    RECEIPT = "receipt"  # paper handed to the applicant
    PUBLIC = "public"  # public notice, exported list
    STATISTICS = "statistics"  # dashboard, statistics


class FieldKind(StrEnum):
    """Which personal field a value is (the rows of the §6 table)."""

    NAME = "name"
    ID_NUMBER = "id_number"
    PHONE = "phone"
    ADDRESS = "address"


# Two-character surnames (复姓) still in use; the whole surname stays visible when masking.
_COMPOUND_SURNAMES_TEXT = (
    "欧阳 司马 诸葛 上官 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 夏侯 轩辕 令狐 钟离 端木 独孤 南宫 西门 "
    "司空 闻人 万俟 澹台 公冶 宗政 濮阳 太史 申屠 呼延 百里 东郭 赫连 拓跋 公羊 鲜于 闾丘 左丘 梁丘 "
    "仲孙 太叔 乐正 漆雕 谷梁 羊舌 微生 子车 巫马 公西 颛孙 壤驷 公良 宰父 段干 南门 第五 即墨 "
    "司寇 亓官 达奚 褚师 东门 公户 公玉 公仪 公仲 公上 公门 公山 公坚 公伯 公祖 公乘 贯丘 公皙 "
    "南荣 东里 东宫 仲长 子书 子桑 单于 夹谷 相里 北宫"
)
COMPOUND_SURNAMES: frozenset[str] = frozenset(_COMPOUND_SURNAMES_TEXT.split())

_NAME_SEPARATORS = frozenset("· -'")


def mask_name(name: str) -> str:
    """张三→张*, 张三丰→张*丰, 欧阳娜娜→欧阳**, 阿依古丽·买买提→阿***·**提."""
    s = (name or "").strip()
    n = len(s)
    if n <= 1:
        return "*" * n
    if any(c in _NAME_SEPARATORS for c in s):
        # Minority and foreign names: first and last letter stay, separators keep the shape.
        return s[0] + "".join(c if c in _NAME_SEPARATORS else "*" for c in s[1:-1]) + s[-1]
    if n == 2:
        return s[0] + "*"
    if s[:2] in COMPOUND_SURNAMES:
        return s[:2] + "*" * (n - 2)
    return s[0] + "*" * (n - 2) + s[-1]


def _mask_id(number: str, keep_head: int) -> str:
    s = (number or "").strip()
    if len(s) == 18:
        return s[:keep_head] + "*" * (14 - keep_head) + s[-4:]
    # Legacy or malformed: its birth date runs closer to the end, so show one character less.
    if len(s) > keep_head + 3 + 4:
        return s[:keep_head] + "*" * (len(s) - keep_head - 3) + s[-3:]
    return "*" * len(s)


def mask_id_for_clerk(number: str) -> str:
    """320102********1234 — area code and last four; the birth date is hidden."""
    return _mask_id(number, 6)


def mask_id_for_receipt(number: str) -> str:
    """3201**********1234 — only city and last four."""
    return _mask_id(number, 4)


def _mask_tail4(s: str) -> str:
    return "*" * max(len(s) - 4, 0) + s[-4:] if len(s) > 4 else "*" * len(s)


def mask_phone(phone: str) -> str:
    """138****5678 for a mobile; 0512-****1234 for a landline (area code and last four, no extension)."""
    s = (phone or "").strip()
    if not s:
        return ""
    try:
        p = parse_phone(s)
    except ValidationError:
        return _mask_tail4(s)
    if "-" not in p:
        return p[:3] + "****" + p[-4:]
    area, local = p.split("-", 1)
    local = local.split("转", 1)[0]
    return f"{area}-{_mask_tail4(local)}"


_VILLAGE_RE = re.compile(
    # Greedy prefix up to the last administrative unit above the village, then the village (shortest
    # name ending in a village suffix), then an optional group. House numbers after it are dropped.
    r"(?:.*(?:省|自治区|市|自治州|州|盟|地区|县|旗|区|镇|乡|街道|苏木|办事处))?"
    r"(?P<village>[^\s,，;；]{1,20}?(?:村民委员会|居民委员会|村委会|居委会|社区|嘎查|村))"
    # "中关村大街" is a street named after a village, not a village.
    r"(?![^\s,，;；]{0,3}?(?:街|路|道|巷|胡同|弄))"
    r"(?P<group>第?[0-9０-９一二三四五六七八九十百零〇两]{1,4}(?:村民小组|小组|组|队|社|屯))?"
)


def village_only(address: str | None) -> str | None:
    """The village (or community) and group of an address, e.g. "张家村3组"; ``None`` when none is found.

    ``None`` means "show nothing": an address we cannot cut safely is not printed at all.
    """
    s = (address or "").strip()[:200]
    m = _VILLAGE_RE.match(s)
    if not m:
        return None
    return m.group("village") + (m.group("group") or "")


def mask_for(
    audience: Audience,
    field_kind: FieldKind | str,
    value: str | None,
    *,
    minor_under_14: bool = False,
    statutory_notice: bool = False,
) -> str | None:
    """What ``audience`` may see of ``value`` (the §6 default table); ``None`` means omit it entirely.

    ``minor_under_14``: the person is a child under 14 — omitted from public and statistical outputs.
    ``statutory_notice``: a statutory 公示 requires the full name on a public notice.
    """
    if value is None:
        return None
    kind = FieldKind(field_kind)
    if minor_under_14 and audience in (Audience.PUBLIC, Audience.STATISTICS):
        return None
    if audience is Audience.CLERK:
        return mask_id_for_clerk(value) if kind is FieldKind.ID_NUMBER else value
    if audience is Audience.RECEIPT:
        if kind is FieldKind.NAME:
            return value
        if kind is FieldKind.ID_NUMBER:
            return mask_id_for_receipt(value)
        if kind is FieldKind.PHONE:
            return mask_phone(value)
        return village_only(value)
    if kind is FieldKind.NAME:
        return value if statutory_notice and audience is Audience.PUBLIC else mask_name(value)
    if kind is FieldKind.ADDRESS and audience is Audience.PUBLIC:
        return village_only(value)
    return None  # ID numbers and phones never leave for public or statistics; addresses not in statistics


_ID_SCAN_RE = re.compile(r"(?<![0-9])([0-9]{6}) ?([0-9]{8}) ?([0-9]{3})([0-9Xx])(?![0-9])")
_MOBILE_SCAN_RE = re.compile(r"(?<![0-9])1[3-9][0-9](?:[ -]?[0-9]{4}){2}(?![0-9])")


def find_unmasked_identifiers(text: str) -> list[str]:
    """Full ID numbers (with a valid check character) and mobile numbers present in ``text``.

    IDs may be written plain or grouped 6-8-4 with spaces; mobiles plain or grouped 3-4-4. Returns the
    matches as written, in order. Empty for a correctly masked output.
    """
    found: list[tuple[int, str]] = []
    for m in _ID_SCAN_RE.finditer(text):
        first17 = m.group(1) + m.group(2) + m.group(3)
        if id_check_char(first17) == m.group(4).upper():
            found.append((m.start(), m.group(0)))
    for m in _MOBILE_SCAN_RE.finditer(text):
        found.append((m.start(), m.group(0)))
    found.sort()
    return [s for _, s in found]


# ------------------------------------------------------------------------------------ identifiers in free text
# One scanner for the identifiers a person may type into free text (a 办结 result, a reason, a note, a complaint):
# :func:`find_personal_identifiers` is what the public-sheet guard (hall.print.guard) and the workbook guard
# (hall.exchange.pii_guard) refuse, and :func:`mask_free_text` masks at least every span it reports — so text that
# went through the masker always passes the guards. It errs on the side of hiding: an 18-character number with a
# wrong check character but a plausible birth date is still somebody's (a typo), and a long run of digits may be
# a bank card. Digits may be grouped with spaces or hyphens as people write them.
_SEP = "[ -]?"
_FREE_ID18 = re.compile(rf"(?<![0-9])([0-9]{{6}}){_SEP}([0-9]{{8}}){_SEP}([0-9]{{3}}[0-9Xx])(?![0-9])")
_FREE_ID15 = re.compile(r"(?<![0-9])[0-9]{15}(?![0-9])")
_FREE_MOBILE = re.compile(r"(?<![0-9+])(?:\+?86[ -]?)?(1[3-9][0-9])[ -]?([0-9]{4})[ -]?([0-9]{4})(?![0-9])")
_FREE_LANDLINE = re.compile(r"(?<![0-9])[(（]?(0[1-9][0-9]{1,2})[)）]?[ -]?([2-9][0-9]{6,7})(?![0-9])")
# Bank cards (银联 16–19 digits): one run, or groups of four (the last group 1–4) as printed on the card.
_FREE_CARD = re.compile(r"(?<![0-9-])(?:[0-9]{16,19}|[0-9]{4}(?:[ -][0-9]{4}){3}(?:[ -][0-9]{1,3})?)"
                        r"(?![0-9-])")


def _plausible_birth(yyyymmdd: str) -> bool:
    try:
        year, month, day = int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8])
        date(year, month, day)
    except ValueError:
        return False
    return 1850 <= year <= 2100


def _id_suspect(first17: str, check: str) -> bool:
    return id_check_char(first17) == check.upper() or _plausible_birth(first17[6:14])


def _spans(text: str, *, landlines: bool) -> list[tuple[int, int, str]]:
    """(start, end, kind) of every identifier in ``text``, overlaps resolved for the longest, in order."""
    found: list[tuple[int, int, str]] = []
    for m in _FREE_ID18.finditer(text):
        if _id_suspect(m.group(1) + m.group(2) + m.group(3)[:3], m.group(3)[3]):
            found.append((m.start(), m.end(), "id"))
    for m in _FREE_ID15.finditer(text):
        if _plausible_birth("19" + m.group(0)[6:12]):
            found.append((m.start(), m.end(), "id15"))
    found += [(m.start(), m.end(), "mobile") for m in _FREE_MOBILE.finditer(text)]
    found += [(m.start(), m.end(), "card") for m in _FREE_CARD.finditer(text)]
    if landlines:
        found += [(m.start(), m.end(), "landline") for m in _FREE_LANDLINE.finditer(text)]
    found.sort(key=lambda s: (s[0], -(s[1] - s[0])))
    kept: list[tuple[int, int, str]] = []
    for span in found:
        if not kept or span[0] >= kept[-1][1]:
            kept.append(span)
    return kept


def find_personal_identifiers(text: str) -> list[str]:
    """Every full ID number (18 or 15 digits), mobile number and bank-card-like digit run in ``text``, as written.

    The guards' one test of "does this output leak a personal identifier": empty for masked output. Landlines are
    not reported (a hall's own service phone is one, and belongs on a public notice); :func:`mask_free_text`
    masks them in free text all the same."""
    if not any(c.isdigit() for c in text):
        return []
    return [text[a:b] for a, b, _kind in _spans(text, landlines=False)]


def _mask_span(value: str, kind: str) -> str:
    digits = re.sub(r"[^0-9Xx]", "", value)
    if kind in ("id", "id15"):
        return mask_id_for_receipt(digits)
    if kind == "mobile":
        return mask_phone(digits[-11:])
    if kind == "landline":
        return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]  # 051****1234: no local number left
    return "*" * (len(digits) - 4) + digits[-4:]  # a card: its last four, as banks print it


def mask_free_text(text: str | None) -> str:
    """``text`` with every ID number, mobile, landline and bank-card-like number in it masked (3201**********1234,
    138****5678, 051*****1234, ***************1234). For free text on every output that masks: workbooks, the
    masked ledger, public notices, masked papers, the command line's reports."""
    if not text:
        return text or ""
    # Masking one number can expose another that ran into it ("…05120512-66881234": the ID's last four, then a
    # landline): passes until nothing changes. Each pass hides digits, so this ends, in two passes at most in practice.
    for _ in range(8):
        masked = _mask_pass(text)
        if masked == text:
            break
        text = masked
    return text


def _mask_pass(text: str) -> str:
    if not any(c.isdigit() for c in text):  # the common case: a result or reason without any number
        return text
    spans = _spans(text, landlines=True)
    if not spans:
        return text
    out, pos = [], 0
    for a, b, kind in spans:
        out += [text[pos:a], _mask_span(text[a:b], kind)]
        pos = b
    out.append(text[pos:])
    return "".join(out)
