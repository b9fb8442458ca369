"""Where Hall keeps its files. Nothing is resolved at import time; the composition root builds one ``Paths``."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

APP_NAME = "Hall"


def resources_dir() -> Path:
    """The shipped resources: inside a PyInstaller bundle, or the top-level folder of a source checkout."""
    override = os.environ.get("HALL_RESOURCES")
    if override:
        return Path(override)
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        return Path(frozen) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"


@dataclass(frozen=True)
class Paths:
    data_dir: Path

    @classmethod
    def resolve(cls, data_dir: str | os.PathLike[str] | None = None) -> Paths:
        if data_dir:
            base = Path(data_dir)
        elif os.environ.get("HALL_HOME"):
            base = Path(os.environ["HALL_HOME"])
        else:
            import platformdirs

            base = Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
        return cls(base.expanduser().resolve())

    def ensure(self) -> Paths:
        for d in (self.data_dir, self.backups_dir, self.logs_dir, self.drafts_dir):
            d.mkdir(parents=True, exist_ok=True)
        return self

    @property
    def database_file(self) -> Path:
        return self.data_dir / "hall.sqlite3"

    @property
    def node_file(self) -> Path:
        return self.data_dir / "node.json"

    @property
    def backups_dir(self) -> Path:
        return self.data_dir / "backups"

    @property
    def logs_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def drafts_dir(self) -> Path:
        return self.data_dir / "drafts"

    @property
    def sqlite_url(self) -> str:
        return f"sqlite:///{self.database_file.as_posix()}"
