"""Layers hold: services, models, print and exchange import without PySide6; the UI issues no queries."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "hall"


def test_core_layers_import_without_qt():
    code = (
        "import sys, pkgutil, importlib\n"
        "import hall\n"
        "for pkg in ('hall.models', 'hall.services', 'hall.print', 'hall.exchange', 'hall.cli'):\n"
        "    mod = importlib.import_module(pkg)\n"
        "    for info in pkgutil.walk_packages(mod.__path__, pkg + '.'):\n"
        "        importlib.import_module(info.name)\n"
        "bad = sorted(m for m in sys.modules if m.startswith(('PySide6', 'shiboken6', 'hall.ui')))\n"
        "print(bad)\n"
        "sys.exit(1 if bad else 0)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _imports(path: Path) -> set[str]:
    """Modules imported at run time (imports under ``if TYPE_CHECKING:`` are annotations only)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            node.body = []
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_imports_point_one_way():
    forbidden = {
        "models": ("hall.services", "hall.ui", "hall.print", "hall.exchange", "hall.cli", "PySide6"),
        "services": ("hall.ui", "hall.print", "hall.exchange", "hall.cli", "PySide6", "reportlab"),
        "print": ("hall.ui", "hall.cli", "PySide6"),
        "exchange": ("hall.ui", "hall.cli", "PySide6"),
    }
    problems = []
    for layer, bad in forbidden.items():
        for path in (ROOT / layer).rglob("*.py"):
            for name in _imports(path):
                if name.startswith(bad):
                    problems.append(f"{path.relative_to(ROOT)} imports {name}")
    assert problems == []


def test_ui_issues_no_queries():
    problems = []
    for path in (ROOT / "ui").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for name in _imports(path):
            if name.startswith(("sqlalchemy", "hall.models")):
                problems.append(f"{path.relative_to(ROOT)} imports {name}")
        for needle in ("session.execute(", "session.scalars(", "session.query(", "select("):
            if needle in text:
                problems.append(f"{path.relative_to(ROOT)} uses {needle}")
    assert problems == []
