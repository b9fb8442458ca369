"""The hall server's set-up scripts: they parse, and on Debian the server script really sets a cluster up — a role
and database with a generated password kept in a root-only file, the LAN listener, the subnet's pg_hba line — after
which `hall-admin server init` makes it a hall, and a second run of the script changes nothing."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "server_debian.sh"


def test_the_debian_script_parses_and_refuses_bad_arguments():
    assert SCRIPT.read_text(encoding="utf-8").startswith("#!/bin/sh\n")
    assert os.access(SCRIPT, os.X_OK)
    subprocess.run(["sh", "-n", str(SCRIPT)], check=True)
    bad = subprocess.run(["sh", str(SCRIPT)], capture_output=True, text=True)
    assert bad.returncode == 1 and "--subnet is required" in bad.stderr
    bad = subprocess.run(["sh", str(SCRIPT), "--subnet", "192.168.1.1"], capture_output=True, text=True)
    assert bad.returncode == 1 and "CIDR" in bad.stderr
    assert subprocess.run(["sh", str(SCRIPT), "--bogus"], capture_output=True, text=True).returncode == 64


def test_the_readme_gives_the_two_commands_and_the_windows_steps():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Setting up a hall server", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert block is not None
    commands = [line for line in block.group(1).splitlines() if line.strip()]
    assert len(commands) == 2
    assert commands[0].startswith("sudo scripts/server_debian.sh --subnet ")
    assert "./run admin server init --db postgresql://" in commands[1]
    for needed in ("listen_addresses", "pg_hba.conf", "scram-sha-256", "New-NetFirewallRule", "server init"):
        assert needed in section


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.skipif(not (hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("pg_createcluster")
                         and shutil.which("pg_lsclusters")),
                    reason="needs root and Debian's postgresql-common (pg_createcluster)")
def test_the_debian_script_sets_a_cluster_up_for_the_hall_and_is_idempotent(tmp_path):
    import psycopg

    version = sorted(os.listdir("/usr/lib/postgresql"), key=float)[-1]
    name = f"halltest{uuid.uuid4().hex[:8]}"
    port = _free_port()
    subprocess.run(["pg_createcluster", version, name, "-p", str(port)], check=True, capture_output=True)
    pwfile = tmp_path / "secret" / "hall-db-password.txt"
    args = ["sh", str(SCRIPT), "--subnet", "127.0.0.0/8", "--listen", "127.0.0.1", "--cluster", f"{version}/{name}",
            "--db", "hall_lan", "--user", "hall_lan", "--password-file", str(pwfile)]
    env = dict(os.environ, HALL_SKIP_APT="1")
    try:
        first = subprocess.run(args, capture_output=True, text=True, env=env, timeout=180)
        assert first.returncode == 0, first.stdout + first.stderr
        password = pwfile.read_text().strip()
        assert re.fullmatch(r"[0-9a-f]{32}", password)
        assert pwfile.stat().st_mode & 0o777 == 0o600
        assert password not in first.stdout + first.stderr  # never printed
        assert "check: hall_lan logged in to hall_lan over TCP" in first.stdout
        assert "./run admin server init --db postgresql://hall_lan@" in first.stdout

        conninfo = f"host=127.0.0.1 port={port} dbname=hall_lan user=hall_lan connect_timeout=5"
        with psycopg.connect(conninfo, password=password) as conn:
            superuser, = conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()
            owner, encoding = conn.execute(
                "SELECT pg_get_userbyid(datdba), pg_encoding_to_char(encoding) FROM pg_database "
                "WHERE datname = current_database()").fetchone()
        assert (superuser, owner, encoding) == (False, "hall_lan", "UTF8")
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(conninfo, password="not-the-password").close()  # scram: the password is checked

        # The second command, as the script says: the password from the environment, never on the command line.
        admin_pw = tmp_path / "admin.txt"
        admin_pw.write_text("Admin-pass-2026\n")
        init = subprocess.run(
            [sys.executable, "-c", "import sys; from hall.cli import main; sys.exit(main())", "server", "init",
             "--db", f"postgresql://hall_lan@127.0.0.1:{port}/hall_lan", "--admin-password-file", str(admin_pw)],
            capture_output=True, text=True, timeout=180,
            env=dict(os.environ, PGPASSWORD=password, HALL_HOME=str(tmp_path / "admin-pc")))
        assert init.returncode == 0, init.stderr
        assert "已初始化" in init.stdout and "事项清单：76 项" in init.stdout

        again = subprocess.run(args, capture_output=True, text=True, env=env, timeout=180)
        assert again.returncode == 0, again.stdout + again.stderr
        assert "role hall_lan: already there" in again.stdout and "database hall_lan: already there" in again.stdout
        assert pwfile.read_text().strip() == password
        hba = Path(f"/etc/postgresql/{version}/{name}/pg_hba.conf").read_text()
        assert hba.count("# hall LAN") == 1
        listen = Path(f"/etc/postgresql/{version}/{name}/conf.d/hall.conf").read_text()
        assert "listen_addresses = '127.0.0.1'" in listen
    finally:
        subprocess.run(["pg_dropcluster", "--stop", version, name], capture_output=True)
        # pg_dropcluster removes the files it made; the script's conf.d drop-in keeps the folder otherwise.
        shutil.rmtree(f"/etc/postgresql/{version}/{name}", ignore_errors=True)
