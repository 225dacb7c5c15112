import { rulePath } from '../../api/auth/authenticate';
import { createAccounts } from '../helpers/fixtures';
import { login } from '../helpers/http';
import { startStack, type Stack } from '../helpers/stack';
import { grantedKey, signed } from './credentials';

/** Finding 9: access rules were matched against a wrongly cut path ("/auth/applications" became "h/applications"). */
test('the rule path is the request path without the API base, and only without it', () => {
  expect(rulePath('/auth/applications', '/1.0')).toBe('/auth/applications');
  expect(rulePath('/1.0/auth/currentCredential?x=1', '/1.0')).toBe('/auth/currentCredential');
  expect(rulePath('/1.0/me', '/1.0')).toBe('/me');
  expect(rulePath('/1.00/me', '/1.0')).toBe('/1.00/me');
});

describe('signed requests on /auth paths', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
    await createAccounts(stack.database.db, [{ handle: 'us11111-ovh' }]);
  });
  afterAll(async () => {
    await stack?.teardown();
  });

  test('a rule on /auth/* grants /auth paths; a rule on /me does not', async () => {
    const person = await login(stack, 'us11111-ovh');
    const auth = await grantedKey(stack, person, [{ method: 'GET', path: '/auth/*' }]);
    expect((await signed(stack, auth, 'GET', '/1.0/auth/currentCredential').expect(200)).body).toMatchObject({
      rules: [{ method: 'GET', path: '/auth/*' }],
      status: 'validated',
    });
    expect((await signed(stack, auth, 'GET', '/1.0/me').expect(403)).body.message).toContain('GET /me');
    const me = await grantedKey(stack, person, [{ method: 'GET', path: '/me' }]);
    const refused = await signed(stack, me, 'GET', '/1.0/auth/currentCredential').expect(403);
    expect(refused.body.message).toContain('GET /auth/currentCredential');
  });
});
