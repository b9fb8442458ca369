"""Refuse to print a public sheet that carries an unmasked ID number or mobile phone (PIPL §25, §51).

Masking is done before data reaches the print layer; this is the second lock on the door. The scan uses
``hall.services.base.masking.find_unmasked_identifiers`` when that module exists, and its own patterns as well,
so a sheet is refused if either finds something.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Iterator
from datetime import date

from hall.errors import HallError
from hall.services.base.masking import find_unmasked_identifiers

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"

# 18-character ID (17 digits + digit/X), 15-digit legacy ID, 11-digit mainland mobile; not inside a longer
# run of digits/letters (ticket numbers use hyphens, so they never match).
_ID18 = re.compile(r"(?<![0-9A-Za-z])(\d{17}[\dXx])(?![0-9A-Za-z])")
_ID15 = re.compile(r"(?<![0-9A-Za-z])(\d{15})(?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<![0-9A-Za-z])(?:\+?86[- ]?)?(1[3-9]\d[- ]?\d{4}[- ]?\d{4})(?![0-9A-Za-z])")


class UnmaskedIdentifierError(HallError):
    def __init__(self, where: str, found: list[str]) -> None:
        shown = "、".join(_hint(f) for f in found[:3])
        super().__init__(f"{where}：含有未遮蔽的身份证号或手机号（{shown}），公示材料不得公开个人信息，已拒绝打印")
        self.found = found


def _hint(value: str) -> str:
    # Never echo the full identifier in an error message either.
    return value[:3] + "…" + value[-2:]


def _plausible_birth(yyyymmdd: str) -> bool:
    try:
        born = date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8]))
    except ValueError:
        return False
    return 1850 <= born.year <= 2100


def _id18_suspect(value: str) -> bool:
    digits = value.upper()
    total = sum(int(d) * w for d, w in zip(digits[:17], _WEIGHTS, strict=True))
    # A valid check character, or a plausible birth date: a typo in the check digit is still personal.
    return _CHECK[total % 11] == digits[17] or _plausible_birth(digits[6:14])


def own_findings(text: str) -> list[str]:
    found = [m.group(1) for m in _ID18.finditer(text) if _id18_suspect(m.group(1))]
    found += [m.group(1) for m in _ID15.finditer(text) if _plausible_birth("19" + m.group(1)[6:12])]
    found += [m.group(1) for m in _MOBILE.finditer(text)]
    return found


def find_unmasked(text: str) -> list[str]:
    """Every unmasked identifier in ``text`` (ours plus the masking service's, when present)."""
    found = own_findings(text)
    for hit in find_unmasked_identifiers(text):
        value = hit if isinstance(hit, str) else getattr(hit, "value", None) or str(hit)
        if value not in found:
            found.append(value)
    return found


def iter_strings(obj: object) -> Iterator[str]:
    """All strings inside a dataclass / tuple / list / dict tree (what a renderer may draw)."""
    out: list[str] = []
    _collect(obj, out)
    return iter(out)


_FIELDS: dict[type, tuple[str, ...]] = {}


def _collect(obj: object, out: list[str]) -> None:
    # A plain recursive walk appending to one list: nested generators cost a frame per level and string.
    if isinstance(obj, str):
        out.append(obj)
    elif isinstance(obj, (list, tuple, set, frozenset)):
        for x in obj:
            _collect(x, out)
    elif isinstance(obj, dict):
        for k, v in obj.items():
            _collect(k, out)
            _collect(v, out)
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        names = _FIELDS.get(type(obj))
        if names is None:
            names = _FIELDS[type(obj)] = tuple(f.name for f in dataclasses.fields(obj))
        for name in names:
            _collect(getattr(obj, name), out)


def check_public(where: str, *data: object, allowed: Iterable[str] = ()) -> None:
    """Raise :class:`UnmaskedIdentifierError` if any string in ``data`` carries an identifier.

    ``allowed`` lists public numbers that may look like a mobile (the hall's own service line).
    """
    allow = {re.sub(r"[- +]", "", a) for a in allowed if a}
    # One scan over all strings joined by newlines: no pattern matches across a newline (they allow only
    # digits, spaces and hyphens inside a number, and a newline is a boundary), so this finds exactly what a
    # scan per string would, at a fraction of the calls for a 76-item booklet.
    text = "\n".join(s for d in data for s in iter_strings(d))
    found = [f for f in find_unmasked(text) if re.sub(r"[- +]", "", f) not in allow]
    if found:
        raise UnmaskedIdentifierError(where, found)


def check_ticket_masked(ticket: object) -> None:
    """A receipt carries the applicant's ID/phone only in masked form (§6: 3201**********1234, 138****5678)."""
    fields = ("applicant_id_masked", "applicant_phone_masked", "agent_id_masked", "agent_phone_masked")
    bad = [getattr(ticket, f) for f in fields if getattr(ticket, f, "") and find_unmasked(getattr(ticket, f))]
    if bad:
        raise UnmaskedIdentifierError("办件文书", bad)
