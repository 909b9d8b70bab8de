#!/usr/bin/env bash
# Set up (Mosquitto, the Python package) and run the whole system with demo data on the embedded defaults:
# SQLite in ./data, Mosquitto with the repo's config, the listener, the device simulator and the lobby kiosk.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec python3 -m clinic up --simulate "$@"
