"""Public item guides (:class:`ItemNotice`) from a catalogue TSV such as ``catalog-76.tsv``.

A plain-data adapter with no database, kept for the benchmark's fixed content; the hall prints its booklet
from the current database catalogue (:func:`hall.services.reporting.papers.item_notices`).
Columns: no name window kind kind_zh limit unit anchored handled_by note materials fee policy_basis
(materials separated by '；').
"""

from __future__ import annotations

import csv
from pathlib import Path

from hall.errors import ValidationError
from hall.print.data import HallInfo, ItemNotice, MaterialLine
from hall.services.base.paper_data import default_procedure, limit_text

WINDOW_NAMES = {
    "W01": "综合受理与党群服务", "W02": "民政事务", "W03": "人社就业与养老保险", "W04": "医疗保障",
    "W05": "卫生健康", "W06": "退役军人服务", "W07": "残疾人服务", "W08": "农业农村",
    "W09": "自然资源与村镇建设", "W10": "综治信访与司法服务", "W11": "市场监管与税务代办",
}


def _materials(text: str) -> tuple[MaterialLine, ...]:
    out = []
    for raw in (x.strip() for x in text.split("；")):
        if not raw:
            continue
        form = "复印件" if "复印件" in raw else "原件"
        issuer = "申请人自备"
        if "申请表" in raw or "登记表" in raw:
            issuer = "窗口提供"
        elif "证明" in raw and "村" in raw:
            issuer = "村（居）民委员会"
        out.append(MaterialLine(raw, form, 1, issuer))
    return tuple(out)


def item_notices_from_tsv(path: str | Path, hall: HallInfo,
                          staff_on_duty: dict[str, tuple[str, ...]] | None = None) -> list[ItemNotice]:
    items = []
    with Path(path).open(encoding="utf-8-sig", newline="") as fh:
        for n, row in enumerate(csv.DictReader(fh, delimiter="\t"), start=2):
            try:
                limit = int(row["limit"] or 0)
                code, kind, window = row["no"].strip(), row["kind"].strip(), row["window"].strip()
            except (KeyError, ValueError) as exc:
                raise ValidationError(f"事项清单第 {n} 行", f"格式不对（{exc}）") from exc
            handled_by = (row.get("handled_by") or "").strip()
            departments = tuple(d.strip() for d in handled_by.replace("/", "；").split("；") if d.strip())
            items.append(ItemNotice(
                code=code, name=row["name"].strip(), window=f"{window} {WINDOW_NAMES.get(window, '')}".strip(),
                kind=kind, legal_basis=(row.get("policy_basis") or "").strip() or "—",
                conditions=("申请人符合本事项政策规定的对象条件；", "申请材料齐全、真实、有效。"),
                procedure_steps=default_procedure(kind, handled_by), materials=_materials(row.get("materials") or ""),
                fee=(row.get("fee") or "").strip() or "不收费", limit_text=limit_text(kind, limit, row.get("unit", "")),
                place=f"{hall.name}{window}窗口", service_phone=hall.service_phone,
                supervision_phone=hall.supervision_phone, departments=departments,
                staff_on_duty=(staff_on_duty or {}).get(window, ()), note=(row.get("note") or "").strip()))
    return items
