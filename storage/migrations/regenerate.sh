#!/usr/bin/env sh
# Rewrite the single initial Alembic revision from the current models (crm-bot is pre-release, so one
# revision is enough). Run from anywhere after adding columns or tables:
#   storage/migrations/regenerate.sh
# Existing development databases stamped with the old revision do not get the new columns: delete them or
# run `crm-bot db upgrade` on a fresh database.
set -eu
cd "$(dirname "$0")/../.."
if [ -x .venv/bin/python ]; then PY=.venv/bin/python; else PY=${PYTHON:-python3}; fi
"$PY" -m storage.migrate regenerate
if "$PY" -m ruff --version >/dev/null 2>&1; then
  "$PY" -m ruff check --fix -q storage/migrations/versions || true
fi
