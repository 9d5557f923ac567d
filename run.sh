#!/usr/bin/env bash
# The two commands a newcomer needs:
#   ./run.sh        set up .venv, install Atelier, start the server (demo backends if none configured)
#   ./run.sh test   set up .venv with the test extra, run ruff (lint and format), mypy --strict
#                   and the whole test suite
# Anything after the command is passed on: `./run.sh --port 9000`, `./run.sh test -k resume`.
set -euo pipefail
cd "$(dirname "$0")"

VENV=.venv
PY="$VENV/bin/python"

ensure_venv() {
    if [ ! -x "$PY" ]; then
        if ! python3 -m venv "$VENV"; then
            echo "run.sh: could not create $VENV; on Debian install python3-venv (apt-get install python3-venv)" >&2
            exit 1
        fi
        "$PY" -m pip install --quiet --upgrade pip
    fi
}

# Reinstall only when the packaging files change, so repeated runs start at once.
ensure_installed() {
    local extra="$1"
    local stamp="$VENV/.installed$extra"
    local want
    want=$(cat setup.cfg pyproject.toml | sha256sum | cut -d' ' -f1)
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
        "$PY" -m pip install --quiet --editable ".$extra"
        echo "$want" > "$stamp"
    fi
}

case "${1:-}" in
    test)
        shift
        ensure_venv
        ensure_installed "[test]"
        "$VENV/bin/ruff" check server tests bench
        "$VENV/bin/ruff" format --check --quiet server tests bench
        "$VENV/bin/mypy" server
        exec "$PY" -m pytest "$@"
        ;;
    *)
        ensure_venv
        ensure_installed ""
        exec "$PY" -m server "$@"
        ;;
esac
