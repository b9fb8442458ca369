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


# ------------------------------------------------------------------------------- the package order has teeth
import shutil  # noqa: E402

import layer_rules  # noqa: E402


def test_no_import_cycle_between_hall_modules_counting_imports_inside_functions():
    assert layer_rules.cycles(ROOT) == []


def test_no_import_goes_up_the_package_order():
    assert layer_rules.upward(ROOT) == []


def test_no_dynamic_import_of_hall_modules():
    assert layer_rules.dynamic_imports(ROOT) == []


def test_every_module_has_a_place_in_the_order():
    assert [m for m in layer_rules.modules(ROOT) if layer_rules.layer_of(m) < 0] == []


def _planted_tree(tmp_path: Path) -> Path:
    copy = tmp_path / "hall"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def test_a_planted_cycle_inside_a_function_is_found(tmp_path):
    tree = _planted_tree(tmp_path)
    target = tree / "services" / "tickets" / "record.py"
    target.write_text(target.read_text(encoding="utf-8")
                      + "\n\ndef _planted():\n    from hall.services.tickets import rules  # noqa: F401\n",
                      encoding="utf-8")
    assert ["hall.services.tickets.record", "hall.services.tickets.rules"] in layer_rules.cycles(tree)


def test_a_planted_upward_import_is_found(tmp_path):
    tree = _planted_tree(tmp_path)
    target = tree / "services" / "base" / "validators.py"
    target.write_text(target.read_text(encoding="utf-8")
                      + "\n\ndef _planted():\n    from hall.services.cases import workflow  # noqa: F401\n",
                      encoding="utf-8")
    assert any(p.startswith("hall.services.base.validators:") and "hall.services.cases.workflow" in p
               for p in layer_rules.upward(tree))


def test_a_planted_dynamic_import_is_found(tmp_path):
    tree = _planted_tree(tmp_path)
    target = tree / "ui" / "widgets.py"
    target.write_text(target.read_text(encoding="utf-8")
                      + "\n\ndef _planted():\n    import importlib\n    return importlib.import_module('hall.cli')\n",
                      encoding="utf-8")
    assert any("importlib.import_module('hall.cli')" in p for p in layer_rules.dynamic_imports(tree))
