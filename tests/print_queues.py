"""A private CUPS server for the printing tests: real queues with real PPDs, whose jobs land in PDF files.

The scheduler runs from a temporary directory on its own socket (never the machine's CUPS); each queue is a
``file:`` device with a pass-through PDF filter, so what Qt sends through CUPS is read back page by page. The
PPDs describe the printers a hall meets: an 80 mm receipt printer whose driver has no custom sizes, a 58 mm one
whose head paints only 40 mm, and an office printer with A4 alone.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

MM = 72 / 25.4
CUPSD = "/usr/sbin/cupsd"


@dataclass(frozen=True)
class Page:
    key: str
    label: str
    width_mm: float
    height_mm: float
    margin_mm: float  # left and right, where the head cannot print


QUEUES = {
    # Three lengths of the one roll: a slip goes on the shortest that holds it (not 3 m of paper, not cut short).
    "Receipt-TM80": [Page("X80MMY297MM", "Roll 80 x 297 mm", 80, 297, 4),
                     Page("X80MMY200MM", "80 x 200 mm", 80, 200, 4),
                     Page("X80MMY3276MM", "Roll 80 x 3276 mm", 80, 3276, 4)],
    "Receipt-58-narrow": [Page("X58MMY210MM", "Roll 58 x 210 mm", 58, 210, 9)],
    "Office-A4": [Page("A4", "A4", 210, 297, 4)],
}


def ppd(name: str, pages: list[Page]) -> str:
    """A PPD with only these page sizes and no custom size (the drivers Qt falls back to A4 on)."""
    default = pages[0].key
    lines = ['*PPD-Adobe: "4.3"', '*FormatVersion: "4.3"', '*FileVersion: "1.0"', "*LanguageVersion: English",
             "*LanguageEncoding: ISOLatin1", f'*PCFileName: "{name[:8].upper()}.PPD"', '*Manufacturer: "Test"',
             f'*Product: "({name})"', f'*ModelName: "{name}"', f'*ShortNickName: "{name}"', f'*NickName: "{name}"',
             '*PSVersion: "(3010.000) 0"', '*LanguageLevel: "3"', "*ColorDevice: False",
             "*DefaultColorSpace: Gray", "*FileSystem: False", '*Throughput: "1"', "*cupsVersion: 2.4",
             '*cupsFilter2: "application/vnd.cups-pdf application/pdf 0 -"']
    for ui in ("PageSize", "PageRegion"):
        lines += [f"*OpenUI *{ui}: PickOne", f"*OrderDependency: 10 AnySetup *{ui}", f"*Default{ui}: {default}"]
        lines += [f'*{ui} {p.key}/{p.label}: "<</PageSize[{p.width_mm * MM:.2f} {p.height_mm * MM:.2f}]>>'
                  'setpagedevice"' for p in pages]
        lines.append(f"*CloseUI: *{ui}")
    lines.append(f"*DefaultImageableArea: {default}")
    lines += [f'*ImageableArea {p.key}/{p.label}: "{p.margin_mm * MM:.2f} {4 * MM:.2f} '
              f'{(p.width_mm - p.margin_mm) * MM:.2f} {p.height_mm * MM:.2f}"' for p in pages]
    lines.append(f"*DefaultPaperDimension: {default}")
    lines += [f'*PaperDimension {p.key}/{p.label}: "{p.width_mm * MM:.2f} {p.height_mm * MM:.2f}"' for p in pages]
    return "\n".join(lines) + "\n"


CUPSD_CONF = """Listen {root}/cups.sock
LogLevel warn
Browsing No
DefaultAuthType None
WebInterface No
<Location />
  Order allow,deny
  Allow all
</Location>
<Location /admin>
  Order allow,deny
  Allow all
</Location>
<Policy default>
  <Limit All>
    Order deny,allow
  </Limit>
</Policy>
"""

CUPS_FILES_CONF = """ServerRoot {root}/etc
RequestRoot {root}/spool
CacheDir {root}/cache
StateDir {root}/state
TempDir {root}/tmp
ErrorLog {root}/log/error_log
AccessLog {root}/log/access_log
PageLog {root}/log/page_log
FileDevice Yes
ServerBin /usr/lib/cups
DataDir /usr/share/cups
User lp
Group lp
SystemGroup root
"""


class CupsServer:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.socket = root / "cups.sock"
        self.env = {**os.environ, "CUPS_SERVER": str(self.socket)}
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        for sub in ("etc", "spool", "cache", "state", "tmp", "log", "out"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        for sub in ("tmp", "out"):
            (self.root / sub).chmod(0o777)
        (self.root / "etc" / "cupsd.conf").write_text(CUPSD_CONF.format(root=self.root))
        (self.root / "etc" / "cups-files.conf").write_text(CUPS_FILES_CONF.format(root=self.root))
        self.proc = subprocess.Popen([CUPSD, "-f", "-c", str(self.root / "etc" / "cupsd.conf"),
                                      "-s", str(self.root / "etc" / "cups-files.conf")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not self.socket.exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"cupsd did not start: {self.log()}")
            time.sleep(0.05)
        for name, pages in QUEUES.items():
            (self.root / f"{name}.ppd").write_text(ppd(name, pages))
            self.lp("lpadmin", "-p", name, "-E", "-v", f"file:{self.output(name)}", "-P",
                    str(self.root / f"{name}.ppd"))

    def lp(self, *args: str) -> str:
        return subprocess.run(args, env=self.env, capture_output=True, text=True, check=True, timeout=20).stdout

    def output(self, queue: str) -> Path:
        return self.root / "out" / f"{queue}.pdf"

    def empty(self, queue: str) -> Path:
        # The scheduler opens a file: device without creating it; a fresh empty file per print.
        out = self.output(queue)
        out.write_bytes(b"")
        out.chmod(0o666)
        self.lp("cupsenable", queue)  # a failed earlier job stops the queue
        return out

    def wait_for(self, queue: str, timeout: float = 20) -> Path:
        """The queue's output once every job has finished (the PDF complete)."""
        out = self.output(queue)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.lp("lpstat", "-o", queue).strip() and out.stat().st_size and out.read_bytes().rstrip()\
                    .endswith(b"%%EOF"):
                return out
            time.sleep(0.05)
        raise AssertionError(f"no output from {queue}: {self.log()}")

    def log(self) -> str:
        try:
            return (self.root / "log" / "error_log").read_text()[-2000:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)


def _point_libcups_at(socket: Path | None) -> None:
    # libcups caches its server per thread at first use, and Qt's print plugin shares the process' libcups:
    # setting CUPS_SERVER now would be too late for a session that has already asked for printers.
    lib = ctypes.CDLL(ctypes.util.find_library("cups") or "libcups.so.2")
    lib.cupsSetServer.argtypes = [ctypes.c_char_p]
    lib.cupsSetServer(str(socket).encode() if socket else None)


def cups_server() -> Iterator[CupsServer]:
    """The private CUPS server with the queues of :data:`QUEUES`, for a module-scoped fixture to ``yield from``
    (skipped, with why, where CUPS is absent; a failure under CI, whose set-up installs it)."""
    missing = [p for p in (CUPSD, "/usr/lib/cups/filter/pdftopdf") if not Path(p).exists()]
    missing += [t for t in ("lpadmin", "lpstat", "cupsenable") if shutil.which(t) is None]
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CUPS is part of the test set-up (scripts/setup_linux.sh) but missing: {missing}")
        pytest.skip(f"CUPS not installed here (apt-get install cups-daemon cups-client cups-filters): {missing}")
    # Not under pytest's tmp dir: that is private to its user, and CUPS runs its filters as ``lp``.
    root = Path(tempfile.mkdtemp(prefix="hall-cups-"))
    root.chmod(0o755)
    server = CupsServer(root)
    old = os.environ.get("CUPS_SERVER")
    try:
        try:
            server.start()
        except (RuntimeError, subprocess.SubprocessError) as exc:
            if os.environ.get("CI") == "true":
                raise
            pytest.skip(f"a private cupsd could not start here (it runs as root in CI): {exc}")
        os.environ["CUPS_SERVER"] = str(server.socket)
        _point_libcups_at(server.socket)
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
        _point_libcups_at(None)
        if old is None:
            os.environ.pop("CUPS_SERVER", None)
        else:
            os.environ["CUPS_SERVER"] = old
