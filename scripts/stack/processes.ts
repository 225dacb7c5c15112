import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

const running = (child: ChildProcess | undefined): child is ChildProcess =>
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
 * One of this project's processes (the worker, the API) run as in production: `node --import tsx <script>` with
 * only the environment it is given. With `restartOnExit`, an exit nobody asked for (a crash, a start that
 * failed because Temporal was down) restarts it a second later, as a container's restart policy would.
 */
export interface AppProcess {
  name: string;
  pid(): number | undefined;
  start(): void;
  /** SIGTERM, and wait for it to exit; not restarted. */
  stop(): Promise<void>;
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
  const start = () => {
    expectExit = false;
    const output = options.logFile ? openSync(options.logFile, 'a') : undefined;
    const current = spawn(process.execPath, [...(options.nodeArgs ?? []), '--import', 'tsx', script], {
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
    stop: () => stopWith('SIGTERM'),
    kill: () => stopWith('SIGKILL'),
    pause: () => void (running(child) && child.kill('SIGSTOP')),
    resume: () => void (running(child) && child.kill('SIGCONT')),
    crashes: () => crashes,
  };
}
