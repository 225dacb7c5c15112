import {
  type ActivityOptions,
  allHandlersFinished,
  ApplicationFailure,
  condition,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { AuditEntry, ContactChangeActivities, MailBatch } from './contact-change.activities';
import {
  acceptUpdate,
  CANCELLABLE_STATES,
  cancelReason,
  cancelUpdate,
  type CancelRequest,
  type ContactChangeInput,
  type DecisionInput,
  type DecisionResult,
  MAX_WRONG_CODES,
  mayCancelTask,
  OPEN_STATES,
  refuseUpdate,
  registeredUpdate,
  REJECTIONS,
  type Rejection,
  resendTargets,
  resendUpdate,
  resendWaitMs,
  type ResendRequest,
  type ResendResult,
  SEARCH_ATTRIBUTES,
  taskQuery,
  type TaskState,
  type TaskView,
  type ValidatorView,
} from './contact-change.messages';
import { auditTrail, codeInFlight, type CodeHolder, runMails } from './run-mails';
import { sha256Hex } from './sha256';

/** What the activity and the local activity of a kind share: timeouts and a bounded retry policy. */
type CommonActivityOptions = Pick<ActivityOptions, 'startToCloseTimeout' | 'retry'>;

// One transaction takes milliseconds. Retried through a database outage of about ten minutes (20 tries, backoff
// capped at 30 s); past that the run fails, visibly, instead of retrying for ever. Constraint violations are
// not retried at all (the activities mark them non-retryable).
const DATABASE_OPTIONS: CommonActivityOptions = {
  startToCloseTimeout: '30 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    maximumAttempts: 20,
  },
};
// The task's opening (its row, its locks) is a local activity of the first workflow task: nothing has happened
// before it, and a first task lost to a timeout runs it again, idempotently.
const opening = proxyLocalActivities<ContactChangeActivities>({
  ...DATABASE_OPTIONS,
  localRetryThreshold: '10 seconds',
});
// Every later write records a decision the run has made durable: an activity is scheduled only once the workflow
// task that decided it is in history. A local activity writes from inside that task, and a task the server timed
// out (a starved worker) is replayed without it, down another path: the soak saw changes applied, and cancels
// recorded, by runs that then expired.
const database = proxyActivities<ContactChangeActivities>(DATABASE_OPTIONS);

// A mail server that is down delays mail: tried for about an hour (20 tries, backoff capped at 5 minutes), then
// the task shows "needs attention" for an operator. A refused address is not retried (see MailOutcome).
const MAIL_OPTIONS: CommonActivityOptions = {
  // Short enough that a worker killed mid-send is noticed quickly; an SMTP exchange takes well under it.
  startToCloseTimeout: '20 seconds',
  retry: {
    initialInterval: '2 seconds',
    backoffCoefficient: 2,
    maximumInterval: '5 minutes',
    maximumAttempts: 20,
  },
};
const mail = proxyActivities<ContactChangeActivities>(MAIL_OPTIONS);
// The opening mails go out as a local activity of the workflow's first task: one workflow task and one activity
// task fewer per story. Nobody waits on that task (the API answers from the read model).
const openingMail = proxyLocalActivities<ContactChangeActivities>({
  ...MAIL_OPTIONS,
  localRetryThreshold: '10 seconds',
});

type ValidatorState = ValidatorView & CodeHolder;

function reject(reason: Rejection, details?: Record<string, unknown>): never {
  throw ApplicationFailure.create({
    type: reason,
    message: REJECTIONS[reason],
    nonRetryable: true,
    ...(details ? { details: [details] } : {}),
  });
}

/** What an Update may carry as a code hash: the API's hex HMAC (anything else is not hashed, but refused). */
const CODE_HASH_SHAPE = /^[\x21-\x7e]{1,128}$/;

export async function contactChange(input: ContactChangeInput): Promise<TaskView> {
  const { workflowId, runId } = workflowInfo();
  const expiresAtMs = Date.now() + input.expiryMs;
  const expiresAt = new Date(expiresAtMs).toISOString();
  let taskId: number | undefined;
  let state: TaskState = 'todo';
  let reason: string | undefined;
  let resendCount = 0;
  const validators: ValidatorState[] = input.validators.map((handle) => ({
    handle,
    status: 'pending',
    wrongCodes: 0,
    locked: false,
    supersededDigests: [],
    codesOut: 0,
  }));
  /** A decision's write that failed for good (recordBehind): it ends the run. */
  let writeFailure: unknown;
  /** The last validator's acceptance, which the apply writes with the change. */
  let lastAcceptance: AuditEntry | undefined;

  const view = (): TaskView => ({
    taskId,
    state,
    reason,
    validators: validators.map(({ handle, status, wrongCodes, locked, lastCodeSentAt }) => ({
      handle,
      status,
      wrongCodes,
      locked,
      lastCodeSentAt,
    })),
    awaiting: OPEN_STATES.includes(state)
      ? validators.filter((v) => v.status === 'pending').map((v) => v.handle)
      : [],
    expiresAt,
    needsAttention: mails.attention(),
  });
  const findValidator = (account: string) => validators.find((v) => v.handle === account);
  const allAccepted = () => validators.every((v) => v.status === 'accepted');
  const audit = auditTrail(workflowId, runId);

  let publishedState: TaskState | undefined;
  /** Operators' view of the run: search attributes (task id, state) and the current details, in words. */
  const publish = () => {
    setCurrentDetails(describe());
    if (!input.searchAttributes || publishedState === state) return;
    publishedState = state;
    upsertSearchAttributes([
      { key: SEARCH_ATTRIBUTES.state, value: state },
      ...(taskId !== undefined ? [{ key: SEARCH_ATTRIBUTES.taskId, value: taskId }] : []),
    ]);
  };

  // The read model gets each snapshot in order: two writes started together (a handler's and the main line's)
  // must not land in either order.
  let previousWrite: Promise<unknown> = Promise.resolve();
  const record = (event: AuditEntry) => {
    publish();
    const args = {
      taskId: taskId!,
      state,
      reason,
      validators: view().validators,
      needsAttention: mails.attention(),
      event,
    };
    const write = previousWrite.then(() => database.recordTask(args));
    previousWrite = write.catch(() => undefined);
    return write;
  };
  /**
   * A decision's write, which the Update's answer does not wait for: the decision is durable once the workflow
   * task that made it completes (the Update's answer comes with that completion), and its write follows as an
   * activity. Waiting for it cost the person two more workflow tasks and an activity task per click
   * (docs/performance.md, 2026-12-07). A write that fails for good ends the run, as a background mail's does.
   */
  const recordBehind = (event: AuditEntry) => {
    record(event).catch((error: unknown) => {
      writeFailure ??= error;
    });
  };
  /** Every write started so far has landed (in order); a decision's that failed for good ends the run here. */
  const writesLanded = async () => {
    await previousWrite;
    if (writeFailure !== undefined) throw writeFailure;
  };

  // Code and reminder mails run beside the wait for decisions; the end mails wait for them.
  const mails = runMails<MailBatch['template']>({
    askingAccount: input.askingAccount,
    send: (step, batches) => mail.sendStepMails({ taskId: taskId!, step, batches }),
    attentionTemplate: 'needsAttention',
    awaitingDecisions: () => state === 'validatingByCustomers',
    async recordAttention(action, detail) {
      await record(audit('system', action, detail));
    },
    // The mails tell the outcome the read model holds: its write may still be on its way (a cancel, a refusal).
    outcomeRecorded: writesLanded,
  });
  const { inBackground, sendMails } = mails;

  const validateDecision = ({ account, codeHash }: DecisionInput) => {
    if (taskId === undefined) reject('notRegistered');
    if (state !== 'validatingByCustomers') reject('notAwaitingDecisions');
    const validator = findValidator(account);
    if (!validator) reject('notAValidator');
    if (validator.status !== 'pending') reject('alreadyDecided');
    // A locked code is lifted by the fresh code of a resend: one typed while that mail is out waits for it.
    if (validator.locked && !codeInFlight(validator)) reject('codeLocked');
    if (typeof codeHash !== 'string' || !CODE_HASH_SHAPE.test(codeHash)) reject('notAValidator');
  };

  const decide = async (
    decision: 'accepted' | 'refused',
    request: DecisionInput,
  ): Promise<DecisionResult> => {
    const validator = findValidator(request.account)!;
    if (codeInFlight(validator)) {
      // The person may have read the code before the activity reported back: wait for it, then check again
      // what the validator checked, since the task or this validator may have moved on meanwhile.
      await condition(() => !codeInFlight(validator), '20 seconds');
      if (state !== 'validatingByCustomers') reject('notAwaitingDecisions');
      if (validator.status !== 'pending') reject('alreadyDecided');
      if (validator.locked) reject('codeLocked');
    }
    const digest = sha256Hex(request.codeHash);
    if (digest !== validator.codeDigest) {
      if (validator.supersededDigests.includes(digest)) {
        recordBehind(audit(request.account, 'supersededCode', {}, request.sourceIp));
        return {
          outcome: 'supersededCode',
          attemptsLeft: MAX_WRONG_CODES - validator.wrongCodes,
          task: view(),
        };
      }
      validator.wrongCodes += 1;
      validator.locked = validator.wrongCodes >= MAX_WRONG_CODES;
      const result: DecisionResult = {
        outcome: validator.locked ? 'locked' : 'wrongCode',
        attemptsLeft: MAX_WRONG_CODES - validator.wrongCodes,
        task: view(),
      };
      recordBehind(audit(request.account, result.outcome, {}, request.sourceIp));
      return result;
    }
    validator.status = decision;
    validator.codeDigest = undefined;
    validator.supersededDigests = [];
    const decided = audit(request.account, decision, {}, request.sourceIp);
    if (decision === 'refused') {
      state = 'refused';
      reason = 'refusedByContact';
    } else if (allAccepted()) {
      // The last acceptance is written by the apply, in its first statement (applyChange below).
      state = 'checkValidity';
      lastAcceptance = decided;
      return { outcome: decision, task: view() };
    }
    recordBehind(decided);
    return { outcome: decision, task: view() };
  };

  const resendTargetsOf = (request: ResendRequest) =>
    resendTargets({ askingAccount: input.askingAccount, state, validators }, request);
  const resendWait = (handle: string) =>
    resendWaitMs(findValidator(handle)!, input.resendMinIntervalMs, Date.now());

  const validateResend = (request: ResendRequest) => {
    if (taskId === undefined) reject('notRegistered');
    if (state !== 'validatingByCustomers') reject('notAwaitingDecisions');
    const targets = resendTargetsOf(request);
    if (!targets) reject('nothingToResend');
    const soonestMs = Math.min(...targets.map(resendWait));
    if (soonestMs > 0) reject('resendTooSoon', { retryAfterSeconds: Math.ceil(soonestMs / 1000) });
  };

  const resend = async (request: ResendRequest): Promise<ResendResult> => {
    const targets = resendTargetsOf(request)!;
    const ready = targets.filter((handle) => resendWait(handle) === 0);
    const notYet = targets
      .filter((handle) => !ready.includes(handle))
      .map((handle) => ({ handle, retryAfterSeconds: Math.ceil(resendWait(handle) / 1000) }));
    inBackground(() => issueCodes(ready.map(findValidator) as ValidatorState[], `resend-${++resendCount}`));
    recordBehind(audit(request.by, 'codeResent', { validators: ready }, request.sourceIp));
    return { resentTo: ready, notYet, task: view() };
  };

  const validateCancel = (request: CancelRequest) => {
    if (taskId === undefined) reject('notRegistered');
    if (!mayCancelTask(input, request)) reject('notTheAsker');
    if (!CANCELLABLE_STATES.includes(state)) reject('notCancellable');
  };

  const cancel = async (request: CancelRequest): Promise<TaskView> => {
    state = 'aborted';
    reason = cancelReason(input, request);
    recordBehind(audit(request.by, 'cancelled', {}, request.sourceIp));
    return view();
  };

  setHandler(taskQuery, view);
  setHandler(registeredUpdate, async () => {
    await condition(() => taskId !== undefined);
    return view();
  });
  setHandler(acceptUpdate, (request) => decide('accepted', request), { validator: validateDecision });
  setHandler(refuseUpdate, (request) => decide('refused', request), { validator: validateDecision });
  setHandler(resendUpdate, resend, { validator: validateResend });
  setHandler(cancelUpdate, cancel, { validator: validateCancel });

  const opened = await opening.openTask({
    ...input,
    workflowId,
    runId,
    expiresAt,
    created: audit(
      input.askingAccount,
      'created',
      { contactTypes: input.contactTypes },
      input.requestedFromIp,
    ),
  });
  taskId = opened.taskId;
  if (opened.conflict) {
    state = 'refused';
    reason = 'taskAlreadyOpen';
    publish();
    return view();
  }
  state = 'validatingByCustomers';
  publish();
  const informed = { template: 'informedCreated' as const, recipients: input.informed };
  inBackground(() => issueCodes(validators, 'created', informed, openingMail));

  // The handlers move the state on while this waits (TypeScript cannot see that: read it afresh).
  const decided: TaskState = await waitForDecisions();

  if (decided === 'aborted' || decided === 'refused') {
    await tellEveryone(decided);
  } else if (decided === 'checkValidity') {
    await applyChange(lastAcceptance!);
  } else {
    state = 'expired';
    reason = 'notValidatedInTime';
    await record(audit('system', 'expired'));
    await tellEveryone('expired');
  }
  publish();
  await condition(allHandlersFinished);
  await writesLanded();
  return view();

  /** Waits for the decisions (reminding once) until the expiry; returns the state they led to. */
  async function waitForDecisions(): Promise<TaskState> {
    const failed = () => mails.failure() ?? writeFailure;
    const decided = () => state !== 'validatingByCustomers' || failed() !== undefined;
    const reminderAtMs = expiresAtMs - input.reminderBeforeExpiryMs;
    if (!(await condition(decided, Math.max(reminderAtMs - Date.now(), 1)))) {
      const awaited = validators.filter((v) => v.status === 'pending').map((v) => v.handle);
      inBackground(async () => {
        await sendMails('reminder', [{ template: 'reminder', recipients: awaited }]);
        await record(audit('system', 'reminded'));
      });
      await condition(decided, Math.max(expiresAtMs - Date.now(), 1));
    }
    if (failed() !== undefined) throw failed();
    return state;
  }

  /** Fresh codes to the targets (run-mails.ts issueCodes), with the step's notices. */
  async function issueCodes(
    targets: ValidatorState[],
    step: string,
    notices?: MailBatch,
    activities = mail,
  ): Promise<void> {
    await mails.issueCodes(targets, notices?.recipients ?? [], () =>
      activities.issueCodes({
        taskId: taskId!,
        handles: targets.map((v) => v.handle),
        step,
        ...(notices && notices.recipients.length > 0 ? { notices } : {}),
      }),
    );
  }

  async function tellEveryone(template: MailBatch['template']) {
    await mails.tellEveryone(template, [input.askingAccount, ...input.validators, ...input.informed]);
  }

  /**
   * The last acceptance, the change and its audit in one activity (two statements): the person's answer does not
   * wait for it, and the change needs one activity task instead of two (docs/performance.md, 2026-12-07).
   */
  async function applyChange(acceptance: AuditEntry) {
    state = 'doing';
    publish();
    // The earlier decisions' writes land first: the read model gets every snapshot in order.
    await writesLanded();
    const endBatches: MailBatch[] = [
      { template: 'done' as const, recipients: input.validators },
      { template: 'doneInformed' as const, recipients: input.informed },
    ].filter((batch) => batch.recipients.length > 0);
    // With no other mail out, the "done" mails go with the apply, once it committed: one activity task and one
    // workflow task fewer per story (docs/performance.md, 2026-12-07). What it could not send goes as any end mail.
    const result = await database.applyChange({
      taskId: taskId!,
      accepted: { validators: view().validators, event: acceptance },
      event: audit('system', 'applied'),
      ...(mails.idle() ? { endMails: { step: 'end', batches: endBatches } } : {}),
    });
    if (result.applied) {
      state = 'done';
      publish();
      if (result.mailed) await mails.endMailsSent(endBatches, result.mailed);
      else await mails.endMails('end', endBatches);
      return;
    }
    state = result.state;
    reason = result.reason;
    await record(audit('system', `${result.state}AtApply`, { reason: result.reason }));
    await tellEveryone(result.state);
  }

  /** The run's current details in the Temporal UI: where it stands and whom it waits for, in words. */
  function describe(): string {
    const lines: string[] = [];
    if (state === 'validatingByCustomers') {
      const awaited = validators.filter((v) => v.status === 'pending');
      const accepted = validators.filter((v) => v.status === 'accepted').map((v) => v.handle);
      lines.push(
        `Waiting for ${awaited.map((v) => `${v.handle}${v.locked ? ' (code locked)' : ''}`).join(' and ')} to accept, until ${expiresAt}.`,
      );
      if (accepted.length > 0) lines.push(`Accepted: ${accepted.join(', ')}.`);
    } else {
      lines.push(`${state}${reason ? ` (${reason})` : ''}.`);
    }
    const needsAttention = mails.attention();
    if (needsAttention) {
      lines.push(`Needs attention: ${needsAttention.reason} for ${needsAttention.handles.join(', ')}.`);
    }
    return lines.join('\n');
  }
}
