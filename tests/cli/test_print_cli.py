"""`hall-admin print` end to end on a real data directory: papers of real tickets, public notices, the ledger."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from hall.cli import main
from hall.models import Event
from hall.services.storage import ledger
from hall.services.tickets import record as tickets

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "services"))
pytest.importorskip("hall.services.cases.joint")

from papers_env import actors, build, prepare


@pytest.fixture
def env(hall_sqlite, tmp_path):
    who = prepare(hall_sqlite, actors(hall_sqlite))
    numbers = build(hall_sqlite, who)
    return hall_sqlite, tmp_path / "data", numbers


def _text(path: Path) -> list[str]:
    from pypdf import PdfReader

    return [re.sub(r"\s+", "", p.extract_text() or "") for p in PdfReader(str(path)).pages]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out.strip(), err.strip()


def test_ticket_paper_printed_and_recorded_then_reprinted(env, capsys, tmp_path):
    hall, data, n = env
    out = tmp_path / "acc.pdf"
    code, stdout, _ = run(capsys, "--data-dir", str(data), "print", n["acceptance"], "--paper", "acceptance",
                          "--out", str(out))
    assert code == 0 and stdout.endswith(str(out)) and "补打" not in stdout
    assert "受理通知书" in _text(out)[0] and n["acceptance"] in _text(out)[0]
    roll = tmp_path / "roll.pdf"
    code, stdout, _ = run(capsys, "--data-dir", str(data), "print", n["acceptance"], "--paper", "acceptance",
                          "--out", str(roll), "--roll80", "--copies", "2")
    assert code == 0 and "（补打）" in stdout
    from pypdf import PdfReader

    assert round(float(PdfReader(str(roll)).pages[0].mediabox.width) / 72 * 25.4) == 80
    narrow = tmp_path / "roll58.pdf"
    code, _stdout, _ = run(capsys, "--data-dir", str(data), "print", n["tolerance"], "--paper", "tolerance",
                           "--out", str(narrow), "--roll58")
    pages = PdfReader(str(narrow)).pages
    assert code == 0 and len(pages) == 4  # one slip per sheet and copy
    assert {round(float(p.mediabox.width) / 72 * 25.4) for p in pages} == {58}
    with hall.db.transaction() as s:
        t = tickets.get(s, n["acceptance"])
        evs = s.scalars(select(Event).where(Event.ticket_uid == t.uid, Event.type == "ticket.printed")
                        .order_by(Event.id)).all()
        got = [(ledger.load_payload(e)["reprint"], ledger.load_payload(e)["copies"]) for e in evs]
        assert got == [(False, 1), (True, 2)]
        assert "roll.pdf" in ledger.load_payload(evs[1])["printer"] and evs[1].actor_name == "系统"


@pytest.mark.parametrize(("argv", "reason"), [
    (("print", "320581101-000-20990101-0001", "--paper", "acceptance"), "不存在"),
    (("print", "{acceptance}", "--paper", "nonsense"), "文书种类"),
    (("print", "{acceptance}"), "须指定文书种类"),
    (("print", "{supplement}", "--paper", "acceptance"), "尚未受理"),
    (("print", "notices", "--flowchart", "99"), "事项编码"),
    (("print", "notices", "--window", "W99"), "W99"),
])
def test_bad_input_is_one_chinese_line_and_exit_2(env, capsys, tmp_path, argv, reason):
    _hall, data, n = env
    out = tmp_path / "x.pdf"
    argv = tuple(a.format(**n) for a in argv)
    code, _stdout, err = run(capsys, "--data-dir", str(data), *argv, "--out", str(out))
    assert code == 2 and err.startswith("错误：") and reason in err and "\n" not in err
    assert not out.exists()


def test_notices_booklet_window_staff_board_and_flowchart(env, capsys, tmp_path):
    _hall, data, _n = env
    booklet = tmp_path / "booklet.pdf"
    assert run(capsys, "--data-dir", str(data), "print", "notices", "--out", str(booklet))[0] == 0
    pages = _text(booklet)
    assert len(pages) >= 77 and "目录" in pages[1] and "虞山镇便民服务中心" in pages[0]
    w03 = tmp_path / "w03.pdf"
    assert run(capsys, "--data-dir", str(data), "print", "notices", "--window", "W03", "--out", str(w03))[0] == 0
    assert "W03人社就业与养老保险窗口" in "".join(_text(w03)) and "李社保" in "".join(_text(w03))
    board = tmp_path / "board.pdf"
    assert run(capsys, "--data-dir", str(data), "print", "notices", "--staff-board", "--out", str(board))[0] == 0
    assert "挂牌上岗" in _text(board)[0] and "周卫健" in "".join(_text(board))
    flow = tmp_path / "flow.pdf"
    assert run(capsys, "--data-dir", str(data), "print", "notices", "--flowchart", "19", "--out", str(flow))[0] == 0
    assert "办事流程图" in _text(flow)[0]
