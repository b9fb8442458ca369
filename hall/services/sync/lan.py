"""立即同步 over the hall's LAN, as a laptop does it (the CLI's ``sync push`` and the 同步 screen's button).

The laptop's bundle is the request body; the hall's bundle for it is the answer (see hall/cli/sync_lan.py for the
server). The export is recorded only once the hall has answered (a refused or unreachable hall leaves the laptop
unchanged), in the same transaction as the import of the hall's answer.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from hall.errors import HallError
from hall.services.base.actor import Actor
from hall.services.storage.db import Database
from hall.services.sync import journal
from hall.services.sync.bundle import MAX_FILE, open_bundle
from hall.services.sync.keys import NodeKeys

PATH = "/hall-sync/v1"
TIMEOUT_S = 120


@dataclass(frozen=True)
class Pushed:
    sent_bytes: int
    sent: journal.Preview
    back: journal.Imported


def push(db: Database, actor: Actor, mine: NodeKeys, url: str, data_dir: Path | None = None) -> Pushed:
    url = url.strip()
    if not url.startswith(("http://", "https://")):
        raise HallError(f"中心地址“{url}”不对：应以 http:// 开头，例如 http://192.168.1.10:8765")
    # Read and sealed in a read transaction: the clerks' saves are not held up while the hall answers.
    with db.reading() as s:
        out, data = journal.seal(s, mine)
    request = urllib.request.Request(url.rstrip("/") + PATH, data=data, method="POST",
                                     headers={"Content-Type": "application/octet-stream"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as answer:
            back = answer.read(MAX_FILE + 1)
    except urllib.error.HTTPError as exc:
        raise HallError(exc.read(64 * 1024).decode("utf-8", "replace")
                        or f"中心拒绝了同步（HTTP {exc.code}）") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise HallError(f"无法连接中心 {url}：{getattr(exc, 'reason', exc)}。"
                        "本机数据未改动，可稍后再试或用U盘同步") from None
    open_bundle(mine, back)  # checked as any file would be before anything is written
    with db.transaction() as s:
        sent = journal.record_export(s, mine, out, data)  # the hall took it: it answered with its own bundle
        result = journal.import_bundle(s, actor, mine, back, data_dir)
    return Pushed(len(data), sent, result)
