"""`hall-admin catalog export|import`: the catalogue as an Excel workbook, round-tripped losslessly."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from hall.errors import ValidationErrors
from hall.exchange.catalog_xlsx import read_catalog_xlsx, write_catalog_xlsx
from hall.services.catalog import consistency
from hall.services.catalog import items as catalog


def register(subparsers: Any) -> None:
    cat = subparsers.add_parser("catalog", help="事项清单：导出为 Excel、从 Excel 导入")
    sub = cat.add_subparsers(dest="catalog_command", required=True, metavar="ACTION")

    export = sub.add_parser("export", help="把当前事项清单导出为 Excel 工作簿")
    export.add_argument("--out", required=True, metavar="FILE.xlsx", help="导出的文件（已存在则替换）")
    export.set_defaults(handler=cmd_export)

    imp = sub.add_parser("import", help="从 Excel 工作簿导入事项清单（全部检查无误才导入，生成新版本）")
    imp.add_argument("file", metavar="FILE.xlsx")
    imp.set_defaults(handler=cmd_import)


def cmd_export(args: argparse.Namespace, ctx: Any) -> int:
    with ctx.db.transaction() as session:
        spec = catalog.current_spec(session)
    out = write_catalog_xlsx(spec, Path(args.out))
    materials = sum(len(it.materials) for it in spec.items)
    print(f"已导出事项清单：{out}（窗口 {len(spec.windows)} 个，事项 {len(spec.items)} 项，材料 {materials} 条）")
    return 0


def cmd_import(args: argparse.Namespace, ctx: Any) -> int:
    path = Path(args.file)
    try:
        spec = read_catalog_xlsx(path)  # checked in full before the database is touched
    except ValidationErrors as exc:
        # Many problems: one per line, so the administrator can work through them in Excel.
        print(f"错误：{path.name}：事项清单文件有误，未导入。问题如下：", file=sys.stderr)
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 2
    with ctx.db.transaction() as session:
        version = catalog.import_catalog(session, ctx.actor, spec, f"Excel 导入：{path.name}")
    if version is None:
        print("无变化：与当前事项清单相同，未生成新版本")
    else:
        print(f"已导入事项清单，新版本 {version}（窗口 {len(spec.windows)} 个，事项 {len(spec.items)} 项）")
    # Imported all the same (a local limit may be deliberate), but told row by row.
    for warning in consistency.warnings(spec):
        print(f"提示：{warning.text()}")
    return 0
