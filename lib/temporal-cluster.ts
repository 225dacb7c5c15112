import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import type { LocalPostgres } from './local-postgres';
import { freePortBetween, untilListeningBy } from './net';
import { killOnFailure, running, stopChild } from './processes';
import { REGISTERED_SEARCH_ATTRIBUTES } from './search-attributes';
import { temporalBinary } from './temporal-binaries';
import { temporalDynamicConfigFile } from './temporal-dynamic-config';

/**
 * The Temporal server on PostgreSQL, as the distributed deployment runs it (docker-compose.yml), without Docker:
 * the server, its schema tool and the Web UI are built from the Go module proxy (pinned versions, checked
 * against the Go checksum database by `go install`) into ~/.cache/contacts, once per machine.
 */
export const TEMPORAL_SERVER_MODULE = 'go.temporal.io/server';
export const TEMPORAL_SERVER_VERSION = 'v1.29.1';
export const TEMPORAL_UI_MODULE = 'github.com/temporalio/ui-server/v2';
// The newest Web UI server that builds with this machine's Go (1.26.8); later ones ask for Go 1.26.10.
export const TEMPORAL_UI_VERSION = 'v2.50.1';

const cacheDir = join(homedir(), '.cache', 'contacts');
// The server records its membership ports in a smallint column: ports below 32768 only.
const freePort = () => freePortBetween(20_000, 32_000);

/**
 * `go install` of the given packages into bin, showing progress: on a machine with an empty Go build cache it
 * compiles about a thousand packages (the CPU time and the wall time here are in docs/performance.md), so a line
 * every PROGRESS_EVERY_MS says how many are built and which one is being built (`-v` names each package).
 */
async function goInstall(bin: string, packages: string[], log: (line: string) => void) {
  log(
    `building ${packages.join(' ')} with go install (once per machine; tens of minutes of CPU without a Go build cache)`,
  );
  mkdirSync(bin, { recursive: true });
  const started = Date.now();
  const child = spawn('go', ['install', '-v', ...packages], {
    env: { ...process.env, GOBIN: bin, GOFLAGS: '-mod=mod' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let built = 0;
  let downloaded = 0;
  let last = '';
  let tail: string[] = [];
  const lines = createInterface({ input: child.stderr! });
  lines.on('line', (line) => {
    tail = [...tail, line].slice(-3);
    if (line.startsWith('go: downloading ')) downloaded++;
    else if (!line.startsWith('go: ')) {
      built++;
      last = line;
    }
  });
  const progress = setInterval(() => {
    const minutes = ((Date.now() - started) / 60_000).toFixed(1);
    log(
      `  go install: ${downloaded} modules downloaded, ${built} packages compiled (${minutes} min)${last ? `, last ${last}` : ', linking or from the build cache'}`,
    );
  }, PROGRESS_EVERY_MS);
  try {
    const [code] = (await once(child, 'close').catch((error: NodeJS.ErrnoException) => {
      throw new Error(
        error.code === 'ENOENT' ? 'go install: Go is not installed (https://go.dev/dl/)' : error.message,
      );
    })) as [number | null];
    if (code !== 0) throw new Error(`go install ${packages.join(' ')} failed (${code}): ${tail.join(' | ')}`);
    log(
      `  go install: ${built} packages compiled, done in ${((Date.now() - started) / 60_000).toFixed(1)} min`,
    );
  } finally {
    clearInterval(progress);
  }
}

const PROGRESS_EVERY_MS = 15_000;

export interface TemporalClusterBinaries {
  server: string;
  sqlTool: string;
  ui: string;
  /** schema/postgresql/v12 of the server's module: the versioned SQL the schema tool applies. */
  schemaDir: string;
  /**
   * The config folders of the two modules: their docker.yaml are the templates the official images run, filled in
   * from environment variables (DB, POSTGRES_SEEDS, ports… for the server; TEMPORAL_ADDRESS… for the UI).
   */
  serverConfigDir: string;
  uiConfigDir: string;
}

const serverBin = join(cacheDir, `temporal-server-${TEMPORAL_SERVER_VERSION}`);
const uiBin = join(cacheDir, `temporal-ui-${TEMPORAL_UI_VERSION}`);
const serverBuilt = () => existsSync(join(serverBin, 'server')) && existsSync(join(serverBin, 'sql'));
const uiBuilt = () => existsSync(join(uiBin, 'server'));

/** Whether this machine has them built (npm run temporal:install-cluster), so that a start needs no go install. */
export const temporalClusterBuilt = () => serverBuilt() && uiBuilt();

export async function temporalClusterBinaries(log: (line: string) => void): Promise<TemporalClusterBinaries> {
  if (!serverBuilt()) {
    const at = `@${TEMPORAL_SERVER_VERSION}`;
    await goInstall(
      serverBin,
      [`${TEMPORAL_SERVER_MODULE}/cmd/server${at}`, `${TEMPORAL_SERVER_MODULE}/cmd/tools/sql${at}`],
      log,
    );
  }
  if (!uiBuilt()) {
    await goInstall(uiBin, [`${TEMPORAL_UI_MODULE}/cmd/server@${TEMPORAL_UI_VERSION}`], log);
  }
  const serverModule = moduleDir(TEMPORAL_SERVER_MODULE, TEMPORAL_SERVER_VERSION);
  return {
    server: join(serverBin, 'server'),
    sqlTool: join(serverBin, 'sql'),
    ui: join(uiBin, 'server'),
    schemaDir: join(serverModule, 'schema', 'postgresql', 'v12'),
    serverConfigDir: join(serverModule, 'config'),
    uiConfigDir: join(moduleDir(TEMPORAL_UI_MODULE, TEMPORAL_UI_VERSION), 'config'),
  };
}

/** Where the Go module cache holds a module's source (downloaded if it is not there yet). */
function moduleDir(module: string, version: string): string {
  const output = execFileSync('go', ['mod', 'download', '-json', `${module}@${version}`], {
    encoding: 'utf8',
  });
  return (JSON.parse(output) as { Dir: string }).Dir;
}

export interface TemporalCluster {
  address: string;
  uiUrl: string;
  /** The server's process while it runs. */
  serverPid(): number | undefined;
  /** Signals the server process through its handle (SIGSTOP, SIGCONT: fault scripts), if it runs. */
  signalServer(signal: NodeJS.Signals): void;
  /** SIGKILL the server process alone (fault tests); startServer() brings it back on the same databases. */
  killServer(): Promise<void>;
  startServer(): Promise<void>;
  stop(): Promise<void>;
}

/** Creates the two Temporal databases on `postgres`, applies the schema and starts the server and the Web UI. */
export async function startTemporalCluster(options: {
  postgres: LocalPostgres;
  postgresPort: number;
  log: (line: string) => void;
  /**
   * The server's PostgreSQL driver: `postgres12` (lib/pq, as docker-compose.yml runs it) or `postgres12_pgx` (pgx,
   * which keeps each connection's statements prepared).
   */
  sqlPlugin?: 'postgres12' | 'postgres12_pgx';
  /** The Web UI's port; a free one if unset. */
  uiPort?: number;
}): Promise<TemporalCluster> {
  const { postgres, postgresPort, log } = options;
  const sqlPlugin = options.sqlPlugin ?? 'postgres12';
  const binaries = await temporalClusterBinaries(log);
  const user = new URL(postgres.url('postgres')).username;
  const sql = (database: string, ...args: string[]) =>
    execFileSync(
      binaries.sqlTool,
      ['--plugin', sqlPlugin, '--ep', '127.0.0.1', '-p', String(postgresPort), '-u', user].concat([
        '--db',
        database,
        ...args,
      ]),
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
  for (const [database, schema] of [
    ['temporal', 'temporal'],
    ['temporal_visibility', 'visibility'],
  ]) {
    log(`applying the Temporal ${schema} schema to ${database}`);
    sql(database, 'create-database');
    sql(database, 'setup-schema', '-v', '0.0');
    sql(database, 'update-schema', '-d', join(binaries.schemaDir, schema, 'versioned'));
  }

  const ports = {
    frontend: await freePort(),
    frontendHttp: await freePort(),
    frontendMembership: await freePort(),
    history: await freePort(),
    historyMembership: await freePort(),
    matching: await freePort(),
    matchingMembership: await freePort(),
    worker: await freePort(),
    workerMembership: await freePort(),
    ui: options.uiPort ?? (await freePort()),
  };
  const serverEnv = {
    DB: sqlPlugin,
    POSTGRES_SEEDS: '127.0.0.1',
    DB_PORT: String(postgresPort),
    VISIBILITY_DB_PORT: String(postgresPort), // the template's visibility store does not fall back to DB_PORT
    POSTGRES_USER: user,
    POSTGRES_PWD: '',
    NUM_HISTORY_SHARDS: '4',
    BIND_ON_IP: '127.0.0.1',
    TEMPORAL_BROADCAST_ADDRESS: '127.0.0.1',
    FRONTEND_GRPC_PORT: String(ports.frontend),
    FRONTEND_HTTP_PORT: String(ports.frontendHttp),
    FRONTEND_MEMBERSHIP_PORT: String(ports.frontendMembership),
    HISTORY_GRPC_PORT: String(ports.history),
    HISTORY_MEMBERSHIP_PORT: String(ports.historyMembership),
    MATCHING_GRPC_PORT: String(ports.matching),
    MATCHING_MEMBERSHIP_PORT: String(ports.matchingMembership),
    WORKER_GRPC_PORT: String(ports.worker),
    WORKER_MEMBERSHIP_PORT: String(ports.workerMembership),
    // The project's dynamic configuration, as compose's server reads it (docker/temporal/dynamicconfig.yaml).
    DYNAMIC_CONFIG_FILE_PATH: temporalDynamicConfigFile(),
    LOG_LEVEL: 'error',
  };
  const uiEnv = {
    TEMPORAL_ADDRESS: `127.0.0.1:${ports.frontend}`,
    TEMPORAL_UI_PORT: String(ports.ui),
    TEMPORAL_DISABLE_NEWS_FETCH: 'true',
  };
  // The templates are read in place from the module cache, as the official images read their copy.
  const fromTemplate = (
    binary: string,
    configDir: string,
    env: Record<string, string>,
    extra: string[] = [],
  ) =>
    spawn(
      binary,
      ['--root', dirname(configDir), '--config', 'config', '--env', 'docker', ...extra, 'start'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, ...env },
      },
    );

  let children: ChildProcess[] = [];
  const started = (child: ChildProcess, name: string) => {
    let stderr = '';
    const keepTail = (chunk: Buffer) => (stderr = (stderr + String(chunk)).slice(-2000));
    child.stdout?.on('data', keepTail);
    child.stderr?.on('data', keepTail);
    child.once('exit', (code, signal) => {
      if (!stopping)
        log(`${name} exited (${signal ?? code}): ${stderr.trim().split('\n').slice(-4).join(' | ')}`);
    });
    children.push(child);
    return child;
  };
  let stopping = false;
  const address = `127.0.0.1:${ports.frontend}`;
  const startServer = async () => {
    const child = started(
      fromTemplate(binaries.server, binaries.serverConfigDir, serverEnv, ['--allow-no-auth']),
      'Temporal server',
    );
    await untilListeningBy(child, ports.frontend, 'Temporal server', 60_000);
    return child;
  };
  let server: ChildProcess | undefined;
  // Any step that fails (a readiness check, the namespace's registration) kills everything started so far: a failed
  // bench on 2026-12-08 02:41 left the Web UI running. Their exits are logged with their last lines, as any exit.
  await killOnFailure(
    () => children,
    async () => {
      server = await startServer();
      await registerNamespace(address, log);
      const ui = started(fromTemplate(binaries.ui, binaries.uiConfigDir, uiEnv), 'Temporal Web UI');
      await untilListeningBy(ui, ports.ui, 'Temporal Web UI', 30_000);
    },
  );
  return {
    address,
    uiUrl: `http://127.0.0.1:${ports.ui}`,
    serverPid: () => (running(server) ? server.pid : undefined),
    signalServer(signal) {
      if (running(server)) server.kill(signal);
    },
    async killServer() {
      if (!running(server)) return;
      stopping = true; // an exit asked for: not worth a log line
      const killed = server;
      await stopChild(killed, 'SIGKILL');
      stopping = false;
      children = children.filter((child) => child !== killed);
    },
    async startServer() {
      server = await startServer();
    },
    async stop() {
      stopping = true;
      await Promise.all(children.map((child) => stopChild(child, 'SIGTERM')));
    },
  };
}

/** The namespace and the search attributes, with the Temporal CLI; retried while the server finishes starting. */
async function registerNamespace(address: string, log: (line: string) => void) {
  const cli = temporalBinary('cli', log)!;
  const run = (...args: string[]) =>
    execFileSync(cli, [...args, '--address', address], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TEMPORAL_VERSION_CHECK_DISABLED: '1' },
    });
  const until = Date.now() + 60_000;
  for (;;) {
    try {
      run('operator', 'namespace', 'create', '--namespace', 'default', '--retention', '72h');
      break;
    } catch (error) {
      const stderr = String((error as { stderr?: Buffer }).stderr ?? '');
      if (/already (exists|registered)/i.test(stderr)) break;
      if (Date.now() > until) throw new Error(`cannot create the namespace: ${stderr.trim()}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  for (const { name, type } of REGISTERED_SEARCH_ATTRIBUTES) {
    for (;;) {
      try {
        run(
          'operator',
          'search-attribute',
          'create',
          '--namespace',
          'default',
          '--name',
          name,
          '--type',
          type,
        );
        break;
      } catch (error) {
        const stderr = String((error as { stderr?: Buffer }).stderr ?? '');
        if (/already exists/i.test(stderr)) break;
        if (Date.now() > until) throw new Error(`cannot create search attribute ${name}: ${stderr.trim()}`);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  }
}
