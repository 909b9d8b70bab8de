#!/usr/bin/env bash
# Set up (Mosquitto, the package in .venv) and run the whole system with demo data on the embedded defaults:
# SQLite in ./data, Mosquitto with the repo's config, the listener, the device simulator and the lobby kiosk.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m clinic up --simulate "$@"
