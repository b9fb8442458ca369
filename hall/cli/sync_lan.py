"""The LAN path of sync: ``hall-admin sync serve`` on the hall server's PC, ``hall-admin sync push`` on a laptop.

One protocol with the USB file: the request body is the laptop's bundle, exactly as ``sync export`` writes it;
the answer is the hall's bundle for that laptop (``export --to``), or the refusal's Chinese reason. Bundles are
signed and encrypted, so plain HTTP on the hall's LAN exposes nothing, and a laptop never holds database
credentials. One import at a time (a single-threaded server), each in its own transaction.
"""

from __future__ import annotations

import argparse
import logging
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

from hall.cli import sync_node
from hall.errors import HallError
from hall.services.sync import journal, lan
from hall.services.sync.bundle import MAX_FILE, BundleRejected
from hall.services.sync.lan import PATH

log = logging.getLogger("hall.sync")


def register(s: Any) -> None:
    v = s.add_parser("serve", help="（中心服务器）在局域网上接收村代办点的同步（HTTP）")
    v.add_argument("--host", default="0.0.0.0")
    v.add_argument("--port", type=int, default=8765, help="端口（0：任选一个空闲端口）")
    v.set_defaults(handler=cmd_serve)
    p = s.add_parser("push", help="（村代办点电脑）立即同步：发送本机的同步文件，取回中心的")
    p.add_argument("--url", required=True, help="中心地址，例如 http://192.168.1.10:8765")
    p.set_defaults(handler=cmd_push)


def cmd_serve(args: argparse.Namespace, ctx: Any) -> int:
    mine = sync_node.hall_keys(ctx)
    db, system, data_dir = ctx.db, ctx.actor, ctx.paths.data_dir

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *a: Any) -> None:
            pass  # no request lines with addresses in the console; results are printed below

        def _answer(self, code: int, body: bytes, kind: str) -> None:
            self.send_response(code)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            try:
                length = int(self.headers.get("Content-Length") or 0)
                if self.path != PATH or not 0 < length <= MAX_FILE:
                    raise BundleRejected("请求不是同步文件，或大小不对")
                data = self.rfile.read(length)
                with db.transaction() as s:
                    result = journal.import_bundle(s, system, mine, data, data_dir)
                with db.transaction() as s:
                    back = journal.export(s, mine, to=result.sender).data
                print(f"终端 {result.sender[:8]}：{result.message}", flush=True)
                self._answer(200, back, "application/octet-stream")
            except HallError as exc:
                print(f"拒绝一次同步：{exc}", flush=True)
                self._answer(422, str(exc).encode(), "text/plain; charset=utf-8")
            except Exception as exc:  # one bad request must not stop the hall's sync service
                log.error("sync request failed: %s", type(exc).__name__)
                self._answer(500, f"中心处理同步时出错（{type(exc).__name__}），未做任何更改".encode(),
                             "text/plain; charset=utf-8")

    server = HTTPServer((args.host, args.port), Handler)
    print(f"同步服务已启动：http://{server.server_address[0]}:{server.server_address[1]}{PATH}", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return 0


def cmd_push(args: argparse.Namespace, ctx: Any) -> int:
    from hall.services.sync import keys

    mine = keys.load(ctx.paths.data_dir)
    if mine is None or mine.role != "laptop":
        raise HallError("本机不是已开通的村代办点终端")
    pushed = lan.push(ctx.db, ctx.actor, mine, args.url, ctx.paths.data_dir)
    print(f"已发送本机 {pushed.sent_bytes / 1024:.0f} KB；中心已接收")
    print(f"从中心取回：{pushed.back.message}")
    return 0

