import { createOperatorTools } from '../../api/operator';
import { createAccounts, createService } from '../helpers/fixtures';
import { login } from '../helpers/http';
import { eventually } from '../helpers/wait';
import { startStack, type Stack } from '../helpers/stack';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
  await createAccounts(stack.database.db, [
    { handle: 'ad1-ovh' },
    { handle: 'te2-ovh' },
    { handle: 'ne3-ovh' },
  ]);
  await createService(stack.database.db, {
    name: 'ops.example',
    admin: 'ad1-ovh',
    tech: 'te2-ovh',
    billing: 'te2-ovh',
  });
});
afterAll(async () => {
  await stack?.teardown();
});

test('an operator finds a task by service and handle, sees where it waits, resends and cancels it, all audited', async () => {
  const tools = createOperatorTools(stack.database.db, stack.env.client);
  const admin = await login(stack, 'ad1-ovh');
  const [id] = (
    await admin.post('/1.0/domain/ops.example/changeContact', { contactTech: 'ne3-ovh' }).expect(200)
  ).body;
  await stack.mailbox.waitFor(
    (m) => m.to.includes('ne3-ovh@mail.test') && m.text.includes(`/validate/${id}#`),
  );

  expect((await tools.find({ service: 'ops.example' })).map((t) => t.id)).toEqual([id]);
  expect((await tools.find({ handle: 'ne3-ovh' })).map((t) => t.id)).toEqual([id]);
  expect((await tools.find({ handle: 'nobody-ovh' })).length).toBe(0);
  expect((await tools.whereItWaits(id)).awaiting).toEqual(['ad1-ovh', 'ne3-ovh']);

  await stack.env.sleep(1000); // past RESEND_MIN_INTERVAL (500 ms in tests) on the test server's clock
  const mark = stack.mailbox.messages().length;
  expect(await tools.resend(id, 'ne3-ovh', 'alice')).toMatchObject({ resentTo: ['ne3-ovh'], notYet: [] });
  await stack.mailbox.waitFor(
    (m) => m.id > mark && m.to.includes('ne3-ovh@mail.test') && m.text.includes(`/validate/${id}#`),
  );

  const ended = await tools.cancel(id, 'alice');
  expect(ended).toMatchObject({ state: 'aborted', reason: 'cancelledByOperator' });
  // The cancel answers from the workflow's decision; its audit entry is written by the activity that follows.
  const events = await eventually('the cancel in the audit log', async () => {
    const found = await stack.database.db.auditEvent.findMany({
      where: { taskId: id },
      orderBy: { id: 'asc' },
    });
    if (!found.some((e) => e.action === 'cancelled'))
      throw new Error(`only ${found.map((e) => e.action).join(', ')}`);
    return found;
  });
  expect(events.map((e) => [e.actor, e.action])).toEqual(
    expect.arrayContaining([
      ['operator:alice', 'codeResent'],
      ['operator:alice', 'cancelled'],
    ]),
  );
  await expect(tools.cancel(id, 'alice')).rejects.toThrow(/no longer open/);
});
