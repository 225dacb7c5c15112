#!/usr/bin/env bash
# Writes the SQL that creates prisma/schema.prisma from an empty database, offline.
# Prisma 7's migrate commands need a native engine that cannot be downloaded here; Prisma 6.19's
# WebAssembly schema engine can diff without it. It runs in a throw-away folder so the project keeps Prisma 7.
# Usage: DATABASE_URL=postgresql://... scripts/migration-diff.sh > /tmp/full.sql, then write the new migration as the
# difference between /tmp/full.sql and the SQL of the applied migrations (the WebAssembly engine fails to
# describe a migrated database, so --from-migrations is not available offline).
# DATABASE_URL: any reachable scratch database (the engine insists on a connection).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
npm init -y >/dev/null
npm install --silent --no-audit --no-fund prisma@6.19.0 @prisma/adapter-pg@6.19.0 pg >/dev/null
sed -e '/^generator client/,/^}/d' -e "s#provider = \"postgresql\"#provider = \"postgresql\"\n  url = \"${DATABASE_URL}\"#" \
  "$root/prisma/schema.prisma" > schema.prisma
cat > prisma.config.ts <<TS
import { defineConfig } from 'prisma/config';
import { PrismaPg } from '@prisma/adapter-pg';
export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  schema: 'schema.prisma',
  adapter: async () => new PrismaPg({ connectionString: process.env.DATABASE_URL }),
} as never);
TS
PRISMA_QUERY_ENGINE_LIBRARY=/bin/true PRISMA_SCHEMA_ENGINE_BINARY=/bin/true \
  npx prisma migrate diff --from-empty --to-schema-datamodel schema.prisma --script
