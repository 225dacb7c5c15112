import { WorkflowUpdateFailedError } from '@temporalio/client';
import { readCodeEmail } from '../../lib/mailbox';
import { cancelUpdate } from '../../workflows/contact-change.messages';
import { createAccounts, createService } from '../helpers/fixtures';
import { endedTask, login, type Session } from '../helpers/http';
import { startStack, type Stack } from '../helpers/stack';

// Issue 11, finding 4 (second half): an admin asks a change, then hands the admin role over. The new admin must
// see the open task, be told which task blocks their own request, cancel it, and then ask their own change.
// Before the fix: 404 on the task, not in the list, no cancel, and a 409 taskAlreadyOpen naming nothing.
let stack: Stack;
const OLD_ADMIN = 'oa11111-ovh';
const NEW_ADMIN = 'na22222-ovh';
const TECH = 'tc33333-ovh';
const BILLING = 'bl44444-ovh';
const NEWBIE = 'nb55555-ovh';
const OTHER = 'ot66666-ovh';
const SERVICE = 'admin-sees.example';
const TASKS = '/1.0/me/task/contactChange';

beforeAll(async () => {
  stack = await startStack();
  await createAccounts(
    stack.database.db,
    [OLD_ADMIN, NEW_ADMIN, TECH, BILLING, NEWBIE, OTHER].map((handle) => ({ handle })),
  );
  await createService(stack.database.db, { name: SERVICE, admin: OLD_ADMIN, tech: TECH, billing: BILLING });
});
afterAll(async () => {
  await stack?.teardown();
});

function ask(session: Session, change: object) {
  return session.post(`/1.0/domain/${SERVICE}/changeContact`, change);
}

async function acceptWithEmailedCode(session: Session, id: number) {
  const mail = await stack.mailbox.waitFor(
    (m) => m.to.includes(`${session.handle}@mail.test`) && m.text.includes(`/validate/${id}#code=`),
  );
  const { code } = readCodeEmail(mail);
  await session.post(`${TASKS}/${id}/accept`, { token: code }).expect(200);
}

test('the current admin of a service sees every open task on it, is told which one blocks them, and can cancel it', async () => {
  const [oldAdmin, newAdmin, billing] = await Promise.all(
    [OLD_ADMIN, NEW_ADMIN, BILLING].map((handle) => login(stack, handle)),
  );
  const [techChange] = (await ask(oldAdmin, { contactTech: NEWBIE }).expect(200)).body as number[];
  const [handover] = (await ask(oldAdmin, { contactAdmin: NEW_ADMIN }).expect(200)).body as number[];
  await acceptWithEmailedCode(oldAdmin, handover);
  await acceptWithEmailedCode(newAdmin, handover);
  expect((await endedTask(stack, newAdmin, handover)).state).toBe('done');

  // The new admin took no part in the tech change, yet it is theirs to see and end.
  expect((await newAdmin.get(TASKS).expect(200)).body).toContain(techChange);
  expect((await newAdmin.get(`${TASKS}?state=validatingByCustomers`).expect(200)).body).toContain(techChange);
  const seen = (await newAdmin.get(`${TASKS}/${techChange}`).expect(200)).body;
  expect(seen).toMatchObject({ askingAccount: OLD_ADMIN, state: 'validatingByCustomers', canCancel: true });

  const blocked = await ask(newAdmin, { contactTech: OTHER }).expect(409);
  expect(blocked.body).toMatchObject({
    reason: 'taskAlreadyOpen',
    taskId: techChange,
    task: `${TASKS}/${techChange}`,
    canCancel: true,
  });

  // A contact who is neither a party nor the admin learns nothing of it and cannot end it.
  await billing.get(`${TASKS}/${techChange}`).expect(404);
  expect((await billing.get(TASKS).expect(200)).body).not.toContain(techChange);
  await billing.post(`${TASKS}/${techChange}/cancel`).expect(404);
  // Sent straight to the workflow (as the API would for a caller it did not find to be the admin): refused.
  const task = await stack.database.db.contactChangeTask.findUniqueOrThrow({ where: { id: techChange } });
  const run = stack.env.client.workflow.getHandle(task.workflowId, task.runId ?? undefined);
  const notTheAdmin = await run.executeUpdate(cancelUpdate, { args: [{ by: BILLING }] }).catch((e) => e);
  expect(notTheAdmin).toBeInstanceOf(WorkflowUpdateFailedError);
  expect(notTheAdmin.cause?.type).toBe('notTheAsker');

  const cancelled = (await newAdmin.post(`${TASKS}/${techChange}/cancel`).expect(200)).body;
  expect(cancelled).toMatchObject({ state: 'aborted', canCancel: false });
  const ended = await endedTask(stack, newAdmin, techChange);
  expect(ended).toMatchObject({ state: 'aborted', reason: 'cancelledByAdmin' });
  expect(ended.history.at(-1)).toMatchObject({ actor: NEW_ADMIN, action: 'cancelled' });
  await stack.mailbox.waitFor(
    (m) =>
      m.to.includes(`${OLD_ADMIN}@mail.test`) && m.text.includes("the service's admin contact cancelled it"),
  );

  const [own] = (await ask(newAdmin, { contactTech: OTHER }).expect(200)).body as number[];
  expect((await newAdmin.get(`${TASKS}/${own}`).expect(200)).body).toMatchObject({
    askingAccount: NEW_ADMIN,
    toAccount: OTHER,
    state: 'validatingByCustomers',
  });
});
