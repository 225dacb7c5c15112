import request from 'supertest';
import { ovhSignature } from '../../api/auth/signature';
import { createAccounts, createService } from '../helpers/fixtures';
import { login } from '../helpers/http';
import { startStack, type Stack } from '../helpers/stack';

let stack: Stack;
const OWNER = 'ow11111-ovh';
const OTHER = 'ot22222-ovh';
const RETRIER = 're33333-ovh';

beforeAll(async () => {
  stack = await startStack();
  await createAccounts(stack.database.db, [{ handle: OWNER }, { handle: OTHER }, { handle: RETRIER }]);
  for (let i = 0; i < 7; i++) {
    await createService(stack.database.db, {
      name: `svc-${i}.example`,
      type: i % 2 ? 'vps' : 'domain',
      admin: OWNER,
      tech: i < 3 ? OWNER : OTHER,
      billing: OTHER,
    });
  }
  await createService(stack.database.db, {
    name: 'not-mine.example',
    admin: OTHER,
    tech: OTHER,
    billing: OTHER,
  });
});
afterAll(async () => {
  await stack?.teardown();
});

describe('bad input gets a clear 4xx in the provider style and changes nothing', () => {
  test.each([
    [
      'malformed JSON',
      (s: request.Test) => s.set('Content-Type', 'application/json').send('{"contactTech":'),
      400,
      'malformedJson',
    ],
    [
      'a body that is not JSON',
      (s: request.Test) => s.set('Content-Type', 'text/plain').send('contactTech=x'),
      415,
      'unsupportedMediaType',
    ],
    [
      'an oversize body',
      (s: request.Test) => s.send({ contactTech: 'x'.repeat(20_000) }),
      413,
      'bodyTooLarge',
    ],
    ['a wrong type', (s: request.Test) => s.send({ contactTech: 42 }), 400, 'invalidInput'],
    ['an unknown field', (s: request.Test) => s.send({ contactOwner: OTHER }), 400, 'invalidInput'],
    ['a JSON array', (s: request.Test) => s.send([OTHER]), 400, 'invalidInput'],
  ])('%s', async (_name, build, status, reason) => {
    const owner = await login(stack, OWNER);
    const before = await stack.database.db.contactChangeTask.count();
    const response = await build(
      owner.agent.post('/1.0/domain/svc-0.example/changeContact').set('X-CSRF-Token', owner.csrf),
    );
    expect(response.status).toBe(status);
    expect(response.body).toMatchObject({
      class: expect.stringMatching(/^Client::/),
      reason,
      message: expect.any(String),
    });
    expect(response.body.requestId).toBe(response.headers['x-request-id']);
    expect(await stack.database.db.contactChangeTask.count()).toBe(before);
  });

  test('bad ids, bad states, unknown routes and bad tokens', async () => {
    const owner = await login(stack, OWNER);
    expect((await owner.get('/1.0/me/task/contactChange/abc')).body.reason).toBe('invalidInput');
    expect((await owner.get('/1.0/me/task/contactChange/-1')).status).toBe(400);
    expect((await owner.get('/1.0/me/task/contactChange/99999999999')).status).toBe(400);
    expect((await owner.get('/1.0/me/task/contactChange?state=nope')).status).toBe(400);
    expect((await owner.get('/1.0/me/task/contactChange?state=done&extra=1')).status).toBe(400);
    expect((await owner.post('/1.0/me/task/contactChange/1/accept', { token: '' })).status).toBe(400);
    expect((await owner.post('/1.0/me/task/contactChange/1/accept', { token: 'x'.repeat(65) })).status).toBe(
      400,
    );
    expect((await owner.get('/nowhere')).body).toMatchObject({
      class: 'Client::NotFound',
      reason: 'routeNotFound',
    });
    expect((await owner.put('/1.0/me', { email: 'not-an-email' })).status).toBe(400);
    expect((await owner.put('/1.0/me', { language: 'de' })).status).toBe(400);
    expect((await owner.put('/1.0/me', {})).status).toBe(400);
    expect((await owner.get('/1.0/me').expect(200)).body.email).toBe(`${OWNER}@mail.test`);
  });
});

test('an email change while the mail server refuses is answered 503 (try later) or 422 (refused for good), never 500, and changes nothing', async () => {
  const owner = await login(stack, OWNER);
  try {
    stack.mailbox.setFault({ refuse: 451 });
    const later = await owner.put('/1.0/me', { email: 'owner-new@mail.test' });
    expect([later.status, later.body.reason, later.headers['retry-after']]).toEqual([
      503,
      'mailUnavailable',
      '5',
    ]);
    stack.mailbox.setFault({ refuse: 550, atEndOfData: true });
    const refused = await owner.put('/1.0/me', { email: 'owner-new@mail.test' });
    expect([refused.status, refused.body.reason]).toEqual([422, 'emailRejected']);
  } finally {
    stack.mailbox.setFault(undefined);
  }
  const me = (await owner.get('/1.0/me').expect(200)).body;
  expect(me.email).toBe(`${OWNER}@mail.test`);
  expect(me.pendingEmail).toBeUndefined();
});

test('an email confirmation sent again (its answer lost) is answered as confirmed, and does nothing twice', async () => {
  const retrier = await login(stack, RETRIER);
  const newEmail = 'retrier-new@mail.test';
  const mark = stack.mailbox.messages().length;
  expect((await retrier.put('/1.0/me', { email: newEmail }).expect(200)).body.pendingEmail).toBe(newEmail);
  const mail = await stack.mailbox.waitFor((m) => m.id > mark && m.to.includes(newEmail));
  const token = /confirmEmail=([\w-]+)/.exec(mail.text)![1];
  const first = await retrier.post('/1.0/me/email/confirm', { token }).expect(200);
  expect(first.body.email).toBe(newEmail);
  await stack.mailbox.waitFor((m) => m.id > mark && m.subject.includes('has changed'));
  const again = await retrier.post('/1.0/me/email/confirm', { token }).expect(200);
  expect(again.body).toEqual(first.body);
  const me = (await retrier.get('/1.0/me').expect(200)).body;
  expect(me).toMatchObject({ email: newEmail });
  expect(me.pendingEmail).toBeUndefined();
  // Another account's session learns nothing of it.
  const other = await login(stack, OTHER);
  expect((await other.post('/1.0/me/email/confirm', { token }).expect(404)).body.reason).toBe(
    'emailChangeNotFound',
  );
  // Once a newer change is asked, the confirmed token is gone with the rest.
  await retrier.put('/1.0/me', { email: 'retrier-newer@mail.test' }).expect(200);
  await retrier.post('/1.0/me/email/confirm', { token }).expect(404);
  await retrier.agent.delete('/1.0/me/email/pending').set('X-CSRF-Token', retrier.csrf).expect(204);
  const told = stack.mailbox.messages().filter((m) => m.id > mark && m.subject.includes('has changed'));
  expect(told).toHaveLength(1);
});

describe('sessions', () => {
  test('a wrong password, no session, or a change without the CSRF token is refused', async () => {
    await request(stack.app).post('/auth/login').send({ handle: OWNER, password: 'wrong' }).expect(401);
    await request(stack.app)
      .post('/auth/login')
      .send({ handle: 'zz00000-ovh', password: 'wrong' })
      .expect(401);
    await request(stack.app).get('/1.0/me').expect(401);
    const owner = await login(stack, OWNER);
    const noCsrf = await owner.agent.put('/1.0/me').send({ language: 'fr' }).expect(403);
    expect(noCsrf.body.reason).toBe('csrfTokenInvalid');
    await owner.agent.put('/1.0/me').set('X-CSRF-Token', 'forged').send({ language: 'fr' }).expect(403);
    expect((await owner.get('/1.0/me')).body.language).toBe('en');
    const cookie = (
      await owner.agent.post('/auth/login').send({ handle: OWNER, password: 'correct horse battery staple' })
    ).headers['set-cookie'][0];
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
  });
});

test('guessing passwords is stopped by the rate limit, and logged', async () => {
  for (let attempt = 0; attempt < 10; attempt++) {
    await request(stack.app)
      .post('/auth/login')
      .send({ handle: OTHER, password: `guess-${attempt}` })
      .expect(401);
  }
  const blocked = await request(stack.app)
    .post('/auth/login')
    .send({ handle: OTHER, password: 'correct horse battery staple' });
  expect(blocked.status).toBe(429);
  expect(blocked.body.reason).toBe('rateLimited');
});

describe('contact management listing', () => {
  test('pages through my services by cursor, with filters by type, role and name', async () => {
    const owner = await login(stack, OWNER);
    const first = (await owner.get('/1.0/me/contactManagement/services?limit=3').expect(200)).body;
    expect(first.items.map((s: { serviceName: string }) => s.serviceName)).toEqual([
      'svc-0.example',
      'svc-1.example',
      'svc-2.example',
    ]);
    expect(first.items[0]).toEqual({
      serviceName: 'svc-0.example',
      serviceType: 'domain',
      contactAdmin: OWNER,
      contactTech: OWNER,
      contactBilling: OTHER,
      myRoles: ['contactAdmin', 'contactTech'],
    });
    const rest = (
      await owner.get(`/1.0/me/contactManagement/services?limit=10&cursor=${first.nextCursor}`).expect(200)
    ).body;
    expect(rest.items).toHaveLength(4);
    expect(rest.nextCursor).toBeNull();
    const vps = (await owner.get('/1.0/me/contactManagement/services?type=vps').expect(200)).body.items;
    expect(vps.map((s: { serviceName: string }) => s.serviceName)).toEqual([
      'svc-1.example',
      'svc-3.example',
      'svc-5.example',
    ]);
    const tech = (await owner.get('/1.0/me/contactManagement/services?role=contactTech').expect(200)).body
      .items;
    expect(tech).toHaveLength(3);
    const named = (await owner.get('/1.0/me/contactManagement/services?name=VC-6').expect(200)).body.items;
    expect(named.map((s: { serviceName: string }) => s.serviceName)).toEqual(['svc-6.example']);
    const other = await login(stack, OWNER);
    const admin = (
      await other.get('/1.0/me/contactManagement/services?role=contactAdmin&limit=200').expect(200)
    ).body.items;
    expect(admin).toHaveLength(7);
    expect((await owner.get('/1.0/me/contactManagement/services?limit=0')).status).toBe(400);
  });
});

describe("the provider's signed requests", () => {
  async function credentials() {
    const owner = await login(stack, OWNER);
    const app = (await owner.post('/1.0/me/api/application', { name: 'my script' }).expect(201)).body;
    const pending = (
      await request(stack.app)
        .post('/1.0/auth/credential')
        .set('X-Ovh-Application', app.applicationKey)
        .send({
          accessRules: [
            { method: 'GET', path: '/me' },
            { method: 'ALL', path: '/me/task/*' },
          ],
        })
        .expect(200)
    ).body;
    expect(pending).toMatchObject({
      state: 'pendingValidation',
      validationUrl: expect.stringContaining('http://contacts.test/credential/'),
    });
    const token = pending.validationUrl.split('/credential/')[1];
    await owner.post(`/1.0/auth/credential/${token}/validate`, { validity: '1d' }).expect(200);
    await owner.post(`/1.0/auth/credential/${token}/validate`, { validity: '1d' }).expect(404);
    return { ...app, consumerKey: pending.consumerKey as string };
  }

  function signed(
    creds: { applicationKey: string; applicationSecret: string; consumerKey: string },
    method: 'GET' | 'POST',
    path: string,
    body = '',
    tamper: { secret?: string; timestamp?: number; body?: string } = {},
  ) {
    const timestamp = tamper.timestamp ?? Math.floor(Date.now() / 1000);
    const signature = ovhSignature({
      applicationSecret: tamper.secret ?? creds.applicationSecret,
      consumerKey: creds.consumerKey,
      method,
      url: `http://contacts.test${path}`,
      body,
      timestamp,
    });
    const req = (method === 'GET' ? request(stack.app).get(path) : request(stack.app).post(path))
      .set('X-Ovh-Application', creds.applicationKey)
      .set('X-Ovh-Consumer', creds.consumerKey)
      .set('X-Ovh-Timestamp', String(timestamp))
      .set('X-Ovh-Signature', signature);
    const sent = tamper.body ?? body;
    return sent ? req.set('Content-Type', 'application/json').send(sent) : req;
  }

  test('GET /auth/time answers the server time', async () => {
    const time = (await request(stack.app).get('/1.0/auth/time').expect(200)).body;
    expect(Math.abs(time - Date.now() / 1000)).toBeLessThan(5);
  });

  test('a good signature authenticates; a wrong secret, an old timestamp or a tampered body do not', async () => {
    const creds = await credentials();
    expect((await signed(creds, 'GET', '/1.0/me').expect(200)).body.nichandle).toBe(OWNER);
    expect((await signed(creds, 'GET', '/1.0/me', '', { secret: 'wrong' }).expect(401)).body.reason).toBe(
      'invalidSignature',
    );
    const old = Math.floor(Date.now() / 1000) - 3600;
    expect((await signed(creds, 'GET', '/1.0/me', '', { timestamp: old }).expect(401)).body.reason).toBe(
      'timestampOutOfRange',
    );
    const body = JSON.stringify({ token: 'AAAAAAAAAA' });
    const tampered = await signed(creds, 'POST', '/1.0/me/task/contactChange/1/accept', body, {
      body: JSON.stringify({ token: 'BBBBBBBBBB' }),
    });
    expect(tampered.status).toBe(401);
    expect(tampered.body.reason).toBe('invalidSignature');
    expect((await signed(creds, 'GET', '/1.0/me/task/contactChange').expect(200)).body).toEqual([]);
    const notGranted = await signed(creds, 'GET', '/1.0/me/contactManagement/services').expect(403);
    expect(notGranted.body.reason).toBe('notGranted');
    const unknown = await request(stack.app)
      .get('/1.0/me')
      .set('X-Ovh-Application', creds.applicationKey)
      .set('X-Ovh-Consumer', 'nope')
      .set('X-Ovh-Timestamp', String(Math.floor(Date.now() / 1000)))
      .set('X-Ovh-Signature', '$1$00');
    expect(unknown.status).toBe(401);
  });
});

test('the OpenAPI document is served and describes the routes', async () => {
  const doc = (await request(stack.app).get('/1.0/openapi.json').expect(200)).body;
  expect(doc.openapi).toBe('3.0.3');
  expect(Object.keys(doc.paths)).toEqual(
    expect.arrayContaining([
      '/me/task/contactChange/{id}/accept',
      '/{serviceType}/{serviceName}/changeContact',
      '/me',
    ]),
  );
  expect(doc.components.schemas.ChangeContactBody.additionalProperties).toBe(false);
});

test('health and readiness', async () => {
  await request(stack.app).get('/health').expect(200);
  expect((await request(stack.app).get('/ready').expect(200)).body).toEqual({
    status: 'ready',
    database: 'ok',
    temporal: 'ok',
  });
});
