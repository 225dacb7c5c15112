import type { MailFault } from '../../lib/mailbox';
import { aimAtMoveApply } from './move-faults';
import type { Random } from './random';
import type { SoakStack } from './stack';

export const FAULT_KINDS = [
  'killWorker',
  'killApi',
  'killTemporal',
  'stopPostgres',
  'smtpRefuse',
  'smtpHang',
  'pause',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** Mail faults do not make the API's dependencies unavailable: a 503 during one is not excused. */
const MAIL_FAULTS: FaultKind[] = ['smtpRefuse', 'smtpHang'];

export interface PlannedFault {
  kind: FaultKind;
  /** From the start of the load. */
  atMs: number;
  durationMs: number;
  /** The process hit (kill, pause), or the SMTP behaviour. */
  target: string;
  /** What the fault was aimed at when it struck (a worker kill in a move's apply: move-faults.ts). */
  note?: string;
}

export interface InjectedFault extends PlannedFault {
  /** Wall clock (ms since the epoch) when the fault began and when everything was back. */
  startedAt: number;
  endedAt: number;
  /** The API's PostgreSQL, Temporal or workers were out of reach: a 503 with Retry-After is expected then. */
  dependencyDown: boolean;
}

// Past the activities' 20 s start-to-close timeout and the workers' 10 s sticky timeout.
const PAST_TIMEOUTS: [number, number] = [22_000, 32_000];
const MAIL_FAULT_CODES = [421, 451, 550, 554];

function drawFault(random: Random, kind: FaultKind): Omit<PlannedFault, 'atMs'> {
  const ms = ([from, to]: [number, number]) => Math.round(random.between(from, to));
  switch (kind) {
    case 'killWorker':
      return { kind, target: random.pick(['worker-1', 'worker-2']), durationMs: ms([1000, 5000]) };
    case 'killApi':
      return { kind, target: 'api', durationMs: ms([1000, 3000]) };
    case 'killTemporal':
      return { kind, target: 'temporal', durationMs: ms([2000, 6000]) };
    case 'stopPostgres':
      return { kind, target: 'postgres', durationMs: ms([2000, 6000]) };
    case 'smtpRefuse':
      return { kind, target: `refuse ${random.pick(MAIL_FAULT_CODES)}`, durationMs: ms([5000, 15_000]) };
    case 'smtpHang':
      return { kind, target: random.pick(['unresponsive', 'afterData']), durationMs: ms(PAST_TIMEOUTS) };
    case 'pause':
      return {
        kind,
        target: random.pick(['worker-1', 'worker-2', 'api', 'temporal']),
        durationMs: ms(PAST_TIMEOUTS),
      };
  }
}

/**
 * The faults of a run, drawn from the seed before it starts: one at a time, at random moments (gaps drawn
 * around meanGapMs), all over before the load stops.
 */
export function planFaults(
  random: Random,
  settings: { loadMs: number; meanGapMs: number; kinds: readonly FaultKind[] },
): PlannedFault[] {
  const plan: PlannedFault[] = [];
  if (settings.kinds.length === 0) return plan;
  let at = 3000 + random.exponentialMs(1000 / settings.meanGapMs);
  for (;;) {
    const fault = { ...drawFault(random, random.pick(settings.kinds)), atMs: Math.round(at) };
    if (fault.atMs + fault.durationMs > settings.loadMs - 3000) return plan;
    plan.push(fault);
    at = fault.atMs + fault.durationMs + 2000 + random.exponentialMs(1000 / settings.meanGapMs);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** Runs the plan against the stack, from loadStart (wall clock); returns what was done and when. */
export async function injectFaults(
  stack: SoakStack,
  plan: PlannedFault[],
  loadStart: number,
  log: (line: string) => void,
): Promise<InjectedFault[]> {
  const done: InjectedFault[] = [];
  for (const planned of plan) {
    await sleep(loadStart + planned.atMs - Date.now());
    const fault = planned.kind === 'killWorker' ? await aimAtMoveApply(stack, planned) : planned;
    const startedAt = Date.now();
    log(`fault at ${((startedAt - loadStart) / 1000).toFixed(1)} s: ${describeFault(fault)}`);
    const end = await begin(stack, fault);
    await sleep(fault.durationMs);
    if (stack.isClosed()) break; // stopped meanwhile (a signal): bring nothing back
    await end();
    done.push({
      ...fault,
      startedAt,
      endedAt: Date.now(),
      dependencyDown: !MAIL_FAULTS.includes(fault.kind),
    });
  }
  return done;
}

export function describeFault(fault: PlannedFault): string {
  const seconds = `${(fault.durationMs / 1000).toFixed(1)} s`;
  switch (fault.kind) {
    case 'killWorker':
    case 'killApi':
    case 'killTemporal':
      return `SIGKILL ${fault.target}${fault.note ? ` ${fault.note}` : ''}, restarted after ${seconds}`;
    case 'stopPostgres':
      return `PostgreSQL stopped for ${seconds}`;
    case 'smtpRefuse': {
      const code = Number(fault.target.replace('refuse ', ''));
      return code >= 500
        ? `SMTP refuses every mail for good (${code}) for ${seconds}`
        : `SMTP refuses (${code}: try later) for ${seconds}`;
    }
    case 'smtpHang':
      return fault.target === 'afterData'
        ? `SMTP takes mail but withholds its 250 for ${seconds}`
        : `SMTP unresponsive for ${seconds}`;
    case 'pause':
      return `SIGSTOP ${fault.target} for ${seconds}, then SIGCONT`;
  }
}

/**
 * A 4xx refuses every session (a mail server down or busy: the app tries again later). A 5xx is a refusal for
 * good, which the app does not retry (the task shows "needs attention" and waits for a resend): it is given at
 * the end of each mail's data, as a content or policy filter gives it, so that the mailbox's log names the mail
 * refused and the checker can hold the app to it (scripts/soak/checker.ts).
 */
function refusalOf(code: number): MailFault {
  return code >= 500 ? { refuse: code, atEndOfData: true } : { refuse: code };
}

/** Starts the fault; resolves with what ends it. */
async function begin(stack: SoakStack, fault: PlannedFault): Promise<() => Promise<void>> {
  const process = (name: string) =>
    name === 'api' ? stack.api : stack.workers.find((worker) => worker.name === name)!;
  switch (fault.kind) {
    case 'killWorker':
    case 'killApi': {
      const victim = process(fault.target);
      await victim.kill();
      // The fault lasts until the new process serves again: its start takes seconds, more on a loaded machine.
      return async () => {
        victim.start();
        await stack.untilServing(victim);
      };
    }
    case 'killTemporal':
      await stack.temporal.kill();
      return () => stack.temporal.start();
    case 'stopPostgres':
      await stack.postgres.stop();
      return () => stack.postgres.start();
    case 'smtpRefuse':
    case 'smtpHang': {
      const mailFault: MailFault =
        fault.kind === 'smtpRefuse'
          ? refusalOf(Number(fault.target.replace('refuse ', '')))
          : { hang: fault.target as 'unresponsive' | 'afterData' };
      stack.mailbox.setFault(mailFault);
      return async () => stack.mailbox.setFault(undefined);
    }
    case 'pause': {
      if (fault.target === 'temporal') {
        stack.temporal.pause();
        return async () => stack.temporal.resume();
      }
      const victim = process(fault.target);
      victim.pause();
      return async () => victim.resume();
    }
  }
}
