import {
  type ActivityOptions,
  allHandlersFinished,
  ApplicationFailure,
  condition,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { AuditEntry, ContactChangeActivities, MailBatch } from './contact-change.activities';
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

/** What the activity and the local activity of a kind share: timeout and retries. */
type CommonActivityOptions = Pick<ActivityOptions, 'startToCloseTimeout' | 'retry'>;

// One transaction takes milliseconds; 10 s is ample, and short enough that a worker killed mid-apply is noticed soon.
const DATABASE_OPTIONS: CommonActivityOptions = {
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
};
// The database writes (open, record, apply) run as local activities, inside the workflow task that decides
// them: no round trip through the Temporal server for each, which is what bounded the story throughput
// (docs: performance).
const database = proxyLocalActivities<ContactChangeActivities>({
  ...DATABASE_OPTIONS,
  startToCloseTimeout: '30 seconds',
  localRetryThreshold: '10 seconds',
});

// A mail server outage delays mail and loses none: retry for as long as the task lives.
const MAIL_OPTIONS: CommonActivityOptions = {
  // Short enough that a worker killed mid-send is noticed quickly; an SMTP exchange takes well under it.
  startToCloseTimeout: '20 seconds',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes' },
};
const mail = proxyActivities<ContactChangeActivities>(MAIL_OPTIONS);
// The opening mails go out as a local activity of the workflow's first task: one workflow task and one activity
// task fewer per story. Nobody waits on that task (the API answers from the read model), and an SMTP outage only
// makes it retry, on timers once past the local retry threshold.
const openingMail = proxyLocalActivities<ContactChangeActivities>({
  ...MAIL_OPTIONS,
  localRetryThreshold: '10 seconds',
});

interface ValidatorState extends ValidatorView {
  codeHash?: string;
  /** Its code mail may already be in the person's mailbox while the activity has not yet reported back. */
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
  const findValidator = (account: string) => validators.find((v) => v.handle === account);
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
  const publishState = () => {
    if (input.searchAttributes) upsertSearchAttributes({ ContactTaskState: [state] });
  };
  const record = async (event: AuditEntry) => {
    publishState();
    await database.recordTask({ taskId: taskId!, state, reason, validators: view().validators, event });
  };

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
    if (validator.codeInFlight) {
      // The person may have read the code before the activity reported back: wait for it, then check again
      // what the validator checked, since the task or this validator may have moved on meanwhile.
      await condition(() => !validator.codeInFlight, '20 seconds');
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

  const opened = await database.openTask({
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
    return view();
  }
  state = 'validatingByCustomers';
  publishState();
  await issueCodes(
    validators,
    'created',
    { template: 'informedCreated', recipients: input.informed },
    openingMail,
  );

  await waitForDecisions();

  if (cancelledBy) {
    state = 'aborted';
    reason = cancelledBy.by === input.askingAccount ? 'cancelledByAsker' : 'cancelledByOperator';
    await record(audit(cancelledBy.by, 'cancelled', {}, cancelledBy.sourceIp));
    await tellEveryone('aborted');
  } else if (anyRefused()) {
    await tellEveryone('refused');
  } else if (!allAccepted()) {
    state = 'expired';
    reason = 'notValidatedInTime';
    await record(audit('system', 'expired'));
    await tellEveryone('expired');
  } else {
    await applyChange();
  }
  await condition(allHandlersFinished);
  return view();

  async function issueCodes(targets: ValidatorState[], step: string, notices?: MailBatch, activities = mail) {
    for (const validator of targets) validator.codeInFlight = true;
    const hashes = await activities.issueCodes({
      taskId: taskId!,
      handles: targets.map((v) => v.handle),
      step,
      ...(notices && notices.recipients.length > 0 ? { notices } : {}),
    });
    for (const validator of targets) {
      validator.codeInFlight = false;
      validator.codeHash = hashes[validator.handle];
      validator.wrongCodes = 0;
      validator.locked = false;
      validator.lastCodeSentAt = new Date().toISOString();
    }
  }

  async function sendStepMails(step: string, batches: MailBatch[]) {
    const nonEmpty = batches.filter((batch) => batch.recipients.length > 0);
    if (nonEmpty.length > 0) await mail.sendStepMails({ taskId: taskId!, step, batches: nonEmpty });
  }

  async function tellEveryone(template: MailBatch['template']) {
    const everyone = new Set([input.askingAccount, ...input.validators, ...input.informed]);
    await sendStepMails('end', [{ template, recipients: [...everyone] }]);
  }

  async function waitForDecisions() {
    const reminderAtMs = expiresAtMs - input.reminderBeforeExpiryMs;
    let reminded = false;
    const decided = () => !isOpen() || state === 'checkValidity' || cancelledBy !== undefined;
    while (!decided()) {
      const wakeAtMs = reminded ? expiresAtMs : reminderAtMs;
      const woken = await condition(
        () => decided() || resendQueue.length > 0,
        Math.max(wakeAtMs - Date.now(), 1),
      );
      await processResends();
      if (woken || decided()) continue;
      if (!reminded) {
        reminded = true;
        const pending = validators.filter((v) => v.status === 'pending').map((v) => v.handle);
        await sendStepMails('reminder', [{ template: 'reminder', recipients: pending }]);
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
      await issueCodes([validator], `resend-${++resendCount}`);
      await record(audit(request.by, 'codeResent', { validator: validator.handle }, request.sourceIp));
    }
  }

  async function applyChange() {
    state = 'doing';
    // The last acceptance's handler is still recording it; an apply running beside that local write would
    // let the two complete in either order, and a replay could then not tell them apart.
    await condition(allHandlersFinished);
    const result = await database.applyChange({ taskId: taskId!, event: audit('system', 'applied') });
    if (result.applied) {
      state = 'done';
      publishState();
      await sendStepMails('end', [
        { template: 'done', recipients: input.validators },
        { template: 'doneInformed', recipients: input.informed },
      ]);
      return;
    }
    state = result.state;
    reason = result.reason;
    await record(audit('system', `${result.state}AtApply`, { reason: result.reason }));
    await tellEveryone(result.state);
  }
}
