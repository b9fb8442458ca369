"""Logging in one place: a rotating file in the data directory, warnings to stderr — and no personal data in it.

``hall.log`` and the crash report are read by an administrator, mailed to a supplier, attached to a ticket of a
help desk: they must not carry a citizen's ID number, phone or the payload of a save. Three locks:

- every engine is created with ``hide_parameters=True`` (hall/services/storage/db.py), so SQLAlchemy's own messages
  never show bound values;
- :func:`crash_report` formats an exception chain with database errors reduced to what a developer needs
  (the error class, SQLSTATE, constraint / table / column, the SQL text with its placeholders): PostgreSQL's
  DETAIL ("Failing row contains (…)", "Key (id_no)=(…) already exists") and any quoted value are left out;
- :class:`RedactingFormatter` writes every record of ``hall.log`` through :func:`redact`, which masks anything
  shaped like an ID number, a credit code or a phone number, and formats tracebacks with :func:`crash_report`;
  :class:`hall.redact.RedactingFilter` on the same handler masks a database password first.
"""

from __future__ import annotations

import logging
import logging.handlers
import re
import sys
import traceback
from pathlib import Path
from types import TracebackType

from hall.redact import RedactingFilter, mask_secrets

MAX_MESSAGE = 600  # characters of one exception's message kept in a report (a pasted page is not a diagnosis)
MAX_STATEMENT = 2000  # characters of a failed statement's SQL (placeholders only) kept

# Shapes of personal identifiers (not inside a longer run of digits or letters): an 18- or 15-character ID
# number, an 18-character unified credit code (digits and capitals, at least 8 digits), a mainland mobile
# (optionally +86, grouped 3-4-4) and a landline with its area code. A ticket number
# (320581101-000-20260305-0001) matches none of them: its parts are joined by hyphens on both sides.
_ID_RE = re.compile(r"(?<![0-9A-Za-z])(?:[0-9]{17}[0-9Xx]|[0-9]{15})(?![0-9A-Za-z])")
_CREDIT_RE = re.compile(r"(?<![0-9A-Za-z])(?=(?:[A-Z]*[0-9]){8})[0-9A-HJ-NPQRTUWXY]{18}(?![0-9A-Za-z])")
_MOBILE_RE = re.compile(r"(?<![0-9])(?:\+?86[- ]?)?1[3-9][0-9](?:[- ]?[0-9]{4}){2}(?![0-9])")
_LANDLINE_RE = re.compile(r"(?<![0-9-])0[0-9]{2,3}-?[2-9][0-9]{6,7}(?![0-9-])")
# A quoted value in a driver's message ('abc', "abc"); identifiers in quotes (a constraint's name) are kept.
_QUOTED_RE = re.compile(r"""(["'])([^"'\n]*)\1""")
_IDENTIFIER_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")


def _unquote_values(text: str) -> str:
    """Quoted values blanked ('…'), quoted identifiers kept: matched left to right, so the text between two
    quoted names is never taken for a quoted value."""
    return _QUOTED_RE.sub(lambda m: m.group(0) if _IDENTIFIER_RE.fullmatch(m.group(2)) else f"{m.group(1)}…"
                          f"{m.group(1)}", text)


def redact(text: str) -> str:
    """``text`` with every ID number, credit code and phone number masked (safe for the log)."""
    text = _ID_RE.sub("[证件号已隐去]", text)
    text = _CREDIT_RE.sub("[证件号已隐去]", text)
    text = _MOBILE_RE.sub("[电话已隐去]", text)
    return _LANDLINE_RE.sub("[电话已隐去]", text)


def _is_driver_error(exc: BaseException) -> bool:
    module = type(exc).__module__.split(".")[0]
    return module in ("sqlite3", "psycopg", "psycopg2", "_sqlite3")


def _driver_message(exc: BaseException) -> str:
    """A database driver's error without the values: PostgreSQL's diagnostics minus DETAIL, else its first line
    with quoted values blanked."""
    diag = getattr(exc, "diag", None)
    if diag is not None and getattr(diag, "message_primary", None):
        parts = [_unquote_values(diag.message_primary)]
        for label, name in (("SQLSTATE", "sqlstate"), ("constraint", "constraint_name"), ("table", "table_name"),
                            ("column", "column_name")):
            value = getattr(diag, name, None)
            if value:
                parts.append(f"{label} {value}")
        return "; ".join(parts)
    first = str(exc).splitlines()[0] if str(exc) else ""
    code = getattr(exc, "sqlite_errorname", None)
    return _unquote_values(first) + (f" ({code})" if code else "")


def safe_message(exc: BaseException) -> str:
    """One exception's message as the log may carry it (see :func:`crash_report`)."""
    return _message(exc)


def _message(exc: BaseException) -> str:
    # SQLAlchemy is loaded in the background at start-up: an error from it exists only once it is imported.
    sa_exc = sys.modules.get("sqlalchemy.exc")
    if sa_exc is not None and isinstance(exc, sa_exc.StatementError):
        orig = exc.orig
        cause = f"{type(orig).__module__}.{type(orig).__name__}: {_driver_message(orig)}" if orig is not None \
            else ""
        statement = " ".join((exc.statement or "").split())
        if len(statement) > MAX_STATEMENT:
            statement = statement[:MAX_STATEMENT] + " …"
        return f"{_cut(redact(cause))} [SQL: {redact(statement)}] [参数已隐去]"
    return _cut(redact(_driver_message(exc) if _is_driver_error(exc) else str(exc)))


def _cut(text: str) -> str:
    return text if len(text) <= MAX_MESSAGE else text[:MAX_MESSAGE] + "…（已截断）"


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception and what it came from, oldest first (as Python prints them)."""
    out: list[BaseException] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        out.append(current)
        current = current.__cause__ if current.__cause__ is not None else (
            None if current.__suppress_context__ else current.__context__)
    return out[::-1]


def crash_report(exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None = None) -> str:
    """A traceback as ``traceback.format_exception`` prints it, but with every message made safe: database
    errors without bound values or DETAIL, identifiers masked, each message cut at MAX_MESSAGE characters."""
    if exc is None:
        return f"{getattr(exc_type, '__name__', 'Exception')}\n"
    if tb is not None and exc.__traceback__ is None:
        exc = exc.with_traceback(tb)
    lines: list[str] = []
    chain = _chain(exc)
    for i, e in enumerate(chain):
        if i:
            lines.append("\nThe above exception was the direct cause of the following exception:\n\n"
                         if e.__cause__ is chain[i - 1] else
                         "\nDuring handling of the above exception, another exception occurred:\n\n")
        if e.__traceback__ is not None:
            lines.append("Traceback (most recent call last):\n")
            lines.extend(traceback.format_tb(e.__traceback__))
        name = type(e).__qualname__
        module = type(e).__module__
        if module not in ("builtins", "__main__"):
            name = f"{module}.{name}"
        message = _message(e)
        lines.append(f"{name}: {message}\n" if message else f"{name}\n")
    return "".join(lines)


class RedactingFormatter(logging.Formatter):
    """hall.log's formatter: identifiers masked in every line, tracebacks through :func:`crash_report`."""

    def formatException(self, ei) -> str:  # type: ignore[no-untyped-def]
        return crash_report(*ei).rstrip("\n")

    def format(self, record: logging.LogRecord) -> str:
        if record.exc_info:
            # RedactingFilter runs first and caches a plain traceback in exc_text (passwords masked), which
            # logging.Formatter would print as is: the crash report (no bound values) replaces it here.
            record.exc_text = mask_secrets(self.formatException(record.exc_info))
        return redact(super().format(record))

def configure(logs_dir: Path, *, verbose: bool = False) -> Path:
    logs_dir.mkdir(parents=True, exist_ok=True)
    path = logs_dir / "hall.log"
    root = logging.getLogger("hall")
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    if not any(isinstance(h, logging.handlers.RotatingFileHandler) for h in root.handlers):
        # backslashreplace: a character UTF-8 cannot carry (a lone surrogate in a message) is written as \udc80,
        # never an encoding error inside logging.
        handler = logging.handlers.RotatingFileHandler(path, maxBytes=2_000_000, backupCount=5, encoding="utf-8",
                                                       errors="backslashreplace")
        handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler.addFilter(RedactingFilter())  # a database password never reaches the file, whoever logs it
        root.addHandler(handler)
    return path
