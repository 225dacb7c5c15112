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
ip=$(hostname -i | cut -d' ' -f1)
mkdir -p /etc/temporal/config
datastore() {
  cat <<YAML
    $1:
      sql:
        pluginName: postgres12
        databaseName: $2
        connectAddr: "$POSTGRES_SEEDS:$DB_PORT"
        connectProtocol: tcp
        user: "$POSTGRES_USER"
        password: "$POSTGRES_PWD"
        maxConns: 20
        maxIdleConns: 20
        maxConnLifetime: 1h
YAML
}
service() {
  printf '  %s:\n    rpc:\n      grpcPort: %s\n      membershipPort: %s\n      bindOnIP: 0.0.0.0\n' "$1" "$2" "$3"
}
{
  printf 'log:\n  stdout: true\n  level: warn\npersistence:\n  defaultStore: default\n  visibilityStore: visibility\n'
  printf '  numHistoryShards: %s\n  datastores:\n' "$NUM_HISTORY_SHARDS"
  datastore default temporal
  datastore visibility temporal_visibility
  printf 'global:\n  membership:\n    maxJoinDuration: 30s\n    broadcastAddress: "%s"\n' "$ip"
  printf 'services:\n'
  service frontend 7233 6933
  service history 7234 6934
  service matching 7235 6935
  service worker 7239 6939
  cat <<YAML
clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: active
  currentClusterName: active
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: frontend
      rpcAddress: "127.0.0.1:7233"
dcRedirectionPolicy:
  policy: noop
YAML
} > /etc/temporal/config/docker.yaml
temporal-server --root /etc/temporal --config config --env docker --allow-no-auth start &
server=$!
trap 'kill -TERM $server' TERM INT
export TEMPORAL_VERSION_CHECK_DISABLED=1
until temporal operator cluster health --address 127.0.0.1:7233 >/dev/null 2>&1; do sleep 1; done
temporal operator namespace create --namespace default --retention 72h --address 127.0.0.1:7233 2>/dev/null || true
wait $server
