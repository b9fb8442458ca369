"""This node's sync keys as the `hall-admin sync` commands need them (shared by the file and the LAN paths)."""

from __future__ import annotations

from typing import Any

from hall.errors import HallError
from hall.services.sync import keys


def hall_keys(ctx: Any) -> keys.NodeKeys:
    found = keys.load(ctx.paths.data_dir)
    if found is None:
        found = keys.NodeKeys.create(ctx.node.node_id, "hall", ctx.node.intake_point)
        found.save(ctx.paths.data_dir)
    if found.role != "hall":
        raise HallError("本机是村代办点终端，不能做中心的操作")
    return found


def own_keys(ctx: Any) -> keys.NodeKeys:
    found = keys.load(ctx.paths.data_dir)
    return found if found is not None else hall_keys(ctx)
