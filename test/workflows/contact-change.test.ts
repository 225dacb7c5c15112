import {
  ApplicationFailure,
  WorkflowUpdateFailedError,
  WorkflowUpdateStage,
  type WorkflowHandle,
} from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { ContactChangeActivities } from '../../workflows/contact-change.activities';
import { adminChangesTech, fakeActivities } from '../helpers/fake-activities';
import {
  acceptUpdate,
  cancelSignal,
  refuseUpdate,
  registeredUpdate,
  resendSignal,
  taskQuery,
} from '../../workflows/contact-change.messages';
import { timeSkippingEnvironment } from '../helpers/temporal';

let env: TestWorkflowEnvironment;
let run = 0;

beforeAll(async () => {
  env = await timeSkippingEnvironment();
});
afterAll(async () => {
  await env?.teardown();
});

// A test that fails midway leaves its workflow waiting; on the shared time-skipping server that would hold
// back time for the tests after it, so every workflow still running at the end of a test is terminated.
const started: WorkflowHandle[] = [];
afterEach(async () => {
  for (const handle of started.splice(0)) await handle.terminate('test ended').catch(() => undefined);
});

async function withWorker<T>(activities: ContactChangeActivities, body: (taskQueue: string) => Promise<T>) {
  const taskQueue = `test-${++run}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowsPath: require.resolve('../../workflows'),
    activities,
  });
  return worker.runUntil(body(taskQueue));
}

async function start(taskQueue: string, input = adminChangesTech, { awaitCodes = true } = {}) {
  const handle = await env.client.workflow.start('contactChange', {
    taskQueue,
    workflowId: `wf-${run}-${Math.random()}`,
    args: [input],
  });
  started.push(handle);
  await handle.executeUpdate(registeredUpdate);
  // A person can only type a code once its email is out: wait for every code to be issued.
  if (awaitCodes)
    await waitFor(async () => (await handle.query(taskQuery)).validators.every((v) => v.lastCodeSentAt));
  return handle;
}

const code = (handle: string, step = 'created') => `hash:${handle}:${step}`;

describe('contact-change workflow', () => {
  test.each([
    ['admin first', ['ad11111-ovh', 'ne33333-ovh']],
    ['new contact first', ['ne33333-ovh', 'ad11111-ovh']],
  ])('both validators accept (%s): the change is applied once and everyone is told', async (_name, order) => {
    const { activities, calls } = fakeActivities();
    await withWorker(activities, async (taskQueue) => {
      const handle = await start(taskQueue);
      expect(calls.codes.map((c) => c.handle).sort()).toEqual(['ad11111-ovh', 'ne33333-ovh']);
      expect(calls.emails).toContainEqual({
        recipient: 'te22222-ovh',
        template: 'informedCreated',
        step: 'created',
      });
      const first = await handle.executeUpdate(acceptUpdate, {
        args: [{ account: order[0], codeHash: code(order[0]) }],
      });
      expect(first.outcome).toBe('accepted');
      expect(first.task.state).toBe('validatingByCustomers');
      expect(first.task.awaiting).toEqual([order[1]]);
      const second = await handle.executeUpdate(acceptUpdate, {
        args: [{ account: order[1], codeHash: code(order[1]) }],
      });
      expect(second.task.state).toBe('checkValidity');
      expect(second.task.awaiting).toEqual([]);
      const final = await handle.result();
      expect(final.state).toBe('done');
    });
    expect(calls.applied).toBe(1);
    const done = calls.emails.filter((e) => e.template === 'done').map((e) => e.recipient);
    expect(done.sort()).toEqual(['ad11111-ovh', 'ne33333-ovh']);
    expect(calls.emails).toContainEqual({
      recipient: 'te22222-ovh',
      template: 'doneInformed',
      step: 'end',
    });
  });

  test('a refusal ends the task as refused and tells everyone', async () => {
    const { activities, calls } = fakeActivities();
    await withWorker(activities, async (taskQueue) => {
      const handle = await start(taskQueue);
      const result = await handle.executeUpdate(refuseUpdate, {
        args: [{ account: 'ne33333-ovh', codeHash: code('ne33333-ovh') }],
      });
      expect(result.outcome).toBe('refused');
      expect((await handle.result()).state).toBe('refused');
    });
    expect(calls.applied).toBe(0);
    const refused = calls.emails.filter((e) => e.template === 'refused').map((e) => e.recipient);
    expect(refused.sort()).toEqual(['ad11111-ovh', 'ne33333-ovh', 'te22222-ovh']);
    expect(calls.records.at(-1)).toMatchObject({ state: 'refused', reason: 'refusedByContact' });
  });

  test('wrong codes are counted, the fifth locks the code, and a resend unlocks it with a fresh code', async () => {
    const { activities, calls } = fakeActivities();
    await withWorker(activities, async (taskQueue) => {
      const handle = await start(taskQueue);
      const wrong = { account: 'ne33333-ovh', codeHash: 'hash:guess' };
      for (let attempt = 1; attempt <= 4; attempt++) {
        const result = await handle.executeUpdate(acceptUpdate, { args: [wrong] });
        expect(result).toMatchObject({ outcome: 'wrongCode', attemptsLeft: 5 - attempt });
      }
      expect((await handle.executeUpdate(acceptUpdate, { args: [wrong] })).outcome).toBe('locked');
      expect(
        await rejection(
          handle.executeUpdate(acceptUpdate, {
            args: [{ account: 'ne33333-ovh', codeHash: code('ne33333-ovh') }],
          }),
        ),
      ).toBe('codeLocked');
      await env.sleep(61_000);
      await handle.signal(resendSignal, { account: 'ne33333-ovh', by: 'ne33333-ovh' });
      await waitFor(async () => !(await handle.query(taskQuery)).validators[1].locked);
      expect(calls.codes.at(-1)).toEqual({ handle: 'ne33333-ovh', step: 'resend-1' });
      const old = await handle.executeUpdate(acceptUpdate, {
        args: [{ account: 'ne33333-ovh', codeHash: code('ne33333-ovh') }],
      });
      expect(old.outcome).toBe('wrongCode');
      const fresh = await handle.executeUpdate(acceptUpdate, {
        args: [{ account: 'ne33333-ovh', codeHash: code('ne33333-ovh', 'resend-1') }],
      });
      expect(fresh.outcome).toBe('accepted');
      await handle.signal(cancelSignal, { by: 'ad11111-ovh' });
      await handle.result();
    });
  });

  test('updates from someone who is not a validator, or who already decided, are rejected and change nothing', async () => {
    const { activities } = fakeActivities();
    await withWorker(activities, async (taskQueue) => {
      const handle = await start(taskQueue);
      expect(
        await rejection(
          handle.executeUpdate(acceptUpdate, { args: [{ account: 'te22222-ovh', codeHash: 'x' }] }),
        ),
      ).toBe('notAValidator');
      await handle.executeUpdate(acceptUpdate, {
        args: [{ account: 'ad11111-ovh', codeHash: code('ad11111-ovh') }],
      });
      expect(
        await rejection(
          handle.executeUpdate(refuseUpdate, {
            args: [{ account: 'ad11111-ovh', codeHash: code('ad11111-ovh') }],
          }),
        ),
      ).toBe('alreadyDecided');
      const view = await handle.query(taskQuery);
      expect(view.state).toBe('validatingByCustomers');
      expect(view.awaiting).toEqual(['ne33333-ovh']);
      await handle.signal(cancelSignal, { by: 'ad11111-ovh' });
      expect((await handle.result()).state).toBe('aborted');
    });
  });

  test('resend is rate-limited: a second resend within the interval sends nothing', async () => {
    const { activities, calls } = fakeActivities();
    await withWorker(activities, async (taskQueue) => {
      const handle = await start(taskQueue);
      await handle.signal(resendSignal, { account: 'ad11111-ovh', by: 'ad11111-ovh' });
      await handle.query(taskQuery);
      expect(calls.codes.filter((c) => c.step.startsWith('resend'))).toHaveLength(0);
      await env.sleep(61_000);
      await handle.signal(resendSignal, { account: 'ad11111-ovh', by: 'ad11111-ovh' });
      await waitFor(async () => calls.codes.some((c) => c.step === 'resend-1'));
      await handle.signal(cancelSignal, { by: 'ad11111-ovh' });
      await handle.result();
    });
  });

  test('the asker cancels while pending: aborted, everyone told, nothing applied', async () => {
    const { activities, calls } = fakeActivities();
    await withWorker(activities, async (taskQueue) => {
      const handle = await start(taskQueue);
      await handle.signal(cancelSignal, { by: 'ad11111-ovh' });
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
      await handle.executeUpdate(acceptUpdate, {
        args: [{ account: 'ad11111-ovh', codeHash: code('ad11111-ovh') }],
      });
      const final = await handle.result();
      expect(final).toMatchObject({ state: 'expired', reason: 'notValidatedInTime' });
    });
    expect(calls.emails.filter((e) => e.template === 'reminder').map((e) => e.recipient)).toEqual([
      'ne33333-ovh',
    ]);
    expect(calls.emails.filter((e) => e.template === 'expired')).toHaveLength(3);
    expect(calls.applied).toBe(0);
  });

  test.each([['billingInArrears'], ['roleNoLongerHeld']])(
    'a precondition broken before applying (%s) refuses the task with that reason',
    async (reason) => {
      const { activities, calls } = fakeActivities({ apply: { applied: false, reason, state: 'refused' } });
      await withWorker(activities, async (taskQueue) => {
        const handle = await start(taskQueue);
        for (const account of adminChangesTech.validators) {
          await handle.executeUpdate(acceptUpdate, { args: [{ account, codeHash: code(account) }] });
        }
        expect(await handle.result()).toMatchObject({ state: 'refused', reason });
      });
      expect(calls.emails.filter((e) => e.template === 'refused')).toHaveLength(3);
    },
  );

  test('a second task for a role already being changed is refused at once', async () => {
    const { activities, calls } = fakeActivities({ conflict: true });
    await withWorker(activities, async (taskQueue) => {
      const handle = await start(taskQueue, adminChangesTech, { awaitCodes: false });
      expect(await handle.result()).toMatchObject({ state: 'refused', reason: 'taskAlreadyOpen' });
    });
    expect(calls.codes).toHaveLength(0);
  });

  test('a code typed while its email is out but the activity has not reported back yet still counts', async () => {
    let resendStarted!: () => void;
    const started = new Promise<void>((resolve) => (resendStarted = resolve));
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
      await handle.signal(resendSignal, { account: 'ne33333-ovh', by: 'ne33333-ovh' });
      await started;
      // The resend's code is in the mailbox; the activity has not reported back: the Update is admitted and waits.
      const early = await handle.startUpdate(acceptUpdate, {
        args: [{ account: 'ne33333-ovh', codeHash: code('ne33333-ovh', 'resend-1') }],
        waitForStage: WorkflowUpdateStage.ACCEPTED,
      });
      release();
      expect((await early.result()).outcome).toBe('accepted');
      await handle.signal(cancelSignal, { by: 'ad11111-ovh' });
      await handle.result();
    });
  });

  test('an admin taking the role itself is the only validator', async () => {
    const { activities, calls } = fakeActivities();
    await withWorker(activities, async (taskQueue) => {
      const handle = await start(taskQueue, {
        ...adminChangesTech,
        toAccount: 'ad11111-ovh',
        validators: ['ad11111-ovh'],
      });
      await handle.executeUpdate(acceptUpdate, {
        args: [{ account: 'ad11111-ovh', codeHash: code('ad11111-ovh') }],
      });
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

async function waitFor(check: () => Promise<boolean>, timeoutMs = 10_000) {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
