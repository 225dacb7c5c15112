import { LoginThrottle, SharedCounter } from '../../api/auth/login-throttle';
import { createTestDatabase, type TestDatabase } from '../helpers/database';

/**
 * The shared counters' rows: the store's own clearing timer outlived each test's database and logged "Failed to
 * clear expired records" five minutes later; the app now clears expired rows itself, when a hit starts a window.
 */
let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.drop();
});

const minute = { limit: 2, windowMs: 60_000 };

test('building the counters starts no timer: nothing outlives the app and its database', () => {
  jest.useFakeTimers();
  try {
    new LoginThrottle(database.db, { perAddressAndHandle: minute, perHandle: minute, perAddress: minute });
    new SharedCounter(database.db, 'credential-address', minute);
    expect(jest.getTimerCount()).toBe(0);
  } finally {
    jest.useRealTimers();
  }
});

test('a hit that starts a window takes every expired count with it, and leaves the live ones', async () => {
  const { db } = database;
  await db.rateLimit.createMany({
    data: [
      { key: 'login-perHandle:gone11-ovh', points: 9, expire: new Date(Date.now() - 1_000) },
      { key: 'login-perHandle:live22-ovh', points: 1, expire: new Date(Date.now() + 60_000) },
    ],
  });
  const counter = new SharedCounter(db, 'login-perAddress', minute);
  expect(await counter.hit('192.0.2.1')).toBe(true);
  const keys = (await db.rateLimit.findMany({ orderBy: { key: 'asc' } })).map((row) => row.key);
  expect(keys).toEqual(['login-perAddress:192.0.2.1', 'login-perHandle:live22-ovh']);
});

test('the limit holds as before: counted within the window, refused past it', async () => {
  const counter = new SharedCounter(database.db, 'credential-application', minute);
  expect(await counter.hit('7')).toBe(true);
  expect(await counter.reached('7')).toBe(false);
  expect(await counter.hit('7')).toBe(true);
  expect(await counter.reached('7')).toBe(true);
  expect(await counter.hit('7')).toBe(false);
  await counter.forget('7');
  expect(await counter.reached('7')).toBe(false);
});
