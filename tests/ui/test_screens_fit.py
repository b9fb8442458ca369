"""Every screen and main dialog fits a 1366×768 screen at 150 % scaling, and no label is cut without a tooltip.

The scale and the screen must be set before Qt starts, so the screens are opened in a child process
(screens_fit_child.py) on a copy of the test hall, offscreen, with a 2049×1152 screen: 1366×768 logical.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.gui
CHILD = Path(__file__).with_name("screens_fit_child.py")


def test_every_screen_fits_1366x768_at_150_percent(tmp_path, _sqlite_template):
    data = tmp_path / "data"
    shutil.copytree(_sqlite_template, data)
    config = tmp_path / "screen.json"
    config.write_text(json.dumps({"screens": [{"name": "hall", "x": 0, "y": 0, "width": 2049, "height": 1152,
                                               "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}]}))
    env = {**os.environ, "QT_QPA_PLATFORM": f"offscreen:configfile={config}", "QT_SCALE_FACTOR": "1.5",
           "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parents[2]), os.environ.get("PYTHONPATH", "")])}
    run = subprocess.run([sys.executable, str(CHILD), str(data)], env=env, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    got = json.loads(run.stdout.strip().splitlines()[-1])
    assert len(got["checked"]) >= 18, got["checked"]
    assert got["problems"] == []
