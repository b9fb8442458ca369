"""Nothing writes a projection table except a projector: a static scan of every function in ``hall``.

A function writes when its body builds an INSERT/UPDATE/DELETE (``insert()``, ``update()``, ``delete()``,
``upsert_insert()``, ``table.delete()``), executes a module-level statement built that way, adds to or deletes from
a session (``session.add`` …), or carries raw SQL that writes. Such a function must be a projector
(``@ledger.projector`` / ``@ledger.bulk_projector``), a private helper used only by projectors of its module, or
one of the few writers of bookkeeping listed below with the reason. What this cannot see — an attribute assigned
on a loaded row (``t.state = …``) outside a projector — the rebuild-and-compare tests catch instead
(tests/services/test_ledger_check.py, and ``HALL_LEDGER_CHECK=1`` on any test run).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "hall"

# module path under hall/ -> functions allowed to write although they are not
# projectors, and why.
ALLOWED: dict[str, tuple[set[str], str]] = {
    "services/storage/ledger.py": ({"append", "append_events", "_next_in_chain", "rebuild_heads"},
                           "the hash chain: the events and each node's head"),
    "services/tickets/numbering.py": ({"next_number", "claim_in_transaction", "rebuild_serials", "raise_serials"},
                              "the ticket serial counters, the numbering's own lock (derived again on rebuild)"),
    "services/backup_chain.py": ({"_apply", "_to_point"},
                                 "a backup copy rolled forward (the backed-up events verbatim, and the heads they end"
                                 " on) or back to an older day (the later events removed before the rebuild)"),
    "services/tickets/record.py": ({"touch"},
                                   "a ticket's version compare-and-set, the last step of every ticket projector"),
    "services/sync/exchange.py": ({"_store"},
                                  "a peer's verified events stored verbatim, and that peer's chain head"),
    "services/sync/parking.py": ({"_write"},
                                 "this node's local list of verified events waiting for what they depend on "
                                 "(not a projection)"),
    "services/sync/journal.py": ({"record_received", "record_export"},
                                 "this node's local record of bundles written and taken in (not a projection)"),
    "services/sync/directory.py": ({"store"},
                                   "a laptop's local copy of the hall's staff directory, replaced whole at each "
                                   "import (not a projection, never replicated)"),
    "services/sync/peers.py": ({"raise_serials"},
                               "the ticket serial counters raised to what a peer numbered (derived again on rebuild)"),
    "services/sync/conflicts.py": ({"admit", "_hold", "reproject"},
                                   "the sync conflict gate: it stands where a projector's call is (import, replay) "
                                   "and derives the conflict, the held events and the ticket again from the events"),
    "services/storage/identity.py": ({"_from_directory"},
                                     "a laptop's directory-only staff row for a hall clerk an event names, created "
                                     "while a projector resolves that uid (a replay creates it the same way)"),
    "services/ledger_check.py": ({"replay", "rebuild", "check"},
                                 "the rebuild from the events itself (check: into its scratch copy)"),
}
SESSION_WRITES = {"add", "add_all", "merge", "delete", "bulk_save_objects", "bulk_insert_mappings",
                  "bulk_update_mappings"}
SESSION_NAMES = {"session", "s", "sess", "dst"}
RAW_WRITE = re.compile(r"^\s*(INSERT\s+INTO|UPDATE\s+\S+\s+SET|DELETE\s+FROM|REPLACE\s+INTO|TRUNCATE\s|MERGE\s+INTO)",
                       re.IGNORECASE)


@dataclass(frozen=True)
class Write:
    module: str
    function: str
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.module}:{self.line} {self.function}: {self.what}"


def _builders(tree: ast.Module) -> set[str]:
    """Names that build a write statement here: insert/update/delete imported from SQLAlchemy, upsert_insert."""
    names = {"upsert_insert"}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("sqlalchemy"):
            names.update(a.asname or a.name for a in node.names if a.name in ("insert", "update", "delete"))
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and \
                isinstance(node.value.func, ast.Name) and node.value.func.id == "upsert_insert":
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))  # dialect_insert = upsert_insert(…)
    return names


def _writes_in(node: ast.AST, builders: set[str], statements: set[str]) -> list[tuple[int, str]]:
    """The write constructs directly in ``node`` (nested functions are their own units)."""
    found: list[tuple[int, str]] = []
    todo = list(ast.iter_child_nodes(node))
    while todo:
        n = todo.pop()
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        todo.extend(ast.iter_child_nodes(n))
        if isinstance(n, ast.Call):
            f = n.func
            if isinstance(f, ast.Name) and f.id in builders:
                found.append((n.lineno, f"{f.id}()"))
            elif isinstance(f, ast.Attribute) and f.attr in ("insert", "update", "delete") and not n.args \
                    and not n.keywords and not (isinstance(f.value, ast.Name) and f.value.id == "self"):
                # table.delete(), Model.__table__.insert() (a widget's self.update() repaints, it writes nothing)
                found.append((n.lineno, f".{f.attr}()"))
            elif isinstance(f, ast.Attribute) and f.attr in SESSION_WRITES and (
                    (isinstance(f.value, ast.Name) and f.value.id in SESSION_NAMES)
                    or (isinstance(f.value, ast.Attribute) and f.value.attr == "session")):
                found.append((n.lineno, f"{ast.unparse(f)}()"))
        elif isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id in statements:
            found.append((n.lineno, f"executes {n.id}"))
        elif isinstance(n, ast.Constant) and isinstance(n.value, str) and RAW_WRITE.match(n.value):
            found.append((n.lineno, f"raw SQL {n.value.split()[0].upper()}"))
    return found


def _is_projector(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    for d in fn.decorator_list:
        target = d.func if isinstance(d, ast.Call) else d
        name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
        if name in ("projector", "bulk_projector"):
            return True
    return False


def scan(source: str, module: str, allowed: set[str] | None = None) -> list[Write]:
    """Every write in ``source`` made outside a projector, its private helpers and ``allowed``."""
    tree = ast.parse(source)
    for node in ast.walk(tree):  # docstrings are prose, not SQL
        if isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and node.body \
                and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant):
            node.body = node.body[1:] or [ast.Pass()]
    builders = _builders(tree)
    # Module-level statements built once (``_CLOSE = update(…)``): whoever executes one writes.
    statements = {t.id for node in tree.body if isinstance(node, ast.Assign | ast.AnnAssign)
                  for t in (node.targets if isinstance(node, ast.Assign) else [node.target])
                  if isinstance(t, ast.Name) and node.value is not None
                  and _writes_in(ast.Module(body=[ast.Expr(node.value)], type_ignores=[]), builders, set())}
    functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}
    parents: dict[str, str] = {}

    def collect(body: list[ast.stmt], prefix: str) -> None:
        for node in body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                name = f"{prefix}{node.name}"
                functions[name] = node
                if prefix:
                    parents[name] = prefix[:-1]
                collect(node.body, f"{name}.")
            elif isinstance(node, ast.ClassDef):
                collect(node.body, f"{prefix}{node.name}.")

    collect(tree.body, "")
    allowed = allowed or set()
    ok = {name for name, fn in functions.items() if _is_projector(fn) or name in allowed or "*" in allowed}
    # Who mentions each function (a call, or passing it on), by the function the mention sits in.
    mentions: dict[str, set[str]] = {name: set() for name in functions}
    for name, fn in functions.items():
        for n in ast.walk(fn):
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load):
                for target in functions:
                    if target.rsplit(".", 1)[-1] == n.id and target != name:
                        mentions[target].add(name)
    changed = True
    while changed:  # a private helper whose every user may write may write too
        changed = False
        for name in functions:
            short = name.rsplit(".", 1)[-1]
            users = mentions[name] | ({parents[name]} if name in parents else set())
            if name not in ok and short.startswith("_") and users and users <= ok:
                ok.add(name)
                changed = True
    out = []
    for name, fn in functions.items():
        if name in ok:
            continue
        out += [Write(module, name, line, what) for line, what in _writes_in(fn, builders, statements)]
    return sorted(out, key=lambda w: (w.module, w.line))


def test_only_projectors_write_the_projections():
    found: list[Write] = []
    for path in sorted(ROOT.rglob("*.py")):
        module = path.relative_to(ROOT).as_posix()
        if module.startswith("migrations/"):
            continue  # the schema, not its rows
        allowed = ALLOWED.get(module, (set(), ""))[0]
        found += scan(path.read_text(encoding="utf-8"), module, allowed)
    assert [str(w) for w in found] == []


def test_the_scan_finds_planted_direct_writes():
    planted = '''
from sqlalchemy import insert, update
from hall.services.storage import ledger

_SET_STATE = update(Ticket).values(state="x")


def seed_something(session, actor):
    """INSERT in a docstring is prose."""
    session.add(CalendarDay(day=d))


def change_state(session, number):
    session.connection().execute(_SET_STATE)


def raw(conn):
    conn.exec_driver_sql("UPDATE tickets SET state = 'x'")


def through_a_helper(session):
    _write(session)


def _write(session):
    session.execute(insert(Ticket.__table__).values(number="1"))


@ledger.projector("thing.done")
def _project(session, ev, p):
    session.add(Thing())
    session.connection().execute(_SET_STATE)
    _only_for_projectors(session)


def _only_for_projectors(session):
    session.execute(Thing.__table__.delete())


def reads_only(session, seen):
    seen.add(1)
    return session.scalars(select(Ticket)).all()
'''
    found = {(w.function, w.what) for w in scan(planted, "planted.py")}
    assert found == {
        ("seed_something", "session.add()"),
        ("change_state", "executes _SET_STATE"),
        ("raw", "raw SQL UPDATE"),
        ("_write", "insert()"),  # used by a function that is not a projector: not excused
    }
    # The bookkeeping writers are excused only by name.
    assert scan(planted, "planted.py", {"seed_something", "change_state", "raw", "through_a_helper"}) == []
