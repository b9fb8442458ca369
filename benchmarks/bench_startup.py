"""Cold start of `hall` to an interactive window, beside a bare PySide6 QMainWindow start, in the same run.

Budget (DESIGN.md): ≤ 2 × the bare start. Each start is a fresh process (offscreen platform), timed from spawn
until the program reports that its event loop is running with the window shown:

- bare:   python -c "QApplication; QMainWindow().show(); first event-loop turn"
- login:  `python -m hall` until the login dialog takes input (the ledger opens behind it, see hall/ui/startup.py)
- main:   `python -m hall` with the probe logging in as a staff member as soon as the ledger is open (a person
          types for longer than that), until the main window is up; and the part from Enter to the window

    .venv/bin/python benchmarks/bench_startup.py [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BARE = """
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication([])
w = QMainWindow(); w.resize(1280, 760); w.show()
def ready():
    print("interactive: bare", flush=True); app.quit()
QTimer.singleShot(0, ready)
app.exec()
"""


def timed(cmd: list[str], env: dict[str, str], marker: str) -> float:
    return timed_lines(cmd, env, marker)[0]


def timed_lines(cmd: list[str], env: dict[str, str], marker: str) -> tuple[float, dict[str, float]]:
    """Seconds from spawn to ``interactive: marker``, and to every other probe line seen before it."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True)
    assert proc.stdout is not None
    elapsed, seen = float("nan"), {}
    for line in proc.stdout:
        seen[line.strip()] = time.perf_counter() - start
        if line.startswith(f"interactive: {marker}"):
            elapsed = seen[line.strip()]
            break
    proc.kill()
    proc.wait()
    return elapsed, seen


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    with tempfile.TemporaryDirectory() as tmp:
        env["HALL_HOME"] = tmp
        # First start creates and seeds the ledger; the measured starts are the everyday ones.
        subprocess.run([sys.executable, "-m", "hall.cli", "init", "--admin-password", "bench-pass-1"], env=env,
                       check=True, capture_output=True)
        subprocess.run([sys.executable, "-m", "hall.cli", "staff", "add", "--no", "c01", "--name", "王小明",
                        "--role", "clerk", "--window", "W02", "--password", "bench-pass-1"], env=env, check=True,
                       capture_output=True)
        results: dict[str, list[float]] = {"bare": [], "login": [], "main": [], "after_login": []}
        for _ in range(args.runs):  # interleaved, so machine load hits all three alike
            results["bare"].append(timed([sys.executable, "-c", BARE], env, "bare"))
            results["login"].append(timed([sys.executable, "-m", "hall"], dict(env, HALL_STARTUP_PROBE="login"),
                                          "login"))
            total, seen = timed_lines([sys.executable, "-m", "hall"],
                                      dict(env, HALL_STARTUP_PROBE="main:c01:bench-pass-1"), "main")
            results["main"].append(total)
            results["after_login"].append(total - seen.get("submitted: login", float("nan")))
    bare = statistics.median(results["bare"])
    print(f"runs: {args.runs} each (medians), data dir seeded once; {Path(sys.executable).name}")
    print(f"{'bare PySide6 QMainWindow start':<46} {bare * 1000:7.0f} ms")
    for key, label in (("login", "hall → login dialog interactive"),
                       ("main", "hall → login (once the ledger is open) → main"),
                       ("after_login", "  of which: Enter on the login → main window")):
        med = statistics.median(results[key])
        print(f"{label:<46} {med * 1000:7.0f} ms   {med / bare:4.2f} × bare")
    login_ratio = statistics.median(results["login"]) / bare
    print(f"budget ≤ 2.0 × bare to the first interactive window: {'met' if login_ratio <= 2 else 'MISSED'}"
          f" ({login_ratio:.2f} ×)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
