"""This node's sync keys as the `hall-admin sync` commands need them (shared by the file and the LAN paths)."""

from __future__ import annotations

from typing import Any

from hall.services.sync import enrolment, keys


def hall_keys(ctx: Any) -> keys.NodeKeys:
    return enrolment.hall_keys(ctx.paths.data_dir, ctx.node)


def own_keys(ctx: Any) -> keys.NodeKeys:
    return enrolment.own_keys(ctx.paths.data_dir, ctx.node)
