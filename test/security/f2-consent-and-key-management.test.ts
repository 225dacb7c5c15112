import request from 'supertest';
import { createAccounts } from '../helpers/fixtures';
import { login } from '../helpers/http';
import { startStack, type Stack } from '../helpers/stack';
import { createApplication, requestCredential, signed } from './credentials';

/**
 * Finding 2: one click on "Allow" handed an account over for ever: the consent page showed nothing, the key
 * changed the email without confirmation, keys never expired and could be neither listed nor revoked.
 */
let stack: Stack;
const VICTIM = 'vi11111-ovh';
const ATTACKER = 'at22222-ovh';

beforeAll(async () => {
  stack = await startStack();
  await createAccounts(stack.database.db, [{ handle: VICTIM }, { handle: ATTACKER }]);
});
afterAll(async () => {
  await stack?.teardown();
});

test('the consent answer names the application, its rules, where it redirects and until when; only a person allows it', async () => {
  const attacker = await login(stack, ATTACKER);
  const victim = await login(stack, VICTIM);
  const app = await createApplication(attacker, 'Contact helper');
  const pending = await requestCredential(
    stack,
    app.applicationKey,
    [{ method: 'ALL', path: '/*' }],
    'https://evil.example/after',
  );
  expect(pending.validationUrl).not.toContain('redirection');
  const shown = (await victim.get(`/1.0/auth/credential/${pending.token}`).expect(200)).body;
  expect(shown).toMatchObject({
    application: { name: 'Contact helper', description: 'Contact helper, for tests' },
    accessRules: [{ method: 'ALL', path: '/*' }],
    redirection: 'https://evil.example/after',
    redirectionHost: 'evil.example',
    validities: ['1h', '1d', '30d', 'unlimited'],
  });
  const expiresIn = Date.parse(shown.expiresAt) - Date.now();
  expect(expiresIn).toBeGreaterThan(0);
  expect(expiresIn).toBeLessThanOrEqual(30 * 60_000);

  const creds = { ...app, consumerKey: pending.consumerKey };
  expect((await signed(stack, creds, 'GET', '/1.0/me')).status).toBe(401); // not validated yet
  await victim.post(`/1.0/auth/credential/${pending.token}/validate`, {}).expect(400); // no validity chosen
  const allowed = (
    await victim.post(`/1.0/auth/credential/${pending.token}/validate`, { validity: '1d' }).expect(200)
  ).body;
  expect(allowed).toMatchObject({ state: 'validated', redirection: 'https://evil.example/after' });
  expect(Date.parse(allowed.expiration) - Date.now()).toBeGreaterThan(86_000_000);
  expect(Date.parse(allowed.expiration) - Date.now()).toBeLessThanOrEqual(86_400_000);
  await victim.get(`/1.0/auth/credential/${pending.token}`).expect(404);

  // A key cannot approve another key for its account.
  const second = await requestCredential(stack, app.applicationKey, [{ method: 'GET', path: '/me' }]);
  const selfApproval = await signed(stack, creds, 'POST', `/1.0/auth/credential/${second.token}/validate`, {
    validity: 'unlimited',
  });
  expect(selfApproval.status).toBe(403);
  expect(selfApproval.body.reason).toBe('sessionRequired');
});

test('consumer keys and validation tokens are stored as hashes only; pending requests expire', async () => {
  const attacker = await login(stack, ATTACKER);
  const app = await createApplication(attacker);
  const pending = await requestCredential(stack, app.applicationKey, [{ method: 'GET', path: '/me' }]);
  const rows = JSON.stringify(
    await stack.database.db.$queryRawUnsafe('SELECT row_to_json(t)::text AS row FROM consumer_key t'),
  );
  expect(rows).toContain('key_hash');
  expect(rows).not.toContain(pending.consumerKey);
  expect(rows).not.toContain(pending.token);

  await stack.database.db.consumerKey.updateMany({
    data: { pendingUntil: new Date(Date.now() - 1000) },
    where: { state: 'pendingValidation' },
  });
  const victim = await login(stack, VICTIM);
  expect((await victim.get(`/1.0/auth/credential/${pending.token}`).expect(404)).body.reason).toBe(
    'credentialNotFound',
  );
  await victim.post(`/1.0/auth/credential/${pending.token}/validate`, { validity: '1h' }).expect(404);
});

test('a key with every right cannot move the account to another email: the new address must confirm, from a portal session', async () => {
  const attacker = await login(stack, ATTACKER);
  const victim = await login(stack, VICTIM);
  const app = await createApplication(attacker);
  const pending = await requestCredential(stack, app.applicationKey, [{ method: 'ALL', path: '/*' }]);
  await victim.post(`/1.0/auth/credential/${pending.token}/validate`, { validity: 'unlimited' }).expect(200);
  const creds = { ...app, consumerKey: pending.consumerKey };

  const mark = stack.mailbox.messages().length;
  const asked = await signed(stack, creds, 'PUT', '/1.0/me', { email: 'attacker@evil.test' }).expect(200);
  expect(asked.body).toMatchObject({ email: `${VICTIM}@mail.test`, pendingEmail: 'attacker@evil.test' });
  expect((await victim.get('/1.0/me').expect(200)).body.email).toBe(`${VICTIM}@mail.test`);
  const confirmation = await stack.mailbox.waitFor((m) => m.id > mark && m.to.includes('attacker@evil.test'));
  const told = await stack.mailbox.waitFor((m) => m.id > mark && m.to.includes(`${VICTIM}@mail.test`));
  expect(told.text).toContain('attacker@evil.test');
  const token = /confirmEmail=([\w-]+)/.exec(confirmation.text)![1];

  const byKey = await signed(stack, creds, 'POST', '/1.0/me/email/confirm', { token });
  expect(byKey.status).toBe(403);
  expect(byKey.body.reason).toBe('sessionRequired');
  const byOtherAccount = await attacker.post('/1.0/me/email/confirm', { token });
  expect(byOtherAccount.status).toBe(404);
  expect((await victim.get('/1.0/me').expect(200)).body.email).toBe(`${VICTIM}@mail.test`);

  // The account holder sees the key, cannot be out-extended by it, and revokes it.
  const ids = (await victim.get('/1.0/me/api/credential?status=validated').expect(200)).body as number[];
  const listed = await Promise.all(
    ids.map(async (id) => (await victim.get(`/1.0/me/api/credential/${id}`)).body),
  );
  const mine = listed.find((c) => c.applicationId === app.applicationId && c.rules[0].method === 'ALL')!;
  expect(mine).toMatchObject({ status: 'validated', expiration: null, creation: expect.any(String) });
  expect(mine.lastUse).not.toBeNull();
  expect((await victim.get(`/1.0/me/api/credential/${mine.credentialId}/application`)).body.name).toBe(
    'a script',
  );
  await attacker.get(`/1.0/me/api/credential/${mine.credentialId}`).expect(404);
  const shorter = new Date(Date.now() + 3_600_000).toISOString();
  await victim.put(`/1.0/me/api/credential/${mine.credentialId}`, { expiration: shorter }).expect(200);
  const extend = await signed(stack, creds, 'PUT', `/1.0/me/api/credential/${mine.credentialId}`, {
    expiration: null,
  });
  expect(extend.body.reason).toBe('sessionRequired');
  await victim.agent
    .delete(`/1.0/me/api/credential/${mine.credentialId}`)
    .set('X-CSRF-Token', victim.csrf)
    .expect(200);
  expect((await signed(stack, creds, 'GET', '/1.0/me')).status).toBe(401);
});

test('an expired key stops working; deleting an application ends its keys; applications are listed per owner', async () => {
  const owner = await login(stack, ATTACKER);
  const app = await createApplication(owner, 'expiring');
  const pending = await requestCredential(stack, app.applicationKey, [{ method: 'GET', path: '/me' }]);
  await owner.post(`/1.0/auth/credential/${pending.token}/validate`, { validity: '1h' }).expect(200);
  const creds = { ...app, consumerKey: pending.consumerKey };
  await signed(stack, creds, 'GET', '/1.0/me').expect(200);
  // The validity chosen is the key's expiration, as its owner sees it (before the fix: no expiry, no such route).
  const ids = (await owner.get('/1.0/me/api/credential?status=validated').expect(200)).body as number[];
  const keys = await Promise.all(
    ids.map(async (id) => (await owner.get(`/1.0/me/api/credential/${id}`)).body),
  );
  const expiring = keys.find((key) => key.applicationId === app.applicationId)!;
  expect(Date.parse(expiring.expiration) - Date.now()).toBeGreaterThan(50 * 60_000);
  expect(Date.parse(expiring.expiration) - Date.now()).toBeLessThanOrEqual(3_600_000);
  await stack.database.db.consumerKey.updateMany({
    where: { applicationId: app.applicationId },
    data: { expiresAt: new Date(Date.now() - 1000) },
  });
  expect((await signed(stack, creds, 'GET', '/1.0/me').expect(401)).body.reason).toBe('credentialExpired');

  expect((await owner.get('/1.0/me/api/application').expect(200)).body).toContain(app.applicationId);
  const victim = await login(stack, VICTIM);
  expect((await victim.get('/1.0/me/api/application').expect(200)).body).not.toContain(app.applicationId);
  await victim.get(`/1.0/me/api/application/${app.applicationId}`).expect(404);
  const other = await requestCredential(stack, app.applicationKey, [{ method: 'GET', path: '/me' }]);
  await victim.post(`/1.0/auth/credential/${other.token}/validate`, { validity: '30d' }).expect(200);
  await signed(stack, { ...app, consumerKey: other.consumerKey }, 'GET', '/1.0/me').expect(200);
  await owner.agent
    .delete(`/1.0/me/api/application/${app.applicationId}`)
    .set('X-CSRF-Token', owner.csrf)
    .expect(200);
  expect((await signed(stack, { ...app, consumerKey: other.consumerKey }, 'GET', '/1.0/me')).status).toBe(
    401,
  );
});

test('credential requests are rate-limited', async () => {
  const owner = await login(stack, ATTACKER);
  const app = await createApplication(owner, 'flood');
  const statuses: number[] = [];
  for (let i = 0; i < 25; i++) {
    const response = await askCredential(app.applicationKey);
    statuses.push(response.status);
    if (response.status === 429) break;
  }
  expect(statuses.at(-1)).toBe(429);
  expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(20);
});

function askCredential(applicationKey: string) {
  return request(stack.app)
    .post('/1.0/auth/credential')
    .set('X-Ovh-Application', applicationKey)
    .send({ accessRules: [{ method: 'GET', path: '/me' }] });
}
