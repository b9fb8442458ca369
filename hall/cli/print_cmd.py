"""`hall-admin print`: a ticket's paper, or the public notices, to a PDF file for scripted printing.

    hall-admin print TICKET_NUMBER --paper KIND --out FILE.pdf [--roll80 | --roll58] [--copies N]
    hall-admin print notices --out FILE.pdf [--window W03] [--staff-board] [--flowchart ITEM_CODE]

A ticket's paper is recorded in the ledger as ``ticket.printed`` (a second print of the same paper is marked
as a reprint); the event is written only after the file is, in the same transaction.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hall.errors import ValidationError
from hall.services.base.paper_data import PAPER_TITLES

NOTICES = "notices"


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "print", help="打印文书到 PDF：办件文书（受理通知书等）或公示材料（六公开汇编、窗口公示、挂牌上岗、流程图）",
        description="办件文书：print 办件编号 --paper 种类 --out 文件.pdf；公示材料：print notices --out 文件.pdf")
    p.add_argument("target", metavar="TICKET_NUMBER|notices", help="办件编号，或 notices 表示公示材料")
    p.add_argument("--out", required=True, metavar="FILE.pdf", help="输出的 PDF 文件")
    p.add_argument("--paper", metavar="KIND",
                   help="文书种类：" + "、".join(f"{k}（{v}）" for k, v in PAPER_TITLES.items()))
    p.add_argument("--roll80", action="store_true", help="80 毫米热敏卷纸回执（默认 A4）")
    p.add_argument("--roll58", action="store_true", help="58 毫米热敏卷纸回执（每份一页）")
    p.add_argument("--copies", type=int, default=1, help="记入台账的打印份数（默认 1）")
    p.add_argument("--window", metavar="W03", help="公示材料：只打印该窗口的公示牌")
    p.add_argument("--staff-board", action="store_true", help="公示材料：工作人员挂牌上岗公示")
    p.add_argument("--flowchart", metavar="ITEM_CODE", help="公示材料：该事项的办事流程图")
    p.set_defaults(handler=run)


def _out(path: str) -> Path:
    out = Path(path)
    if out.suffix.lower() != ".pdf":
        raise ValidationError("--out", f"输出文件应以 .pdf 结尾，现为“{out.name}”")
    if not out.parent.exists():
        raise ValidationError("--out", f"目录“{out.parent}”不存在")
    return out


def run(args: Any, ctx: Any) -> int:
    out = _out(args.out)
    if args.target == NOTICES:
        return _notices(args, ctx, out)
    return _ticket(args, ctx, out)


def _ticket(args: Any, ctx: Any, out: Path) -> int:
    from reportlab.lib.units import mm

    from hall.print.receipt80 import Receipt80Renderer
    from hall.print.ticket_layout import TicketPaperRenderer
    from hall.services.reporting import papers

    if not args.paper:
        raise ValidationError("--paper", "打印办件文书须指定文书种类，可选：" + "、".join(PAPER_TITLES))
    if args.window or args.staff_board or args.flowchart:
        raise ValidationError("--window/--staff-board/--flowchart", "只用于公示材料（print notices）")
    with ctx.db.transaction() as s:
        code = papers.paper_code(args.paper)
        paper, item, hall = papers.paper_for_ticket(s, args.target, code)
        if args.roll80 and args.roll58:
            raise ValidationError("--roll80/--roll58", "只能选一种卷纸宽度")
        if args.roll80 or args.roll58:
            width = (80 if args.roll80 else 58) * mm
            data = Receipt80Renderer(code, paper, hall, item, paper_width=width).render()
        else:
            data = TicketPaperRenderer(code, paper, hall, item).render()
        out.write_bytes(data)
        reprint = papers.print_count(s, paper.number, code) > 0
        size = "80mm" if args.roll80 else "58mm" if args.roll58 else "A4"
        papers.record_print(s, ctx.actor, paper.number, code, args.copies, reprint, f"PDF 文件（{size}）{out.name}")
    print(f"{PAPER_TITLES[code]}{'（补打）' if reprint else ''}：{paper.number} → {out}")
    return 0


def _notices(args: Any, ctx: Any, out: Path) -> int:
    from hall.print import notices
    from hall.services.reporting import papers

    if args.paper or args.roll80 or args.roll58:
        raise ValidationError("--paper/--roll80/--roll58", "只用于办件文书，公示材料不用")
    chosen = [x for x in (args.window, args.staff_board, args.flowchart) if x]
    if len(chosen) > 1:
        raise ValidationError("公示材料", "--window、--staff-board、--flowchart 一次只能选一种")
    with ctx.db.transaction() as s:
        hall = papers.hall_info(s)
        if args.window:
            boards = papers.window_boards(s, args.window)
            renderer: notices.PublicRenderer = notices.WindowBoardRenderer(boards, hall)
            what = f"{boards[0].code} 窗口公示"
        elif args.staff_board:
            renderer = notices.StaffBoardRenderer(papers.staff_badges(s), hall)
            what = "工作人员挂牌上岗公示"
        elif args.flowchart:
            item = papers.item_notice(s, args.flowchart)
            renderer = notices.FlowchartRenderer([item], hall)
            what = f"{item.name}办事流程图"
        else:
            items = papers.item_notices(s)
            renderer = notices.BookletRenderer(items, hall)
            what = f"六公开汇编（{len(items)} 项）"
    renderer.render(out)
    print(f"{what} → {out}")
    return 0
