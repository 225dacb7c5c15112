import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/**
 * Whether a process we spawned still runs: neither exited nor ended by a signal. Node reaps its children, so a
 * child's handle (unlike a pid noted earlier) never names another process.
 */
export const running = (child: ChildProcess | undefined): child is ChildProcess =>
  child !== undefined && child.exitCode === null && child.signalCode === null;

/** Sends the signal and resolves once the process has exited (at once if it is not running). */
export async function stopChild(child: ChildProcess | undefined, signal: NodeJS.Signals): Promise<void> {
  if (!running(child)) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  child.kill('SIGCONT'); // a paused process only acts on the signal once it runs again
  await exited;
}

/**
 * Runs a start's `step` (readiness checks, set-up) and, if it throws, SIGKILLs the `children` the start spawned that
 * still run, waits for their exit, then rethrows: a start that fails half-way leaves nothing running behind it (a
 * readiness check that threw left the Temporal server's PostgreSQL and its Web UI running, 2026-12-08 02:41). Nothing of a failed start is
 * worth a clean stop. `children` is read after the failure, so that it names every child spawned until then.
 */
export async function killOnFailure<T>(
  children: () => (ChildProcess | undefined)[],
  step: () => Promise<T>,
): Promise<T> {
  try {
    return await step();
  } catch (error) {
    await Promise.all(children().map((child) => stopChild(child, 'SIGKILL')));
    throw error;
  }
}

/**
 * Who a process is, beyond its pid: pids come round again within minutes on a busy machine (pid_max 32768 and
 * about 300 new processes a second while tests run: measured 2026-12-08), so a pid noted earlier may name another
 * process now. The pid with the time the process started (in clock ticks since boot, /proc/<pid>/stat's 22nd
 * field) names one process for good. undefined when there is no such process, or no /proc (not Linux).
 */
export function processStartTime(pid: number): string | undefined {
  return statFields(pid)?.[19];
}

/**
 * The fields of /proc/<pid>/stat after "pid (comm) ": state(0) ppid(1) … utime(11) stime(12) cutime(13)
 * cstime(14) … starttime(19). comm may hold spaces and parentheses, hence the last ')'. undefined once the
 * process has ended (or without /proc).
 */
export function statFields(pid: number | string): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** The pids /proc lists, as its folder names (none without /proc: not Linux). */
export function procEntries(): string[] {
  try {
    return readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return [];
  }
}

/** The parent of each process, from /proc (empty without /proc). */
export function parentsOf(): Map<number, number> {
  const parents = new Map<number, number>();
  for (const entry of procEntries()) {
    const fields = statFields(entry); // undefined: exited meanwhile
    if (fields) parents.set(Number(entry), Number(fields[1]));
  }
  return parents;
}

/** The processes whose parent is `parent` (this process's own children, say), from /proc (none without it). */
export function childrenOf(parent: number): number[] {
  return [...parentsOf()].filter(([, of]) => of === parent).map(([pid]) => pid);
}

/** Every process below `root`, breadth first, from /proc (none without it). */
export function descendantsOf(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const [pid, parent] of parentsOf()) children.set(parent, [...(children.get(parent) ?? []), pid]);
  const found: number[] = [];
  for (let queue = [root]; queue.length > 0;) {
    const next = children.get(queue.shift()!) ?? [];
    found.push(...next);
    queue.push(...next);
  }
  return found;
}

/** The processes whose command line names `path` (a data folder a server runs on), from /proc. */
export function processesNaming(path: string): number[] {
  const found: number[] = [];
  for (const entry of procEntries()) {
    try {
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (args.some((arg) => arg === path || arg.startsWith(`${path}/`))) found.push(Number(entry));
    } catch {
      // exited meanwhile, or not ours to read
    }
  }
  return found;
}

/**
 * The process that listens on 127.0.0.1:port (or any address) over TCP, from /proc: the socket's inode in
 * /proc/net/tcp, then the process holding it among `candidates`' open files. undefined if none of them does (or
 * nothing listens there, or no /proc).
 */
export function listenerAmong(port: number, candidates: number[]): number | undefined {
  const inodes = listeningInodes(port);
  if (inodes.size === 0) return undefined;
  for (const pid of candidates) {
    try {
      for (const fd of readdirSync(`/proc/${pid}/fd`)) {
        const target = safeReadlink(`/proc/${pid}/fd/${fd}`);
        const inode = /^socket:\[(\d+)\]$/.exec(target ?? '')?.[1];
        if (inode && inodes.has(inode)) return pid;
      }
    } catch {
      // exited meanwhile
    }
  }
  return undefined;
}

/**
 * Whether anything listens on the port over TCP, IPv4 or IPv6 (from /proc/net/tcp and tcp6; undefined without
 * them). A Go server given only a port (the Temporal Web UI) listens on [::], which shows in tcp6 alone.
 */
export function somethingListensOn(port: number): boolean | undefined {
  try {
    readFileSync('/proc/net/tcp', 'utf8');
  } catch {
    return undefined;
  }
  return listeningInodes(port).size > 0;
}

const LISTEN = '0A';

function listeningInodes(port: number): Set<string> {
  const inodes = new Set<string>();
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10) continue;
      if (fields[1].endsWith(`:${hexPort}`) && fields[3] === LISTEN) inodes.add(fields[9]);
    }
  }
  return inodes;
}

function safeReadlink(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}
