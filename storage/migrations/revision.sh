#!/usr/bin/env sh
# Autogenerate the next incremental Alembic revision (0003, …) from the models after adding columns or
# tables:
#   storage/migrations/revision.sh "what changed"
# Released revisions are never rewritten: an existing database upgrades through each of them in turn.
# Review the new file: data changes (a backfill, a NOT NULL column on existing rows) are written by hand.
set -eu
cd "$(dirname "$0")/../.."
if [ -x .venv/bin/python ]; then PY=.venv/bin/python; else PY=${PYTHON:-python3}; fi
"$PY" -m storage.migrate revision "$@"
if "$PY" -m ruff --version >/dev/null 2>&1; then
  "$PY" -m ruff check --fix -q storage/migrations/versions || true
fi
