import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { createDb, type Db } from '../../lib/db';
import { startLocalPostgres, type LocalPostgres } from '../../lib/local-postgres';
import { startMailbox, type Mailbox } from '../../lib/mailbox';
import { migrate } from '../../lib/migrate';
import { freePort, waitForPort } from '../../lib/net';
import { appEnvironment } from '../stack/app-env';
import { untilPolling } from '../stack/pollers';
import { appProcess, type AppProcess } from '../stack/processes';
import { startTemporalServer, type TemporalServer } from '../stack/temporal';

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
  /** The app's PostgreSQL postmaster. */
  postgresPid(): number | undefined;
  stopPostgres(): Promise<void>;
  startPostgres(): Promise<void>;
  close(): Promise<void>;
}

export async function startSoakStack(options: {
  temporalOnPostgres: boolean;
  appSettings: Record<string, string>;
  log: (line: string) => void;
}): Promise<SoakStack> {
  const { log } = options;
  const dataDir = mkdtempSync(join(tmpdir(), 'contacts-soak-'));
  chmodSync(dataDir, 0o755); // PostgreSQL runs as its own user below it
  const [pgPort, apiPort] = [await freePort(), await freePort()];
  const postgresDir = join(dataDir, 'postgres');
  let postgres: LocalPostgres | undefined = await startLocalPostgres(postgresDir, pgPort, log);
  const databaseUrl = postgres.url('contacts');
  await migrate(databaseUrl);
  const mailbox = await startMailbox();
  const temporal = await startTemporalServer({ dataDir, onPostgres: options.temporalOnPostgres, log });
  const env = appEnvironment({
    databaseUrl,
    temporalAddress: temporal.address,
    smtpPort: mailbox.port,
    apiPort,
    overrides: options.appSettings,
  });
  // Their logs are kept for the violations' investigation (logDir, printed with the report).
  const logDir = mkdtempSync(join(tmpdir(), 'contacts-soak-logs-'));
  const supervised = (name: string) => ({ restartOnExit: true, log, logFile: join(logDir, `${name}.log`) });
  const workers = ['worker-1', 'worker-2'].map((name) =>
    appProcess(name, 'worker/main.ts', env, supervised(name)),
  );
  const api = appProcess('api', 'api/server.ts', env, supervised('api'));
  for (const child of [...workers, api]) child.start();
  const connection = await Connection.connect({ address: temporal.address });
  const client = new Client({ connection });
  await waitForPort(apiPort, 'API');
  const polling = await untilPolling(connection, env.TEMPORAL_TASK_QUEUE!, 2, 180_000);
  if (polling < 2) throw new Error(`only ${polling} of the 2 workers poll the task queue`);
  const db = createDb(databaseUrl, 4);
  return {
    baseUrl: `http://127.0.0.1:${apiPort}`,
    logDir,
    mailbox,
    temporal,
    db,
    client,
    workers,
    api,
    postgresPid: () => postgres?.pid(),
    async stopPostgres() {
      await postgres?.stop();
      postgres = undefined;
    },
    async startPostgres() {
      postgres ??= await startLocalPostgres(postgresDir, pgPort, log);
    },
    async close() {
      await Promise.all([...workers, api].map((child) => child.stop()));
      await db.$disconnect();
      await connection.close();
      await temporal.stop();
      await mailbox.close();
      await postgres?.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
