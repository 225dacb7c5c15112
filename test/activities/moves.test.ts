import { MockActivityEnvironment } from '@temporalio/testing';
import { codeDigest, hashMoveCode } from '../../lib/codes';
import { readCodeEmail, type Mailbox } from '../../lib/mailbox';
import { startActivities, type ActivitiesUnderTest } from '../helpers/activities';
import type { TestDatabase } from '../helpers/database';
import { contactsOf, createAccounts, createService } from '../helpers/fixtures';

let env: ActivitiesUnderTest;
let database: TestDatabase;
let mailbox: Mailbox;
let activities: ActivitiesUnderTest['activities'];
let codeHashKey: string;
const SERVICES = 12;
let run = 0;

beforeAll(async () => {
  env = await startActivities();
  ({ database, mailbox, activities, codeHashKey } = env);
  await createAccounts(database.db, [
    { handle: 'ad1-ovh', language: 'es' },
    { handle: 'te2-ovh' },
    { handle: 'ne4-ovh' },
  ]);
});
afterAll(() => env?.close());

/**
 * A move of the tech role (or of `roles`, from `from`) of `count` fresh services, opened and accepted by everyone
 * (its items wait for the apply where they waited for decisions).
 */
async function acceptedMove(count = SERVICES, options: { from?: string; roles?: string[] } = {}) {
  const { moveId, ids, opened, event } = await openedMove(count, options);
  await activities.recordMove({
    moveId,
    state: 'applying',
    validators: opened.validators.map(({ handle, items }) => ({
      handle,
      items,
      status: 'accepted' as const,
      wrongCodes: 0,
      locked: false,
    })),
    event: event('moveApplying'),
  });
  return { moveId, ids, opened };
}

/** A move of `count` fresh services, opened: its validators have not decided yet. */
async function openedMove(count = SERVICES, { from = 'te2-ovh', roles = ['contactTech'] } = {}) {
  run += 1;
  const db = database.db;
  const ids: number[] = [];
  for (let i = 0; i < count; i++) {
    const name = `r${run}-s${String(i).padStart(2, '0')}.example`;
    ids.push((await createService(db, { name, admin: 'ad1-ovh', tech: 'te2-ovh', billing: 'ad1-ovh' })).id);
  }
  const request = await db.contactMoveRequest.create({
    data: {
      askingAccount: 'ad1-ovh',
      fromAccount: from,
      toAccount: 'ne4-ovh',
      contactTypes: roles,
      serviceIds: ids,
      selection: {},
    },
  });
  const moveId = request.id;
  const event = (n: string) => ({ dedupeKey: `move-${moveId}/${n}`, actor: 'system', action: n });
  const opened = await activities.openMove({
    moveId,
    workflowId: `contact-move/${moveId}`,
    runId: `run-${run}`,
    expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
    created: { ...event('moveCreated'), actor: 'ad1-ovh' },
  });
  // Opening again (a retried activity) changes nothing.
  expect(
    await activities.openMove({
      moveId,
      workflowId: `contact-move/${moveId}`,
      runId: `run-${run}`,
      expiresAt: new Date().toISOString(),
      created: event('moveCreated'),
    }),
  ).toEqual(opened);
  return { moveId, ids, opened, event };
}

const appliedEvents = (moveId: number) =>
  database.db.auditEvent.groupBy({
    by: ['taskId'],
    where: { action: 'applied', task: { moveId } },
    _count: true,
  });

test('opening records one item per service with its validators, its role lock and its created event', async () => {
  const { moveId, ids, opened } = await acceptedMove(3);
  expect(opened).toMatchObject({
    validators: [
      { handle: 'ad1-ovh', items: 3 },
      { handle: 'ne4-ovh', items: 3 },
    ],
    informed: ['te2-ovh'],
    counts: { total: 3, remaining: 3 },
  });
  const locks = await database.db.openRoleLock.findMany({ where: { serviceId: { in: ids } } });
  expect(locks).toHaveLength(3);
  expect(await database.db.auditEvent.count({ where: { action: 'created', task: { moveId } } })).toBe(3);
});

test('the apply goes chunk by chunk; a chunk that fails midway commits nothing, and the retry applies every item exactly once', async () => {
  const { moveId, ids } = await acceptedMove();
  const db = database.db;
  // The 8th service's update fails (as a worker killed inside the second chunk's transaction would).
  await db.$executeRawUnsafe(`
    CREATE FUNCTION fail_once() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN IF NEW.id = ${ids[7]} THEN RAISE EXCEPTION 'worker killed mid-chunk'; END IF; RETURN NEW; END $$`);
  await db.$executeRawUnsafe(
    'CREATE TRIGGER fail_once BEFORE UPDATE ON service FOR EACH ROW EXECUTE FUNCTION fail_once()',
  );
  await expect(activities.applyMoveChunks({ moveId, chunkSize: 5, maxChunks: 10 })).rejects.toThrow(
    /worker killed mid-chunk/,
  );
  // The first chunk is committed; nothing of the second is.
  expect((await appliedEvents(moveId)).length).toBe(5);
  expect(await contactsOf(db, `r${run}-s04.example`)).toMatchObject({ tech: 'ne4-ovh' });
  expect(await contactsOf(db, `r${run}-s05.example`)).toMatchObject({ tech: 'te2-ovh' });
  await db.$executeRawUnsafe('DROP TRIGGER fail_once ON service; DROP FUNCTION fail_once()');

  // The activity's retry goes on from the items' states.
  const retried = await activities.applyMoveChunks({ moveId, chunkSize: 5, maxChunks: 10 });
  expect(retried).toEqual({
    finished: true,
    counts: { total: SERVICES, applied: SERVICES, skipped: 0, refused: 0, remaining: 0 },
  });
  const events = await appliedEvents(moveId);
  expect(events).toHaveLength(SERVICES);
  expect(events.every((event) => event._count === 1)).toBe(true);
  for (let i = 0; i < SERVICES; i++)
    expect(await contactsOf(db, `r${run}-s${String(i).padStart(2, '0')}.example`)).toMatchObject({
      tech: 'ne4-ovh',
    });
  expect(await db.openRoleLock.count({ where: { serviceId: { in: ids } } })).toBe(0);
  // Once finished, another call applies nothing.
  expect((await activities.applyMoveChunks({ moveId, chunkSize: 5, maxChunks: 10 })).counts.applied).toBe(
    SERVICES,
  );
  expect(await db.auditEvent.count({ where: { action: 'applied', task: { moveId } } })).toBe(SERVICES);
});

test("the last acceptance writes no item: the apply takes them where they waited, and writes each one its validators' acceptance", async () => {
  const { moveId } = await acceptedMove(3);
  const db = database.db;
  const waiting = await db.contactChangeTask.findMany({ where: { moveId }, include: { validators: true } });
  expect(waiting.map((item) => item.state)).toEqual(Array(3).fill('validatingByCustomers'));
  expect(waiting.flatMap((item) => item.validators.map((v) => v.status))).toEqual(Array(6).fill('pending'));
  const result = await activities.applyMoveChunks({ moveId, chunkSize: 2, maxChunks: 10 });
  expect(result).toEqual({
    finished: true,
    counts: { total: 3, applied: 3, skipped: 0, refused: 0, remaining: 0 },
  });
  const applied = await db.contactChangeTask.findMany({ where: { moveId }, include: { validators: true } });
  expect(applied.map((item) => item.state)).toEqual(Array(3).fill('done'));
  expect(applied.flatMap((item) => item.validators.map((v) => v.status))).toEqual(Array(6).fill('accepted'));
});

test('a move not every validator accepted is not applied (its recorded state is not applying)', async () => {
  const { moveId, ids } = await openedMove(2);
  await expect(activities.applyMoveChunks({ moveId, chunkSize: 5, maxChunks: 10 })).rejects.toMatchObject({
    type: 'moveNotApplying',
    nonRetryable: true,
  });
  expect(await database.db.openRoleLock.count({ where: { serviceId: { in: ids } } })).toBe(2);
  expect(await contactsOf(database.db, `r${run}-s00.example`)).toMatchObject({ tech: 'te2-ovh' });
});

test('the apply heartbeats while a slow chunk runs, not only between chunks (its heartbeat timeout catches a dead worker, never a slow one)', async () => {
  const { moveId, ids } = await acceptedMove(2);
  const db = database.db;
  await db.$executeRawUnsafe(
    `CREATE FUNCTION slow_chunk() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(3.5); RETURN NEW; END $$`,
  );
  await db.$executeRawUnsafe(
    `CREATE TRIGGER slow_chunk BEFORE UPDATE ON service FOR EACH ROW WHEN (NEW.id = ${ids[0]}) EXECUTE FUNCTION slow_chunk()`,
  );
  const environment = new MockActivityEnvironment();
  const beats: unknown[] = [];
  environment.on('heartbeat', (details: unknown) => beats.push(details));
  try {
    const apply = () => activities.applyMoveChunks({ moveId, chunkSize: 500, maxChunks: 1 });
    const result = (await environment.run(apply)) as Awaited<ReturnType<typeof apply>>;
    expect(result.finished).toBe(true);
  } finally {
    await db.$executeRawUnsafe('DROP TRIGGER slow_chunk ON service; DROP FUNCTION slow_chunk()');
  }
  // Before the chunk, at least two while its 3.5 s run, after it.
  expect(beats.length).toBeGreaterThanOrEqual(4);
});

test('two attempts of one opening at once (the first retried once its heartbeats stopped) both answer the move; it heartbeats', async () => {
  run += 1;
  const db = database.db;
  const ids: number[] = [];
  for (let i = 0; i < 20; i++)
    ids.push(
      (
        await createService(db, {
          name: `o${run}-s${i}.example`,
          admin: 'ad1-ovh',
          tech: 'te2-ovh',
          billing: 'ad1-ovh',
        })
      ).id,
    );
  const request = await db.contactMoveRequest.create({
    data: {
      askingAccount: 'ad1-ovh',
      fromAccount: 'te2-ovh',
      toAccount: 'ne4-ovh',
      contactTypes: ['contactTech'],
      serviceIds: ids,
      selection: {},
    },
  });
  const args = {
    moveId: request.id,
    workflowId: `contact-move/${request.id}`,
    runId: `run-${run}`,
    expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
    created: { dedupeKey: `move-${request.id}/moveCreated`, actor: 'ad1-ovh', action: 'moveCreated' },
  };
  const environment = new MockActivityEnvironment();
  const beats: unknown[] = [];
  environment.on('heartbeat', (details: unknown) => beats.push(details));
  const [first, second] = await Promise.all([
    environment.run(() => activities.openMove(args)),
    activities.openMove(args),
  ]);
  expect(second).toEqual(first);
  expect(await db.contactChangeTask.count({ where: { moveId: request.id } })).toBe(20);
  expect(await db.openRoleLock.count({ where: { serviceId: { in: ids } } })).toBe(20);
  expect(beats.length).toBeGreaterThanOrEqual(1);
});

test('each item is re-checked at apply: a role no longer held, or an asker no longer entitled, is skipped with its reason', async () => {
  const { moveId } = await acceptedMove(3);
  const db = database.db;
  const ad = await db.account.findUniqueOrThrow({ where: { handle: 'ad1-ovh' } });
  const ne = await db.account.findUniqueOrThrow({ where: { handle: 'ne4-ovh' } });
  const te = await db.account.findUniqueOrThrow({ where: { handle: 'te2-ovh' } });
  // Meanwhile: s00's tech changed hands; s01's admin is no longer the asker.
  await db.service.update({ where: { name: `r${run}-s00.example` }, data: { techId: ad.id } });
  await db.service.update({ where: { name: `r${run}-s01.example` }, data: { adminId: te.id } });
  const result = await activities.applyMoveChunks({ moveId, chunkSize: 500, maxChunks: 1 });
  expect(result.counts).toEqual({ total: 3, applied: 1, skipped: 2, refused: 0, remaining: 0 });
  const items = await db.contactChangeTask.findMany({ where: { moveId }, orderBy: { serviceName: 'asc' } });
  expect(items.map((item) => [item.state, item.reason])).toEqual([
    ['refused', 'roleNoLongerHeld'],
    ['aborted', 'askerNoLongerEntitled'],
    ['done', null],
  ]);
  expect((await contactsOf(db, `r${run}-s02.example`)).tech).toBe(ne.handle);
});

test('a service whose moved roles are several gets each of them, and keeps the roles not moved', async () => {
  const { moveId, ids } = await acceptedMove(3, {
    from: 'ad1-ovh',
    roles: ['contactAdmin', 'contactBilling'],
  });
  const result = await activities.applyMoveChunks({ moveId, chunkSize: 2, maxChunks: 10 });
  expect(result.counts).toMatchObject({ total: 3, applied: 3, remaining: 0 });
  for (let i = 0; i < 3; i++)
    expect(await contactsOf(database.db, `r${run}-s0${i}.example`)).toEqual({
      admin: 'ne4-ovh',
      tech: 'te2-ovh',
      billing: 'ne4-ovh',
    });
  expect(await database.db.openRoleLock.count({ where: { serviceId: { in: ids } } })).toBe(0);
});

test('one code mail per validator for the whole move; a retried send mails the same code and sends nothing twice', async () => {
  const { moveId } = await acceptedMove(2);
  const before = mailbox.messages().length;
  const first = await activities.issueMoveCodes({ moveId, handles: ['ad1-ovh', 'ne4-ovh'], step: 'created' });
  const again = await activities.issueMoveCodes({ moveId, handles: ['ad1-ovh', 'ne4-ovh'], step: 'created' });
  expect(again.codeDigests).toEqual(first.codeDigests);
  const mails = await Promise.all(
    ['ad1-ovh', 'ne4-ovh'].map((handle) =>
      mailbox.waitFor((m) => m.id > before && m.to.includes(`${handle}@mail.test`)),
    ),
  );
  expect(mailbox.messages().filter((m) => m.id > before)).toHaveLength(2);
  const { code, link } = readCodeEmail(mails[1]);
  expect(link).toContain(`/validate-move/${moveId}#code=`);
  expect(mails[0].subject).toContain('Traslado'); // the asker reads Spanish
  expect(codeDigest(hashMoveCode(codeHashKey, moveId, 'ne4-ovh', code))).toBe(first.codeDigests['ne4-ovh']);
});

test('two attempts of one step at once (a workflow task retried while the first still runs) send each mail once', async () => {
  const { moveId } = await acceptedMove(2);
  const before = mailbox.messages().length;
  const handles = ['ad1-ovh', 'ne4-ovh'];
  const attempts = await Promise.allSettled([
    activities.issueMoveCodes({ moveId, handles, step: 'created' }),
    activities.issueMoveCodes({ moveId, handles, step: 'created' }),
  ]);
  // An attempt that finds a mail claimed by the other fails, to be retried (both may, each having claimed one);
  // the retry finds every mail sent and sends nothing.
  for (const attempt of attempts)
    if (attempt.status === 'rejected') expect(String(attempt.reason)).toMatch(/another attempt/);
  await activities.issueMoveCodes({ moveId, handles, step: 'created' });
  await Promise.all(
    handles.map((handle) => mailbox.waitFor((m) => m.id > before && m.to.includes(`${handle}@mail.test`))),
  );
  expect(mailbox.messages().filter((m) => m.id > before)).toHaveLength(2);
});
