import { hashPassword } from '../../api/auth/passwords';
import type { Db } from '../../lib/db';
import { parseDuration } from '../../lib/duration';
import { check, INVARIANTS, type CheckResult, type Invariant } from './checker';
import {
  describeFault,
  FAULT_KINDS,
  injectFaults,
  planFaults,
  type FaultKind,
  type InjectedFault,
} from './faults';
import { emailOf, LoadGenerator, PASSWORD, STORY_KINDS, storyParties, type StoryKind } from './load';
import { seedMoveStory, soakPasswordHash } from './moves';
import { Random } from './random';
import { startSoakStack, type SoakStack } from './stack';

export interface SoakOptions {
  seed: number;
  durationMs: number;
  /** New customer stories per second (open loop). */
  rate: number;
  temporalOnPostgres: boolean;
  faultKinds: readonly FaultKind[];
  meanFaultGapMs: number;
  /** The app's own settings, compressed so that tasks expire within the run. */
  taskExpiry: string;
  reminderBeforeExpiry: string;
  resendMinInterval: string;
  /** SOAK_STORIES: only these story kinds (by their weights in the mix); undefined: all. */
  storyKinds?: readonly StoryKind[];
  /** Items per transaction of a move's apply (the app's MOVE_APPLY_CHUNK_SIZE). */
  moveApplyChunkSize: string;
  log: (line: string) => void;
}

export interface SoakReport {
  seed: number;
  faults: InjectedFault[];
  stories: number;
  /** Stories started, by kind (the load's mix as drawn). */
  storiesByKind: Record<string, number>;
  requests: number;
  loadSeconds: number;
  result: CheckResult;
  violations: number;
  /** Seconds spent starting the stack, under load, draining, checking. */
  phases: Record<string, number>;
}

/** SOAK_* variables, with the defaults of `npm run soak`: 10 minutes, 2 stories a second, every fault. */
export function soakOptionsFromEnv(env: NodeJS.ProcessEnv, log: (line: string) => void): SoakOptions {
  const kinds =
    env.SOAK_FAULTS === 'none'
      ? []
      : env.SOAK_FAULTS
        ? env.SOAK_FAULTS.split(',').map((kind) => kind.trim())
        : [...FAULT_KINDS];
  const unknown = kinds.filter((kind) => !(FAULT_KINDS as readonly string[]).includes(kind));
  if (unknown.length)
    throw new Error(`SOAK_FAULTS: unknown ${unknown.join(', ')} (known: ${FAULT_KINDS.join(', ')})`);
  const duration = (name: string, fallback: string) => {
    const ms = parseDuration(env[name] ?? fallback);
    if (!ms) throw new Error(`${name}: "${env[name]}" is not a duration such as 60s or 10m`);
    return ms;
  };
  const storyKinds = env.SOAK_STORIES?.split(',').map((kind) => kind.trim());
  const unknownStories = storyKinds?.filter((kind) => !(STORY_KINDS as readonly string[]).includes(kind));
  if (unknownStories?.length)
    throw new Error(`SOAK_STORIES: unknown ${unknownStories.join(', ')} (known: ${STORY_KINDS.join(', ')})`);
  const rate = Number(env.SOAK_RATE ?? 2);
  if (!(rate > 0))
    throw new Error(`SOAK_RATE: "${env.SOAK_RATE}" is not a positive number of stories per second`);
  return {
    seed: env.SOAK_SEED ? Number(env.SOAK_SEED) : Math.floor(Math.random() * 2 ** 31),
    durationMs: duration('SOAK_DURATION', '10m'),
    rate,
    temporalOnPostgres: env.SOAK_TEMPORAL === 'postgres',
    faultKinds: kinds as FaultKind[],
    meanFaultGapMs: duration('SOAK_FAULT_GAP', '20s'),
    taskExpiry: env.TASK_EXPIRY ?? '60s',
    reminderBeforeExpiry: env.REMINDER_BEFORE_EXPIRY ?? '20s',
    resendMinInterval: env.RESEND_MIN_INTERVAL ?? '2s',
    moveApplyChunkSize: env.MOVE_APPLY_CHUNK_SIZE ?? '5',
    storyKinds: storyKinds as StoryKind[] | undefined,
    log,
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Whatever may still be in flight: the time a task may wait for its expiry, and a minute for the mails after it. */
const afterExpiryMs = (options: SoakOptions) => parseDuration(options.taskExpiry)! + 60_000;

/** The stacks of the runs in progress: a signal stops them (scripts/soak/index.ts) instead of leaving orphans. */
const runningStacks = new Set<SoakStack>();
export async function stopRunningSoaks(): Promise<void> {
  await Promise.all([...runningStacks].map((stack) => stack.close()));
}

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const { log, seed } = options;
  const phases = new PhaseClock(log);
  const temporalKind = options.temporalOnPostgres
    ? 'Temporal server on PostgreSQL'
    : 'Temporal dev server (SQLite)';
  log(
    `soak: seed ${seed}, ${options.durationMs / 1000} s at ${options.rate} stories/s, ${temporalKind}, ` +
      `2 worker processes, the API process; TASK_EXPIRY ${options.taskExpiry}, faults: ${options.faultKinds.join(', ') || 'none'}`,
  );
  // Two streams from the seed: changing the rate does not move the faults.
  const faultPlan = planFaults(new Random(seed * 2 + 1), {
    loadMs: options.durationMs,
    meanGapMs: options.meanFaultGapMs,
    kinds: options.faultKinds,
  });
  const loadRandom = new Random(seed * 2);
  const stack = await startSoakStack({
    temporalOnPostgres: options.temporalOnPostgres,
    appSettings: {
      TASK_EXPIRY: options.taskExpiry,
      REMINDER_BEFORE_EXPIRY: options.reminderBeforeExpiry,
      RESEND_MIN_INTERVAL: options.resendMinInterval,
      TEMPORAL_SEARCH_ATTRIBUTES: 'on',
      // Small chunks: a move of a few hundred services applies in seconds, long enough for a fault to hit it.
      MOVE_APPLY_CHUNK_SIZE: options.moveApplyChunkSize,
    },
    log,
  });
  runningStacks.add(stack);
  try {
    await observeContactChanges(stack.db);
    const capacity = LoadGenerator.capacity(options.rate, options.durationMs);
    await seedStories(stack.db, capacity, loadRandom);
    phases.end('stack start', `${capacity} customer stories seeded; ${faultPlan.length} faults planned`);
    const generator = new LoadGenerator({
      baseUrl: stack.baseUrl,
      mailbox: stack.mailbox,
      random: loadRandom,
      rate: options.rate,
      loadMs: options.durationMs,
      resendMinIntervalMs: parseDuration(options.resendMinInterval)!,
      afterLoadMs: afterExpiryMs(options) + 30_000,
      storyKinds: options.storyKinds,
      seedMoveStory: async (plan) => seedMoveStory(stack.db, plan, await soakPasswordHash(PASSWORD)),
      log,
    });
    const loadStart = Date.now();
    log(`load starts at ${new Date(loadStart).toISOString()}`);
    const progress = setInterval(() => {
      const open = generator.stories.filter((story) => story.endedAt === undefined).length;
      log(
        `  … ${Math.round((Date.now() - loadStart) / 1000)} s: ${generator.stories.length} stories, ${open} in play, ${generator.attempts.length} requests`,
      );
    }, 15_000);
    const [faults] = await Promise.all([
      injectFaults(stack, faultPlan, loadStart, log),
      generator.run(loadStart),
    ]);
    clearInterval(progress);
    const loadSeconds = (Date.now() - loadStart) / 1000;
    phases.end('load', `${options.durationMs / 1000} s of arrivals, then the last stories played out`);
    await drain(stack, afterExpiryMs(options), log);
    phases.end('drain', 'every task ended and its workflow closed');
    const result = await check({
      db: stack.db,
      client: stack.client,
      mails: stack.mailbox.messages(),
      refusals: stack.mailbox.refusals(),
      stories: generator.stories,
      attempts: generator.attempts,
      faults,
      askerSessions: generator.askerSessions,
    });
    phases.end('checker');
    const report: SoakReport = {
      seed,
      faults,
      stories: generator.stories.length,
      storiesByKind: countBy(generator.stories.map((story) => story.kind)),
      requests: generator.attempts.length,
      loadSeconds,
      result,
      violations: Object.values(result.violations).reduce((sum, lines) => sum + lines.length, 0),
      phases: phases.seconds,
    };
    printReport(report, options, loadStart, log);
    log(`worker and API logs: ${stack.logDir}`);
    return report;
  } finally {
    runningStacks.delete(stack);
    await stack.close();
  }
}

/** How long each phase of the run took, logged as it ends: where a slow run spends its time. */
class PhaseClock {
  readonly seconds: Record<string, number> = {};
  private last = Date.now();
  constructor(private readonly log: (line: string) => void) {}
  end(phase: string, what?: string) {
    const now = Date.now();
    this.seconds[phase] = Math.round((now - this.last) / 100) / 10;
    this.last = now;
    this.log(`${phase}: ${this.seconds[phase].toFixed(1)} s${what ? ` (${what})` : ''}`);
  }
}

/** A row per write of a service's contacts, by a trigger of the soak's own: applications counted from outside. */
async function observeContactChanges(db: Db) {
  await db.$executeRawUnsafe(`CREATE TABLE soak_observed_contact_change (
    id bigserial PRIMARY KEY, service_id int NOT NULL, old_tech int, new_tech int,
    old_admin int, new_admin int, old_billing int, new_billing int, at timestamptz DEFAULT clock_timestamp())`);
  await db.$executeRawUnsafe(`CREATE FUNCTION soak_observe() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
    INSERT INTO soak_observed_contact_change (service_id, old_tech, new_tech, old_admin, new_admin, old_billing, new_billing)
      VALUES (OLD.id, OLD.tech_id, NEW.tech_id, OLD.admin_id, NEW.admin_id, OLD.billing_id, NEW.billing_id);
    RETURN NEW; END $$`);
  await db.$executeRawUnsafe(`CREATE TRIGGER soak_observe AFTER UPDATE OF admin_id, tech_id, billing_id ON service
    FOR EACH ROW EXECUTE FUNCTION soak_observe()`);
}

/** Each story's accounts (admin, tech, newcomer, in a drawn language) and service. */
async function seedStories(db: Db, count: number, random: Random) {
  const passwordHash = await hashPassword(PASSWORD);
  const languages = ['es', 'en', 'fr'] as const;
  const parties = Array.from({ length: count }, (_, i) => storyParties(i));
  await db.account.createMany({
    data: parties.flatMap((p) =>
      [p.admin, p.tech, p.newcomer].map((handle) => ({
        handle,
        email: emailOf(handle),
        language: random.pick(languages),
        passwordHash,
      })),
    ),
  });
  const ids = new Map(
    (await db.account.findMany({ select: { id: true, handle: true } })).map((a) => [a.handle, a.id]),
  );
  await db.service.createMany({
    data: parties.map((p) => ({
      name: p.service,
      type: 'domain',
      adminId: ids.get(p.admin)!,
      techId: ids.get(p.tech)!,
      billingId: ids.get(p.admin)!,
    })),
  });
}

/** Until every task is in a final state and every workflow closed (its last mails out), or the time is up. */
async function drain(stack: SoakStack, timeoutMs: number, log: (line: string) => void) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const open =
      (await stack.db.contactChangeTask.count({
        where: { state: { notIn: ['done', 'refused', 'expired', 'aborted', 'error'] } },
      })) +
      (await stack.db.contactMove.count({ where: { state: { in: ['checking', 'todo', 'applying'] } } }));
    const { count } = await stack.client.workflowService.countWorkflowExecutions({
      namespace: 'default',
      query: `(WorkflowType = 'contactChange' OR WorkflowType = 'contactMove') AND ExecutionStatus = 'Running'`,
    });
    const running = Number(String(count)); // a Long
    if ((open === 0 && running === 0) || Date.now() > until) {
      if (open || running) log(`gave up waiting: ${open} tasks open, ${running} workflows running`);
      break;
    }
    await sleep(2000);
  }
  await sleep(2000); // mails whose answer a fault held back
}

function printReport(
  report: SoakReport,
  options: SoakOptions,
  loadStart: number,
  log: (line: string) => void,
) {
  const { result } = report;
  log('');
  const clock = (ms: number) => new Date(ms).toISOString().slice(11, 23);
  log(`| fault (seed ${report.seed}) | at (s into the load) | from – to (UTC) |`);
  log('| --- | --- | --- |');
  for (const fault of report.faults) {
    const at = ((fault.startedAt - loadStart) / 1000).toFixed(1);
    log(`| ${describeFault(fault)} | ${at} | ${clock(fault.startedAt)} – ${clock(fault.endedAt)} |`);
  }
  log('');
  log(`| load | value |`);
  log('| --- | --- |');
  log(
    `| customer stories started (open loop, ${options.rate}/s asked) | ${report.stories} in ${options.durationMs / 1000} s of arrivals (${(report.stories / (options.durationMs / 1000)).toFixed(2)}/s) |`,
  );
  log(
    `| stories by kind | ${Object.entries(report.storiesByKind)
      .map(([kind, n]) => `${kind} ${n}`)
      .join(', ')} |`,
  );
  log(
    `| API requests (retries included) | ${report.requests} in ${report.loadSeconds.toFixed(0)} s: ${(report.requests / report.loadSeconds).toFixed(2)} operations/s |`,
  );
  log(
    `| time per phase (s) | ${Object.entries(report.phases)
      .map(([phase, seconds]) => `${phase} ${seconds.toFixed(0)}`)
      .join(', ')} |`,
  );
  log(
    `| tasks by final state | ${Object.entries(result.statesSeen)
      .map(([state, n]) => `${state} ${n}`)
      .join(', ')} |`,
  );
  log(
    `| moves by final state | ${
      Object.entries(result.moves.statesSeen)
        .map(([state, n]) => `${state} ${n}`)
        .join(', ') || 'none'
    }; ${result.moves.itemsApplied} items applied |`,
  );
  const applies = [...result.moves.applySeconds].sort((x, y) => x - y);
  log(
    `| move applies (moveApplying → moveApplied) | ${applies.length}${applies.length ? `: median ${applies[Math.floor(applies.length / 2)].toFixed(1)} s, longest ${applies[applies.length - 1].toFixed(1)} s, ${result.moves.appliesUnderFault.length} while a fault struck` : ''} |`,
  );
  for (const line of result.moves.appliesUnderFault) log(`  ${line}`);
  log('');
  log('| invariant | violations |');
  log('| --- | --- |');
  for (const [key, text] of Object.entries(INVARIANTS))
    log(`| ${text} | ${result.violations[key as Invariant].length} |`);
  log(
    `| the same mail delivered again (same Message-ID and content: a mailbox shows it once; target 0, not a violation) | ${result.resentCopies.length} |`,
  );
  log(
    `| mails the mail server refused for good, the task saying so (needs attention; not a violation) | ${result.refusedAndSaid} |`,
  );
  log(
    `| requests retried after the task or move their first try made had ended, so a new one (documented; not a violation) | ${result.newAfterEnd.length} |`,
  );
  log(
    `| logins shed by the API (503 busy with Retry-After: at most 4 password hashes at once; not a violation) | ${result.shedLogins.length} |`,
  );
  for (const [key, lines] of Object.entries(result.violations)) {
    for (const line of lines.slice(0, 10)) log(`  ${key}: ${line}`);
    if (lines.length > 10) log(`  ${key}: … ${lines.length - 10} more`);
  }
  for (const line of result.resentCopies.slice(0, 10)) log(`  same mail again: ${line}`);
  for (const line of result.newAfterEnd.slice(0, 10)) log(`  new after an end: ${line}`);
  log('');
  log(
    report.violations === 0
      ? `soak passed (seed ${report.seed})`
      : `soak FAILED: ${report.violations} violations (seed ${report.seed}; SOAK_SEED=${report.seed} plays the same load and faults)`,
  );
}

function countBy(keys: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const key of keys) counts[key] = (counts[key] ?? 0) + 1;
  return counts;
}
