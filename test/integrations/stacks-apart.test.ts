import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { Client } from 'pg';
import { startLocalPostgres } from '../../lib/local-postgres';
import { freePort, releasePort, tryReservePort, untilListeningBy } from '../../lib/net';
import { killOnFailure, processStartTime, running } from '../../lib/processes';
import { startBaseStack, type BaseStack } from '../../scripts/stack/base';

/**
 * Several engineers run stacks (benches, soaks, tests) on one machine at once: a stack stops only what it started,
 * and two stacks never end up on one server. Last session a seeder's PostgreSQL got a fast shutdown and its
 * Temporal server went away while other engineers' benches tore down (docs/performance.md, 2026-12-07).
 */
const folders: string[] = [];
const children: ChildProcess[] = [];
const folder = (name: string) => {
  const dir = mkdtempSync(join(tmpdir(), `contacts-apart-${name}-`));
  folders.push(dir);
  return dir;
};
afterAll(() => {
  for (const child of children) if (running(child)) child.kill('SIGKILL');
  for (const dir of folders) rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function answers(url: string): Promise<boolean> {
  const client = new Client({ connectionString: url });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function closeBase(stack: BaseStack) {
  await stack.temporal.stop();
  await stack.mailbox.close();
  await stack.postgres.stop();
  rmSync(stack.dataDir, { recursive: true, force: true });
}

test('two stacks started at once get their own ports; stopping one leaves the other running', async () => {
  const [a, b] = await Promise.all(
    ['a', 'b'].map((name) => startBaseStack({ name: `apart-${name}`, log: () => undefined })),
  );
  try {
    const ports = (stack: BaseStack) => [
      new URL(stack.postgres.url).port,
      stack.temporal.address.split(':')[1],
      String(stack.apiPort),
      String(stack.mailbox.port),
    ];
    expect(new Set([...ports(a), ...ports(b)]).size).toBe(8);
    const bPostgres = b.postgres.pid()!;
    const bTemporal = b.temporal.pid()!;
    const started = [processStartTime(bPostgres), processStartTime(bTemporal)];

    await closeBase(a);

    expect(a.postgres.pid()).toBeUndefined();
    expect(a.temporal.pid()).toBeUndefined();
    await sleep(1000); // a signal sent astray takes effect at once; give it a moment all the same
    expect([processStartTime(bPostgres), processStartTime(bTemporal)]).toEqual(started);
    expect(await answers(b.postgres.url)).toBe(true);
    const connection = await Connection.connect({ address: b.temporal.address });
    try {
      const { namespaceInfo } = await connection.workflowService.describeNamespace({ namespace: 'default' });
      expect(namespaceInfo?.name).toBe('default');
    } finally {
      await connection.close();
    }
  } finally {
    await Promise.all([a, b].map((stack) => closeBase(stack).catch(() => undefined)));
  }
}, 240_000);

test('a stopped PostgreSQL is our own server, never the process its postmaster.pid names by then', async () => {
  const dir = folder('pidfile');
  const postgres = await startLocalPostgres(dir, await freePort());
  const decoy = spawn('sleep', ['600'], { stdio: 'ignore' });
  children.push(decoy);
  // What a stale file does once its pid names another process (pids come round within minutes here).
  const pidFile = join(dir, 'pgdata', 'postmaster.pid');
  const lines = readFileSync(pidFile, 'utf8').split('\n');
  writeFileSync(pidFile, [String(decoy.pid), ...lines.slice(1)].join('\n'));

  await postgres.stop();

  expect(postgres.pid()).toBeUndefined();
  await sleep(500);
  expect(running(decoy)).toBe(true);
}, 120_000);

test('a PostgreSQL whose port is taken fails to start; it never goes on with the server found there', async () => {
  const port = await freePort();
  const first = await startLocalPostgres(folder('first'), port);
  try {
    await expect(startLocalPostgres(folder('second'), port)).rejects.toThrow(
      /another PostgreSQL|PostgreSQL stopped/,
    );
    expect(await answers(first.url('contacts'))).toBe(true);
  } finally {
    await first.stop();
  }
}, 120_000);

test('a server is ready once it listens itself, not once another process answers on its port', async () => {
  const port = await freePort();
  const listen = `require('node:net').createServer().listen(${port}, '127.0.0.1')`;
  const holder = spawn(process.execPath, ['-e', listen], { stdio: 'ignore' });
  children.push(holder);
  await untilListeningBy(holder, port, 'the first server', 30_000);
  const late = spawn(process.execPath, ['-e', listen], { stdio: 'ignore' });
  children.push(late);
  await expect(untilListeningBy(late, port, 'the second server', 30_000)).rejects.toThrow(
    /exited .* held by another process/,
  );
  expect(running(holder)).toBe(true);
}, 60_000);

test('a start whose readiness check fails kills what it had spawned, and says why', async () => {
  const port = await freePort();
  // A server that never listens: the readiness check times out, as the Temporal servers' did (2026-12-08 02:41).
  const mute = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  children.push(mute);
  await expect(
    killOnFailure(
      () => [mute],
      () => untilListeningBy(mute, port, 'a mute server', 1_000),
    ),
  ).rejects.toThrow(/a mute server did not open port/);
  expect(running(mute)).toBe(false);
  expect(mute.signalCode).toBe('SIGKILL');
  releasePort(port);
}, 30_000);

test('a server listening on every address, IPv6 included, is found as ours (the Temporal Web UI does so)', async () => {
  const port = await freePort();
  // No host: Node, like the UI's Go server, listens on [::], which /proc shows in tcp6 only.
  const server = spawn(process.execPath, ['-e', `require('node:net').createServer().listen(${port})`], {
    stdio: 'ignore',
  });
  children.push(server);
  await untilListeningBy(server, port, 'a server on [::]', 10_000);
  expect(running(server)).toBe(true);
  server.kill('SIGKILL');
  releasePort(port);
}, 30_000);

test('a port reserved by a live process is not handed out again; one left by a process that is gone is', () => {
  // Ports below the ones freePort and freePortBetween hand out, with no reservation file: no other stack's.
  const reservations = join(tmpdir(), 'contacts-ports');
  const unreserved = () => {
    for (;;) {
      const port = 10_000 + Math.floor(Math.random() * 1_000);
      if (!existsSync(join(reservations, String(port)))) return port;
    }
  };
  const port = unreserved();
  expect(tryReservePort(port)).toBe(true);
  expect(tryReservePort(port)).toBe(false);
  releasePort(port);
  expect(existsSync(join(reservations, String(port)))).toBe(false);
  // One whose process is gone (a pid above pid_max) is taken over, so that such files do not pile up.
  const left = unreserved();
  writeFileSync(join(reservations, String(left)), '999999999 1\n');
  expect(tryReservePort(left)).toBe(true);
  expect(readFileSync(join(reservations, String(left)), 'utf8')).toMatch(new RegExp(`^${process.pid} `));
  releasePort(left);
});
