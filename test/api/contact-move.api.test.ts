import { Worker } from '@temporalio/worker';
import { createActivities } from '../../activities';
import { createSmtpMailer } from '../../activities/mailer';
import { createApp } from '../../api/app';
import { moveRequestKey } from '../../api/contact-moves';
import { createLogger } from '../../lib/logger';
import { moveBody } from '../../api/schemas';
import { readCodeEmail } from '../../lib/mailbox';
import { contactsOf, createAccounts, createService } from '../helpers/fixtures';
import { login, type Session } from '../helpers/http';
import { startStack, type Stack } from '../helpers/stack';
import { workflowBundle } from '../helpers/temporal';
import { eventually } from '../helpers/wait';

let stack: Stack;
const ADMIN = 'ad11111-ovh';
const TECH = 'te22222-ovh';
const BILLING = 'bi33333-ovh';
const NEWBIE = 'ne44444-ovh';
const STRANGER = 'st55555-ovh';
const MAX = 8;

beforeAll(async () => {
  stack = await startStack({ env: { MOVE_MAX_SERVICES: String(MAX) } });
  const db = stack.database.db;
  await createAccounts(db, [
    { handle: ADMIN, language: 'es' },
    { handle: TECH, language: 'fr' },
    { handle: BILLING },
    { handle: NEWBIE },
    { handle: STRANGER },
  ]);
  const mine = { admin: ADMIN, tech: TECH, billing: BILLING };
  for (const name of ['a.example', 'b.example', 'busy.example']) await createService(db, { name, ...mine });
  await createService(db, { name: 'shop-one.example', type: 'hosting/web', ...mine });
  await createService(db, { name: 'shop-two.example', type: 'hosting/web', ...mine });
  await createService(db, { name: 'site.example', type: 'hosting/web', ...mine });
  await createService(db, { name: 'toaster.example', type: 'toaster', ...mine });
  await createService(db, { name: 'notech.example', ...mine, tech: BILLING });
  await createService(db, { name: 'theirs.example', ...mine, admin: STRANGER });
});
afterAll(async () => {
  await stack?.teardown();
});

const techMove = (selection: object) => ({
  fromAccount: TECH,
  toAccount: NEWBIE,
  contactTypes: ['tech'],
  dryRun: true,
  ...selection,
});

describe('dry run', () => {
  test('answers per service whether it moves and why not, who validates and who is told; creates nothing', async () => {
    const admin = await login(stack, ADMIN);
    await admin.post('/1.0/domain/busy.example/changeContact', { contactTech: STRANGER }).expect(200);
    const services = [
      'a.example',
      'b.example',
      'busy.example',
      'toaster.example',
      'notech.example',
      'theirs.example',
      'nowhere.example',
    ];
    const before = await stack.database.db.contactChangeTask.count();
    const { body } = await admin.post('/1.0/me/contactMove', techMove({ services })).expect(200);
    expect(body).toMatchObject({
      dryRun: true,
      total: 7,
      movable: 2,
      byReason: { taskAlreadyOpen: 1, serviceTypeNotAllowed: 1, roleNotHeld: 1, notAContact: 2 },
      validators: [
        { handle: ADMIN, items: 2 },
        { handle: NEWBIE, items: 2 },
      ],
      informed: [TECH],
    });
    const byName = Object.fromEntries(
      body.items.map((item: { serviceName: string }) => [item.serviceName, item]),
    );
    expect(byName['a.example']).toEqual({
      serviceName: 'a.example',
      serviceType: 'domain',
      contactTypes: ['contactTech'],
      movable: true,
      validators: [ADMIN, NEWBIE],
      informed: [TECH],
    });
    expect(byName['busy.example']).toMatchObject({ movable: false, reason: 'taskAlreadyOpen' });
    // Someone else's service answers as one that does not exist: no type.
    expect(byName['theirs.example']).not.toHaveProperty('serviceType');
    expect(byName['nowhere.example']).toMatchObject({ movable: false, reason: 'notAContact' });
    expect(await stack.database.db.contactChangeTask.count()).toBe(before);
    expect(await contactsOf(stack.database.db, 'a.example')).toMatchObject({ tech: TECH });
  });

  test('a filter selects the services where fromAccount holds the role, narrowed by type and name', async () => {
    const admin = await login(stack, ADMIN);
    const { body } = await admin
      .post('/1.0/me/contactMove', techMove({ filter: { serviceType: 'hosting/web', nameContains: 'SHOP' } }))
      .expect(200);
    expect(body.items.map((item: { serviceName: string }) => item.serviceName)).toEqual([
      'shop-one.example',
      'shop-two.example',
    ]);
    // Unnarrowed: every service where the tech holds the role and the asker is a contact (theirs.example is not
    // the admin's business, notech.example has another tech).
    const all = (await admin.post('/1.0/me/contactMove', techMove({ filter: {} })).expect(200)).body;
    expect(all.total).toBe(7);
    expect(all.items.map((item: { serviceName: string }) => item.serviceName)).not.toContain(
      'theirs.example',
    );
  });

  test('a tech may move only its own role; the admin role of a service is not its to give', async () => {
    const tech = await login(stack, TECH);
    const { body } = await tech
      .post('/1.0/me/contactMove', {
        ...techMove({ services: ['a.example'] }),
        fromAccount: ADMIN,
        contactTypes: ['admin'],
      })
      .expect(200);
    expect(body.byReason).toEqual({ roleNotAllowed: 1 });
  });

  test('limits and bad input answer a clear 400', async () => {
    const admin = await login(stack, ADMIN);
    const many = Array.from({ length: MAX + 1 }, (_, i) => `s${i}.example`);
    const tooMany = await admin.post('/1.0/me/contactMove', techMove({ services: many })).expect(400);
    expect(tooMany.body).toMatchObject({ reason: 'tooManyServices', maxServices: MAX });
    const both = await admin
      .post('/1.0/me/contactMove', techMove({ services: ['a.example'], filter: {} }))
      .expect(400);
    expect(both.body.reason).toBe('invalidInput');
    const noRole = await admin
      .post('/1.0/me/contactMove', techMove({ services: ['a.example'], contactTypes: ['owner'] }))
      .expect(400);
    expect(noRole.body.reason).toBe('invalidInput');
  });
});

const codeMailFor = (handle: string, moveId: number, after = 0) =>
  stack.mailbox
    .waitFor(
      (m) =>
        m.id > after &&
        m.to.includes(`${handle}@mail.test`) &&
        m.text.includes(`/validate-move/${moveId}#code=`),
    )
    .then(readCodeEmail);

async function moveEnded(session: Session, id: number) {
  for (let i = 0; i < 200; i++) {
    const move = (await session.get(`/1.0/me/contactMove/${id}`).expect(200)).body;
    if (!['checking', 'todo', 'applying'].includes(move.state)) return move;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`move ${id} did not end`);
}

describe('a move', () => {
  test('one mail and one code per validator; one leaves a service out; the rest is applied, each item once', async () => {
    const db = stack.database.db;
    const mine = { admin: ADMIN, tech: TECH, billing: BILLING };
    for (const name of ['m1.example', 'm2.example', 'm3.example']) await createService(db, { name, ...mine });
    const admin = await login(stack, ADMIN);
    const newbie = await login(stack, NEWBIE);
    const mark = stack.mailbox.messages().length;
    const created = await admin
      .post('/1.0/me/contactMove', {
        ...techMove({ services: ['m1.example', 'm2.example', 'm3.example', 'notech.example'] }),
        dryRun: false,
      })
      .expect(201);
    const id = created.body.id as number;
    expect(created.body).toMatchObject({
      state: 'todo',
      askingAccount: ADMIN,
      counts: { total: 4, remaining: 3, skipped: 1 },
      byReason: { roleNotHeld: 1 },
      validators: [
        { handle: ADMIN, status: 'pending', items: 3 },
        { handle: NEWBIE, status: 'pending', items: 3 },
      ],
      informed: [TECH],
      cancellable: true,
    });

    const adminCode = await codeMailFor(ADMIN, id, mark);
    const newbieCode = await codeMailFor(NEWBIE, id, mark);
    const informed = await stack.mailbox.waitFor((m) => m.id > mark && m.to.includes(`${TECH}@mail.test`));
    expect(informed.text).toContain('m1.example');
    // The provider's task routes: each item is a task carrying the move's id.
    const items = (await admin.get(`/1.0/me/contactMove/${id}/item`).expect(200)).body.items;
    expect(items.map((item: { serviceName: string }) => item.serviceName)).toEqual([
      'm1.example',
      'm2.example',
      'm3.example',
      'notech.example',
    ]);
    const m1 = items[0].taskId as number;
    expect((await newbie.get(`/1.0/me/task/contactChange/${m1}`).expect(200)).body).toMatchObject({
      id: m1,
      moveId: id,
      state: 'validatingByCustomers',
      serviceDomain: 'm1.example',
      canCancel: false,
    });
    expect((await newbie.get('/1.0/me/task/contactChange').expect(200)).body).toContain(m1);

    const wrong = await newbie
      .post(`/1.0/me/contactMove/${id}/accept`, { token: adminCode.code })
      .expect(403);
    expect(wrong.body).toMatchObject({ reason: 'wrongCode', attemptsLeft: 4 });
    const notMine = await newbie
      .post(`/1.0/me/contactMove/${id}/accept`, { token: newbieCode.code, exclude: ['theirs.example'] })
      .expect(400);
    expect(notMine.body.reason).toBe('notInMove');
    // Accepting on one item's task route with the move's code accepts the move.
    const first = await admin
      .post(`/1.0/me/task/contactChange/${m1}/accept`, { token: adminCode.code })
      .expect(200);
    expect(first.body).toMatchObject({ outcome: 'accepted', task: { moveId: id } });
    // The acceptance covers every item the admin validates: each item's task shows it.
    expect(
      (await newbie.get(`/1.0/me/task/contactChange/${items[2].taskId}`).expect(200)).body,
    ).toMatchObject({
      state: 'validatingByCustomers',
      validators: [
        { handle: ADMIN, status: 'accepted' },
        { handle: NEWBIE, status: 'pending' },
      ],
      awaiting: [NEWBIE],
    });
    const last = await newbie
      .post(`/1.0/me/contactMove/${id}/accept`, { token: newbieCode.code, exclude: ['m2.example'] })
      .expect(200);
    expect(last.body.outcome).toBe('accepted');

    const done = await moveEnded(admin, id);
    expect(done).toMatchObject({
      state: 'done',
      counts: { total: 4, applied: 2, skipped: 1, refused: 1, remaining: 0 },
      byReason: { roleNotHeld: 1, excludedByValidator: 1 },
    });
    expect(done.history.map((h: { action: string }) => h.action)).toEqual(
      expect.arrayContaining(['moveCreated', 'wrongCode', 'moveAccepted', 'moveApplying', 'moveApplied']),
    );
    expect(await contactsOf(db, 'm1.example')).toMatchObject({ tech: NEWBIE });
    expect(await contactsOf(db, 'm2.example')).toMatchObject({ tech: TECH });
    expect(await contactsOf(db, 'm3.example')).toMatchObject({ tech: NEWBIE });
    const applied = await db.auditEvent.count({ where: { action: 'applied', task: { moveId: id } } });
    expect(applied).toBe(2);
    expect(
      await db.openRoleLock.count({
        where: { taskId: { in: items.map((i: { taskId: number }) => i.taskId) } },
      }),
    ).toBe(0);

    const end = await stack.mailbox.waitFor(
      (m) => m.id > mark && m.to.includes(`${NEWBIE}@mail.test`) && m.subject.includes('done'),
    );
    expect(end.text).toContain('2 services changed, 1 skipped and 1 left out or refused');
    // One code mail per validator for the whole move.
    const codeMails = stack.mailbox
      .messages()
      .filter((m) => m.id > mark && m.text.includes(`/validate-move/${id}#code=`));
    expect(codeMails).toHaveLength(2);
  });
});

describe("a move's items while it applies", () => {
  test('an item waiting for its chunk is in checkValidity on the task routes and the item list, its validators accepted', async () => {
    const db = stack.database.db;
    const mine = { admin: ADMIN, tech: TECH, billing: BILLING };
    for (const name of ['w1.example', 'w2.example']) await createService(db, { name, ...mine });
    const admin = await login(stack, ADMIN);
    const created = await admin
      .post('/1.0/me/contactMove', { ...techMove({ services: ['w1.example', 'w2.example'] }), dryRun: false })
      .expect(201);
    const id = created.body.id as number;
    const items = (await admin.get(`/1.0/me/contactMove/${id}/item`).expect(200)).body.items;
    const taskIds = items.map((item: { taskId: number }) => item.taskId);
    // The moment after the last acceptance's record: the move applying, its items still where they waited (the
    // apply writes each one when its chunk commits). Written here, as the workflow would have it, to look at it.
    const stored = await db.contactMove.findUniqueOrThrow({ where: { id } });
    await db.contactMove.update({ where: { id }, data: { state: 'applying' } });
    await db.contactMoveValidator.updateMany({
      where: { moveId: id },
      data: { status: 'accepted', decidedAt: new Date() },
    });
    try {
      expect(
        (await db.contactChangeTask.findMany({ where: { moveId: id } })).map((item) => item.state),
      ).toEqual(['validatingByCustomers', 'validatingByCustomers']);
      const task = (await admin.get(`/1.0/me/task/contactChange/${taskIds[0]}`).expect(200)).body;
      expect(task).toMatchObject({
        moveId: id,
        state: 'checkValidity',
        open: true,
        validators: [
          { handle: ADMIN, status: 'accepted' },
          { handle: NEWBIE, status: 'accepted' },
        ],
        awaiting: [],
        canResendTo: [],
      });
      expect(task.validators.every((v: { decidedAt?: string }) => v.decidedAt)).toBe(true);
      const checking = (await admin.get('/1.0/me/task/contactChange?state=checkValidity').expect(200)).body;
      expect(checking).toEqual(expect.arrayContaining(taskIds));
      const waiting = (await admin.get('/1.0/me/task/contactChange?state=validatingByCustomers').expect(200))
        .body as number[];
      expect(waiting.filter((taskId) => taskIds.includes(taskId))).toEqual([]);
      const listed = (await admin.get(`/1.0/me/contactMove/${id}/item?state=checkValidity`).expect(200)).body;
      expect(listed.items.map((item: { state: string }) => item.state)).toEqual([
        'checkValidity',
        'checkValidity',
      ]);
      const none = (await admin.get(`/1.0/me/contactMove/${id}/item?state=validatingByCustomers`).expect(200))
        .body;
      expect(none.items).toEqual([]);
    } finally {
      await db.contactMove.update({ where: { id }, data: { state: stored.state } });
      await db.contactMoveValidator.updateMany({
        where: { moveId: id },
        data: { status: 'pending', decidedAt: null },
      });
    }
    // Waiting for decisions again, the same items are validatingByCustomers in the filters too.
    const again = (await admin.get('/1.0/me/task/contactChange?state=validatingByCustomers').expect(200))
      .body;
    expect(again).toEqual(expect.arrayContaining(taskIds));
    await admin.post(`/1.0/me/contactMove/${id}/cancel`).expect(200);
    await moveEnded(admin, id);
  });
});

describe('a move and single tasks never hold the same role at once', () => {
  test('a single task on a role a move holds is refused; a move skips a role a single task holds', async () => {
    const db = stack.database.db;
    const mine = { admin: ADMIN, tech: TECH, billing: BILLING };
    for (const name of ['c1.example', 'c2.example']) await createService(db, { name, ...mine });
    const admin = await login(stack, ADMIN);
    await admin.post('/1.0/domain/c2.example/changeContact', { contactTech: STRANGER }).expect(200);
    const created = await admin
      .post('/1.0/me/contactMove', { ...techMove({ services: ['c1.example', 'c2.example'] }), dryRun: false })
      .expect(201);
    expect(created.body).toMatchObject({
      counts: { remaining: 1, skipped: 1 },
      byReason: { taskAlreadyOpen: 1 },
    });
    const refused = await admin
      .post('/1.0/domain/c1.example/changeContact', { contactTech: STRANGER })
      .expect(409);
    expect(refused.body.reason).toBe('taskAlreadyOpen');
    await admin.post(`/1.0/me/contactMove/${created.body.id}/cancel`).expect(200);
    const cancelled = await moveEnded(admin, created.body.id);
    expect(cancelled).toMatchObject({ state: 'cancelled', counts: { cancelled: 1, remaining: 0 } });
    // The move's locks are released: a single task may now be asked.
    await admin.post('/1.0/domain/c1.example/changeContact', { contactTech: STRANGER }).expect(200);
  });

  test('asked at the same moment, exactly one of a single task and a move gets the role', async () => {
    const db = stack.database.db;
    const service = await createService(db, {
      name: 'race.example',
      admin: ADMIN,
      tech: TECH,
      billing: BILLING,
    });
    await createService(db, { name: 'race-other.example', admin: ADMIN, tech: TECH, billing: BILLING });
    const admin = await login(stack, ADMIN);
    const [single, move] = await Promise.all([
      admin.post('/1.0/domain/race.example/changeContact', { contactTech: STRANGER }),
      admin.post('/1.0/me/contactMove', {
        ...techMove({ services: ['race.example', 'race-other.example'] }),
        dryRun: false,
      }),
    ]);
    const locks = await db.openRoleLock.findMany({ where: { serviceId: service.id } });
    expect(locks).toHaveLength(1);
    const holder = await db.contactChangeTask.findUniqueOrThrow({ where: { id: locks[0].taskId } });
    if (holder.moveId === null) {
      expect(single.status).toBe(200);
      expect(move.status).toBe(201);
      expect(move.body.byReason).toEqual({ taskAlreadyOpen: 1 });
    } else {
      expect(single.status).toBe(409);
      expect(move.body.counts.remaining).toBe(2);
    }
  });
});

describe('a retried create converges on one move', () => {
  const retryMove = (services: string[]) => ({ ...techMove({ services }), dryRun: false });

  test('the same request again (lost answer, 5xx, timeout) answers the same move, sent once or twice at once', async () => {
    const db = stack.database.db;
    const mine = { admin: ADMIN, tech: TECH, billing: BILLING };
    for (const name of ['r1.example', 'r2.example', 'r3.example']) await createService(db, { name, ...mine });
    const admin = await login(stack, ADMIN);
    const mark = stack.mailbox.messages().length;
    const first = await admin
      .post('/1.0/me/contactMove', retryMove(['r1.example', 'r2.example']))
      .expect(201);
    // The same request, its list in another order and with a repeat: the client's retry, not a second move.
    const again = await admin
      .post('/1.0/me/contactMove', retryMove(['r2.example', 'r1.example', 'r2.example']))
      .expect(201);
    expect(again.body).toMatchObject({
      id: first.body.id,
      state: 'todo',
      counts: { total: 2, remaining: 2 },
    });
    await codeMailFor(NEWBIE, first.body.id, mark);
    expect(await db.contactMoveRequest.count({ where: { id: { gte: first.body.id } } })).toBe(1);

    // Sent twice at the same moment: both answers are the one move.
    const [one, two] = await Promise.all([
      admin.post('/1.0/me/contactMove', retryMove(['r3.example'])),
      admin.post('/1.0/me/contactMove', retryMove(['r3.example'])),
    ]);
    expect([one.status, two.status]).toEqual([201, 201]);
    expect(two.body.id).toBe(one.body.id);
    expect(await db.contactMoveRequest.count({ where: { id: { gt: first.body.id } } })).toBe(1);

    // Once the move has ended, the same request is a new move.
    await admin.post(`/1.0/me/contactMove/${first.body.id}/cancel`).expect(200);
    await moveEnded(admin, first.body.id);
    const anew = await admin.post('/1.0/me/contactMove', retryMove(['r1.example', 'r2.example'])).expect(201);
    expect(anew.body.id).not.toBe(first.body.id);
    expect(anew.body.counts).toMatchObject({ total: 2, remaining: 2 });
    for (const id of [one.body.id, anew.body.id])
      await admin.post(`/1.0/me/contactMove/${id}/cancel`).expect(200);
  });

  test('a request frozen but never started (the API died before starting it) is started by the retry', async () => {
    const db = stack.database.db;
    const service = await createService(db, {
      name: 'r4.example',
      admin: ADMIN,
      tech: TECH,
      billing: BILLING,
    });
    const body = retryMove(['r4.example']);
    const frozen = await db.contactMoveRequest.create({
      data: {
        askingAccount: ADMIN,
        fromAccount: TECH,
        toAccount: NEWBIE,
        contactTypes: ['contactTech'],
        serviceIds: [service.id],
        selection: { services: 1 },
        requestKey: moveRequestKey(ADMIN, moveBody.parse(body)),
      },
    });
    const admin = await login(stack, ADMIN);
    const retried = await admin.post('/1.0/me/contactMove', body).expect(201);
    expect(retried.body).toMatchObject({ id: frozen.id, state: 'todo', counts: { total: 1, remaining: 1 } });
    await admin.post(`/1.0/me/contactMove/${frozen.id}/cancel`).expect(200);
  });
});

describe('a move recorded before its run has heard so', () => {
  test('is answered as the row has it (todo), not as the run still has it (checking)', async () => {
    const db = stack.database.db;
    const mine = { admin: ADMIN, tech: TECH, billing: BILLING };
    for (const name of ['heard1.example', 'heard2.example']) await createService(db, { name, ...mine });
    // A worker whose opening has written the move but not yet reported back (a loaded worker: load 11.8 in CI).
    const taskQueue = `${stack.config.TEMPORAL_TASK_QUEUE}-slow-opening`;
    const mailer = createSmtpMailer(stack.config.SMTP_URL, stack.config.MAIL_FROM);
    const activities = createActivities({
      db,
      mailer,
      codeHashKey: stack.config.CODE_HASH_KEY,
      publicBaseUrl: stack.config.PUBLIC_BASE_URL,
    });
    let reportBack!: () => void;
    const heldBack = new Promise<void>((resolve) => (reportBack = resolve));
    const worker = await Worker.create({
      connection: stack.env.nativeConnection,
      taskQueue,
      ...(await workflowBundle()),
      activities: {
        ...activities,
        openMove: async (args: Parameters<typeof activities.openMove>[0]) => {
          const opened = await activities.openMove(args);
          await heldBack;
          return opened;
        },
      },
    });
    const config = { ...stack.config, TEMPORAL_TASK_QUEUE: taskQueue };
    const app = createApp({ db, temporal: stack.env.client, config, logger: createLogger('silent') });
    const admin = await login({ ...stack, app }, ADMIN);
    const created = await worker.runUntil(async () => {
      // The worker stops only once its opening has reported back, whatever the answers were.
      try {
        return await admin
          .post('/1.0/me/contactMove', {
            ...techMove({ services: ['heard1.example', 'heard2.example'] }),
            dryRun: false,
          })
          .expect(201);
      } finally {
        reportBack();
      }
    });
    mailer.close();
    expect(created.body).toMatchObject({ state: 'todo', counts: { total: 2, remaining: 2 } });
    // Its worker is gone: the run is ended here, its services are this test's own.
    const move = await db.contactMove.findUniqueOrThrow({ where: { id: created.body.id as number } });
    await stack.env.client.workflow.getHandle(move.workflowId, move.runId).terminate('test ended');
  });
});

describe('a move still being recorded when the registration timeout passes', () => {
  test('is answered 202 with its id and state checking; polling it, or sending it again, finds it recorded', async () => {
    const db = stack.database.db;
    const mine = { admin: ADMIN, tech: TECH, billing: BILLING };
    for (const name of ['slow1.example', 'slow2.example']) await createService(db, { name, ...mine });
    // The same stack, with an API whose TASK_REGISTRATION_TIMEOUT no recording can beat.
    const config = { ...stack.config, TASK_REGISTRATION_TIMEOUT: 1 };
    const app = createApp({ db, temporal: stack.env.client, config, logger: createLogger('silent') });
    const admin = await login({ ...stack, app }, ADMIN);
    const body = { ...techMove({ services: ['slow1.example', 'slow2.example'] }), dryRun: false };
    const accepted = await admin.post('/1.0/me/contactMove', body).expect(202);
    expect(accepted.body).toEqual({ id: expect.any(Number), state: 'checking' });
    const id = accepted.body.id as number;
    // The client polls the move, as the 202 says, until its items are recorded.
    const recorded = await eventually('the move recorded', async () => {
      const move = (await admin.get(`/1.0/me/contactMove/${id}`).expect(200)).body;
      expect(move.state).toBe('todo');
      return move;
    });
    expect(recorded).toMatchObject({
      counts: { total: 2, remaining: 2 },
      validators: [{ handle: ADMIN }, { handle: NEWBIE }],
    });
    // Sent again (the client did not trust the 202): the same move.
    const again = await admin.post('/1.0/me/contactMove', body);
    expect([201, 202]).toContain(again.status);
    expect(again.body.id).toBe(id);
    await admin.post(`/1.0/me/contactMove/${id}/cancel`).expect(200);
  });
});
