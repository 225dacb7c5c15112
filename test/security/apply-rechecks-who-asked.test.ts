import { readCodeEmail } from '../../lib/mailbox';
import { contactsOf, createAccounts, createService } from '../helpers/fixtures';
import { endedTask, login, type Session } from '../helpers/http';
import { startStack, type Stack } from '../helpers/stack';

// Issue 11, finding 4: an admin asks a change, hands the admin role to someone else, then completes the first
// request. It must not be applied: the asker may no longer ask it.
let stack: Stack;
const OLD_ADMIN = 'ol11111-ovh';
const NEW_ADMIN = 'nw22222-ovh';
const TECH = 'te33333-ovh';
const BILLING = 'bi44444-ovh';
const NEWBIE = 'ne55555-ovh';
const SERVICE = 'handover.example';

beforeAll(async () => {
  stack = await startStack();
  await createAccounts(
    stack.database.db,
    [OLD_ADMIN, NEW_ADMIN, TECH, BILLING, NEWBIE].map((handle) => ({ handle })),
  );
  await createService(stack.database.db, { name: SERVICE, admin: OLD_ADMIN, tech: TECH, billing: BILLING });
});
afterAll(async () => {
  await stack?.teardown();
});

async function ask(session: Session, change: object): Promise<number> {
  const response = await session.post(`/1.0/domain/${SERVICE}/changeContact`, change).expect(200);
  expect(response.body).toHaveLength(1);
  return response.body[0];
}

async function acceptWithEmailedCode(session: Session, id: number) {
  const mail = await stack.mailbox.waitFor(
    (m) => m.to.includes(`${session.handle}@mail.test`) && m.text.includes(`/validate/${id}#code=`),
  );
  const { code } = readCodeEmail(mail);
  await session.post(`/1.0/me/task/contactChange/${id}/accept`, { token: code }).expect(200);
}

test('an admin who handed the admin role over cannot complete an earlier request: it ends aborted, everyone told', async () => {
  const [oldAdmin, newAdmin, newbie] = await Promise.all(
    [OLD_ADMIN, NEW_ADMIN, NEWBIE].map((handle) => login(stack, handle)),
  );
  const techChange = await ask(oldAdmin, { contactTech: NEWBIE });

  const handover = await ask(oldAdmin, { contactAdmin: NEW_ADMIN });
  await acceptWithEmailedCode(oldAdmin, handover);
  await acceptWithEmailedCode(newAdmin, handover);
  expect((await endedTask(stack, oldAdmin, handover)).state).toBe('done');
  expect(await contactsOf(stack.database.db, SERVICE)).toMatchObject({ admin: NEW_ADMIN, tech: TECH });

  await acceptWithEmailedCode(oldAdmin, techChange);
  await acceptWithEmailedCode(newbie, techChange);
  const ended = await endedTask(stack, oldAdmin, techChange);
  expect(ended).toMatchObject({ state: 'aborted', reason: 'askerNoLongerEntitled' });
  expect(ended.history.map((entry: { action: string }) => entry.action)).not.toContain('applied');
  expect(await contactsOf(stack.database.db, SERVICE)).toMatchObject({ admin: NEW_ADMIN, tech: TECH });
  for (const handle of [OLD_ADMIN, NEWBIE, TECH]) {
    const told = await stack.mailbox.waitFor(
      (m) => m.to.includes(`${handle}@mail.test`) && m.subject.includes('Contact change cancelled'),
    );
    expect(told.text).toContain('may no longer ask for this change');
  }
});
