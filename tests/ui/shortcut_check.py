"""Which keys a window listens to, and which of them collide (two things answering the same Alt+X or Ctrl+P).

Qt answers an ambiguous shortcut with neither of its owners (``QAction::activated ambiguously``), so a clerk's
Alt+R silently does nothing — or the other thing. A window's keys are: the mnemonics of its menu bar and of every
visible button, buddied label, group box and tab (``&X`` is Alt+X), the shortcuts of its buttons, of its actions
(in its menus or added to its visible widgets) and of its QShortcuts. Within one open menu the mnemonics are plain
letters, and must be unique as well.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import QAbstractButton, QGroupBox, QLabel, QMenu, QMenuBar, QTabBar, QTabWidget, QWidget


def mnemonic(text: str) -> str | None:
    """The letter after a single ``&`` (``&&`` is a literal ampersand), upper-cased; None without one."""
    i = 0
    while i < len(text) - 1:
        if text[i] == "&":
            if text[i + 1] != "&":
                return text[i + 1].upper()
            i += 1
        i += 1
    return None


def _alt(letter: str) -> str:
    return QKeySequence(f"Alt+{letter}").toString(QKeySequence.SequenceFormat.PortableText)


def _seq(key: QKeySequence) -> str:
    return key.toString(QKeySequence.SequenceFormat.PortableText)


def _shown(w: QWidget, root: QWidget) -> bool:
    # QWidget.window(w): some widgets name an attribute "window" (a combo box of windows)
    return w is root or (QWidget.window(w) is root and w.isVisibleTo(root))


def _menus(bar: QMenuBar) -> Iterator[QMenu]:
    todo = [a.menu() for a in bar.actions() if a.menu() is not None]
    while todo:
        menu = todo.pop()
        yield menu
        todo.extend(a.menu() for a in menu.actions() if a.menu() is not None)


def window_keys(root: QWidget) -> dict[str, list[str]]:
    """Every key the window answers now → who answers it (a description per owner)."""
    keys: dict[str, list[str]] = defaultdict(list)
    menus: list[QMenu] = []
    for w in [root, *root.findChildren(QWidget)]:
        if isinstance(w, QMenu) or not _shown(w, root):
            continue
        if isinstance(w, QAbstractButton) and not w.shortcut().isEmpty():
            keys[_seq(w.shortcut())].append(f"按钮“{w.text()}”")
        elif isinstance(w, QLabel) and w.buddy() is not None and (m := mnemonic(w.text())):
            keys[_alt(m)].append(f"标签“{w.text()}”")
        elif isinstance(w, QGroupBox) and (m := mnemonic(w.title())):
            keys[_alt(m)].append(f"分组“{w.title()}”")
        elif isinstance(w, QTabBar):
            for i in range(w.count()):
                if w.isTabVisible(i) and (m := mnemonic(w.tabText(i))):
                    keys[_alt(m)].append(f"页签“{w.tabText(i)}”")
        elif isinstance(w, QMenuBar):
            for a in w.actions():
                if a.isVisible() and (m := mnemonic(a.text())):
                    keys[_alt(m)].append(f"菜单“{a.text()}”")
            menus.extend(_menus(w))
    seen: set[int] = set()
    actions = [a for a in root.findChildren(QAction)] + [a for m in menus for a in m.actions()]
    for w in [root, *root.findChildren(QWidget)]:
        actions.extend(w.actions())
    for a in actions:
        if id(a) in seen or not a.isVisible():
            continue
        seen.add(id(a))
        owners = [o for o in a.associatedObjects() if isinstance(o, QWidget)]
        live = any((o in menus) if isinstance(o, QMenu) else _shown(o, root) for o in owners)
        if not live:
            continue
        for key in a.shortcuts():
            keys[_seq(key)].append(f"操作“{a.text() or a.objectName() or '（无名）'}”")
    for sc in root.findChildren(QShortcut):
        parent = sc.parent()
        if sc.isEnabled() and isinstance(parent, QWidget) and _shown(parent, root) and not sc.key().isEmpty():
            keys[_seq(sc.key())].append("快捷键")
    return dict(keys)


def menu_collisions(root: QWidget) -> list[str]:
    """Two items of one menu with the same letter."""
    out = []
    for bar in root.findChildren(QMenuBar):
        for menu in _menus(bar):
            letters: dict[str, list[str]] = defaultdict(list)
            for a in menu.actions():
                if a.isVisible() and not a.isSeparator() and (m := mnemonic(a.text())):
                    letters[m].append(a.text())
            out += [f"菜单“{menu.title()}”中 {k}: {'、'.join(v)}" for k, v in letters.items() if len(v) > 1]
    return out


def collisions(root: QWidget, where: str = "") -> list[str]:
    """What collides in the window as it is now, and in each page of its tab widgets."""
    found = {f"{where or root.windowTitle()}：{k} 同时属于 {'、'.join(v)}"
             for k, v in window_keys(root).items() if len(v) > 1}
    for tabs in root.findChildren(QTabWidget):
        if not _shown(tabs, root):
            continue
        current = tabs.currentIndex()
        for i in range(tabs.count()):
            tabs.setCurrentIndex(i)
            page = f"{where or root.windowTitle()}/{tabs.tabText(i)}"
            found |= {f"{page}：{k} 同时属于 {'、'.join(v)}" for k, v in window_keys(root).items() if len(v) > 1}
        tabs.setCurrentIndex(current)
    return sorted(found) + menu_collisions(root)
