"""Schema migrations: bring an older database to this version, refuse a newer one."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from hall.errors import DatabaseError
from hall.migrations import HEAD


class Database(Protocol):
    """What an upgrade needs of :class:`hall.services.storage.db.Database` (which calls this module on open)."""

    engine: Engine

    def backup_before_upgrade(self, revision: str | None) -> Path | None: ...

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory


log = logging.getLogger("hall.migrate")

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


def alembic_config() -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def script_directory() -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config())


def current_revision(db: Database) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def _stamped(db: Database) -> str | None:
    """The revision recorded in the database, read without Alembic (None: empty or not stamped)."""
    try:
        with db.engine.connect() as conn:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except SQLAlchemyError:
        return None


def upgrade_if_needed(db: Database) -> bool:
    """Upgrade to head when behind (after a backup copy); True when anything ran."""
    if _stamped(db) == HEAD:
        return False  # the everyday start: nothing to do, and Alembic is never imported
    from alembic import command

    script = script_directory()
    head = script.get_current_head()
    current = current_revision(db)
    if current == head:
        return False
    if current is not None and not _known(script, current):
        raise DatabaseError(
            f"该数据库由更新版本的 Hall 创建（结构版本 {current}），本程序无法安全打开。请升级 Hall 后再使用。"
        )
    if current is not None:
        backup = db.backup_before_upgrade(current)
        log.info("database upgrade %s -> %s, backup at %s", current, head, backup)
    cfg = alembic_config()
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    db.upgraded_from = current
    return True


def _known(script: ScriptDirectory, revision: str) -> bool:
    from alembic.util.exc import CommandError

    try:
        return script.get_revision(revision) is not None
    except CommandError:
        return False
