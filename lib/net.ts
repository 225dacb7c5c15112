import type { ChildProcess } from 'node:child_process';
import { linkSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { descendantsOf, listenerAmong, processStartTime, running, somethingListensOn } from './processes';

/**
 * Ports for servers that must know their URL before they listen. A port free now may be taken before the server
 * binds it (seconds on a loaded machine), or while a fault script has the server down; two stacks of this machine
 * (benches, soaks, tests of several engineers) must never get the same one. So each port handed out is also
 * reserved, machine-wide, by a file in RESERVATIONS naming this process (pid and start time), until releasePort
 * or this process's exit; the others skip it. A file whose process is gone is stale: the next taker removes it.
 */
const RESERVATIONS = join(tmpdir(), 'contacts-ports');
const reservedHere = new Set<number>();
let releasingAtExit = false;

/** A port free on loopback right now (the OS picks it), reserved for this process. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise((resolve) => probe.close(resolve));
    if (tryReservePort(port)) return port;
  }
  throw new Error('no free port that no other stack has reserved');
}

/** A free loopback port in [from, to), reserved for this process: for servers that store a port in a narrower type (Temporal: smallint). */
export async function freePortBetween(from: number, to: number): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = from + Math.floor(Math.random() * (to - from));
    const probe = createServer();
    const bound = await new Promise<boolean>((resolve) => {
      probe.once('error', () => resolve(false));
      probe.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (!bound) continue;
    await new Promise((resolve) => probe.close(resolve));
    if (tryReservePort(port)) return port;
  }
  throw new Error(`no free port between ${from} and ${to}`);
}

/**
 * Reserves the port for this process; false if another live process holds it. A reservation left by a process
 * that is gone (killed before it could release it: a test runner's worker, say) is removed and the port taken:
 * left alone, they would pile up run after run.
 */
export function tryReservePort(port: number): boolean {
  if (reservedHere.has(port)) return false;
  mkdirSync(RESERVATIONS, { recursive: true, mode: 0o1777 });
  const file = reservationFile(port);
  if (!createReservation(file)) {
    if (!removeIfStale(file) || !createReservation(file)) return false;
  }
  if (!releasingAtExit) process.once('exit', releaseAllPorts);
  releasingAtExit = true;
  reservedHere.add(port);
  return true;
}

function createReservation(file: string): boolean {
  try {
    writeFileSync(file, `${process.pid} ${processStartTime(process.pid) ?? ''}\n`, { flag: 'wx' });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return false;
  }
}

const ownerIsAlive = (content: string) => {
  const [pid, started] = content.trim().split(' ');
  const now = processStartTime(Number(pid));
  return now !== undefined ? now === started : isRunning(Number(pid));
};

/**
 * Removes the reservation if its process is gone. The file is first renamed away (one remover gets it), then read:
 * had another process taken the port over meanwhile, its reservation is put back.
 */
function removeIfStale(file: string): boolean {
  try {
    if (ownerIsAlive(readFileSync(file, 'utf8'))) return false;
    const aside = `${file}.${process.pid}`;
    renameSync(file, aside);
    const content = readFileSync(aside, 'utf8');
    if (ownerIsAlive(content)) {
      try {
        linkSync(aside, file);
      } catch {
        // a third process reserved it meanwhile: it holds the port
      }
      rmSync(aside, { force: true });
      return false;
    }
    rmSync(aside, { force: true });
    return true;
  } catch {
    return false; // released or taken meanwhile
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0); // signal 0: only asks whether the process exists
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Gives the port back (the stack that used it has stopped its server). */
export function releasePort(port: number): void {
  if (!reservedHere.delete(port)) return;
  rmSync(reservationFile(port), { force: true });
}

function releaseAllPorts() {
  for (const port of [...reservedHere]) releasePort(port);
}

const reservationFile = (port: number) => join(RESERVATIONS, String(port));

/** Resolves once something accepts connections on the loopback port; rejects after timeoutMs. */
export function waitForPort(port: number, what: string, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const socket = createConnection({ port, host: '127.0.0.1' });
      socket.once('connect', () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() > until) reject(new Error(`${what} did not open port ${port}`));
        else setTimeout(attempt, 250);
      });
    };
    attempt();
  });
}

/**
 * Resolves once `child` itself (or a process below it) listens on the port: not merely once something answers
 * there, which may be another stack's server that took the port first (then this child fails to bind and exits,
 * and this rejects, naming the port). Without /proc (not Linux), once the port answers while the child runs.
 */
export async function untilListeningBy(
  child: ChildProcess,
  port: number,
  what: string,
  timeoutMs = 60_000,
): Promise<void> {
  if (somethingListensOn(port) === undefined) {
    await waitForPort(port, what, timeoutMs);
    if (!running(child)) throw exitedError(child, port, what);
    return;
  }
  for (const until = Date.now() + timeoutMs; ; await new Promise((resolve) => setTimeout(resolve, 200))) {
    if (!running(child)) throw exitedError(child, port, what);
    if (child.pid !== undefined && listenerAmong(port, [child.pid, ...descendantsOf(child.pid)])) return;
    if (Date.now() > until) throw new Error(`${what} did not open port ${port} in ${timeoutMs / 1000} s`);
  }
}

function exitedError(child: ChildProcess, port: number, what: string) {
  const taken = somethingListensOn(port) ? ` (port ${port} is held by another process)` : '';
  return new Error(
    `${what} exited (${child.signalCode ?? child.exitCode}) before listening on ${port}${taken}`,
  );
}
