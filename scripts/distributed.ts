import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createDb } from '../lib/db';
import { startLocalPostgres, type LocalPostgres } from '../lib/local-postgres';
import { startMailbox } from '../lib/mailbox';
import { freePort, waitForPort } from '../lib/net';
import { startTemporalCluster, type TemporalCluster } from '../lib/temporal-cluster';
import { percentile } from './bench/http';
import { appEnvironment } from './stack/app-env';
import { appProcess, WORKER_ENV, WORKER_NODE_ARGS } from './stack/processes';
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
    const appEnv = appEnvironment({
      databaseUrl: appDb.url('contacts'),
      temporalAddress: cluster.address,
      smtpPort: mailbox.port,
      apiPort,
    });
    log('migrate job: migrations and demo data');
    for (const script of ['scripts/migrate.ts', 'prisma/seed.ts']) {
      execFileSync(process.execPath, ['--import', 'tsx', script], {
        cwd: root,
        env: appEnv,
        stdio: ['ignore', 'ignore', 'inherit'],
      });
    }
    const workers = [1, 2].map((n) =>
      appProcess(
        `worker-${n}`,
        'worker/main.ts',
        { ...appEnv, ...WORKER_ENV },
        { nodeArgs: WORKER_NODE_ARGS },
      ),
    );
    const processes = [...workers, appProcess('api', 'api/server.ts', appEnv)];
    for (const child of processes) child.start();
    stoppers.push(async () => void (await Promise.all(processes.map((child) => child.stop()))));
    await waitForPort(apiPort, 'API', 60_000);
    log(
      `running: Temporal ${cluster.address} (UI ${cluster.uiUrl}), API http://127.0.0.1:${apiPort}, ` +
        `workers pid ${workers.map((w) => w.pid()).join(' and ')}, SMTP 127.0.0.1:${mailbox.port}`,
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
      killWorker: () => killed.kill(),
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
