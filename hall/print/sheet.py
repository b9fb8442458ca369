"""The abstract content of one paper sheet, laid out by the A4 and the 80 mm roll renderers alike.

A paper (受理通知书 …) is a list of sheets; each sheet has a title, a salutation, statements, label/value
fields, tables or text sections, signature lines and (for the hall's own papers) a seal area.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class TableSection:
    heading: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    widths: tuple[float, ...]  # relative column widths
    empty_text: str = "（无）"


@dataclass(frozen=True)
class TextSection:
    heading: str
    lines: tuple[str, ...]
    numbered: bool = False


Section = TableSection | TextSection


@dataclass(frozen=True)
class Sheet:
    title: str
    number: str  # ticket number, printed as text and as a QR code
    recipient: str = ""  # salutation line ("张三：")
    statements: tuple[str, ...] = ()
    fields: tuple[tuple[str, str], ...] = ()
    sections: tuple[Section, ...] = ()
    notes: tuple[str, ...] = ()  # 注意事项, small print after the sections
    signatures: tuple[str, ...] = ()
    seal: bool = True
    copy_label: str = ""  # 第一联（申请人留存）…
    extra: dict[str, str] = field(default_factory=dict)
