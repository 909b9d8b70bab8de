#!/usr/bin/env bash
# The product as a new user gets it: build the sdist and, from it, the wheel; install the wheel (no extras) into a
# new virtual environment outside the checkout; then, from a working directory outside it too (nothing is imported
# from the source tree), run `clinic --version`, `clinic init`, `clinic seed --demo` and `clinic up` on free ports
# with its data in the temporary folder, until the lobby answers /healthz with 200; stop it with SIGINT (Ctrl-C)
# and check that it exits 0 and leaves no process behind. Everything it makes is deleted at the end; on any error
# it says which step failed and prints the logs. scripts/test.sh runs it ("== wheel") after scripts/setup.sh.
# CLINIC_WHEEL_DEADLINE_S (default 90) bounds the wait for /healthz and for the stop; CLINIC_WHEEL_CACHE is where
# the dependencies' wheels are kept between runs (below).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEV_PY=$ROOT/.venv/bin/python  # has `build` (the dev extra); made by scripts/setup.sh
PYTHON=${PYTHON:-python3}       # the interpreter the new environment is made from, as in scripts/setup.sh
DEADLINE_S=${CLINIC_WHEEL_DEADLINE_S:-90}
PIP_OPTS=(-q --disable-pip-version-check)  # as scripts/setup.sh: the machine's pip configuration picks the sources
CACHE=${CLINIC_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/clinic-checkin/wheel-check}  # kept between runs

[ -x "$DEV_PY" ] || { echo "wheel: no $DEV_PY; run scripts/setup.sh first" >&2; exit 1; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/clinic-wheel.XXXXXX")
VENV=$WORK/venv
RUN=$WORK/run  # the working directory of every clinic command, with the data folder in it
UP_LOG=$WORK/up.log
UP_PID=""
STEP="start"
START=$SECONDS

ours() {  # the processes started here: clinic up's children run in sessions of their own, but each names $WORK
  pgrep -f -- "$WORK/" || true
}

alive() {  # a process that runs (not a zombie waiting to be reaped)
  local state
  state=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
  [[ $state != Z* ]]
}

show_logs() {
  local f
  for f in "$WORK"/{build,pip,init,seed,up}.log "$RUN"/data/logs/*.log "$RUN"/data/mosquitto/mosquitto.log; do
    [ -s "$f" ] || continue
    echo "----- ${f#"$WORK"/} (last 60 lines)" >&2
    grep -v "is ignored: it is neither a file nor a directory" "$f" | tail -n 60 >&2 || true  # pip on this machine
  done
}

cleanup() {
  local rc=$?
  trap - EXIT
  if [ -n "$UP_PID" ]; then
    # clinic up stops its children on SIGTERM; whatever is left after 20 s is killed, by pid.
    if alive "$UP_PID"; then kill -TERM "$UP_PID" 2>/dev/null || true; fi
    for _ in $(seq 100); do alive "$UP_PID" || break; sleep 0.2; done
    # shellcheck disable=SC2046
    kill -KILL $(ours) 2>/dev/null || true
  fi
  if [ "$rc" -ne 0 ]; then
    echo "wheel: FAILED at: $STEP (exit $rc, after $((SECONDS - START)) s)" >&2
    show_logs
  fi
  rm -rf "$WORK"; echo "wheel: [$((SECONDS - START)) s] cleaned up" >&2
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
  echo "wheel: $*" >&2
  exit 1
}

step() {  # what runs now, said with the time since the start (the CI log shows where the time goes)
  STEP=$1
  echo "wheel: [$((SECONDS - START)) s] $STEP"
}

free_port() {
  "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

step "build the sdist, then the wheel from it (python -m build)"
"$DEV_PY" -m build -o "$WORK/dist" "$ROOT" >"$WORK/build.log" 2>&1
WHEEL=$(ls "$WORK"/dist/*.whl)
"$PYTHON" -c '
import sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
wrong = [n for n in names if n.split("/")[0] in ("bench", "tests")]
wanted = ["telemetry/mosquitto.conf", "shared/locale/es/LC_MESSAGES/clinic.po", "shared/store/migrations/script.py.mako"]
missing = [n for n in wanted if n not in names]
for what, found in (("ships", wrong), ("lacks", missing)):
    if found:
        print("wheel: the wheel", what, ", ".join(found[:5]), file=sys.stderr)
sys.exit(1 if wrong or missing else 0)' "$WHEEL"

step "install the wheel into a new virtual environment"
"$PYTHON" -m venv --without-pip "$VENV"
pip_new() { "$DEV_PY" -m pip "${PIP_OPTS[@]}" --python "$VENV/bin/python" "$@" >>"$WORK/pip.log" 2>&1; }
# The dependencies' wheels are downloaded once per set of requirements (the wheel's Requires-Dist and the Python),
# from the sources pip is configured with, and kept in CACHE (pip's own cache stores nothing on this machine: the
# registry's answers carry no caching headers); an install from them takes a fraction of a fresh one.
# --no-compile: no .pyc for all of site-packages (half of pip's time); what runs compiles what it imports.
key=$("$VENV/bin/python" -c '
import hashlib, platform, sys, zipfile
wheel = zipfile.ZipFile(sys.argv[1])
meta = wheel.read(next(n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))).decode()
needs = sorted(l for l in meta.splitlines() if l.startswith("Requires-Dist:") and "extra ==" not in l)
needs.append(f"{sys.implementation.cache_tag} {platform.machine()}")
print(hashlib.sha256("\n".join(needs).encode()).hexdigest()[:16])' "$WHEEL")
wheels=$CACHE/$key
if [ ! -e "$wheels/complete" ]; then
  step "download the dependencies' wheels for this set of requirements (once, into $CACHE)"
  mkdir -p "$CACHE"
  find "$CACHE" -mindepth 1 -maxdepth 1 ! -name "$key" -exec rm -rf {} +  # older sets
  rm -rf "$wheels.part"
  pip_new download -d "$wheels.part" "$WHEEL"
  rm -f "$wheels.part"/clinic_checkin-*
  rm -rf "$wheels" && mv "$wheels.part" "$wheels" && touch "$wheels/complete"
  step "install the wheel into a new virtual environment"
fi
if ! pip_new install --no-compile --no-index --find-links "$wheels" "$WHEEL"; then
  echo "wheel: the kept wheels in $wheels do not install; installing from the sources instead" >&2
  rm -rf "$wheels"
  pip_new install --no-compile "$WHEEL"
fi

# A new user's shell: no CLINIC_* or PYTHONPATH from outside, the new environment's commands first, and a working
# directory outside the checkout.
while read -r name; do unset "$name"; done < <(env | sed -n 's/^\(CLINIC_[A-Za-z0-9_]*\)=.*/\1/p')
unset PYTHONPATH PYTHONHOME VIRTUAL_ENV
export PATH="$VENV/bin:$PATH"
mkdir -p "$RUN"
cd "$RUN"
CLINIC_MQTT_PORT=$(free_port)  # the machine's own Mosquitto may hold 1883
CLINIC_LOBBY_PORT=$(free_port)
CLINIC_STAFF_PORT=$(free_port)
export CLINIC_DATA_DIR="$RUN/data" CLINIC_MQTT_PORT CLINIC_LOBBY_PORT CLINIC_STAFF_PORT

step "import from the installed package, not the checkout"
where=$(python -c 'import clinic, telemetry.broker_config as b; print(clinic.__file__); print(b.REPO_CONFIG)')
while read -r path; do
  case "$path" in "$VENV"/*) ;; *) fail "imported from outside the new environment: $path" ;; esac
done <<<"$where"

step "clinic --version"
version=$(clinic --version)
expected=$(basename "$WHEEL" | cut -d- -f2)
[ "$version" = "clinic $expected" ] || fail "clinic --version printed '$version', not 'clinic $expected'"

step "clinic init"
clinic init >"$WORK/init.log" 2>&1
step "clinic seed --demo"
clinic seed --demo >"$WORK/seed.log" 2>&1

step "clinic up until the lobby answers /healthz with 200 (within ${DEADLINE_S} s)"
setsid clinic up --no-seed >"$UP_LOG" 2>&1 </dev/null &
UP_PID=$!
http_status() {  # the HTTP status of a GET, 0 when nothing answers within 2 s
  python -c '
import sys, urllib.error, urllib.request
try:
    print(urllib.request.urlopen(sys.argv[1], timeout=2).status)
except urllib.error.HTTPError as exc:
    print(exc.code)
except OSError:
    print(0)' "$1"
}
healthz="http://127.0.0.1:$CLINIC_LOBBY_PORT/healthz"
deadline=$((SECONDS + DEADLINE_S))
until [ "$(http_status "$healthz")" = 200 ]; do
  alive "$UP_PID" || fail "clinic up exited before the lobby answered"
  [ "$SECONDS" -lt "$deadline" ] || fail "no 200 from $healthz within ${DEADLINE_S} s"
  sleep 0.2
done
up_after=$((SECONDS - START))

step "stop clinic up with SIGINT: exit code 0, nothing left running"
kill -INT "$UP_PID"
deadline=$((SECONDS + DEADLINE_S))
while alive "$UP_PID"; do
  [ "$SECONDS" -lt "$deadline" ] || fail "clinic up still runs ${DEADLINE_S} s after SIGINT"
  sleep 0.2
done
code=0
wait "$UP_PID" || code=$?
[ "$code" -eq 0 ] || fail "clinic up exited with code $code after SIGINT"
left=$(ours)
[ -z "$left" ] || fail "still running after clinic up stopped: $(ps -o pid=,args= -p "${left//$'\n'/,}")"
UP_PID=""

echo "wheel: $(basename "$WHEEL") installed outside the checkout: clinic --version, init, seed --demo and up" \
     "work (lobby healthy at ${up_after} s, SIGINT exit 0, $((SECONDS - START)) s in all)"
