import { WorkflowUpdateFailedError } from '@temporalio/client';
import { readCodeEmail } from '../../lib/mailbox';
import { acceptUpdate } from '../../workflows/contact-change.messages';
import { createAccounts, createService } from '../helpers/fixtures';
import { login } from '../helpers/http';
import { startStack, type Stack } from '../helpers/stack';

// Issue 11, finding 3: someone with Temporal access (the UI or CLI can send Updates) who reads a task's history,
// or the database, must find nothing there that an accept Update can be made from. Only the code itself accepts.

let stack: Stack;
const ADMIN = 'ad11111-ovh';
const TECH = 'te22222-ovh';
const NEWBIE = 'ne44444-ovh';

beforeAll(async () => {
  stack = await startStack();
  await createAccounts(stack.database.db, [{ handle: ADMIN }, { handle: TECH }, { handle: NEWBIE }]);
  await createService(stack.database.db, {
    name: 'history.example',
    admin: ADMIN,
    tech: TECH,
    billing: ADMIN,
  });
});
afterAll(async () => {
  await stack?.teardown();
});

/** Every string in a history: its fields, and the decoded JSON of every payload (inputs, results, details). */
function stringsIn(value: unknown, found = new Set<string>()): Set<string> {
  if (typeof value === 'string') found.add(value);
  else if (value instanceof Uint8Array) {
    const text = Buffer.from(value).toString('utf8');
    found.add(text);
    try {
      stringsIn(JSON.parse(text), found);
    } catch {
      // not JSON: kept as text
    }
  } else if (value && typeof value === 'object') {
    for (const item of Object.values(value)) stringsIn(item, found);
  }
  return found;
}

test('an accept Update made from what the history and the database hold fails; the code from the mail succeeds', async () => {
  const admin = await login(stack, ADMIN);
  const [taskId] = (
    await admin.post('/1.0/domain/history.example/changeContact', { contactTech: NEWBIE }).expect(200)
  ).body as number[];
  const codeOf = (handle: string) =>
    stack.mailbox
      .waitFor((m) => m.to.includes(`${handle}@mail.test`) && m.text.includes(`/validate/${taskId}#code=`))
      .then(readCodeEmail);
  const adminCode = await codeOf(ADMIN);
  await codeOf(NEWBIE);

  const task = await stack.database.db.contactChangeTask.findUniqueOrThrow({ where: { id: taskId } });
  const workflow = stack.env.client.workflow.getHandle(task.workflowId, task.runId ?? undefined);
  // The opening codes are recorded once their activity completed: a Query answers after that workflow task.
  await workflow.query('task');
  const history = await workflow.fetchHistory();
  const stored = await stack.database.db.$queryRaw<{ row: unknown }[]>`
    SELECT row_to_json(v) AS row FROM task_validator v WHERE task_id = ${taskId}`;
  const candidates = [...stringsIn([history, stored])].filter((text) => /^[0-9a-f]{64}$/i.test(text));
  expect(candidates.length).toBeGreaterThan(0); // what the workflow keeps of each code is there, in some form
  expect(candidates.length).toBeLessThan(5); // fewer tries than lock a code, so every one is really tried

  for (const account of [ADMIN, NEWBIE]) {
    for (const codeHash of candidates) {
      const outcome = await workflow
        .executeUpdate(acceptUpdate, { args: [{ account, codeHash }] })
        .then((result) => result.outcome)
        .catch((error: unknown) => {
          if (error instanceof WorkflowUpdateFailedError) return 'rejected';
          throw error;
        });
      expect({ account, codeHash, outcome }).not.toMatchObject({ outcome: 'accepted' });
    }
  }
  const accepted = await admin
    .post(`/1.0/me/task/contactChange/${taskId}/accept`, { token: adminCode.code })
    .expect(200);
  expect(accepted.body.outcome).toBe('accepted');
  await admin.post(`/1.0/me/task/contactChange/${taskId}/cancel`).expect(200);
});
