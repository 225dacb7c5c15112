import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, type LogLevel } from '@temporalio/worker';
import { loadConfigOrExit, type Config } from '../lib/config';
import { createDb } from '../lib/db';
import { createLogger } from '../lib/logger';
import { missingSearchAttributes } from '../lib/search-attributes';
import { createWorkerMetrics, serveMetrics } from '../lib/metrics';
import { startTracing, tracingClientInterceptors } from '../lib/tracing';
import { createSmtpMailer } from '../activities/mailer';
import { createWebhookWorker, startWebhookDispatcher } from './webhooks';
import { createWorker } from './worker';
import { temporalConnectionOptions } from '../lib/temporal-connection';

async function main() {
  const config = loadConfigOrExit();
  const sdkMetricsPort = config.METRICS_PORT && (config.TEMPORAL_METRICS_PORT ?? config.METRICS_PORT + 1);
  Runtime.install({
    logger: new DefaultLogger((process.env.TEMPORAL_SDK_LOG_LEVEL ?? 'WARN') as LogLevel),
    ...(sdkMetricsPort
      ? { telemetryOptions: { metrics: { prometheus: { bindAddress: `127.0.0.1:${sdkMetricsPort}` } } } }
      : {}),
  });
  const metrics = config.METRICS_PORT ? createWorkerMetrics() : undefined;
  const metricsServer =
    metrics &&
    serveMetrics(metrics.register, config.METRICS_PORT!, `http://127.0.0.1:${sdkMetricsPort}/metrics`);
  const tracing = startTracing('contacts-worker');
  const log = createLogger(config.LOG_LEVEL).child({ component: 'worker' });
  const db = createDb(config.DATABASE_URL);
  const mailer = createSmtpMailer(config.SMTP_URL, config.MAIL_FROM, config.DKIM);
  const connection = await NativeConnection.connect(temporalConnectionOptions(config));
  await checkSearchAttributes(connection, config);
  const worker = await createWorker({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    deps: { db, mailer, codeHashKey: config.CODE_HASH_KEY, publicBaseUrl: config.PUBLIC_BASE_URL },
    metrics,
    tracing,
    maxCachedWorkflows: config.WORKER_MAX_CACHED_WORKFLOWS,
    stickyQueueTimeoutMs: config.WORKER_STICKY_QUEUE_TIMEOUT,
    workflowBundleDir: config.WORKFLOW_BUNDLE_DIR,
  });
  const webhookWorker = await createWebhookWorker({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    db,
    config,
    metrics,
    tracing,
  });
  const clientConnection = await Connection.connect(temporalConnectionOptions(config));
  const dispatcher = startWebhookDispatcher({
    db,
    client: new Client({
      connection: clientConnection,
      namespace: config.TEMPORAL_NAMESPACE,
      interceptors: tracingClientInterceptors(tracing),
    }),
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    config,
    logger: log,
  });
  log.info({ taskQueue: config.TEMPORAL_TASK_QUEUE, address: config.TEMPORAL_ADDRESS }, 'worker started');
  try {
    await Promise.all([worker.run(), webhookWorker.run()]);
  } finally {
    await dispatcher.stop();
    metricsServer?.close();
    await tracing?.shutdown();
    await clientConnection.close();
    mailer.close();
    await db.$disconnect();
    await connection.close();
    log.info('worker stopped');
  }
}

/**
 * Without its search attributes registered, every workflow task that publishes one fails and is retried for
 * ever (no task moves, nothing says why but a warning per task): refuse to start instead, naming them.
 */
async function checkSearchAttributes(connection: NativeConnection, config: Config) {
  if (config.TEMPORAL_SEARCH_ATTRIBUTES !== 'on') return;
  const missing = await missingSearchAttributes(connection.operatorService, config.TEMPORAL_NAMESPACE);
  if (missing.length === 0) return;
  throw new Error(
    `namespace ${config.TEMPORAL_NAMESPACE} lacks the search attributes ${missing.join(', ')}: register them ` +
      '(docs/operations.md) or set TEMPORAL_SEARCH_ATTRIBUTES=off',
  );
}

main().catch((error) => {
  process.stderr.write(`worker failed: ${(error as Error).message}\n`);
  process.exit(1);
});
