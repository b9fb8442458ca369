"""The catalogue as plain data, and the one validator every source goes through (TSV, Excel, events).

A source gives *sheets of rows* (header → cell text); ``parse_sheets`` checks every cell and lists every
problem by sheet, row and column before anything is written.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from hall.errors import ValidationError, ValidationErrors
from hall.services.base.validators import free_text, search_text, shown

KIND_LABELS = {"explain": "解释件", "immediate": "即办件", "promised": "承诺件", "proxy": "代办件", "joint": "联办件"}
KIND_BY_LABEL = {v: k for k, v in KIND_LABELS.items()}
UNIT_LABELS = {"workday": "工作日", "day": "日"}
UNIT_BY_LABEL = {v: k for k, v in UNIT_LABELS.items()}
FORMS = ("原件", "复印件", "原件及复印件")
YES, NO = "是", "否"

SHEET_WINDOWS, SHEET_ITEMS, SHEET_MATERIALS = "窗口", "事项", "材料"
MAX_ROWS = 5000  # a township catalogue has dozens of items; more is a wrong or hostile file
MAX_CELL = 2000

# (key, header) per sheet, in column order; the header is what an administrator sees in Excel and the TSV files.
WINDOW_COLUMNS = (
    ("code", "窗口编码"), ("name", "窗口名称"), ("sort_order", "排序"), ("phone", "咨询电话"),
)
ITEM_COLUMNS = (
    ("code", "事项编码"), ("name", "事项名称"), ("aliases", "简称"), ("window_code", "窗口"),
    ("default_kind", "办件类型"),
    ("statutory_limit", "法定时限"), ("promised_limit", "承诺时限"), ("limit_unit", "时限单位"),
    ("statutory_anchored", "法定时限有据"), ("restart_on_supplement", "补正后重新计时"),
    ("departments", "办理部门"), ("conditions", "受理条件"), ("procedure", "办理流程"), ("fee", "收费标准"),
    ("policy_basis", "政策依据"), ("retention", "保管期限"), ("follow_up_days", "办结后回访天数"), ("note", "备注"),
    ("fee_yuan", "收费金额（元）"), ("prerequisite", "前置事项"),
)
# Columns added after release 1: a workbook or TSV without them still imports (免费, no prerequisite).
OPTIONAL_HEADERS = frozenset({"收费金额（元）", "前置事项"})
MAX_FEE_CENTS = 10_000_000  # ¥100,000 per ticket: more is a typing error, not a township fee
MATERIAL_COLUMNS = (
    ("item_code", "事项编码"), ("seq", "序号"), ("name", "材料名称"), ("form", "形式"), ("count", "份数"),
    ("issuer", "出具单位"), ("tolerable", "可容缺"),
)
SHEETS = {SHEET_WINDOWS: WINDOW_COLUMNS, SHEET_ITEMS: ITEM_COLUMNS, SHEET_MATERIALS: MATERIAL_COLUMNS}
LIST_SEP, STEP_SEP = "；", "→"


@dataclass(frozen=True)
class WindowSpec:
    code: str
    name: str
    sort_order: int = 0
    phone: str = ""


@dataclass(frozen=True)
class MaterialSpec:
    name: str
    form: str = "原件"
    count: int = 1
    issuer: str = ""
    tolerable: bool = False


@dataclass(frozen=True)
class ItemSpec:
    code: str
    name: str
    window_code: str
    default_kind: str
    statutory_limit: int
    promised_limit: int
    limit_unit: str
    statutory_anchored: bool = False
    restart_on_supplement: bool = True
    departments: tuple[str, ...] = ()
    conditions: str = ""
    procedure: tuple[str, ...] = ()
    fee: str = ""
    policy_basis: str = ""
    retention: str = "10年"
    follow_up_days: int = 0
    note: str = ""
    aliases: tuple[str, ...] = ()
    materials: tuple[MaterialSpec, ...] = field(default_factory=tuple)
    fee_cents: int = 0  # the amount charged per ticket (一次性收费); 0: 免费
    prerequisite: str = ""  # 先照后证: the item whose closed ticket the same applicant needs first


@dataclass(frozen=True)
class CatalogSpec:
    windows: tuple[WindowSpec, ...]
    items: tuple[ItemSpec, ...]

    def to_json(self) -> dict[str, Any]:
        return {"windows": [asdict(w) for w in self.windows], "items": [asdict(i) for i in self.items]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CatalogSpec:
        items = []
        for raw in data["items"]:
            raw = dict(raw)
            raw["materials"] = tuple(MaterialSpec(**m) for m in raw["materials"])
            raw["departments"] = tuple(raw["departments"])
            raw["procedure"] = tuple(raw["procedure"])
            raw["aliases"] = tuple(raw.get("aliases", ()))
            items.append(ItemSpec(**raw))
        return cls(tuple(WindowSpec(**w) for w in data["windows"]), tuple(items))

    def content_hash(self) -> str:
        text = json.dumps(self.to_json(), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    # Sheets of display text: the inverse of parse_sheets, so export → import is lossless.
    def to_sheets(self) -> dict[str, list[dict[str, str]]]:
        windows = [{"code": w.code, "name": w.name, "sort_order": str(w.sort_order), "phone": w.phone}
                   for w in self.windows]
        items, materials = [], []
        for it in self.items:
            items.append({
                "code": it.code, "name": it.name, "aliases": LIST_SEP.join(it.aliases),
                "window_code": it.window_code,
                "default_kind": KIND_LABELS[it.default_kind], "statutory_limit": str(it.statutory_limit),
                "promised_limit": str(it.promised_limit), "limit_unit": UNIT_LABELS[it.limit_unit],
                "statutory_anchored": YES if it.statutory_anchored else NO,
                "restart_on_supplement": YES if it.restart_on_supplement else NO,
                "departments": LIST_SEP.join(it.departments), "conditions": it.conditions,
                "procedure": STEP_SEP.join(it.procedure), "fee": it.fee, "policy_basis": it.policy_basis,
                "retention": it.retention, "follow_up_days": str(it.follow_up_days), "note": it.note,
                "fee_yuan": fee_text(it.fee_cents), "prerequisite": it.prerequisite,
            })
            for seq, m in enumerate(it.materials, 1):
                materials.append({
                    "item_code": it.code, "seq": str(seq), "name": m.name, "form": m.form, "count": str(m.count),
                    "issuer": m.issuer, "tolerable": YES if m.tolerable else NO,
                })
        return {SHEET_WINDOWS: windows, SHEET_ITEMS: items, SHEET_MATERIALS: materials}


class _Problems:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, sheet: str, row: int | None, header: str | None, rule: str) -> None:
        where = f"工作表“{sheet}”"
        if row is not None:
            where += f"第{row}行"
        if header:
            where += f"“{header}”列"
        self.items.append(f"{where}：{rule}")


# Cells printed as paragraphs (the item notice's 受理条件, 收费标准, 政策依据, 备注): line breaks allowed.
MULTILINE_HEADERS = frozenset({"受理条件", "收费标准", "政策依据", "备注"})


def _text(p: _Problems, sheet: str, row: int, header: str, value: str, *, required: bool = False,
          max_len: int = MAX_CELL) -> str:
    """A text cell under the free-text rule (hall.services.base.validators.free_text); a problem is listed, and the
    cell read as blank, so every problem of the workbook is reported at once."""
    try:
        value = free_text(value, header, max_len=max_len, multiline=header in MULTILINE_HEADERS,
                          required=required)
    except ValidationError as exc:
        too_long = re.search(r"现为(\d+)个字", exc.rule) if exc.rule.startswith("不能超过") else None
        p.add(sheet, row, header, f"内容过长（{too_long.group(1)}字，最多{max_len}字）" if too_long else exc.rule)
        return search_text(value, max_len)  # what the later messages may quote
    if value.startswith("="):
        p.add(sheet, row, header, "不能是公式，请填写数值或文字")
    return value


def _int(p: _Problems, sheet: str, row: int, header: str, value: str, lo: int, hi: int) -> int:
    value = (value or "").strip()
    try:
        number = int(float(value)) if value and float(value) == int(float(value)) else int(value)
    except ValueError:
        p.add(sheet, row, header, f"应为{lo}到{hi}之间的整数，实为“{shown(value)}”")
        return lo
    if not lo <= number <= hi:
        p.add(sheet, row, header, f"应在{lo}到{hi}之间，实为{number}")
    return number


def _bool(p: _Problems, sheet: str, row: int, header: str, value: str) -> bool:
    value = (value or "").strip()
    if value not in (YES, NO):
        p.add(sheet, row, header, f"应填“是”或“否”，实为“{shown(value)}”")
    return value == YES


def _choice(p: _Problems, sheet: str, row: int, header: str, value: str, table: dict[str, str]) -> str:
    value = (value or "").strip()
    if value in table:
        return table[value]
    if value in table.values():
        return value
    p.add(sheet, row, header, f"应为{'、'.join(table)}之一，实为“{shown(value)}”")
    return next(iter(table.values()))


def fee_text(cents: int) -> str:
    """An amount in 分 as the catalogue and the papers write it: "" for none, "20" or "12.50" (元)."""
    if not cents:
        return ""
    yuan, fen = divmod(int(cents), 100)
    return f"{yuan}" if not fen else f"{yuan}.{fen:02d}"


def parse_fee(value: str, field: str = "收费金额（元）") -> int:
    """Yuan as typed ("20", "12.5", "12.50", "￥20") → 分; blank → 0 (免费). Never through float: 0.1 + 0.2."""
    text = (value or "").strip().replace("￥", "").replace("¥", "").replace("元", "").strip()
    if not text:
        return 0
    m = re.fullmatch(r"(\d{1,7})(?:\.(\d{1,2}))?", text)
    if m is None:
        raise ValidationError(field, f"应为金额（元，最多两位小数），实为“{shown(value)}”")
    cents = int(m.group(1)) * 100 + int((m.group(2) or "0").ljust(2, "0"))
    if cents > MAX_FEE_CENTS:
        raise ValidationError(field, f"不能超过{MAX_FEE_CENTS // 100}元")
    return cents


def check_headers(sheets: dict[str, list[str]]) -> list[str]:
    """Missing sheets or columns, by name; extra columns are allowed (an administrator's notes)."""
    problems = _Problems()
    for sheet, columns in SHEETS.items():
        if sheet not in sheets:
            problems.add(sheet, None, None, "缺少该工作表")
            continue
        have = sheets[sheet]
        for _key, header in columns:
            if header not in have and header not in OPTIONAL_HEADERS:
                problems.add(sheet, 1, header, "缺少该列")
        dupes = {h for h in have if h and have.count(h) > 1}
        for header in sorted(dupes):
            problems.add(sheet, 1, header, "列名重复")
    return problems.items


def parse_sheets(sheets: dict[str, list[dict[str, str]]], *, first_data_row: int = 2) -> CatalogSpec:
    """Rows keyed by header text → a validated ``CatalogSpec``; every problem listed, or nothing returned."""
    p = _Problems()
    for sheet, rows in sheets.items():
        if len(rows) > MAX_ROWS:
            p.add(sheet, None, None, f"行数过多（{len(rows)}行，最多{MAX_ROWS}行），请检查文件")
    if p.items:
        raise ValidationErrors(p.items, "事项清单文件有误，未导入")

    windows: list[WindowSpec] = []
    seen_w: set[str] = set()
    for i, row in enumerate(sheets.get(SHEET_WINDOWS, []), first_data_row):
        s = SHEET_WINDOWS
        code = _text(p, s, i, "窗口编码", row.get("窗口编码", ""), required=True, max_len=8)
        if code in seen_w:
            p.add(s, i, "窗口编码", f"窗口编码“{code}”重复")
        seen_w.add(code)
        windows.append(WindowSpec(
            code=code, name=_text(p, s, i, "窗口名称", row.get("窗口名称", ""), required=True, max_len=80),
            sort_order=_int(p, s, i, "排序", row.get("排序", "") or "0", 0, 999),
            phone=_text(p, s, i, "咨询电话", row.get("咨询电话", ""), max_len=40),
        ))
    if not windows:
        p.add(SHEET_WINDOWS, None, None, "至少需要一个窗口")

    materials: dict[str, list[tuple[int, MaterialSpec]]] = {}
    for i, row in enumerate(sheets.get(SHEET_MATERIALS, []), first_data_row):
        s = SHEET_MATERIALS
        code = _text(p, s, i, "事项编码", row.get("事项编码", ""), required=True, max_len=16)
        seq = _int(p, s, i, "序号", row.get("序号", ""), 1, 999)
        materials.setdefault(code, []).append((seq, MaterialSpec(
            name=_text(p, s, i, "材料名称", row.get("材料名称", ""), required=True, max_len=200),
            form=_choice(p, s, i, "形式", row.get("形式", ""), {f: f for f in FORMS}),
            count=_int(p, s, i, "份数", row.get("份数", ""), 1, 99),
            issuer=_text(p, s, i, "出具单位", row.get("出具单位", ""), max_len=80),
            tolerable=_bool(p, s, i, "可容缺", row.get("可容缺", "")),
        )))

    items: list[ItemSpec] = []
    seen_i: dict[str, int] = {}
    prerequisites: dict[int, tuple[str, str]] = {}
    for i, row in enumerate(sheets.get(SHEET_ITEMS, []), first_data_row):
        s = SHEET_ITEMS
        code = _text(p, s, i, "事项编码", row.get("事项编码", ""), required=True, max_len=16)
        if code in seen_i:
            p.add(s, i, "事项编码", f"事项编码“{code}”与第{seen_i[code]}行重复")
        seen_i.setdefault(code, i)
        window = _text(p, s, i, "窗口", row.get("窗口", ""), required=True, max_len=8)
        if window and window not in seen_w:
            p.add(s, i, "窗口", f"窗口“{window}”不在“窗口”工作表中")
        statutory = _int(p, s, i, "法定时限", row.get("法定时限", ""), 0, 3650)
        promised = _int(p, s, i, "承诺时限", row.get("承诺时限", ""), 0, 3650)
        if promised > statutory:
            p.add(s, i, "承诺时限", f"承诺时限（{promised}）不能超过法定时限（{statutory}）")
        kind = _choice(p, s, i, "办件类型", row.get("办件类型", ""), KIND_BY_LABEL)
        if kind in ("promised", "proxy", "joint") and promised == 0:
            p.add(s, i, "承诺时限", f"{KIND_LABELS[kind]}的承诺时限必须大于0")
        departments = tuple(d.strip() for d in _text(p, s, i, "办理部门", row.get("办理部门", "")).split(LIST_SEP)
                            if d.strip())
        if kind in ("proxy", "joint") and not departments:
            p.add(s, i, "办理部门", f"{KIND_LABELS[kind]}必须写明办理部门")
        mats = [m for _seq, m in sorted(materials.pop(code, []), key=lambda t: t[0])]
        fee_cents = 0
        try:
            fee_cents = parse_fee(row.get("收费金额（元）", ""))
        except ValidationError as exc:
            p.add(s, i, "收费金额（元）", exc.rule)
        prerequisite = _text(p, s, i, "前置事项", row.get("前置事项", ""), max_len=16)
        if prerequisite:
            prerequisites[i] = (code, prerequisite)
        items.append(ItemSpec(
            code=code, name=_text(p, s, i, "事项名称", row.get("事项名称", ""), required=True, max_len=120),
            window_code=window, default_kind=kind, statutory_limit=statutory, promised_limit=promised,
            limit_unit=_choice(p, s, i, "时限单位", row.get("时限单位", ""), UNIT_BY_LABEL),
            statutory_anchored=_bool(p, s, i, "法定时限有据", row.get("法定时限有据", "")),
            restart_on_supplement=_bool(p, s, i, "补正后重新计时", row.get("补正后重新计时", "")),
            departments=departments,
            conditions=_text(p, s, i, "受理条件", row.get("受理条件", "")),
            procedure=tuple(x.strip() for x in _text(p, s, i, "办理流程", row.get("办理流程", "")).split(STEP_SEP)
                            if x.strip()),
            fee=_text(p, s, i, "收费标准", row.get("收费标准", "")),
            policy_basis=_text(p, s, i, "政策依据", row.get("政策依据", "")),
            retention=_text(p, s, i, "保管期限", row.get("保管期限", "") or "10年", max_len=20),
            follow_up_days=_int(p, s, i, "办结后回访天数", row.get("办结后回访天数", "") or "0", 0, 365),
            note=_text(p, s, i, "备注", row.get("备注", "")),
            aliases=tuple(a.strip() for a in _text(p, s, i, "简称", row.get("简称", ""), max_len=200).split(LIST_SEP)
                          if a.strip()),
            materials=tuple(mats), fee_cents=fee_cents, prerequisite=prerequisite,
        ))
    for i, (code, needed) in prerequisites.items():  # after every row is read: a prerequisite may come later
        if needed == code:
            p.add(SHEET_ITEMS, i, "前置事项", "不能是本事项自己")
        elif needed not in seen_i:
            p.add(SHEET_ITEMS, i, "前置事项", f"事项编码“{shown(needed)}”不在“事项”工作表中")
    for code in materials:
        p.add(SHEET_MATERIALS, None, "事项编码", f"材料所属事项“{code}”不在“事项”工作表中")
    if not items:
        p.add(SHEET_ITEMS, None, None, "至少需要一个事项")
    if p.items:
        raise ValidationErrors(p.items, "事项清单文件有误，未导入")
    return CatalogSpec(tuple(windows), tuple(items))
