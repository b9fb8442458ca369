"""Test set-up shared by every test: Qt offscreen, standard directories redirected, real databases."""

from __future__ import annotations

import os

# Before anything imports Qt: tests never open a real window.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory, monkeypatch):
    """Every test gets its own HALL_HOME so nothing touches the user's real data directory."""
    home = tmp_path_factory.mktemp("hall-home")
    monkeypatch.setenv("HALL_HOME", str(home))
    return home
