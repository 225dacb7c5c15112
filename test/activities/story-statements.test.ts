import pg from 'pg';
import { startActivities, type ActivitiesUnderTest } from '../helpers/activities';
import type { TestDatabase } from '../helpers/database';
import { createAccounts, createService } from '../helpers/fixtures';

/**
 * The statements a story costs the worker: each is a round trip that costs the worker, and PostgreSQL, CPU
 * (docs/performance.md, issue 13). A change that adds one fails here, on purpose: count it, then change the pin.
 */

let env: ActivitiesUnderTest;
let database: TestDatabase;
let activities: ActivitiesUnderTest['activities'];
let serviceId: number;

beforeAll(async () => {
  env = await startActivities();
  ({ database, activities } = env);
  await createAccounts(database.db, [{ handle: 'ad1-ovh' }, { handle: 'te2-ovh' }, { handle: 'ne4-ovh' }]);
  const service = { name: 'count.example', admin: 'ad1-ovh', tech: 'te2-ovh', billing: 'ad1-ovh' };
  serviceId = (await createService(database.db, service)).id;
});
afterAll(() => env?.close());

/** The statements (round trips to PostgreSQL, BEGIN and COMMIT included) the work sends, through pg's client. */
async function statementsOf<T>(work: () => Promise<T>): Promise<{ result: T; statements: string[] }> {
  const query = jest.spyOn(pg.Client.prototype, 'query'); // spied on, not replaced: every statement still runs
  try {
    const result = await work();
    const statements = query.mock.calls.map(([config]) =>
      (typeof config === 'string' ? config : (config as { text: string }).text).replace(/\s+/g, ' ').trim(),
    );
    return { result, statements };
  } finally {
    query.mockRestore();
  }
}

test("a story's activities cost the worker 8 statements: the opening, a claim and a record per step's mails, the decision, the apply's two", async () => {
  const validators = ['ad1-ovh', 'ne4-ovh'];
  const opened = await statementsOf(() =>
    activities.openTask({
      serviceId,
      serviceType: 'domain',
      serviceName: 'count.example',
      askingAccount: 'ad1-ovh',
      fromAccount: 'te2-ovh',
      toAccount: 'ne4-ovh',
      contactTypes: ['contactTech'],
      validators,
      informed: ['te2-ovh'],
      expiryMs: 86_400_000,
      reminderBeforeExpiryMs: 3_600_000,
      resendMinIntervalMs: 1000,
      workflowId: 'count-1',
      runId: 'run-1',
      expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
      created: { dedupeKey: 'count-created', actor: 'ad1-ovh', action: 'created' },
    }),
  );
  const { taskId } = opened.result;
  const openingMails = await statementsOf(() =>
    activities.issueCodes({
      taskId,
      handles: validators,
      step: 'created',
      notices: { template: 'informedCreated', recipients: ['te2-ovh'] },
    }),
  );
  const firstAcceptance = await statementsOf(() =>
    activities.recordTask({
      taskId,
      state: 'validatingByCustomers',
      validators: [
        { handle: 'ad1-ovh', status: 'accepted', wrongCodes: 0, locked: false },
        { handle: 'ne4-ovh', status: 'pending', wrongCodes: 0, locked: false },
      ],
      event: { dedupeKey: 'count-accepted-1', actor: 'ad1-ovh', action: 'accepted' },
    }),
  );
  const apply = await statementsOf(() =>
    activities.applyChange({
      taskId,
      accepted: {
        validators: validators.map((handle) => ({
          handle,
          status: 'accepted',
          wrongCodes: 0,
          locked: false,
        })),
        event: { dedupeKey: 'count-accepted-2', actor: 'ne4-ovh', action: 'accepted' },
      },
      event: { dedupeKey: 'count-applied', actor: 'system', action: 'applied' },
      endMails: {
        step: 'end',
        batches: [
          { template: 'done', recipients: validators },
          { template: 'doneInformed', recipients: ['te2-ovh'] },
        ],
      },
    }),
  );
  expect(apply.result).toEqual({ applied: true, mailed: { undeliverable: [] } });
  expect(await database.db.sentEmail.count({ where: { taskId, sentAt: { not: null } } })).toBe(6);
  expect({
    openTask: opened.statements.length,
    openingMails: openingMails.statements.length,
    firstAcceptance: firstAcceptance.statements.length,
    applyWithEndMails: apply.statements.length,
  }).toEqual({ openTask: 1, openingMails: 2, firstAcceptance: 1, applyWithEndMails: 4 });
});
