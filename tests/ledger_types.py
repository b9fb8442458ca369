"""The event types the product can write, read from its source (a plain module shared by tests).

Every ``ledger.append`` / ``ledger.append_many`` call in ``hall/`` names its event type as a string literal, a
module constant, a conditional between two of those, or a parameter of a function that only passes it on
(``calendar.record_calendar_event``); the calls of such a function are then read the same way. A call site
whose type cannot be read this way fails the scan, so a new way of naming a type cannot slip past the tests
that compare a ledger with this list.
"""

from __future__ import annotations

import ast
from pathlib import Path

HALL = Path(__file__).resolve().parent.parent / "hall"
APPEND_NAMES = frozenset({"append", "append_many"})
TYPE_ARG = 2  # (session, actor, type, ...)


def _constants(tree: ast.Module) -> dict[str, str]:
    out = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value,
                                                                                                 str):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    out[target.id] = node.value.value
    return out


def _callee(call: ast.Call) -> str | None:
    f = call.func
    if isinstance(f, ast.Attribute):
        return f.attr
    if isinstance(f, ast.Name):
        return f.id
    return None


def _is_ledger_append(call: ast.Call) -> bool:
    f = call.func
    return isinstance(f, ast.Attribute) and f.attr in APPEND_NAMES and isinstance(f.value, ast.Name) \
        and f.value.id == "ledger"


def _enclosing_functions(tree: ast.Module) -> dict[ast.AST, ast.FunctionDef]:
    owner: dict[ast.AST, ast.FunctionDef] = {}
    for fn in ast.walk(tree):
        if isinstance(fn, ast.FunctionDef):
            for node in ast.walk(fn):
                owner.setdefault(node, fn)  # outermost first is fine: no nested appenders exist
    return owner


def _module_constants() -> dict[str, dict[str, str]]:
    """Each ``hall`` module's string constants, by module name (for ``other_module.CONSTANT``)."""
    out = {}
    for path in sorted(HALL.rglob("*.py")):
        parts = path.relative_to(HALL.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = _constants(ast.parse(path.read_text(encoding="utf-8")))
    return out


def _with_imports(tree: ast.Module, constants: dict[str, str],
                  everywhere: dict[str, dict[str, str]]) -> dict[str, str]:
    """``constants`` plus names the module imports: ``from m import C``, and ``mod.C`` after ``from p import mod``."""
    out = dict(constants)
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("hall"):
            for alias in node.names:
                local = alias.asname or alias.name
                sub = f"{node.module}.{alias.name}"
                if sub in everywhere:  # a module: its constants as local.NAME
                    out.update({f"{local}.{k}": v for k, v in everywhere[sub].items()})
                elif alias.name in everywhere.get(node.module, {}):
                    out[local] = everywhere[node.module][alias.name]
    return out


def _values(expr: ast.expr, constants: dict[str, str]) -> set[str] | None:
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return {expr.value}
    if isinstance(expr, ast.Name) and expr.id in constants:
        return {constants[expr.id]}
    if isinstance(expr, ast.Attribute) and ast.unparse(expr) in constants:
        return {constants[ast.unparse(expr)]}
    if isinstance(expr, ast.IfExp):
        a, b = _values(expr.body, constants), _values(expr.orelse, constants)
        return a | b if a is not None and b is not None else None
    return None


def appended_event_types() -> set[str]:
    """Every event type some code in ``hall/`` appends to the ledger."""
    found: set[str] = set()
    unread: list[str] = []
    forwarders: dict[str, int] = {}  # function name -> index of the parameter it passes on as the type
    modules = []
    everywhere = _module_constants()
    for path in sorted(HALL.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        modules.append((path, tree, _with_imports(tree, _constants(tree), everywhere)))
    for path, tree, constants in modules:
        owners = _enclosing_functions(tree)
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and _is_ledger_append(node)) or len(node.args) <= TYPE_ARG:
                continue
            arg = node.args[TYPE_ARG]
            values = _values(arg, constants)
            if values is not None:
                found |= values
                continue
            fn = owners.get(node)
            params = [a.arg for a in fn.args.args] if fn is not None else []
            if isinstance(arg, ast.Name) and arg.id in params:
                forwarders[fn.name] = params.index(arg.id)  # type: ignore[union-attr]
                continue
            unread.append(f"{path.relative_to(HALL.parent)}:{node.lineno}")
    for path, tree, constants in modules:
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _callee(node) in forwarders:
                index = forwarders[_callee(node)]  # type: ignore[index]
                if len(node.args) <= index:
                    unread.append(f"{path.relative_to(HALL.parent)}:{node.lineno}")
                    continue
                values = _values(node.args[index], constants)
                if values is None:
                    unread.append(f"{path.relative_to(HALL.parent)}:{node.lineno}")
                else:
                    found |= values
    assert not unread, f"event type not readable from the source at {unread}"
    return found
