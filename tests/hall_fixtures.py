"""Helpers shared by tests (a plain module: ``conftest`` names collide between folders)."""

from __future__ import annotations

PASSWORDS = {"admin": "admin-pass-1", "c02": "clerk-pass-1", "c03": "clerk-pass-1", "m01": "manager-pass",
             "v01": "village-pass"}


def actors_of(opened):
    from hall.services.people import staff
    from hall.services.storage.node import NodeIdentity

    village_node = NodeIdentity("village-node-001", "001")
    with opened.db.transaction() as s:
        return {no: staff.actor_for(staff.by_number(s, no), village_node if no == "v01" else opened.node)
                for no in PASSWORDS}
