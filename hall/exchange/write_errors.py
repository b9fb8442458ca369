"""What a failed workbook write means to the person: one translation of file-system failures into a message.

A workbook fails to write in two shapes: an ``OSError`` from Python's own file calls (the final rename, the fsync),
or lxml's ``SerialisationError`` with an ``IO_…`` code from openpyxl's write-only sheets (their rows are streamed
through lxml into temporary files). Both mean the same to the person — the disk is full, the folder may not be
written, or the file system refused — and in every case the exporter's atomic write has left nothing behind.
"""

from __future__ import annotations

import contextlib
import errno
import gc
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from hall.errors import HallError

T = TypeVar("T")
FULL = ("ENOSPC", "EFBIG", "EDQUOT")
DENIED = ("EACCES", "EPERM", "EROFS")


def _code(exc: BaseException) -> str | None:
    if isinstance(exc, OSError):
        return errno.errorcode.get(exc.errno or 0)
    text = str(exc)
    if type(exc).__name__ == "SerialisationError" and text.startswith("IO_"):
        return text[3:].split()[0]
    return None


def is_write_failure(exc: BaseException) -> bool:
    return _code(exc) is not None


def write_failure(path: Path, exc: BaseException) -> HallError:
    """The message for a failed write of ``path`` (call only when :func:`is_write_failure` says so)."""
    code = _code(exc) or ""
    if code in FULL:
        return HallError(f"磁盘空间不足，无法写入“{path}”，没有生成文件。请清理磁盘空间或换一个位置后重试。")
    if code in DENIED:
        return HallError(f"没有权限写入“{path}”，没有生成文件。请换一个文件夹（如“文档”）后重试。")
    detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else code or exc.__class__.__name__
    return HallError(f"无法写入文件“{path}”（{detail}），没有生成文件。")


@contextlib.contextmanager
def _quiet_abandoned_writers() -> Iterator[None]:
    """A workbook abandoned half-way still has a sheet writer suspended inside its XML elements; when it is
    collected, closing those elements fails on the same full disk and Python reports "Exception ignored". That
    failure has been told to the person already: swallow exactly those, pass anything else on."""
    previous = sys.unraisablehook

    def hook(unraisable: sys.UnraisableHookArgs) -> None:
        if unraisable.exc_value is not None and is_write_failure(unraisable.exc_value):
            return
        previous(unraisable)

    sys.unraisablehook = hook
    try:
        yield
    finally:
        sys.unraisablehook = previous


def writing(path: Path, write: Callable[[], T]) -> T:
    """``write()`` (an exporter writing ``path``); a file-system failure becomes the person's message, and the
    abandoned workbook is released here and now rather than whenever the collector next runs."""
    with _quiet_abandoned_writers():
        try:
            return write()
        except Exception as exc:
            if not is_write_failure(exc):
                raise
            error = write_failure(path, exc)
        gc.collect()  # the workbook and its sheets refer to each other: a cycle, freed here
    raise error
