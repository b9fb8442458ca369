"""`hall-admin settings rating-screen`: the administrator re-enrols this node's rating screen (a lost key file, a
new PC); opening the screen alone never replaces an enrolled key."""

from __future__ import annotations

import pytest

from hall.cli import main
from hall.errors import ConflictError
from hall.services.registers import rating_channel


def test_a_lost_screen_key_is_re_enrolled_by_the_administrator(hall_sqlite, tmp_path, capsys):
    data = tmp_path / "data"  # hall_sqlite's data directory
    node = hall_sqlite.node
    first = rating_channel.ScreenKey.load_or_create(data)
    with hall_sqlite.db.transaction() as s:
        rating_channel.ensure_enrolled(s, node.node_id, node.intake_point, first)
    (data / rating_channel.KEY_FILE).unlink()  # the key file is lost: a new one is made at the next opening
    second = rating_channel.ScreenKey.load_or_create(data)
    assert second.public_hex != first.public_hex
    with hall_sqlite.db.transaction() as s, pytest.raises(ConflictError, match="系统管理员重新登记"):
        rating_channel.ensure_enrolled(s, node.node_id, node.intake_point, second)
    hall_sqlite.db.dispose()
    assert main(["--data-dir", str(data), "settings", "rating-screen", "--device", "W02窗口评价屏"]) == 0
    assert "已登记本机评价器：W02窗口评价屏" in capsys.readouterr().out
    assert main(["--data-dir", str(data), "settings", "rating-screen"]) == 0
    assert "无需重新登记" in capsys.readouterr().out
