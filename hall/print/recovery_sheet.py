"""The recovery code of an encrypted data folder on one A4 page, to be kept on paper by the 中心主任.

Printed once, when encryption is turned on (管理 → 数据加密…). The PDF is made in memory and goes straight to the
printer; it is never written to the data folder (a code beside the data would defeat the encryption).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Spacer, Table, TableStyle

from hall.print.base import Renderer, para, zh_datetime
from hall.print.fonts import FontSet

PER_ROW = 7  # 14 groups in two rows of seven: each row fits the type area at 20 pt


@dataclass(frozen=True)
class RecoverySheetData:
    code: str  # 14 groups joined by "-"
    fingerprint: str
    data_dir: str
    hall_name: str
    made_at: datetime


class RecoverySheetRenderer(Renderer):
    title_meta = "数据加密恢复码"

    def __init__(self, data: RecoverySheetData, fonts: FontSet | None = None) -> None:
        super().__init__(fonts)
        self.data = data

    def story(self) -> list[Flowable]:
        s, d = self.styles, self.data
        groups = d.code.split("-")
        rows = [groups[i:i + PER_ROW] for i in range(0, len(groups), PER_ROW)]
        grid = Table(rows, colWidths=[self.frame_width / PER_ROW] * PER_ROW, rowHeights=[14 * mm] * len(rows))
        grid.setStyle(TableStyle([
            ("FONTNAME", (0, 0), (-1, -1), self.fonts.heading),
            ("FONTSIZE", (0, 0), (-1, -1), 20),
            ("ALIGN", (0, 0), (-1, -1), "CENTER"),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("BOX", (0, 0), (-1, -1), 1, colors.black),
            ("INNERGRID", (0, 0), (-1, -1), 0.5, colors.grey),
        ]))
        return [
            para(d.hall_name, s.hall),
            para("数据加密恢复码", s.title),
            Spacer(1, 4 * mm),
            para(f"数据文件夹：{d.data_dir}", s.cell),
            para(f"密钥指纹：{d.fingerprint}", s.cell),
            para(f"启用加密：{zh_datetime(d.made_at)}", s.cell),
            Spacer(1, 6 * mm),
            grid,
            Spacer(1, 3 * mm),
            para("共 14 组，每组 4 个字母或数字（只有字母 A–Z 和数字 2–7，没有 0、1、8、9）；最后一组含校验。",
                 s.small),
            Spacer(1, 6 * mm),
            para("这张纸是什么", s.heading),
            para("本电脑上的办件台账、备份和草稿已加密保存。打开它们的数据密钥保存在这台电脑上；"
                 "换了电脑、重装了系统或换了 Windows 用户之后，只有凭这个恢复码才能把密钥找回来。", s.body),
            para("怎么保管", s.heading),
            para("请交中心主任锁在柜中保管，不要拍照，不要存在这台电脑或 U 盘上。没有本机密钥又没有恢复码，"
                 "数据任何人都无法读取（包括软件开发方）。", s.body),
            para("怎么使用", s.heading),
            para("在 Hall 启动时提示“本机没有数据密钥”的窗口中，或在 管理 → 数据加密 → 用恢复码恢复 中，"
                 "按组输入上面的恢复码（大小写均可）；也可运行 hall-admin encryption recover。", s.body),
        ]

    def footer_left(self) -> str:
        return "机密：仅限中心主任保管"
