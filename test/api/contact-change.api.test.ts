import { createSmtpMailer } from '../../activities/mailer';
import { createApp } from '../../api/app';
import { createLogger } from '../../lib/logger';
import { readCodeEmail } from '../../lib/mailbox';
import { createWorker } from '../../worker/worker';
import { contactsOf, createAccounts, createService } from '../helpers/fixtures';
import { askTechChange, changeEmail, codeMailFor, endedTask, login, type Session } from '../helpers/http';
import { startStack, type Stack } from '../helpers/stack';

let stack: Stack;
const ADMIN = 'ad11111-ovh';
const TECH = 'te22222-ovh';
const BILLING = 'bi33333-ovh';
const NEWBIE = 'ne44444-ovh';
const STRANGER = 'st55555-ovh';
const ARREARS = 'ar66666-ovh';

beforeAll(async () => {
  // A resend interval long enough that "too soon" holds however slow the machine is between two requests (the
  // test server's clock is moved past it with env.sleep, not waited for).
  stack = await startStack({ env: { RESEND_MIN_INTERVAL: '30s' } });
  await createAccounts(stack.database.db, [
    { handle: ADMIN, language: 'es' },
    { handle: TECH, language: 'fr' },
    { handle: BILLING },
    { handle: NEWBIE },
    { handle: STRANGER },
    { handle: ARREARS, billingStanding: 'arrears' },
  ]);
  for (const name of [
    'story.example',
    'refusal.example',
    'resend.example',
    'cancel.example',
    'rules.example',
    'retry.example',
    'outage.example',
    'mailless.example',
    'noworker.example',
    'privacy.example',
  ]) {
    await createService(stack.database.db, { name, admin: ADMIN, tech: TECH, billing: BILLING });
  }
});
afterAll(async () => {
  await stack?.teardown();
});

test("the guide's story through the API: ask, both validate with their emailed codes, the change is applied and everyone told", async () => {
  const admin = await login(stack, ADMIN);
  const newbie = await login(stack, NEWBIE);
  const id = await askTechChange(admin, 'story.example', NEWBIE);

  const adminCode = await codeMailFor(stack, ADMIN, id);
  const newbieCode = await codeMailFor(stack, NEWBIE, id);
  expect(adminCode.code).not.toEqual(newbieCode.code);
  expect(adminCode.link).toBe(`http://contacts.test/validate/${id}#code=${adminCode.code}&for=${ADMIN}`);
  const informed = await stack.mailbox.waitFor((m) => m.to.includes(`${TECH}@mail.test`));
  expect(informed.subject).toContain('Demande de changement de contact'); // the old tech reads French

  const pending = (await newbie.get(`/1.0/me/task/contactChange/${id}`).expect(200)).body;
  expect(pending).toMatchObject({
    id,
    askingAccount: ADMIN,
    fromAccount: TECH,
    toAccount: NEWBIE,
    contactTypes: ['contactTech'],
    serviceDomain: 'story.example',
    state: 'validatingByCustomers',
    awaiting: [ADMIN, NEWBIE],
  });
  expect(
    (await newbie.get('/1.0/me/task/contactChange?state=validatingByCustomers').expect(200)).body,
  ).toContain(id);

  const wrong = await newbie
    .post(`/1.0/me/task/contactChange/${id}/accept`, { token: 'WRONGCODE9' })
    .expect(403);
  expect(wrong.body).toMatchObject({ class: 'Client::Forbidden', reason: 'wrongCode', attemptsLeft: 4 });
  const stolen = await newbie
    .post(`/1.0/me/task/contactChange/${id}/accept`, { token: adminCode.code })
    .expect(403);
  expect(stolen.body.reason).toBe('wrongCode'); // a code is personal: the admin's code is no good to the new contact

  const first = await admin
    .post(`/1.0/me/task/contactChange/${id}/accept`, { token: adminCode.code.toLowerCase() })
    .expect(200);
  expect(first.body.outcome).toBe('accepted');
  expect(first.body.task.awaiting).toEqual([NEWBIE]);
  // The answer shows the decision whether or not its write has landed yet (it follows the Update's answer).
  expect(first.body.task.validators).toContainEqual(
    expect.objectContaining({ handle: ADMIN, status: 'accepted' }),
  );
  expect(first.body.task.history).toContainEqual(
    expect.objectContaining({ actor: ADMIN, action: 'accepted' }),
  );
  const again = await admin
    .post(`/1.0/me/task/contactChange/${id}/accept`, { token: adminCode.code })
    .expect(409);
  expect(again.body.reason).toBe('alreadyDecided');

  await newbie.post(`/1.0/me/task/contactChange/${id}/accept`, { token: newbieCode.code }).expect(200);
  const done = await endedTask(stack, newbie, id);
  expect(done.state).toBe('done');
  expect(done.dateDone).toBeDefined();
  expect(done.history.map((h: { action: string }) => h.action)).toEqual(
    expect.arrayContaining(['created', 'wrongCode', 'accepted', 'applied']),
  );
  expect(await contactsOf(stack.database.db, 'story.example')).toEqual({
    admin: ADMIN,
    tech: NEWBIE,
    billing: BILLING,
  });

  await stack.mailbox.waitFor(
    (m) => m.to.includes(`${ADMIN}@mail.test`) && m.subject.includes('Cambio de contacto realizado'),
  );
  await stack.mailbox.waitFor(
    (m) => m.to.includes(`${NEWBIE}@mail.test`) && m.subject.includes('Contact change done'),
  );
  await stack.mailbox.waitFor((m) => m.to.includes(`${TECH}@mail.test`) && m.subject.includes("n'êtes plus"));
});

test('a refusal by the new contact ends the task; the contacts do not change', async () => {
  const admin = await login(stack, ADMIN);
  const newbie = await login(stack, NEWBIE);
  const id = await askTechChange(admin, 'refusal.example', NEWBIE);
  const { code } = await codeMailFor(stack, NEWBIE, id);
  const result = await newbie.post(`/1.0/me/task/contactChange/${id}/refuse`, { token: code }).expect(200);
  expect(result.body.outcome).toBe('refused');
  const task = await endedTask(stack, admin, id);
  expect(task).toMatchObject({ state: 'refused', reason: 'refusedByContact' });
  expect(await contactsOf(stack.database.db, 'refusal.example')).toMatchObject({ tech: TECH });
  const late = await admin
    .post(`/1.0/me/task/contactChange/${id}/accept`, { token: 'ANYTHING22' })
    .expect(409);
  expect(late.body.reason).toBe('taskNotOpen');
});

test('the new contact corrects its email address, asks for the email again, and validates with the fresh code', async () => {
  const admin = await login(stack, ADMIN);
  const newbie = await login(stack, NEWBIE);
  const id = await askTechChange(admin, 'resend.example', NEWBIE);
  const old = await codeMailFor(stack, NEWBIE, id);
  await changeEmail(stack, newbie, 'newbie.fixed@mail.test');
  await stack.env.sleep(31_000); // past RESEND_MIN_INTERVAL on the test server's clock
  const mark = stack.mailbox.messages().length;
  expect((await newbie.post(`/1.0/me/task/contactChange/${id}/resendEmail`).expect(200)).body).toEqual({
    resentTo: [NEWBIE],
    notYet: [],
  });
  const tooSoon = await newbie.post(`/1.0/me/task/contactChange/${id}/resendEmail`).expect(429);
  expect(tooSoon.body).toMatchObject({ reason: 'resendTooSoon' });
  expect(tooSoon.body.retryAfterSeconds).toBeGreaterThan(0);
  expect(tooSoon.body.retryAfterSeconds).toBeLessThanOrEqual(30);
  expect(tooSoon.headers['retry-after']).toBe(String(tooSoon.body.retryAfterSeconds));
  const fresh = await stack.mailbox
    .waitFor((m) => m.id > mark && m.to.includes('newbie.fixed@mail.test'))
    .then(readCodeEmail);
  expect(fresh.code).not.toBe(old.code);
  // The old code is told apart from a wrong one: a newer mail replaced it.
  expect(
    (await newbie.post(`/1.0/me/task/contactChange/${id}/accept`, { token: old.code }).expect(403)).body
      .reason,
  ).toBe('supersededCode');
  await newbie.post(`/1.0/me/task/contactChange/${id}/accept`, { token: fresh.code }).expect(200);
  await changeEmail(stack, newbie, `${NEWBIE}@mail.test`);
  await admin.post(`/1.0/me/task/contactChange/${id}/cancel`).expect(200);
});

test('the asker cancels a pending task; nobody else can', async () => {
  const admin = await login(stack, ADMIN);
  const newbie = await login(stack, NEWBIE);
  const id = await askTechChange(admin, 'cancel.example', NEWBIE);
  expect((await newbie.post(`/1.0/me/task/contactChange/${id}/cancel`).expect(403)).body.reason).toBe(
    'notTheAsker',
  );
  const cancelled = await admin.post(`/1.0/me/task/contactChange/${id}/cancel`).expect(200);
  expect(cancelled.body).toMatchObject({ state: 'aborted', reason: 'cancelledByAsker' });
  await admin.post(`/1.0/me/task/contactChange/${id}/cancel`).expect(409);
});

test('cancelling answers at once even while the mail server is down (the mails follow later)', async () => {
  const admin = await login(stack, ADMIN);
  const id = await askTechChange(admin, 'outage.example', NEWBIE);
  await codeMailFor(stack, NEWBIE, id);
  // The creation mails are all out (the old tech's notice, in French, is the last): only the end mails will wait.
  await stack.mailbox.waitFor((m) => m.to.includes(`${TECH}@mail.test`) && m.text.includes(`n° ${id})`));
  stack.mailbox.setDown(true);
  try {
    const cancelled = await admin.post(`/1.0/me/task/contactChange/${id}/cancel`).timeout(8000).expect(200);
    expect(cancelled.body).toMatchObject({ state: 'aborted', reason: 'cancelledByAsker' });
  } finally {
    stack.mailbox.setDown(false);
  }
  await stack.mailbox.waitFor(
    (m) => m.to.includes(`${NEWBIE}@mail.test`) && m.subject.includes('cancelled'),
    30_000,
  );
});

test('a request answers while the mail server is down; its code mails follow once it is back', async () => {
  const admin = await login(stack, ADMIN);
  stack.mailbox.setDown(true);
  let id: number;
  try {
    const started = Date.now();
    id = await askTechChange(admin, 'mailless.example', NEWBIE);
    // The answer comes from the task's row, written before the opening mails: it does not wait for them.
    expect(Date.now() - started).toBeLessThan(8_000);
  } finally {
    stack.mailbox.setDown(false);
  }
  await codeMailFor(stack, NEWBIE, id);
  await admin.post(`/1.0/me/task/contactChange/${id}/cancel`).expect(200);
});

test('every rule refusal answers a clear error and creates nothing', async () => {
  const tech = await login(stack, TECH);
  const admin = await login(stack, ADMIN);
  const stranger = await login(stack, STRANGER);
  const before = await stack.database.db.contactChangeTask.count();
  const cases: [Session, object, number, string][] = [
    [tech, { contactBilling: NEWBIE }, 403, 'roleNotAllowed'],
    [tech, { contactAdmin: NEWBIE }, 403, 'roleNotAllowed'],
    [stranger, { contactTech: NEWBIE }, 404, 'notFound'],
    [admin, { contactTech: 'zz99999-ovh' }, 422, 'contactNotEligible'],
    [admin, { contactTech: TECH }, 422, 'sameAsCurrent'],
    [admin, { contactBilling: ARREARS }, 422, 'contactNotEligible'],
    [admin, {}, 400, 'nothingToChange'],
    [admin, { contactTech: 'not a handle' }, 400, 'invalidInput'],
    [admin, { contactTech: NEWBIE, owner: 'x' }, 400, 'invalidInput'],
  ];
  for (const [session, body, status, reason] of cases) {
    const response = await session.post('/1.0/domain/rules.example/changeContact', body);
    expect({ body, status: response.status, reason: response.body.reason }).toEqual({ body, status, reason });
    expect(response.body.class).toMatch(/^Client::/);
  }
  expect((await admin.post('/1.0/vps/rules.example/changeContact', { contactTech: NEWBIE })).status).toBe(
    404,
  );
  expect(await stack.database.db.contactChangeTask.count()).toBe(before);

  const id = await askTechChange(admin, 'rules.example', NEWBIE);
  const second = await admin
    .post('/1.0/domain/rules.example/changeContact', { contactTech: STRANGER })
    .expect(409);
  expect(second.body.reason).toBe('taskAlreadyOpen');
  await admin.post(`/1.0/me/task/contactChange/${id}/cancel`).expect(200);
});

test('a retried request answers the same task instead of creating a second one', async () => {
  const admin = await login(stack, ADMIN);
  const [a, b] = await Promise.all([
    admin.post('/1.0/domain/retry.example/changeContact', { contactTech: NEWBIE, contactBilling: NEWBIE }),
    admin.post('/1.0/domain/retry.example/changeContact', { contactTech: NEWBIE, contactBilling: NEWBIE }),
  ]);
  expect(a.status).toBe(200);
  expect(b.status).toBe(200);
  expect(a.body).toHaveLength(2);
  expect(b.body).toEqual(a.body);
  const third = await admin.post('/1.0/domain/retry.example/changeContact', {
    contactTech: NEWBIE,
    contactBilling: NEWBIE,
  });
  expect(third.body).toEqual(a.body);
  expect(await stack.database.db.contactChangeTask.count({ where: { serviceName: 'retry.example' } })).toBe(
    2,
  );
  for (const id of a.body) await admin.post(`/1.0/me/task/contactChange/${id}/cancel`).expect(200);
});

test('with no worker running, a request answers 503 to retry; the same request then answers its one task', async () => {
  const { db } = stack.database;
  const taskQueue = `${stack.config.TEMPORAL_TASK_QUEUE}-unserved`;
  const config = { ...stack.config, TEMPORAL_TASK_QUEUE: taskQueue, TASK_REGISTRATION_TIMEOUT: 1000 };
  const app = createApp({ db, temporal: stack.env.client, config, logger: createLogger('silent') });
  const admin = await login({ ...stack, app }, ADMIN);
  const ask = () => admin.post('/1.0/domain/noworker.example/changeContact', { contactTech: NEWBIE });

  const unserved = await ask().expect(503);
  expect(unserved.body).toMatchObject({ reason: 'taskNotRegisteredYet' });
  expect(await db.contactChangeTask.count({ where: { serviceName: 'noworker.example' } })).toBe(0);

  const mailer = createSmtpMailer(config.SMTP_URL, config.MAIL_FROM);
  const worker = await createWorker({
    connection: stack.env.nativeConnection,
    namespace: 'default',
    taskQueue,
    deps: { db, mailer, codeHashKey: config.CODE_HASH_KEY, publicBaseUrl: config.PUBLIC_BASE_URL },
  });
  // As a client does: send the same request again while it answers 503 (a loaded machine may need a few tries).
  const askUntilTaken = async (): Promise<number[]> => {
    for (let attempt = 1; ; attempt++) {
      const response = await ask();
      if (response.status === 200) return response.body;
      expect(response.body).toMatchObject({ reason: 'taskNotRegisteredYet' });
      if (attempt === 20) throw new Error('still not registered after 20 tries');
    }
  };
  await worker.runUntil(async () => {
    const [id] = await askUntilTaken();
    expect(await askUntilTaken()).toEqual([id]);
    expect(await db.contactChangeTask.count({ where: { serviceName: 'noworker.example' } })).toBe(1);
    await admin.post(`/1.0/me/task/contactChange/${id}/cancel`).expect(200);
  });
  mailer.close();
});

test("one account never sees another's tasks or services", async () => {
  const admin = await login(stack, ADMIN);
  const stranger = await login(stack, STRANGER);
  const id = await askTechChange(admin, 'privacy.example', NEWBIE);
  expect((await admin.get('/1.0/me/task/contactChange').expect(200)).body).toContain(id);
  const hidden = await stranger.get(`/1.0/me/task/contactChange/${id}`).expect(404);
  const missing = await stranger.get('/1.0/me/task/contactChange/999999').expect(404);
  expect(hidden.body.message).toBe(missing.body.message);
  expect((await stranger.get('/1.0/me/task/contactChange').expect(200)).body).toEqual([]);
  await stranger.post(`/1.0/me/task/contactChange/${id}/accept`, { token: 'ABCDEFGHJK' }).expect(404);
  await stranger.post(`/1.0/me/task/contactChange/${id}/resendEmail`).expect(404);
  await stranger.post(`/1.0/me/task/contactChange/${id}/cancel`).expect(404);
  await stranger.get('/1.0/domain/privacy.example/serviceInfos').expect(404);
  const infos = await admin.get('/1.0/domain/privacy.example/serviceInfos').expect(200);
  expect(infos.body).toMatchObject({ contactAdmin: ADMIN, contactTech: TECH, myRoles: ['contactAdmin'] });
  await admin.post(`/1.0/me/task/contactChange/${id}/cancel`).expect(200);
});

test("the form's check judges each new contact on its own and says who would validate, creating nothing", async () => {
  const admin = await login(stack, ADMIN);
  const before = await stack.database.db.contactChangeTask.count();
  const checked = await admin
    .post('/1.0/domain/rules.example/changeContact/check', { contactTech: NEWBIE, contactBilling: ARREARS })
    .expect(200);
  expect(checked.body.problems).toEqual({
    contactBilling: expect.objectContaining({ reason: expect.any(String) }),
  });
  expect(checked.body.tasks).toEqual([
    expect.objectContaining({ contactTypes: ['contactTech'], fromAccount: TECH, toAccount: NEWBIE }),
  ]);
  expect(await stack.database.db.contactChangeTask.count()).toBe(before);
});
