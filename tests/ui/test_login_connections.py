"""Choosing the hall server in the login dialog: ``hall --db …`` or a saved connection, its password asked at login
and never written to the settings (nor anywhere without an OS keyring); an unreachable server is named in the
dialog, which stays open to choose again. Real widgets, a real QSettings file, the real PostgreSQL server."""

from __future__ import annotations

import uuid

import pytest
from PySide6.QtCore import QSettings

from hall.paths import Paths
from hall.services.storage import dburl
from hall.ui.connections import SavedConnections, SecretStore, first_target
from hall.ui.login_dialog import LoginDialog
from hall.ui.startup import BackgroundOpen

pytestmark = pytest.mark.gui  # the PostgreSQL ones are marked pg through their fixtures
SECRET = "Db-secret-55x"  # the test server trusts 127.0.0.1: any password connects


@pytest.fixture
def server_url(pg_server, _pg_template):
    """A hall with staff on the PostgreSQL server; its address with a password, as an administrator types it."""
    from pgserver import _admin_execute

    name = f"hall_t_{uuid.uuid4().hex[:12]}"
    _admin_execute(pg_server, f'CREATE DATABASE "{name}" TEMPLATE "{_pg_template[0]}"')
    yield f"postgresql://postgres:{SECRET}@127.0.0.1:{pg_server.port}/{name}"
    _admin_execute(pg_server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Keyring(SecretStore):
    """An OS keyring that is there (none is installed on the test machine): a dict behind the same interface."""

    def __init__(self) -> None:
        self.kept: dict[str, str] = {}

    @property
    def available(self) -> bool:
        return True

    def get(self, url: str) -> str:
        return self.kept.get(dburl.without_password(url), "")

    def set(self, url: str, password: str) -> None:
        self.kept[dburl.without_password(url)] = password

    def forget(self, url: str) -> None:
        self.kept.pop(dburl.without_password(url), None)


def _dialog(qtbot, tmp_path, saved, secrets, explicit=None, node=None):
    from hall.services.storage.node import NodeIdentity

    paths = Paths.resolve(tmp_path / "pc").ensure()
    node = node or NodeIdentity.load_or_create(paths.node_file)
    opened: list[BackgroundOpen] = []

    def open_database(url):
        job = BackgroundOpen(paths, url, None)
        opened.append(job)
        job.start()
        return job

    start, target = first_target(explicit, saved, secrets)
    dlg = LoginDialog(None, node, "", opening=open_database(target) if start else None, connections=saved,
                      secrets=secrets, open_database=open_database, target=target)
    qtbot.addWidget(dlg)
    dlg.show()
    return dlg, opened


def _login(dlg, staff_no="c02", password="clerk-pass-1"):
    dlg.staff_no.setText(staff_no)
    dlg.password.setText(password)
    dlg.try_login()


def _dispose(opened):
    for job in opened:
        job.wait()
        if job.result is not None and not isinstance(job.result, BaseException):
            job.result.db.dispose()


def test_the_server_is_saved_without_its_password_and_the_password_is_asked_at_login(qtbot, tmp_path, server_url):
    ini = tmp_path / "settings.ini"
    saved, secrets = SavedConnections(QSettings(str(ini), QSettings.Format.IniFormat)), SecretStore()
    assert not secrets.available  # no keyring on this machine: nothing may be stored

    # hall --db postgresql://postgres:SECRET@…: opened at once, nothing to type but the staff login.
    dlg, opened = _dialog(qtbot, tmp_path, saved, secrets, explicit=server_url)
    assert not dlg.db_password.isVisible() and not dlg.remember.isVisible()
    assert dlg.database.currentData() == dburl.without_password(server_url)
    _login(dlg)
    assert dlg.result() == LoginDialog.DialogCode.Accepted and dlg.actor.name == "王民政"
    assert opened[0].url == server_url
    _dispose(opened)
    text = ini.read_text(encoding="utf-8")
    assert dburl.without_password(server_url).split("//", 1)[1] in text  # saved …
    assert SECRET not in text  # … without its password

    # The next start, no --db: the saved server is chosen, nothing is opened before its password is typed.
    dlg, opened = _dialog(qtbot, tmp_path, saved, secrets)
    assert opened == [] and dlg.opening is None
    assert dlg.database.currentData() == dburl.without_password(server_url)
    assert dlg.db_password.isVisible() and dlg.db_password.text() == "" and not dlg.remember.isVisible()
    assert dlg.db_password.echoMode() == dlg.db_password.EchoMode.Password
    dlg.db_password.setText(SECRET)
    _login(dlg)
    assert dlg.result() == LoginDialog.DialogCode.Accepted
    assert opened[0].url == server_url  # the typed password went into the address it connected with …
    _dispose(opened)
    assert SECRET not in ini.read_text(encoding="utf-8")  # … and nowhere else


def test_an_unreachable_server_is_named_in_the_dialog_which_stays_open(qtbot, tmp_path, server_url):
    saved = SavedConnections(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    saved.remember(server_url)
    saved.remember("postgresql://hall@127.0.0.1:1/hall")  # a server that is not there (used last)
    dlg, opened = _dialog(qtbot, tmp_path, saved, SecretStore())
    assert dlg.database.currentData() == "postgresql://hall@127.0.0.1:1/hall"
    dlg.db_password.setText(SECRET)
    _login(dlg)
    assert dlg.isVisible() and dlg.result() != LoginDialog.DialogCode.Accepted
    assert "无法连接数据库服务器 127.0.0.1:1/hall" in dlg.error.text(), dlg.error.text()
    assert SECRET not in dlg.error.text() and "Traceback" not in dlg.error.text()
    dlg.database.setCurrentIndex(dlg.database.findData(dburl.without_password(server_url)))  # choose again
    dlg.db_password.setText(SECRET)
    _login(dlg)
    assert dlg.result() == LoginDialog.DialogCode.Accepted
    _dispose(opened)


def test_choosing_the_local_ledger_opens_it_instead(qtbot, tmp_path, server_url):
    saved = SavedConnections(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    saved.remember(server_url)
    dlg, opened = _dialog(qtbot, tmp_path, saved, SecretStore())
    dlg.database.setCurrentIndex(0)
    assert not dlg.db_password.isVisible()
    _login(dlg)
    assert dlg.result() == LoginDialog.NEEDS_ADMIN  # a fresh local ledger: its administrator first
    assert opened[-1].url is None and (tmp_path / "pc" / "hall.sqlite3").exists()
    _dispose(opened)


def test_with_an_os_keyring_the_password_may_be_remembered(qtbot, tmp_path, server_url):
    ini = tmp_path / "settings.ini"
    saved, keyring = SavedConnections(QSettings(str(ini), QSettings.Format.IniFormat)), Keyring()
    saved.remember(server_url)
    dlg, opened = _dialog(qtbot, tmp_path, saved, keyring)
    assert dlg.remember.isVisible() and not dlg.remember.isChecked()
    dlg.db_password.setText(SECRET)
    dlg.remember.setChecked(True)
    _login(dlg)
    assert dlg.result() == LoginDialog.DialogCode.Accepted
    _dispose(opened)
    assert keyring.kept == {dburl.without_password(server_url): SECRET}
    assert SECRET not in ini.read_text(encoding="utf-8")
    # Next start: opened at once with the remembered password; unticking forgets it.
    dlg, opened = _dialog(qtbot, tmp_path, saved, keyring)
    assert opened and opened[0].url == server_url
    assert dlg.db_password.text() == SECRET and dlg.remember.isChecked()
    dlg.remember.setChecked(False)
    _login(dlg)
    assert dlg.result() == LoginDialog.DialogCode.Accepted
    _dispose(opened)
    assert keyring.kept == {}
