import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { createDb } from '../lib/db';
import { startLocalPostgres, type LocalPostgres } from '../lib/local-postgres';
import { readCodeEmail, startMailbox } from '../lib/mailbox';
import { freePort, waitForPort } from '../lib/net';
import { startTemporalCluster, type TemporalCluster } from '../lib/temporal-cluster';
import { DEMO_PASSWORD } from '../prisma/seed-data';
import { HttpSession } from './bench/http';

/**
 * npm run distributed: the topology of docker-compose.yml, run as processes where there is no Docker engine.
 * A Temporal server on its own PostgreSQL with its Web UI, the app's PostgreSQL, a migrate-and-seed job, two
 * worker processes and the API, each configured only through environment variables, and a mail catcher.
 * Then it asserts: stories run end to end through the API, both workers take work, and a story whose worker
 * is SIGKILLed half-way finishes on the other one. `-- --keep` leaves everything running to look at.
 */
const STORIES = Number(process.env.DISTRIBUTED_STORIES ?? 12);
const keep = process.argv.includes('--keep');
const root = resolve(__dirname, '..');
const log = (line: string) => process.stdout.write(`[distributed] ${line}\n`);

function check(condition: unknown, what: string): asserts condition {
  if (!condition) throw new Error(`check failed: ${what}`);
  log(`ok: ${what}`);
}

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
    const connection = await Connection.connect({ address: cluster.address });
    stoppers.push(() => connection.close());
    const client = new Client({ connection });

    // Services of the demo admin whose tech contact each story hands to the demo newcomer.
    const admin = await db.account.findUniqueOrThrow({ where: { handle: 'xx11111-ovh' } });
    const tech = await db.account.findUniqueOrThrow({ where: { handle: 'te22222-ovh' } });
    await db.service.createMany({
      data: Array.from({ length: STORIES }, (_, i) => ({
        name: `distributed-${i}.example`,
        type: 'domain',
        adminId: admin.id,
        techId: tech.id,
        billingId: admin.id,
      })),
    });
    const latencies: number[] = [];
    const asAdmin = new HttpSession(`http://127.0.0.1:${apiPort}`, latencies);
    const asNewcomer = new HttpSession(`http://127.0.0.1:${apiPort}`, latencies);
    await asAdmin.login('xx11111-ovh', DEMO_PASSWORD);
    await asNewcomer.login('ne44444-ovh', DEMO_PASSWORD);

    const story = async (i: number, beforeLastAcceptance?: () => Promise<void>) => {
      const service = `distributed-${i}.example`;
      const [id] = (
        await asAdmin.call('POST', `/1.0/domain/${service}/changeContact`, { contactTech: 'ne44444-ovh' })
      ).json as number[];
      const codeFor = (email: string) =>
        mailbox
          .waitFor((m) => m.to[0] === email && m.text.includes(`/validate/${id}#`), 60_000)
          .then(readCodeEmail);
      const [adminCode, newcomerCode] = await Promise.all([
        codeFor('ana.admin@example.test'),
        codeFor('nora.new@example.test'),
      ]);
      await asAdmin.call('POST', `/1.0/me/task/contactChange/${id}/accept`, { token: adminCode.code });
      await beforeLastAcceptance?.();
      await asNewcomer.call('POST', `/1.0/me/task/contactChange/${id}/accept`, { token: newcomerCode.code });
      for (const until = Date.now() + 60_000; ;) {
        const task = await asAdmin.call('GET', `/1.0/me/task/contactChange/${id}`);
        if (task.json.state === 'done') break;
        if (Date.now() > until) throw new Error(`task ${id} is still ${task.json.state}`);
        await new Promise((done) => setTimeout(done, 100));
      }
      const info = await asAdmin.call('GET', `/1.0/domain/${service}/serviceInfos`);
      check(
        info.json.contactTech === 'ne44444-ovh',
        `story ${i}: task ${id} done, ${service} has its new tech contact`,
      );
      return id;
    };

    const started = performance.now();
    const ids = await Promise.all(Array.from({ length: STORIES - 1 }, (_, i) => story(i)));
    const seconds = (performance.now() - started) / 1000;

    // Which worker ran what: each task in the history names the worker (pid@host) that took it.
    const identities = new Set<string>();
    for (const row of await db.contactChangeTask.findMany({ where: { id: { in: ids } } })) {
      const { events = [] } = await client.workflow.getHandle(row.workflowId).fetchHistory();
      for (const event of events ?? []) {
        const identity =
          event.workflowTaskStartedEventAttributes?.identity ??
          event.activityTaskStartedEventAttributes?.identity;
        if (identity) identities.add(identity.split('@')[0]);
      }
    }
    check(
      workers.every((w) => identities.has(String(w.pid))),
      `both workers took tasks (identities seen: ${[...identities].join(', ')})`,
    );

    // A story whose worker dies between the two acceptances: the survivor finishes it.
    const killed = workers[0];
    const killStarted = performance.now();
    const lastId = await story(STORIES - 1, async () => {
      killed.kill('SIGKILL');
      await new Promise((done) => killed.once('exit', done));
      log(`worker-1 (pid ${killed.pid}) SIGKILLed between the two acceptances`);
    });
    const killSeconds = (performance.now() - killStarted) / 1000;
    const mailsOfLast = mailbox.messages().filter((m) => m.text.includes(`/validate/${lastId}#`));
    check(
      mailsOfLast.length <= 2,
      `no second code sent unasked after the kill (${mailsOfLast.length} code mails)`,
    );
    const uiPage = await fetch(cluster.uiUrl);
    const uiApi = await fetch(`${cluster.uiUrl}/api/v1/namespaces/default/workflows?query=`);
    const listed = ((await uiApi.json()) as { executions?: unknown[] }).executions ?? [];
    check(
      uiPage.ok && listed.length > 0,
      `the Temporal Web UI answers at ${cluster.uiUrl} and lists ${listed.length} workflows`,
    );
    const visible = await client.workflow.count(`ContactTaskState = 'done'`);
    check(
      visible.count === STORIES,
      `Temporal visibility on PostgreSQL finds ${visible.count} done tasks by search attribute`,
    );

    log(`| distributed run | value |`);
    log(`| --- | --- |`);
    log(
      `| stories through the API, 2 workers, Temporal on PostgreSQL | ${STORIES - 1} concurrent in ${seconds.toFixed(1)} s |`,
    );
    log(
      `| API calls | ${latencies.length}, p50 ${percentile(latencies, 50).toFixed(0)} ms, p99 ${percentile(latencies, 99).toFixed(0)} ms |`,
    );
    log(
      `| worker SIGKILLed between acceptances | story finished on the other worker, in ${killSeconds.toFixed(1)} s |`,
    );
    if (keep) {
      log(`everything keeps running (data in ${dataDir}); Ctrl-C stops it`);
      await new Promise<void>((done) => process.once('SIGINT', () => done()));
    }
  } finally {
    await stopAll();
  }
}

function percentile(values: number[], p: number) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

main().then(
  () => process.exit(0),
  (error: Error) => {
    process.stderr.write(`distributed run failed: ${error.stack}\n`);
    process.exit(1);
  },
);
