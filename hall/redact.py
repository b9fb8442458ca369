"""Secrets never reach a log, a message or the screen: the password of a database address is masked everywhere.

``postgresql://hall:s3cret@server/hall`` is shown and logged as ``postgresql://hall:***@server/hall``; a libpq
``password=…`` keyword and a ``?password=…`` query parameter are masked the same way. :class:`RedactingFilter`
applies this to every record of the ``hall`` loggers, whatever code formatted it (an exception's text too).
"""

from __future__ import annotations

import logging
import re

MASK = "***"
# scheme://user:PASSWORD@host — the password runs to the last '@' before the host (a password may hold '@'),
# never across whitespace or a quote.
_URL_PASSWORD = re.compile(r"(?P<head>\b[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@'\"]*:)(?P<pw>[^\s'\"]*)(?P<at>@)(?=[^\s@'\"]*)")
_KEYWORD_PASSWORD = re.compile(r"(?P<head>\b(?:password|passwd|pwd)\s*=\s*)(?P<pw>'(?:[^'\\]|\\.)*'|[^\s&'\"]+)",
                               re.IGNORECASE)


def mask_secrets(text: str) -> str:
    """``text`` with every database password it contains replaced by ``***``."""
    if "@" not in text and "=" not in text:
        return text
    text = _URL_PASSWORD.sub(lambda m: m["head"] + (MASK if m["pw"] else "") + m["at"], text)
    return _KEYWORD_PASSWORD.sub(lambda m: m["head"] + MASK, text)


class RedactingFilter(logging.Filter):
    """Masks passwords in a record's message, arguments and exception text before any handler writes it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_secrets(message)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_secrets(record.exc_text)
        if masked != message or record.args:
            record.msg, record.args = masked, None
        return True
