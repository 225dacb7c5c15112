import { temporalClusterBinaries } from '../lib/temporal-cluster';

/**
 * npm run temporal:install-cluster: the Temporal server on PostgreSQL, its schema tool and its Web UI, built once
 * per machine with go install into ~/.cache/contacts (lib/temporal-cluster.ts), for the test that starts them and
 * for npm run distributed and BENCH_TEMPORAL=postgres. Seconds once built; minutes without a Go build cache, with a
 * progress line every 15 s (docs/development.md has the figures).
 */
const log = (line: string) => process.stdout.write(`${line}\n`);

temporalClusterBinaries(log).then(
  (binaries) => log(`Temporal server on PostgreSQL: ${binaries.server}, Web UI: ${binaries.ui}`),
  (error: Error) => {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  },
);
