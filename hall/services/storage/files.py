"""Writing files so that a crash, a full disk or a power cut never leaves half a file under the real name."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path: Path, prefix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; once the body wrote it, it is synced and renamed over ``path``.

    On any error the temporary file is removed and the previous ``path`` (if any) is left as it was.
    """
    fd, tmp = tempfile.mkstemp(prefix=prefix or f".{path.stem}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
