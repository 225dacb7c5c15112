import { Client, Connection } from '@temporalio/client';
import { createServer as createHttpsServer } from 'node:https';
import { loadConfigOrExit, publicHttpsUrl } from '../lib/config';
import { readTlsFiles } from '../lib/tls';
import { createDb } from '../lib/db';
import { createLogger } from '../lib/logger';
import { listenForTaskRegistrations } from '../lib/task-registrations';
import { createApiMetrics } from '../lib/metrics';
import { startTracing, tracingClientInterceptors } from '../lib/tracing';
import { createApp } from './app';
import { temporalConnectionOptions } from '../lib/temporal-connection';

async function main() {
  const config = loadConfigOrExit();
  const logger = createLogger(config.LOG_LEVEL).child({ component: 'api' });
  const db = createDb(config.DATABASE_URL);
  // Lazy: the API starts (and answers 503 where it needs Temporal) while the Temporal server is still down.
  const connection = Connection.lazy(temporalConnectionOptions(config));
  const tracing = startTracing('contacts-api');
  const temporal = new Client({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    interceptors: tracingClientInterceptors(tracing),
  });
  const registrations = listenForTaskRegistrations(config.DATABASE_URL, (error) =>
    logger.warn(
      { err: error.message },
      'task registrations: connection lost, looking for new rows meanwhile',
    ),
  );
  const app = createApp({
    db,
    registrations,
    temporal,
    config,
    logger,
    metrics: createApiMetrics(),
    tracing: tracing !== undefined,
  });
  const server = app.listen(config.API_PORT, () => {
    logger.info({ port: config.API_PORT, url: config.PUBLIC_BASE_URL }, 'api listening');
  });
  const tls = readTlsFiles(config);
  const httpsServer =
    tls &&
    createHttpsServer(tls, app).listen(config.TLS_PORT, () => {
      logger.info({ port: config.TLS_PORT, url: publicHttpsUrl(config) }, 'api listening (https)');
    });
  const stop = () => {
    logger.info('api stopping');
    httpsServer?.close();
    server.close(() => {
      void Promise.all([
        db.$disconnect(),
        connection.close(),
        registrations.close(),
        tracing?.shutdown(),
      ]).finally(() => process.exit(0));
    });
    setTimeout(() => process.exit(0), 5000).unref();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error) => {
  process.stderr.write(`api failed: ${(error as Error).message}\n`);
  process.exit(1);
});
