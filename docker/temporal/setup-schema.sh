#!/bin/sh
# One-shot, before the server starts (service temporal-schema, admin-tools image): creates Temporal's two
# databases if needed and brings their schemas to the version this server needs, with the server's own
# temporal-sql-tool and the versioned SQL shipped in the image. Safe to run again: existing databases and applied
# versions are kept.
set -eu
: "${POSTGRES_SEEDS:?}" "${POSTGRES_USER:?}" "${POSTGRES_PWD:?}"
sql() {
  temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "${DB_PORT:-5432}" -u "$POSTGRES_USER" \
    --pw "$POSTGRES_PWD" "$@"
}
for pair in temporal:temporal temporal_visibility:visibility; do
  database=${pair%%:*} schema=${pair##*:}
  sql --db "$database" create-database 2>/dev/null || echo "database $database exists"
  # setup-schema -v 0.0 creates the version table on a new database, and fails harmlessly on one that has it.
  sql --db "$database" setup-schema -v 0.0 2>/dev/null || true
  sql --db "$database" update-schema -d "/etc/temporal/schema/postgresql/v12/$schema/versioned"
done
echo "Temporal schema up to date"
