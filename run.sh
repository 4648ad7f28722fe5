#!/usr/bin/env bash
# The two commands a fresh machine needs (README):
#   bash run.sh demo    — sample submissions → three annual rebuilds → library, git history, report
#   bash run.sh test    — the whole test suite
# Both create .venv and install the project from this folder's own files on first use.
set -euo pipefail
cd "$(dirname "$0")"
VENV=${VENV:-.venv}
if [ ! -x "$VENV/bin/indicators" ] || [ pyproject.toml -nt "$VENV/.installed" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --upgrade pip
  "$VENV/bin/python" -m pip install -q -e ".[test]"
  touch "$VENV/.installed"
fi
cmd=${1:-}
shift || true
case "$cmd" in
  demo) exec "$VENV/bin/indicators" demo "$@" ;;
  test)
    set +e
    "$VENV/bin/python" -m pytest "$@"
    rc=$?
    if [ "$rc" -eq 5 ]; then
      echo "pytest collected no tests: the set-up is broken, not green" >&2
      exit 1
    fi
    exit "$rc"
    ;;
  *) echo "usage: bash run.sh demo [--out DIR] | bash run.sh test [pytest args]" >&2; exit 2 ;;
esac
