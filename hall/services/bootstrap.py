"""First start and every start: open (or create) the ledger, migrate, seed what an empty hall needs."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import Connection, create_engine, func, inspect, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from hall.errors import DatabaseError, HallError
from hall.migrations import HEAD
from hall.models import CalendarYear, CatalogVersion, IntakePoint, Item
from hall.paths import Paths
from hall.services import projections
from hall.services.base.actor import Actor
from hall.services.calendar import clock
from hall.services.calendar import workdays as calendar
from hall.services.catalog import items as catalog
from hall.services.people import staff
from hall.services.storage import at_rest, dburl, live, settings
from hall.services.storage.changes import Changes
from hall.services.storage.db import Database, normalise_url, translate
from hall.services.storage.node import NodeIdentity
from hall.services.sync import heads
from hall.services.sync import keys as sync_keys

log = logging.getLogger("hall.bootstrap")


@dataclass
class Opened:
    db: Database
    node: NodeIdentity
    system: Actor
    needs_admin: bool


def open_hall(paths: Paths, url: str | None = None, *, intake_point: str | None = None) -> Opened:
    """The composition roots (GUI and CLI) call this once."""
    paths.ensure()
    # An encrypted data folder (hall-admin encryption enable): its key from this PC, for the ledger and the drafts.
    at_rest.unlock(paths.data_dir)
    node = NodeIdentity.load_or_create(paths.node_file, intake_point)
    db = projections.install(Database.open(url or paths.sqlite_url, backups_dir=paths.backups_dir))
    system = Actor.system(node.node_id, node.intake_point)
    with db.transaction() as session:
        if db.upgraded_from is not None:
            # A ledger written by an older release: what it seeded outside the ledger is recorded now.
            calendar.record_unrecorded_seed(session, system)
        if not sync_keys.is_laptop(paths.data_dir):
            # A village laptop is provisioned from the hall (sync join): a seed of its own would collide with
            # the hall's catalogue, calendar and points when its chain reaches the hall.
            seed(session, system)
        needs = staff.needs_admin(session)
    if not sync_keys.is_laptop(paths.data_dir):
        # The node key that signs this node's chain head: made at the first start, kept outside the database.
        heads.node_keys(paths.data_dir, node.node_id, node.intake_point)
    return Opened(db, node, system, needs)


def forget_cached(found: Changes) -> None:
    """Another program's change makes this process's caches of it stale: the settings (read at most every
    30 s otherwise), the calendar and the catalogue snapshot are dropped, to be read again when next needed."""
    if found.settings:
        settings.forget()
    if found.calendar:
        clock.forget_calendar()
    if found.catalog:
        catalog.forget_views()


def follow(db: Database, deliver: live.Deliver, **options: object) -> live.Feed:
    """The running program's ONE live feed on ``db``: what other programs commit is delivered (on the feed's
    thread) as Changes, this process's caches forgotten first. ``stop()`` it before disposing of ``db``."""
    return live.start(db.engine, deliver, forget_cached, **options)


def seed(session: Session, system: Actor) -> None:
    """Idempotent: the default catalogue, the calendar years the package knows, the hall's intake point."""
    if session.scalar(select(func.count()).select_from(CatalogVersion)) == 0:
        catalog.seed_default(session, system)
        log.info("seeded the default catalogue")
    calendar.seed_from_package(session, system)
    if session.get(IntakePoint, "000") is None:
        staff.add_intake_point(session, system, "000", settings.get(session, "hall_name"))
    if system.intake_point != "000" and session.get(IntakePoint, system.intake_point) is None:
        names = settings.get(session, "village_names")
        staff.add_intake_point(session, system, system.intake_point,
                               names.get(system.intake_point, f"代办点{system.intake_point}"))


# ------------------------------------------------------------------------------------------- a hall server
@dataclass(frozen=True)
class ServerInit:
    """What ``hall-admin server init`` did: ``created`` False when the server was already a hall (nothing done)."""

    created: bool
    message: str
    lines: tuple[str, ...] = ()


INIT_LOCK_KEY = 0x48414C4C_494E4954 & 0x7FFFFFFFFFFFFFFF  # "HALLINIT": one `server init` at a time


def init_server(paths: Paths, url: str, admin_password: str) -> ServerInit:
    """Make an empty PostgreSQL database a hall: the schema (Alembic migrations), the default catalogue and the
    calendar, the hall's intake point and the first administrator. On a database that already is a hall it says so
    and changes nothing; a database holding anything else is refused, untouched. The password is checked before
    anything is written and never logged."""
    parsed = dburl.parse(url)
    where = dburl.server_label(url)
    staff.hash_password(admin_password)  # its rules (length, spaces) before the server is touched
    engine = create_engine(normalise_url(parsed.render_as_string(hide_password=False)),
                           connect_args={"connect_timeout": 5}, hide_parameters=True)
    try:
        with engine.connect() as conn:
            # Two administrators initialising at once: the second waits here, then finds a hall.
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": INIT_LOCK_KEY})
            conn.commit()
            state = _server_state(conn)
            if state == "hall":
                return ServerInit(False, f"服务器 {where} 已经初始化（已有 Hall 数据库和管理员）：未做任何更改")
            if state == "foreign":
                raise HallError(f"数据库 {where} 不是空的，也不是 Hall 的数据库：未做任何更改。"
                                "请新建一个空数据库（见 README“Setting up a hall server”）")
            opened = open_hall(paths, url)  # migrations, catalogue, calendar, the hall's intake point
            try:
                with opened.db.transaction() as s:
                    if staff.needs_admin(s):
                        staff.create_first_admin(s, opened.system, admin_password)
                    version = s.scalar(select(func.max(CatalogVersion.id)))
                    items = s.scalar(select(func.count()).select_from(Item).where(Item.is_current))
                    years = sorted(s.scalars(select(CalendarYear.year)))
            finally:
                opened.db.dispose()
    except SQLAlchemyError as exc:
        raise translate(exc, where) or DatabaseError(f"无法初始化数据库服务器 {where}：{exc.__class__.__name__}"
                                                     ) from None
    finally:
        engine.dispose()  # the advisory lock goes with its connection
    log.info("hall server %s initialised (%s items, calendar years %s)", where, items, years)
    return ServerInit(True, f"服务器 {where} 已初始化", (
        f"数据库结构：版本 {HEAD}",
        f"事项清单：{items} 项（版本 {version}）",
        f"节假日日历：{years[0]}–{years[-1]} 年" if years
        else "节假日日历：未载入（请用 hall-admin calendar set-year）",
        "管理员：工号 admin（密码已设置）",
    ))


def server_state(url: str) -> str:
    """What ``url``'s database is now (see :func:`_server_state`), read without changing anything."""
    parsed = dburl.parse(url)
    where = dburl.server_label(url)
    engine = create_engine(normalise_url(parsed.render_as_string(hide_password=False)),
                           connect_args={"connect_timeout": 5}, hide_parameters=True)
    try:
        with engine.connect() as conn:
            return _server_state(conn)
    except SQLAlchemyError as exc:
        raise translate(exc, where) or DatabaseError(f"无法连接数据库服务器 {where}：{exc.__class__.__name__}"
                                                     ) from None
    finally:
        engine.dispose()


def _server_state(conn: Connection) -> str:
    """"empty", "hall" (a schema and an administrator), "partial" (a schema, no administrator yet: an earlier
    init stopped half-way, or a counter created it — finish it) or "foreign" (tables that are not Hall's)."""
    tables = set(inspect(conn).get_table_names())
    if not tables:
        return "empty"
    if "alembic_version" not in tables or "staff" not in tables:
        return "foreign"
    admins = conn.execute(text("SELECT count(*) FROM staff WHERE role = 'admin' AND password_hash <> ''")).scalar()
    return "hall" if admins else "partial"
