import request from 'supertest';
import { createAccounts, createService } from '../helpers/fixtures';
import { login } from '../helpers/http';
import { startStack, type Stack } from '../helpers/stack';
import { grantedKey, signed } from './credentials';

/**
 * A move's create takes a body of up to MOVE_MAX_SERVICES names (26 MB by default). It was read and parsed before
 * authentication, so anyone could make the server parse megabytes of JSON; now only a caller whose credentials hold
 * (as far as they can be told before the body) may send more than the usual 16 kB.
 */
let stack: Stack;
const USER = 'us11111-ovh';
const OTHER = 'ot22222-ovh';
const MOVE = '/1.0/me/contactMove';

/** A dry run over `count` names of about 40 characters: 40 kB for 1,000 names, 1 MB for 25,000. */
const bigMove = (count: number) => ({
  toAccount: OTHER,
  contactTypes: ['tech'],
  dryRun: true,
  services: Array.from({ length: count }, (_, i) => `service-number-${String(i).padStart(8, '0')}.example`),
});

beforeAll(async () => {
  stack = await startStack();
  await createAccounts(stack.database.db, [{ handle: USER }, { handle: OTHER }]);
  await createService(stack.database.db, { name: 'x.example', admin: USER, tech: USER, billing: USER });
});
afterAll(async () => {
  await stack?.teardown();
});

describe('a caller whose credentials do not hold cannot send a large body', () => {
  test.each([
    ['no credentials', (r: request.Test) => r],
    [
      'a made-up session cookie',
      (r: request.Test) => r.set('Cookie', 'contacts_session=made-up').set('X-CSRF-Token', 'x'),
    ],
    [
      'an unknown consumer key',
      (r: request.Test) =>
        r
          .set('X-Ovh-Application', 'unknown')
          .set('X-Ovh-Consumer', 'unknown')
          .set('X-Ovh-Timestamp', String(Math.floor(Date.now() / 1000)))
          .set('X-Ovh-Signature', '$1$0000'),
    ],
  ])('%s: 413 before anything is parsed, not a 401 after parsing 1 MB', async (_name, withCredentials) => {
    const answer = await withCredentials(request(stack.app).post(MOVE)).send(bigMove(25_000));
    expect({ status: answer.status, reason: answer.body.reason }).toEqual({
      status: 413,
      reason: 'bodyTooLarge',
    });
  });

  test('a real session without its CSRF token is no better', async () => {
    const session = await login(stack, USER);
    const answer = await session.agent.post(MOVE).send(bigMove(25_000));
    expect(answer.status).toBe(413);
  });

  test('a small body is authenticated as usual: 401', async () => {
    const answer = await request(stack.app).post(MOVE).send(bigMove(10));
    expect(answer.status).toBe(401);
  });
});

describe('an authenticated caller still sends a long list', () => {
  test('with a portal session', async () => {
    const session = await login(stack, USER);
    const answer = await session.post(MOVE, bigMove(1_000)).expect(200);
    expect(answer.body).toMatchObject({ dryRun: true, total: 1_000, movable: 0 });
  });

  test('with a consumer key granted the route (the signature over the whole body checked after it is read)', async () => {
    const session = await login(stack, USER);
    const creds = await grantedKey(stack, session, [{ method: 'POST', path: '/me/contactMove' }]);
    const answer = await signed(stack, creds, 'POST', MOVE, bigMove(1_000)).expect(200);
    expect(answer.body.total).toBe(1_000);
    // Granted other routes only: the usual limit.
    const narrow = await grantedKey(stack, session, [{ method: 'GET', path: '/me' }]);
    expect((await signed(stack, narrow, 'POST', MOVE, bigMove(1_000))).status).toBe(413);
  });
});
