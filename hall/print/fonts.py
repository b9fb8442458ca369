"""Find and register TrueType CJK fonts for reportlab, once per process.

Papers follow GB/T 9704 conventions: title in 小标宋 (or 黑体), headings in 黑体, body in 仿宋 (or 宋体).
Each role takes the first candidate that exists and that reportlab accepts. reportlab refuses CFF-based
OpenType (``OTTO``) fonts such as Noto Sans CJK .otf, so those are tried, caught and skipped. Every PDF
embeds a subset of the font (reportlab's TTFont always subsets), so it prints the same on any PC.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont

from hall.errors import HallError

log = logging.getLogger("hall.print.fonts")

# Environment override: a path to a .ttf/.ttc (optionally "path#index") used for every role.
FONT_ENV = "HALL_CJK_FONT"


@dataclass(frozen=True)
class FontCandidate:
    path: Path
    index: int = 0


@dataclass(frozen=True)
class FontSet:
    """Registered reportlab font names for each typographic role."""

    title: str  # 小标宋 / 黑体 style, paper titles
    heading: str  # 黑体 style, section headings and table heads
    body: str  # 仿宋 / 宋体 style, running text
    files: tuple[str, ...]  # the files used, for the log and the about box


class NoCjkFontError(HallError):
    def __init__(self, tried: list[str]) -> None:
        hint = "；".join(tried[:6]) if tried else "未找到任何候选字体文件"
        super().__init__(
            "打印字体：找不到可用的中文 TrueType 字体（.ttf/.ttc），无法生成文书。"
            "请安装宋体/黑体/仿宋（Windows 自带）或文泉驿字体（Linux：fonts-wqy-microhei），"
            f"或设置环境变量 {FONT_ENV} 指向字体文件。已尝试：{hint}"
        )


def _windows_font_dirs() -> list[Path]:
    dirs = []
    windir = os.environ.get("WINDIR") or os.environ.get("SYSTEMROOT")
    if windir:
        dirs.append(Path(windir) / "Fonts")
    local = os.environ.get("LOCALAPPDATA")
    if local:  # per-user installed fonts (Windows 10 1809+)
        dirs.append(Path(local) / "Microsoft" / "Windows" / "Fonts")
    return dirs


_LINUX_DIRS = [Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path.home() / ".local/share/fonts",
               Path.home() / ".fonts"]
_MAC_DIRS = [Path("/Library/Fonts"), Path("/System/Library/Fonts"), Path("/System/Library/Fonts/Supplemental")]

# (file name, subfont index) per role, best first. Names are matched case-insensitively anywhere under the
# font directories, so distribution layouts (truetype/wqy/…, opentype/noto/…) do not matter.
_SONG = [("simsun.ttc", 0), ("simsun.ttf", 0), ("uming.ttc", 0), ("NotoSerifCJK-Regular.ttc", 0),
         ("Songti.ttc", 0)]
_FANGSONG = [("simfang.ttf", 0), ("FZFSJW.TTF", 0), ("STFANGSO.TTF", 0)]
_KAI = [("simkai.ttf", 0), ("ukai.ttc", 0)]
_HEI = [("simhei.ttf", 0), ("msyh.ttc", 0), ("wqy-microhei.ttc", 0), ("wqy-zenhei.ttc", 0),
        ("NotoSansCJK-Regular.ttc", 0), ("NotoSansCJKsc-Regular.otf", 0), ("PingFang.ttc", 0)]
_XIAOBIAOSONG = [("FZXBSJW.TTF", 0), ("FZXBSK.TTF", 0), ("方正小标宋简体.ttf", 0)]

_ROLES = {
    "title": _XIAOBIAOSONG + _HEI + _SONG,
    "heading": _HEI + _SONG,
    "body": _FANGSONG + _SONG + _KAI + _HEI,
}

_lock = threading.Lock()
_cache: FontSet | None = None


def _index_font_files() -> dict[str, Path]:
    """Map lower-cased file name → path for every font file under the usual directories."""
    found: dict[str, Path] = {}
    for root in [*_windows_font_dirs(), *_LINUX_DIRS, *_MAC_DIRS]:
        if not root.is_dir():
            continue
        for dirpath, _dirs, files in os.walk(root):
            for name in files:
                if name.lower().endswith((".ttf", ".ttc", ".otf")):
                    found.setdefault(name.lower(), Path(dirpath) / name)
    return found


def _fc_list_candidates() -> list[FontCandidate]:
    """Chinese-capable TrueType faces fontconfig knows about (catches fonts in unusual places)."""
    exe = shutil.which("fc-list")
    if not exe:
        return []
    try:
        out = subprocess.run([exe, "-f", "%{file}|%{index}|%{fontformat}\n", ":lang=zh"],
                             capture_output=True, text=True, timeout=10, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    result = []
    for line in sorted(out.splitlines()):
        parts = line.split("|")
        if len(parts) >= 2 and parts[0].lower().endswith((".ttf", ".ttc")):
            fmt = parts[2] if len(parts) > 2 else "TrueType"
            if fmt and fmt != "TrueType":  # CFF would be refused by reportlab anyway
                continue
            try:
                result.append(FontCandidate(Path(parts[0]), int(parts[1] or 0)))
            except ValueError:
                continue
    return result


_registered: dict[tuple[str, int], str] = {}


def try_register(candidate: FontCandidate) -> str | None:
    """Register one file with reportlab; return its font name, or None if reportlab refuses it."""
    key = (str(candidate.path), candidate.index)
    if key in _registered:
        return _registered[key]
    name = f"Hall-{candidate.path.stem}-{candidate.index}"
    try:
        font = TTFont(name, str(candidate.path), subfontIndex=candidate.index)
    except (TTFError, OSError, ValueError, KeyError, IndexError) as exc:
        # CFF outlines ("postscript outlines are not supported"), corrupt or unreadable files: skip.
        log.info("font refused by reportlab: %s#%d: %s", candidate.path, candidate.index, exc)
        return None
    pdfmetrics.registerFont(font)
    _registered[key] = name
    return name


def _candidate_from_env() -> FontCandidate | None:
    value = os.environ.get(FONT_ENV)
    if not value:
        return None
    path, _, index = value.partition("#")
    return FontCandidate(Path(path), int(index) if index.isdigit() else 0)


def discover_fonts() -> FontSet:
    """Find and register fonts for every role (no cache; :func:`cjk_fonts` caches)."""
    tried: list[str] = []
    files = _index_font_files()
    fc = _fc_list_candidates()
    env = _candidate_from_env()
    chosen: dict[str, str] = {}
    used: list[str] = []

    def pick(candidates: list[FontCandidate]) -> str | None:
        for cand in candidates:
            if not cand.path.is_file():
                continue
            name = try_register(cand)
            if name:
                if str(cand.path) not in used:
                    used.append(str(cand.path))
                return name
            tried.append(f"{cand.path.name}（reportlab 不支持）")
        return None

    for role, wanted in _ROLES.items():
        cands: list[FontCandidate] = [env] if env else []
        cands += [FontCandidate(files[f.lower()], i) for f, i in wanted if f.lower() in files]
        cands += fc
        name = pick(cands)
        if name:
            chosen[role] = name
    if not chosen:
        raise NoCjkFontError(tried)
    fallback = chosen.get("body") or chosen.get("heading") or chosen["title"]
    fs = FontSet(title=chosen.get("title", fallback), heading=chosen.get("heading", fallback),
                 body=chosen.get("body", fallback), files=tuple(used))
    log.info("CJK fonts: title=%s heading=%s body=%s", fs.title, fs.heading, fs.body)
    return fs


def cjk_fonts() -> FontSet:
    """The process-wide font set; registration (parsing multi-MB font files) happens once."""
    global _cache
    with _lock:
        if _cache is None:
            _cache = discover_fonts()
        return _cache
