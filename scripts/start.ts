import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createDb } from '../lib/db';
import { startLocalPostgres } from '../lib/local-postgres';
import { startMailbox } from '../lib/mailbox';
import { mailboxPage } from '../lib/mailbox-page';
import { migrate } from '../lib/migrate';
import { untilListeningBy, waitForPort } from '../lib/net';
import { running } from '../lib/processes';
import { devServerSearchAttributeFlags } from '../lib/search-attributes';
import { devServerDynamicConfigFlags } from '../lib/temporal-dynamic-config';
import { temporalBinary } from '../lib/temporal-binaries';
import { localCertificate } from '../lib/tls';
import { DEMO_ACCOUNTS, DEMO_PASSWORD, seedDemo } from '../prisma/seed-data';
import { WORKER_ENV, WORKER_NODE_ARGS } from './stack/processes';

/**
 * The whole service on embedded defaults: PostgreSQL (data/postgres), the Temporal dev server (SQLite file
 * data/temporal.db, Web UI), a local SMTP mailbox with its page, the worker and the API with the portal.
 * Ctrl-C stops everything cleanly; the next start keeps the data.
 */
const root = resolve(__dirname, '..');
const dataDir = resolve(process.env.CONTACTS_DATA_DIR ?? join(root, 'data'));
const ports = {
  api: Number(process.env.API_PORT ?? 3000),
  apiTls: Number(process.env.TLS_PORT ?? 3443),
  workerMetrics: Number(process.env.METRICS_PORT ?? 9464),
  postgres: Number(process.env.POSTGRES_PORT ?? 54329),
  temporal: Number(process.env.TEMPORAL_PORT ?? 7233),
  temporalUi: Number(process.env.TEMPORAL_UI_PORT ?? 8233),
  smtp: Number(process.env.SMTP_PORT ?? 1025),
  mailboxPage: Number(process.env.MAILBOX_PORT ?? 8025),
};

const log = (line: string) => process.stdout.write(`[start] ${line}\n`);
const children: { name: string; child: ChildProcess }[] = [];
const stoppers: (() => Promise<void>)[] = [];

function secrets(): { CODE_HASH_KEY: string; SESSION_SECRET: string } {
  const file = join(dataDir, 'secrets.json');
  if (!existsSync(file)) {
    const fresh = {
      CODE_HASH_KEY: randomBytes(32).toString('hex'),
      SESSION_SECRET: randomBytes(32).toString('hex'),
    };
    writeFileSync(file, JSON.stringify(fresh), { mode: 0o600 });
  }
  return JSON.parse(readFileSync(file, 'utf8'));
}

function run(name: string, command: string, args: string[], env: NodeJS.ProcessEnv) {
  const child = spawn(command, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const prefix = (chunk: Buffer) =>
    String(chunk)
      .split('\n')
      .filter(Boolean)
      .map((line) => `[${name}] ${line}\n`)
      .join('');
  child.stdout?.on('data', (chunk: Buffer) => process.stdout.write(prefix(chunk)));
  child.stderr?.on('data', (chunk: Buffer) => process.stderr.write(prefix(chunk)));
  child.on('exit', (code, signal) => {
    if (!stopping) {
      log(`${name} exited (${signal ?? code}); stopping everything`);
      void stopAll(1);
    }
  });
  children.push({ name, child });
  return child;
}

let stopping = false;
async function stopAll(exitCode = 0) {
  if (stopping) return;
  stopping = true;
  log('stopping');
  for (const { name, child } of [...children].reverse()) {
    if (!running(child)) continue;
    await new Promise<void>((done) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.once('exit', () => {
        clearTimeout(timer);
        done();
      });
      child.kill('SIGTERM');
    });
    log(`${name} stopped`);
  }
  for (const stop of stoppers.reverse()) await stop();
  log('stopped; data kept in ' + dataDir);
  process.exit(exitCode);
}

async function main() {
  mkdirSync(dataDir, { recursive: true });
  process.once('SIGINT', () => void stopAll());
  process.once('SIGTERM', () => void stopAll());

  const temporalCli = temporalBinary('cli', log);
  if (!temporalCli) throw new Error('no pinned Temporal CLI for this platform: set TEMPORAL_CLI_PATH');
  const postgres = await startLocalPostgres(join(dataDir, 'postgres'), ports.postgres, log);
  stoppers.push(() => postgres.stop());
  const databaseUrl = postgres.url('contacts');
  await migrate(databaseUrl, log);
  const db = createDb(databaseUrl, 2);
  if (await seedDemo(db)) log('demo accounts and services seeded');
  await db.$disconnect();

  const mailbox = await startMailbox({ port: ports.smtp, storeFile: join(dataDir, 'mailbox.json') });
  const page = mailboxPage(mailbox).listen(ports.mailboxPage, '127.0.0.1');
  stoppers.push(async () => {
    page.close();
    await mailbox.close();
  });

  const temporal = run(
    'temporal',
    temporalCli,
    [
      'server',
      'start-dev',
      '--db-filename',
      join(dataDir, 'temporal.db'),
      '--ip',
      '127.0.0.1',
      '--port',
      String(ports.temporal),
      '--ui-port',
      String(ports.temporalUi),
      '--log-level',
      'error',
      ...devServerSearchAttributeFlags(),
      ...devServerDynamicConfigFlags(),
    ],
    { ...process.env, TEMPORAL_VERSION_CHECK_DISABLED: '1' },
  );
  // Ours, not another quick start's server already on that port (ours then exits: the start stops with a reason).
  await untilListeningBy(temporal, ports.temporal, 'Temporal dev server');

  const tls = localCertificate(join(dataDir, 'tls'));
  const env = {
    ...process.env,
    ...secrets(),
    DATABASE_URL: databaseUrl,
    TEMPORAL_ADDRESS: `127.0.0.1:${ports.temporal}`,
    SMTP_URL: `smtp://127.0.0.1:${ports.smtp}`,
    PUBLIC_BASE_URL: process.env.PUBLIC_BASE_URL ?? `http://localhost:${ports.api}`,
    API_PORT: String(ports.api),
    TLS_CERT_FILE: tls.certFile,
    TLS_KEY_FILE: tls.keyFile,
    TLS_PORT: String(ports.apiTls),
    METRICS_PORT: String(ports.workerMetrics),
  };
  const tsx = ['--import', 'tsx'];
  run('worker', process.execPath, [...WORKER_NODE_ARGS, ...tsx, 'worker/main.ts'], { ...env, ...WORKER_ENV });
  run('api', process.execPath, [...tsx, 'api/server.ts'], env);
  await waitForPort(ports.api, 'API');

  process.stdout.write(`
  contacts is running (Ctrl-C stops everything; data stays in ${dataDir})

  Portal             http://localhost:${ports.api}/
  API                http://localhost:${ports.api}/1.0   (OpenAPI: /1.0/openapi.json)
  API over HTTPS     https://localhost:${ports.apiTls}/1.0   (certificate made here: ${tls.certFile})
  Metrics            http://localhost:${ports.api}/metrics (API), http://localhost:${ports.workerMetrics}/metrics (worker)
  Temporal Web UI    http://localhost:${ports.temporalUi}/
  Local mailbox      http://localhost:${ports.mailboxPage}/
  PostgreSQL         ${databaseUrl}

  Demo accounts (password "${DEMO_PASSWORD}"): ${DEMO_ACCOUNTS.map((a) => a.handle).join(', ')}
`);
}

main().catch((error: Error) => {
  process.stderr.write(`start failed: ${error.message}\n`);
  void stopAll(1);
});
