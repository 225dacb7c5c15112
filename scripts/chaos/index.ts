import { strict as assert } from 'node:assert';
import { hashPassword } from '../../api/auth/passwords';
import { readCodeEmail } from '../../lib/mailbox';
import { HttpSession, PASSWORD } from '../bench/http';
import { startBenchStack, type BenchStack } from '../bench/stack';

/**
 * npm run chaos: faults on the embedded stack, each scenario asserting that nothing is lost or done twice.
 * The worker runs as a child process here, so that it can be killed with SIGKILL.
 */
const log = (line: string) => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let stack: BenchStack;
let story = 0;

async function newStory() {
  const i = story++;
  const passwordHash = await hashPassword(PASSWORD);
  for (const role of ['ad', 'te', 'ne']) {
    await stack.db.account.create({
      data: { handle: `${role}${i}-ovh`, email: `${role}${i}@chaos.test`, passwordHash },
    });
  }
  const id = async (handle: string) => (await stack.db.account.findUniqueOrThrow({ where: { handle } })).id;
  await stack.db.service.create({
    data: {
      name: `chaos-${i}.test`,
      type: 'domain',
      adminId: await id(`ad${i}-ovh`),
      techId: await id(`te${i}-ovh`),
      billingId: await id(`te${i}-ovh`),
    },
  });
  const admin = new HttpSession(stack.baseUrl, []);
  const newbie = new HttpSession(stack.baseUrl, []);
  await admin.login(`ad${i}-ovh`);
  await newbie.login(`ne${i}-ovh`);
  return { i, admin, newbie };
}

async function ask({ i, admin }: Awaited<ReturnType<typeof newStory>>) {
  const [taskId] = (
    await admin.call('POST', `/1.0/domain/chaos-${i}.test/changeContact`, { contactTech: `ne${i}-ovh` })
  ).json;
  return taskId as number;
}

/** A new story asked through the API, with the admin's (a) and the new contact's (n) codes read from the mail. */
async function askAndReadCodes() {
  const s = await newStory();
  const taskId = await ask(s);
  const [a, n] = await Promise.all([codeMail('ad', s.i, taskId), codeMail('ne', s.i, taskId)]);
  return { s, taskId, a, n };
}

const codeMail = (who: string, i: number, taskId: number) =>
  stack.mailbox
    .waitFor((m) => m.to[0] === `${who}${i}@chaos.test` && m.text.includes(`/validate/${taskId}#`), 120_000)
    .then(readCodeEmail);

async function accept(session: HttpSession, taskId: number, code: string) {
  await session.call('POST', `/1.0/me/task/contactChange/${taskId}/accept`, { token: code });
}

/** The end every scenario must reach: done once, contacts changed once, one code and one "done" mail each. */
async function assertDoneOnce(i: number, taskId: number) {
  const until = Date.now() + 120_000;
  for (;;) {
    const task = await stack.db.contactChangeTask.findUniqueOrThrow({ where: { id: taskId } });
    if (task.state === 'done') break;
    assert.ok(Date.now() < until, `task ${taskId} is still ${task.state}`);
    await sleep(100);
  }
  const service = await stack.db.service.findUniqueOrThrow({
    where: { name: `chaos-${i}.test` },
    include: { tech: true },
  });
  assert.equal(service.tech.handle, `ne${i}-ovh`);
  const applied = await stack.db.auditEvent.count({ where: { taskId, action: 'applied' } });
  assert.equal(applied, 1, 'the change is applied exactly once');
  await stack.mailbox.waitFor((m) => m.to[0] === `ne${i}@chaos.test` && m.subject.includes('done'), 120_000);
  await sleep(500);
  const mails = stack.mailbox
    .messages()
    .filter(
      (m) =>
        m.text.includes(`#${taskId} `) ||
        m.text.includes(`/validate/${taskId}#`) ||
        m.text.includes(`#${taskId})`),
    );
  for (const who of ['ad', 'ne']) {
    const codes = mails.filter(
      (m) => m.to[0] === `${who}${i}@chaos.test` && m.text.includes(`/validate/${taskId}#`),
    );
    assert.equal(codes.length, 1, `${who}${i} got ${codes.length} code mails, not one`);
    const done = mails.filter((m) => m.to[0] === `${who}${i}@chaos.test` && m.subject.includes('done'));
    assert.equal(done.length, 1, `${who}${i} got ${done.length} "done" mails, not one`);
  }
}

const scenarios: [string, () => Promise<void>][] = [
  [
    'worker SIGKILLed right after the task is created',
    async () => {
      const s = await newStory();
      const taskId = await ask(s);
      await stack.killWorker();
      await sleep(1000);
      await stack.restartWorkerProcess();
      const [a, n] = await Promise.all([codeMail('ad', s.i, taskId), codeMail('ne', s.i, taskId)]);
      await accept(s.admin, taskId, a.code);
      await accept(s.newbie, taskId, n.code);
      await assertDoneOnce(s.i, taskId);
    },
  ],
  [
    'worker SIGKILLed after one acceptance',
    async () => {
      const { s, taskId, a, n } = await askAndReadCodes();
      await accept(s.admin, taskId, a.code);
      await stack.killWorker();
      await sleep(1000);
      await stack.restartWorkerProcess();
      await accept(s.newbie, taskId, n.code);
      await assertDoneOnce(s.i, taskId);
    },
  ],
  [
    'worker SIGKILLed while the change is being applied',
    async () => {
      const { s, taskId, a, n } = await askAndReadCodes();
      await accept(s.admin, taskId, a.code);
      // The apply runs in the last acceptance's workflow task, right after that acceptance is recorded: kill
      // the worker the moment the record shows, while the acceptance's answer is still awaited.
      const lastAcceptance = accept(s.newbie, taskId, n.code);
      const recorded = { taskId, actor: `ne${s.i}-ovh`, action: 'accepted' };
      while ((await stack.db.auditEvent.count({ where: recorded })) === 0) await sleep(2);
      await stack.killWorker();
      const appliedAtKill = await stack.db.auditEvent.count({ where: { taskId, action: 'applied' } });
      process.stdout.write(`  (killed ${appliedAtKill ? 'after' : 'before'} the apply committed)\n`);
      await sleep(1000);
      await stack.restartWorkerProcess();
      await lastAcceptance;
      await assertDoneOnce(s.i, taskId);
    },
  ],
  [
    'Temporal dev server stopped and started again with a task waiting',
    async () => {
      const { s, taskId, a, n } = await askAndReadCodes();
      await accept(s.admin, taskId, a.code);
      await stack.stopTemporal();
      await sleep(2000);
      await stack.startTemporal();
      await acceptWithRetry(s.newbie, taskId, n.code);
      await assertDoneOnce(s.i, taskId);
    },
  ],
  [
    'SMTP server down for 8 s while the codes are sent',
    async () => {
      const s = await newStory();
      stack.mailbox.setDown(true);
      const taskId = await ask(s);
      await sleep(8000);
      assert.equal(stack.mailbox.messages().filter((m) => m.text.includes(`/validate/${taskId}#`)).length, 0);
      stack.mailbox.setDown(false);
      const [a, n] = await Promise.all([codeMail('ad', s.i, taskId), codeMail('ne', s.i, taskId)]);
      await accept(s.admin, taskId, a.code);
      await accept(s.newbie, taskId, n.code);
      await assertDoneOnce(s.i, taskId);
    },
  ],
  [
    'PostgreSQL down for 3 s right after the last acceptance',
    async () => {
      const { s, taskId, a, n } = await askAndReadCodes();
      await accept(s.admin, taskId, a.code);
      await accept(s.newbie, taskId, n.code);
      await stack.restartPostgres(3000);
      await assertDoneOnce(s.i, taskId);
    },
  ],
  [
    'API restarted during a burst of retried requests: no request lost, no duplicate',
    async () => {
      const stories = await Promise.all(Array.from({ length: 10 }, () => newStory()));
      const burst = stories
        .flatMap((s) => [s, s])
        .map(async (s) => {
          for (let attempt = 0; ; attempt++) {
            try {
              return (
                await s.admin.call('POST', `/1.0/domain/chaos-${s.i}.test/changeContact`, {
                  contactTech: `ne${s.i}-ovh`,
                })
              ).json;
            } catch (error) {
              assert.ok(attempt < 50, `request kept failing: ${(error as Error).message}`);
              await sleep(200);
            }
          }
        });
      await sleep(50);
      await stack.restartApi(1000);
      const answers = await Promise.all(burst);
      for (const s of stories) {
        const tasks = await stack.db.contactChangeTask.count({ where: { serviceName: `chaos-${s.i}.test` } });
        assert.equal(tasks, 1, `chaos-${s.i}.test has ${tasks} tasks`);
      }
      assert.equal(answers.length, 20);
    },
  ],
  [
    "worker SIGKILLed in the middle of a move's apply: every item applied exactly once",
    async () => {
      const { admin, moveId, serviceIds, before, newHolderId } = await askMoveAndAccept();
      // Chunks of MOVE_APPLY_CHUNK_SIZE (set small below) commit one by one: kill between two of them.
      let applied = 0;
      const until = Date.now() + 120_000;
      while (applied === 0 || applied === MOVE_SERVICES) {
        assert.ok(Date.now() < until, `the move's apply did not start (applied ${applied})`);
        assert.ok(applied < MOVE_SERVICES, 'the apply ended before the worker could be killed');
        await sleep(20);
        applied = (await moveView(admin, moveId)).counts.applied;
      }
      await stack.killWorker();
      const killedAt = performance.now();
      const appliedAtKill = await stack.db.contactChangeTask.count({ where: { moveId, state: 'done' } });
      log(`  (killed with ${appliedAtKill} of ${MOVE_SERVICES} items applied)`);
      await sleep(1000);
      await stack.restartWorkerProcess();
      const end = await untilMoveEnds(admin, moveId);
      // The apply's heartbeat timeout (5 s) is most of it: the new worker is polling a few seconds after the kill.
      log(`  (every item applied ${((performance.now() - killedAt) / 1000).toFixed(1)} s after the kill)`);
      assert.equal(end.state, 'done');
      assert.equal(end.counts.applied, MOVE_SERVICES);
      await assertMoveAppliedOnce(moveId, serviceIds, before, newHolderId);
    },
  ],
];

const MOVE_SERVICES = 2000;
/** Small, so that the 2,000 items take 100 transactions and the kill lands between two of them. */
const MOVE_APPLY_CHUNK_SIZE = '20';

/**
 * A story with MOVE_SERVICES services whose tech contact te<i> is moved to ne<i> by the admin ad<i>, in one move
 * accepted with each validator's code (read from the mail). Returns the contacts of every service before it.
 */
async function askMoveAndAccept() {
  const s = await newStory();
  const id = async (handle: string) => (await stack.db.account.findUniqueOrThrow({ where: { handle } })).id;
  const [adminId, techId, newHolderId] = await Promise.all([
    id(`ad${s.i}-ovh`),
    id(`te${s.i}-ovh`),
    id(`ne${s.i}-ovh`),
  ]);
  await stack.db.service.createMany({
    data: Array.from({ length: MOVE_SERVICES }, (_, n) => ({
      name: `chaos-move-${s.i}-${n}.test`,
      type: 'domain',
      adminId,
      techId,
      billingId: techId,
    })),
  });
  const before = await stack.db.service.findMany({
    select: { id: true, adminId: true, techId: true, billingId: true },
  });
  const body = {
    fromAccount: `te${s.i}-ovh`,
    toAccount: `ne${s.i}-ovh`,
    contactTypes: ['tech'],
    filter: { nameContains: `chaos-move-${s.i}-` },
  };
  const dryRun = (await s.admin.call('POST', '/1.0/me/contactMove', { ...body, dryRun: true })).json as {
    movable: number;
    validators: { handle: string }[];
  };
  assert.equal(dryRun.movable, MOVE_SERVICES);
  const moveId = ((await s.admin.call('POST', '/1.0/me/contactMove', body)).json as { id: number }).id;
  for (const { handle } of dryRun.validators) {
    const mail = await stack.mailbox.waitFor(
      (m) =>
        m.to[0] === `${handle.replace('-ovh', '')}@chaos.test` &&
        m.text.includes(`/validate-move/${moveId}#`),
      120_000,
    );
    const session = handle === `ad${s.i}-ovh` ? s.admin : new HttpSession(stack.baseUrl, []);
    if (session !== s.admin) await session.login(handle);
    await session.call('POST', `/1.0/me/contactMove/${moveId}/accept`, { token: readCodeEmail(mail).code });
  }
  const serviceIds = (
    await stack.db.contactChangeTask.findMany({ where: { moveId }, select: { serviceId: true } })
  ).map((item) => item.serviceId);
  return { admin: s.admin, moveId, serviceIds, before, newHolderId };
}

/** The move as its asker sees it through the API. */
async function moveView(admin: HttpSession, moveId: number) {
  return (await admin.call('GET', `/1.0/me/contactMove/${moveId}`)).json as {
    state: string;
    counts: { total: number; applied: number; skipped: number; remaining: number };
  };
}

async function untilMoveEnds(admin: HttpSession, moveId: number) {
  const until = Date.now() + 300_000;
  for (;;) {
    const move = await moveView(admin, moveId);
    if (!['checking', 'todo', 'applying'].includes(move.state)) return move;
    assert.ok(Date.now() < until, `move ${moveId} is still ${move.state} (${JSON.stringify(move.counts)})`);
    await sleep(200);
  }
}

/**
 * From the database: every item done with one `applied` event, each service's tech contact now the new holder,
 * and every other contact of every service (the move's and all others) as it was before the move.
 */
async function assertMoveAppliedOnce(
  moveId: number,
  serviceIds: number[],
  before: { id: number; adminId: number; techId: number; billingId: number }[],
  newHolderId: number,
) {
  const items = await stack.db.contactChangeTask.findMany({
    where: { moveId },
    select: { id: true, state: true },
  });
  assert.equal(items.length, MOVE_SERVICES, `the move has ${items.length} items`);
  const notDone = items.filter((item) => item.state !== 'done');
  assert.equal(
    notDone.length,
    0,
    `${notDone.length} items are not done (first: ${JSON.stringify(notDone[0])})`,
  );
  const events = await stack.db.auditEvent.groupBy({
    by: ['taskId'],
    where: { taskId: { in: items.map((item) => item.id) }, action: 'applied' },
    _count: { _all: true },
  });
  const twice = events.filter((event) => event._count._all !== 1);
  assert.equal(twice.length, 0, `${twice.length} items have more than one applied event`);
  assert.equal(events.length, MOVE_SERVICES, `${events.length} items have an applied event`);
  const moved = new Set(serviceIds);
  const after = new Map(
    (
      await stack.db.service.findMany({ select: { id: true, adminId: true, techId: true, billingId: true } })
    ).map((service) => [service.id, service]),
  );
  for (const service of before) {
    const expected = moved.has(service.id) ? { ...service, techId: newHolderId } : service;
    assert.deepEqual(after.get(service.id), expected, `service ${service.id} changed unexpectedly`);
  }
}

async function acceptWithRetry(session: HttpSession, taskId: number, code: string) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await accept(session, taskId, code);
    } catch (error) {
      if (attempt > 30) throw error;
      await sleep(500);
    }
  }
}

async function main() {
  stack = await startBenchStack(log, { workerProcess: true, appSettings: { MOVE_APPLY_CHUNK_SIZE } });
  let failed = 0;
  const only = process.env.CHAOS_ONLY;
  const chosen = scenarios.filter(([name]) => !only || name.includes(only));
  try {
    for (const [name, run] of chosen) {
      const started = Date.now();
      try {
        await run();
        log(`PASS  ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
      } catch (error) {
        failed++;
        log(`FAIL  ${name}: ${(error as Error).message}`);
        if (process.env.CHAOS_DEBUG) {
          for (const m of stack.mailbox.messages())
            log(
              `  mail ${m.id} ${m.to[0]} ${m.messageId} ${/validate\/\d+#code=\w+/.exec(m.text)?.[0] ?? m.subject}`,
            );
          log(
            JSON.stringify(await stack.db.taskValidator.findMany({ orderBy: [{ taskId: 'asc' }] }), null, 0),
          );
        }
      }
    }
  } finally {
    await stack.close();
  }
  log(`${chosen.length - failed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

void main();
