"""`hall-admin window|point …` and `staff profile` on a real data directory: the same services and refusals as
管理 → 窗口与代办点 and 工作人员's photo, with Chinese messages and no traceback."""

from __future__ import annotations

import io

from PIL import Image

from hall.cli import main


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_windows_points_and_a_badge_photo_from_the_command_line(hall_sqlite, capsys, tmp_path):
    data = str(tmp_path / "data")
    code, out, _ = run(capsys, "--data-dir", data, "window", "add", "w12", "--name", "不动产窗口", "--order", "12")
    assert code == 0 and "W12 不动产窗口" in out
    code, _, err = run(capsys, "--data-dir", data, "window", "disable", "W02")
    assert code != 0 and "事项" in err
    assert run(capsys, "--data-dir", data, "window", "disable", "W12")[0] == 0
    code, out, _ = run(capsys, "--data-dir", data, "window", "list")
    assert "W12\t不动产窗口\t—\t排序 12\t事项 0\t在岗 0\t已停用" in out
    code, _, err = run(capsys, "--data-dir", data, "point", "disable", "001")
    assert code != 0 and "在岗人员" in err
    photo = tmp_path / "p.jpg"
    buf = io.BytesIO()
    Image.new("RGB", (300, 400), "gray").save(buf, "JPEG")
    photo.write_bytes(buf.getvalue())
    code, out, _ = run(capsys, "--data-dir", data, "staff", "profile", "c02", "--photo", str(photo),
                       "--resume", "民政窗口")
    assert code == 0 and "c02" in out
    (tmp_path / "evil.jpg").write_bytes(b"\xff\xd8\xff" + b"A" * 100)
    code, _, err = run(capsys, "--data-dir", data, "staff", "profile", "c02", "--photo", str(tmp_path / "evil.jpg"))
    assert code != 0 and "照片" in err and "Traceback" not in err
