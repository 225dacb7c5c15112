import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readMigrations } from '../../lib/migrate';
import { processesNaming } from '../../lib/processes';
import { cacheDir } from '../../lib/temporal-binaries';

/**
 * The many-open-tasks bench's data kept between runs (issue 13): seeding 100,000 open tasks takes an hour or more
 * on this machine, so it is done once, in chunks across runs, and measured on again and again. The folder holds the
 * app's PostgreSQL cluster and Temporal's data (the dev server's SQLite file, or its PostgreSQL cluster), and the
 * secrets the seeded workflows depend on (the key the codes are derived from).
 *
 * It is named after what the seeded histories and rows depend on: the workflow code (a changed workflow would not
 * replay them), the migrations (the schema), the code derivation, the kind of Temporal server and SEED_LAYOUT.
 * A change of any of them starts a new folder and removes the others. So does age: a task expires after
 * TASK_EXPIRY (7 days) and is reminded 2 days before, so a state older than KEPT_FOR_MS is seeded afresh rather
 * than measured while 100,000 reminders go out.
 */
const SEED_LAYOUT = 1; // bump when the bench seeds its open tasks differently (accounts, services, their names)
const KEPT_FOR_MS = 4 * 24 * 3600 * 1000;
const ROOT = () => join(cacheDir(), 'bench-open-tasks');
const REPO = join(__dirname, '..', '..');

export interface KeptState {
  dir: string;
  /** The app's secrets in that state: the seeded tasks' codes are derived from CODE_HASH_KEY. */
  secrets: { CODE_HASH_KEY: string; SESSION_SECRET: string };
  createdAt: Date;
  /** Made by this run (nothing seeded yet). */
  fresh: boolean;
}

function stateKey(temporalKind: string): string {
  const hash = createHash('sha256').update(`layout ${SEED_LAYOUT}\ntemporal ${temporalKind}\n`);
  const workflows = join(REPO, 'workflows');
  for (const file of readdirSync(workflows).sort())
    hash.update(file).update(readFileSync(join(workflows, file)));
  hash.update(readFileSync(join(REPO, 'lib', 'codes.ts')));
  for (const { name, checksum } of readMigrations()) hash.update(`${name} ${checksum}\n`);
  return hash.digest('hex').slice(0, 16);
}

/**
 * Removes a kept folder, with the PostgreSQL clusters that live outside it (lib/local-postgres.ts's note); not
 * while another run uses it (a process names the folder or one of its clusters: its dev server, its postmaster),
 * as another engineer's seeding on other code does: that run would lose its servers' data under them. Says
 * whether it removed it.
 */
function removeKept(dir: string, log: (line: string) => void): boolean {
  const notes = [join(dir, 'postgres'), join(dir, 'temporal-db')].map((d) => join(d, 'cluster-location'));
  const clusters = notes.filter((n) => existsSync(n)).map((note) => readFileSync(note, 'utf8').trim());
  const users = [dir, ...clusters].flatMap((path) => processesNaming(path));
  if (users.length > 0) {
    log(`  left in place: ${dir} is in use by process ${[...new Set(users)].join(', ')}`);
    return false;
  }
  for (const cluster of clusters) rmSync(cluster, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
  return true;
}

export function keptState(temporalKind: string, log: (line: string) => void): KeptState {
  const key = stateKey(temporalKind);
  const root = ROOT();
  const dir = join(root, key);
  const file = join(dir, 'state.json');
  if (existsSync(root)) {
    for (const other of readdirSync(root).filter((name) => name !== key)) {
      log(`removing kept open tasks of other code or schema: ${join(root, other)}`);
      removeKept(join(root, other), log);
    }
  }
  if (existsSync(file)) {
    const saved = JSON.parse(readFileSync(file, 'utf8')) as {
      secrets: KeptState['secrets'];
      createdAt: string;
    };
    const createdAt = new Date(saved.createdAt);
    if (Date.now() - createdAt.getTime() < KEPT_FOR_MS) {
      log(`reusing the open tasks kept in ${dir} (seeded from ${saved.createdAt})`);
      return { dir, secrets: saved.secrets, createdAt, fresh: false };
    }
    log(
      `the open tasks kept in ${dir} are from ${saved.createdAt}, too close to their reminders: seeding afresh`,
    );
  }
  if (existsSync(dir) && !removeKept(dir, log))
    throw new Error(`the open tasks kept in ${dir} are too old to measure on, and another run uses them`);
  const secrets = {
    CODE_HASH_KEY: randomBytes(32).toString('hex'),
    SESSION_SECRET: randomBytes(32).toString('hex'),
  };
  const createdAt = new Date();
  mkdirSync(dir, { recursive: true });
  writeFileSync(file, JSON.stringify({ secrets, createdAt: createdAt.toISOString() }, null, 2));
  log(`keeping the open tasks in ${dir} (kept for reuse by later runs; delete the folder to start over)`);
  return { dir, secrets, createdAt, fresh: true };
}
