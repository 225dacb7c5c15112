import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { createDb, type Db } from '../../lib/db';
import type { Mailbox } from '../../lib/mailbox';
import { waitForPort } from '../../lib/net';
import { startBaseStack, type RestartablePostgres } from '../stack/base';
import { pollerIdentities, untilPolling } from '../stack/pollers';
import { appProcess, type AppProcess, WORKER_ENV, WORKER_NODE_ARGS } from '../stack/processes';
import type { TemporalServer } from '../stack/temporal';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The soak's stack, all of it as separate processes that faults can reach: the app's PostgreSQL (its own
 * cluster: it is stopped and started), the Temporal server, two worker processes and the API process (each
 * restarted a second after an exit nobody asked for, as a container's restart policy would), and the mailbox
 * (an SMTP server in this process, whose faults are switched here).
 */
export interface SoakStack {
  baseUrl: string;
  /** The worker and API logs (kept after the run). */
  logDir: string;
  mailbox: Mailbox;
  temporal: TemporalServer;
  /** The checker's own connection to the database (it reads; the load generator only uses the API). */
  db: Db;
  client: Client;
  workers: AppProcess[];
  api: AppProcess;
  /** The app's PostgreSQL, stopped and started by a fault. */
  postgres: RestartablePostgres;
  /** Once close() was called: a fault ending after it must not start anything again. */
  isClosed(): boolean;
  /** Resolves once this process serves: the API listens, a worker polls its task queue. */
  untilServing(child: AppProcess): Promise<void>;
  close(): Promise<void>;
}

export async function startSoakStack(options: {
  temporalOnPostgres: boolean;
  appSettings: Record<string, string>;
  log: (line: string) => void;
}): Promise<SoakStack> {
  const { log } = options;
  const { dataDir, postgres, mailbox, temporal, apiPort, env } = await startBaseStack({
    name: 'soak',
    ...options,
  });
  // Their logs are kept for the violations' investigation (logDir, printed with the report).
  const logDir = mkdtempSync(join(tmpdir(), 'contacts-soak-logs-'));
  const supervised = (name: string) => ({ restartOnExit: true, log, logFile: join(logDir, `${name}.log`) });
  const workers = ['worker-1', 'worker-2'].map((name) =>
    appProcess(
      name,
      'worker/main.ts',
      { ...env, ...WORKER_ENV },
      { ...supervised(name), nodeArgs: WORKER_NODE_ARGS },
    ),
  );
  const api = appProcess('api', 'api/server.ts', env, supervised('api'));
  for (const child of [...workers, api]) child.start();
  // A start that fails half-way stops what it started: nothing may outlive the run.
  const stopEverything = async () => {
    await Promise.all([...workers, api].map((child) => child.stop()));
    await temporal.stop();
    await mailbox.close();
    await postgres.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  let connection: Connection;
  try {
    connection = await Connection.connect({ address: temporal.address });
    await waitForPort(apiPort, 'API');
    const polling = await untilPolling(connection, env.TEMPORAL_TASK_QUEUE!, 2, 180_000);
    if (polling < 2)
      throw new Error(`only ${polling} of the 2 workers poll the task queue (their logs: ${logDir})`);
  } catch (error) {
    await stopEverything();
    throw error;
  }
  const client = new Client({ connection });
  const db = createDb(postgres.url, 4);
  let closed: Promise<void> | undefined;
  return {
    baseUrl: `http://127.0.0.1:${apiPort}`,
    logDir,
    mailbox,
    temporal,
    db,
    client,
    workers,
    api,
    postgres,
    isClosed: () => closed !== undefined,
    async untilServing(child) {
      if (child === api) return waitForPort(apiPort, 'API', 600_000);
      for (const until = Date.now() + 600_000; Date.now() < until && !closed; await sleep(250)) {
        const identities = await pollerIdentities(connection, env.TEMPORAL_TASK_QUEUE!);
        if (identities.some((identity) => identity.startsWith(`${child.pid()}@`))) return;
      }
    },
    close() {
      // Once, whoever asks first (the run's end, or a signal).
      closed ??= (async () => {
        await Promise.all([...workers, api].map((child) => child.stop()));
        await db.$disconnect();
        await connection.close();
        await stopEverything();
      })();
      return closed;
    },
  };
}
