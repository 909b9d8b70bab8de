#!/usr/bin/env bash
# Make sure a PostgreSQL server answers for the tests (CLINIC_TEST_PG_URL); install one if root and none runs.
# Uses the project's virtual environment (run scripts/setup.sh first) for psycopg.
set -euo pipefail
cd "$(dirname "$0")/.."
URL=${CLINIC_TEST_PG_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test}
if .venv/bin/python - "$URL" <<'PY'
import sys
import psycopg
url = sys.argv[1].replace("postgresql+psycopg://", "postgresql://")
try:
    psycopg.connect(url, connect_timeout=3).close()
except Exception as exc:
    print(f"postgres: not reachable at {url}: {exc}", file=sys.stderr)
    sys.exit(1)
PY
then exit 0; fi

if [ "$(id -u)" -ne 0 ]; then
  echo "postgres: start a PostgreSQL server or point CLINIC_TEST_PG_URL at one" >&2; exit 1
fi
echo "postgres: installing and starting a local PostgreSQL for the tests"
export DEBIAN_FRONTEND=noninteractive
command -v pg_ctlcluster >/dev/null || { apt-get update -qq; apt-get install -y -qq postgresql >/dev/null; }
version=$(ls /etc/postgresql | sort -V | tail -n 1)
hba=/etc/postgresql/$version/main/pg_hba.conf
grep -q "clinic-tests" "$hba" || sed -i "1i host all postgres 127.0.0.1/32 trust # clinic-tests" "$hba"
pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null || pg_ctlcluster --skip-systemctl-redirect "$version" main reload
for _ in $(seq 1 50); do pg_isready -h 127.0.0.1 -q && break; sleep 0.2; done
su postgres -c "psql -tc \"SELECT 1 FROM pg_database WHERE datname='test'\" | grep -q 1 || createdb test"
