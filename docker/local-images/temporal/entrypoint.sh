#!/bin/sh
# As temporalio/auto-setup: DB=postgres12, DB_PORT, POSTGRES_USER, POSTGRES_PWD, POSTGRES_SEEDS.
set -eu
: "${DB_PORT:=5432}" "${NUM_HISTORY_SHARDS:=4}"
sql() { temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "$DB_PORT" -u "$POSTGRES_USER" --pw "$POSTGRES_PWD" "$@"; }
until pg_isready -q -h "$POSTGRES_SEEDS" -p "$DB_PORT" -U "$POSTGRES_USER"; do sleep 1; done
for pair in temporal:temporal temporal_visibility:visibility; do
  db=${pair%%:*} schema=${pair##*:}
  sql --db "$db" create-database 2>/dev/null || true
  sql --db "$db" setup-schema -v 0.0 2>/dev/null || true
  sql --db "$db" update-schema -d "/etc/temporal/schema/postgresql/v12/$schema/versioned"
done
# The server's own config template (config/docker.yaml of its module, as in the official images) reads the rest
# of its settings from the environment.
export BIND_ON_IP=0.0.0.0 TEMPORAL_BROADCAST_ADDRESS="$(hostname -i | cut -d' ' -f1)"
export DB_PORT VISIBILITY_DB_PORT="${VISIBILITY_DB_PORT:-$DB_PORT}" NUM_HISTORY_SHARDS
temporal-server --root /etc/temporal --config config --env docker --allow-no-auth start &
server=$!
trap 'kill -TERM $server' TERM INT
export TEMPORAL_VERSION_CHECK_DISABLED=1
until temporal operator cluster health --address 127.0.0.1:7233 >/dev/null 2>&1; do sleep 1; done
temporal operator namespace create --namespace default --retention 72h --address 127.0.0.1:7233 2>/dev/null || true
wait $server
