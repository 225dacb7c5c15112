import request from 'supertest';
import { safeNextPath } from '../../api/safe-redirect';
import { createAccounts } from '../helpers/fixtures';
import { login } from '../helpers/http';
import { startStack, type Stack } from '../helpers/stack';
import { createApplication, requestCredential } from './credentials';

/** Finding 7: /login?next=/%5Cevil.example/ and ?next=/%09/evil.example/ landed on evil.example. */
let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
  await createAccounts(stack.database.db, [{ handle: 'us11111-ovh' }]);
});
afterAll(async () => {
  await stack?.teardown();
});

test.each([
  '/%5Cevil.example/',
  '/%09/evil.example/',
  '//evil.example/',
  'https://evil.example/',
  '/.//evil.example',
  '/%0a/evil.example',
])('the login page never keeps next=%s', async (next) => {
  const answer = await request(stack.app).get(`/login?next=${next}`);
  expect(answer.status).toBe(302);
  expect(answer.headers.location).toBe('/login');
});

test('a path of this origin is kept, as a browser would resolve it', async () => {
  await request(stack.app).get('/login?next=%2Fcontacts').expect(200);
  const base = 'http://contacts.test';
  expect(safeNextPath('/requests?state=todo#x', base)).toBe('/requests?state=todo#x');
  expect(safeNextPath('/\\evil.example/', base)).toBeUndefined();
  expect(safeNextPath('/\t/evil.example/', base)).toBeUndefined();
  expect(safeNextPath('javascript:alert(1)', base)).toBeUndefined();
});

test('the consent answer redirects where the stored request said, whatever the page URL carries', async () => {
  const person = await login(stack, 'us11111-ovh');
  const app = await createApplication(person);
  const pending = await requestCredential(
    stack,
    app.applicationKey,
    [{ method: 'GET', path: '/me' }],
    'https://app.example/done',
  );
  expect(pending.validationUrl).toBe(`http://contacts.test/credential/${pending.token}`);
  const answer = await person
    .post(`/1.0/auth/credential/${pending.token}/validate?redirection=https%3A%2F%2Fevil.example`, {
      validity: '1d',
    })
    .expect(200);
  expect(answer.body.redirection).toBe('https://app.example/done');
  await request(stack.app)
    .post('/1.0/auth/credential')
    .set('X-Ovh-Application', app.applicationKey)
    .send({ accessRules: [{ method: 'GET', path: '/me' }], redirection: 'javascript:alert(1)' })
    .expect(400);
});
