"""UI text goes through Qt's translation functions with literal strings, so Qt Linguist files can be made."""

from __future__ import annotations

import ast
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _tr_calls(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
            if name == "tr" and node.args:
                yield node, node.args[0]
            elif name == "translate" and len(node.args) >= 2:
                yield node, node.args[1]


def test_no_text_is_built_inside_a_translation_call():
    """tr(f"…{x}") or tr("a" + b) can never match a translation: build text around tr(), never inside it.

    Lookups of label tables (tr(LABELS[key])) and wrappers (def tr(text)) are fine: their literals are plain.
    """
    problems = []
    literal = 0
    for path in sorted((ROOT / "hall" / "ui").glob("*.py")):
        for node, arg in _tr_calls(path):
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                literal += 1
            elif isinstance(arg, ast.JoinedStr | ast.BinOp) or (
                    isinstance(arg, ast.Call) and getattr(arg.func, "attr", "") == "format"):
                problems.append(f"{path.name}:{node.lineno}: {ast.unparse(arg)[:60]}")
    assert problems == []
    assert literal > 200


@pytest.mark.skipif(shutil.which("pyside6-lupdate") is None and not (ROOT / ".venv/bin/pyside6-lupdate").exists(),
                    reason="pyside6-lupdate not installed")
def test_lupdate_extracts_the_ui_strings(tmp_path):
    lupdate = shutil.which("pyside6-lupdate") or str(ROOT / ".venv/bin/pyside6-lupdate")
    out = tmp_path / "hall_en.ts"
    files = [str(p) for p in sorted((ROOT / "hall" / "ui").glob("*.py"))]
    subprocess.run([lupdate, "-source-language", "zh_CN", "-target-language", "en", *files, "-ts", str(out)],
                   check=True, capture_output=True, timeout=120)
    text = out.read_text(encoding="utf-8")
    assert text.count("<message>") > 200
    assert "<source>收件登记 F2</source>" in text and "<source>请群众评价 F9</source>" in text
