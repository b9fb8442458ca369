"""This installation's identity (终端): a node id for its ledger chain and the intake point it numbers for."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from pathlib import Path

from hall.errors import HallError, ValidationError


@dataclass(frozen=True)
class NodeIdentity:
    node_id: str
    intake_point: str = "000"

    @classmethod
    def load_or_create(cls, path: Path, intake_point: str | None = None) -> NodeIdentity:
        if path.exists():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                node = cls(node_id=str(data["node_id"]), intake_point=str(data.get("intake_point", "000")))
            except (ValueError, KeyError, TypeError, UnicodeDecodeError):
                raise HallError(
                    f"本机终端标识文件已损坏：{path}。请联系系统管理员恢复（不要删除，台账按它记账）。"
                ) from None
            if intake_point and intake_point != node.intake_point:
                node = cls(node.node_id, _check_point(intake_point))
                node.save(path)
            return node
        node = cls(node_id=str(uuid.uuid4()), intake_point=_check_point(intake_point or "000"))
        node.save(path)
        return node

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"node_id": self.node_id, "intake_point": self.intake_point}), "utf-8")
        tmp.replace(path)


def _check_point(code: str) -> str:
    if len(code) != 3 or not (code.isascii() and code.isdigit()):  # "٠٠١" is digits to str.isdigit
        raise ValidationError("受理点编码", "应为3位数字（000为中心大厅，001起为村代办点）")
    return code
