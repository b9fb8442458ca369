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

# Smoke check: the frozen program starts, imports its code and answers without a display.
version=$(QT_QPA_PLATFORM=offscreen HALL_HOME="$(mktemp -d)" dist/hall/hall --version)
echo "dist/hall/hall --version: $version" >&2
echo "bundle size: $(du -sh dist/hall | cut -f1)" >&2
