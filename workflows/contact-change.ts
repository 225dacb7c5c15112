import {
  type ActivityOptions,
  allHandlersFinished,
  ApplicationFailure,
  condition,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { AuditEntry, ContactChangeActivities, EmailTemplate } from './contact-change.activities';
import {
  acceptUpdate,
  cancelSignal,
  ContactChangeInput,
  DECISION_REJECTIONS,
  DecisionInput,
  DecisionRejection,
  DecisionResult,
  MAX_WRONG_CODES,
  CANCELLABLE_STATES,
  OPEN_STATES,
  refuseUpdate,
  registeredUpdate,
  resendSignal,
  ResendRequest,
  TaskState,
  TaskView,
  ValidatorView,
  taskQuery,
} from './contact-change.messages';

// One transaction takes milliseconds; 10 s is ample, and short enough that a worker killed mid-apply is noticed soon.
const DATABASE_OPTIONS: CommonActivityOptions = {
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
};
const database = proxyActivities<ContactChangeActivities>(DATABASE_OPTIONS);

// Short database writes run as local activities since the local-db-writes patch: no round trip through the
// Temporal server for each projection, which is what bounded the story throughput (see README, Performance).
const localDatabase = proxyLocalActivities<ContactChangeActivities>({
  ...DATABASE_OPTIONS,
  startToCloseTimeout: '30 seconds',
  localRetryThreshold: '10 seconds',
});
const LOCAL_DB_WRITES_PATCH = 'local-db-writes';

// A mail server outage delays mail and loses none: retry for as long as the task lives.
const MAIL_OPTIONS: CommonActivityOptions = {
  // Short enough that a worker killed mid-send is noticed quickly; an SMTP exchange takes well under it.
  startToCloseTimeout: '20 seconds',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes' },
};
const mail = proxyActivities<ContactChangeActivities>(MAIL_OPTIONS);

// The opening mails as a local activity, in the workflow's first task: one workflow task and one activity task
// fewer per story. Nobody waits on that task (the API answers from the read model), and an SMTP outage only
// makes it retry, on timers once past the local retry threshold.
const localMail = proxyLocalActivities<ContactChangeActivities>({
  ...MAIL_OPTIONS,
  localRetryThreshold: '10 seconds',
});
const OPENING_MAIL_IN_FIRST_TASK_PATCH = 'opening-mail-in-first-task';

const PARALLEL_MAIL_PATCH = 'parallel-mail';
const BATCHED_MAIL_PATCH = 'batched-mail';
const OPENING_MAIL_IN_ONE_ACTIVITY_PATCH = 'opening-mail-in-one-activity';
const AWAIT_CODE_IN_FLIGHT_PATCH = 'await-code-in-flight';
const DONE_STATE_SEARCH_ATTRIBUTE_PATCH = 'done-state-search-attribute';
// The apply transaction runs inside the last acceptance's workflow task and the end mails go out in one
// activity: two workflow tasks and two activity tasks fewer per story (README, Performance).
const LOCAL_APPLY_AND_ONE_END_MAIL_PATCH = 'local-apply-and-one-end-mail';
// openTask writes the task as created, with its audit event, in its own transaction: one local activity less.
const OPEN_AND_RECORD_IN_ONE_PATCH = 'open-and-record-in-one';

/** What the activity and the local activity of a kind share: timeout and retries. */
type CommonActivityOptions = Pick<ActivityOptions, 'startToCloseTimeout' | 'retry'>;

interface ValidatorState extends ValidatorView {
  codeHash?: string;
  /** Its code email may already be in the person's mailbox while the activity has not yet reported back. */
  codeInFlight?: boolean;
}

function rejectDecision(reason: DecisionRejection): never {
  throw ApplicationFailure.create({ type: reason, message: DECISION_REJECTIONS[reason], nonRetryable: true });
}

export async function contactChange(input: ContactChangeInput): Promise<TaskView> {
  const { workflowId, runId } = workflowInfo();
  const expiresAtMs = Date.now() + input.expiryMs;
  const expiresAt = new Date(expiresAtMs).toISOString();
  let taskId: number | undefined;
  let state: TaskState = 'todo';
  let reason: string | undefined;
  let eventCount = 0;
  let resendCount = 0;
  const validators: ValidatorState[] = input.validators.map((handle) => ({
    handle,
    status: 'pending',
    wrongCodes: 0,
    locked: false,
  }));
  const resendQueue: ResendRequest[] = [];
  let cancelledBy: { by: string; sourceIp?: string } | undefined;

  const view = (): TaskView => ({
    taskId,
    state,
    reason,
    validators: validators.map(({ codeHash: _hidden, codeInFlight: _internal, ...visible }) => visible),
    awaiting: validators.filter((v) => v.status === 'pending').map((v) => v.handle),
    expiresAt,
  });
  const isOpen = () => OPEN_STATES.includes(state);
  const allAccepted = () => validators.every((v) => v.status === 'accepted');
  const anyRefused = () => validators.some((v) => v.status === 'refused');
  const audit = (
    actor: string,
    action: string,
    detail?: Record<string, unknown>,
    sourceIp?: string,
  ): AuditEntry => ({
    dedupeKey: `${workflowId}/${runId}/${++eventCount}`,
    actor,
    action,
    detail,
    sourceIp,
  });
  const record = async (event: AuditEntry) => {
    if (taskId === undefined) return;
    if (input.searchAttributes) upsertSearchAttributes({ ContactTaskState: [state] });
    const writer = patched(LOCAL_DB_WRITES_PATCH) ? localDatabase : database;
    await writer.recordTask({ taskId, state, reason, validators: view().validators, event });
  };
  const findValidator = (account: string) => validators.find((v) => v.handle === account);

  const validateDecision = ({ account }: DecisionInput) => {
    if (taskId === undefined) rejectDecision('notRegistered');
    if (state !== 'validatingByCustomers') rejectDecision('notAwaitingDecisions');
    const validator = findValidator(account);
    if (!validator) rejectDecision('notAValidator');
    if (validator.status !== 'pending') rejectDecision('alreadyDecided');
    if (validator.locked) rejectDecision('codeLocked');
  };

  const decide = async (decision: 'accepted' | 'refused', input: DecisionInput): Promise<DecisionResult> => {
    const validator = findValidator(input.account)!;
    if (validator.codeInFlight && patched(AWAIT_CODE_IN_FLIGHT_PATCH)) {
      await condition(() => !validator.codeInFlight, '20 seconds');
      // The task or this validator may have moved on while we waited: check again, as the validator did.
      if (state !== 'validatingByCustomers') rejectDecision('notAwaitingDecisions');
      if (validator.status !== 'pending') rejectDecision('alreadyDecided');
    }
    if (validator.codeHash !== input.codeHash) {
      validator.wrongCodes += 1;
      validator.locked = validator.wrongCodes >= MAX_WRONG_CODES;
      const result: DecisionResult = {
        outcome: validator.locked ? 'locked' : 'wrongCode',
        attemptsLeft: MAX_WRONG_CODES - validator.wrongCodes,
        task: view(),
      };
      await record(audit(input.account, result.outcome, {}, input.sourceIp));
      return result;
    }
    validator.status = decision;
    validator.codeHash = undefined;
    if (decision === 'refused') {
      state = 'refused';
      reason = 'refusedByContact';
    } else if (allAccepted()) {
      state = 'checkValidity';
    }
    const decided = view();
    await record(audit(input.account, decision, {}, input.sourceIp));
    return { outcome: decision, task: decided };
  };

  setHandler(taskQuery, view);
  setHandler(registeredUpdate, async () => {
    await condition(() => taskId !== undefined);
    return view();
  });
  setHandler(acceptUpdate, (decision) => decide('accepted', decision), { validator: validateDecision });
  setHandler(refuseUpdate, (decision) => decide('refused', decision), { validator: validateDecision });
  setHandler(resendSignal, (request) => {
    if (isOpen() && findValidator(request.account)?.status === 'pending') resendQueue.push(request);
  });
  setHandler(cancelSignal, (request) => {
    if (CANCELLABLE_STATES.includes(state)) cancelledBy = request;
  });

  const createdEvent = () =>
    audit(input.askingAccount, 'created', { contactTypes: input.contactTypes }, input.requestedFromIp);
  const openedAndRecorded = patched(OPEN_AND_RECORD_IN_ONE_PATCH);
  const opener = openedAndRecorded || patched(LOCAL_DB_WRITES_PATCH) ? localDatabase : database;
  const opened = await opener.openTask({
    ...input,
    workflowId,
    runId,
    expiresAt,
    ...(openedAndRecorded ? { created: createdEvent() } : {}),
  });
  taskId = opened.taskId;
  if (opened.conflict) {
    state = 'refused';
    reason = 'taskAlreadyOpen';
    return view();
  }

  state = 'validatingByCustomers';
  if (!openedAndRecorded) await record(createdEvent());
  else if (input.searchAttributes) upsertSearchAttributes({ ContactTaskState: [state] });
  if (patched(OPENING_MAIL_IN_FIRST_TASK_PATCH)) {
    const notices = { recipients: input.informed, template: 'informedCreated' as const };
    await sendCodes(validators, 'created', notices, localMail);
  } else if (patched(OPENING_MAIL_IN_ONE_ACTIVITY_PATCH)) {
    await sendCodes(validators, 'created', { recipients: input.informed, template: 'informedCreated' });
  } else if (patched(BATCHED_MAIL_PATCH)) {
    await Promise.all([
      sendCodes(validators, 'created'),
      notifyMany(input.informed, 'informedCreated', 'created'),
    ]);
  } else {
    await inTurnOrTogether([
      ...validators.map((validator) => () => sendCode(validator, 'created')),
      ...input.informed.map((handle) => () => notify(handle, 'informedCreated', 'created')),
    ]);
  }

  await waitForDecisions();

  if (cancelledBy) {
    state = 'aborted';
    reason = cancelledBy.by === input.askingAccount ? 'cancelledByAsker' : 'cancelledByOperator';
    await record(audit(cancelledBy.by, 'cancelled', {}, cancelledBy.sourceIp));
    await notifyEveryone('aborted');
  } else if (anyRefused()) {
    await notifyEveryone('refused');
  } else if (!allAccepted()) {
    state = 'expired';
    reason = 'notValidatedInTime';
    await record(audit('system', 'expired'));
    await notifyEveryone('expired');
  } else {
    await applyChange();
  }
  await condition(allHandlersFinished);
  return view();

  /** Mails go out together since the parallel-mail patch; runs started before it keep sending them in turn. */
  async function inTurnOrTogether(sends: (() => Promise<void>)[]) {
    if (patched(PARALLEL_MAIL_PATCH)) {
      await Promise.all(sends.map((send) => send()));
      return;
    }
    for (const send of sends) await send();
  }

  /** One activity per step and template since the batched-mail patch; one per recipient before it. */
  async function notifyMany(handles: string[], template: EmailTemplate, step: string) {
    if (handles.length === 0) return;
    if (!patched(BATCHED_MAIL_PATCH)) {
      await inTurnOrTogether(handles.map((handle) => () => notify(handle, template, step)));
      return;
    }
    await mail.sendTaskEmails({
      taskId: taskId!,
      recipients: handles,
      step: `${step}/${template}`,
      template,
    });
  }

  async function sendCodes(
    targets: ValidatorState[],
    step: string,
    notices?: { recipients: string[]; template: EmailTemplate },
    mailer = mail,
  ) {
    for (const validator of targets) validator.codeInFlight = true;
    const handles = targets.map((v) => v.handle);
    const hashes = await mailer.issueCodes({
      taskId: taskId!,
      handles,
      step,
      ...(notices ? { notices } : {}),
    });
    for (const validator of targets) codeIssued(validator, hashes[validator.handle]);
  }

  function codeIssued(validator: ValidatorState, codeHash: string) {
    validator.codeInFlight = false;
    validator.codeHash = codeHash;
    validator.wrongCodes = 0;
    validator.locked = false;
    validator.lastCodeSentAt = new Date().toISOString();
  }

  async function sendCode(validator: ValidatorState, step: string) {
    validator.codeInFlight = true;
    const { codeHash } = await mail.issueCode({ taskId: taskId!, handle: validator.handle, step });
    codeIssued(validator, codeHash);
  }

  async function notify(handle: string, template: EmailTemplate, step: string) {
    await mail.sendTaskEmail({ taskId: taskId!, recipient: handle, step: `${step}/${template}`, template });
  }

  async function notifyEveryone(template: EmailTemplate) {
    const everyone = new Set([input.askingAccount, ...input.validators, ...input.informed]);
    await notifyMany([...everyone], template, 'end');
  }

  async function waitForDecisions() {
    const reminderAtMs = expiresAtMs - input.reminderBeforeExpiryMs;
    let reminded = false;
    for (;;) {
      const decided = () => !isOpen() || state === 'checkValidity' || cancelledBy !== undefined;
      if (decided()) return;
      const wakeAtMs = reminded ? expiresAtMs : reminderAtMs;
      const woken = await condition(
        () => decided() || resendQueue.length > 0,
        Math.max(wakeAtMs - Date.now(), 1),
      );
      await processResends();
      if (woken || decided()) continue;
      if (!reminded) {
        reminded = true;
        for (const v of validators.filter((v) => v.status === 'pending'))
          await notify(v.handle, 'reminder', 'reminder');
        await record(audit('system', 'reminded'));
      } else if (Date.now() >= expiresAtMs) {
        return;
      }
    }
  }

  async function processResends() {
    while (resendQueue.length > 0) {
      const request = resendQueue.shift()!;
      const validator = findValidator(request.account)!;
      const lastSent = validator.lastCodeSentAt ? Date.parse(validator.lastCodeSentAt) : 0;
      if (validator.status !== 'pending' || Date.now() - lastSent < input.resendMinIntervalMs) continue;
      await sendCode(validator, `resend-${++resendCount}`);
      await record(audit(request.by, 'codeResent', { validator: validator.handle }, request.sourceIp));
    }
  }

  async function applyChange() {
    state = 'doing';
    const locally = patched(LOCAL_APPLY_AND_ONE_END_MAIL_PATCH);
    // The last acceptance's handler is still recording it; a local apply running beside that local write would
    // let the two complete in either order, and a replay could then not tell them apart.
    if (locally) await condition(allHandlersFinished);
    const applier = locally ? localDatabase : database;
    const result = await applier.applyChange({ taskId: taskId!, event: audit('system', 'applied') });
    if (result.applied) {
      state = 'done';
      if (input.searchAttributes && patched(DONE_STATE_SEARCH_ATTRIBUTE_PATCH)) {
        upsertSearchAttributes({ ContactTaskState: [state] });
      }
      if (locally) {
        await mail.sendTaskEmailBatches({
          taskId: taskId!,
          step: 'end',
          batches: [
            { template: 'done', recipients: input.validators },
            { template: 'doneInformed', recipients: input.informed },
          ],
        });
        return;
      }
      await Promise.all([
        notifyMany(input.validators, 'done', 'end'),
        notifyMany(input.informed, 'doneInformed', 'end'),
      ]);
      return;
    }
    state = 'refused';
    reason = result.reason;
    await record(audit('system', 'refusedAtApply', { reason: result.reason }));
    await notifyEveryone('refused');
  }
}
