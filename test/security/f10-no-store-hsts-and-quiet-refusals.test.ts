import request from 'supertest';
import { createApp } from '../../api/app';
import { createLogger } from '../../lib/logger';
import { createAccounts, createService } from '../helpers/fixtures';
import { login } from '../helpers/http';
import { startStack, type Stack } from '../helpers/stack';

/**
 * Finding 10: authenticated JSON could be cached, HSTS went out over plain http, and refusals told any contact
 * which handles exist and which third party is in arrears.
 */
let stack: Stack;
const ADMIN = 'ad11111-ovh';
const BILLING = 'bi22222-ovh';
const ARREARS = 'ar33333-ovh';
const GOOD = 'go44444-ovh';

beforeAll(async () => {
  stack = await startStack();
  await createAccounts(stack.database.db, [
    { handle: ADMIN },
    { handle: BILLING },
    { handle: ARREARS, billingStanding: 'arrears' },
    { handle: GOOD },
  ]);
  await createService(stack.database.db, { name: 'a.example', admin: ADMIN, tech: ADMIN, billing: BILLING });
  await createService(stack.database.db, { name: 'b.example', admin: ADMIN, tech: ADMIN, billing: ARREARS });
});
afterAll(async () => {
  await stack?.teardown();
});

test('answers about an account say Cache-Control: no-store', async () => {
  const session = await login(stack, ADMIN);
  for (const path of [
    '/1.0/me',
    '/auth/session',
    '/1.0/me/contactManagement/services',
    '/1.0/me/api/credential',
  ]) {
    expect({ path, cache: (await session.get(path).expect(200)).headers['cache-control'] }).toEqual({
      path,
      cache: 'no-store',
    });
  }
  const loginAnswer = await request(stack.app)
    .post('/auth/login')
    .send({ handle: ADMIN, password: 'correct horse battery staple' });
  expect(loginAnswer.headers['cache-control']).toBe('no-store');
});

test('HSTS only over https', async () => {
  expect((await request(stack.app).get('/login')).headers['strict-transport-security']).toBeUndefined();
  const behindTls = createApp({
    db: stack.database.db,
    temporal: stack.env.client,
    config: { ...stack.config, TRUSTED_PROXIES: ['loopback'] },
    logger: createLogger('silent'),
  });
  const secure = await request(behindTls).get('/login').set('X-Forwarded-Proto', 'https');
  expect(secure.headers['strict-transport-security']).toMatch(/max-age=/);
});

test("a missing handle and a third party in arrears give the same answer; only one's own arrears are named", async () => {
  const admin = await login(stack, ADMIN);
  const ask = async (session: typeof admin, service: string, body: object) =>
    (await session.post(`/1.0/domain/${service}/changeContact`, body)).body;
  const missing = await ask(admin, 'a.example', { contactBilling: 'zz99999-ovh' });
  const inArrears = await ask(admin, 'a.example', { contactBilling: ARREARS });
  const oldInArrears = await ask(admin, 'b.example', { contactBilling: GOOD });
  for (const answer of [missing, inArrears, oldInArrears]) {
    expect(answer.reason).toBe('contactNotEligible');
    expect(answer.message).not.toMatch(/exist|arrears/i);
  }
  expect(inArrears.message.replace(ARREARS, 'X')).toBe(missing.message.replace('zz99999-ovh', 'X'));
  expect((await ask(admin, 'a.example', { contactTech: 'zz99999-ovh' })).reason).toBe('contactNotEligible');
  const own = await ask(await login(stack, ARREARS), 'b.example', { contactBilling: GOOD });
  expect(own.reason).toBe('billingInArrears');
  expect(await stack.database.db.contactChangeTask.count()).toBe(0);
});
