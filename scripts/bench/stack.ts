import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Server } from 'node:http';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createSmtpMailer } from '../../activities/mailer';
import { createApp } from '../../api/app';
import { parseConfig, type Config } from '../../lib/config';
import { createDb, type Db } from '../../lib/db';
import { createLogger } from '../../lib/logger';
import type { Mailbox } from '../../lib/mailbox';
import { createWorker } from '../../worker/worker';
import { startBaseStack, type RestartablePostgres } from '../stack/base';
import { untilPolledBy } from '../stack/pollers';
import { appProcess, type AppProcess } from '../stack/processes';

/** The embedded stack, in one process but the servers: what `npm run bench` and `npm run chaos` measure. */
export interface BenchStack {
  config: Config;
  db: Db;
  mailbox: Mailbox;
  client: Client;
  baseUrl: string;
  temporalPid: () => number | undefined;
  /** The kind of Temporal server (the dev server on SQLite, or the server on PostgreSQL). */
  temporalKind: string;
  /** The postmaster of Temporal's own PostgreSQL (temporalOnPostgres option). */
  temporalPostgresPid: () => number | undefined;
  startWorker(): Promise<void>;
  stopWorker(): Promise<void>;
  startTemporal(): Promise<void>;
  stopTemporal(): Promise<void>;
  postgres: RestartablePostgres;
  restartPostgres(downMs: number): Promise<void>;
  restartApi(downMs: number): Promise<void>;
  workerPid(): number | undefined;
  /** SIGKILL the worker process (workerProcess option), and start a new one. */
  killWorker(): Promise<void>;
  restartWorkerProcess(): Promise<void>;
  dataDir: string;
  close(): Promise<void>;
}

/** The plain workflow bundle written into dir by a process of its own (scripts/stack/bundle-workflows.ts). */
function bundleWorkflowsInto(dir: string, log: (line: string) => void): string {
  log('bundling the workflow code for the worker');
  execFileSync(process.execPath, ['--import', 'tsx', join('scripts', 'stack', 'bundle-workflows.ts'), dir], {
    cwd: join(__dirname, '..', '..'),
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return dir;
}

/**
 * BENCH_WORKER=dist: the worker as production runs it, compiled by `npm run build` (dist/worker/main.js: about
 * 40 MiB less and a faster start than from the sources through tsx); the sources otherwise.
 */
function workerScript(): string {
  if (process.env.BENCH_WORKER !== 'dist') return 'worker/main.ts';
  const script = join('dist', 'worker', 'main.js');
  if (!existsSync(join(__dirname, '..', '..', script)))
    throw new Error(`BENCH_WORKER=dist: no ${script}: run npm run build first`);
  return script;
}

export function rssOf(pid: number | undefined): number {
  if (!pid) return 0;
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) * 1024 : 0;
}

const CLOCK_TICKS_PER_SECOND = 100;
// BENCH_CPU_PROFILE=<dir>: the worker process writes a V8 CPU profile there when it stops.
const profileArgs = process.env.BENCH_CPU_PROFILE
  ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROFILE}`]
  : [];

/** CPU seconds a process used, with its reaped children, plus its live children when asked (PostgreSQL backends). */
export function cpuSecondsOf(pid: number | undefined, withLiveChildren = false): number {
  if (!pid) return 0;
  const fieldsOf = (id: number | string) => {
    try {
      const stat = readFileSync(`/proc/${id}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    } catch {
      return undefined; // the process ended meanwhile
    }
  };
  const own = fieldsOf(pid);
  if (!own) return 0;
  // After the command: state(0) ppid(1) … utime(11) stime(12) cutime(13) cstime(14).
  let ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(own[i]), 0);
  if (withLiveChildren) {
    for (const entry of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
      const fields = fieldsOf(entry);
      if (fields && Number(fields[1]) === pid) ticks += Number(fields[11]) + Number(fields[12]);
    }
  }
  return ticks / CLOCK_TICKS_PER_SECOND;
}

/** CPU seconds so far of each part of the stack, and how to print what was used between two snapshots. */
export interface CpuMeter {
  snapshot(): Record<string, number>;
  used(before: Record<string, number>, after: Record<string, number>, seconds: number): string;
}

export function cpuMeter(stack: BenchStack): CpuMeter {
  const onPostgres = stack.temporalPostgresPid() !== undefined;
  return {
    snapshot() {
      const { user, system } = process.cpuUsage();
      return {
        'API, mailbox and load generator': (user + system) / 1e6,
        worker: cpuSecondsOf(stack.workerPid()),
        [stack.temporalKind]: cpuSecondsOf(stack.temporalPid()),
        ...(onPostgres ? { "Temporal's PostgreSQL": cpuSecondsOf(stack.temporalPostgresPid(), true) } : {}),
        PostgreSQL: cpuSecondsOf(stack.postgres.pid(), true),
      };
    },
    used(before, after, seconds) {
      return Object.keys(before)
        .map((part) => {
          const used = after[part] - before[part];
          return `${part} ${used.toFixed(1)} s (${((100 * used) / seconds).toFixed(0)} %)`;
        })
        .join(', ');
    },
  };
}

export async function startBenchStack(
  log: (line: string) => void,
  options: {
    pingWorker?: boolean;
    workerProcess?: boolean;
    temporalOnPostgres?: boolean;
    /** Settings of the app's processes beyond the defaults (the worker's cache size…). */
    appSettings?: Record<string, string>;
    /** Recipients whose mail the SMTP sink takes without keeping it. */
    discardMailTo?: (recipient: string) => boolean;
    /** A data folder kept between runs (scripts/bench/kept-state.ts); a fresh temporary one if unset. */
    dataDir?: string;
  } = {},
): Promise<BenchStack> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const {
    dataDir,
    postgres,
    mailbox,
    temporal,
    apiPort,
    env: workerEnv,
  } = await startBaseStack({
    name: 'bench',
    temporalOnPostgres: options.temporalOnPostgres,
    appSettings: { TEMPORAL_SEARCH_ATTRIBUTES: 'off', ...options.appSettings },
    discardMailTo: options.discardMailTo,
    dataDir: options.dataDir,
    log,
  });
  // The worker process runs with exactly the variables of workerEnv; the API in this process with the same.
  const config = parseConfig({ ...workerEnv, RESEND_MIN_INTERVAL: '1s', LOG_LEVEL: 'silent' });
  const db = createDb(postgres.url, 20);
  const connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS });
  const client = new Client({ connection });
  const mailer = createSmtpMailer(config.SMTP_URL, config.MAIL_FROM);
  const app = createApp({
    db,
    temporal: client,
    config,
    logger: createLogger(process.env.BENCH_API_LOG_LEVEL ?? 'silent'),
    rateLimits: {
      codeSubmission: { limit: 1e9, windowMs: 60_000 },
      resend: { limit: 1e9, windowMs: 60_000 },
    },
  });
  let server: Server = app.listen(apiPort, '127.0.0.1');

  let workers: { worker: Worker; running: Promise<void>; connection: NativeConnection }[] = [];
  // As in production: the worker in a process of its own (and one that fault tests can SIGKILL), loading the
  // workflow code bundled once beforehand as the build does (bundling at each start costs seconds and memory).
  const workerProcess: AppProcess | undefined = options.workerProcess
    ? appProcess(
        'worker',
        workerScript(),
        { ...workerEnv, WORKFLOW_BUNDLE_DIR: bundleWorkflowsInto(join(dataDir, 'workflow-bundle'), log) },
        { nodeArgs: profileArgs },
      )
    : undefined;
  const startWorker = async () => {
    const workerConnection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
    if (workerProcess) {
      workerProcess.start();
      await untilPolledBy(connection, config.TEMPORAL_TASK_QUEUE, workerProcess.pid()!, 120_000);
    } else {
      const worker = await createWorker({
        connection: workerConnection,
        namespace: 'default',
        taskQueue: config.TEMPORAL_TASK_QUEUE,
        deps: { db, mailer, codeHashKey: config.CODE_HASH_KEY, publicBaseUrl: config.PUBLIC_BASE_URL },
      });
      workers.push({ worker, running: worker.run(), connection: workerConnection });
    }
    if (options.pingWorker) {
      const ping = await Worker.create({
        connection: workerConnection,
        taskQueue: 'bench-ping',
        workflowsPath: require.resolve('./ping.workflow'),
        activities: { ping: async () => 'pong' },
      });
      workers.push({ worker: ping, running: ping.run(), connection: workerConnection });
    }
  };
  // A graceful stop (SIGTERM) that a start may follow, as a deployment does; close() stops it for good.
  const stopWorker = async () => {
    await workerProcess?.terminate();
    for (const { worker } of workers) worker.shutdown();
    await Promise.all(workers.map((w) => w.running));
    await Promise.all([...new Set(workers.map((w) => w.connection))].map((c) => c.close()));
    workers = [];
  };
  await startWorker();
  return {
    config,
    db,
    mailbox,
    client,
    baseUrl: `http://127.0.0.1:${apiPort}`,
    temporalPid: () => temporal.pid(),
    temporalKind: temporal.kind,
    temporalPostgresPid: () => temporal.postgresPid(),
    startWorker,
    stopWorker,
    startTemporal: () => temporal.start(),
    stopTemporal: () => temporal.stop(),
    postgres,
    async restartPostgres(downMs) {
      await postgres.stop();
      await new Promise((resolve) => setTimeout(resolve, downMs));
      await postgres.start();
    },
    async restartApi(downMs) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await new Promise((resolve) => setTimeout(resolve, downMs));
      server = app.listen(apiPort, '127.0.0.1');
    },
    workerPid: () => workerProcess?.pid(),
    killWorker: async () => workerProcess?.kill(),
    restartWorkerProcess: async () => workerProcess?.start(),
    dataDir,
    async close() {
      await workerProcess?.stop();
      await stopWorker();
      await new Promise((resolve) => server.close(resolve));
      mailer.close();
      await connection.close();
      await db.$disconnect();
      await temporal.stop();
      await mailbox.close();
      await postgres.stop();
    },
  };
}
