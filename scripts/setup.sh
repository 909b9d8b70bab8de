#!/usr/bin/env bash
# Install what the system needs on a fresh Debian/Ubuntu machine: Mosquitto and Chromium (apt, when root), and the
# Python package with its development tools in the project's own virtual environment, .venv (Debian's Python is
# "externally managed" and refuses a global pip install). A second run skips pip when pyproject.toml is unchanged.
# PYTHON picks the interpreter the environment is made from (default python3, 3.11+).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv
STAMP=$VENV/.clinic-installed  # the hash of the pyproject.toml last installed from

apt_install() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: please install these Debian packages (as root): sudo apt-get install $*" >&2
    return 1
  fi
  if ! command -v apt-get >/dev/null; then
    echo "setup: no apt-get here; install the equivalent of these Debian packages: $*" >&2
    return 1
  fi
  echo "setup: apt-get install $*"
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
  if ! apt_install chromium fonts-dejavu-core; then
    [ "${CI:-}" = "true" ] && exit 1
    echo "setup: tests/e2e will fail until Chromium is installed" >&2
  fi
fi

PYTHON=${PYTHON:-python3}
command -v "$PYTHON" >/dev/null || { echo "setup: $PYTHON not found; install Python 3.11+ (apt-get install python3)" >&2; exit 1; }
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
  echo "setup: Python 3.11+ is required ($PYTHON is $("$PYTHON" -V 2>&1))" >&2; exit 1; }

venv_works() {
  [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -m pip --version >/dev/null 2>&1
}

if ! venv_works; then
  # Debian and Ubuntu ship venv's pip bootstrap (ensurepip) in a separate package.
  if ! "$PYTHON" -c 'import ensurepip, venv' 2>/dev/null; then
    if [ "$(readlink -f "$(command -v "$PYTHON")")" = "$(readlink -f /usr/bin/python3 2>/dev/null)" ]; then
      apt_install python3-venv || exit 1
    else
      echo "setup: $PYTHON cannot make a virtual environment (no ensurepip); use a Python that can, e.g." \
           "PYTHON=/usr/bin/python3 after apt-get install python3-venv" >&2
      exit 1
    fi
  fi
  echo "setup: creating the virtual environment $VENV with $("$PYTHON" -V 2>&1)"
  rm -rf "$VENV"  # a half-made one (e.g. from before python3-venv was installed) would fail the same way
  "$PYTHON" -m venv "$VENV"
fi

wanted=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ "$(cat "$STAMP" 2>/dev/null)" = "$wanted" ] && "$VENV/bin/python" -c 'import shared, telemetry, clinic' 2>/dev/null; then
  echo "setup: $VENV is up to date (pyproject.toml unchanged)"
else
  echo "setup: installing the clinic package and its development tools into $VENV"
  rm -f "$STAMP"
  # -q keeps the progress quiet; pip's errors still print, and a failure stops here (set -e).
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e ".[dev]"
  "$VENV/bin/python" -c 'import shared, telemetry, clinic'  # fail loudly if the install did not work
  echo "$wanted" >"$STAMP"
fi
