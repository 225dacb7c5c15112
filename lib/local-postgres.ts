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
import { join } from 'node:path';
import { Client } from 'pg';

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

/** PostgreSQL refuses to run as root: run its programs as the postgres user then. */
function asPostgres(command: string, args: string[]): [string, string[]] {
  return isRoot() ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
}

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
    const [cmd, args] = asPostgres(join(bin, 'initdb'), [
      '-D',
      pgdata,
      '-U',
      'contacts',
      '--auth=trust',
      '-E',
      'UTF8',
      '--no-sync',
    ]);
    try {
      execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
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
  const [cmd, args] = asPostgres(join(bin, 'postgres'), [
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
  ]);
  const child: ChildProcess = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk) => (stderr = (stderr + String(chunk)).slice(-2000)));
  const url = (database: string) => `postgresql://contacts@127.0.0.1:${port}/${database}`;
  await waitUntilReady(url('postgres'), child, () => stderr);
  await ensureDatabase(url('postgres'), 'contacts');
  const pidFile = join(pgdata, 'postmaster.pid');
  const pid = () => (existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').split('\n')[0]) : child.pid);
  return {
    url,
    pid,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        // "Fast" shutdown, clean and keeping the data; signal the postmaster itself, as runuser may not relay it.
        const postmaster = pid();
        if (postmaster) process.kill(postmaster, 'SIGINT');
      }),
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

function postgresCanWrite(dir: string): boolean {
  try {
    execFileSync('runuser', ['-u', 'postgres', '--', 'test', '-w', dir], { stdio: 'ignore' });
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

async function waitUntilReady(url: string, child: ChildProcess, stderr: () => string) {
  const until = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new LocalPostgresError(`PostgreSQL stopped: ${stderr().trim().split('\n').pop()}`);
    const client = new Client({ connectionString: url });
    try {
      await client.connect();
      await client.end();
      return;
    } catch {
      await client.end().catch(() => undefined);
      if (Date.now() > until) throw new LocalPostgresError(`PostgreSQL did not start: ${stderr().trim()}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
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
