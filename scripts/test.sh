#!/usr/bin/env bash
# Set up and run every check: lint, types, and the test suite against real Mosquitto, SQLite and PostgreSQL,
# all with the project's virtual environment (.venv, made by scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/postgres.sh

PY=.venv/bin/python
echo "== ruff"; "$PY" -m ruff check .
echo "== mypy"; "$PY" -m mypy
echo "== import contracts"; PYTHONPATH=. .venv/bin/lint-imports  # [tool.importlinter] in pyproject.toml; this checkout
echo "== pytest"; "$PY" -m pytest "$@"
