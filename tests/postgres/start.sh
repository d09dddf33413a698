#!/usr/bin/env bash
# Start Debian's PostgreSQL 15 cluster and create the kb test role. Idempotent.
set -euo pipefail
if ! command -v pg_ctlcluster >/dev/null; then
  echo "PostgreSQL is not installed: apt-get install postgresql" >&2
  exit 1
fi
pg_ctlcluster 15 main start 2>/dev/null || pg_ctlcluster 15 main status >/dev/null
for _ in $(seq 1 30); do
  su postgres -c "pg_isready -q -h 127.0.0.1 -p 5432" && break
  sleep 1
done
su postgres -c "psql -q -tc \"SELECT 1 FROM pg_roles WHERE rolname='kb'\"" | grep -q 1 \
  || su postgres -c "psql -q -c \"CREATE ROLE kb LOGIN PASSWORD 'kb' CREATEDB\""
su postgres -c "psql -q -tc \"SELECT 1 FROM pg_database WHERE datname='kb'\"" | grep -q 1 \
  || su postgres -c "psql -q -c \"CREATE DATABASE kb OWNER kb\""
echo "PostgreSQL ready on 127.0.0.1:5432 (role kb)"
