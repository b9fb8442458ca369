#!/bin/sh
# The hall's database server on Debian 12 (the first of the two commands in README "Setting up a hall server"):
#
#   sudo scripts/server_debian.sh --subnet 192.168.1.0/24
#
# 1. installs PostgreSQL (apt-get, only when missing; HALL_SKIP_APT=1 skips the check);
# 2. creates the login role and the database (default both "hall", UTF-8), the role with a generated password
#    (hex, so it needs no escaping in an address) written to a root-only file — never printed; a role that
#    already exists keeps its password unless --new-password;
# 3. makes the server listen on the LAN (a conf.d drop-in: listen_addresses) and lets the hall's subnet in with
#    scram-sha-256 passwords (one pg_hba.conf line for that database and role, added once);
# 4. opens port 5432 to the subnet in ufw when ufw is active, restarts the cluster and checks a login over TCP.
#
# Run it again at any time: every step is skipped when already done. Options:
#   --subnet CIDR          the hall LAN, e.g. 192.168.1.0/24 (required)
#   --db NAME --user NAME  database and role (default hall, hall)
#   --listen ADDRESSES     listen_addresses (default '*': every interface; or the server's LAN address)
#   --cluster VER/NAME     an existing cluster (default: the newest one; "main" is created if there is none)
#   --password-file FILE   where the role's password is kept (default /root/hall-db-password.txt, mode 600)
#   --new-password         give an existing role a new generated password
set -eu

subnet="" db="hall" user="hall" listen="*" cluster="" pwfile="/root/hall-db-password.txt" renew=0
while [ $# -gt 0 ]; do
    case "$1" in
        --subnet) subnet="$2"; shift 2 ;;
        --db) db="$2"; shift 2 ;;
        --user) user="$2"; shift 2 ;;
        --listen) listen="$2"; shift 2 ;;
        --cluster) cluster="$2"; shift 2 ;;
        --password-file) pwfile="$2"; shift 2 ;;
        --new-password) renew=1; shift ;;
        -h|--help) sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "server_debian.sh: unknown option $1 (see --help)" >&2; exit 64 ;;
    esac
done
say() { printf '%s\n' "$*"; }
die() { printf 'server_debian.sh: %s\n' "$*" >&2; exit 1; }

[ -n "$subnet" ] || die "--subnet is required: the hall LAN, e.g. --subnet 192.168.1.0/24"
case "$subnet" in */*) ;; *) die "--subnet must be an address range in CIDR form, e.g. 192.168.1.0/24" ;; esac
for name in "$db" "$user"; do
    case "$name" in *[!a-z0-9_]*|"") die "database and role names: lower-case letters, digits and _ only ($name)" ;; esac
done
[ "$(id -u)" -eq 0 ] || die "run as root (sudo $0 …): it installs packages and edits the server's configuration"

# 1. PostgreSQL ---------------------------------------------------------------------------------------------
if [ "${HALL_SKIP_APT:-0}" != 1 ] && ! dpkg-query -W -f='${Status}' postgresql 2>/dev/null | grep -q "ok installed"; then
    say "installing PostgreSQL …"
    DEBIAN_FRONTEND=noninteractive apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql
fi
command -v pg_lsclusters >/dev/null || die "pg_lsclusters not found: is Debian's postgresql package installed?"
if [ -z "$cluster" ]; then
    cluster=$(pg_lsclusters -h | sort -k1,1V | awk 'END { if (NF) print $1 "/" $2 }')
    if [ -z "$cluster" ]; then
        version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
        say "creating cluster $version/main …"
        pg_createcluster "$version" main
        cluster="$version/main"
    fi
fi
version=${cluster%/*} name=${cluster#*/}
conf="/etc/postgresql/$version/$name"
[ -f "$conf/postgresql.conf" ] || die "no cluster $cluster (pg_lsclusters lists those there are)"
port=$(pg_lsclusters -h | awk -v v="$version" -v n="$name" '$1 == v && $2 == n { print $3 }')
status=$(pg_lsclusters -h | awk -v v="$version" -v n="$name" '$1 == v && $2 == n { print $4 }')
[ "$status" = online ] || pg_ctlcluster "$version" "$name" start
psql_as_postgres() { runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -p "$port" "$@"; }

# 2. role and database --------------------------------------------------------------------------------------
umask 077
exists=$(psql_as_postgres -tAc "SELECT 1 FROM pg_roles WHERE rolname = '$user'")
if [ "$exists" != 1 ] || [ "$renew" = 1 ] || [ ! -s "$pwfile" ]; then
    if [ "$exists" = 1 ] && [ "$renew" != 1 ] && [ ! -s "$pwfile" ]; then
        die "role $user exists but $pwfile is missing: use --new-password to give it a new one"
    fi
    password=$(openssl rand -hex 16 2>/dev/null || od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
    mkdir -p "$(dirname "$pwfile")"
    printf '%s\n' "$password" > "$pwfile"
    chmod 600 "$pwfile"
    # On standard input, not the command line: the password never shows in the process list.
    if [ "$exists" = 1 ]; then verb="ALTER"; else verb="CREATE"; fi
    printf "%s ROLE %s LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '%s';\n" "$verb" "$user" "$password" \
        | psql_as_postgres -d postgres
    say "role $user: password generated, kept in $pwfile (root only)"
else
    say "role $user: already there (its password is in $pwfile)"
fi
if [ "$(psql_as_postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'")" != 1 ]; then
    psql_as_postgres -d postgres -c "CREATE DATABASE $db OWNER $user ENCODING 'UTF8' LOCALE 'C.UTF-8' TEMPLATE template0"
    say "database $db: created (owner $user, UTF-8)"
else
    say "database $db: already there"
fi

# 3. listen on the LAN, let the subnet in --------------------------------------------------------------------
mkdir -p "$conf/conf.d"
dropin="$conf/conf.d/hall.conf"
want="listen_addresses = '$listen'"
if [ "$(cat "$dropin" 2>/dev/null || true)" != "# Hall: the counters connect over the LAN (scripts/server_debian.sh)
$want" ]; then
    printf '%s\n%s\n' "# Hall: the counters connect over the LAN (scripts/server_debian.sh)" "$want" > "$dropin"
    chown postgres:postgres "$dropin"
    restart=1
fi
grep -q "^include_dir = 'conf.d'" "$conf/postgresql.conf" || die "$conf/postgresql.conf does not include conf.d"
hba="$conf/pg_hba.conf"
line="host    $db    $user    $subnet    scram-sha-256    # hall LAN"
if ! grep -qF "$line" "$hba"; then
    printf '%s\n' "$line" >> "$hba"
    say "pg_hba.conf: $subnet may log in to $db as $user (scram-sha-256)"
    reload=1
fi
if command -v ufw >/dev/null && ufw status 2>/dev/null | grep -q "Status: active"; then
    ufw allow from "$subnet" to any port "$port" proto tcp >/dev/null
    say "ufw: port $port open to $subnet"
fi
if [ "${restart:-0}" = 1 ]; then
    pg_ctlcluster "$version" "$name" restart
elif [ "${reload:-0}" = 1 ]; then
    pg_ctlcluster "$version" "$name" reload
fi

# 4. check: a password login over TCP, as a counter will make it ---------------------------------------------
check_host=127.0.0.1
case "$listen" in "*"|0.0.0.0|localhost|127.0.0.1*) ;; *) check_host=${listen%%,*} ;; esac
# PGPASSWORD as an assignment: in the environment of psql only, never in a process's arguments.
if PGPASSWORD=$(cat "$pwfile") psql -X -q -h "$check_host" -p "$port" -U "$user" -d "$db" -tAc "SELECT 1" \
        >/dev/null 2>&1; then
    say "check: $user logged in to $db over TCP ($check_host:$port) with its password"
else
    die "check failed: $user could not log in to $db over TCP at $check_host:$port (see $hba and the server log)"
fi
address=$(hostname -I 2>/dev/null | awk '{ print $1 }')
say ""
say "The hall server is ready: PostgreSQL $version on port $port, database $db, role $user."
say "Next, from any PC with Hall (the password is read from the environment, never typed on the command line):"
say "  PGPASSWORD=\"\$(sudo cat $pwfile)\" ./run admin server init --db postgresql://$user@${address:-SERVER}:$port/$db"
say "Counters then start with: hall --db postgresql://$user@${address:-SERVER}:$port/$db   (database password asked at login)"
