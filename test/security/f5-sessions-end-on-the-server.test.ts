import { createHmac } from 'node:crypto';
import request from 'supertest';
import { SESSION_COOKIE } from '../../api/auth/session';
import { createAccounts, PASSWORD } from '../helpers/fixtures';
import { changeEmail, login } from '../helpers/http';
import { startStack, type Stack } from '../helpers/stack';

/** Finding 5: logout did not end the session; an old cookie still read and wrote for 12 h. */
let stack: Stack;
const USER = 'us11111-ovh';

beforeAll(async () => {
  stack = await startStack();
  await createAccounts(stack.database.db, [{ handle: USER }]);
});
afterAll(async () => {
  await stack?.teardown();
});

/** Logs USER in: the session cookie (name=value) and the CSRF token it goes with. */
async function loginCookie() {
  const answer = await request(stack.app)
    .post('/auth/login')
    .send({ handle: USER, password: PASSWORD })
    .expect(200);
  return {
    cookie: String(answer.headers['set-cookie']).split(';')[0],
    csrf: answer.body.csrfToken as string,
  };
}

test('logout needs the CSRF token, then the old cookie neither reads nor writes; the database holds hashes only', async () => {
  const { cookie, csrf } = await loginCookie();
  await request(stack.app).post('/auth/logout').set('Cookie', cookie).expect(403);
  await request(stack.app).get('/1.0/me').set('Cookie', cookie).expect(200);
  await request(stack.app).post('/auth/logout').set('Cookie', cookie).set('X-CSRF-Token', csrf).expect(204);
  await request(stack.app).get('/1.0/me').set('Cookie', cookie).expect(401);
  await request(stack.app).get('/auth/session').set('Cookie', cookie).expect(401);
  await request(stack.app)
    .put('/1.0/me')
    .set('Cookie', cookie)
    .set('X-CSRF-Token', csrf)
    .send({ language: 'fr' })
    .expect(401);
  // Last: the code before the fix has no session table, and the checks above are what fail there.
  const token = (await loginCookie()).cookie.split('=')[1].split('.')[0];
  const rows = JSON.stringify(await stack.database.db.session.findMany());
  expect(rows).toContain('tokenHash');
  expect(rows).not.toContain(token);
});

test('a cookie signed with the right secret but never issued is refused', async () => {
  const payload = Buffer.from(`1:${Date.now() + 3_600_000}:forged`).toString('base64url');
  const signature = createHmac('sha256', stack.config.SESSION_SECRET).update(payload).digest('base64url');
  await request(stack.app)
    .get('/1.0/me')
    .set('Cookie', `${SESSION_COOKIE}=${payload}.${signature}`)
    .expect(401);
});

test('a session whose row expired is refused, while its cookie still says it is valid; it is read once a second later', async () => {
  const { cookie } = await loginCookie();
  const me = await request(stack.app).get('/1.0/me').set('Cookie', cookie).expect(200);
  expect(me.body).toMatchObject({ nichandle: USER, language: 'en', billingStanding: 'good' });
  const { db } = stack.database;
  const [row] = await db.session.findMany({ orderBy: { id: 'desc' }, take: 1 });
  await db.session.update({ where: { id: row.id }, data: { expiresAt: new Date(Date.now() + 1000) } });
  await request(stack.app).get('/1.0/me').set('Cookie', cookie).expect(200);
  await db.session.update({ where: { id: row.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
  await request(stack.app).get('/1.0/me').set('Cookie', cookie).expect(401);
});

test('"log out everywhere", a password change and an email change end the other sessions', async () => {
  const first = await login(stack, USER);
  const second = await login(stack, USER);
  await first.post('/auth/logout', { everywhere: true }).expect(204);
  await second.get('/1.0/me').expect(401);
  await first.get('/1.0/me').expect(401);

  const keeper = await login(stack, USER);
  const other = await login(stack, USER);
  await keeper
    .put('/1.0/me/password', { currentPassword: 'wrong', newPassword: 'a much longer passphrase' })
    .expect(403);
  await keeper
    .put('/1.0/me/password', { currentPassword: PASSWORD, newPassword: 'a much longer passphrase' })
    .expect(200);
  await other.get('/1.0/me').expect(401);
  await keeper.get('/1.0/me').expect(200);
  await request(stack.app).post('/auth/login').send({ handle: USER, password: PASSWORD }).expect(401);
  await request(stack.app)
    .post('/auth/login')
    .send({ handle: USER, password: 'a much longer passphrase' })
    .expect(200);
  await keeper
    .put('/1.0/me/password', { currentPassword: 'a much longer passphrase', newPassword: PASSWORD })
    .expect(200);

  const third = await login(stack, USER);
  await changeEmail(stack, keeper, 'user.new@mail.test');
  await third.get('/1.0/me').expect(401);
  expect((await keeper.get('/1.0/me').expect(200)).body.email).toBe('user.new@mail.test');
});
