import { randomBytes } from 'node:crypto';
import { Client } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { createSmtpMailer } from '../../activities/mailer';
import { createApp } from '../../api/app';
import { parseConfig, type Config } from '../../lib/config';
import { createLogger } from '../../lib/logger';
import type { WorkerMetrics } from '../../lib/metrics';
import type { Tracing } from '../../lib/tracing';
import { startMailbox, type Mailbox } from '../../lib/mailbox';
import { listenForTaskRegistrations, type TaskRegistrations } from '../../lib/task-registrations';
import { createWebhookWorker, startWebhookDispatcher } from '../../worker/webhooks';
import { createWorker } from '../../worker/worker';
import { createTestDatabase, type TestDatabase } from './database';
import { devServerEnvironment, quietTemporalLogs, timeSkippingEnvironment } from './temporal';
import { within } from './wait';

export interface Stack {
  config: Config;
  database: TestDatabase;
  mailbox: Mailbox;
  env: TestWorkflowEnvironment;
  app: ReturnType<typeof createApp>;
  /** The announcements of new tasks' rows the API waits on. */
  registrations: TaskRegistrations;
  /** Resolves once the task's workflow has ended (its end is in the read model by then). */
  taskEnded(taskId: number, timeoutMs?: number): Promise<void>;
  teardown(): Promise<void>;
}

/** The real pieces: PostgreSQL, a Temporal server, the worker with real activities, an SMTP sink, the API. */
export async function startStack(
  options: {
    env?: Record<string, string>;
    logDestination?: { write(line: string): void };
    /** Worker-side metrics and traces (test/integrations/observability.test.ts). */
    workerMetrics?: WorkerMetrics;
    tracing?: Tracing;
    /**
     * The time-skipping test server (default: timers jump ahead when a test waits on a result or env.sleep), or
     * the dev server on the real clock with the search attributes registered and published, or a server already
     * running at `address` with them registered (the Temporal server on PostgreSQL: its test starts and stops it).
     */
    temporal?: 'time-skipping' | 'dev-server' | { address: string };
    /** Also the webhook deliveries: their worker and the dispatcher that turns events into deliveries. */
    webhooks?: boolean;
    /** Run the worker from the workflow code prebundled in this folder (worker/workflow-bundle.ts). */
    workflowBundleDir?: string;
  } = {},
): Promise<Stack> {
  const [database, mailbox, env] = await Promise.all([
    createTestDatabase(),
    startMailbox(),
    temporalEnvironment(options.temporal),
  ]);
  const config = parseConfig({
    DATABASE_URL: database.url,
    TEMPORAL_TASK_QUEUE: `contacts-test-${randomBytes(3).toString('hex')}`,
    TEMPORAL_SEARCH_ATTRIBUTES: (options.temporal ?? 'time-skipping') !== 'time-skipping' ? 'on' : 'off',
    SMTP_URL: `smtp://127.0.0.1:${mailbox.port}`,
    PUBLIC_BASE_URL: 'http://contacts.test',
    CODE_HASH_KEY: randomBytes(32).toString('hex'),
    SESSION_SECRET: randomBytes(32).toString('hex'),
    // Short, so tests can resend; the waits of 1.1 s before a resend leave room for the code activity to report back.
    RESEND_MIN_INTERVAL: '500ms',
    LOG_LEVEL: 'silent',
    ...options.env,
  });
  const mailer = createSmtpMailer(config.SMTP_URL, config.MAIL_FROM);
  const worker = await createWorker({
    connection: env.nativeConnection,
    namespace: 'default',
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    deps: {
      db: database.db,
      mailer,
      codeHashKey: config.CODE_HASH_KEY,
      publicBaseUrl: config.PUBLIC_BASE_URL,
    },
    metrics: options.workerMetrics,
    tracing: options.tracing,
    workflowBundleDir: options.workflowBundleDir,
  });
  const running = worker.run();
  const webhooks = options.webhooks ? await startWebhooks(env, config, database) : undefined;
  const logger = options.logDestination
    ? createLogger('trace', options.logDestination)
    : createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');
  const registrations = listenForTaskRegistrations(database.url);
  const app = createApp({ db: database.db, temporal: env.client, config, logger, registrations });
  // Not env.client: awaiting a result through it would skip the server's clock, and expire other tests' tasks.
  const observer = new Client({ connection: env.connection, namespace: 'default' });
  return {
    config,
    database,
    mailbox,
    env,
    app,
    registrations,
    async taskEnded(taskId, timeoutMs) {
      const task = await database.db.contactChangeTask.findUniqueOrThrow({ where: { id: taskId } });
      const run = observer.workflow.getHandle(task.workflowId, task.runId ?? undefined);
      await within(`task ${taskId} to end`, run.result(), timeoutMs);
    },
    async teardown() {
      await webhooks?.stop();
      worker.shutdown();
      await running;
      mailer.close();
      await registrations.close();
      await Promise.all([mailbox.close(), env.teardown(), database.drop()]);
    },
  };
}

function temporalEnvironment(
  temporal: 'time-skipping' | 'dev-server' | { address: string } = 'time-skipping',
) {
  if (temporal === 'time-skipping') return timeSkippingEnvironment();
  if (temporal === 'dev-server') return devServerEnvironment();
  quietTemporalLogs();
  return TestWorkflowEnvironment.createFromExistingServer({ address: temporal.address });
}

async function startWebhooks(env: TestWorkflowEnvironment, config: Config, database: TestDatabase) {
  const worker = await createWebhookWorker({
    connection: env.nativeConnection,
    namespace: 'default',
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    db: database.db,
    config,
  });
  const running = worker.run();
  const dispatcher = startWebhookDispatcher({
    db: database.db,
    client: env.client,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    config,
    logger: createLogger('silent'),
  });
  return {
    async stop() {
      await dispatcher.stop();
      worker.shutdown();
      await running;
    },
  };
}
