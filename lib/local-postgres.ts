import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { Client } from 'pg';
import { killOnFailure, processesNaming, running, stopChild } from './processes';

/**
 * A private PostgreSQL server from the machine's own binaries (Debian's postgresql package), with its data in
 * a folder of ours: the embedded default of the quick start, and the tests' database when none is given.
 */
export class LocalPostgresError extends Error {}

function findBinDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  const dir = versions.map((v) => join(root, v, 'bin')).find((d) => existsSync(join(d, 'initdb')));
  if (!dir) throw new LocalPostgresError('PostgreSQL is not installed: run `apt-get install -y postgresql`');
  return dir;
}

const isRoot = () => process.getuid?.() === 0;

/**
 * PostgreSQL refuses to run as root: its programs then run as the postgres user, switched to by the spawn itself
 * (not through `runuser`, which would stand between us and the server: the server must be our own child, so
 * that stopping it signals our child and never a pid read from a file, which may name another process by then).
 */
function asPostgres(): { uid?: number; gid?: number } {
  if (!isRoot()) return {};
  postgresUser ??= postgresIds();
  return { uid: postgresUser[0], gid: postgresUser[1] };
}
let postgresUser: [number, number] | undefined;

export interface LocalPostgres {
  url(database: string): string;
  /** The postmaster's process id (benchmarks read its CPU time). */
  pid(): number | undefined;
  stop(): Promise<void>;
}

export async function startLocalPostgres(
  dataDir: string,
  port: number,
  log: (line: string) => void = () => {},
  /** More server settings (`-c name=value`), after ours: a benchmark's comparison of commit settings, say. */
  settings: string[] = [],
) {
  const bin = findBinDir();
  const pgdata = clusterDir(dataDir, log);
  if (!existsSync(join(pgdata, 'PG_VERSION'))) {
    log(`initialising a PostgreSQL cluster in ${pgdata}`);
    const args = ['-D', pgdata, '-U', 'contacts', '--auth=trust', '-E', 'UTF8', '--no-sync'];
    try {
      execFileSync(join(bin, 'initdb'), args, {
        stdio: ['ignore', 'ignore', 'pipe'],
        cwd: dirname(pgdata),
        ...asPostgres(),
      });
    } catch (error) {
      const reason = String((error as { stderr?: Buffer }).stderr ?? '')
        .trim()
        .split('\n')
        .pop();
      throw new LocalPostgresError(`initdb -D ${pgdata} failed: ${reason || (error as Error).message}`);
    }
    writeFileSync(join(dataDir, '.gitignore'), '*\n');
  }
  // TCP on loopback only: no Unix socket, whose path would be too long in a deep folder.
  const args = [
    '-D',
    pgdata,
    '-p',
    String(port),
    '-c',
    'unix_socket_directories=',
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    'fsync=on',
    ...settings.flatMap((setting) => ['-c', setting]),
  ];
  const child: ChildProcess = spawn(join(bin, 'postgres'), args, {
    stdio: ['ignore', 'ignore', 'pipe'],
    cwd: dirname(pgdata),
    ...asPostgres(),
  });
  let stderr = '';
  child.stderr?.on('data', (chunk) => (stderr = (stderr + String(chunk)).slice(-2000)));
  const url = (database: string) => `postgresql://contacts@127.0.0.1:${port}/${database}`;
  await killOnFailure(
    () => [child],
    async () => {
      await waitUntilReady(url('postgres'), pgdata, child, () => stderr);
      await ensureDatabase(url('postgres'), 'contacts');
    },
  );
  return {
    url,
    pid: () => (running(child) ? child.pid : undefined),
    // "Fast" shutdown, clean and keeping the data. Through our child's handle: Node signals the pid only while the
    // child is unreaped, so only while that pid is still our postmaster.
    stop: () => stopChild(child, 'SIGINT'),
  };
}

/** Where the cluster's files are, made ready for the user PostgreSQL runs as. */
function clusterDir(dataDir: string, log: (line: string) => void): string {
  mkdirSync(dataDir, { recursive: true });
  if (!isRoot()) return join(dataDir, 'pgdata');
  const [uid, gid] = postgresIds();
  chownSync(dataDir, uid, gid);
  if (postgresCanWrite(dataDir)) return join(dataDir, 'pgdata');
  // The postgres user cannot reach the data folder (a clone in root's home, drwx------, say): the cluster lives
  // in a folder of the system, named after the data folder, which notes where it is. A data folder removed and
  // made again (to start from scratch) has no note: the cluster it left behind is removed too.
  const note = join(dataDir, 'cluster-location');
  let outside = existsSync(note) ? readFileSync(note, 'utf8').trim() : '';
  if (!outside) {
    const id = createHash('sha256').update(realpathSync(dataDir)).digest('hex').slice(0, 16);
    outside = join(SYSTEM_CLUSTERS_DIR, id);
    refuseIfInUse(outside);
    rmSync(outside, { recursive: true, force: true });
    writeFileSync(note, `${outside}\n`);
    log(`the postgres user cannot reach ${dataDir}: its cluster lives in ${outside} (noted in ${note})`);
  }
  mkdirSync(SYSTEM_CLUSTERS_DIR, { recursive: true, mode: 0o755 });
  chmodSync(SYSTEM_CLUSTERS_DIR, 0o755);
  mkdirSync(outside, { recursive: true, mode: 0o700 });
  chownSync(outside, uid, gid);
  return join(outside, 'pgdata');
}

const SYSTEM_CLUSTERS_DIR = '/var/lib/contacts';

/** A cluster some process runs on (its postmaster names it in its command line) is never removed. */
export function refuseIfInUse(clusterDir: string): void {
  const users = processesNaming(clusterDir);
  if (users.length > 0)
    throw new LocalPostgresError(
      `${clusterDir} is in use by process ${users.join(', ')}: not removing it (stop that run first)`,
    );
}

function postgresCanWrite(dir: string): boolean {
  try {
    execFileSync('test', ['-w', dir], { stdio: 'ignore', ...asPostgres() });
    return true;
  } catch {
    return false;
  }
}

function postgresIds(): [number, number] {
  try {
    const uid = Number(
      execFileSync('id', ['-u', 'postgres'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString(),
    );
    const gid = Number(
      execFileSync('id', ['-g', 'postgres'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString(),
    );
    return [uid, gid];
  } catch {
    throw new LocalPostgresError(
      'PostgreSQL refuses to run as root and there is no postgres user: run `apt-get install -y postgresql`',
    );
  }
}

/**
 * Once our server accepts connections. A server that answers on the port but runs on another data folder is
 * another stack's, which took the port first (ours then fails to bind): an error, never a server to go on with.
 */
async function waitUntilReady(url: string, pgdata: string, child: ChildProcess, stderr: () => string) {
  const until = Date.now() + 30_000;
  const ours = realpathSync(pgdata);
  for (;;) {
    if (!running(child))
      throw new LocalPostgresError(`PostgreSQL stopped: ${stderr().trim().split('\n').pop()}`);
    const client = new Client({ connectionString: url });
    let served: string;
    try {
      await client.connect();
      served = (await client.query<{ data_directory: string }>('SHOW data_directory')).rows[0].data_directory;
      await client.end();
    } catch {
      await client.end().catch(() => undefined);
      if (Date.now() > until) throw new LocalPostgresError(`PostgreSQL did not start: ${stderr().trim()}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
      continue;
    }
    if (served === ours || realpathOrSelf(served) === ours) return;
    throw new LocalPostgresError(
      `${url} is served by another PostgreSQL (data in ${served}), not by ours (${ours}): its port was taken`,
    );
  }
}

function realpathOrSelf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

export async function ensureDatabase(adminUrl: string, name: string): Promise<void> {
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE "${name.replace(/"/g, '')}"`);
  } finally {
    await client.end();
  }
}

export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${name.replace(/"/g, '')}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}
