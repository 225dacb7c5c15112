import request from 'supertest';
import { createApp } from '../../api/app';
import { createLogger } from '../../lib/logger';
import { createAccounts, PASSWORD } from '../helpers/fixtures';
import { startStack, type Stack } from '../helpers/stack';

/** Finding 6: throttling was per (address, handle) only, X-Forwarded-For was believed, and hashing had no cap. */
let stack: Stack;
const VICTIM = 'vi11111-ovh';
const OTHER = 'ot22222-ovh';

beforeAll(async () => {
  stack = await startStack();
  await createAccounts(stack.database.db, [{ handle: VICTIM }, { handle: OTHER }]);
});
afterAll(async () => {
  await stack?.teardown();
});

// Small limits so the test stays short; the defaults (30 per handle, 50 per address) work the same way.
const appWith = (env: Partial<typeof stack.config>, concurrentPasswordHashing?: number) =>
  createApp({
    db: stack.database.db,
    temporal: stack.env.client,
    config: { ...stack.config, ...env },
    logger: createLogger('silent'),
    concurrentPasswordHashing,
    rateLimits: {
      loginPerHandle: { limit: 6, windowMs: 60_000 },
      loginPerAddress: { limit: 8, windowMs: 60_000 },
    },
  });

const attempt = (app: ReturnType<typeof createApp>, handle: string, password: string, address?: string) => {
  const req = request(app).post('/auth/login');
  return (address ? req.set('X-Forwarded-For', address) : req).send({ handle, password });
};

test('X-Forwarded-For is not believed by default: changing it does not reset the count', async () => {
  const statuses = [];
  for (let i = 0; i < 11; i++)
    statuses.push((await attempt(stack.app, OTHER, `guess-${i}`, `203.0.113.${i}`)).status);
  expect(statuses.slice(0, 10).every((s) => s === 401)).toBe(true);
  expect(statuses[10]).toBe(429);
});

test('behind a configured proxy: one handle guessed from many addresses, and many handles from one address, are stopped', async () => {
  const app = appWith({ TRUSTED_PROXIES: ['loopback'] });
  for (let i = 0; i < 6; i++) await attempt(app, VICTIM, `guess-${i}`, `198.51.100.${i}`).expect(401);
  const blocked = await attempt(app, VICTIM, PASSWORD, '198.51.100.200');
  expect(blocked.status).toBe(429);
  for (let i = 0; i < 8; i++) await attempt(app, `zz${10000 + i}-ovh`, 'guess', '192.0.2.7').expect(401);
  expect((await attempt(app, `zz99999-ovh`, 'guess', '192.0.2.7')).status).toBe(429);
  expect((await attempt(app, `zz99999-ovh`, 'guess', '192.0.2.8')).status).toBe(401);
});

test('password hashing has a cap: a burst of logins is answered 503 at once beyond it', async () => {
  const app = appWith({ TRUSTED_PROXIES: ['loopback'] }, 2); // fresh addresses: no earlier count applies
  const started = Date.now();
  const answers = await Promise.all(
    Array.from({ length: 40 }, (_, i) => attempt(app, `nx${20000 + i}-ovh`, 'guess', `10.9.0.${i}`)),
  );
  const statuses = answers.map((a) => a.status);
  expect(statuses.filter((s) => s === 503).length).toBeGreaterThan(30);
  expect(answers.find((a) => a.status === 503)!.body.reason).toBe('busy');
  expect(statuses.every((s) => s === 401 || s === 503)).toBe(true);
  expect(Date.now() - started).toBeLessThan(20_000);
});
