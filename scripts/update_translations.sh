#!/bin/sh
# Extract every translatable UI string (self.tr / QCoreApplication.translate) into Qt Linguist files.
# The source strings are Simplified Chinese; a translator opens resources/i18n/hall_<lang>.ts in Qt Linguist
# (.venv/bin/pyside6-linguist), and scripts/build_bundle.sh compiles .ts to .qm. Run after changing UI text.
set -eu
cd "$(dirname "$0")/.."
bin=.venv/bin
[ -x "$bin/pyside6-lupdate" ] || bin=.venv/Scripts
for lang in en; do
    "$bin/pyside6-lupdate" -source-language zh_CN -target-language "$lang" hall/ui/*.py hall/__main__.py \
        -ts "resources/i18n/hall_$lang.ts"
done
