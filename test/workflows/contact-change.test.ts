import {
  ApplicationFailure,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateStage,
  type WorkflowHandle,
} from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { contactChange } from '../../workflows/contact-change';
import type { ContactChangeActivities } from '../../workflows/contact-change.activities';
import { adminChangesTech, fakeActivities, fakeCodeHash as code } from '../helpers/fake-activities';
import {
  acceptUpdate,
  cancelUpdate,
  refuseUpdate,
  registeredUpdate,
  resendUpdate,
  taskQuery,
  type ResendRequest,
} from '../../workflows/contact-change.messages';
import { timeSkippingEnvironment, workflowBundle } from '../helpers/temporal';
import { eventually } from '../helpers/wait';

let env: TestWorkflowEnvironment;
let run = 0;
const ASKER = 'ad11111-ovh';
const NEWBIE = 'ne33333-ovh';
const DAY = 86_400_000;

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

type Handle = WorkflowHandle<typeof contactChange>;

async function withWorker<T>(activities: ContactChangeActivities, body: (taskQueue: string) => Promise<T>) {
  const taskQueue = `test-${++run}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    ...(await workflowBundle()),
    activities,
  });
  return worker.runUntil(body(taskQueue));
}

/** Starts a task and waits until it is registered. A code typed before its mail is out waits for it (tested). */
async function start(taskQueue: string, input = adminChangesTech): Promise<Handle> {
  const handle = await env.client.workflow.start<typeof contactChange>('contactChange', {
    taskQueue,
    workflowId: `wf-${run}-${Math.random()}`,
    args: [input],
  });
  started.push(handle);
  await handle.executeUpdate(registeredUpdate);
  return handle;
}

const accept = (handle: Handle, account: string, codeHash = code(account)) =>
  handle.executeUpdate(acceptUpdate, { args: [{ account, codeHash }] });
const resend = (handle: Handle, request: ResendRequest) =>
  handle.executeUpdate(resendUpdate, { args: [request] });
const cancel = (handle: Handle, by = ASKER) => handle.executeUpdate(cancelUpdate, { args: [{ by }] });

describe('contact-change workflow', () => {
  test.each([
    ['admin first', [ASKER, NEWBIE]],
    ['new contact first', [NEWBIE, ASKER]],
  ])('both validators accept (%s): the change is applied once and everyone is told', async (_name, order) => {
    const { activities, calls } = fakeActivities();
    await withWorker(activities, async (taskQueue) => {
      const handle = await start(taskQueue);
      const first = await accept(handle, order[0]);
      expect(first.outcome).toBe('accepted');
      expect(first.task.state).toBe('validatingByCustomers');
      expect(first.task.awaiting).toEqual([order[1]]);
      const second = await accept(handle, order[1]);
      // Right after the last acceptance nobody is awaited any more.
      expect(second.task).toMatchObject({ state: 'checkValidity', awaiting: [] });
      const final = await handle.result();
      expect(final.state).toBe('done');
    });
    expect(calls.codes.map((c) => c.handle).sort()).toEqual([ASKER, NEWBIE]);
    expect(calls.emails).toContainEqual({
      recipient: 'te22222-ovh',
      template: 'informedCreated',
      step: 'created',
    });
    expect(calls.applied).toBe(1);
    const done = calls.emails.filter((e) => e.template === 'done').map((e) => e.recipient);
    expect(done.sort()).toEqual([ASKER, NEWBIE]);
    expect(calls.emails).toContainEqual({ recipient: 'te22222-ovh', template: 'doneInformed', step: 'end' });
  });

  test('a decision is answered without waiting for its write, which follows; the last acceptance is written by the apply', async () => {
    // Every write is held until the test lets it go: an answer that waited for its write would never come.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const { activities, calls } = fakeActivities({ beforeRecord: () => held });
    await withWorker(activities, async (taskQueue) => {
      const handle = await start(taskQueue);
      const answered = (update: Promise<unknown>) =>
        Promise.race([update, new Promise((resolve) => setTimeout(() => resolve('still waiting'), 10_000))]);
      expect(await answered(accept(handle, ASKER))).toMatchObject({
        outcome: 'accepted',
        task: { state: 'validatingByCustomers', awaiting: [NEWBIE] },
      });
      expect(calls.records.map((r) => r.event.action)).toEqual(['created']);
      expect(await answered(accept(handle, NEWBIE))).toMatchObject({
        outcome: 'accepted',
        task: { state: 'checkValidity', awaiting: [] },
      });
      // The apply waits for the first acceptance's write: the read model gets every snapshot in order.
      expect(calls.applied).toBe(0);
      release();
      expect((await handle.result()).state).toBe('done');
    });
    expect(calls.records.map((r) => `${r.event.action} ${r.event.actor}`)).toEqual([
      `created ${ASKER}`,
      `accepted ${ASKER}`,
    ]);
    // One activity writes the last acceptance and the change, in one transaction.
    expect(calls.appliedWith).toEqual([
      {
        validators: [
          expect.objectContaining({ handle: ASKER, status: 'accepted' }),
          expect.objectContaining({ handle: NEWBIE, status: 'accepted' }),
        ],
        event: expect.objectContaining({ actor: NEWBIE, action: 'accepted' }),
      },
    ]);
  });

  test('a decision whose write fails for good ends the run, visibly', async () => {
    const { activities } = fakeActivities({
      beforeRecord: async ({ event }) => {
        if (event.action === 'accepted')
          throw ApplicationFailure.nonRetryable('constraint', 'constraintViolation');
      },
    });
    await withWorker(activities, async (taskQueue) => {
      const handle = await start(taskQueue);
      expect((await accept(handle, ASKER)).outcome).toBe('accepted');
      await expect(handle.result()).rejects.toThrow();
    });
  });

  test('a refusal ends the task as refused and tells everyone', async () => {
    const { activities, calls } = fakeActivities();
    await withWorker(activities, async (taskQueue) => {
      const handle = await start(taskQueue);
      const result = await handle.executeUpdate(refuseUpdate, {
        args: [{ account: NEWBIE, codeHash: code(NEWBIE) }],
      });
      expect(result.outcome).toBe('refused');
      expect((await handle.result()).state).toBe('refused');
    });
    expect(calls.applied).toBe(0);
    const refused = calls.emails.filter((e) => e.template === 'refused').map((e) => e.recipient);
    expect(refused.sort()).toEqual([ASKER, NEWBIE, 'te22222-ovh']);
    expect(calls.records.at(-1)).toMatchObject({ state: 'refused', reason: 'refusedByContact' });
  });

  test('wrong codes are counted, the fifth locks the code, and a resend unlocks it with a fresh code; the old code is told apart', async () => {
    const { activities, calls } = fakeActivities();
    await withWorker(activities, async (taskQueue) => {
      const handle = await start(taskQueue);
      for (let attempt = 1; attempt <= 4; attempt++) {
        const result = await accept(handle, NEWBIE, 'hash:guess');
        expect(result).toMatchObject({ outcome: 'wrongCode', attemptsLeft: 5 - attempt });
      }
      expect((await accept(handle, NEWBIE, 'hash:guess')).outcome).toBe('locked');
      expect(await rejection(accept(handle, NEWBIE))).toBe('codeLocked');
      await env.sleep(61_000);
      const resent = await resend(handle, { by: NEWBIE });
      expect(resent).toMatchObject({ resentTo: [NEWBIE], notYet: [] });
      // The Update waits for the fresh code to be out: the old one is now a superseded code, not a guess.
      const old = await accept(handle, NEWBIE);
      expect(old).toMatchObject({ outcome: 'supersededCode', attemptsLeft: 5 });
      expect(calls.codes.at(-1)).toEqual({ handle: NEWBIE, step: 'resend-1' });
      expect((await accept(handle, NEWBIE, code(NEWBIE, 'resend-1'))).outcome).toBe('accepted');
      await cancel(handle);
      await handle.result();
    });
  });

  test('updates from someone who is not a validator, or who already decided, are rejected and change nothing', async () => {
    const { activities } = fakeActivities();
    await withWorker(activities, async (taskQueue) => {
      const handle = await start(taskQueue);
      expect(await rejection(accept(handle, 'te22222-ovh', 'x'))).toBe('notAValidator');
      await accept(handle, ASKER);
      expect(
        await rejection(
          handle.executeUpdate(refuseUpdate, { args: [{ account: ASKER, codeHash: code(ASKER) }] }),
        ),
      ).toBe('alreadyDecided');
      const view = await handle.query(taskQuery);
      expect(view.state).toBe('validatingByCustomers');
      expect(view.awaiting).toEqual([NEWBIE]);
      expect((await cancel(handle)).state).toBe('aborted');
      expect((await handle.result()).state).toBe('aborted');
    });
  });

  test('a resend within the interval is refused with the exact wait, and sends nothing', async () => {
    const { activities, calls } = fakeActivities();
    await withWorker(activities, async (taskQueue) => {
      const handle = await start(taskQueue);
      await accept(handle, ASKER); // the opening codes are out
      await env.sleep(20_000);
      const tooSoon = await resend(handle, { by: NEWBIE }).catch((error: unknown) => error);
      expect(tooSoon).toBeInstanceOf(WorkflowUpdateFailedError);
      const failure = (tooSoon as WorkflowUpdateFailedError).cause as ApplicationFailure;
      expect(failure.type).toBe('resendTooSoon');
      expect(failure.details).toEqual([{ retryAfterSeconds: expect.any(Number) }]);
      const [{ retryAfterSeconds }] = failure.details as [{ retryAfterSeconds: number }];
      expect(retryAfterSeconds).toBeGreaterThan(35);
      expect(retryAfterSeconds).toBeLessThanOrEqual(40);
      await env.sleep(retryAfterSeconds * 1000);
      expect(await resend(handle, { by: NEWBIE })).toMatchObject({ resentTo: [NEWBIE] });
      // Accepting with the fresh code waits until its activity has run: by then any resend would have too.
      expect((await accept(handle, NEWBIE, code(NEWBIE, 'resend-1'))).outcome).toBe('accepted');
      await handle.result();
    });
    expect(calls.codes.filter((c) => c.step.startsWith('resend'))).toEqual([
      { handle: NEWBIE, step: 'resend-1' },
    ]);
  });

  test('the asker may resend to every validator awaited (a new contact too); a validator only to themself', async () => {
    const { activities, calls } = fakeActivities();
    await withWorker(activities, async (taskQueue) => {
      const handle = await start(taskQueue);
      await env.sleep(61_000);
      expect(await rejection(resend(handle, { by: NEWBIE, to: [ASKER] }))).toBe('nothingToResend');
      expect(await rejection(resend(handle, { by: 'te22222-ovh' }))).toBe('nothingToResend');
      expect(await resend(handle, { by: ASKER, to: [NEWBIE] })).toMatchObject({ resentTo: [NEWBIE] });
      // The new contact got one moments ago: the asker's resend to everyone goes to the asker only, and says so.
      const both = await resend(handle, { by: ASKER });
      expect(both.resentTo).toEqual([ASKER]);
      expect(both.notYet).toEqual([{ handle: NEWBIE, retryAfterSeconds: 60 }]);
      await accept(handle, ASKER, code(ASKER, 'resend-2'));
      await accept(handle, NEWBIE, code(NEWBIE, 'resend-1'));
      expect((await handle.result()).state).toBe('done');
    });
    expect(calls.codes.filter((c) => c.step.startsWith('resend'))).toEqual([
      { handle: NEWBIE, step: 'resend-1' },
      { handle: ASKER, step: 'resend-2' },
    ]);
  });

  test('the asker cancels while pending: aborted at once, everyone told, nothing applied; nobody else can', async () => {
    const { activities, calls } = fakeActivities();
    await withWorker(activities, async (taskQueue) => {
      const handle = await start(taskQueue);
      expect(await rejection(cancel(handle, NEWBIE))).toBe('notTheAsker');
      expect(await cancel(handle)).toMatchObject({ state: 'aborted', reason: 'cancelledByAsker' });
      // A second cancel is refused by the run, or finds it already over (its end mails may be out by then).
      const again = await cancel(handle).catch((e: unknown) => e);
      if (again instanceof WorkflowNotFoundError)
        expect((await handle.describe()).status.name).toBe('COMPLETED');
      else expect(await rejection(Promise.reject(again))).toBe('notCancellable');
      const final = await handle.result();
      expect(final).toMatchObject({ state: 'aborted', reason: 'cancelledByAsker' });
    });
    expect(calls.applied).toBe(0);
    expect(calls.emails.filter((e) => e.template === 'aborted')).toHaveLength(3);
  });

  test('without every answer in time it reminds the pending validator, then expires and tells everyone', async () => {
    const { activities, calls } = fakeActivities();
    await withWorker(activities, async (taskQueue) => {
      const handle = await start(taskQueue);
      await accept(handle, ASKER);
      const final = await handle.result();
      expect(final).toMatchObject({ state: 'expired', reason: 'notValidatedInTime' });
    });
    expect(calls.emails.filter((e) => e.template === 'reminder').map((e) => e.recipient)).toEqual([NEWBIE]);
    expect(calls.emails.filter((e) => e.template === 'expired')).toHaveLength(3);
    expect(calls.applied).toBe(0);
  });

  test('a reminder still being retried at the expiry goes out before the end mails instead of being dropped', async () => {
    // The reminder 3 s before the expiry fails twice (retried after 2 and 4 s): it can only go after it.
    const { activities, calls } = fakeActivities({ failingSteps: { reminder: 2 } });
    const input = { ...adminChangesTech, reminderBeforeExpiryMs: 3000 };
    await withWorker(activities, async (taskQueue) => {
      const handle = await start(taskQueue, input);
      await accept(handle, ASKER);
      expect(await handle.result()).toMatchObject({ state: 'expired', reason: 'notValidatedInTime' });
    });
    const templates = calls.emails.map((e) => `${e.template} ${e.recipient}`);
    expect(templates.filter((t) => t.startsWith('reminder'))).toEqual([`reminder ${NEWBIE}`]);
    expect(templates.indexOf(`reminder ${NEWBIE}`)).toBeLessThan(templates.indexOf(`expired ${NEWBIE}`));
    // The expiry kept its time: it was recorded before the late reminder.
    const actions = calls.records.map((r) => r.event.action);
    expect(actions.indexOf('expired')).toBeLessThan(actions.indexOf('reminded'));
  });

  test('a refused address puts the task in "needs attention", naming whom; the task still expires on time', async () => {
    const { activities, calls } = fakeActivities({ refusedAddresses: [NEWBIE] });
    await withWorker(activities, async (taskQueue) => {
      const handle = await start(taskQueue);
      // The acceptance waits for the opening codes' activity, so its answer already shows the refusal.
      const accepted = await accept(handle, ASKER);
      expect(accepted.task.needsAttention).toEqual({
        reason: 'mailRejected',
        handles: [NEWBIE],
        since: expect.any(String),
      });
      await env.sleep(7 * DAY + 60_000);
      expect((await handle.query(taskQuery)).state).toBe('expired');
      expect(await handle.result()).toMatchObject({
        state: 'expired',
        needsAttention: { handles: [NEWBIE] },
      });
    });
    expect(calls.records.find((r) => r.event.action === 'needsAttention')).toMatchObject({
      needsAttention: { reason: 'mailRejected', handles: [NEWBIE] },
      event: { detail: { responses: [{ handle: NEWBIE, response: expect.stringMatching(/^550/) }] } },
    });
    // The asker is told once, although the reminder and the end mails to the same address were refused again.
    expect(calls.records.filter((r) => r.event.action === 'needsAttention').length).toBeGreaterThan(1);
    expect(calls.emails.filter((e) => e.template === 'needsAttention')).toEqual([
      { recipient: ASKER, template: 'needsAttention', step: 'attention' },
    ]);
  });

  test('both codes refused: a resend to each in turn clears each from "needs attention", then the task', async () => {
    const refusedAddresses = [ASKER, NEWBIE];
    const { activities, calls } = fakeActivities({ refusedAddresses });
    await withWorker(activities, async (taskQueue) => {
      const handle = await start(taskQueue);
      const attention = async () => (await handle.query(taskQuery)).needsAttention;
      await eventually('both refusals shown', async () =>
        expect((await attention())?.handles.sort()).toEqual([ASKER, NEWBIE].sort()),
      );
      refusedAddresses.length = 0; // the mail server takes mail again
      await env.sleep(61_000);
      await resend(handle, { by: ASKER, to: [NEWBIE] });
      await eventually('the newcomer reached', async () =>
        expect(await attention()).toMatchObject({ reason: 'mailRejected', handles: [ASKER] }),
      );
      await resend(handle, { by: ASKER, to: [ASKER] });
      await eventually('everyone reached', async () => expect(await attention()).toBeUndefined());
      // Both have their fresh code: the change goes ahead.
      await accept(handle, ASKER, code(ASKER, 'resend-2'));
      await accept(handle, NEWBIE, code(NEWBIE, 'resend-1'));
      expect(await handle.result()).toMatchObject({ state: 'done' });
      expect((await handle.result()).needsAttention).toBeUndefined();
    });
    expect(calls.records.filter((r) => r.event.action === 'mailDelivered')).toHaveLength(2);
  });

  test('a mail server down past every retry puts the task in "needs attention" instead of retrying for ever; it expires on time', async () => {
    const { activities } = fakeActivities({ mailServerDown: true });
    await withWorker(activities, async (taskQueue) => {
      const handle = await start(taskQueue);
      await accept(handle, ASKER);
      // The reminder (5 days in) cannot go; its retries (about an hour) end before the expiry, which keeps its time.
      await env.sleep(7 * DAY + 60_000);
      const expired = await handle.query(taskQuery);
      expect(expired).toMatchObject({
        state: 'expired',
        needsAttention: { reason: 'mailUndelivered', handles: [NEWBIE] },
      });
      // The end mails cannot go either: the run still ends, bounded, with the problem shown.
      expect(await handle.result()).toMatchObject({
        state: 'expired',
        needsAttention: { reason: 'mailUndelivered' },
      });
    });
  });

  test.each([['billingInArrears'], ['roleNoLongerHeld']])(
    'a precondition broken before applying (%s) refuses the task with that reason',
    async (reason) => {
      const { activities, calls } = fakeActivities({ apply: { applied: false, reason, state: 'refused' } });
      await withWorker(activities, async (taskQueue) => {
        const handle = await start(taskQueue);
        for (const account of adminChangesTech.validators) await accept(handle, account);
        expect(await handle.result()).toMatchObject({ state: 'refused', reason });
      });
      expect(calls.emails.filter((e) => e.template === 'refused')).toHaveLength(3);
    },
  );

  test('a second task for a role already being changed is refused at once', async () => {
    const { activities, calls } = fakeActivities({ conflict: true });
    await withWorker(activities, async (taskQueue) => {
      const handle = await start(taskQueue);
      expect(await handle.result()).toMatchObject({ state: 'refused', reason: 'taskAlreadyOpen' });
    });
    expect(calls.codes).toHaveLength(0);
  });

  test('a code typed while its email is out but the activity has not reported back yet still counts', async () => {
    let resendStarted!: () => void;
    const resendRunning = new Promise<void>((resolve) => (resendStarted = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const { activities } = fakeActivities({
      beforeCodes: async (step) => {
        if (step === 'created') return;
        resendStarted();
        await released;
      },
    });
    await withWorker(activities, async (taskQueue) => {
      const handle = await start(taskQueue);
      await env.sleep(61_000);
      await resend(handle, { by: NEWBIE });
      await resendRunning;
      // The resend's code is in the mailbox; its activity has not reported back: the Update is admitted and waits.
      const early = await handle.startUpdate(acceptUpdate, {
        args: [{ account: NEWBIE, codeHash: code(NEWBIE, 'resend-1') }],
        waitForStage: WorkflowUpdateStage.ACCEPTED,
      });
      release();
      expect((await early.result()).outcome).toBe('accepted');
      await cancel(handle);
      await handle.result();
    });
  });

  test('an admin taking the role itself is the only validator', async () => {
    const { activities, calls } = fakeActivities();
    await withWorker(activities, async (taskQueue) => {
      const handle = await start(taskQueue, { ...adminChangesTech, toAccount: ASKER, validators: [ASKER] });
      await accept(handle, ASKER);
      expect((await handle.result()).state).toBe('done');
    });
    expect(calls.codes).toHaveLength(1);
  });
});

/** The type of the ApplicationFailure that rejected an Update. */
async function rejection(update: Promise<unknown>): Promise<string | undefined> {
  const error = await update.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof WorkflowUpdateFailedError))
    throw new Error(`expected a rejected update, got ${String(error)}`);
  return error.cause instanceof ApplicationFailure ? (error.cause.type ?? undefined) : undefined;
}
