"""One error hierarchy for everything a clerk may be told.

Every message is Simplified Chinese and names the field and the rule, so the UI and the CLI can show
``str(error)`` as it is, never a traceback.
"""

from __future__ import annotations


class HallError(Exception):
    """Base of every error that is shown to a person as a plain message."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ValidationError(HallError):
    """Bad input in one field; ``field`` is the on-screen field name (Chinese)."""

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"{field}：{rule}")
        self.field = field
        self.rule = rule


class ValidationErrors(HallError):
    """Several problems found at once (a catalogue workbook, a form): all are listed, nothing is saved."""

    def __init__(self, problems: list[str], title: str = "输入有误") -> None:
        lines = "\n".join(f"· {p}" for p in problems)
        super().__init__(f"{title}（共 {len(problems)} 处）：\n{lines}")
        self.problems = problems


class PermissionDenied(HallError):
    """The actor's role or window does not allow the action, even when a service is called directly."""


class NotFound(HallError):
    """A ticket, item, staff member … that does not exist."""


class ConflictError(HallError):
    """The record changed under us (another counter saved first) or the action is illegal in its state."""


class DatabaseError(HallError):
    """The database cannot be opened or used: newer version, locked, corrupt, on a network share, disk full."""

    def __init__(self, message: str, backup_hint: str | None = None) -> None:
        super().__init__(message)
        self.backup_hint = backup_hint


class ServerUnavailable(DatabaseError):
    """The hall server cannot be reached (down, restarting, the network gone): nothing of this action was saved;
    the connection pool reconnects by itself once the server is back."""
