import { chmodSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalPostgres, type LocalPostgres } from '../../lib/local-postgres';
import { startMailbox, type Mailbox } from '../../lib/mailbox';
import { migrate } from '../../lib/migrate';
import { freePort } from '../../lib/net';
import { appEnvironment } from './app-env';
import { startTemporalServer, type TemporalServer } from './temporal';

/** The app's PostgreSQL, which fault scripts stop and start again on its data. */
export interface RestartablePostgres {
  url: string;
  pid(): number | undefined;
  stop(): Promise<void>;
  start(): Promise<void>;
}

/**
 * What every script that runs the whole stack starts first, in a fresh temporary folder: the app's PostgreSQL
 * (migrated), the SMTP mailbox, the Temporal server, and the environment of the app's processes.
 */
export interface BaseStack {
  dataDir: string;
  postgres: RestartablePostgres;
  mailbox: Mailbox;
  temporal: TemporalServer;
  apiPort: number;
  env: NodeJS.ProcessEnv;
}

export async function startBaseStack(options: {
  name: string;
  temporalOnPostgres?: boolean;
  appSettings?: Record<string, string>;
  /** Recipients whose mail the mailbox takes without keeping it (see startMailbox). */
  discardMailTo?: (recipient: string) => boolean;
  log: (line: string) => void;
  /** A folder kept between runs (its PostgreSQL cluster and Temporal's data are reused); a fresh one if unset. */
  dataDir?: string;
}): Promise<BaseStack> {
  const { log } = options;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), `contacts-${options.name}-`));
  mkdirSync(dataDir, { recursive: true });
  chmodSync(dataDir, 0o755); // PostgreSQL runs as its own user below it
  const [pgPort, apiPort] = [await freePort(), await freePort()];
  let cluster: LocalPostgres | undefined = await startLocalPostgres(join(dataDir, 'postgres'), pgPort, log);
  const postgres: RestartablePostgres = {
    url: cluster.url('contacts'),
    pid: () => cluster?.pid(),
    async stop() {
      await cluster?.stop();
      cluster = undefined;
    },
    async start() {
      cluster ??= await startLocalPostgres(join(dataDir, 'postgres'), pgPort, log);
    },
  };
  // A start that fails half-way stops what it started: nothing may outlive the script.
  let mailbox: Mailbox | undefined;
  let temporal: TemporalServer;
  try {
    await migrate(postgres.url);
    mailbox = await startMailbox({ discard: options.discardMailTo });
    temporal = await startTemporalServer({ dataDir, onPostgres: options.temporalOnPostgres, log });
  } catch (error) {
    await mailbox?.close();
    await postgres.stop();
    throw error;
  }
  const env = appEnvironment({
    databaseUrl: postgres.url,
    temporalAddress: temporal.address,
    smtpPort: mailbox.port,
    apiPort,
    overrides: options.appSettings,
  });
  return { dataDir, postgres, mailbox, temporal, apiPort, env };
}
