import { Client, Connection } from '@temporalio/client';
import { createApp } from '../../api/app';
import { loadConfigOrExit } from '../../lib/config';
import { createDb } from '../../lib/db';
import { createLogger } from '../../lib/logger';
import { listenForTaskRegistrations } from '../../lib/task-registrations';

/**
 * The bench's API in a process of its own (scripts/bench/stack.ts, apiProcess): the same app as the in-process
 * one, with the code submissions' and resends' rate limits lifted (a bench sends thousands from one address), so
 * that the CPU it uses is measured apart from the load generator's and the SMTP sink's (issue 13). Configured by
 * the environment, as api/server.ts is; BENCH_API_LOG_LEVEL sets its log level (silent by default).
 */
async function main() {
  const config = loadConfigOrExit();
  const db = createDb(config.DATABASE_URL, 20);
  const connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS });
  const registrations = listenForTaskRegistrations(config.DATABASE_URL);
  const app = createApp({
    db,
    registrations,
    temporal: new Client({ connection }),
    config,
    logger: createLogger(process.env.BENCH_API_LOG_LEVEL ?? 'silent'),
    rateLimits: {
      codeSubmission: { limit: 1e9, windowMs: 60_000 },
      resend: { limit: 1e9, windowMs: 60_000 },
    },
  });
  const server = app.listen(config.API_PORT, '127.0.0.1');
  // SIGTERM (the bench's stop): close, so that a CPU profile asked with --cpu-prof is written at the exit.
  process.once('SIGTERM', () => {
    server.closeAllConnections();
    server.close(() => {
      void Promise.all([db.$disconnect(), connection.close(), registrations.close()]).finally(() =>
        process.exit(0),
      );
    });
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`bench api failed: ${(error as Error).message}\n`);
  process.exit(1);
});
