"""The current-state tables by their natural keys: what `ledger check` compares and `ledger digest` hashes.

Autoincrement ids differ between two nodes and between a database and a replay of its events, so no row is
identified by one: a ticket is its number, a staff member their staff number, a register row the event that
created it (or its source key), a joint copy its (ticket, department, round). A column holding a surrogate id of
another table is compared through what it points to (``tickets.item_id`` as the item's catalogue version and
code, ``ratings.staff_id`` as a staff number), and the surrogate ``id`` columns themselves are left out.

Rows come out of :func:`rows` sorted by natural key in Python's order, whatever the database (PostgreSQL sorts
with the ``C`` collation, SQLite's is byte order), so the digest of the same content is the same on SQLite and
on PostgreSQL.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Connection,
    Date,
    DateTime,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    select,
    type_coerce,
)

from hall.models import Base
from hall.models.legacy import FROZEN_TABLES
from hall.models.sync import LOCAL_TABLES

# The ledger itself: the source every other table is rebuilt from, never compared with a rebuild of itself.
# What the projections are made from, not projections: the events, and what the upgrade from release 1 froze of
# its events' meaning (hall/models/legacy.py) — copied into a scratch replay, never truncated by a rebuild.
# And what a node records of its own exchanges (hall/models/sync.py): local, never rebuilt from events.
SOURCE_TABLES = frozenset({"events", *FROZEN_TABLES, *LOCAL_TABLES})


@dataclass(frozen=True)
class TableKey:
    table: str
    label: str  # the table in Chinese, for messages
    key: tuple[str, ...]
    key_labels: tuple[str, ...]
    # Columns holding another table's surrogate id -> that table (compared as its natural key).
    refs: Mapping[str, str] = field(default_factory=dict)
    # JSON lists of another table's surrogate ids -> that table.
    list_refs: Mapping[str, str] = field(default_factory=dict)


_STAFF = "staff"
KEYS: dict[str, TableKey] = {k.table: k for k in (
    TableKey("windows", "窗口", ("code",), ("窗口编码",)),
    TableKey("catalog_versions", "事项清单版本", ("created_at", "content_hash"), ("导入时间", "内容摘要")),
    TableKey("items", "事项", ("version_id", "code"), ("清单版本", "事项编码"),
             refs={"version_id": "catalog_versions"}),
    TableKey("intake_points", "受理点", ("code",), ("受理点编码",)),
    TableKey("staff", "工作人员", ("staff_no",), ("工号",), refs={"b_post_id": _STAFF}),
    TableKey("settings", "系统设置", ("key",), ("设置项",)),
    TableKey("tickets", "办件", ("number",), ("办件编号",),
             refs={"item_id": "items", "first_owner_id": _STAFF, "owner_id": _STAFF}),
    TableKey("ticket_serials", "办件编号序号", ("point", "day"), ("受理点", "日期")),
    TableKey("applicants", "申请人", ("id_no",), ("证件号码",)),
    TableKey("node_heads", "终端链尾", ("node_id",), ("终端",)),
    TableKey("sync_peers", "同步终端", ("node_id",), ("终端",)),
    TableKey("sync_conflicts", "同步冲突", ("conflict_id",), ("冲突",)),
    TableKey("sync_held_events", "未生效事件", ("event_id",), ("事件",)),
    TableKey("calendar_years", "日历年度", ("year",), ("年份",)),
    TableKey("calendar_days", "日历日", ("day",), ("日期",)),
    TableKey("proxy_legs", "转报记录", ("event_id",), ("事件",)),
    TableKey("joint_copies", "抄告记录", ("ticket_uid", "department", "round"), ("办件", "部门", "轮次")),
    TableKey("supplement_requests", "补正通知", ("event_id",), ("事件",)),
    TableKey("transfers", "转办记录", ("event_id",), ("事件",),
             refs={"from_owner_id": _STAFF, "to_staff_id": _STAFF, "decided_by_id": _STAFF}),
    TableKey("escalations", "集体研究", ("event_id",), ("事件",)),
    TableKey("attendance", "考勤", ("staff_id", "day"), ("工号", "日期"), refs={"staff_id": _STAFF}),
    TableKey("substitutions", "B岗顶岗", ("event_id",), ("事件",), refs={"holder_id": _STAFF, "b_post_id": _STAFF}),
    TableKey("substituted_tickets", "顶岗办件", ("substitution_id", "ticket_uid"), ("顶岗", "办件"),
             refs={"substitution_id": "substitutions", "original_owner_id": _STAFF}),
    TableKey("accountability_records", "责任追究", ("source_key",), ("来源",), refs={"staff_id": _STAFF}),
    TableKey("rating_screens", "评价器", ("node_id",), ("终端",)),
    TableKey("rating_requests", "评价邀请", ("token_hash",), ("邀请码摘要",),
             refs={"rectification_id": "rectifications"}),
    TableKey("ratings", "评价", ("event_id",), ("事件",),
             refs={"rectification_id": "rectifications", "staff_id": _STAFF}),
    TableKey("rectifications", "整改", ("event_id",), ("事件",), refs={"rating_id": "ratings", "staff_id": _STAFF}),
    TableKey("follow_ups", "回访", ("source_key",), ("来源",),
             refs={"rectification_id": "rectifications", "complaint_id": "complaints"}),
    TableKey("complaints", "投诉", ("event_id",), ("事件",), refs={"staff_id": _STAFF}),
    TableKey("appointments", "约访", ("event_id",), ("事件",), refs={"staff_id": _STAFF}),
    TableKey("circuit_visits", "巡回下访", ("event_id",), ("事件",), list_refs={"staff_ids": _STAFF}),
    TableKey("visit_tickets", "下访办件", ("ticket_uid",), ("办件",), refs={"visit_id": "circuit_visits"}),
    # 涉法信访
    TableKey("petition_cases", "信访件", ("ticket_uid",), ("办件",), refs={"first_owner_id": _STAFF}),
    TableKey("petition_agents", "信访代理人", ("event_id",), ("事件",)),
    TableKey("petition_hearings", "信访听证", ("event_id",), ("事件",)),
    TableKey("petition_feedback", "信访进展反馈", ("event_id",), ("事件",)),
    TableKey("petition_transfers", "信访移交", ("event_id",), ("事件",)),
    TableKey("petition_follow_ups", "信访回访", ("event_id", "seq"), ("事件", "次序")),
    TableKey("reception_slots", "领导接访安排", ("event_id",), ("事件",), refs={"leader_id": _STAFF}),
    TableKey("reception_bookings", "领导接访预约", ("event_id",), ("事件",), refs={"slot_id": "reception_slots"}),
    TableKey("fee_charges", "一次性收费", ("event_id",), ("事件",)),
    TableKey("inspection_findings", "效能监察意见", ("event_id",), ("事件",), refs={"inspector_id": _STAFF}),
)}


def state_tables() -> list[Table]:
    """Every current-state table, in name order (the digest's order); each must have a natural key here."""
    tables = [t for name, t in sorted(Base.metadata.tables.items()) if name not in SOURCE_TABLES]
    missing = [t.name for t in tables if t.name not in KEYS]
    if missing:  # a new table must say how its rows are identified before it can be checked
        raise RuntimeError(f"no natural key for {', '.join(missing)} in hall.services.storage.projection_keys.KEYS")
    return tables


def compared_columns(table: Table) -> list[str]:
    """The columns compared and hashed: all but a surrogate ``id`` primary key."""
    key = KEYS[table.name]
    return sorted(c.name for c in table.columns if not (c.name == "id" and "id" not in key.key))


# ------------------------------------------------------------------------------------------ values
def normal(value: Any) -> Any:
    """A value as plain JSON data, the same whichever database it was read from."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:  # PostgreSQL returns aware values; SQLite keeps the UTC wall time
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    return value


def _sort_key(key: tuple[Any, ...]) -> tuple[Any, ...]:
    # None first, then by value; nested keys (resolved references) compare as their JSON text.
    return tuple((v is not None, v if isinstance(v, str | int | float) else json.dumps(v, sort_keys=True))
                 for v in key)


class Resolver:
    """Surrogate ids of one database -> the natural keys of the rows they point to (loaded once per table)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._maps: dict[str, dict[int, Any]] = {}

    def key_of(self, table: str, ident: Any) -> Any:
        if ident is None or ident == 0:  # 0: "none" where a unique constraint cannot take NULL (ratings)
            return None
        found = self._map(table).get(ident)
        return found if found is not None else f"#{ident}（不存在）"

    def _map(self, table: str) -> dict[int, Any]:
        got = self._maps.get(table)
        if got is None:
            spec = KEYS[table]
            t = Base.metadata.tables[table]
            got = {}
            for row in self.conn.execute(select(t.c.id, *(t.c[k] for k in spec.key))):
                got[row[0]] = [self._resolve(spec, k, v) for k, v in zip(spec.key, row[1:], strict=True)]
            self._maps[table] = got
        return got

    def _resolve(self, spec: TableKey, column: str, value: Any) -> Any:
        """A key column's value: a reference as what it points to, a date as ISO text."""
        if column in spec.refs:
            return self.key_of(spec.refs[column], value)
        if column in spec.list_refs:
            return [self.key_of(spec.list_refs[column], v) for v in value or []]
        return normal(value)


def _unique(table: Table, columns: tuple[str, ...]) -> bool:
    wanted = set(columns)
    if {c.name for c in table.primary_key.columns} == wanted:
        return True
    if len(columns) == 1 and table.c[columns[0]].unique:
        return True
    return any(isinstance(c, UniqueConstraint) and {col.name for col in c.columns} == wanted
               for c in table.constraints)


def _streamable(table: Table, spec: TableKey) -> bool:
    """Sorted by the database when the key is stored as is, unique, in types whose order is Python's."""
    return (not any(k in spec.refs for k in spec.key) and _unique(table, spec.key)
            and all(isinstance(table.c[k].type, String | Text | Integer | Date) for k in spec.key))


def _converters(table: Table, columns: list[str], resolver: Resolver,
                raw: bool) -> list[Callable[[Any], Any] | None]:
    """Per column, what turns a stored value into its compared form (None: compared as read)."""
    spec = KEYS[table.name]
    out: list[Callable[[Any], Any] | None] = []
    for c in columns:
        if c in spec.refs:
            out.append(lambda v, t=spec.refs[c]: resolver.key_of(t, v))
        elif c in spec.list_refs:  # read decoded (never as text): a list of ids
            out.append(lambda v, t=spec.list_refs[c]: [resolver.key_of(t, x) for x in v or []])
        elif c in spec.key or (not raw and isinstance(table.c[c].type, DateTime | Date)):
            out.append(normal)
        else:
            out.append(None)
    return out


def json_columns(table: Table) -> set[str]:
    return {c.name for c in table.columns if isinstance(c.type, JSON)}


def rows(conn: Connection, table: Table, resolver: Resolver | None = None, *, raw: bool = False,
         batch: int = 5000) -> Iterator[tuple[tuple[Any, ...], tuple[Any, ...]]]:
    """``(natural key, values)`` for every row of ``table``, sorted by natural key; the values are those of
    :func:`compared_columns`, in that order.

    ``raw``: values as the database stores them (JSON as its text, dates as the driver gives them) except the
    key and the references — enough to compare two databases of the same kind, at a fraction of the cost of
    decoding every value; the digest uses the decoded, normalised values (the same on SQLite and PostgreSQL).
    """
    spec = KEYS[table.name]
    resolver = resolver or Resolver(conn)
    for target in {*spec.refs.values(), *spec.list_refs.values()}:
        resolver._map(target)  # loaded before the rows stream: no other query while the cursor is open
    columns = compared_columns(table)
    convert = list(enumerate(_converters(table, columns, resolver, raw)))
    at = [columns.index(k) for k in spec.key]

    def shaped(row: Any) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
        values = tuple(row[i] if f is None else f(row[i]) for i, f in convert)
        return tuple(values[i] for i in at), values

    # Read without the types' result processing (JSON decoding, date parsing): what the database holds.
    as_text = {c for c in columns if c not in spec.key and c not in spec.refs and c not in spec.list_refs
               and isinstance(table.c[c].type, JSON | DateTime | Date)} if raw else set()
    stmt = select(*(type_coerce(table.c[c], Text) if c in as_text else table.c[c] for c in columns))
    if not _streamable(table, spec):
        # Small tables, or keys not unique by constraint: sorted here, ties by the whole row (deterministic).
        got = [shaped(r) for r in conn.execute(stmt)]
        got.sort(key=lambda kv: (_sort_key(kv[0]), line(table.name, columns, *kv)))
        yield from got
        return
    pg = conn.dialect.name == "postgresql"
    order = [table.c[k].collate("C") if pg and isinstance(table.c[k].type, String | Text) else table.c[k]
             for k in spec.key]
    # One sorted pass on a streaming cursor (server-side on PostgreSQL): memory stays flat at a million rows.
    # (Options on the statement: Connection.execution_options would change the caller's connection for good.)
    result = conn.execute(stmt.order_by(*order).execution_options(stream_results=True, yield_per=batch))
    for r in result:
        yield shaped(r)


# ------------------------------------------------------------------------------------------ digest
@dataclass(frozen=True)
class Digest:
    sha256: str
    tables: int
    rows: int
    by_table: dict[str, int]


def line(table: str, columns: list[str], key: tuple[Any, ...], values: tuple[Any, ...]) -> str:
    """One row as deterministic text: sorted columns, ISO dates, references as natural keys."""
    return json.dumps([table, list(key), dict(zip(columns, values, strict=True))], ensure_ascii=False,
                      sort_keys=True, separators=(",", ":"), default=str)


# The ticket serial counters are numbering's own state, not a projection: a counter may lawfully run ahead of the
# day's highest ticket (a PostgreSQL save that failed after its number was claimed; a restore that keeps numbering
# after the numbers the replaced database issued). The tickets themselves are digested, so every number that is on
# a ticket is in the digest; ``ledger check`` still compares the counters (and refuses one behind its tickets).
NOT_DIGESTED = frozenset({"ticket_serials"})


def digest(conn: Connection) -> Digest:
    """One SHA-256 over every current-state table, row by row in natural-key order."""
    h = hashlib.sha256()
    resolver = Resolver(conn)
    by_table: dict[str, int] = {}
    for table in state_tables():
        if table.name in NOT_DIGESTED:
            continue
        n = 0
        h.update(f"#{table.name}\n".encode())
        columns = compared_columns(table)
        for key, values in rows(conn, table, resolver):
            h.update(line(table.name, columns, key, values).encode())
            h.update(b"\n")
            n += 1
        by_table[table.name] = n
    return Digest(h.hexdigest(), len(by_table), sum(by_table.values()), by_table)
