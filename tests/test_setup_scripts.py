"""Cheap checks of the two-command set-up: scripts parse, CI calls the test command, README leads with them."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("script", ["run", "scripts/setup_linux.sh", "scripts/build_bundle.sh"])
def test_posix_scripts_parse(script: str) -> None:
    path = ROOT / script
    assert path.read_text(encoding="utf-8").startswith("#!/bin/sh\n")
    assert os.access(path, os.X_OK), f"{script} must be executable"
    subprocess.run(["sh", "-n", str(path)], check=True)


def test_ci_run_is_executable_and_calls_the_test_command() -> None:
    ci = ROOT / ".ci" / "run"
    assert os.access(ci, os.X_OK)
    text = ci.read_text(encoding="utf-8")
    assert text.startswith("#!/usr/bin/env bash\n")
    assert "set -euo pipefail" in text
    assert re.search(r"^exec \./run test$", text, re.MULTILINE)
    if shutil.which("bash"):
        subprocess.run(["bash", "-n", str(ci)], check=True)


def test_readme_first_two_commands_are_app_and_test() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first_block = re.search(r"```[a-z]*\n(.*?)```", readme, re.DOTALL)
    assert first_block is not None, "README.md has no code block"
    commands = [line.strip() for line in first_block.group(1).splitlines() if line.strip()]
    assert commands[:2] == ["./run app", "./run test"]


def test_run_without_a_known_command_prints_usage_and_fails() -> None:
    proc = subprocess.run([str(ROOT / "run"), "no-such-command"], capture_output=True, text=True)
    assert proc.returncode == 64
    assert "./run app" in proc.stderr and "./run test" in proc.stderr


def test_run_cmd_handles_the_same_commands_with_crlf_lines() -> None:
    raw = (ROOT / "run.cmd").read_bytes()
    # cmd.exe mis-reads labels in LF-only batch files.
    assert raw.count(b"\n") == raw.count(b"\r\n")
    text = raw.decode("ascii")
    for command in ("app", "test", "admin", "setup"):
        assert f'if /i "%CMD%"=="{command}"' in text
    for target in (r"Scripts\hall.exe", r"Scripts\hall-admin.exe", r"Scripts\ruff.exe", "-m pytest"):
        assert target in text
    assert 'pip install --disable-pip-version-check --no-input -q -e ".[test]"' in text


def test_bundle_spec_reads_name_and_version_from_pyproject() -> None:
    spec = (ROOT / "hall.spec").read_text(encoding="utf-8")
    assert "tomllib" in spec and "pyproject.toml" in spec
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["name"] not in re.findall(r"""name\s*=\s*["']([^"']+)["']""", spec)
    # The spec is plain Python: it must at least compile.
    compile(spec, "hall.spec", "exec")


@pytest.mark.skipif(sys.platform != "linux", reason="the set-up script is for Debian/Ubuntu")
def test_setup_is_quick_and_silent_when_everything_is_present(tmp_path: Path) -> None:
    """With the venv and packages in place (as they are when these tests run), set-up is a no-op."""
    if not (ROOT / ".venv" / ".hall-setup.stamp").exists():
        pytest.skip("not set up through ./run")
    if (ROOT / "pyproject.toml").stat().st_mtime > (ROOT / ".venv" / ".hall-setup.stamp").stat().st_mtime:
        pytest.skip("pyproject.toml changed since the last set-up")
    proc = subprocess.run(
        ["sh", str(ROOT / "scripts" / "setup_linux.sh"), "test"],
        capture_output=True,
        text=True,
        env={**os.environ, "HALL_SKIP_APT": "1"},
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
