"""The working-day calendar: seeded from ``chinese_calendar``, confirmed yearly from the State Council notice,
extended with local holidays; loaded once into an immutable :class:`WorkCalendar` for the deadline engine.

Callers own the unit of work (``with session.begin():``). Every mutation returns the dates whose working
status changed, so the caller can recompute the open tickets whose deadlines touch them.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from hall.errors import ValidationError, ValidationErrors
from hall.models.calendar import CalendarDay, CalendarYear
from hall.models.ledger import Event
from hall.services.base.actor import Actor
from hall.services.base.permissions import require_admin
from hall.services.base.validators import free_text, shown
from hall.services.calendar.deadlines import WorkdayIndex
from hall.services.storage import ledger

log = logging.getLogger("hall.calendar")

# chinese_calendar names holidays in English; the hall shows the names used in the notices.
PACKAGE_HOLIDAY_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}
# A notice may start 元旦 in late December of the year before (e.g. 2023-12-30 for 2024) or put a make-up
# day just across the year boundary; further out than this is a typing mistake.
YEAR_SPILL_DAYS = 14
EARLIEST_YEAR, LATEST_YEAR = 1990, 2200


# ---------------------------------------------------------------------------------------- plain data
@dataclass(frozen=True)
class DayException:
    """One stored exception to Mon–Fri (see :class:`~hall.models.calendar.CalendarDay`)."""

    on: date
    is_workday: bool
    kind: str  # holiday | makeup | local
    name: str


@dataclass(frozen=True)
class DayInfo:
    """What one date is: ``kind`` is weekday, weekend, holiday, makeup or local."""

    is_workday: bool
    kind: str
    name: str
    provisional: bool


@dataclass(frozen=True)
class HolidayRange:
    name: str
    start: date
    end: date


@dataclass(frozen=True)
class MakeupDay:
    on: date
    name: str = ""  # the holiday it makes up for, e.g. 春节


@dataclass(frozen=True)
class YearNotice:
    """A State Council holiday notice (国务院办公厅关于某年部分节假日安排的通知) as plain data."""

    year: int
    reference: str
    holidays: tuple[HolidayRange, ...]
    makeup_days: tuple[MakeupDay, ...] = ()


@dataclass(frozen=True)
class YearOverview:
    year: int
    status: str  # confirmed | provisional
    source: str
    notice_ref: str
    confirmed_at: datetime | None
    confirmed_by: str | None
    days_off_on_weekdays: tuple[DayException, ...]
    working_weekends: tuple[DayException, ...]
    weekend_holidays: tuple[DayException, ...]
    working_days: int


# ---------------------------------------------------------------------------------------- WorkCalendar
class WorkCalendar:
    """An immutable calendar: stored exceptions + which years are confirmed, with a working-day index."""

    def __init__(self, exceptions: Iterable[DayException], confirmed_years: Iterable[int],
                 *, today: date | None = None) -> None:
        self._days: Mapping[date, DayException] = MappingProxyType({e.on: e for e in exceptions})
        self.confirmed_years: frozenset[int] = frozenset(confirmed_years)
        years = {d.year for d in self._days} | set(self.confirmed_years)
        this_year = (today or date.today()).year
        # The index spans every year with data plus a few years ahead; beyond it, closed-form Mon–Fri.
        first = min(years | {this_year})
        last = max(years | {this_year}) + 3
        self.index = WorkdayIndex(first, last, self._is_workday_raw, self.confirmed_years)

    # -- construction
    @classmethod
    def load(cls, session: Session) -> WorkCalendar:
        rows = session.execute(select(CalendarDay.day, CalendarDay.is_workday, CalendarDay.kind,
                                      CalendarDay.name)).all()
        confirmed = session.scalars(select(CalendarYear.year).where(CalendarYear.status == "confirmed")).all()
        return cls((DayException(*row) for row in rows), confirmed)

    @classmethod
    def load_or_package(cls, session: Session) -> WorkCalendar:
        """The database calendar when it has a confirmed year, else the package's (a database not yet set up)."""
        confirmed = session.scalar(select(func.count()).select_from(CalendarYear)
                                   .where(CalendarYear.status == "confirmed"))
        return cls.load(session) if confirmed else cls.from_package()

    @classmethod
    def from_package(cls) -> WorkCalendar:
        """The calendar as ``chinese_calendar`` ships it (used when the database has no calendar yet)."""
        years = package_years()
        return cls(_package_exceptions(years), years)

    # -- queries
    def _is_workday_raw(self, d: date) -> bool:
        exc = self._days.get(d)
        return exc.is_workday if exc is not None else d.weekday() < 5

    def is_workday(self, d: date) -> bool:
        return self._is_workday_raw(d)

    def is_confirmed(self, year: int) -> bool:
        return year in self.confirmed_years

    def day_info(self, d: date) -> DayInfo:
        provisional = d.year not in self.confirmed_years
        exc = self._days.get(d)
        if exc is not None:
            return DayInfo(exc.is_workday, exc.kind, exc.name, provisional)
        if d.weekday() < 5:
            return DayInfo(True, "weekday", "", provisional)
        return DayInfo(False, "weekend", "", provisional)

    def exceptions(self, year: int) -> tuple[DayException, ...]:
        return tuple(sorted((e for e in self._days.values() if e.on.year == year), key=lambda e: e.on))


# ---------------------------------------------------------------------------------------- package data
def package_years() -> range:
    from chinese_calendar import constants

    return range(min(constants.holidays).year, max(constants.holidays).year + 1)


def _package_exceptions(years: Iterable[int]) -> list[DayException]:
    from chinese_calendar import constants

    wanted = set(years)
    out = [DayException(d, False, "holiday", PACKAGE_HOLIDAY_NAMES.get(n, n))
           for d, n in constants.holidays.items() if d.year in wanted]
    out += [DayException(d, True, "makeup", PACKAGE_HOLIDAY_NAMES.get(n, n))
            for d, n in constants.workdays.items() if d.year in wanted]
    return out


SEED_EVENT = "calendar.seeded"


def seed_from_package(session: Session, actor: Actor) -> list[int]:
    """Record every year ``chinese_calendar`` covers as confirmed, unless the year is already present
    (an administrator's confirmation or edit is never overwritten). Returns the years seeded.

    The package's days travel in the ledger event (``calendar.seeded``), so a replay rebuilds the calendar
    without the package, whichever version is installed then."""
    require_admin(actor, "载入节假日安排")
    import chinese_calendar

    present = set(session.scalars(select(CalendarYear.year)).all())
    years = [y for y in package_years() if y not in present]
    if not years:
        return []
    ref = f"chinesecalendar {chinese_calendar.__version__}"
    days = sorted(_package_exceptions(years), key=lambda e: e.on)
    ledger.append(session, actor, SEED_EVENT, {
        "years": [[y, ref] for y in years],
        "days": [[e.on.isoformat(), e.is_workday, e.kind, e.name] for e in days],
    })
    return years


def unrecorded_seed(session: Session) -> list[tuple[int, str]]:
    """The package-sourced years of a ledger from before the seeding was an event (empty when recorded)."""
    years = [(r.year, r.notice_ref) for r in session.scalars(
        select(CalendarYear).where(CalendarYear.source == "chinese_calendar").order_by(CalendarYear.year))]
    if not years:
        return []
    # Found at once in a ledger that has it: it is among the first events the hall ever wrote.
    recorded = session.scalars(select(Event.id).where(Event.ticket_uid.is_(None), Event.type == SEED_EVENT)
                               .order_by(Event.id).limit(1)).first()
    return [] if recorded is not None else years


def record_unrecorded_seed(session: Session, actor: Actor) -> list[int]:
    """A ledger from before the seeding was an event: record its package-sourced calendar as one, so a replay
    rebuilds it. Returns the years recorded (empty when nothing is missing).

    The event carries the rows as they stand (package years only, their statutory days), not the package: the
    notices and local holidays recorded since replay from their own events, and the projector never overwrites
    a day or year that is already there, so replaying this event after them gives back exactly these rows.
    """
    require_admin(actor, "载入节假日安排")
    years = unrecorded_seed(session)
    if not years:
        return []
    wanted = {y for y, _ in years}
    rows = session.scalars(select(CalendarDay).where(
        CalendarDay.kind.in_(("holiday", "makeup")),
        CalendarDay.day >= date(min(wanted), 1, 1), CalendarDay.day <= date(max(wanted), 12, 31),
    ).order_by(CalendarDay.day)).all()
    ledger.append(session, actor, SEED_EVENT, {
        "years": [[y, ref] for y, ref in years],
        "days": [[r.day.isoformat(), r.is_workday, r.kind, r.name] for r in rows if r.day.year in wanted],
    })
    log.info("recorded the package calendar of %d years as a ledger event", len(years))
    return [y for y, _ in years]


@ledger.projector(SEED_EVENT)
def _project_seeded(session: Session, ev: Any, p: dict[str, Any]) -> None:
    # Never overwrites: a year already present (confirmed from a notice) and a day already recorded (a local
    # holiday) stay as they are.
    years = [y for y, _ in p["years"]]
    present = set(session.scalars(select(CalendarYear.year).where(CalendarYear.year.in_(years))))
    days = [date.fromisoformat(d) for d, *_ in p["days"]]
    existing = set(session.scalars(select(CalendarDay.day).where(CalendarDay.day.in_(days)))) if days else set()
    for (_day, work, kind, name), on in zip(p["days"], days, strict=True):
        if on not in existing:
            session.add(CalendarDay(day=on, is_workday=work, kind=kind, name=name))
    for y, ref in p["years"]:
        if y not in present:
            session.add(CalendarYear(year=y, status="confirmed", source="chinese_calendar", notice_ref=ref))
    session.flush()


# ---------------------------------------------------------------------------------------- validation
def validate_notice(notice: YearNotice, year: int | None = None) -> None:
    """Raise :class:`ValidationErrors` listing every problem in the notice at once."""
    problems: list[str] = []
    if year is not None and notice.year != year:
        problems.append(f"年份：通知文件中为 {notice.year} 年，命令指定的是 {year} 年")
    if not EARLIEST_YEAR <= notice.year <= LATEST_YEAR:
        problems.append(f"年份：应在 {EARLIEST_YEAR}–{LATEST_YEAR} 之间，现为 {notice.year}")
        raise ValidationErrors(problems, "节假日安排有误")
    lo = date(notice.year, 1, 1) - timedelta(days=YEAR_SPILL_DAYS)
    hi = date(notice.year, 12, 31) + timedelta(days=YEAR_SPILL_DAYS)
    if not notice.holidays:
        problems.append("节假日：至少应有一个放假安排")
    try:
        _clean_reference(notice.reference)
    except ValidationError as exc:
        problems.append(str(exc))
    taken: dict[date, str] = {}
    for h in notice.holidays:
        try:
            label = f"节假日“{_clean_name(h.name, '节假日名称')}”"
        except ValidationError as exc:
            problems.append(f"节假日（{h.start.isoformat()}）：名称{exc.rule}")
            label = "节假日"
        if h.start > h.end:
            problems.append(f"{label}：开始日期 {h.start.isoformat()} 晚于结束日期 {h.end.isoformat()}")
            continue
        if h.end < date(notice.year, 1, 1) or h.start > date(notice.year, 12, 31):
            problems.append(f"{label}：{h.start.isoformat()} 至 {h.end.isoformat()} 不在 {notice.year} 年内")
            continue
        if h.start < lo or h.end > hi:
            problems.append(f"{label}：跨年部分超过 {YEAR_SPILL_DAYS} 天，请检查日期")
            continue
        if (h.end - h.start).days > 30:
            problems.append(f"{label}：放假超过 31 天，请检查日期")
            continue
        d = h.start
        while d <= h.end:
            if d in taken and taken[d] != h.name:
                problems.append(f"{label}：{d.isoformat()} 与“{shown(taken[d])}”重叠")
                break
            taken[d] = h.name
            d += timedelta(days=1)
    seen: set[date] = set()
    for m in notice.makeup_days:
        where = f"调休上班日 {m.on.isoformat()}"
        try:
            _clean_name(m.name, "调休说明", required=False)
        except ValidationError as exc:
            problems.append(f"{where}：说明{exc.rule}")
        if m.on in seen:
            problems.append(f"{where}：重复填写")
        seen.add(m.on)
        if m.on.weekday() < 5:
            problems.append(f"{where}：是星期{'一二三四五'[m.on.weekday()]}，调休上班日只能是星期六或星期日")
        if not lo <= m.on <= hi:
            problems.append(f"{where}：不在 {notice.year} 年内（含跨年 {YEAR_SPILL_DAYS} 天）")
        if m.on in taken:
            problems.append(f"{where}：落在放假期间“{taken[m.on]}”内")
    if problems:
        raise ValidationErrors(problems, f"{notice.year} 年节假日安排有误")


def _clean_name(name: object, field: str, *, required: bool = True) -> str:
    # A holiday's name goes to calendar_days.name (100 characters) and onto every paper that explains a date.
    return free_text(name if isinstance(name, str) else str(name), field, max_len=100, required=required)


def _clean_reference(reference: object) -> str:
    return free_text(reference if isinstance(reference, str) else str(reference), "通知文号", max_len=200,
                     required=False)


# ---------------------------------------------------------------------------------------- notice files
def _parse_date(value: Any, where: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValidationError(where, f"日期应写成 YYYY-MM-DD，现为 {shown(repr(value), 40)}")


def _parse_year(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str | float):
        raise ValidationError(where, f"年份应为四位数字，现为 {shown(repr(value), 40)}")
    try:
        year = int(str(value).strip().removesuffix(".0").removesuffix("年"))
    except ValueError:
        raise ValidationError(where, f"年份应为四位数字，现为 {shown(repr(value), 40)}") from None
    return year


def notice_from_dict(data: Any, source: str = "通知文件") -> YearNotice:
    """Build a notice from the JSON shape documented in docs/calendar.md."""
    if not isinstance(data, dict):
        raise ValidationError(source, "顶层应是一个对象 {…}")
    for key in ("year", "holidays"):
        if key not in data:
            raise ValidationError(source, f"缺少字段 {key}")
    year = _parse_year(data["year"], f"{source} year")
    if not isinstance(data["holidays"], list):
        raise ValidationError(f"{source} holidays", "应为列表 […]")
    holidays = []
    for i, h in enumerate(data["holidays"], 1):
        where = f"{source} holidays 第 {i} 项"
        if not isinstance(h, dict) or not {"name", "start"} <= h.keys():
            raise ValidationError(where, "应为 {\"name\": …, \"start\": …, \"end\": …}")
        start = _parse_date(h["start"], f"{where} start")
        end = _parse_date(h.get("end", h["start"]), f"{where} end")
        holidays.append(HolidayRange(str(h["name"]).strip(), start, end))
    makeups = []
    raw = data.get("makeup_workdays", [])
    if not isinstance(raw, list):
        raise ValidationError(f"{source} makeup_workdays", "应为列表 […]")
    for i, m in enumerate(raw, 1):
        where = f"{source} makeup_workdays 第 {i} 项"
        if isinstance(m, dict):
            if "date" not in m:
                raise ValidationError(where, "缺少 date")
            makeups.append(MakeupDay(_parse_date(m["date"], where), str(m.get("name", "")).strip()))
        else:
            makeups.append(MakeupDay(_parse_date(m, where)))
    return YearNotice(year, str(data.get("notice", "")).strip(), tuple(holidays), tuple(makeups))


def _notice_from_xlsx(path: Path) -> YearNotice:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged or foreign file
        raise ValidationError(f"通知文件 {path.name}", f"不是有效的 xlsx 工作簿（{type(exc).__name__}）") from None
    try:
        ws = wb.worksheets[0]
        year: int | None = None
        reference = ""
        holidays: list[HolidayRange] = []
        makeups: list[MakeupDay] = []
        for r, row in enumerate(ws.iter_rows(values_only=True), 1):
            cells = [c.strip() if isinstance(c, str) else c for c in row]
            if not any(c not in (None, "") for c in cells):
                continue
            cells += [None] * (4 - len(cells))
            head = str(cells[0] or "").strip()
            where = f"{path.name} 第 {r} 行"
            if head == "年份":
                year = _parse_year(cells[1], f"{where} B 列")
            elif head in ("通知", "文号"):
                reference = str(cells[1] or "").strip()
            elif head == "类型":
                continue  # header row
            elif head == "放假":
                start = _parse_date(cells[2], f"{where} C 列（开始日期）")
                end = _parse_date(cells[3], f"{where} D 列（结束日期）") if cells[3] not in (None, "") else start
                holidays.append(HolidayRange(str(cells[1] or "").strip(), start, end))
            elif head == "调休上班":
                makeups.append(MakeupDay(_parse_date(cells[2], f"{where} C 列（日期）"), str(cells[1] or "").strip()))
            else:
                raise ValidationError(f"{where} A 列",
                                      f"应为 年份、通知、类型、放假 或 调休上班，现为 {shown(repr(head), 40)}")
    finally:
        wb.close()
    if year is None:
        raise ValidationError(f"通知文件 {path.name}", "缺少“年份”行")
    return YearNotice(year, reference, tuple(holidays), tuple(makeups))


def load_year_notice(path: str | Path) -> YearNotice:
    """Read a notice file (``.json`` or ``.xlsx``; format in docs/calendar.md) and validate it."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".json":
        try:
            data = json.loads(path.read_text(encoding="utf-8-sig"))
        except UnicodeDecodeError:
            raise ValidationError(f"通知文件 {path.name}", "应为 UTF-8 编码的文本") from None
        except json.JSONDecodeError as exc:
            raise ValidationError(f"通知文件 {path.name}",
                                  f"不是有效的 JSON（第 {exc.lineno} 行第 {exc.colno} 列：{exc.msg}）") from None
        notice = notice_from_dict(data, f"通知文件 {path.name}")
    elif suffix == ".xlsx":
        notice = _notice_from_xlsx(path)
    else:
        raise ValidationError(f"通知文件 {path.name}", "只支持 .json 或 .xlsx 文件")
    validate_notice(notice)
    return notice


# ---------------------------------------------------------------------------------------- mutations
def record_calendar_event(session: Session, actor: Actor, type_: str, payload: dict[str, Any]) -> None:
    """Every calendar change is a ledger event, so no promised date moves silently."""
    require_admin(actor, "修改工作日历")
    ledger.append(session, actor, type_, payload)


def _status(session: Session, first: date, last: date) -> dict[date, bool]:
    rows = dict(session.execute(select(CalendarDay.day, CalendarDay.is_workday).where(
        CalendarDay.day >= first, CalendarDay.day <= last)).all())
    out = {}
    d = first
    while d <= last:
        out[d] = rows.get(d, d.weekday() < 5)
        d += timedelta(days=1)
    return out


def set_year(session: Session, actor: Actor, year: int, notice: YearNotice) -> list[date]:
    """Confirm ``year`` from a State Council notice; return the dates whose working status changed.

    Statutory rows (holiday, makeup) of the year are replaced; days of the notice just across the year
    boundary are written too. A local holiday on a date the notice sets is dropped (national data wins) and
    listed in the ledger event. Open tickets touching the year must be recomputed by the caller even if no
    date changed: their provisional flag goes away. The tables are written by the event's projector, so a
    replay of the ledger rebuilds the calendar.
    """
    require_admin(actor, "确认节假日安排")
    validate_notice(notice, year)
    first = min([date(year, 1, 1), *(h.start for h in notice.holidays), *(m.on for m in notice.makeup_days)])
    last = max([date(year, 12, 31), *(h.end for h in notice.holidays), *(m.on for m in notice.makeup_days)])
    holidays = [{"name": _clean_name(h.name, "节假日名称"), "start": h.start.isoformat(), "end": h.end.isoformat()}
                for h in notice.holidays]
    makeups = [{"date": m.on.isoformat(), "name": _clean_name(m.name, "调休说明", required=False)}
               for m in notice.makeup_days]
    new = _notice_days(holidays, makeups)
    before = _status(session, first, last)
    after = _status_after(session, first, last, year, new)
    changed = [d for d in sorted(after) if after[d] != before[d]]
    dropped_local = sorted(session.scalars(select(CalendarDay.day).where(
        CalendarDay.kind == "local", CalendarDay.day.in_(list(new)))).all())
    row = session.get(CalendarYear, year)
    record_calendar_event(session, actor, "calendar.year_set", {
        "year": year,
        "notice": _clean_reference(notice.reference),
        "previous_status": row.status if row else None,
        "holidays": holidays,
        "makeup_workdays": makeups,
        "changed_dates": [d.isoformat() for d in changed],
        "dropped_local_holidays": [d.isoformat() for d in dropped_local],
    })
    log.info("calendar year %s confirmed by %s: %d dates changed", year, actor.name, len(changed))
    return changed


def _notice_days(holidays: list[dict[str, str]], makeups: list[dict[str, str]]) -> dict[date, tuple[bool, str, str]]:
    new: dict[date, tuple[bool, str, str]] = {}
    for h in holidays:
        d, end = date.fromisoformat(h["start"]), date.fromisoformat(h["end"])
        while d <= end:
            new[d] = (False, "holiday", h["name"])
            d += timedelta(days=1)
    for m in makeups:
        new[date.fromisoformat(m["date"])] = (True, "makeup", m["name"])
    return new


def _status_after(session: Session, first: date, last: date, year: int,
                  new: dict[date, tuple[bool, str, str]]) -> dict[date, bool]:
    """Working status of each day once the notice is applied (what the projector will write)."""
    rows = {r.day: r for r in session.scalars(select(CalendarDay).where(
        CalendarDay.day >= first, CalendarDay.day <= last))}
    out = {}
    d = first
    while d <= last:
        if d in new:
            out[d] = new[d][0]
        elif d in rows and not (d.year == year and rows[d].kind in ("holiday", "makeup")):
            out[d] = rows[d].is_workday
        else:
            out[d] = d.weekday() < 5
        d += timedelta(days=1)
    return out


@ledger.projector("calendar.year_set")
def _project_year_set(session: Session, ev: Any, p: dict[str, Any]) -> None:
    year = p["year"]
    new = _notice_days(p["holidays"], p["makeup_workdays"])
    session.execute(delete(CalendarDay).where(
        CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31),
        CalendarDay.kind.in_(("holiday", "makeup"))))
    session.execute(delete(CalendarDay).where(CalendarDay.day.in_(list(new))))
    for d, (work, kind, name) in sorted(new.items()):
        session.add(CalendarDay(day=d, is_workday=work, kind=kind, name=name))
    row = session.get(CalendarYear, year)
    if row is None:
        row = CalendarYear(year=year)
        session.add(row)
    row.status, row.source, row.notice_ref = "confirmed", "notice", p["notice"]
    # The event's own time, as stored (a naive local time of the hall): converting it would read this machine's
    # time zone, and a replay elsewhere would differ by the zones' offset.
    row.confirmed_at, row.confirmed_by = ev.occurred_at, ev.actor_name
    session.flush()


def add_local_holiday(session: Session, actor: Actor, start: date, name: str, end: date | None = None) -> list[date]:
    """Add a local extra holiday (e.g. an ethnic-minority festival) from ``start`` to ``end`` inclusive.

    Returns the dates that stopped being working days (weekdays of the range)."""
    require_admin(actor, "添加地方节假日")
    end = end or start
    name = free_text(name, "地方节假日名称", max_len=100)
    if start > end:
        raise ValidationError("地方节假日日期", f"开始日期 {start.isoformat()} 晚于结束日期 {end.isoformat()}")
    if (end - start).days > 30:
        raise ValidationError("地方节假日日期", "一次最多 31 天")
    existing = {row.day: row for row in session.scalars(select(CalendarDay).where(
        CalendarDay.day >= start, CalendarDay.day <= end))}
    problems = []
    for d, row in sorted(existing.items()):
        what = {"holiday": "法定节假日", "makeup": "调休上班日", "local": "地方节假日"}[row.kind]
        problems.append(f"地方节假日日期：{d.isoformat()} 已是{what}（{row.name}）")
    if problems:
        raise ValidationErrors(problems, "不能添加地方节假日")
    changed = [start + timedelta(days=i) for i in range((end - start).days + 1)
               if (start + timedelta(days=i)).weekday() < 5]
    record_calendar_event(session, actor, "calendar.local_holiday_added", {
        "name": name, "start": start.isoformat(), "end": end.isoformat(),
        "changed_dates": [x.isoformat() for x in changed],
    })
    return changed


@ledger.projector("calendar.local_holiday_added")
def _project_local_holiday(session: Session, ev: Any, p: dict[str, Any]) -> None:
    d, end = date.fromisoformat(p["start"]), date.fromisoformat(p["end"])
    while d <= end:
        session.add(CalendarDay(day=d, is_workday=False, kind="local", name=p["name"]))
        d += timedelta(days=1)
    session.flush()


# ---------------------------------------------------------------------------------------- overview
def year_overview(session: Session, year: int) -> YearOverview:
    """Everything ``calendar show`` and the settings dialog display for one year."""
    row = session.get(CalendarYear, year)
    cal = WorkCalendar.load(session)
    exc = cal.exceptions(year)
    first, last = date(year, 1, 1).toordinal(), date(year, 12, 31).toordinal()
    working = cal.index.through(last) - cal.index.through(first - 1)
    return YearOverview(
        year=year,
        status=row.status if row else "provisional",
        source=row.source if row else "weekday-fallback",
        notice_ref=row.notice_ref if row else "",
        confirmed_at=row.confirmed_at if row else None,
        confirmed_by=row.confirmed_by if row else None,
        days_off_on_weekdays=tuple(e for e in exc if not e.is_workday and e.on.weekday() < 5),
        working_weekends=tuple(e for e in exc if e.is_workday and e.on.weekday() >= 5),
        weekend_holidays=tuple(e for e in exc if not e.is_workday and e.on.weekday() >= 5),
        working_days=working,
    )
