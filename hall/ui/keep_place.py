"""A refreshed table keeps the person's place: the same rows stay selected and the viewport does not jump.

Two halves. :func:`update_rows` turns a model's rows into the new ones by their keys, with the minimal row
signals — rows that went away are removed, rows that moved are moved in a layout change, new rows inserted, the
rest changed in place — so Qt's persistent indexes (the current row, the selection) follow their rows, never a
position. :class:`Place` remembers which row is at the top of the viewport (by key, with its pixel offset) and,
after the update, scrolls so that row is where it was: a row removed or inserted above it no longer shifts what
the person is looking at.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractItemModel, QModelIndex
from PySide6.QtWidgets import QAbstractItemView, QTableView

Key = Callable[[Any], Hashable]


def update_rows(model: QAbstractItemModel, rows: list[Any], new: Sequence[Any], key: Key, columns: int,
                touched: Callable[[], None] = lambda: None) -> None:
    """Make ``rows`` — the very list the model's ``rowCount``/``data`` read — equal to ``new``, emitting the
    model's signals as it goes. ``touched()`` runs after every change to the list (a model that caches per row
    drops its cache there). Keys must be unique; if they are not, the rows are replaced by position."""
    new = list(new)
    new_keys = [key(r) for r in new]
    wanted = {k: i for i, k in enumerate(new_keys)}
    if len(wanted) != len(new_keys) or len({key(r) for r in rows}) != len(rows):
        _by_position(model, rows, new, columns, touched)
        return
    root = QModelIndex()
    # 1. rows that went away, bottom up, one signal per run of neighbours
    i = len(rows) - 1
    while i >= 0:
        if key(rows[i]) in wanted:
            i -= 1
            continue
        end = i
        while i >= 0 and key(rows[i]) not in wanted:
            i -= 1
        model.beginRemoveRows(root, i + 1, end)
        del rows[i + 1:end + 1]
        touched()
        model.endRemoveRows()
    # 2. the rows that stay, into their new order (a sort by due date moves a ticket whose date moved)
    order = sorted(range(len(rows)), key=lambda j: wanted[key(rows[j])])
    if order != list(range(len(rows))):
        model.layoutAboutToBeChanged.emit()
        moved = [rows[j] for j in order]
        where = {key(r): n for n, r in enumerate(moved)}
        before = model.persistentIndexList()
        after = [model.index(where[key(rows[p.row()])], p.column()) if 0 <= p.row() < len(rows) else QModelIndex()
                 for p in before]
        rows[:] = moved
        touched()
        model.changePersistentIndexList(before, after)
        model.layoutChanged.emit()
    # 3. new rows, top down, one signal per run of neighbours
    staying = {key(r) for r in rows}
    j = 0
    while j < len(new):
        if j < len(rows) and key(rows[j]) == new_keys[j]:
            j += 1
            continue
        start = j
        while j < len(new) and new_keys[j] not in staying:
            j += 1
        if j == start:  # cannot happen with unique keys (the staying rows are in the new order): be safe
            break
        model.beginInsertRows(root, start, j - 1)
        rows[start:start] = new[start:j]
        touched()
        model.endInsertRows()
    if [key(r) for r in rows] != new_keys:
        _by_position(model, rows, new, columns, touched)
        return
    # 4. the same rows with their new values
    changed = [n for n, (old, now) in enumerate(zip(rows, new, strict=True)) if old is not now and old != now]
    rows[:] = new
    touched()
    if changed and columns:
        model.dataChanged.emit(model.index(changed[0], 0), model.index(changed[-1], columns - 1))


def _by_position(model: QAbstractItemModel, rows: list[Any], new: list[Any], columns: int,
                 touched: Callable[[], None]) -> None:
    root = QModelIndex()
    if len(new) < len(rows):
        model.beginRemoveRows(root, len(new), len(rows) - 1)
        del rows[len(new):]
        touched()
        model.endRemoveRows()
    kept = len(rows)
    rows[:kept] = new[:kept]
    touched()
    if kept and columns:
        model.dataChanged.emit(model.index(0, 0), model.index(kept - 1, columns - 1))
    if len(new) > kept:
        model.beginInsertRows(root, kept, len(new) - 1)
        rows.extend(new[kept:])
        touched()
        model.endInsertRows()


@dataclass(frozen=True)
class Place:
    """The row at the top of a table's viewport (by key) and how far it is scrolled into it."""

    top_key: Hashable | None
    top_row: int
    offset: int  # the top row's y in the viewport (0 or negative: partly scrolled out)

    @classmethod
    def of(cls, view: QTableView, key_at: Callable[[int], Hashable | None]) -> Place:
        """``key_at(row)``: the key of the model's row (cheap: no display text is formatted for it)."""
        row = view.rowAt(0)
        if row < 0:
            return cls(None, -1, 0)
        return cls(key_at(row), row, view.rowViewportPosition(row))

    def restore(self, view: QTableView, row_of: Callable[[Hashable], int | None]) -> None:
        """Scroll so the remembered row is back where it was (nothing to do when it did not move or is gone);
        ``row_of(key)``: the row now showing that key, or None."""
        if self.top_key is None:
            return
        row = row_of(self.top_key)
        if row is None:
            return
        view.doItemsLayout()  # the scroll bar's range and the rows' positions as they are after the update
        bar = view.verticalScrollBar()
        # Absolute, not by the rows that came or went: the view may have scrolled on its own meanwhile (Qt keeps
        # a current row that was removed visible by moving to its neighbour).
        if view.verticalScrollMode() == QAbstractItemView.ScrollMode.ScrollPerItem:
            bar.setValue(view.verticalHeader().visualIndex(row))
        else:
            bar.setValue(bar.value() + view.rowViewportPosition(row) - self.offset)
