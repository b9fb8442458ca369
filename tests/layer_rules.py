"""The package order of ``hall`` and the checks the layer test runs (a plain module so a test can plant bad code in a
copy of the tree and see each check fail).

Order, bottom to top. A module may import its own package and anything below it; never above. Within a package,
imports must still form no cycle. Every import counts: at module level, inside functions, under
``if TYPE_CHECKING:`` — a loop hidden in a function body is still a loop.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

# Lower index = lower layer. A module belongs to the longest prefix listed.
ORDER: tuple[tuple[str, ...], ...] = (
    ("hall", "hall.errors", "hall.paths", "hall.logging_setup"),
    ("hall.models",),
    ("hall.migrations",),  # Alembic revisions: built on the models, run by services/storage/migrate
    ("hall.services", "hall.services.base"),
    ("hall.services.storage",),
    ("hall.services.calendar",),
    ("hall.services.catalog",),
    ("hall.services.people",),
    ("hall.services.tickets",),
    ("hall.services.registers",),
    ("hall.services.cases",),
    ("hall.services.reporting",),
    ("hall.services.sync",),  # village laptops: enrolment, bundles, verified imports
    # The composition of the services: the projection registry and the opening of a hall.
    ("hall.services.projections", "hall.services.bootstrap", "hall.services.ledger_check", "hall.services.backups",
     "hall.services.backup_chain", "hall.services.backup_list"),
    ("hall.print",),
    ("hall.exchange",),
    ("hall.demo",),
    ("hall.cli", "hall.ui", "hall.__main__"),
)


def layer_of(module: str) -> int:
    best, best_len = -1, -1
    for level, prefixes in enumerate(ORDER):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best_len:
                best, best_len = level, len(prefix)
    return best


@dataclass(frozen=True)
class Import:
    source: str  # importing module
    target: str  # imported module (resolved to a module of the tree when it names one)
    line: int


def module_name(root: Path, path: Path) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules(root: Path) -> dict[str, Path]:
    return {module_name(root, p): p for p in sorted(root.rglob("*.py"))}


def imports(root: Path) -> list[Import]:
    """Every import of a ``hall`` module by a ``hall`` module, wherever it is written."""
    known = modules(root)
    out: list[Import] = []
    for name, path in known.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] == "hall":
                        out.append(Import(name, _resolve(alias.name, known), node.lineno))
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")
                    anchor = anchor[: len(anchor) - (node.level - 1)]
                    base = ".".join([*anchor, base] if base else anchor)
                if base.split(".")[0] != "hall":
                    continue
                for alias in node.names:
                    sub = f"{base}.{alias.name}"
                    out.append(Import(name, sub if sub in known else _resolve(base, known), node.lineno))
    return [i for i in out if i.target != i.source]


def _resolve(name: str, known: dict[str, Path]) -> str:
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name


def upward(root: Path) -> list[str]:
    problems = []
    for imp in imports(root):
        src, dst = layer_of(imp.source), layer_of(imp.target)
        if src < 0 or dst < 0:
            problems.append(f"{imp.source}:{imp.line} imports {imp.target}: a module outside the package order")
        elif dst > src:
            problems.append(f"{imp.source}:{imp.line} imports {imp.target}, a layer above it")
    return problems


def cycles(root: Path) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    graph: dict[str, set[str]] = {m: set() for m in modules(root)}
    for imp in imports(root):
        if imp.target in graph and not _is_package_of(imp.target, imp.source):
            graph[imp.source].add(imp.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def _is_package_of(package: str, module: str) -> bool:
    # ``from hall.services.cases import workflow`` names the package first; importing a package's (empty)
    # __init__ is not an edge back from its own modules.
    return module.startswith(package + ".")


def dynamic_imports(root: Path) -> list[str]:
    """``importlib.import_module``/``__import__`` anywhere in the tree: imports the layer check cannot see."""
    problems = []
    for name, path in modules(root).items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                fn = ast.unparse(node.func)
                if fn in ("importlib.import_module", "import_module", "__import__", "importlib.__import__"):
                    problems.append(f"{name}:{node.lineno} {ast.unparse(node)}")
            elif (isinstance(node, ast.ImportFrom) and node.module == "importlib"
                  and any(a.name == "import_module" for a in node.names)):
                problems.append(f"{name}:{node.lineno} imports importlib.import_module")
    return problems
