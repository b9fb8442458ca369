"""No personal data in hall.log, the crash report or the terminal when a save fails in the database.

A real failure is injected into the real database — a trigger that aborts the ticket insert on SQLite, a CHECK
constraint the new row breaks on PostgreSQL (whose error carries "DETAIL: Failing row contains (…every
value…)") — and a save with a full ID number, a phone and a marked note goes through the path the program uses:
a button's slot calling ``ops.run`` with the crash hook installed (GUI), and ``hall-admin ticket add`` in its own
process (CLI). hall.log, the report and stderr are then searched for the identifiers and the payload.
"""

from __future__ import annotations

import ast
import json
import logging
import logging.handlers
import os
import subprocess
import sys
import traceback
from pathlib import Path

import pytest
from sqlalchemy import text

from hall.logging_setup import configure, crash_report, redact
from hall.services.catalog import items as catalog
from hall.services.tickets import intake

ID_NO, PHONE, NAME = "11010519491231002X", "13812345678", "欧阳娜娜"
AGENT_ID, AGENT_PHONE = "440524188001010014", "13900001111"
MARKER = "备注标记PAYLOAD7531"
SECRETS = (ID_NO, PHONE, AGENT_ID, AGENT_PHONE, MARKER, NAME, "1381234", '"id_no"')
ROOT = Path(__file__).resolve().parent.parent


def inject_failure(opened) -> str:
    """Make every ticket insert fail inside the database; returns what the failure says."""
    with opened.db.engine.begin() as c:
        if opened.db.is_sqlite:
            c.execute(text("CREATE TRIGGER injected_failure BEFORE INSERT ON tickets "
                           "BEGIN SELECT RAISE(ABORT, 'injected failure'); END"))
            return "injected failure"
        c.execute(text("ALTER TABLE tickets ADD CONSTRAINT injected_failure CHECK (applicant_phone = '') NOT VALID"))
        return "injected_failure"


def form(session) -> intake.IntakeForm:
    code = "09"
    marks = {m["name"]: "received" for m in catalog.current_item(session, code).materials}
    return intake.IntakeForm(code, intake.ApplicantForm("person", ID_NO, NAME, PHONE, "东村3组"), materials=marks,
                             agent=intake.AgentForm("李四", AGENT_ID, AGENT_PHONE), note=MARKER)


@pytest.fixture
def hall_log(tmp_path):
    """hall.log configured as the program does, removed again after the test (the handler is process-wide)."""
    path = configure(tmp_path / "logs")
    yield path
    root = logging.getLogger("hall")
    for h in [h for h in root.handlers if isinstance(h, logging.handlers.RotatingFileHandler)]:
        root.removeHandler(h)
        h.close()


def assert_clean(where: str, content: str) -> None:
    found = [s for s in SECRETS if s in content]
    assert found == [], f"{where} carries {found}:\n{content}"


@pytest.mark.gui
@pytest.mark.qt_no_exception_capture
def test_a_failed_save_from_the_gui_logs_no_personal_data(hall_db, people, hall_log, qtbot, capfd, monkeypatch):
    from PySide6.QtWidgets import QPushButton

    from hall.ui import crash, messages, ops

    said = inject_failure(hall_db)
    monkeypatch.setattr(messages, "ask_hook", lambda _t, _x: True)  # the report goes to stderr, not a dialog
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # restored after the test
    crash.install(hall_log)
    caught: list[BaseException] = []

    def save() -> None:
        try:
            ctx = ops.Context(hall_db.db, hall_db.node, people["c02"])
            ops.run(None, ctx, lambda s: intake.register(s, people["c02"], form(s)))
        except Exception as exc:
            caught.append(exc)
            raise

    button = QPushButton("保存")
    qtbot.addWidget(button)
    button.clicked.connect(save)
    button.click()  # the slot raises; PySide6 hands the exception to sys.excepthook (the crash hook)

    assert caught, "the injected failure did not happen"
    exc = caught[0]
    assert "[SQL parameters hidden due to hide_parameters=True]" in str(exc)  # the engine hides bound values
    raw = "".join(traceback.format_exception(exc))
    if not hall_db.db.is_sqlite:
        assert ID_NO in raw  # PostgreSQL's DETAIL lists the failing row: what a plain traceback would log
    log = hall_log.read_text(encoding="utf-8")
    stderr = capfd.readouterr().err
    assert "unexpected error" in log and said in log and "[参数已隐去]" in log  # the failure was logged …
    assert "INSERT INTO tickets" in log  # … with the statement (placeholders only) to diagnose it
    assert_clean("hall.log", log)
    assert_clean("the crash report on stderr", stderr)
    assert_clean("the crash report", crash_report(type(exc), exc, exc.__traceback__))


def test_a_failed_save_from_the_command_line_logs_no_personal_data(hall_db, tmp_path):
    said = inject_failure(hall_db)
    data = Path(hall_db.db.engine.url.database).parent if hall_db.db.is_sqlite else tmp_path / "data"
    argv = [sys.executable, "-m", "hall.cli", "--data-dir", str(data)]
    if not hall_db.db.is_sqlite:
        argv += ["--db", hall_db.db.engine.url.render_as_string(hide_password=False)]
    with hall_db.db.transaction() as s:
        f = form(s)
    ticket = {"item_code": f.item_code, "materials": f.materials, "note": MARKER,
              "applicant": {"type": "person", "id_no": ID_NO, "name": NAME, "phone": PHONE, "address": "东村3组"},
              "agent": {"name": "李四", "id_no": AGENT_ID, "phone": AGENT_PHONE}}
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([*argv, "ticket", "add"], input=json.dumps(ticket, ensure_ascii=False),
                          capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 70, proc.stdout + proc.stderr
    assert proc.stderr.startswith("错误：程序遇到意外错误") and len(proc.stderr.strip().splitlines()) == 1
    assert "Traceback" not in proc.stderr
    log = (data / "logs" / "hall.log").read_text(encoding="utf-8")
    assert "unexpected error in ticket" in log and said in log and "Traceback" in log
    assert_clean("stderr", proc.stdout + proc.stderr)
    assert_clean("hall.log", log)


def test_redact_masks_identifiers_but_keeps_ticket_numbers_and_dates():
    line = (f"save failed for {ID_NO} / 110105491231002 / 91350100M000100Y43 tel {PHONE}, +86 138-1234-5678, "
            "0512-66881234 on 320581101-000-20260305-0012 at 2026-03-05 09:30:00.123456 (row 1234567)")
    out = redact(line)
    for s in (ID_NO, "110105491231002", "91350100M000100Y43", PHONE, "138-1234-5678", "66881234"):
        assert s not in out
    assert "320581101-000-20260305-0012" in out and "2026-03-05 09:30:00.123456" in out and "1234567" in out


def test_every_engine_hides_its_parameters():
    """Every create_engine in the program, the benchmarks and the scripts passes hide_parameters=True."""
    missing = []
    for folder in ("hall", "benchmarks", "scripts"):
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) \
                        == "create_engine":
                    kw = {k.arg: k.value for k in node.keywords}
                    if not (isinstance(kw.get("hide_parameters"), ast.Constant) and kw["hide_parameters"].value):
                        missing.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert missing == []


def test_a_logged_traceback_goes_through_the_crash_report_and_masks_passwords(hall_log):
    """``log.exception`` in any module: hall.log's handler has both locks — RedactingFilter (passwords, which
    caches a plain traceback on the record first) and RedactingFormatter (the crash report, no quoted values)."""
    import sqlite3

    try:
        raise sqlite3.OperationalError(f"no such row '{NAME}' on postgresql://hall:s3cret@server/hall")
    except sqlite3.OperationalError:
        logging.getLogger("hall.somewhere").exception("lookup failed")
    for h in logging.getLogger("hall").handlers:
        h.flush()
    log = hall_log.read_text(encoding="utf-8")
    assert "lookup failed" in log and "Traceback" in log and "sqlite3.OperationalError" in log
    assert "s3cret" not in log and "postgresql://hall:***@server/hall" in log
    assert_clean("hall.log", log)
