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


def rating_pad(opened, device: str = "评价器"):
    """The node's rating screen as the program opens it: a key of its own, enrolled for the node (a key enrolled
    earlier on this ledger is replaced, as an administrator would), and the citizen channel around it."""
    from hall.services.registers import rating_channel, ratings

    key = rating_channel.ScreenKey.generate()
    with opened.db.transaction() as s:
        rating_channel.enrol(s, opened.system, key.public_hex, device)
    return ratings.CitizenChannel(opened.node.node_id, device, key=key)
