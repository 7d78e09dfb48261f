#!/usr/bin/env bash
# Makes sure the local PostgreSQL (127.0.0.1:5432, trust auth) that the PostgreSQL test pass
# uses is accepting connections: starts the installed cluster when it is down, then waits up
# to 30 s. Exits non-zero when PostgreSQL is not installed or does not come up.
set -euo pipefail

say() { printf '[ensure-postgres] %s\n' "$*"; }

if pg_isready -h 127.0.0.1 -q 2>/dev/null; then
    say "PostgreSQL is up on 127.0.0.1"
    exit 0
fi
if ! command -v pg_ctlcluster >/dev/null || [ ! -d /etc/postgresql ]; then
    say "PostgreSQL is not installed (no pg_ctlcluster or /etc/postgresql)"
    exit 1
fi
version=$(ls /etc/postgresql | sort -V | tail -n 1)
say "starting PostgreSQL $version (cluster main)"
pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
for _ in $(seq 1 60); do
    if pg_isready -h 127.0.0.1 -q 2>/dev/null; then
        say "PostgreSQL is up on 127.0.0.1"
        exit 0
    fi
    sleep 0.5
done
say "PostgreSQL did not come up on 127.0.0.1:5432"
exit 1
