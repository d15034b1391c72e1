#!/usr/bin/env bash
# `make test`: lint, Django's checks, then the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venv

# Debian packages the suite drives: Chromium for the browser tests (through Playwright,
# never a browser download) and wrk for the bench's smoke test.
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium fonts-dejavu-core)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      "${missing[@]}" >/dev/null
  else
    echo "not installed: ${missing[*]} - their tests will be skipped (sudo apt-get install ${missing[*]})"
  fi
fi

$VENV/bin/ruff check .
$VENV/bin/ruff format --check .
$VENV/bin/lint-imports
$VENV/bin/mypy
$VENV/bin/python manage.py check
$VENV/bin/python manage.py makemigrations --check --dry-run >/dev/null
# pytest-xdist: every test brings its own table, Redis prefix and database, so they run
# side by side. One worker more than the cores: many tests wait on a subprocess, a browser
# or a retry's backoff, and the extra worker fills those gaps. A module's tests share a
# worker (`loadscope`), so a module fixture (the bench's quick run, a browser) starts once.
workers=$(( $(nproc) + 1 ))
$VENV/bin/python -m pytest -n "$workers" --dist loadscope "$@"
