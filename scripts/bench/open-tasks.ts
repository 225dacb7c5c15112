import { setTimeout as sleep } from 'node:timers/promises';
import { contactChangeInput, startContactChange } from '../../api/contact-changes';
import { hashPassword } from '../../api/auth/passwords';
import { planContactChange } from '../../domain/contact-rules';
import { deriveCode } from '../../lib/codes';
import { HttpSession, percentile, pool, PASSWORD } from './http';
import { ms, p50p99, runLevel } from './open-loop';
import { rssOf, type BenchStack } from './stack';
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
/** Started workflows not yet through their first task, at most: the start rate follows what the stack takes. */
const IN_FLIGHT = 400;
/** Accepts of evicted tasks beside the stories, at least (a p99 needs samples); more if there are more stories. */
const EVICTED_SAMPLE = 100;
const EVICTED_SPACING_MS = 1000;
/** Accepts after the restart, of tasks the stopped worker had in its cache. */
const AFTER_RESTART_SAMPLE = 50;

export interface OpenTasksResult {
  count: number;
  seedSeconds: number;
  seedPerSecond: number;
  /** CPU each part of the stack used during the bulk (what limits the seeding). */
  seedCpu: string;
  cacheSize: number;
  memory: { worker: number; workerPeak: number; temporal: number; temporalPostgres?: number };
  onTop: { perSecond: number; failed: number; latencies: StoryLatencies };
  evictedAccepts: number[];
  restart: { stopSeconds: number; pollingSeconds: number; firstAcceptSeconds: number; accepts: number[] };
}

async function seedBulkServices(stack: BenchStack, count: number) {
  const passwordHash = await hashPassword(PASSWORD);
  const people = Math.min(count, BULK_ACCOUNTS);
  await stack.db.$executeRawUnsafe(
    `INSERT INTO account (handle, email, password_hash)
     SELECT p || g || '-ovh', p || g || '@bench.test', $1
     FROM generate_series(0, ${people - 1}) g, unnest(ARRAY['${BULK.admin}', '${BULK.tech}', '${BULK.newbie}']) p
     UNION ALL SELECT 'bi0-ovh', 'bi0@bench.test', $1
     ON CONFLICT (handle) DO NOTHING`,
    passwordHash,
  );
  await stack.db.$executeRawUnsafe(`
    INSERT INTO service (type, name, admin_id, tech_id, billing_id)
    SELECT 'domain', '${BULK.service}-' || g || '.bench',
           (SELECT id FROM account WHERE handle = '${BULK.admin}' || (g % ${people}) || '-ovh'),
           (SELECT id FROM account WHERE handle = '${BULK.tech}' || (g % ${people}) || '-ovh'),
           (SELECT id FROM account WHERE handle = 'bi0-ovh')
    FROM generate_series(0, ${count - 1}) g`);
  const rows = await stack.db.$queryRawUnsafe<{ id: number; name: string }[]>(
    `SELECT id, name FROM service WHERE name LIKE '${BULK.service}-%' ORDER BY id`,
  );
  return { people, serviceIds: new Map(rows.map((r) => [r.name, r.id])) };
}

const bulkPeople = (i: number, people: number) => ({
  admin: `${BULK.admin}${i % people}-ovh`,
  tech: `${BULK.tech}${i % people}-ovh`,
  newbie: `${BULK.newbie}${i % people}-ovh`,
});

/** Starts the bulk at the highest rate the stack sustains (a bounded number in flight), with progress. */
async function startBulk(stack: BenchStack, log: (line: string) => void, count: number) {
  const { people, serviceIds } = await seedBulkServices(stack, count);
  const mailsSoFar = async () =>
    Number((await stack.db.$queryRawUnsafe<{ n: bigint }[]>('SELECT count(*) AS n FROM sent_email'))[0].n);
  const mailsBefore = await mailsSoFar();
  let started = 0;
  let ready = 0;
  const started0 = performance.now();
  let lastLog = started0;
  const watching = (async () => {
    while (ready < count) {
      await sleep(1000);
      ready = Math.floor(((await mailsSoFar()) - mailsBefore) / MAILS_PER_TASK);
      if (performance.now() - lastLog >= 10_000) {
        lastLog = performance.now();
        const seconds = (lastLog - started0) / 1000;
        log(
          `  … ${Math.floor(ready)}/${count} open tasks mailed (${started} started), ${(ready / seconds).toFixed(1)}/s, RSS: worker ${mib(rssOf(stack.workerPid()))}, Temporal ${mib(rssOf(stack.temporalPid()))}`,
        );
      }
    }
  })();
  const indices = Array.from({ length: count }, (_, i) => i);
  await pool(
    () => undefined,
    indices,
    32,
    async (i) => {
      while (started - ready >= IN_FLIGHT) await sleep(50);
      started++;
      const { admin, tech, newbie } = bulkPeople(i, people);
      const name = `${BULK.service}-${i}.bench`;
      const [task] = planContactChange({
        asker: admin,
        service: { contactAdmin: admin, contactTech: tech, contactBilling: 'bi0-ovh' },
        changes: { contactTech: newbie },
        accounts: new Map(
          [admin, tech, newbie, 'bi0-ovh'].map((handle) => [handle, { handle, billingStanding: 'good' }]),
        ),
        openTasks: [],
      });
      const input = contactChangeInput(
        stack.config,
        { id: serviceIds.get(name)!, type: 'domain', name },
        admin,
        task,
      );
      await startContactChange(stack.client, stack.config.TEMPORAL_TASK_QUEUE, input);
    },
  );
  await watching;
  const seconds = (performance.now() - started0) / 1000;
  return { people, seconds };
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;

/** The bulk's task of service i, with what accepting it as `who` takes: a session and the code. */
async function bulkAccepts(
  stack: BenchStack,
  log: (line: string) => void,
  indices: number[],
  who: 'admin' | 'newbie',
  people: number,
) {
  const tasks = await stack.db.contactChangeTask.findMany({
    where: { serviceName: { in: indices.map((i) => `${BULK.service}-${i}.bench`) } },
    select: { id: true, workflowId: true, runId: true, serviceName: true },
  });
  const sessions = new Map<number, HttpSession>();
  const latencies: number[] = [];
  await pool(log, tasks, 4, async (task) => {
    const i = Number(/-(\d+)\.bench$/.exec(task.serviceName)![1]);
    const session = new HttpSession(stack.baseUrl, latencies);
    await session.login(bulkPeople(i, people)[who]);
    sessions.set(task.id, session);
  });
  latencies.length = 0;
  return tasks.map((task) => {
    const i = Number(/-(\d+)\.bench$/.exec(task.serviceName)![1]);
    const handle = bulkPeople(i, people)[who];
    const code = deriveCode(stack.config.CODE_HASH_KEY, {
      workflowId: task.workflowId,
      runId: task.runId!,
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

/** CPU seconds so far of each part of the stack, and how to print what was used between two snapshots. */
export interface CpuMeter {
  snapshot(): Record<string, number>;
  used(before: Record<string, number>, after: Record<string, number>, seconds: number): string;
}

export async function runOpenTasks(
  stack: BenchStack,
  log: (line: string) => void,
  options: { count: number; cacheSize: number; storiesPerSecond: number; seconds: number; cpu: CpuMeter },
): Promise<OpenTasksResult> {
  const { count, cacheSize } = options;
  log(`many open tasks: starting ${count} contact-change workflows (worker cache: ${cacheSize} workflows)`);
  const cpuBefore = options.cpu.snapshot();
  const bulk = await startBulk(stack, log, count);
  const seedCpu = options.cpu.used(cpuBefore, options.cpu.snapshot(), bulk.seconds);
  log(
    `  ${count} open tasks in ${bulk.seconds.toFixed(0)} s (${(count / bulk.seconds).toFixed(1)}/s); CPU: ${seedCpu}`,
  );
  await sleep(2000); // the last first tasks settle
  const memory = {
    worker: rssOf(stack.workerPid()),
    workerPeak: rssOf(stack.workerPid()),
    temporal: rssOf(stack.temporalPid()),
    temporalPostgres: stack.temporalPostgresPid() ? rssOf(stack.temporalPostgresPid()) : undefined,
  };

  // The oldest tasks: long out of a cache that holds the last `cacheSize` only (least recently used goes first).
  // Their accepts arrive beside the stories, at their rate or one a second if that is more.
  const storyCount = Math.max(1, Math.round(options.storiesPerSecond * options.seconds));
  const sample = Math.min(Math.max(storyCount, EVICTED_SAMPLE), Math.max(1, count - cacheSize));
  const evicted = Array.from({ length: sample }, (_, i) => i);
  log(
    `  stories on top at ${options.storiesPerSecond.toFixed(2)}/s for ${options.seconds} s, with ${sample} accepts of evicted tasks`,
  );
  const adminAccepts = await bulkAccepts(stack, log, evicted, 'admin', bulk.people);
  await seedStories(stack, ON_TOP, storyCount);
  const latencies = new StoryLatencies();
  const stories = Array.from({ length: storyCount }, (_, i) => i);
  const sessions = await openSessions(stack, log, ON_TOP, stories, latencies);
  const peak = setInterval(() => {
    memory.workerPeak = Math.max(memory.workerPeak, rssOf(stack.workerPid()));
  }, 500);
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
  clearInterval(peak);

  // Restart with every task open: a new worker process has an empty cache; the accept that follows replays.
  log('  restarting the worker');
  const newbieAccepts = await bulkAccepts(
    stack,
    log,
    evicted.slice(0, AFTER_RESTART_SAMPLE),
    'newbie',
    bulk.people,
  );
  const stopping = performance.now();
  await stack.stopWorker();
  const stopSeconds = (performance.now() - stopping) / 1000;
  const starting = performance.now();
  await stack.startWorker();
  const pollingSeconds = (performance.now() - starting) / 1000;
  const [first, ...rest] = newbieAccepts;
  const firstAccept = await first();
  const firstAcceptSeconds = (performance.now() - starting) / 1000;
  const accepts = [firstAccept];
  await pool(log, rest, 4, async (accept) => void accepts.push(await accept()));
  return {
    count,
    seedSeconds: bulk.seconds,
    seedPerSecond: count / bulk.seconds,
    seedCpu,
    cacheSize,
    memory,
    onTop: { perSecond: options.storiesPerSecond, failed: level.failed, latencies },
    evictedAccepts,
    restart: { stopSeconds, pollingSeconds, firstAcceptSeconds, accepts },
  };
}

const ACCEPT_P99_TARGET_MS = 500;
const WORKER_RSS_TARGET = 500 * 1024 * 1024;

export function printOpenTasks(log: (line: string) => void, r: OpenTasksResult) {
  log(
    `\n| ${r.count} open tasks (worker cache ${r.cacheSize} workflows) | value | target |\n| --- | --- | --- |`,
  );
  log(
    `| started in bulk, each through its first task (read model + 3 mails) | ${r.seedSeconds.toFixed(0)} s (${r.seedPerSecond.toFixed(1)}/s) | |`,
  );
  log(`| CPU during the bulk (2 cores = 200 %) | ${r.seedCpu} | |`);
  log(
    `| worker RSS after the bulk / peak during the stories on top | ${mib(r.memory.worker)} / ${mib(r.memory.workerPeak)} | < 500 MiB: ${r.memory.workerPeak < WORKER_RSS_TARGET ? 'met' : 'missed'} |`,
  );
  log(
    `| Temporal server RSS${r.memory.temporalPostgres !== undefined ? ' / its PostgreSQL (postmaster)' : ''} | ${mib(r.memory.temporal)}${r.memory.temporalPostgres !== undefined ? ` / ${mib(r.memory.temporalPostgres)}` : ''} | |`,
  );
  const evictedP99 = percentile(r.evictedAccepts, 99);
  log(
    `| accept of ${r.count > 2 * r.cacheSize ? 'an evicted task' : 'an old task (NOT surely evicted: fewer than twice the cache)'} (${r.evictedAccepts.length}, beside the stories), p50 / p99 | ${p50p99(r.evictedAccepts)} | p99 < ${ACCEPT_P99_TARGET_MS} ms: ${evictedP99 < ACCEPT_P99_TARGET_MS ? 'met' : 'missed'} |`,
  );
  const { latencies } = r.onTop;
  log(
    `| stories on top at ${r.onTop.perSecond.toFixed(2)}/s (failed: ${r.onTop.failed}): changeContact / accept / applied p99 | ${ms(percentile(latencies.of('changeContact'), 99))} / ${ms(percentile(latencies.of('accept'), 99))} / ${ms(percentile(latencies.apply, 99))} | |`,
  );
  log(
    `| worker restart: stop / start until polling / until the first accept answered | ${r.restart.stopSeconds.toFixed(1)} s / ${r.restart.pollingSeconds.toFixed(1)} s / ${r.restart.firstAcceptSeconds.toFixed(1)} s | |`,
  );
  log(
    `| accepts after the restart (${r.restart.accepts.length}, empty cache), p50 / p99 | ${p50p99(r.restart.accepts)} | |`,
  );
}
