"""The interpreter never aborts under Qt's bindings (issue: PySide6 6.12.0).

PySide6-Essentials 6.12.0 drops one reference to ``None`` on every ``QListWidget.addItem(str)`` and one to ``True``
on every ``Signal.disconnect``; after a few thousand calls CPython aborts with ``Fatal Python error: none_dealloc``
(or ``bool_dealloc``) — a manager's Hall died after 15 dashboard refreshes. ``pyproject.toml`` pins a release
without the bug. These run the reproducers in a child process, far past the abort point, and assert a clean exit
and balanced reference counts, so moving the pin to a release that has the bug fails here, not at a hall.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.gui

CALLS = 20_000

ADD_ITEM = f"""
import sys
from pathlib import Path
from PySide6.QtWidgets import QApplication, QListWidget
app = QApplication(sys.argv)
w = QListWidget()
before = sys.getrefcount(None)
for i in range({CALLS}):
    w.addItem(str(i))
    if i % 500 == 499:
        w.clear()
w.clear()
print(sys.getrefcount(None) - before, flush=True)
"""

DISCONNECT = f"""
import sys
from pathlib import Path
from PySide6.QtCore import QCoreApplication, QObject, Signal
app = QCoreApplication(sys.argv)
class C(QObject):
    s = Signal()
class R(QObject):
    def slot(self):
        pass
c, r = C(), R()
before = sys.getrefcount(True)
for _ in range({CALLS}):
    c.s.connect(r.slot)
    c.s.disconnect(r.slot)
print(sys.getrefcount(True) - before, flush=True)
"""


def _child(code: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)


@pytest.mark.parametrize("code", [ADD_ITEM, DISCONNECT], ids=["addItem-str", "signal-disconnect"])
def test_twenty_thousand_calls_exit_cleanly(code):
    out = _child(code)
    assert out.returncode == 0, out.stderr[-2000:]  # an abort is -6 (SIGABRT) with "Fatal Python error"
    assert "Fatal Python error" not in out.stderr
    # Balanced: the count may drift by a few interned uses, never by one per call.
    assert abs(int(out.stdout.strip())) < 100, out.stdout


def test_the_pin_is_a_release_without_the_bug():
    from importlib.metadata import version

    assert version("PySide6-Essentials") == version("shiboken6")
    assert not version("PySide6-Essentials").startswith("6.12.0")


def test_a_managers_session_of_200_dashboard_refreshes_exits_cleanly(tmp_path):
    """What killed a manager's Hall on 6.12: the dashboard redrawn again and again (every minute, after every save)
    on a realistic ledger — demo tickets, the daily rules' follow-ups and B-posts in the side panels."""
    script = Path(__file__).with_name("manager_session.py")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", HALL_HOME=str(tmp_path / "home"))
    out = subprocess.run([sys.executable, str(script), "--refreshes", "200", "--dir", str(tmp_path / "data")],
                         capture_output=True, text=True, timeout=300, env=env)
    assert out.returncode == 0, (out.stdout[-1000:], out.stderr[-2000:])
    assert "Fatal Python error" not in out.stderr
    assert out.stdout.startswith("200 refreshes in ")
