import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalPostgres, type LocalPostgres } from '../../lib/local-postgres';
import { freePort, releasePort } from '../../lib/net';
import { childrenOf } from '../../lib/processes';
import { startTemporalCluster, temporalClusterBuilt } from '../../lib/temporal-cluster';
import { contactsOf, createAccounts, createService } from '../helpers/fixtures';
import { askTechChange, codeFor, endedTask, login } from '../helpers/http';
import { startStack, type Stack } from '../helpers/stack';

/**
 * The Temporal server on PostgreSQL with its Web UI (lib/temporal-cluster.ts), as `npm run distributed` and
 * BENCH_TEMPORAL=postgres start it. Until this file no test started it, and a start that failed on every machine
 * (the Web UI's readiness, which missed IPv6 listeners: 97e8217) passed CI. Built once per machine by go install
 * (`npm run temporal:install-cluster`, which the test command runs first).
 */
const dataDir = mkdtempSync(join(tmpdir(), 'contacts-temporal-pg-'));
chmodSync(dataDir, 0o755); // PostgreSQL runs as its own user below it
let postgres: LocalPostgres;
let postgresPort: number;
const log = (line: string) => lines.push(line);
let lines: string[] = [];

/** The processes this test process started that still run, beside the ones it had before (its PostgreSQL). */
const startedSince = (before: number[]) => childrenOf(process.pid).filter((pid) => !before.includes(pid));

beforeAll(() => {
  if (!temporalClusterBuilt())
    throw new Error('the Temporal server on PostgreSQL is not built: npm run temporal:install-cluster');
});
// A database of its own for each test: a server started on the database of one that was killed finds the dead
// one still in its cluster's membership and routes to it until that ages out (the first workflow task came after
// more than TASK_REGISTRATION_TIMEOUT, 30 s, in CI on 2026-12-08).
beforeEach(async () => {
  lines = [];
  postgresPort = await freePort();
  postgres = await startLocalPostgres(
    join(dataDir, expect.getState().currentTestName!.replace(/\W+/g, '-')),
    postgresPort,
  );
}, 60_000);
afterEach(async () => {
  await postgres?.stop();
  releasePort(postgresPort);
});
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

test('a start that fails half-way stops the server it had started', async () => {
  // The Web UI's port held by another listener: the UI exits at once, after the server and its namespace are up.
  const uiPort = await freePort();
  const holder: Server = createServer();
  await new Promise<void>((resolve) => holder.listen(uiPort, resolve));
  const before = childrenOf(process.pid);
  try {
    await expect(startTemporalCluster({ postgres, postgresPort, log, uiPort })).rejects.toThrow(
      /Temporal Web UI exited .* held by another process/,
    );
    expect(startedSince(before)).toEqual([]);
  } finally {
    await new Promise((resolve) => holder.close(resolve));
    releasePort(uiPort);
  }
}, 120_000);

test('a contact change runs through it, its Web UI answers, and its stop leaves nothing running', async () => {
  const before = childrenOf(process.pid);
  const cluster = await startTemporalCluster({ postgres, postgresPort, log });
  let stack: Stack | undefined;
  try {
    expect((await fetch(cluster.uiUrl)).status).toBe(200);
    stack = await startStack({ temporal: { address: cluster.address } });
    const [admin, tech, newbie] = ['ad1-ovh', 'te2-ovh', 'ne3-ovh'];
    await createAccounts(stack.database.db, [{ handle: admin }, { handle: tech }, { handle: newbie }]);
    await createService(stack.database.db, { name: 'pg.example', admin, tech, billing: tech });

    const asAdmin = await login(stack, admin);
    const id = await askTechChange(asAdmin, 'pg.example', newbie);
    const asNewbie = await login(stack, newbie);
    for (const [session, handle] of [
      [asAdmin, admin],
      [asNewbie, newbie],
    ] as const) {
      const token = await codeFor(stack, handle, id);
      await session.post(`/1.0/me/task/contactChange/${id}/accept`, { token }).expect(200);
    }

    expect((await endedTask(stack, asAdmin, id)).state).toBe('done');
    expect(await contactsOf(stack.database.db, 'pg.example')).toEqual({ admin, tech: newbie, billing: tech });
  } finally {
    await stack?.teardown();
    await cluster.stop();
  }
  expect(cluster.serverPid()).toBeUndefined();
  expect(startedSince(before)).toEqual([]);
  expect(lines.filter((line) => / exited /.test(line))).toEqual([]);
}, 180_000);
