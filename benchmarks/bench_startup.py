"""Cold start of `hall` to an interactive window, beside a bare PySide6 QMainWindow start, in the same run.

Budget (DESIGN.md): ≤ 2 × the bare start. Each start is a fresh process (offscreen platform), timed from spawn
until the program reports that its event loop is running with the window shown:

- bare:   python -c "QApplication; QMainWindow().show(); first event-loop turn"
- login:  `python -m hall` until the login dialog takes input (the ledger opens behind it, see hall/ui/startup.py)
- main:   `python -m hall` with the probe logging in as a staff member as soon as the ledger is open (a person
          types for longer than that), until the main window is up; and the part from Enter to the window

    .venv/bin/python benchmarks/bench_startup.py [--runs 7]

With ``--tickets 1000000`` (run it under ``flock /tmp/bench1m.lock``) the same starts run on a copy of the
manager's 1M ledger (``_manager.manager_ledger``: the demo ledger with the daily rules' backlog — thousands of
follow-ups, accountability records), logging in as a **manager**, whose window holds the dashboard, the
statistics and the registers. Reported: Enter → main window interactive (the budget: ≤ 1 s), and Enter → every
screen the window started filled in (the queue's first page and counts, the dashboard's snapshot: read in the
background, the window already usable meanwhile). The copy has today's daily backup already (an everyday start,
not the first of the day, which also copies the ledger in a background thread); the cached ledger is never
written to (checked at the end).
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


def timed_lines(cmd: list[str], env: dict[str, str], marker: str, *,
                until: str | None = None) -> tuple[float, dict[str, float]]:
    """Seconds from spawn to ``interactive: marker``, and to every other probe line seen before it (and, with
    ``until``, up to that line)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True)
    assert proc.stdout is not None
    elapsed, seen = float("nan"), {}
    for line in proc.stdout:
        seen[line.strip()] = time.perf_counter() - start
        if line.startswith(f"interactive: {marker}"):
            elapsed = seen[line.strip()]
        if (until is None and elapsed == elapsed) or (until is not None and line.startswith(until)):
            break
    proc.kill()
    proc.wait()
    return elapsed, seen


def prepare_ledger(tickets: int) -> tuple[Path, object]:
    """A working copy of the manager's ledger with a manager and an administrator who can log in, and today's
    daily backup made. Returns the copy's directory and the ``untouched`` guard of the cache."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _ledger import untouched, working_copy
    from _manager import manager_ledger

    from hall.paths import Paths
    from hall.services.bootstrap import open_hall
    from hall.services.people import staff

    home = manager_ledger(tickets)
    guard = untouched(home)
    guard.__enter__()
    work = working_copy(home)
    opened = open_hall(Paths(work))  # migrations, if the cache predates one, happen here and not in a timed start
    with opened.db.transaction() as s:
        if staff.needs_admin(s):
            staff.create_first_admin(s, opened.system, "bench-pass-1")
        if "m99" not in {p.staff_no for p in staff.list_staff(s)}:
            staff.add_staff(s, opened.system, staff.StaffForm("m99", "测试主任", "manager", "中心主任",
                                                              password="bench-pass-1"))
    t0 = time.perf_counter()
    opened.db.daily_backup()
    print(f"today's daily backup made in {time.perf_counter() - t0:.0f} s (an everyday start finds it done)",
          flush=True)
    opened.db.dispose()
    return work, guard


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--tickets", type=int, default=0, help="start on the manager's ledger of this size (e.g. 1000000)")
    args = ap.parse_args()
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    with tempfile.TemporaryDirectory() as tmp:
        guard = None
        if args.tickets:
            work, guard = prepare_ledger(args.tickets)
            env["HALL_HOME"] = str(work)
            who = "main:m99:bench-pass-1"
        else:
            env["HALL_HOME"] = tmp
            # First start creates and seeds the ledger; the measured starts are the everyday ones.
            subprocess.run([sys.executable, "-m", "hall.cli", "init", "--admin-password", "bench-pass-1"], env=env,
                           check=True, capture_output=True)
            subprocess.run([sys.executable, "-m", "hall.cli", "staff", "add", "--no", "c01", "--name", "王小明",
                            "--role", "clerk", "--window", "W02", "--password", "bench-pass-1"], env=env, check=True,
                           capture_output=True)
            who = "main:c01:bench-pass-1"
        results: dict[str, list[float]] = {"bare": [], "login": [], "main": [], "after_login": [], "filled": []}
        timed_lines([sys.executable, "-m", "hall"], dict(env, HALL_STARTUP_PROBE=who), "main")  # warm the caches
        for _ in range(args.runs):  # interleaved, so machine load hits all three alike
            results["bare"].append(timed([sys.executable, "-c", BARE], env, "bare"))
            results["login"].append(timed([sys.executable, "-m", "hall"], dict(env, HALL_STARTUP_PROBE="login"),
                                          "login"))
            total, seen = timed_lines([sys.executable, "-m", "hall"], dict(env, HALL_STARTUP_PROBE=who), "main",
                                      until="filled: main")
            submitted = seen.get("submitted: login", float("nan"))
            results["main"].append(total)
            results["after_login"].append(total - submitted)
            results["filled"].append(seen.get("filled: main", float("nan")) - submitted)
        if guard is not None:
            guard.__exit__(None, None, None)
    bare = statistics.median(results["bare"])
    role = "manager" if args.tickets else "clerk"
    ledger = f"{args.tickets:,}-ticket manager's ledger" if args.tickets else "fresh seeded ledger"
    print(f"runs: {args.runs} each (medians), {ledger}, logging in as a {role}; {Path(sys.executable).name}")
    print(f"{'bare PySide6 QMainWindow start':<50} {bare * 1000:7.0f} ms")
    for key, label in (("login", "hall → login dialog interactive"),
                       ("main", "hall → login (once the ledger is open) → main"),
                       ("after_login", "  of which: Enter on the login → main window"),
                       ("filled", "  Enter → the window's screens filled in")):
        values = results[key]
        med = statistics.median(values)
        print(f"{label:<50} {med * 1000:7.0f} ms   {med / bare:4.2f} × bare   (max {max(values) * 1000:.0f} ms)")
    login_ratio = statistics.median(results["login"]) / bare
    print(f"budget ≤ 2.0 × bare to the first interactive window: {'met' if login_ratio <= 2 else 'MISSED'}"
          f" ({login_ratio:.2f} ×)")
    if args.tickets:
        after = statistics.median(results["after_login"])
        print(f"budget Enter → main window ≤ 1 s at {args.tickets:,} tickets: {'met' if after <= 1 else 'MISSED'}"
              f" ({after * 1000:.0f} ms)")
    print(subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    return 0


if __name__ == "__main__":
    sys.exit(main())
