"""What every `hall-admin` command gets: the opened database and the acting administrator."""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, field
from types import TracebackType

from hall.paths import Paths
from hall.services.base.actor import Actor
from hall.services.bootstrap import Opened, open_hall
from hall.services.storage.db import Database
from hall.services.storage.node import NodeIdentity


@dataclass
class CliContext:
    paths: Paths
    url: str | None
    intake_point: str | None = None
    _opened: Opened | None = field(default=None, repr=False)

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> CliContext:
        url = getattr(args, "db", None) or os.environ.get("HALL_DB")
        return cls(Paths.resolve(getattr(args, "data_dir", None)), url, getattr(args, "intake_point", None))

    def _open(self) -> Opened:
        if self._opened is None:
            self._opened = open_hall(self.paths, self.url, intake_point=self.intake_point)
        return self._opened

    @property
    def db(self) -> Database:
        return self._open().db

    @property
    def node(self) -> NodeIdentity:
        return self._open().node

    @property
    def actor(self) -> Actor:
        """The command line is the administrator's tool: it acts as the system on this node."""
        return self._open().system

    def __enter__(self) -> CliContext:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._opened is not None:
            self._opened.db.dispose()
