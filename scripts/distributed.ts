import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createDb } from '../lib/db';
import { startLocalPostgres, type LocalPostgres } from '../lib/local-postgres';
import { startMailbox } from '../lib/mailbox';
import { freePort, waitForPort } from '../lib/net';
import { startTemporalCluster, type TemporalCluster } from '../lib/temporal-cluster';
import { percentile } from './bench/http';
import { checkDeployment } from './deployment/checks';

/**
 * npm run distributed: the topology of docker-compose.yml, run as processes where there is no Docker engine.
 * A Temporal server on its own PostgreSQL with its Web UI, the app's PostgreSQL, a migrate-and-seed job, two
 * worker processes and the API, each configured only through environment variables, and a mail catcher.
 * Then it runs the checks of scripts/deployment/checks.ts against it: stories end to end through the API, both
 * workers take work, a story whose worker is SIGKILLed half-way finishes on the other one, visibility and the Web
 * UI. `-- --keep` leaves everything running to look at.
 */
const EXTRA_SERVICES = Number(process.env.DISTRIBUTED_SERVICES ?? 8);
const keep = process.argv.includes('--keep');
const root = resolve(__dirname, '..');
const log = (line: string) => process.stdout.write(`[distributed] ${line}\n`);

async function main() {
  const dataDir = mkdtempSync(join(tmpdir(), 'contacts-distributed-'));
  chmodSync(dataDir, 0o755);
  const stoppers: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stoppers.reverse()) await stop().catch(() => undefined);
  };
  try {
    const temporalDbPort = await freePort();
    const temporalDb = await startLocalPostgres(join(dataDir, 'temporal-db'), temporalDbPort, log);
    stoppers.push(() => temporalDb.stop());
    const appDb: LocalPostgres = await startLocalPostgres(join(dataDir, 'app-db'), await freePort(), log);
    stoppers.push(() => appDb.stop());
    const cluster: TemporalCluster = await startTemporalCluster({
      postgres: temporalDb,
      postgresPort: temporalDbPort,
      log,
    });
    stoppers.push(() => cluster.stop());
    const mailbox = await startMailbox();
    stoppers.push(() => mailbox.close());
    const apiPort = await freePort();

    // The same variables as x-app-env in docker-compose.yml, and nothing else.
    const appEnv: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DATABASE_URL: appDb.url('contacts'),
      TEMPORAL_ADDRESS: cluster.address,
      TEMPORAL_NAMESPACE: 'default',
      TEMPORAL_TASK_QUEUE: 'contact-changes',
      SMTP_URL: `smtp://127.0.0.1:${mailbox.port}`,
      MAIL_FROM: 'Contacts <no-reply@contacts.localhost>',
      PUBLIC_BASE_URL: `http://127.0.0.1:${apiPort}`,
      API_PORT: String(apiPort),
      CODE_HASH_KEY: randomBytes(32).toString('hex'),
      SESSION_SECRET: randomBytes(32).toString('hex'),
      TASK_EXPIRY: '7d',
      LOG_LEVEL: 'warn',
    };
    const node = (script: string) => [process.execPath, ['--import', 'tsx', script]] as const;
    log('migrate job: migrations and demo data');
    for (const script of ['scripts/migrate.ts', 'prisma/seed.ts']) {
      const [cmd, args] = node(script);
      execFileSync(cmd, [...args], { cwd: root, env: appEnv, stdio: ['ignore', 'ignore', 'inherit'] });
    }
    const processes = new Map<string, ChildProcess>();
    const startProcess = (name: string, script: string) => {
      const [cmd, args] = node(script);
      const child = spawn(cmd, [...args], { cwd: root, env: appEnv, stdio: ['ignore', 'ignore', 'inherit'] });
      processes.set(name, child);
      return child;
    };
    stoppers.push(async () => {
      await Promise.all(
        [...processes.values()]
          .filter((child) => child.exitCode === null && child.signalCode === null)
          .map((child) => {
            const exited = new Promise((done) => child.once('exit', done));
            child.kill('SIGTERM');
            return exited;
          }),
      );
    });
    const workers = [startProcess('worker-1', 'worker/main.ts'), startProcess('worker-2', 'worker/main.ts')];
    startProcess('api', 'api/server.ts');
    await waitForPort(apiPort, 'API', 60_000);
    log(
      `running: Temporal ${cluster.address} (UI ${cluster.uiUrl}), API http://127.0.0.1:${apiPort}, ` +
        `workers pid ${workers.map((w) => w.pid).join(' and ')}, SMTP 127.0.0.1:${mailbox.port}`,
    );

    const db = createDb(appEnv.DATABASE_URL!);
    stoppers.push(() => db.$disconnect());

    // More services of the demo admin than the demo seed has, so that both workers get work.
    const admin = await db.account.findUniqueOrThrow({ where: { handle: 'xx11111-ovh' } });
    const tech = await db.account.findUniqueOrThrow({ where: { handle: 'te22222-ovh' } });
    await db.service.createMany({
      data: Array.from({ length: EXTRA_SERVICES }, (_, i) => ({
        name: `distributed-${i}.example`,
        type: 'domain',
        adminId: admin.id,
        techId: tech.id,
        billingId: admin.id,
      })),
    });
    const [killed] = workers;
    const result = await checkDeployment({
      apiUrl: `http://127.0.0.1:${apiPort}`,
      temporalAddress: cluster.address,
      uiUrl: cluster.uiUrl,
      mails: async () => mailbox.messages(),
      killWorker: async () => {
        killed.kill('SIGKILL');
        await new Promise((done) => killed.once('exit', done));
      },
      workers: 2,
      log,
    });

    log(`| distributed run | value |`);
    log(`| --- | --- |`);
    log(
      `| stories through the API, 2 workers, Temporal on PostgreSQL | ${result.stories - 1} concurrent in ${result.seconds.toFixed(1)} s |`,
    );
    log(
      `| API calls | ${result.latencies.length}, p50 ${percentile(result.latencies, 50).toFixed(0)} ms, p99 ${percentile(result.latencies, 99).toFixed(0)} ms |`,
    );
    log(
      `| worker SIGKILLed between acceptances | story finished on the other worker, in ${result.killSeconds!.toFixed(1)} s |`,
    );
    if (keep) {
      log(`everything keeps running (data in ${dataDir}); Ctrl-C stops it`);
      await new Promise<void>((done) => process.once('SIGINT', () => done()));
    }
  } finally {
    await stopAll();
  }
}

main().then(
  () => process.exit(0),
  (error: Error) => {
    process.stderr.write(`distributed run failed: ${error.stack}\n`);
    process.exit(1);
  },
);
