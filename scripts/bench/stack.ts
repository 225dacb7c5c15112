import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
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
import { procEntries, statFields } from '../../lib/processes';
import { createWorker } from '../../worker/worker';
import { startBaseStack, type RestartablePostgres } from '../stack/base';
import { untilPolledBy } from '../stack/pollers';
import { appProcess, type AppProcess, WORKER_ENV, WORKER_NODE_ARGS } from '../stack/processes';

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
  /** The API's process (apiProcess option); undefined when the API runs in this process. */
  apiPid(): number | undefined;
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
  const root = join(__dirname, '..', '..');
  if (!existsSync(join(root, script)))
    throw new Error(`BENCH_WORKER=dist: no ${script}: run npm run build first`);
  // A build older than the code would measure other code than the sources': refused rather than reported.
  const built = statSync(join(root, script)).mtimeMs;
  const newer = WORKER_SOURCE_DIRS.flatMap((dir) =>
    readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.ts') && statSync(join(root, dir, file)).mtimeMs > built)
      .map((file) => join(dir, file)),
  );
  if (newer.length > 0)
    throw new Error(`BENCH_WORKER=dist: ${newer[0]} is newer than ${script}: run npm run build first`);
  return script;
}
/** The folders the worker's code is compiled from. */
const WORKER_SOURCE_DIRS = ['activities', 'domain', 'lib', 'worker', 'workflows'];

/** Once a GET of url answers (any status), or fails after timeoutMs: a process that is still starting. */
async function untilAnswering(url: string, timeoutMs: number): Promise<void> {
  for (const until = Date.now() + timeoutMs; ; await new Promise((resolve) => setTimeout(resolve, 100))) {
    try {
      await fetch(url, { signal: AbortSignal.timeout(5_000) });
      return;
    } catch (error) {
      if (Date.now() > until) throw new Error(`${url} does not answer: ${(error as Error).message}`);
    }
  }
}

export function rssOf(pid: number | undefined): number {
  return statusBytes(pid, 'VmRSS');
}

/**
 * The most RSS the process has had since it started or since resetRssPeak: the kernel's high-water mark (VmHWM),
 * exact where sampling VmRSS every so often misses a short peak.
 */
export function rssPeakOf(pid: number | undefined): number {
  return statusBytes(pid, 'VmHWM');
}

/** Starts the process's RSS peak again from its RSS now (Linux's /proc/<pid>/clear_refs, 5): a phase's own peak. */
export function resetRssPeak(pid: number | undefined): void {
  if (!pid) return;
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
  } catch {
    // exited meanwhile
  }
}

function statusBytes(pid: number | undefined, field: 'VmRSS' | 'VmHWM'): number {
  if (!pid) return 0;
  try {
    const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0; // exited meanwhile
  }
}

/** The RSS of each of the stack's processes now and at its peak during a phase (from start() to read()). */
export interface MemoryMeter {
  start(): void;
  read(): Record<string, { now: number; peak: number }>;
}

/**
 * The API's process (this process when the API runs in it, with the load generator and the SMTP sink), the
 * worker's and the Temporal server's.
 */
export function memoryMeter(stack: BenchStack): MemoryMeter {
  const parts = (): Record<string, number | undefined> => ({
    [stack.apiPid() !== undefined ? 'API' : 'API, mailbox and load generator']: stack.apiPid() ?? process.pid,
    worker: stack.workerPid(),
    [stack.temporalKind]: stack.temporalPid(),
  });
  return {
    start: () => Object.values(parts()).forEach(resetRssPeak),
    read: () =>
      Object.fromEntries(
        Object.entries(parts()).map(([part, pid]) => [part, { now: rssOf(pid), peak: rssPeakOf(pid) }]),
      ),
  };
}

export const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;

/** `part now / peak, …`, as the bench's tables print it. */
export function formatMemory(memory: Record<string, { now: number; peak: number }>): string {
  return Object.entries(memory)
    .map(([part, { now, peak }]) => `${part} ${mib(now)} / ${mib(peak)}`)
    .join(', ');
}

const CLOCK_TICKS_PER_SECOND = 100;
// BENCH_CPU_PROFILE=<dir>: the worker process writes a V8 CPU profile there when it stops.
const profileArgs = process.env.BENCH_CPU_PROFILE
  ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROFILE}`]
  : [];

/** CPU seconds a process used, with its reaped children, plus its live children when asked (PostgreSQL backends). */
export function cpuSecondsOf(pid: number | undefined, withLiveChildren = false): number {
  if (!pid) return 0;
  const own = statFields(pid);
  if (!own) return 0;
  // After the command: state(0) ppid(1) … utime(11) stime(12) cutime(13) cstime(14).
  let ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(own[i]), 0);
  if (withLiveChildren) {
    for (const entry of procEntries()) {
      const fields = statFields(entry);
      if (fields && Number(fields[1]) === pid) ticks += Number(fields[11]) + Number(fields[12]);
    }
  }
  return ticks / CLOCK_TICKS_PER_SECOND;
}

/** CPU seconds so far of each part of the stack, and how to print what was used between two snapshots. */
export interface CpuMeter {
  snapshot(): Record<string, number>;
  used(before: Record<string, number>, after: Record<string, number>, seconds: number): string;
  /** The CPU each part used between two snapshots, per item of work (a story, a ping), in milliseconds. */
  perItem(before: Record<string, number>, after: Record<string, number>, items: number): string;
}

export function cpuMeter(stack: BenchStack): CpuMeter {
  const onPostgres = stack.temporalPostgresPid() !== undefined;
  return {
    snapshot() {
      const { user, system } = process.cpuUsage();
      const own = (user + system) / 1e6;
      return {
        ...(stack.apiPid() !== undefined
          ? { API: cpuSecondsOf(stack.apiPid()), 'load generator and mailbox': own }
          : { 'API, mailbox and load generator': own }),
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
    perItem(before, after, items) {
      const parts = Object.keys(before).map(
        (part) => [part, (1000 * (after[part] - before[part])) / items] as const,
      );
      const total = parts.reduce((sum, [, value]) => sum + value, 0);
      return `${parts.map(([part, value]) => `${part} ${value.toFixed(0)}`).join(', ')}: ${total.toFixed(0)} ms`;
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
    /**
     * The API in a process of its own (scripts/bench/api-process.ts), so that its CPU is measured apart from the
     * load generator's and the SMTP sink's, which stay in this process; in this process if unset.
     */
    apiProcess?: boolean;
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
  // Each part says how it stops as soon as it is started; close() stops them in reverse, and so does a start that
  // fails half-way (the API or the worker does not come up): nothing may outlive the script.
  const stoppers: (() => Promise<unknown> | void)[] = [];
  const stopAll = async () => {
    for (const stop of stoppers.splice(0).reverse()) await stop();
  };
  stoppers.push(async () => {
    await temporal.stop();
    await mailbox.close();
    await postgres.stop();
    // A fresh folder goes with its run (a run with the listing's million services leaves about 1 GB, 250 MB
    // without); a kept one (options.dataDir) stays for the next run.
    if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
  });
  try {
    // The worker process runs with exactly the variables of workerEnv; the API (here or in its process) with the same.
    const apiEnv = { ...workerEnv, RESEND_MIN_INTERVAL: '1s', LOG_LEVEL: 'silent' };
    const config = parseConfig(apiEnv);
    const db = createDb(postgres.url, 20);
    stoppers.push(() => db.$disconnect());
    const connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS });
    stoppers.push(() => connection.close());
    const client = new Client({ connection });
    const mailer = createSmtpMailer(config.SMTP_URL, config.MAIL_FROM);
    stoppers.push(() => mailer.close());
    const baseUrl = `http://127.0.0.1:${apiPort}`;
    const apiProcess = options.apiProcess
      ? appProcess(
          'api',
          join('scripts', 'bench', 'api-process.ts'),
          { ...apiEnv, BENCH_API_LOG_LEVEL: process.env.BENCH_API_LOG_LEVEL ?? 'silent' },
          { nodeArgs: profileArgs },
        )
      : undefined;
    const app = apiProcess
      ? undefined
      : createApp({
          db,
          temporal: client,
          config,
          logger: createLogger(process.env.BENCH_API_LOG_LEVEL ?? 'silent'),
          rateLimits: {
            codeSubmission: { limit: 1e9, windowMs: 60_000 },
            resend: { limit: 1e9, windowMs: 60_000 },
          },
        });
    let server: Server | undefined = app?.listen(apiPort, '127.0.0.1');
    stoppers.push(async () => {
      await apiProcess?.stop();
      server?.closeAllConnections();
      await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    });
    const startApiProcess = async () => {
      if (!apiProcess) return;
      apiProcess.start();
      await untilAnswering(`${baseUrl}/health`, 120_000);
    };
    await startApiProcess();

    let workers: { worker: Worker; running: Promise<void>; connection: NativeConnection }[] = [];
    // As in production: the worker in a process of its own (and one that fault tests can SIGKILL), loading the
    // workflow code bundled once beforehand as the build does (bundling at each start costs seconds and memory).
    const workerProcess: AppProcess | undefined = options.workerProcess
      ? appProcess(
          'worker',
          workerScript(),
          {
            ...WORKER_ENV,
            ...workerEnv,
            WORKFLOW_BUNDLE_DIR: bundleWorkflowsInto(join(dataDir, 'workflow-bundle'), log),
          },
          { nodeArgs: [...WORKER_NODE_ARGS, ...profileArgs] },
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
    stoppers.push(async () => {
      await workerProcess?.stop();
      await stopWorker();
    });
    await startWorker();
    return {
      config,
      db,
      mailbox,
      client,
      baseUrl,
      temporalPid: () => temporal.pid(),
      temporalKind: temporal.kind,
      temporalPostgresPid: () => temporal.postgresPid(),
      apiPid: () => apiProcess?.pid(),
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
        await apiProcess?.terminate();
        if (server) {
          server.closeAllConnections();
          await new Promise((resolve) => server!.close(resolve));
        }
        await new Promise((resolve) => setTimeout(resolve, downMs));
        server = app?.listen(apiPort, '127.0.0.1');
        await startApiProcess();
      },
      workerPid: () => workerProcess?.pid(),
      killWorker: async () => workerProcess?.kill(),
      restartWorkerProcess: async () => workerProcess?.start(),
      dataDir,
      close: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
