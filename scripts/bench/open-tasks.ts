import { setTimeout as sleep } from 'node:timers/promises';
import { contactChangeInput, startContactChange } from '../../api/contact-changes';
import { hashPassword } from '../../api/auth/passwords';
import { planContactChange } from '../../domain/contact-rules';
import { deriveCode } from '../../lib/codes';
import { taskQuery } from '../../workflows/contact-change.messages';
import { HttpSession, percentile, pool, PASSWORD } from './http';
import { ms, p50p99, runLevel } from './open-loop';
import { memoryMeter, mib, rssOf, type BenchStack, type CpuMeter } from './stack';
import { openSessions, seedStories, StoryLatencies, type StoryCast } from './stories';

/**
 * Many open tasks (issue 13): `count` real contact-change workflows started in bulk, each waiting for its two
 * validators, then stories on top of them, accepts of tasks long evicted from the worker's cache, and a worker
 * restart with all of them open.
 *
 * The bulk goes through the API's own start (same input, same workflow id, same options) from the same rule
 * table, without the HTTP request around it: the first workflow task of each opens the task in the read model
 * and mails the codes exactly as a request would. Their mail is taken by the SMTP sink but not kept (see
 * BULK_MAIL); the bench derives each validator's code from the key as the worker does.
 */
const BULK: StoryCast = { admin: 'ma', tech: 'mt', newbie: 'mn', service: 'many' };
const ON_TOP: StoryCast = { admin: 'sa', tech: 'st', newbie: 'sn', service: 'ontop' };
/** The bulk's services share this many admins, techs and newcomers (a person holds several services). */
const BULK_ACCOUNTS = 1000;
/** Accounts of the bulk, whose mail the mailbox does not keep. */
export const BULK_MAIL = /^m[atn]\d+@bench\.test$/;
/** Mails per bulk task at its creation: a code to each of the two validators, a notice to the old contact. */
const MAILS_PER_TASK = 3;
/**
 * Started workflows not yet through their first task, at most (BENCH_SEED_IN_FLIGHT): the start rate follows what
 * the stack takes. Enough to keep the worker's workflow task slots busy, few enough that a new workflow task finds
 * a poller waiting: a backlog of them is written to the Temporal server's database and read back (400 in flight
 * cost more CPU per task: docs/performance.md).
 */
const IN_FLIGHT = Number(process.env.BENCH_SEED_IN_FLIGHT ?? 64);
/** Accepts of evicted tasks beside the stories, at least (a p99 needs samples); more if there are more stories. */
const EVICTED_SAMPLE = 100;
const EVICTED_SPACING_MS = 1000;
/** Accepts after the restart, of tasks the stopped worker had in its cache. */
const AFTER_RESTART_SAMPLE = 50;
const ACCEPT_P99_TARGET_MS = 500;
const WORKER_RSS_TARGET = 500 * 1024 * 1024;

export interface SeedResult {
  /** Open tasks of the bulk before this run's seeding, and after it. */
  before: number;
  open: number;
  /** Started by this run, and how long that took until the last of them was through its first task. */
  started: number;
  seconds: number;
  /** CPU each part of the stack used meanwhile (what limits the seeding). */
  cpu: string;
  /** CPU seconds of the whole stack per task seeded by this run. */
  cpuPerTask: number;
}

export interface OpenTasksResult {
  seed: SeedResult;
  cacheSize: number;
  /** Each process's RSS after the bulk (its cache filled) / its peak during the stories on top. */
  memory: Record<string, { now: number; peak: number }>;
  temporalPostgresRss?: number;
  onTop: { perSecond: number; failed: number; latencies: StoryLatencies };
  evictedAccepts: number[];
  restart: {
    stopSeconds: number;
    pollingSeconds: number;
    firstAcceptSeconds: number;
    /** From the start until the accepts after it are answered as before it (see backToNormal). */
    normalSeconds: number;
    accepts: number[];
  };
}

/** The bulk's accounts (a person holds several services) and its services many-0 … many-(services-1). */
async function seedBulkServices(stack: BenchStack, services: number) {
  const passwordHash = await hashPassword(PASSWORD);
  await stack.db.$executeRawUnsafe(
    `INSERT INTO account (handle, email, password_hash)
     SELECT p || g || '-ovh', p || g || '@bench.test', $1
     FROM generate_series(0, ${BULK_ACCOUNTS - 1}) g, unnest(ARRAY['${BULK.admin}', '${BULK.tech}', '${BULK.newbie}']) p
     UNION ALL SELECT 'bi0-ovh', 'bi0@bench.test', $1
     ON CONFLICT (handle) DO NOTHING`,
    passwordHash,
  );
  await stack.db.$executeRawUnsafe(`
    INSERT INTO service (type, name, admin_id, tech_id, billing_id)
    SELECT 'domain', '${BULK.service}-' || g || '.bench',
           (SELECT id FROM account WHERE handle = '${BULK.admin}' || (g % ${BULK_ACCOUNTS}) || '-ovh'),
           (SELECT id FROM account WHERE handle = '${BULK.tech}' || (g % ${BULK_ACCOUNTS}) || '-ovh'),
           (SELECT id FROM account WHERE handle = 'bi0-ovh')
    FROM generate_series(0, ${services - 1}) g
    ON CONFLICT (name) DO NOTHING`);
}

const bulkPeople = (i: number) => ({
  admin: `${BULK.admin}${i % BULK_ACCOUNTS}-ovh`,
  tech: `${BULK.tech}${i % BULK_ACCOUNTS}-ovh`,
  newbie: `${BULK.newbie}${i % BULK_ACCOUNTS}-ovh`,
});
const bulkIndex = (serviceName: string) => Number(/-(\d+)\.bench$/.exec(serviceName)![1]);

/** Tasks of the bulk waiting for validation. */
async function openBulkTasks(stack: BenchStack): Promise<number> {
  const [{ n }] = await stack.db.$queryRawUnsafe<{ n: bigint }[]>(
    `SELECT count(*) AS n FROM contact_change_task
      WHERE service_name LIKE '${BULK.service}-%' AND state = 'validatingByCustomers'`,
  );
  return Number(n);
}

/**
 * Services of the bulk that never had a task, `count` of them, made if need be: a service whose task was accepted
 * (a run's accepts) has a new technical contact, and is not asked again.
 */
async function untouchedServices(stack: BenchStack, count: number) {
  const untouched = `SELECT s.id, s.name FROM service s
     WHERE s.name LIKE '${BULK.service}-%'
       AND NOT EXISTS (SELECT 1 FROM contact_change_task t WHERE t.service_id = s.id)`;
  const [{ n }] = await stack.db.$queryRawUnsafe<{ n: bigint }[]>(
    `SELECT count(*) AS n FROM service WHERE name LIKE '${BULK.service}-%'`,
  );
  const [{ free }] = await stack.db.$queryRawUnsafe<{ free: bigint }[]>(
    `SELECT count(*) AS free FROM (${untouched}) u`,
  );
  if (Number(free) < count) await seedBulkServices(stack, Number(n) + count - Number(free));
  const rows = await stack.db.$queryRawUnsafe<{ id: number; name: string }[]>(
    `${untouched} ORDER BY s.id LIMIT ${count}`,
  );
  return rows;
}

const sentCodeMails = async (stack: BenchStack, afterTaskId: number) =>
  Number(
    (
      await stack.db.$queryRawUnsafe<{ n: bigint }[]>(
        `SELECT count(*) AS n FROM sent_email WHERE task_id > ${afterTaskId} AND sent_at IS NOT NULL`,
      )
    )[0].n,
  );

/**
 * Brings the bulk up to `target` open tasks at the highest rate the stack sustains (a bounded number in flight),
 * with progress; starts no new one after `budgetMs` (the measurement lock's turn), and waits for those in flight.
 */
export async function seedOpenTasks(
  stack: BenchStack,
  log: (line: string) => void,
  options: { target: number; budgetMs: number; cpu: CpuMeter },
): Promise<SeedResult> {
  const before = await openBulkTasks(stack);
  const missing = Math.max(0, options.target - before);
  log(
    `many open tasks: ${before} open, starting up to ${missing} more (at most ${(options.budgetMs / 60_000).toFixed(0)} min)`,
  );
  const services = missing > 0 ? await untouchedServices(stack, missing) : [];
  const [{ last }] = await stack.db.$queryRawUnsafe<{ last: number | null }[]>(
    'SELECT max(id) AS last FROM contact_change_task',
  );
  const afterTaskId = last ?? 0;
  const cpuBefore = options.cpu.snapshot();
  let started = 0;
  let ready = 0;
  let startingDone = false;
  const started0 = performance.now();
  let lastLog = started0;
  let lastProgress = { at: started0, ready: 0 };
  const watching = (async () => {
    // Through its first task: its three mails sent. Done when every start is, or nothing moved for a minute
    // (a start that found a run from an interrupted seed already through it).
    while (!startingDone || ready < started) {
      await sleep(1000);
      ready = Math.floor((await sentCodeMails(stack, afterTaskId)) / MAILS_PER_TASK);
      const now = performance.now();
      if (ready > lastProgress.ready) lastProgress = { at: now, ready };
      else if (startingDone && now - lastProgress.at > 60_000) break;
      if (now - lastLog >= 10_000) {
        lastLog = now;
        const seconds = (now - started0) / 1000;
        log(
          `  … ${before + ready}/${options.target} open (${ready}/${started} of this run, ${(ready / seconds).toFixed(1)}/s), RSS: worker ${mib(rssOf(stack.workerPid()))}, Temporal ${mib(rssOf(stack.temporalPid()))}`,
        );
      }
    }
  })();
  await pool(
    () => undefined,
    services,
    32,
    async ({ id, name }) => {
      if (performance.now() - started0 > options.budgetMs) return;
      while (started - ready >= IN_FLIGHT) await sleep(50);
      started++;
      const { admin, tech, newbie } = bulkPeople(bulkIndex(name));
      const [task] = planContactChange({
        asker: admin,
        service: { contactAdmin: admin, contactTech: tech, contactBilling: 'bi0-ovh' },
        changes: { contactTech: newbie },
        accounts: new Map(
          [admin, tech, newbie, 'bi0-ovh'].map((handle) => [handle, { handle, billingStanding: 'good' }]),
        ),
        openTasks: [],
      });
      const input = contactChangeInput(stack.config, { id, type: 'domain', name }, admin, task);
      await startContactChange(stack.client, stack.config.TEMPORAL_TASK_QUEUE, input);
    },
  );
  startingDone = true;
  await watching;
  const seconds = (performance.now() - started0) / 1000;
  const cpuAfter = options.cpu.snapshot();
  const cpuSeconds = Object.keys(cpuBefore).reduce((sum, part) => sum + cpuAfter[part] - cpuBefore[part], 0);
  const open = await openBulkTasks(stack);
  const result = {
    before,
    open,
    started,
    seconds,
    cpu: options.cpu.used(cpuBefore, cpuAfter, seconds),
    cpuPerTask: started > 0 ? cpuSeconds / started : 0,
  };
  log(
    `  ${open}/${options.target} open; this run: ${started} in ${seconds.toFixed(0)} s (${(started / seconds).toFixed(1)}/s), ${(1000 * result.cpuPerTask).toFixed(0)} ms of CPU each; CPU: ${result.cpu}`,
  );
  return result;
}

/**
 * Accepts as `who`, each with what it takes (a session, the code), of the oldest open tasks of the bulk that no one
 * has decided yet: long out of the worker's cache (it holds the most recent ones), and not touched by a former run.
 */
async function bulkAccepts(
  stack: BenchStack,
  log: (line: string) => void,
  tasks: { id: number; workflowId: string; runId: string; serviceName: string }[],
  who: 'admin' | 'newbie',
) {
  const sessions = new Map<number, HttpSession>();
  const latencies: number[] = [];
  await pool(log, tasks, 4, async (task) => {
    const session = new HttpSession(stack.baseUrl, latencies);
    await session.login(bulkPeople(bulkIndex(task.serviceName))[who]);
    sessions.set(task.id, session);
  });
  return tasks.map((task) => {
    const handle = bulkPeople(bulkIndex(task.serviceName))[who];
    const code = deriveCode(stack.config.CODE_HASH_KEY, {
      workflowId: task.workflowId,
      runId: task.runId,
      taskId: task.id,
      handle,
      step: 'created',
    });
    const session = sessions.get(task.id)!;
    return async () => {
      const started = performance.now();
      await session.call('POST', `/1.0/me/task/contactChange/${task.id}/accept`, { token: code });
      return performance.now() - started;
    };
  });
}

async function undecidedBulkTasks(stack: BenchStack, count: number) {
  return stack.db.$queryRawUnsafe<{ id: number; workflowId: string; runId: string; serviceName: string }[]>(
    `SELECT t.id, t.workflow_id AS "workflowId", t.run_id AS "runId", t.service_name AS "serviceName"
       FROM contact_change_task t
      WHERE t.service_name LIKE '${BULK.service}-%' AND t.state = 'validatingByCustomers'
        AND NOT EXISTS (SELECT 1 FROM task_validator v WHERE v.task_id = t.id AND v.status <> 'pending')
      ORDER BY t.id LIMIT ${count}`,
  );
}

/**
 * With the bulk open: memory, stories on top at `storiesPerSecond` with as many accepts (at least 100) of tasks
 * long out of the worker's cache, then a worker restart (SIGTERM, a new process) and accepts after it.
 */
export async function runOnTop(
  stack: BenchStack,
  log: (line: string) => void,
  options: { seed: SeedResult; cacheSize: number; storiesPerSecond: number; seconds: number },
): Promise<OpenTasksResult> {
  const { seed, cacheSize } = options;
  await sleep(2000); // the last first tasks settle
  await fillCache(stack, log, cacheSize);
  const meter = memoryMeter(stack);
  const afterBulk = meter.read();
  const temporalPostgresRss = stack.temporalPostgresPid() ? rssOf(stack.temporalPostgresPid()) : undefined;

  // The oldest tasks: long out of a cache that holds the last `cacheSize` only (least recently used goes first).
  // Their accepts arrive beside the stories, at their rate or one a second if that is more.
  const storyCount = Math.max(1, Math.round(options.storiesPerSecond * options.seconds));
  const sample = Math.min(Math.max(storyCount, EVICTED_SAMPLE), Math.max(1, seed.open - cacheSize));
  const evicted = await undecidedBulkTasks(stack, sample);
  log(
    `  stories on top at ${options.storiesPerSecond.toFixed(2)}/s for ${options.seconds} s, with ${evicted.length} accepts of evicted tasks`,
  );
  const adminAccepts = await bulkAccepts(stack, log, evicted, 'admin');
  // A data folder kept between runs holds the stories of earlier runs: these come after them.
  const from = await stack.db.service.count({ where: { name: { startsWith: `${ON_TOP.service}-` } } });
  await seedStories(stack, ON_TOP, storyCount, from);
  const latencies = new StoryLatencies();
  const stories = Array.from({ length: storyCount }, (_, k) => from + k);
  const sessions = await openSessions(stack, log, ON_TOP, stories, latencies);
  meter.start();
  const evictedAccepts: number[] = [];
  const spacingMs = 1000 / options.storiesPerSecond;
  // At least one a second: on a starved machine the stories' rate may be a tenth of that, and 100 accepts would
  // then take a quarter of an hour.
  const acceptSpacingMs = Math.min(spacingMs, EVICTED_SPACING_MS);
  const [level] = await Promise.all([
    runLevel(stack, ON_TOP, sessions, stories, latencies, 0.5, options.storiesPerSecond),
    Promise.all(
      adminAccepts.map(async (accept, k) => {
        await sleep(acceptSpacingMs / 2 + k * acceptSpacingMs);
        evictedAccepts.push(await accept());
      }),
    ),
  ]);
  const duringStories = meter.read();
  const memory = Object.fromEntries(
    Object.entries(afterBulk).map(([part, { now }]) => [part, { now, peak: duringStories[part].peak }]),
  );

  // Restart with every task open: a new worker process has an empty cache; the accepts that follow replay. They
  // go one a second, as the evicted ones before, from the moment the new process polls.
  log('  restarting the worker');
  const newbieAccepts = await bulkAccepts(stack, log, evicted.slice(0, AFTER_RESTART_SAMPLE), 'newbie');
  const stopping = performance.now();
  await stack.stopWorker();
  const stopSeconds = (performance.now() - stopping) / 1000;
  const starting = performance.now();
  await stack.startWorker();
  const pollingSeconds = (performance.now() - starting) / 1000;
  const [first, ...rest] = newbieAccepts;
  const firstAccept = await first();
  const firstAcceptSeconds = (performance.now() - starting) / 1000;
  const answered: { at: number; ms: number }[] = [{ at: firstAcceptSeconds, ms: firstAccept }];
  await Promise.all(
    rest.map(async (accept, k) => {
      await sleep(k * acceptSpacingMs);
      const ms = await accept();
      answered.push({ at: (performance.now() - starting) / 1000, ms });
    }),
  );
  const normal = Math.max(percentile(evictedAccepts, 99), ACCEPT_P99_TARGET_MS);
  return {
    seed,
    cacheSize,
    memory,
    temporalPostgresRss,
    onTop: { perSecond: options.storiesPerSecond, failed: level.failed, latencies },
    evictedAccepts,
    restart: {
      stopSeconds,
      pollingSeconds,
      firstAcceptSeconds,
      normalSeconds: backToNormal(answered, normal),
      accepts: answered.map((a) => a.ms),
    },
  };
}

/**
 * A worker that has run a while holds a full cache: a worker just started (a run on kept tasks) is filled by a
 * query to each of the newest open tasks, which replays it into the cache, as the operators' view would.
 */
async function fillCache(stack: BenchStack, log: (line: string) => void, cacheSize: number) {
  const newest = await stack.db.$queryRawUnsafe<{ workflowId: string; runId: string }[]>(
    `SELECT workflow_id AS "workflowId", run_id AS "runId" FROM contact_change_task
      WHERE service_name LIKE '${BULK.service}-%' AND state = 'validatingByCustomers'
      ORDER BY id DESC LIMIT ${cacheSize}`,
  );
  const started = performance.now();
  await pool(log, newest, 8, async ({ workflowId, runId }) => {
    await stack.client.workflow.getHandle(workflowId, runId).query(taskQuery);
  });
  log(
    `  worker cache filled: ${newest.length} queries in ${((performance.now() - started) / 1000).toFixed(1)} s, worker RSS ${mib(rssOf(stack.workerPid()))}`,
  );
}

/**
 * Seconds from the new worker's start until the accepts are answered as before the restart: the answer of the
 * last accept slower than `normalMs` (the p99 of the evicted accepts before, or the target if higher); the first
 * answer's time if none was.
 */
function backToNormal(answered: { at: number; ms: number }[], normalMs: number): number {
  const slow = answered.filter((a) => a.ms > normalMs);
  return slow.length > 0 ? Math.max(...slow.map((a) => a.at)) : answered[0].at;
}

export function printOpenTasks(log: (line: string) => void, r: OpenTasksResult) {
  const { seed } = r;
  log(
    `\n| ${seed.open} open tasks (worker cache ${r.cacheSize} workflows) | value | target |\n| --- | --- | --- |`,
  );
  log(
    `| started in bulk by this run, each through its first task (read model + 3 mails) | ${seed.started} in ${seed.seconds.toFixed(0)} s (${(seed.started / Math.max(seed.seconds, 1e-9)).toFixed(1)}/s)${seed.before > 0 ? `, ${seed.before} open before` : ''} | |`,
  );
  if (seed.started > 0) {
    log(`| CPU per task seeded, whole stack | ${(1000 * seed.cpuPerTask).toFixed(0)} ms | |`);
    log(`| CPU during the bulk (2 cores = 200 %) | ${seed.cpu} | |`);
  }
  for (const [part, { now, peak }] of Object.entries(r.memory)) {
    const target = part === 'worker' ? `< 500 MiB: ${peak < WORKER_RSS_TARGET ? 'met' : 'missed'}` : '';
    log(
      `| ${part} RSS after the bulk / peak during the stories on top | ${mib(now)} / ${mib(peak)} | ${target} |`,
    );
  }
  if (r.temporalPostgresRss !== undefined)
    log(`| Temporal's PostgreSQL RSS after the bulk (postmaster) | ${mib(r.temporalPostgresRss)} | |`);
  const evictedP99 = percentile(r.evictedAccepts, 99);
  log(
    `| accept of ${seed.open > 2 * r.cacheSize ? 'an evicted task' : 'an old task (NOT surely evicted: fewer than twice the cache)'} (${r.evictedAccepts.length}, beside the stories), p50 / p99 | ${p50p99(r.evictedAccepts)} | p99 < ${ACCEPT_P99_TARGET_MS} ms: ${evictedP99 < ACCEPT_P99_TARGET_MS ? 'met' : 'missed'} |`,
  );
  const { latencies } = r.onTop;
  log(
    `| stories on top at ${r.onTop.perSecond.toFixed(2)}/s (failed: ${r.onTop.failed}): changeContact / accept / applied p99 | ${ms(percentile(latencies.of('changeContact'), 99))} / ${ms(percentile(latencies.of('accept'), 99))} / ${ms(percentile(latencies.apply, 99))} | |`,
  );
  log(
    `| worker restart: stop / start until polling / until the first accept answered / back to normal | ${r.restart.stopSeconds.toFixed(1)} s / ${r.restart.pollingSeconds.toFixed(1)} s / ${r.restart.firstAcceptSeconds.toFixed(1)} s / ${r.restart.normalSeconds.toFixed(1)} s | |`,
  );
  log(
    `| accepts after the restart (${r.restart.accepts.length}, one a second, empty cache), p50 / p99 | ${p50p99(r.restart.accepts)} | |`,
  );
}
