"""Logging in one place: a rotating file in the data directory, warnings to stderr."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

from hall.redact import RedactingFilter


def configure(logs_dir: Path, *, verbose: bool = False) -> Path:
    logs_dir.mkdir(parents=True, exist_ok=True)
    path = logs_dir / "hall.log"
    root = logging.getLogger("hall")
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    if not any(isinstance(h, logging.handlers.RotatingFileHandler) for h in root.handlers):
        handler = logging.handlers.RotatingFileHandler(path, maxBytes=2_000_000, backupCount=5, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler.addFilter(RedactingFilter())  # a database password never reaches the file, whoever logs it
        root.addHandler(handler)
    return path
