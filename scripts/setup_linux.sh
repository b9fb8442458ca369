#!/bin/sh
# Set up Hall on Linux (Debian/Ubuntu): system packages Qt and the tests need, then .venv.
#
#   sh scripts/setup_linux.sh app    GUI + admin CLI: Python, Qt xcb/offscreen libraries, a CJK font
#   sh scripts/setup_linux.sh test   the above + PostgreSQL, Xvfb, poppler-utils (pdftoppm/pdftotext),
#                                    LibreOffice Calc headless (not when CI=true)
#
# Idempotent and quick when everything is present: dpkg-query first, apt-get only for what is missing,
# pip only when pyproject.toml is newer than the stamp in .venv.
#   HALL_SKIP_APT=1   never touch system packages (e.g. a non-Debian machine set up by hand)
#   HALL_NEED_XVFB=1  also install xvfb + xauth for the app profile (./run sets it when there is no display)
set -eu

ROOT=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)
cd "$ROOT"
PROFILE=${1:-test}
VENV=$ROOT/.venv
STAMP=$VENV/.hall-setup.stamp

say() { printf '%s\n' "$*" >&2; }

# Measured on bare Debian 12: what PySide6-Essentials needs for offscreen and for real xcb windows.
QT_PACKAGES="libglib2.0-0 libgl1 libegl1 libxkbcommon0 libfreetype6 libfontconfig1 libdbus-1-3
libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-render-util0
libxcb-render0 libxcb-shape0 libxcb-util1 libxcb-xkb1"
FONT_PACKAGES="fonts-wqy-microhei fonts-wqy-zenhei"
# CUPS: a private scheduler with receipt-printer queues prints through Qt's real CUPS backend in
# tests/ui/test_receipt_printers.py (cups-filters gives it pdftopdf); ~10 MB, so on CI too.
TEST_PACKAGES="postgresql xvfb xauth poppler-utils cups-daemon cups-client cups-filters"
# LibreOffice Calc (headless) recomputes an exported workbook in a test (tests/exchange/test_workbook_formats.py);
# about 150 MB, so never on CI, where that test skips.
CALC_PACKAGES="libreoffice-calc-nogui"
PYTHON_PACKAGES="python3 python3-venv"

# A Python >= 3.11 that can create a venv (Debian's python3 needs python3-venv for ensurepip).
pick_python() {
    for candidate in python3 python3.13 python3.12 python3.11 python; do
        path=$(command -v "$candidate" 2>/dev/null) || continue
        if "$path" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))' \
            >/dev/null 2>&1; then
            printf '%s\n' "$path"
            return 0
        fi
    done
    return 1
}

venv_ok() {
    [ -x "$VENV/bin/python" ] &&
        "$VENV/bin/python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1
}

missing_packages() {
    # Prints the packages of "$@" that dpkg does not report as installed.
    installed=$(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "$@" 2>/dev/null |
        awk '$2 == "ii" { print $1 }')
    for pkg in "$@"; do
        case " $(echo $installed) " in
            *" $pkg "*) ;;
            *) printf '%s ' "$pkg" ;;
        esac
    done
}

ensure_system_packages() {
    [ "${HALL_SKIP_APT:-0}" = 1 ] && return 0
    if ! command -v dpkg-query >/dev/null 2>&1; then
        say "注意 Note: 不是 Debian/Ubuntu 系统，请自行安装 Qt 运行库和中文字体。"
        say "      Not a Debian-like system: install the Qt runtime libraries and a CJK font yourself."
        return 0
    fi
    wanted="$QT_PACKAGES $FONT_PACKAGES"
    [ "$PROFILE" = test ] && wanted="$wanted $TEST_PACKAGES"
    [ "$PROFILE" = test ] && [ "${CI:-}" != true ] && wanted="$wanted $CALC_PACKAGES"
    [ "${HALL_NEED_XVFB:-0}" = 1 ] && wanted="$wanted xvfb xauth"
    if ! venv_ok && ! pick_python >/dev/null; then
        wanted="$PYTHON_PACKAGES $wanted"
    fi
    # shellcheck disable=SC2086  # word splitting of the package lists is intended
    missing=$(echo $(missing_packages $wanted))
    [ -z "$missing" ] && return 0

    if [ "$(id -u)" -ne 0 ]; then
        sudo=""
        command -v sudo >/dev/null 2>&1 && sudo="sudo "
        say "缺少系统软件包 Missing system packages: $missing"
        say "请先运行 Please run:"
        say "    ${sudo}apt-get update && ${sudo}apt-get install -y --no-install-recommends $missing"
        say "然后重试 then try again (或设置 HALL_SKIP_APT=1 跳过此检查 / or set HALL_SKIP_APT=1 to skip this check)."
        exit 1
    fi
    say "== 安装系统软件包 installing system packages: $missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
}

ensure_venv() {
    if ! venv_ok; then
        python=$(pick_python) || {
            say "错误 Error: 找不到 Python 3.11 或更高版本（含 venv 模块）。"
            say "       No Python >= 3.11 with the venv module found on PATH."
            say "       Debian/Ubuntu: apt-get install python3 python3-venv"
            exit 1
        }
        say "== 创建虚拟环境 creating .venv with $python ($("$python" -c 'import sys; print(sys.version.split()[0])'))"
        rm -rf "$VENV"
        "$python" -m venv "$VENV"
        rm -f "$STAMP"
    fi
    if [ ! -f "$STAMP" ] || [ -n "$(find "$ROOT/pyproject.toml" -newer "$STAMP")" ]; then
        say "== 安装 Python 依赖 installing Hall and its dependencies into .venv (pip install -e '.[test]')"
        "$VENV/bin/python" -m pip install --disable-pip-version-check --no-input -q -e "$ROOT[test]"
        touch "$STAMP"
    fi
}

case $PROFILE in
    app | test) ;;
    *)
        say "用法 Usage: sh scripts/setup_linux.sh app|test"
        exit 64
        ;;
esac

ensure_system_packages
ensure_venv
