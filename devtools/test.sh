#!/usr/bin/env bash
# `make test`: lint, Django's checks, then the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venv
$VENV/bin/ruff check .
$VENV/bin/ruff format --check .
$VENV/bin/python manage.py check
$VENV/bin/python manage.py makemigrations --check --dry-run >/dev/null
$VENV/bin/python -m pytest "$@"
