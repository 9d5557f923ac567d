#!/usr/bin/env bash
# The two commands a newcomer needs:
#   ./run.sh        set up .venv, install Atelier, start the server (demo backends if none configured)
#   ./run.sh test   set up .venv with the test extra, check the contracts (ruff lint with its
#                   complexity limit and format, mypy --strict over server/ bench/ tests/, the
#                   import contracts in setup.cfg) and run the whole test suite under the
#                   coverage gate (with the real-LLM tier when its packages are in .venv or in
#                   the wheel cache that .ci/run fills; see .ci/real-llm.sh)
# Anything after the command is passed on: `./run.sh --port 9000`, `./run.sh test -k resume`
# (a run narrowed so is not measured: the coverage gate holds for the whole suite).
set -euo pipefail
cd "$(dirname "$0")"

VENV=.venv
PY="$VENV/bin/python"
# shellcheck source=.ci/real-llm.sh
. .ci/real-llm.sh

ensure_venv() {
    if [ ! -x "$PY" ]; then
        if ! python3 -m venv "$VENV"; then
            echo "run.sh: could not create $VENV; on Debian install python3-venv (apt-get install python3-venv)" >&2
            exit 1
        fi
        "$PY" -m pip install --quiet --upgrade pip
    fi
}

# The real-LLM tier runs when its packages can be had without compiling; otherwise one line
# says it is skipped (or, when ATELIER_REAL_LLM=required, that its tests will fail).
ensure_real_llm() {
    local mode="${ATELIER_REAL_LLM:-auto}"
    if [ "$mode" = off ] || real_llm_importable "$PY"; then
        return 0
    fi
    if real_llm_cached; then
        install_real_llm "$PY"
        return 0
    fi
    local why="llama-cpp-python is not in $VENV and its wheel is not in $WHEEL_CACHE"
    if [ "$mode" = required ]; then
        echo "run.sh: the real-LLM tier is required but $why: its tests will fail" >&2
    else
        echo "run.sh: real-LLM tier (tests/real) skipped: $why; .ci/run builds it once (about 9 minutes)" >&2
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

# axe-core, the accessibility audit the browser tests inject (tests/axe_support.py): an npm
# package kept outside the checkout, installed once; without it those tests fail, never skip.
# Pinned: a new axe release can add rules; the suite should fail on a change of ours, not on
# the day npm has a new version.
AXE_PREFIX="${XDG_CACHE_HOME:-$HOME/.cache}/atelier/npm"
AXE_VERSION=4.14.1
ensure_axe() {
    local installed="$AXE_PREFIX/node_modules/axe-core/package.json"
    grep -qs "\"version\": \"$AXE_VERSION\"" "$installed" && return 0
    if ! npm install --silent --no-audit --no-fund --prefix "$AXE_PREFIX" "axe-core@$AXE_VERSION"; then
        echo "run.sh: could not install axe-core with npm: the accessibility tests will fail" >&2
    fi
}

case "${1:-}" in
    test)
        shift
        ensure_venv
        ensure_installed "[test]"
        ensure_real_llm
        ensure_axe
        "$VENV/bin/ruff" check server tests bench
        "$VENV/bin/ruff" format --check --quiet server tests bench
        "$VENV/bin/mypy" server bench tests  # strict everywhere; setup.cfg relaxes one check for tests
        "$VENV/bin/lint-imports" --no-cache --no-logo
        # The whole suite (no arguments) runs under the coverage gate of setup.cfg.
        coverage=()
        if [ $# -eq 0 ]; then
            coverage=(--cov --cov-report=term:skip-covered)
        fi
        # One worker per core (pytest-xdist): most tests wait on sockets and simulators, so two
        # workers on two cores take the suite from 9.5 to about 5 minutes; `-n 0` after the
        # command runs it in one process. Work stealing: a worker that runs out takes tests
        # from the other's share, so the long browser and real-LLM tests do not leave one
        # worker idle at the end (9:16 -> 6:56 for 2,685 tests on 2 vCPU).
        exec "$PY" -m pytest -n "${ATELIER_TEST_WORKERS:-auto}" --dist worksteal "${coverage[@]}" "$@"
        ;;
    *)
        ensure_venv
        ensure_installed ""
        exec "$PY" -m server "$@"
        ;;
esac
