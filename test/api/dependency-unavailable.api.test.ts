import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import request from 'supertest';
import { createApp } from '../../api/app';
import { isDependencyUnavailable } from '../../api/dependency-errors';
import { parseConfig } from '../../lib/config';
import { createDb } from '../../lib/db';
import { createLogger } from '../../lib/logger';
import { freePort } from '../../lib/net';

/** While PostgreSQL or the Temporal server is out of reach, the API answers 503 with Retry-After, never 500. */
test('an unreachable database gives 503 with Retry-After', async () => {
  const deadPort = await freePort();
  const databaseUrl = `postgresql://contacts@127.0.0.1:${deadPort}/contacts`;
  const db = createDb(databaseUrl, 1);
  const connection = Connection.lazy({ address: `127.0.0.1:${deadPort}` });
  const config = parseConfig({
    DATABASE_URL: databaseUrl,
    TEMPORAL_ADDRESS: `127.0.0.1:${deadPort}`,
    CODE_HASH_KEY: randomBytes(32).toString('hex'),
    SESSION_SECRET: randomBytes(32).toString('hex'),
  });
  const app = createApp({ db, temporal: new Client({ connection }), config, logger: createLogger('silent') });
  try {
    const answer = await request(app)
      .post('/auth/login')
      .send({ handle: 'xx11111-ovh', password: 'whatever-it-is' })
      .expect(503);
    expect(answer.headers['retry-after']).toBe('5');
    expect(answer.body).toMatchObject({
      class: 'Server::ServiceUnavailable',
      reason: 'dependencyUnavailable',
    });
  } finally {
    await db.$disconnect();
    await connection.close();
  }
});

test('a Temporal server out of reach is recognised as unavailable, other errors are not', async () => {
  const connection = Connection.lazy({ address: `127.0.0.1:${await freePort()}` });
  const client = new Client({ connection });
  try {
    const failure = await connection
      .withDeadline(Date.now() + 1000, () => client.workflowService.getSystemInfo({}))
      .catch((error: unknown) => error);
    expect(isDependencyUnavailable(failure)).toBe(true);
    expect(isDependencyUnavailable(new Error('a bug'))).toBe(false);
    expect(isDependencyUnavailable(Object.assign(new Error('unique'), { code: 'P2002' }))).toBe(false);
  } finally {
    await connection.close();
  }
});

test('an Update refused while the workflow task is being retried is unavailable for a moment, not a failure', () => {
  const refused = Object.assign(new Error('Workflow Update failed'), {
    cause: Object.assign(
      new Error(
        '9 FAILED_PRECONDITION: Unable to perform workflow execution update due to Workflow Task in failed state.',
      ),
      { code: 9 },
    ),
  });
  expect(isDependencyUnavailable(refused)).toBe(true);
  expect(isDependencyUnavailable(Object.assign(new Error('9 FAILED_PRECONDITION: other'), { code: 9 }))).toBe(
    false,
  );
});

test('a transaction that could not start in time (the pool held by a slow database) is unavailable; other transaction errors are not', () => {
  const notStarted = Object.assign(
    new Error('Transaction API error: Unable to start a transaction in the given time.'),
    { code: 'P2028' },
  );
  expect(isDependencyUnavailable(notStarted)).toBe(true);
  expect(
    isDependencyUnavailable(
      Object.assign(new Error('Transaction API error: Transaction already closed'), { code: 'P2028' }),
    ),
  ).toBe(false);
});
