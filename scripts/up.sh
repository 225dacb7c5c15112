#!/usr/bin/env bash
# Quick start, command 1: installs what is missing, then starts the whole service on embedded defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/prerequisites.sh up
npm run --silent generate >/dev/null
npm run --silent temporal:install
exec node --import tsx scripts/start.ts
