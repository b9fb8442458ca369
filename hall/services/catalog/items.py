"""Catalogue use cases: seed, import, export and look up windows and items."""

from __future__ import annotations

import csv
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from hall.errors import NotFound, PermissionDenied, ValidationErrors
from hall.models import CatalogVersion, Event, Item, Window
from hall.paths import resources_dir
from hall.services.base.actor import Actor
from hall.services.base.permissions import require_admin
from hall.services.base.pinyin import initials
from hall.services.base.validators import parse_key, search_text, shown
from hall.services.catalog.spec import CatalogSpec, check_headers, parse_sheets
from hall.services.storage import identity, ledger

TSV_FILES = {"窗口": "windows.tsv", "事项": "items.tsv", "材料": "materials.tsv"}


def default_catalog_dir() -> Path:
    return resources_dir() / "catalog"


def read_tsv_dir(folder: Path) -> CatalogSpec:
    """The shipped (or administrator-edited) TSV catalogue, validated like an Excel import."""
    headers: dict[str, list[str]] = {}
    sheets: dict[str, list[dict[str, str]]] = {}
    for sheet, filename in TSV_FILES.items():
        path = folder / filename
        if not path.exists():
            continue
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh, delimiter="\t")
            rows = list(reader)
        if not rows:
            continue
        headers[sheet] = [h.strip() for h in rows[0]]
        sheets[sheet] = [dict(zip(headers[sheet], r, strict=False)) for r in rows[1:] if any(c.strip() for c in r)]
    problems = check_headers(headers)
    if problems:
        raise ValidationErrors(problems, f"事项清单文件（{folder}）有误")
    return parse_sheets(sheets)


def import_catalog(session: Session, actor: Actor, spec: CatalogSpec, source: str) -> int | None:
    """Make ``spec`` the current catalogue as a new version; None when it equals the current one."""
    if actor.role not in ("admin", "system"):
        raise PermissionDenied("只有系统管理员可以导入事项清单")
    digest = spec.content_hash()
    current = session.scalars(select(CatalogVersion).where(CatalogVersion.is_current)).first()
    if current is not None and current.content_hash == digest:
        return None
    # The pinyin initials travel in the event: computed here once, never again by a replay (they change with the
    # installed pypinyin).
    keys = {it.code: item_initials(it.name, it.aliases) for it in spec.items}
    ledger.append(session, actor, "catalog.imported", {"version_uid": identity.new_uid(), "source": source[:200],
                                                       "hash": digest, "catalog": spec.to_json(), "initials": keys})
    return int(session.scalars(select(CatalogVersion.id).where(CatalogVersion.is_current)).one())


def item_initials(name: str, aliases: tuple[str, ...] | list[str]) -> str:
    """The initials the item finder matches: the name's and each alias's, space-separated."""
    return " ".join(initials(text) for text in (name, *aliases))


@ledger.projector("catalog.imported")
def _project_catalog(session: Session, ev: Event, payload: dict[str, Any]) -> None:
    spec = CatalogSpec.from_json(payload["catalog"])
    if "version_uid" in payload:
        version_uid, keys = payload["version_uid"], payload["initials"]
    else:  # release 1: the version's uid comes from the event, its initials from what the upgrade froze
        version_uid = identity.uid_from_event(ev.event_id)
        keys = identity.legacy_item_initials(session, version_uid)
    session.execute(update(CatalogVersion).values(is_current=False))
    version = CatalogVersion(uid=version_uid, created_at=ev.occurred_at, source=payload["source"],
                             content_hash=payload["hash"], is_current=True)
    session.add(version)
    existing = {w.code: w for w in session.scalars(select(Window))}
    for w in spec.windows:
        row = existing.pop(w.code, None)
        if row is None:
            session.add(Window(code=w.code, name=w.name, sort_order=w.sort_order, phone=w.phone, active=True))
        else:
            row.name, row.sort_order, row.phone, row.active = w.name, w.sort_order, w.phone, True
    for gone in existing.values():  # tickets still point at it: deactivate, never delete
        gone.active = False
    session.flush()
    session.execute(update(Item).where(Item.is_current).values(is_current=False))
    rows = []
    for it in spec.items:
        data = asdict(it)
        data["materials"] = [asdict(m) for m in it.materials]
        data["departments"] = list(it.departments)
        data["procedure"] = list(it.procedure)
        data["aliases"] = list(it.aliases)
        rows.append(Item(version_id=version.id, is_current=True, initials=keys.get(it.code, ""), **data))
    session.add_all(rows)
    session.flush()
    identity.remember_items(session, version_uid, {r.code: r.id for r in rows})


def seed_default(session: Session, actor: Actor) -> int | None:
    require_admin(actor, "载入默认事项清单")
    return import_catalog(session, actor, read_tsv_dir(default_catalog_dir()), "默认事项清单")


def current_spec(session: Session) -> CatalogSpec:
    windows = session.scalars(select(Window).where(Window.active).order_by(Window.sort_order, Window.code)).all()
    items = current_items(session)
    return CatalogSpec.from_json({
        "windows": [{"code": w.code, "name": w.name, "sort_order": w.sort_order, "phone": w.phone} for w in windows],
        "items": [_item_json(i) for i in items],
    })


def _item_json(i: Item) -> dict[str, Any]:
    return {
        "code": i.code, "name": i.name, "window_code": i.window_code, "default_kind": i.default_kind,
        "statutory_limit": i.statutory_limit, "promised_limit": i.promised_limit, "limit_unit": i.limit_unit,
        "statutory_anchored": i.statutory_anchored, "restart_on_supplement": i.restart_on_supplement,
        "departments": i.departments, "conditions": i.conditions, "procedure": i.procedure, "fee": i.fee,
        "policy_basis": i.policy_basis, "retention": i.retention, "follow_up_days": i.follow_up_days,
        "note": i.note, "aliases": i.aliases, "materials": i.materials, "fee_cents": i.fee_cents,
        "prerequisite": i.prerequisite,
    }


def windows(session: Session) -> list[Window]:
    return list(session.scalars(select(Window).where(Window.active).order_by(Window.sort_order, Window.code)))


def current_items(session: Session, window_code: str | None = None) -> list[Item]:
    q = select(Item).where(Item.is_current)
    if window_code:
        q = q.where(Item.window_code == window_code)
    return list(session.scalars(q.order_by(Item.window_code, Item.code)))


def current_item(session: Session, code: str) -> Item:
    code = parse_key(code, "事项编码", max_len=16)
    item = session.scalars(select(Item).where(Item.is_current, Item.code == code)).first()
    if item is None:
        raise NotFound(f"事项编码“{code}”不存在（或已不在当前事项清单中）")
    return item


def find_items(items: list[Any], query: str) -> list[Any]:
    """Match code, name or pinyin initials as the clerk types; best matches first. Pure, on a loaded list."""
    q = search_text(query).lower()
    if not q:
        return list(items)
    scored: list[tuple[int, str, Any]] = []
    for it in items:
        keys = it.initials.split()
        if it.code.lower() == q:
            rank = 0
        elif it.code.lower().startswith(q):
            rank = 1
        elif any(k.startswith(q) for k in keys):
            rank = 2
        elif q in it.name.lower() or any(q in a.lower() for a in it.aliases):
            rank = 3
        elif any(q in k for k in keys):
            rank = 4
        else:
            continue
        scored.append((rank, it.code, it))
    return [it for _r, _c, it in sorted(scored, key=lambda t: (t[0], t[1]))]



@dataclass(frozen=True)
class WindowView:
    code: str
    name: str
    phone: str


@dataclass(frozen=True)
class ItemView:
    """An item as the screens show it (plain data; the UI never holds ORM rows)."""

    id: int
    code: str
    name: str
    aliases: tuple[str, ...]
    initials: str
    window_code: str
    default_kind: str
    promised_limit: int
    statutory_limit: int
    limit_unit: str
    departments: tuple[str, ...]
    materials: tuple[dict[str, Any], ...]
    fee: str
    policy_basis: str
    procedure: tuple[str, ...]
    restart_on_supplement: bool = True
    catalog_version: str = ""  # the uid of the catalogue version the item is of: events name an item by it and code
    fee_cents: int = 0  # 一次性收费 per ticket (分); 0: 免费
    prerequisite: str = ""  # 先照后证: the item code whose closed ticket the same applicant needs first
    prerequisite_name: str = ""


def window_views(session: Session) -> list[WindowView]:
    return [WindowView(w.code, w.name, w.phone) for w in windows(session)]


def item_views(session: Session) -> list[ItemView]:
    versions = dict(session.execute(select(CatalogVersion.id, CatalogVersion.uid).where(CatalogVersion.is_current))
                    .all())
    rows = current_items(session)
    names = {i.code: i.name for i in rows}
    return [ItemView(i.id, i.code, i.name, tuple(i.aliases), i.initials, i.window_code, i.default_kind,
                     i.promised_limit, i.statutory_limit, i.limit_unit, tuple(i.departments),
                     tuple(i.materials), i.fee, i.policy_basis, tuple(i.procedure), i.restart_on_supplement,
                     versions.get(i.version_id, ""), i.fee_cents or 0, i.prerequisite or "",
                     names.get(i.prerequisite or "", ""))
            for i in rows]


# Keyed by the current version's uid, not its row id: another database at the same address (a restored backup, a
# rebuilt copy) may number its versions alike, and a save must name the version this database holds.
_views: dict[str, tuple[str | None, dict[str, ItemView]]] = {}
_CURRENT_VERSION = select(CatalogVersion.__table__.c.uid).where(CatalogVersion.__table__.c.is_current)


def forget_views() -> None:
    """Drop the item snapshot (another program imported a catalogue)."""
    _views.clear()


def current_item_view(session: Session, code: str) -> ItemView:
    """The current rule for ``code``, from a per-process snapshot that one indexed look-up keeps fresh.

    Every counter saves through here; reloading 76 items per save would be most of the save's cost.
    """
    conn = session.connection()
    version = conn.execute(_CURRENT_VERSION).scalar()
    key = str(conn.engine.url)
    hit = _views.get(key)
    if hit is None or hit[0] != version:
        hit = (version, {v.code: v for v in item_views(session)})
        _views[key] = hit
    view = hit[1].get(code) if isinstance(code, str) else None
    if view is None:
        raise NotFound(f"事项编码“{shown(code)}”不存在（或已不在当前事项清单中）")
    return view
