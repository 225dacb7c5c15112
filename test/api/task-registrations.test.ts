import pg from 'pg';
import { REGISTRATION_LOOK_ANYWAY_MS } from '../../api/contact-changes';
import { listenForTaskRegistrations, type TaskRegistrations } from '../../lib/task-registrations';
import { createAccounts, createService } from '../helpers/fixtures';
import { askTechChange, login } from '../helpers/http';
import { startStack, type Stack } from '../helpers/stack';
import { eventually, within } from '../helpers/wait';

let stack: Stack;
const ADMIN = 'ad1-ovh';
const NEWBIE = 'ne2-ovh';

beforeAll(async () => {
  stack = await startStack();
  await createAccounts(stack.database.db, [{ handle: ADMIN }, { handle: NEWBIE }, { handle: 'te3-ovh' }]);
  for (const name of ['looks.example', 'announce.example'])
    await createService(stack.database.db, { name, admin: ADMIN, tech: 'te3-ovh', billing: ADMIN });
});
afterAll(async () => {
  await stack?.teardown();
});

const listening = (registrations: TaskRegistrations) =>
  eventually('the listener to listen', async () => expect(registrations.listening).toBe(true));

/** A single task's row, with the columns the table needs (the trigger announces it at its commit). */
const taskRow = (workflowId: string, service: { id: number; name: string }) => ({
  workflowId,
  runId: 'run',
  serviceId: service.id,
  serviceType: 'domain',
  serviceName: service.name,
  askingAccount: ADMIN,
  fromAccount: 'te3-ovh',
  toAccount: NEWBIE,
  contactTypes: ['contactTech'],
  state: 'refused',
  expiresAt: new Date(),
});

async function insertTask(workflowId: string) {
  const service = await stack.database.db.service.findUniqueOrThrow({ where: { name: 'announce.example' } });
  await stack.database.db.contactChangeTask.create({ data: taskRow(workflowId, service) });
}

test("a request looks for its task's row at once and when the row announces itself, not every 10-100 ms", async () => {
  await listening(stack.registrations);
  const admin = await login(stack, ADMIN);
  const service = await stack.database.db.service.findUniqueOrThrow({ where: { name: 'looks.example' } });
  // The worker's opening is held back: another transaction holds the role's lock row until it rolls back.
  let rollBack!: () => void;
  const rolledBack = new Promise<void>((resolve) => (rollBack = resolve));
  let holding!: () => void;
  const held = new Promise<void>((resolve) => (holding = resolve));
  const holder = stack.database.db
    .$transaction(
      async (tx) => {
        const task = await tx.contactChangeTask.create({ data: taskRow('holder', service) });
        await tx.openRoleLock.create({
          data: { serviceId: service.id, role: 'contactTech', taskId: task.id },
        });
        holding();
        await rolledBack;
        throw new Error('rolled back');
      },
      { timeout: 60_000 },
    )
    .catch(() => undefined);
  await held;
  const looks: number[] = [];
  const query = pg.Client.prototype.query;
  const spy = jest.spyOn(pg.Client.prototype, 'query').mockImplementation(function (
    this: pg.Client,
    ...args: unknown[]
  ) {
    const [config] = args as [string | { text: string }];
    const text = typeof config === 'string' ? config : config.text;
    if (/FROM "public"\."contact_change_task" WHERE \(.*"workflow_id" = \$1 AND .*"run_id" = \$2/.test(text))
      looks.push(Date.now());
    return (query as (...a: unknown[]) => unknown).apply(this, args);
  } as never);
  try {
    const asked = askTechChange(admin, 'looks.example', NEWBIE);
    // Three looks while the row is held back: at once, then the next ones (every 10-100 ms before, now only when
    // the announcement did not come within REGISTRATION_LOOK_ANYWAY_MS).
    await eventually('three looks', async () => expect(looks.length).toBeGreaterThanOrEqual(3));
    rollBack();
    await asked;
  } finally {
    spy.mockRestore();
    rollBack();
    await holder;
  }
  const gaps = looks.slice(1).map((at, i) => at - looks[i]);
  // The last look follows the announcement; every one before it waited for it.
  for (const gap of gaps.slice(0, -1)) expect(gap).toBeGreaterThanOrEqual(REGISTRATION_LOOK_ANYWAY_MS - 50);
});

test('a new row is announced to whoever waits for its workflow id; a listener whose connection drops connects again', async () => {
  const registrations = listenForTaskRegistrations(stack.database.url);
  try {
    await listening(registrations);
    const wait = registrations.waitFor('announced-1');
    const other = registrations.waitFor('someone-else');
    await insertTask('announced-1');
    // next() waits a minute unless the announcement comes: it comes at the commit.
    await within('the announcement', wait.next(60_000), 10_000);
    expect(await Promise.race([other.next(300).then(() => 'timed out'), wait.next(60_000)])).toBe(
      'timed out',
    );
    wait.cancel();
    other.cancel();

    // The connection drops (a restarted PostgreSQL, a proxy's idle timeout): meanwhile nothing is announced.
    await stack.database.db.$executeRaw`
      SELECT pg_terminate_backend(pid) FROM pg_stat_activity
       WHERE datname = current_database() AND query = 'LISTEN task_registered'`;
    await eventually('the listener to notice', async () => expect(registrations.listening).toBe(false));
    await listening(registrations);
    const again = registrations.waitFor('announced-2');
    await insertTask('announced-2');
    await within('the announcement after the reconnection', again.next(60_000), 10_000);
    again.cancel();
  } finally {
    await registrations.close();
  }
});
