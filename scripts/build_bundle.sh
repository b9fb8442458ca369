#!/bin/sh
# Build the one-folder Hall bundle dist/hall/ with PyInstaller (hall.spec), then smoke-test it.
# Linux; on Windows see README "Bundle" (PyInstaller builds for the platform it runs on).
set -eu

ROOT=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)
cd "$ROOT"

# Same system packages and .venv as `./run app`; then the bundle extra (pyinstaller) from pyproject.toml.
sh scripts/setup_linux.sh app
if ! .venv/bin/python -c 'import PyInstaller' >/dev/null 2>&1; then
    echo "== installing PyInstaller into .venv (pip install -e '.[bundle]')" >&2
    .venv/bin/python -m pip install --disable-pip-version-check --no-input -q -e "$ROOT[bundle]"
fi

# Translations are committed as Qt Linguist .ts sources; the bundle carries the compiled .qm.
find hall resources -name '*.ts' -type f 2>/dev/null | while IFS= read -r ts; do
    .venv/bin/pyside6-lrelease -silent "$ts" -qm "${ts%.ts}.qm"
done

echo "== pyinstaller hall.spec" >&2
.venv/bin/pyinstaller --noconfirm --clean --log-level WARN hall.spec

# Smoke checks, offscreen: the frozen program answers --version; then it must open its ledger (migrations
# and catalogue from inside the bundle) and stay up on its first-run dialog until we stop it.
version=$(QT_QPA_PLATFORM=offscreen dist/hall/hall --version)
echo "dist/hall/hall --version: $version" >&2
smoke_home=$(mktemp -d)
status=0
QT_QPA_PLATFORM=offscreen timeout 15 dist/hall/hall --data-dir "$smoke_home" || status=$?
if [ "$status" -ne 124 ] || [ ! -s "$smoke_home/hall.sqlite3" ]; then
    echo "冒烟测试失败 smoke test failed: dist/hall/hall exited with $status before the timeout" >&2
    cat "$smoke_home"/logs/* >&2 2>/dev/null || true
    exit 1
fi
rm -rf "$smoke_home"
echo "smoke test: started, created and migrated its ledger, stayed up" >&2
# The console program beside it: it must open (create and migrate) a ledger of its own and show its settings.
admin_home=$(mktemp -d)
if ! HALL_ADMIN_PASSWORD='Smoke#2026x' dist/hall/hall-admin --data-dir "$admin_home" init >/dev/null \
        || ! dist/hall/hall-admin --data-dir "$admin_home" settings show | grep -q "中心名称" \
        || ! dist/hall/hall-admin --data-dir "$admin_home" print notices --out "$admin_home/notices.pdf" >/dev/null \
        || [ ! -s "$admin_home/notices.pdf" ] \
        || ! HALL_KEY_DIR="$admin_home/keys" dist/hall/hall-admin --data-dir "$admin_home" encryption enable >/dev/null \
        || ! HALL_KEY_DIR="$admin_home/keys" dist/hall/hall-admin --data-dir "$admin_home" ledger verify >/dev/null; then
    # (the bundled SQLCipher too: the ledger encrypted in place, then opened and verified through it)
    echo "冒烟测试失败 smoke test failed: dist/hall/hall-admin" >&2
    exit 1
fi
rm -rf "$admin_home"
echo "smoke test: hall-admin initialised a ledger, showed its settings, printed the public notices, encrypted" \
     "the ledger and verified it" >&2
echo "bundle size: $(du -sh dist/hall | cut -f1)" >&2
