import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { temporal } from '@temporalio/proto';
import { hashPassword } from '../../api/auth/passwords';
import { HttpSession, percentile, pool, PASSWORD } from './http';
import { printOpenLoop, runOpenLoop } from './open-loop';
import { printMove, runMove } from './move';
import { BULK_MAIL, printOpenTasks, runOnTop, seedOpenTasks } from './open-tasks';
import {
  cpuMeter,
  formatMemory,
  memoryMeter,
  startBenchStack,
  type BenchStack,
  type CpuMeter,
} from './stack';
import { CLOSED_LOOP_CAST, openSessions, runStory, seedStories, StoryLatencies } from './stories';

/**
 * npm run bench: full contact-change stories on the embedded stack (PostgreSQL, Temporal dev server on SQLite,
 * real worker, API over HTTP on loopback, SMTP sink) run closed-loop for the maximum story throughput, then
 * open-loop at fixed arrival rates below it for the latency people feel at a given load, the engine's ceiling
 * with a one-activity workflow, the "services where I am a contact" listing with 1,000,000 services, and a move of
 * one account's 50,000 services.
 * Prints tables; asserts nothing. BENCH_STORIES (default 200), BENCH_CONCURRENCY (20), BENCH_OPEN_SECONDS (20,
 * at each open-loop rate; 0 skips the open loop), BENCH_OPEN_TASKS (open tasks under the stories on top; 0
 * skips that phase), BENCH_WORKER_CACHE (the worker's cache size, in workflows; unset: WORKER_MAX_CACHED_WORKFLOWS's default), BENCH_SERVICES (1000000),
 * BENCH_MOVE (0 skips the real move of the listing account's services) and BENCH_MOVE_SAMPLE (50 single tasks
 * beside it) tune it. BENCH_ONLY=move runs the move phase alone, with what it needs: the seed, the move's dry runs,
 * the move and its single-task sample (a few minutes, for a short window on a shared machine).
 */
const STORIES = Number(process.env.BENCH_STORIES ?? 200);
const OPEN_SECONDS = Number(process.env.BENCH_OPEN_SECONDS ?? 20);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 20);
const SERVICES = Number(process.env.BENCH_SERVICES ?? 1_000_000);
const OPEN_TASKS = Number(process.env.BENCH_OPEN_TASKS ?? 5000);
const WORKER_CACHE = process.env.BENCH_WORKER_CACHE;
/** BENCH_WORKER_ENV="NAME=value,…": more variables for the app's processes (MALLOC_ARENA_MAX=2, NODE_OPTIONS…). */
const WORKER_ENV = Object.fromEntries(
  (process.env.BENCH_WORKER_ENV ?? '')
    .split(',')
    .filter(Boolean)
    .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
);
const MOVE_DRY_RUNS = 20;
/** BENCH_MOVE=0 skips the real move after the dry run; BENCH_MOVE_SAMPLE single tasks (50) stand beside it. */
const MOVE = process.env.BENCH_MOVE !== '0';
const MOVE_SAMPLE = Number(process.env.BENCH_MOVE_SAMPLE ?? 50);
const ONLY = process.env.BENCH_ONLY;
if (ONLY !== undefined && ONLY !== 'move') throw new Error(`BENCH_ONLY=${ONLY}: only 'move' is known`);
const ONLY_MOVE = ONLY === 'move';
/** Calls of each kind of listing (none when only the move runs: its dry runs are measured all the same). */
const LISTING_CALLS = ONLY_MOVE ? 0 : 200;
/** BENCH_TEMPORAL=postgres: the Temporal server on PostgreSQL (as deployed) instead of the dev server on SQLite. */
const ON_POSTGRES = process.env.BENCH_TEMPORAL === 'postgres';
const TEMPORAL_KIND = ON_POSTGRES ? 'Temporal server on PostgreSQL' : 'Temporal dev server (SQLite)';
const log = (line: string) => process.stdout.write(`${line}\n`);
const load = () =>
  `load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(', ')} (${new Date().toISOString()})`;

const ms = (value: number) => `${value.toFixed(1)} ms`;

/**
 * BENCH_CPU_PROFILE=<dir>: a V8 CPU profile of this process (the API, the SMTP sink and the load generator) during
 * the closed-loop stories, beside the worker's (scripts/bench/stack.ts); open them in Chrome's DevTools or
 * summarise them with `npm run --silent bench:profile -- <file>`.
 */
async function profiled<T>(name: string, work: () => Promise<T>): Promise<T> {
  const dir = process.env.BENCH_CPU_PROFILE;
  if (!dir) return work();
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  try {
    return await work();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    const file = join(dir, `${name}-${Date.now()}.cpuprofile`);
    writeFileSync(file, JSON.stringify(profile));
    log(`CPU profile of this process: ${file}`);
    session.disconnect();
  }
}

async function runStories(stack: BenchStack, cpu: CpuMeter) {
  const latencies = new StoryLatencies();
  const stories = Array.from({ length: STORIES }, (_, i) => i);
  log('logging the accounts in');
  const sessions = await openSessions(stack, log, CLOSED_LOOP_CAST, stories, latencies);
  log('running the stories');
  const cpuBefore = cpu.snapshot();
  const started = performance.now();
  await profiled('api-stories', () =>
    pool(log, stories, CONCURRENCY, (i) => runStory(stack, CLOSED_LOOP_CAST, sessions[i], i, latencies)),
  );
  const seconds = (performance.now() - started) / 1000;
  const cpuAfter = cpu.snapshot();
  return {
    seconds,
    perSecond: STORIES / seconds,
    apiLatencies: latencies.api,
    applyLatencies: latencies.apply,
    byKind: latencies.byKind,
    cpu: cpu.used(cpuBefore, cpuAfter, seconds),
    cpuPerStory: cpu.perItem(cpuBefore, cpuAfter, STORIES),
  };
}

async function runPing(stack: BenchStack, count: number) {
  const batch = Date.now();
  const started = performance.now();
  await pool(
    log,
    Array.from({ length: count }, (_, i) => i),
    CONCURRENCY,
    async (i) => {
      await stack.client.workflow.execute('pingWorkflow', {
        taskQueue: 'bench-ping',
        workflowId: `ping-${batch}-${i}`,
      });
    },
  );
  const seconds = (performance.now() - started) / 1000;
  return { seconds, perSecond: count / seconds, firstWorkflowId: `ping-${batch}-0` };
}

/** Workflow and activity tasks in one finished run: the work the Temporal server does for it. */
async function tasksOf(stack: BenchStack, workflowId: string) {
  const events = (await stack.client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  const { EventType } = temporal.api.enums.v1;
  const count = (type: number) => events.filter((e) => e.eventType === type).length;
  return {
    events: events.length,
    workflowTasks: count(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED),
    activityTasks: count(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED),
  };
}

async function seedListing(stack: BenchStack) {
  const accountCount = 100_000;
  log(`seeding ${accountCount} accounts and ${SERVICES} services (one account holds 50,000)`);
  const started = performance.now();
  await stack.db.$executeRawUnsafe(`
    INSERT INTO account (handle, email)
    SELECT 'lk' || g || '-ovh', 'lk' || g || '@bench.test' FROM generate_series(1, ${accountCount}) g`);
  const [{ first }] = await stack.db.$queryRawUnsafe<{ first: number }[]>(
    `SELECT min(id) AS first FROM account WHERE handle LIKE 'lk%'`,
  );
  const big = first; // lk1-ovh
  const chunk = 250_000;
  for (let from = 1; from <= SERVICES; from += chunk) {
    const to = Math.min(SERVICES, from + chunk - 1);
    await stack.db.$executeRawUnsafe(`
      INSERT INTO service (type, name, admin_id, tech_id, billing_id)
      SELECT (ARRAY['domain','dedicated/server','vps','hosting/web'])[1 + g % 4],
             'svc-' || lpad(g::text, 7, '0') || '.bench',
             CASE WHEN g <= 50000 AND g % 3 = 0 THEN ${big} ELSE ${first} + 1 + (g::bigint * 7919) % ${accountCount - 1} END,
             CASE WHEN g <= 50000 AND g % 3 = 1 THEN ${big} ELSE ${first} + 1 + (g::bigint * 104729) % ${accountCount - 1} END,
             CASE WHEN g <= 50000 AND g % 3 = 2 THEN ${big} ELSE ${first} + 1 + (g::bigint * 1299709) % ${accountCount - 1} END
      FROM generate_series(${from}, ${to}) g`);
    log(`  … ${to} services`);
  }
  await stack.db.$executeRawUnsafe('ANALYZE');
  const passwordHash = await hashPassword(PASSWORD);
  await stack.db.account.update({ where: { id: big }, data: { passwordHash } });
  return { seconds: (performance.now() - started) / 1000, handle: 'lk1-ovh' };
}

async function measureListing(stack: BenchStack, handle: string) {
  const latencies: Record<string, number[]> = {
    'first page': [],
    'page by cursor': [],
    'type filter': [],
    'role filter': [],
    'name contains': [],
    'move dry run of all its services (admin, tech, billing)': [],
  };
  const session = new HttpSession(stack.baseUrl, []);
  await session.login(handle);
  const count = (
    await stack.db.$queryRawUnsafe<{ n: bigint }[]>(
      `SELECT count(*) AS n FROM service s JOIN account a ON a.id IN (s.admin_id, s.tech_id, s.billing_id) WHERE a.handle = '${handle}'`,
    )
  )[0].n;
  const timed = async (kind: string, path: string) => {
    const before = session.latencies.length;
    await session.call('GET', path);
    latencies[kind].push(session.latencies[before]);
  };
  for (let i = 0; i < LISTING_CALLS; i++) {
    const cursor = `svc-${String(1 + Math.floor(Math.random() * 50_000)).padStart(7, '0')}.bench`;
    await timed('first page', '/1.0/me/contactManagement/services?limit=50');
    await timed('page by cursor', `/1.0/me/contactManagement/services?limit=50&cursor=${cursor}`);
    await timed('type filter', `/1.0/me/contactManagement/services?limit=50&type=vps&cursor=${cursor}`);
    await timed('role filter', '/1.0/me/contactManagement/services?limit=50&role=contactBilling');
    await timed(
      'name contains',
      `/1.0/me/contactManagement/services?limit=50&name=${Math.floor(Math.random() * 99)}7`,
    );
  }
  // Issue 12: a move of every service the account holds a role on, judged service by service, nothing created.
  for (let i = 0; i < MOVE_DRY_RUNS; i++) {
    const before = session.latencies.length;
    await session.call('POST', '/1.0/me/contactMove', {
      toAccount: 'lk2-ovh',
      contactTypes: ['admin', 'tech', 'billing'],
      filter: {},
      dryRun: true,
    });
    latencies['move dry run of all its services (admin, tech, billing)'].push(session.latencies[before]);
  }
  return { count: Number(count), latencies };
}

async function main() {
  if (ONLY_MOVE && (SERVICES <= 0 || !MOVE))
    throw new Error('BENCH_ONLY=move needs BENCH_SERVICES > 0 and the move');
  log(
    ONLY_MOVE
      ? `bench on the ${TEMPORAL_KIND}, the move only: ${SERVICES} services, the move's dry runs, a move of one account's services beside ${MOVE_SAMPLE} single tasks`
      : `bench on the ${TEMPORAL_KIND}: ${STORIES} stories at concurrency ${CONCURRENCY}, then ${STORIES * 2} ping workflows, then ${OPEN_SECONDS} s of stories at each of 25, 50 and 75 % of the stories' rate, then ${OPEN_TASKS} open tasks with stories on top, then listing over ${SERVICES} services${MOVE ? ", then a move of its account's services beside single tasks" : ''}`,
  );
  log(
    process.env.BENCH_WORKER === 'dist'
      ? 'the worker as production runs it: compiled, from dist/ (BENCH_WORKER=dist, after npm run build)'
      : 'the worker from the sources through tsx (source maps on); BENCH_WORKER=dist runs it as production does',
  );
  log(`start: ${load()}`);
  const stack = await startBenchStack(log, {
    pingWorker: true,
    workerProcess: true,
    // The API apart from the load generator: the CPU a story costs the API is then the API's (issue 13).
    apiProcess: true,
    temporalOnPostgres: ON_POSTGRES,
    appSettings: { ...(WORKER_CACHE ? { WORKER_MAX_CACHED_WORKFLOWS: WORKER_CACHE } : {}), ...WORKER_ENV },
    discardMailTo: (recipient) => BULK_MAIL.test(recipient),
  });
  try {
    if (!ONLY_MOVE) await runStoryPhases(stack);
    const listingSeed = SERVICES > 0 ? await seedListing(stack) : undefined;
    const listing = listingSeed && (await measureListing(stack, listingSeed.handle));
    if (listing && listingSeed) printListing(listing, listingSeed.seconds);
    log(`listing done: ${load()}`);
    if (listingSeed && MOVE) {
      const move = await runMove(stack, log, {
        fromAccount: listingSeed.handle,
        toAccount: 'lk2-ovh',
        sampleStories: MOVE_SAMPLE,
        concurrency: CONCURRENCY,
      });
      printMove(log, move);
    }

    log(`\nend: ${load()}`);
  } finally {
    await stack.close();
  }
}

/** The closed loop, the pings, the open loop and the open tasks: each printed as soon as it ends. */
async function runStoryPhases(stack: BenchStack) {
  await seedStories(stack, CLOSED_LOOP_CAST, STORIES);
  const cpu = cpuMeter(stack);
  const memory = memoryMeter(stack);
  memory.start();
  const stories = await runStories(stack, cpu);
  const storiesMemory = memory.read();
  log('running the ping workflows (engine ceiling)');
  const cpuBeforePing = cpu.snapshot();
  const ping = await runPing(stack, STORIES * 2);
  const cpuAfterPing = cpu.snapshot();
  const pingCpu = cpu.used(cpuBeforePing, cpuAfterPing, ping.seconds);
  const pingCpuPerPing = cpu.perItem(cpuBeforePing, cpuAfterPing, STORIES * 2);
  const { workflowId } = await stack.db.contactChangeTask.findFirstOrThrow({ orderBy: { id: 'asc' } });
  const [storyTasks, pingTasks] = [
    await tasksOf(stack, workflowId),
    await tasksOf(stack, ping.firstWorkflowId),
  ];
  // Each table is printed as soon as its phase ends: a long run shows its figures as it goes.
  log('\n| stories (create, 2 accepts, apply, mail) | value |\n| --- | --- |');
  log(`| stories | ${STORIES} at concurrency ${CONCURRENCY} |`);
  log(`| completed stories per second | ${stories.perSecond.toFixed(2)} (${stories.seconds.toFixed(1)} s) |`);
  log(
    `| last acceptance sent -> change applied, p50 / p99 | ${ms(percentile(stories.applyLatencies, 50))} / ${ms(percentile(stories.applyLatencies, 99))} |`,
  );
  log(
    `| API calls (${stories.apiLatencies.length}), p50 / p99 | ${ms(percentile(stories.apiLatencies, 50))} / ${ms(percentile(stories.apiLatencies, 99))} |`,
  );
  log(`| memory (RSS) at the end / peak during the stories | ${formatMemory(storiesMemory)} |`);
  for (const [kind, values] of stories.byKind) {
    log(
      `| ${kind} (${values.length}), p50 / p99 | ${ms(percentile(values, 50))} / ${ms(percentile(values, 99))} |`,
    );
  }
  log(`| engine ceiling: one-activity workflows per second | ${ping.perSecond.toFixed(2)} |`);
  log(
    `| per story / per ping workflow: history events, workflow tasks, activity tasks | ${storyTasks.events}, ${storyTasks.workflowTasks}, ${storyTasks.activityTasks} / ${pingTasks.events}, ${pingTasks.workflowTasks}, ${pingTasks.activityTasks} |`,
  );
  log(`| CPU during the stories (2 cores = 200 %) | ${stories.cpu} |`);
  log(`| CPU during the ping workflows | ${pingCpu} |`);
  log(`| CPU per story | ${stories.cpuPerStory} |`);
  log(`| CPU per ping workflow | ${pingCpuPerPing} |`);
  log(`| story throughput / engine ceiling | ${(stories.perSecond / ping.perSecond).toFixed(2)} |`);
  log(`closed loop done: ${load()}`);
  // Before the listing's million services: the open loop measures the stories, not a bigger database.
  const openLoop = OPEN_SECONDS > 0 ? await runOpenLoop(stack, log, stories.perSecond, OPEN_SECONDS) : [];
  if (openLoop.length > 0) printOpenLoop(log, openLoop, stories.perSecond);
  log(`open loop done: ${load()}`);
  const seed =
    OPEN_TASKS > 0
      ? await seedOpenTasks(stack, log, { target: OPEN_TASKS, budgetMs: Infinity, cpu })
      : undefined;
  const openTasks =
    seed &&
    (await runOnTop(stack, log, {
      seed,
      cacheSize: stack.config.WORKER_MAX_CACHED_WORKFLOWS,
      storiesPerSecond: stories.perSecond / 2,
      seconds: Math.max(OPEN_SECONDS, 10),
    }));
  if (openTasks) printOpenTasks(log, openTasks);
  log(`open tasks done: ${load()}`);
}

function printListing(listing: Awaited<ReturnType<typeof measureListing>>, seededSeconds: number) {
  log(
    `\n| listing: ${listing.count} services of one account among ${SERVICES} (seeded in ${seededSeconds.toFixed(0)} s) | p50 | p99 |\n| --- | --- | --- |`,
  );
  for (const [kind, values] of Object.entries(listing.latencies)) {
    if (values.length === 0) continue;
    log(
      `| ${kind} (${values.length} calls) | ${ms(percentile(values, 50))} | ${ms(percentile(values, 99))} |`,
    );
  }
}

main().catch((error) => {
  process.stderr.write(`bench failed: ${(error as Error).stack}\n`);
  process.exit(1);
});
