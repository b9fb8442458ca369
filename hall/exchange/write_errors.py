"""What a failed workbook write means to the person: one translation of file-system failures into a message.

A workbook fails to write in two shapes: an ``OSError`` from Python's own file calls (the final rename, the fsync),
or lxml's ``SerialisationError`` with an ``IO_…`` code from openpyxl's write-only sheets (their rows are streamed
through lxml into temporary files). Both mean the same to the person — the disk is full, the folder may not be
written, or the file system refused — and in every case the exporter's atomic write has left nothing behind.
"""

from __future__ import annotations

import errno
from pathlib import Path

from hall.errors import HallError

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
