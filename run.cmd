@echo off
rem Hall on Windows: one entry point that sets everything up, then does what was asked.
rem   run app [hall options]     set up, then launch the GUI (embedded SQLite ledger by default)
rem   run test [pytest options]  set up, then ruff + the whole pytest suite
rem   run admin [arguments]      set up, then hall-admin
rem   run setup                  set up only
rem Qt and the fonts come with the PySide6 wheels and Windows, so set-up is Python + .venv only.
rem Messages are English only: cmd.exe mis-parses multi-byte text in batch files on older Windows.
setlocal EnableExtensions
cd /d "%~dp0"
set "VENV=%~dp0.venv"
set "VPY=%VENV%\Scripts\python.exe"
set "STAMP=%VENV%\.hall-setup.stamp"

set "CMD=%~1"
if "%CMD%"=="" goto usage
shift
rem %* ignores shift, so collect the arguments after the command one by one.
set "ARGS="
:collect
if "%~1"=="" goto collected
set ARGS=%ARGS% %1
shift
goto collect
:collected

if /i "%CMD%"=="app" goto setup
if /i "%CMD%"=="admin" goto setup
if /i "%CMD%"=="test" goto setup
if /i "%CMD%"=="setup" goto setup
goto usage

:setup
rem A venv that exists and runs Python >= 3.11 is kept; anything else is rebuilt.
if not exist "%VPY%" goto create
"%VPY%" -c "import sys; sys.exit(sys.version_info < (3, 11))" >nul 2>&1 || goto create
goto install

:create
set "PY="
py -3 -c "import sys; sys.exit(sys.version_info < (3, 11))" >nul 2>&1 && set "PY=py -3"
if not defined PY python -c "import sys; sys.exit(sys.version_info < (3, 11))" >nul 2>&1 && set "PY=python"
if not defined PY goto nopython
echo == creating .venv with %PY%
if exist "%VENV%" rmdir /s /q "%VENV%"
%PY% -m venv "%VENV%" || exit /b 1
if exist "%STAMP%" del "%STAMP%"

:install
rem Reinstall only when pyproject.toml is newer than the stamp (cmd has no portable date compare).
"%VPY%" -c "import os, sys; s = sys.argv[1]; sys.exit(not (os.path.exists(s) and os.path.getmtime(s) >= os.path.getmtime('pyproject.toml')))" "%STAMP%" && goto ready
echo == installing Hall and its dependencies into .venv (pip install -e .[test])
"%VPY%" -m pip install --disable-pip-version-check --no-input -q -e ".[test]" || exit /b 1
type nul > "%STAMP%"

:ready
if /i "%CMD%"=="app" goto app
if /i "%CMD%"=="admin" goto admin
if /i "%CMD%"=="test" goto test
exit /b 0

:app
"%VENV%\Scripts\hall.exe" %ARGS%
exit /b %ERRORLEVEL%

:admin
"%VENV%\Scripts\hall-admin.exe" %ARGS%
exit /b %ERRORLEVEL%

:test
echo == ruff check
"%VENV%\Scripts\ruff.exe" check . || exit /b 1
echo == pytest
rem pytest's exit status (including 5, "no tests collected") is ours. Two worker processes, as ./run does
rem (HALL_TEST_WORKERS=0: one process).
if not defined HALL_TEST_WORKERS set "HALL_TEST_WORKERS=2"
"%VPY%" -m pytest -n %HALL_TEST_WORKERS% %ARGS%
exit /b %ERRORLEVEL%

:nopython
echo Error: no Python 3.11 or newer found (tried "py -3" and "python"). 1>&2
echo Install it from https://www.python.org/downloads/windows/ (tick "py launcher"), 1>&2
echo or run: winget install Python.Python.3.12 -- then open a new terminal and try again. 1>&2
exit /b 1

:usage
echo Usage:
echo   run app [hall options]     set up and launch the Hall GUI
echo   run test [pytest options]  set up and run ruff + the whole test suite
echo   run admin [arguments]      set up and run hall-admin
echo   run setup                  set up only
exit /b 64
