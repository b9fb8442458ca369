"""Public item guides (:class:`ItemNotice`) from a catalogue TSV such as ``catalog-76.tsv``.

A plain-data adapter with no database: the benchmark, the tests and a hall without a ledger yet can print
the booklet straight from the shipped catalogue file. Columns: no name window kind kind_zh limit unit
anchored handled_by note materials fee policy_basis (materials separated by '；').
"""

from __future__ import annotations

import csv
from pathlib import Path

from hall.errors import ValidationError
from hall.print.data import HallInfo, ItemNotice, MaterialLine

WINDOW_NAMES = {
    "W01": "综合受理与党群服务", "W02": "民政事务", "W03": "人社就业与养老保险", "W04": "医疗保障",
    "W05": "卫生健康", "W06": "退役军人服务", "W07": "残疾人服务", "W08": "农业农村",
    "W09": "自然资源与村镇建设", "W10": "综治信访与司法服务", "W11": "市场监管与税务代办",
}


def limit_text(kind: str, limit: int, unit: str) -> str:
    if kind == "explain":
        return "当场答复（解释件）"
    if limit <= 0:
        return "当场办结（即办件）"
    unit_zh = "个工作日" if unit == "workday" else "日（自然日，末日为节假日的顺延）"
    return f"承诺时限 {limit} {unit_zh}"


def default_procedure(kind: str, handled_by: str = "") -> tuple[str, ...]:
    """The standard steps of each kind (domain-rules.md §2) when an item has no steps of its own."""
    dept = handled_by or "上级主管部门"
    return {
        "explain": ("申请人到窗口咨询", "窗口登记咨询事项", "窗口解答政策并一次性告知办理要求",
                    "出具一次性告知单", "登记归档"),
        "immediate": ("申请人提交申请材料", "窗口审核材料（材料不全的一次性告知）", "当场办结并出具办理结果",
                      "申请人评价（好差评）", "登记归档"),
        "promised": ("申请人提交申请材料", "窗口审查材料，出具受理通知书（材料不全的出具补正材料通知书）",
                     "承办人审查（需现场核查的，实地核查）", "作出办理决定", "送达办理结果", "评价、归档"),
        "proxy": ("委托：申请人填写代办委托", "受理：窗口受理并初审材料，出具受理通知书",
                  f"办理：窗口将申请材料转报{dept}", f"跟踪：窗口跟踪{dept}办理进度",
                  "送达：取回办理结果，通知申请人领取或送达", "归档：整理办件材料归档",
                  "上报：按要求报送代办情况", "回访：回访申请人，听取评价"),
        "joint": ("一门受理：主办窗口统一收件、受理", f"抄告相关：抄告协办部门（{dept}）",
                  "并联审批：各协办部门自抄告之日起 5 个工作日内反馈意见（需上级审核的加 3 个工作日），逾期视为认可",
                  "主办窗口汇总意见、作出决定", "限时反馈：送达办理结果", "归档、回访"),
    }.get(kind, ("申请人提交申请", "窗口受理", "办理", "送达结果"))


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
