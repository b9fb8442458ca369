"""The badge board's staff photo: an uploaded JPEG or PNG checked, decoded and scaled to a small JPEG.

Checked before it is decoded: at most ``MAX_FILE_BYTES``, a JPEG or PNG by its first bytes (never by its file
name), at most ``MAX_PIXELS`` by its header (a small file that unpacks to gigabytes — a decompression bomb — is
refused before any pixel is read). Then decoded in full (a truncated or crafted file fails here, not on the
printer), its EXIF rotation applied, cut to the 3:4 of an ID photo and scaled to ``SIZE``: a JPEG of a few dozen
KB, small enough to travel in the ledger event to every node and every backup.
"""

from __future__ import annotations

import base64
import io

from hall.errors import ValidationError

FIELD = "照片"
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 40_000_000  # a 40-megapixel camera photo; more is not a photo of a person
MIN_SIDE = 60
SIZE = (300, 400)  # 25 × 33 mm at 300 dpi: the badge prints it at 25 × 32 mm
QUALITY = 85
JPEG, PNG = b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n"


def prepare_photo(data: bytes) -> str:
    """``data`` (a file's bytes) as the stored photo (base64 JPEG), or a ``ValidationError`` saying why not."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    if not data:
        raise ValidationError(FIELD, "文件是空的")
    if len(data) > MAX_FILE_BYTES:
        raise ValidationError(FIELD, f"文件过大（{len(data) / 1024 / 1024:.1f} MB），"
                                     f"最大 {MAX_FILE_BYTES // 1024 // 1024} MB")
    if not (data.startswith(JPEG) or data.startswith(PNG)):
        raise ValidationError(FIELD, "只接受 JPEG 或 PNG 图片（文件内容不是这两种格式）")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            width, height = probe.size
            if probe.format not in ("JPEG", "PNG"):
                raise ValidationError(FIELD, "只接受 JPEG 或 PNG 图片")
            if width * height > MAX_PIXELS:
                raise ValidationError(FIELD, f"图片像素过多（{width}×{height}），"
                                             f"最多 {MAX_PIXELS // 1_000_000} 百万像素")
            if min(width, height) < MIN_SIDE:
                raise ValidationError(FIELD, f"图片太小（{width}×{height}），短边至少 {MIN_SIDE} 像素")
            probe.load()  # every pixel decoded here: a truncated or crafted file fails now
            image = ImageOps.exif_transpose(probe).convert("RGB")
    except ValidationError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise ValidationError(FIELD, f"图片文件已损坏或无法读取（{type(exc).__name__}）") from None
    image = ImageOps.fit(image, SIZE, Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=QUALITY, optimize=True)
    return base64.b64encode(out.getvalue()).decode("ascii")


def photo_bytes(stored: str) -> bytes | None:
    """The JPEG of a stored photo (None when there is none)."""
    return base64.b64decode(stored) if stored else None
