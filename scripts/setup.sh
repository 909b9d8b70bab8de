#!/usr/bin/env bash
# Install what the system needs on a fresh Debian machine: Mosquitto and Chromium (apt, when root) and the Python
# package with its development tools (Playwright and axe-core for the browser tests come from PyPI).
set -euo pipefail
cd "$(dirname "$0")/.."

apt_install() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: please install these Debian packages (as root): $*" >&2
    return 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

if ! command -v mosquitto >/dev/null && [ ! -x /usr/sbin/mosquitto ]; then
  echo "setup: installing Mosquitto"
  apt_install mosquitto mosquitto-clients
fi

if [ ! -x "${CLINIC_E2E_CHROMIUM:-/usr/bin/chromium}" ]; then
  echo "setup: installing Chromium for the browser tests (tests/e2e)"
  apt_install chromium fonts-dejavu-core || echo "setup: tests/e2e will fail until Chromium is installed" >&2
fi

PYTHON=${PYTHON:-python3}
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "setup: Python 3.11+ is required" >&2; exit 1; }
echo "setup: installing the clinic package and its development tools"
"$PYTHON" -m pip install -q --disable-pip-version-check -e ".[dev]" 2>&1 | grep -v "Running pip as the 'root' user" || true
"$PYTHON" -c 'import shared, telemetry, clinic' # fail loudly if the install did not work
