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
# The product as a new user installs it: the wheel in a new environment outside the checkout, clinic up until the
# lobby answers (scripts/wheel_check.sh, about a minute; CLINIC_WHEEL_CHECK=0 skips it for a quick local run).
if [ "${CLINIC_WHEEL_CHECK:-1}" != 0 ]; then echo "== wheel"; bash scripts/wheel_check.sh; fi
# Two workers, each with whole test files (module fixtures start once): most tests wait on a broker, a database
# or a browser, so two workers halve the wall time on a 2-core machine. CLINIC_TEST_WORKERS=0 runs serially.
echo "== pytest"; "$PY" -m pytest -n "${CLINIC_TEST_WORKERS:-2}" --dist loadfile "$@"
