"""Refuse to print a public sheet that carries an unmasked ID number or mobile phone (PIPL §25, §51).

Masking is done before data reaches the print layer; this is the second lock on the door. The scan is the masking
service's own (``find_personal_identifiers``): what it refuses is exactly what ``mask_free_text`` masks.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Iterator

from hall.errors import HallError
from hall.services.base.masking import find_personal_identifiers, find_unmasked_identifiers


class UnmaskedIdentifierError(HallError):
    def __init__(self, where: str, found: list[str]) -> None:
        shown = "、".join(_hint(f) for f in found[:3])
        super().__init__(f"{where}：含有未遮蔽的身份证号或手机号（{shown}），公示材料不得公开个人信息，已拒绝打印")
        self.found = found


def _hint(value: str) -> str:
    # Never echo the full identifier in an error message either.
    return value[:3] + "…" + value[-2:]


def own_findings(text: str) -> list[str]:
    """The identifiers in ``text`` (the masking service's one scanner, see :func:`find_unmasked`)."""
    return find_personal_identifiers(text)


def find_unmasked(text: str) -> list[str]:
    """Every unmasked identifier in ``text``: full or typo'd ID numbers (18 and 15 digits), mobiles, bank-card-like
    runs — :func:`hall.services.base.masking.find_personal_identifiers`, the same scanner whose spans
    :func:`~hall.services.base.masking.mask_free_text` masks, so masked free text always passes."""
    found = find_personal_identifiers(text)
    for hit in find_unmasked_identifiers(text):  # a subset of the above; kept as a second opinion
        if hit not in found:
            found.append(hit)
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
