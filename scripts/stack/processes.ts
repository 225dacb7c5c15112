import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { descendantsOf, processStartTime, running, stopChild } from '../../lib/processes';

const root = join(__dirname, '..', '..');

/**
 * One of this project's processes (the worker, the API) run as in production: `node --import tsx <script>` (or
 * `node <script>` for compiled JavaScript) with only the environment it is given. With `restartOnExit`, an exit nobody asked for (a crash, a start that
 * failed because Temporal was down) restarts it a second later, as a container's restart policy would.
 */
/**
 * How every worker process runs, as docker-compose.yml's worker does (docs/operations.md, "The worker's memory"):
 * V8's young generation held to 4 MiB semi-spaces (by default it grows to 16 MiB each under load and keeps them)
 * and glibc's malloc to two arenas (by default up to 8 per core, each keeping what it grew to). About 85-105 MiB
 * less RSS with 13,000 open tasks (docs/performance.md, 2026-12-07 20:13-20:21). And each V8 heap (the
 * activities' and the workflows' thread) let grow to 1.5 times what survived its last full collection before the
 * next one, where V8 by default lets it grow to about 3 times under a steady stream of work: during a burst of
 * openings both heaps held 2-3 times their live data in garbage, 575-639 MiB RSS, 330-357 MiB with this
 * (docs/performance.md, 2026-12-08 01:20-02:05).
 */
export const WORKER_NODE_ARGS = ['--max-semi-space-size=4', '--heap-growing-percent=50'];
export const WORKER_ENV = { MALLOC_ARENA_MAX: '2' };

export interface AppProcess {
  name: string;
  pid(): number | undefined;
  start(): void;
  /** SIGTERM, and wait for it to exit; for good: start() does nothing after it (a late restart would outlive the script). */
  stop(): Promise<void>;
  /** SIGTERM, and wait for it to exit, as a deployment stops a process it then starts again with start(). */
  terminate(): Promise<void>;
  /** SIGKILL, and wait for it to exit; not restarted until start(). */
  kill(): Promise<void>;
  /** SIGSTOP / SIGCONT: the process is frozen, its connections stay open. */
  pause(): void;
  resume(): void;
  /** How many exits nobody asked for it has had. */
  crashes(): number;
}

export function appProcess(
  name: string,
  script: string,
  env: NodeJS.ProcessEnv,
  options: {
    restartOnExit?: boolean;
    nodeArgs?: string[];
    log?: (line: string) => void;
    /** Where its output goes (appended, across restarts); by default stdout is dropped, stderr shown. */
    logFile?: string;
  } = {},
): AppProcess {
  let child: ChildProcess | undefined;
  let crashes = 0;
  let expectExit = false;
  let retired = false;
  const start = () => {
    if (retired) return;
    expectExit = false;
    const output = options.logFile ? openSync(options.logFile, 'a') : undefined;
    // Compiled JavaScript (npm run build's dist/) runs as production runs it, without the TypeScript loader.
    const loader = script.endsWith('.js') ? [] : ['--import', 'tsx'];
    const current = spawn(process.execPath, [...(options.nodeArgs ?? []), ...loader, script], {
      cwd: root,
      env,
      stdio: output === undefined ? ['ignore', 'ignore', 'inherit'] : ['ignore', output, output],
    });
    if (output !== undefined) closeSync(output); // the child has its own copy
    child = current;
    current.once('exit', (code, signal) => {
      if (expectExit || child !== current) return;
      crashes++;
      options.log?.(`${name} exited (${signal ?? code})${options.restartOnExit ? ': restarting it' : ''}`);
      if (options.restartOnExit) setTimeout(() => child === current && !expectExit && start(), 1000);
    });
  };
  const stopWith = async (signal: NodeJS.Signals) => {
    expectExit = true;
    await stopChild(child, signal);
  };
  return {
    name,
    pid: () => (running(child) ? child.pid : undefined),
    start,
    stop: () => {
      retired = true;
      return stopWith('SIGTERM');
    },
    terminate: () => stopWith('SIGTERM'),
    kill: () => stopWith('SIGKILL'),
    pause: () => void (running(child) && child.kill('SIGSTOP')),
    resume: () => void (running(child) && child.kill('SIGCONT')),
    crashes: () => crashes,
  };
}

/**
 * SIGKILLs every descendant of this process (then SIGCONT: a paused one acts on nothing until it runs), each only
 * if it is still the process found (same start time): a pid freed meanwhile may already name another engineer's process.
 */
export function killDescendants(): void {
  if (!existsSync('/proc')) return;
  // Each with its start time, noted before the first kill: a script interrupted while its stack is still starting
  // has nothing registered to stop yet, and must leave nothing behind.
  const found = descendantsOf(process.pid).map((pid) => ({ pid, started: processStartTime(pid) }));
  for (const { pid, started } of found) {
    for (const signal of ['SIGKILL', 'SIGCONT'] as const) {
      if (started === undefined || processStartTime(pid) !== started) break;
      try {
        process.kill(pid, signal);
      } catch {
        // gone already
      }
    }
  }
}
