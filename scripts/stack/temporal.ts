import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { startLocalPostgres, type LocalPostgres } from '../../lib/local-postgres';
import { freePort, untilListeningBy } from '../../lib/net';
import { killOnFailure, running, stopChild } from '../../lib/processes';
import { devServerSearchAttributeFlags } from '../../lib/search-attributes';
import { devServerDynamicConfigFlags } from '../../lib/temporal-dynamic-config';
import { temporalBinary } from '../../lib/temporal-binaries';
import { startTemporalCluster, type TemporalCluster } from '../../lib/temporal-cluster';

/**
 * A Temporal server for the scripts that run the whole stack (bench, chaos, soak): the dev server on a SQLite
 * file, or (onPostgres) the server on its own PostgreSQL as deployed (lib/temporal-cluster.ts). Its data
 * survives stop/kill and start, so faults can take it down and bring it back.
 */
export interface TemporalServer {
  address: string;
  kind: string;
  /** The server's own process (not its PostgreSQL) while it runs, for CPU and memory figures. */
  pid(): number | undefined;
  /** Temporal's own PostgreSQL postmaster (onPostgres), for CPU figures. */
  postgresPid(): number | undefined;
  start(): Promise<void>;
  /** Clean stop (SIGTERM), everything the server runs on included. */
  stop(): Promise<void>;
  /** SIGKILL the server process alone; start() brings it back on the same data. */
  kill(): Promise<void>;
  /** SIGSTOP / SIGCONT the server process (through its handle: never a pid that may name another process by then). */
  pause(): void;
  resume(): void;
}

export async function startTemporalServer(options: {
  dataDir: string;
  onPostgres?: boolean;
  log: (line: string) => void;
}): Promise<TemporalServer> {
  const server = options.onPostgres ? await clusterOnPostgres(options) : await devServer(options);
  await server.start();
  return server;
}

async function devServer(options: { dataDir: string; log: (line: string) => void }): Promise<TemporalServer> {
  const cli = temporalBinary('cli', options.log)!;
  const port = await freePort();
  let child: ChildProcess | undefined;
  const args = [
    'server',
    'start-dev',
    '--headless',
    '--db-filename',
    join(options.dataDir, 'temporal.db'),
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--log-level',
    'error',
    // SQLite's default rollback journal writes and syncs a journal file at every transaction and lets a writer
    // block every reader: with a write-ahead log, readers go on beside the writer and a commit appends to the log
    // (synchronous=NORMAL: durable across a crash of the server, as the scripts' faults need; an OS crash may
    // lose the last commits, which no script makes). Measured on the many-open-tasks seed: docs/performance.md.
    // TEMPORAL_DEV_SQLITE_PRAGMAS replaces them, to compare (`journal_mode=DELETE,synchronous=FULL`: SQLite's own).
    ...(process.env.TEMPORAL_DEV_SQLITE_PRAGMAS?.split(',') ?? ['journal_mode=WAL', 'synchronous=NORMAL'])
      .filter(Boolean)
      .flatMap((pragma) => ['--sqlite-pragma', pragma]),
    ...devServerSearchAttributeFlags(),
    ...devServerDynamicConfigFlags(),
  ];
  return {
    address: `127.0.0.1:${port}`,
    kind: 'Temporal dev server (SQLite)',
    pid: () => (running(child) ? child.pid : undefined),
    postgresPid: () => undefined,
    async start() {
      const started = spawn(cli, args, {
        stdio: 'ignore',
        env: { ...process.env, TEMPORAL_VERSION_CHECK_DISABLED: '1' },
      });
      child = started;
      // Our server, not whatever else answers on the port (another stack's, had it taken the port meanwhile); one
      // that does not get there is killed, not left running behind a failed start.
      await killOnFailure(
        () => [started],
        () => untilListeningBy(started, port, 'Temporal dev server'),
      );
    },
    stop: () => stopChild(child, 'SIGTERM'),
    kill: () => stopChild(child, 'SIGKILL'),
    pause: () => void (running(child) && child.kill('SIGSTOP')),
    resume: () => void (running(child) && child.kill('SIGCONT')),
  };
}

async function clusterOnPostgres(options: {
  dataDir: string;
  log: (line: string) => void;
}): Promise<TemporalServer> {
  const postgresPort = await freePort();
  let postgres: LocalPostgres | undefined;
  let cluster: TemporalCluster | undefined;
  const server: TemporalServer = {
    address: '',
    kind: 'Temporal server on PostgreSQL',
    pid: () => cluster?.serverPid(),
    postgresPid: () => postgres?.pid(),
    async start() {
      if (cluster) return cluster.startServer();
      // As deployed (every commit synced to disk) unless TEMPORAL_POSTGRES_SETTINGS says otherwise, to compare:
      // `synchronous_commit=off` is close to the dev server's WAL with synchronous=NORMAL: a commit survives a
      // crash of the Temporal server (what the scripts' faults do), and the last 0.2-0.6 s of commits may not
      // survive a crash of its PostgreSQL or of the machine. docs/performance.md has both.
      const settings = process.env.TEMPORAL_POSTGRES_SETTINGS?.split(',').filter(Boolean) ?? [];
      const ownPostgres = await startLocalPostgres(
        join(options.dataDir, 'temporal-db'),
        postgresPort,
        options.log,
        settings,
      );
      postgres = ownPostgres;
      try {
        cluster = await startTemporalCluster({
          postgres: ownPostgres,
          postgresPort,
          log: options.log,
          sqlPlugin: temporalSqlPlugin(),
        });
      } catch (error) {
        // The cluster stopped what it started; its PostgreSQL is ours to stop (it outlived a failed bench, 02:41).
        await ownPostgres.stop();
        postgres = undefined;
        throw error;
      }
      server.address = cluster.address;
    },
    async stop() {
      await cluster?.stop();
      await postgres?.stop();
    },
    kill: async () => cluster?.killServer(),
    pause: () => cluster?.signalServer('SIGSTOP'),
    resume: () => cluster?.signalServer('SIGCONT'),
  };
  return server;
}

/** TEMPORAL_POSTGRES_PLUGIN: the server's PostgreSQL driver (postgres12, the default, or postgres12_pgx), to compare. */
function temporalSqlPlugin(): 'postgres12' | 'postgres12_pgx' {
  const plugin = process.env.TEMPORAL_POSTGRES_PLUGIN ?? 'postgres12';
  if (plugin !== 'postgres12' && plugin !== 'postgres12_pgx')
    throw new Error(`TEMPORAL_POSTGRES_PLUGIN=${plugin}: postgres12 or postgres12_pgx`);
  return plugin;
}
