#!/bin/sh
# As temporalio/server: starts the server from its module's config template (config/docker.yaml, as in the
# official image), set by the environment (DB=postgres12, DB_PORT, POSTGRES_USER, POSTGRES_PWD, POSTGRES_SEEDS…).
# The schema and the namespace are set up by one-shot services (docker/temporal/), not here.
set -eu
: "${BIND_ON_IP:=0.0.0.0}" "${DB_PORT:=5432}" "${NUM_HISTORY_SHARDS:=4}"
if [ "$BIND_ON_IP" = 0.0.0.0 ] && [ -z "${TEMPORAL_BROADCAST_ADDRESS:-}" ]; then
  TEMPORAL_BROADCAST_ADDRESS="$(hostname -i | cut -d' ' -f1)"
fi
export BIND_ON_IP DB_PORT NUM_HISTORY_SHARDS TEMPORAL_BROADCAST_ADDRESS
export VISIBILITY_DB_PORT="${VISIBILITY_DB_PORT:-$DB_PORT}"
exec temporal-server --root /etc/temporal --config config --env docker --allow-no-auth start
