"""Pinyin initials for finding items and citizens by typing "dbsq" for 低保申请.

pypinyin loads a large dictionary, so it is imported on first use, never at start-up.
"""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=4096)
def initials(text: str) -> str:
    from pypinyin import Style, lazy_pinyin

    letters = lazy_pinyin(text, style=Style.FIRST_LETTER, errors=lambda chars: list(chars))
    return "".join(ch for part in letters for ch in part.lower() if ch.isalnum())
