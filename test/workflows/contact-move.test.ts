import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { contactMove } from '../../workflows/contact-move';
import type { ContactMoveActivities } from '../../workflows/contact-move.activities';
import {
  acceptMoveUpdate,
  cancelMoveUpdate,
  moveQuery,
  refuseMoveUpdate,
  registeredMoveUpdate,
  resendMoveUpdate,
} from '../../workflows/contact-move.messages';
import { timeSkippingEnvironment, workflowBundle } from '../helpers/temporal';
import { eventually } from '../helpers/wait';
import {
  ASKER,
  codeHash,
  fakeMove,
  ITEMS,
  moveInput as input,
  NEWBIE,
  TECH,
} from '../helpers/fake-move-activities';

let env: TestWorkflowEnvironment;
let run = 0;

// A time-skipping server of its own for each test: a workflow that ends with an activity still outstanding
// (terminated by a test that failed, or whose last record was still in flight on a busy machine) keeps the
// server's time skipping locked for good (temporalio/sdk-java#1138), and every later env.sleep of the file would
// then pass in real time (61 s, past the test's timeout: the CI run at load 15-20 failed so).
const started: WorkflowHandle[] = [];
beforeEach(async () => {
  env = await timeSkippingEnvironment();
});
afterEach(async () => {
  for (const handle of started.splice(0)) await handle.terminate('test ended').catch(() => undefined);
  await env?.teardown();
});

type Handle = WorkflowHandle<typeof contactMove>;

async function withWorker<T>(activities: ContactMoveActivities, body: (taskQueue: string) => Promise<T>) {
  const taskQueue = `move-test-${++run}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    ...(await workflowBundle()),
    activities,
  });
  return worker.runUntil(body(taskQueue));
}

async function start(taskQueue: string): Promise<Handle> {
  const handle = await env.client.workflow.start<typeof contactMove>('contactMove', {
    taskQueue,
    workflowId: `move-${run}-${Math.random()}`,
    args: [input],
  });
  started.push(handle);
  await handle.executeUpdate(registeredMoveUpdate);
  return handle;
}

const accept = (handle: Handle, account: string, exclude?: string[], hash = codeHash(account)) =>
  handle.executeUpdate(acceptMoveUpdate, {
    args: [{ account, codeHash: hash, ...(exclude ? { exclude } : {}) }],
  });

async function rejection(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof WorkflowUpdateFailedError) return (error.cause as { type?: string }).type;
    throw error;
  }
  return undefined;
}

describe('contact-move workflow', () => {
  test('one code per validator; one leaves a service out; the last acceptance applies the rest in chunks, then everyone is told', async () => {
    const { activities, calls } = fakeMove();
    await withWorker(activities, async (taskQueue) => {
      const handle = await start(taskQueue);
      expect((await handle.query(moveQuery)).state).toBe('todo');
      const first = await accept(handle, NEWBIE, ['b.example']);
      expect(first.outcome).toBe('accepted');
      expect(first.move).toMatchObject({
        state: 'todo',
        awaiting: [ASKER],
        counts: { refused: 1, remaining: 4 },
      });
      expect(await rejection(accept(handle, NEWBIE))).toBe('alreadyDecided');
      const wrong = await accept(handle, ASKER, undefined, 'hash:nope');
      expect(wrong).toMatchObject({ outcome: 'wrongCode', attemptsLeft: 4 });
      expect((await accept(handle, ASKER)).move.state).toBe('applying');
      const final = await handle.result();
      expect(final).toMatchObject({ state: 'done', counts: { applied: 4, refused: 1, remaining: 0 } });
    });
    expect(calls.codes).toEqual([
      { handle: ASKER, step: 'created' },
      { handle: NEWBIE, step: 'created' },
    ]);
    expect(calls.mails).toContainEqual({ recipient: TECH, template: 'moveInformed', step: 'created' });
    expect(calls.applyCalls).toBe(2);
    expect(calls.records.find((r) => r.items?.kind === 'exclude')?.items).toEqual({
      kind: 'exclude',
      handle: NEWBIE,
      serviceNames: ['b.example'],
    });
    expect(calls.records.map((r) => r.event.action)).toEqual(
      expect.arrayContaining(['moveAccepted', 'wrongCode', 'moveApplying', 'moveProgress', 'moveApplied']),
    );
    const told = calls.mails.filter((m) => m.template === 'moveDone').map((m) => m.recipient);
    expect(told.sort()).toEqual([ASKER, NEWBIE, TECH]);
  });

  test('a refusal refuses the rest of the move; nothing is applied; everyone is told', async () => {
    const { activities, calls } = fakeMove();
    await withWorker(activities, async (taskQueue) => {
      const handle = await start(taskQueue);
      await accept(handle, ASKER);
      const refused = await handle.executeUpdate(refuseMoveUpdate, {
        args: [{ account: NEWBIE, codeHash: codeHash(NEWBIE) }],
      });
      expect(refused.outcome).toBe('refused');
      expect(await handle.result()).toMatchObject({ state: 'refused', reason: 'refusedByContact' });
    });
    expect(calls.applyCalls).toBe(0);
    expect(calls.records.at(-1)).toMatchObject({
      state: 'refused',
      items: { kind: 'end', state: 'refused', reason: 'refusedByContact', actor: NEWBIE },
    });
    const told = calls.mails.filter((m) => m.template === 'moveNotDone').map((m) => m.recipient);
    expect(told.sort()).toEqual([ASKER, NEWBIE, TECH]);
  });

  test('not validated in time: the pending validator is reminded 2 days before, then the move and its items expire', async () => {
    const { activities, calls } = fakeMove();
    await withWorker(activities, async (taskQueue) => {
      const handle = await start(taskQueue);
      await accept(handle, ASKER);
      expect(await handle.result()).toMatchObject({ state: 'expired', reason: 'notValidatedInTime' });
    });
    expect(calls.mails.filter((m) => m.template === 'moveReminder')).toEqual([
      { recipient: NEWBIE, template: 'moveReminder', step: 'reminder' },
    ]);
    expect(calls.records.at(-1)).toMatchObject({
      state: 'expired',
      items: { kind: 'end', state: 'expired' },
    });
    expect(calls.mails.filter((m) => m.template === 'moveNotDone')).toHaveLength(3);
  });

  test('a refused address puts the move in "needs attention", naming whom; the asker is mailed once; it still expires on time', async () => {
    const { activities, calls } = fakeMove({ refusedAddresses: [NEWBIE] });
    await withWorker(activities, async (taskQueue) => {
      const handle = await start(taskQueue);
      // The acceptance waits for the opening codes' activity, so its answer already shows the refusal.
      const accepted = await accept(handle, ASKER);
      expect(accepted.move.needsAttention).toEqual({
        reason: 'mailRejected',
        handles: [NEWBIE],
        since: expect.any(String),
      });
      expect(await handle.result()).toMatchObject({
        state: 'expired',
        needsAttention: { reason: 'mailRejected', handles: [NEWBIE] },
      });
    });
    expect(calls.records.find((r) => r.event.action === 'needsAttention')).toMatchObject({
      needsAttention: { reason: 'mailRejected', handles: [NEWBIE] },
      event: { detail: { responses: [{ handle: NEWBIE, response: expect.stringMatching(/^550/) }] } },
    });
    // Flagged again by the reminder and the end mails to the same address, the asker is still told only once.
    expect(calls.records.filter((r) => r.event.action === 'needsAttention').length).toBeGreaterThan(1);
    expect(calls.mails.filter((m) => m.template === 'moveNeedsAttention')).toEqual([
      { recipient: ASKER, template: 'moveNeedsAttention', step: 'attention' },
    ]);
  });

  test('the asker whose own address refuses mail is not mailed about it; a resend that reaches everyone clears it', async () => {
    const { activities, calls, refused } = fakeMove({ refusedAddresses: [ASKER] });
    await withWorker(activities, async (taskQueue) => {
      const handle = await start(taskQueue);
      // The opening codes go in the background: their refusal shows once they are back.
      await eventually('the refusal shown', async () =>
        expect((await handle.query(moveQuery)).needsAttention).toMatchObject({ handles: [ASKER] }),
      );
      refused.delete(ASKER); // the address is corrected
      await env.sleep(61_000);
      await handle.executeUpdate(resendMoveUpdate, { args: [{ by: ASKER }] });
      await eventually('the problem cleared', async () =>
        expect((await handle.query(moveQuery)).needsAttention).toBeUndefined(),
      );
    });
    expect(calls.mails.filter((m) => m.template === 'moveNeedsAttention')).toEqual([]);
    expect(calls.records.map((r) => r.event.action)).toContain('mailDelivered');
  });

  test('both codes refused: a resend to each in turn clears each from "needs attention", then the move', async () => {
    const { activities, calls, refused } = fakeMove({ refusedAddresses: [ASKER, NEWBIE] });
    await withWorker(activities, async (taskQueue) => {
      const handle = await start(taskQueue);
      const attention = async () => (await handle.query(moveQuery)).needsAttention;
      await eventually('both refusals shown', async () =>
        expect((await attention())?.handles.sort()).toEqual([ASKER, NEWBIE].sort()),
      );
      refused.clear(); // the mail server takes mail again
      await env.sleep(61_000);
      await handle.executeUpdate(resendMoveUpdate, { args: [{ by: ASKER, to: [NEWBIE] }] });
      await eventually('the newcomer reached', async () =>
        expect(await attention()).toMatchObject({ reason: 'mailRejected', handles: [ASKER] }),
      );
      await handle.executeUpdate(resendMoveUpdate, { args: [{ by: ASKER, to: [ASKER] }] });
      await eventually('everyone reached', async () => expect(await attention()).toBeUndefined());
    });
    expect(calls.records.filter((r) => r.event.action === 'mailDelivered')).toHaveLength(2);
    expect(calls.records.at(-1)?.needsAttention).toBeUndefined();
  });

  test('a resend mails a fresh code that replaces the old one (told apart, not counted), and not too soon', async () => {
    const { activities, calls } = fakeMove();
    await withWorker(activities, async (taskQueue) => {
      const handle = await start(taskQueue);
      expect(await rejection(handle.executeUpdate(resendMoveUpdate, { args: [{ by: NEWBIE }] }))).toBe(
        'resendTooSoon',
      );
      await env.sleep(61_000);
      const resent = await handle.executeUpdate(resendMoveUpdate, { args: [{ by: NEWBIE }] });
      expect(resent.resentTo).toEqual([NEWBIE]);
      // No wait for the resend's mail to report back: a code typed meanwhile waits for it in the workflow.
      expect(await accept(handle, NEWBIE)).toMatchObject({ outcome: 'supersededCode', attemptsLeft: 5 });
      expect((await accept(handle, NEWBIE, undefined, codeHash(NEWBIE, 'resend-1'))).outcome).toBe(
        'accepted',
      );
    });
    expect(calls.codes).toContainEqual({ handle: NEWBIE, step: 'resend-1' });
  });

  test("an opening's code mail that reports back after a resend's is superseded by it, not made current again", async () => {
    // The opening's code mail is retried while the mail server is down; the resend's, a minute later, goes first.
    const { activities, calls, releaseCodes } = fakeMove({ heldCodes: 'created' });
    await withWorker(activities, async (taskQueue) => {
      const handle = await start(taskQueue);
      await env.sleep(61_000);
      expect((await handle.executeUpdate(resendMoveUpdate, { args: [{ by: NEWBIE }] })).resentTo).toEqual([
        NEWBIE,
      ]);
      await eventually('the resent code mailed', async () =>
        expect(calls.codes).toContainEqual({ handle: NEWBIE, step: 'resend-1' }),
      );
      releaseCodes();
      await env.sleep(5 * 60_000); // the opening's next try, which now goes through
      expect(calls.codes).toContainEqual({ handle: NEWBIE, step: 'created' });
      expect(await accept(handle, NEWBIE)).toMatchObject({ outcome: 'supersededCode', attemptsLeft: 5 });
      expect((await accept(handle, NEWBIE, undefined, codeHash(NEWBIE, 'resend-1'))).outcome).toBe(
        'accepted',
      );
    });
  });

  test('the asker cancels; nobody else can; the items end aborted and everyone is told', async () => {
    const { activities, calls } = fakeMove();
    await withWorker(activities, async (taskQueue) => {
      const handle = await start(taskQueue);
      expect(await rejection(handle.executeUpdate(cancelMoveUpdate, { args: [{ by: NEWBIE }] }))).toBe(
        'notTheAsker',
      );
      const cancelled = await handle.executeUpdate(cancelMoveUpdate, { args: [{ by: ASKER }] });
      expect(cancelled).toMatchObject({ state: 'cancelled', reason: 'cancelledByAsker' });
      await handle.result();
    });
    expect(calls.records.at(-1)).toMatchObject({
      items: { kind: 'end', state: 'aborted', reason: 'cancelledByAsker' },
    });
    expect(calls.mails.filter((m) => m.template === 'moveNotDone')).toHaveLength(3);
  });

  test('an opening whose worker was lost is retried within seconds, not after its 10-minute timeout', async () => {
    const { activities, calls, lostOpeningsEnd } = fakeMove({ lostOpenings: 1 });
    const registered = await withWorker(activities, async (taskQueue) => {
      const waitLimit = new Promise<'not registered'>((resolve) =>
        setTimeout(() => resolve('not registered'), 45_000),
      );
      try {
        return await Promise.race([start(taskQueue).then(() => 'registered'), waitLimit]);
      } finally {
        lostOpeningsEnd();
      }
    });
    expect(registered).toBe('registered');
    expect(calls.openCalls).toBe(2);
  }, 90_000);

  test('an apply that fails midway (worker lost) is retried and goes on: every item applied, the move done', async () => {
    const { activities, calls } = fakeMove({ failingApplies: 2 });
    await withWorker(activities, async (taskQueue) => {
      const handle = await start(taskQueue);
      await accept(handle, ASKER);
      await accept(handle, NEWBIE);
      expect(await handle.result()).toMatchObject({
        state: 'done',
        counts: { applied: ITEMS, remaining: 0 },
      });
    });
    expect(calls.applyCalls).toBe(2 + 3);
  });
});
