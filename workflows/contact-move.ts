import {
  type ActivityOptions,
  allHandlersFinished,
  ApplicationFailure,
  condition,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { AuditEntry } from './contact-change.activities';
import {
  MAX_WRONG_CODES,
  REJECTIONS,
  type Rejection,
  resendTargets,
  resendWaitMs,
  SEARCH_ATTRIBUTES,
} from './contact-change.messages';
import type { ContactMoveActivities, ItemEffect, MoveMailBatch } from './contact-move.activities';
import {
  acceptMoveUpdate,
  CANCELLABLE_MOVE_STATES,
  cancelMoveUpdate,
  type ContactMoveInput,
  type MoveCancelRequest,
  type MoveCountsView,
  type MoveDecisionInput,
  type MoveDecisionResult,
  moveQuery,
  type MoveResendRequest,
  type MoveResendResult,
  type MoveState,
  type MoveValidatorView,
  type MoveView,
  OPEN_MOVE_STATES,
  refuseMoveUpdate,
  registeredMoveUpdate,
  resendMoveUpdate,
} from './contact-move.messages';
import { auditTrail, codeInFlight, type CodeHolder, runMails } from './run-mails';
import { sha256Hex } from './sha256';

type CommonActivityOptions = Pick<ActivityOptions, 'startToCloseTimeout' | 'retry'>;

// As a single task's: retried through a database outage of about ten minutes, then the run fails visibly.
const DATABASE_RETRY: ActivityOptions['retry'] = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '30 seconds',
  maximumAttempts: 20,
};
// Decisions' records are one short transaction each (an exclusion touches the excluded items only). Activities,
// not local activities: a record is written only once the workflow task that decided it is in history (see
// contact-change.ts).
const database = proxyActivities<ContactMoveActivities>({
  startToCloseTimeout: '60 seconds',
  retry: DATABASE_RETRY,
});
// Opening writes every item (100,000 at most) in one transaction; the end of a move ends its open items. They
// heartbeat while the transaction runs: an attempt whose worker died (or whose dispatch a restarted Temporal server
// lost) is retried after the heartbeat timeout, not after the 10 minutes (npm run soak: a move stuck in checking).
const bulk = proxyActivities<ContactMoveActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '10 seconds',
  retry: DATABASE_RETRY,
});
// The apply heartbeats every second while it runs, however long a chunk takes (the worker sends them at most
// every second): a worker killed mid-apply is noticed within the heartbeat timeout, a few seconds, and the retry
// goes on from the items' states (nothing applied twice, nothing lost).
const applying = proxyActivities<ContactMoveActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '5 seconds',
  retry: DATABASE_RETRY,
});
const MAIL_OPTIONS: CommonActivityOptions = {
  startToCloseTimeout: '60 seconds',
  retry: {
    initialInterval: '2 seconds',
    backoffCoefficient: 2,
    maximumInterval: '5 minutes',
    maximumAttempts: 20,
  },
};
const mail = proxyActivities<ContactMoveActivities>(MAIL_OPTIONS);

/** Chunks per apply activity: the workflow hears the progress (Query, Temporal UI) after each such call. */
const CHUNKS_PER_CALL = 10;

type ValidatorState = MoveValidatorView & CodeHolder;

function reject(reason: Rejection | 'nothingToExclude', details?: Record<string, unknown>): never {
  throw ApplicationFailure.create({
    type: reason,
    message: reason === 'nothingToExclude' ? 'exclude names only services of this move' : REJECTIONS[reason],
    nonRetryable: true,
    ...(details ? { details: [details] } : {}),
  });
}

const CODE_HASH_SHAPE = /^[\x21-\x7e]{1,128}$/;
const MAX_EXCLUDED = 10_000;

export async function contactMove(input: ContactMoveInput): Promise<MoveView> {
  const { workflowId, runId } = workflowInfo();
  const expiresAtMs = Date.now() + input.expiryMs;
  const expiresAt = new Date(expiresAtMs).toISOString();
  let registered = false;
  let state: MoveState = 'checking';
  let reason: string | undefined;
  let counts: MoveCountsView = { total: 0, applied: 0, skipped: 0, refused: 0, remaining: 0 };
  let validators: ValidatorState[] = [];
  let informed: string[] = [];
  let resendCount = 0;

  const view = (): MoveView => ({
    moveId: input.moveId,
    registered,
    state,
    reason,
    validators: validators.map(({ handle, status, items, wrongCodes, locked, lastCodeSentAt }) => ({
      handle,
      status,
      items,
      wrongCodes,
      locked,
      lastCodeSentAt,
    })),
    awaiting: OPEN_MOVE_STATES.includes(state)
      ? validators.filter((v) => v.status === 'pending').map((v) => v.handle)
      : [],
    counts,
    expiresAt,
    needsAttention: mails.attention(),
  });
  const findValidator = (account: string) => validators.find((v) => v.handle === account);
  const audit = auditTrail(workflowId, runId);

  let publishedState: MoveState | undefined;
  const publish = () => {
    setCurrentDetails(describe());
    if (!input.searchAttributes || publishedState === state) return;
    publishedState = state;
    upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.state, value: state }]);
  };

  // Snapshots reach the read model in order (a handler's and the main line's writes must not cross).
  let previousWrite: Promise<unknown> = Promise.resolve();
  const record = (event: AuditEntry, items?: ItemEffect, activities = database) => {
    publish();
    const args = {
      moveId: input.moveId,
      state,
      reason,
      validators: view().validators,
      needsAttention: mails.attention(),
      event,
      ...(items ? { items } : {}),
    };
    const write = previousWrite.then(() => activities.recordMove(args));
    previousWrite = write.catch(() => undefined);
    return write.then((fresh) => {
      counts = fresh;
      publish();
    });
  };

  // Code, notice and reminder mails run beside the wait for decisions; the end mails wait for them.
  const mails = runMails<MoveMailBatch['template']>({
    askingAccount: input.askingAccount,
    send: (step, batches) => mail.sendMoveMails({ moveId: input.moveId, step, batches }),
    attentionTemplate: 'moveNeedsAttention',
    awaitingDecisions: () => state === 'todo',
    async recordAttention(action, detail) {
      await record(audit('system', action, detail));
    },
    // The mails tell the outcome the read model holds: a handler may still be recording it (a cancel, a refusal).
    outcomeRecorded: () => previousWrite,
  });
  const { inBackground, sendMails } = mails;

  const validateDecision = ({ account, codeHash, exclude }: MoveDecisionInput) => {
    if (!registered) reject('notRegistered');
    if (state !== 'todo') reject('notAwaitingDecisions');
    const validator = findValidator(account);
    if (!validator) reject('notAValidator');
    if (validator.status !== 'pending') reject('alreadyDecided');
    if (validator.locked && !codeInFlight(validator)) reject('codeLocked');
    if (typeof codeHash !== 'string' || !CODE_HASH_SHAPE.test(codeHash)) reject('notAValidator');
    if (
      exclude !== undefined &&
      (!Array.isArray(exclude) ||
        exclude.length > MAX_EXCLUDED ||
        exclude.some((name) => typeof name !== 'string'))
    )
      reject('nothingToExclude');
  };

  const decide = async (
    decision: 'accepted' | 'refused',
    request: MoveDecisionInput,
  ): Promise<MoveDecisionResult> => {
    const validator = findValidator(request.account)!;
    if (codeInFlight(validator)) {
      await condition(() => !codeInFlight(validator), '20 seconds');
      if (state !== 'todo') reject('notAwaitingDecisions');
      if (validator.status !== 'pending') reject('alreadyDecided');
      if (validator.locked) reject('codeLocked');
    }
    const digest = sha256Hex(request.codeHash);
    if (digest !== validator.codeDigest) {
      if (validator.supersededDigests.includes(digest)) {
        await record(audit(request.account, 'supersededCode', {}, request.sourceIp));
        return {
          outcome: 'supersededCode',
          attemptsLeft: MAX_WRONG_CODES - validator.wrongCodes,
          move: view(),
        };
      }
      validator.wrongCodes += 1;
      validator.locked = validator.wrongCodes >= MAX_WRONG_CODES;
      const outcome = validator.locked ? 'locked' : 'wrongCode';
      await record(audit(request.account, outcome, {}, request.sourceIp));
      return { outcome, attemptsLeft: MAX_WRONG_CODES - validator.wrongCodes, move: view() };
    }
    validator.status = decision;
    validator.codeDigest = undefined;
    validator.supersededDigests = [];
    if (decision === 'refused') {
      state = 'refused';
      reason = 'refusedByContact';
      await record(audit(request.account, 'moveRefused', {}, request.sourceIp), {
        kind: 'end',
        state: 'refused',
        reason: 'refusedByContact',
        actor: request.account,
      });
      return { outcome: 'refused', move: view() };
    }
    if (validators.every((v) => v.status === 'accepted')) state = 'applying';
    const excluded = [...new Set(request.exclude ?? [])];
    await record(
      audit(request.account, 'moveAccepted', { excluded: excluded.length }, request.sourceIp),
      excluded.length > 0 ? { kind: 'exclude', handle: request.account, serviceNames: excluded } : undefined,
    );
    return { outcome: 'accepted', move: view() };
  };

  const resendTargetsOf = (request: MoveResendRequest) =>
    // The single task's rule, with the move waiting for decisions as the task's validatingByCustomers.
    resendTargets(
      {
        askingAccount: input.askingAccount,
        state: state === 'todo' ? 'validatingByCustomers' : 'doing',
        validators,
      },
      request,
    );
  const resendWait = (handle: string) =>
    resendWaitMs(findValidator(handle)!, input.resendMinIntervalMs, Date.now());

  const validateResend = (request: MoveResendRequest) => {
    if (!registered) reject('notRegistered');
    if (state !== 'todo') reject('notAwaitingDecisions');
    const targets = resendTargetsOf(request);
    if (!targets) reject('nothingToResend');
    const soonestMs = Math.min(...targets.map(resendWait));
    if (soonestMs > 0) reject('resendTooSoon', { retryAfterSeconds: Math.ceil(soonestMs / 1000) });
  };

  const resend = async (request: MoveResendRequest): Promise<MoveResendResult> => {
    const targets = resendTargetsOf(request)!;
    const ready = targets.filter((handle) => resendWait(handle) === 0);
    const notYet = targets
      .filter((handle) => !ready.includes(handle))
      .map((handle) => ({ handle, retryAfterSeconds: Math.ceil(resendWait(handle) / 1000) }));
    inBackground(() => issueCodes(ready.map(findValidator) as ValidatorState[], `resend-${++resendCount}`));
    const result = { resentTo: ready, notYet, move: view() };
    await record(audit(request.by, 'codeResent', { validators: ready }, request.sourceIp));
    return result;
  };

  const validateCancel = (request: MoveCancelRequest) => {
    if (!registered) reject('notRegistered');
    if (!request.operator && request.by !== input.askingAccount) reject('notTheAsker');
    if (!CANCELLABLE_MOVE_STATES.includes(state)) reject('notCancellable');
  };

  const cancel = async (request: MoveCancelRequest): Promise<MoveView> => {
    state = 'cancelled';
    reason = request.operator ? 'cancelledByOperator' : 'cancelledByAsker';
    const cancelled = view();
    await record(audit(request.by, 'moveCancelled', {}, request.sourceIp), {
      kind: 'end',
      state: 'aborted',
      reason,
      actor: request.by,
    });
    return cancelled;
  };

  setHandler(moveQuery, view);
  setHandler(registeredMoveUpdate, async () => {
    await condition(() => registered);
    return view();
  });
  setHandler(acceptMoveUpdate, (request) => decide('accepted', request), { validator: validateDecision });
  setHandler(refuseMoveUpdate, (request) => decide('refused', request), { validator: validateDecision });
  setHandler(resendMoveUpdate, resend, { validator: validateResend });
  setHandler(cancelMoveUpdate, cancel, { validator: validateCancel });

  const opened = await bulk.openMove({
    moveId: input.moveId,
    workflowId,
    runId,
    expiresAt,
    created: audit(input.askingAccount, 'moveCreated', {}, input.requestedFromIp),
  });
  validators = opened.validators.map(({ handle, items }) => ({
    handle,
    items,
    status: 'pending',
    wrongCodes: 0,
    locked: false,
    supersededDigests: [],
    codesOut: 0,
  }));
  informed = opened.informed;
  counts = opened.counts;
  registered = true;
  if (counts.remaining === 0) {
    // Every service was taken by another request between the API's check and now: nothing to validate.
    state = 'aborted';
    reason = 'nothingToMove';
    await record(audit('system', 'moveAborted', { reason }));
    await sendMails('end', [{ template: 'moveNotDone', recipients: [input.askingAccount] }]);
    return finish();
  }
  state = 'todo';
  publish();
  inBackground(() => issueCodes(validators, 'created', { template: 'moveInformed', recipients: informed }));

  const decided: MoveState = await waitForDecisions();
  if (decided === 'refused' || decided === 'cancelled') {
    await tellEveryone('moveNotDone');
  } else if (decided === 'applying') {
    await applyItems();
  } else {
    state = 'expired';
    reason = 'notValidatedInTime';
    await record(
      audit('system', 'moveExpired'),
      {
        kind: 'end',
        state: 'expired',
        reason,
        actor: 'system',
      },
      bulk,
    );
    await tellEveryone('moveNotDone');
  }
  return finish();

  async function finish(): Promise<MoveView> {
    publish();
    await condition(allHandlersFinished);
    return view();
  }

  async function waitForDecisions(): Promise<MoveState> {
    const decided = () => state !== 'todo' || mails.failure() !== undefined;
    const reminderAtMs = expiresAtMs - input.reminderBeforeExpiryMs;
    if (!(await condition(decided, Math.max(reminderAtMs - Date.now(), 1)))) {
      const awaited = validators.filter((v) => v.status === 'pending').map((v) => v.handle);
      inBackground(async () => {
        await sendMails('reminder', [{ template: 'moveReminder', recipients: awaited }]);
        await record(audit('system', 'reminded'));
      });
      await condition(decided, Math.max(expiresAtMs - Date.now(), 1));
    }
    if (mails.failure() !== undefined) throw mails.failure();
    return state;
  }

  /** Fresh codes to the targets (run-mails.ts issueCodes), with the step's notices. */
  async function issueCodes(targets: ValidatorState[], step: string, notices?: MoveMailBatch): Promise<void> {
    await mails.issueCodes(targets, notices?.recipients ?? [], () =>
      mail.issueMoveCodes({
        moveId: input.moveId,
        handles: targets.map((v) => v.handle),
        step,
        ...(notices && notices.recipients.length > 0 ? { notices } : {}),
      }),
    );
  }

  async function tellEveryone(template: MoveMailBatch['template']) {
    await mails.tellEveryone(template, [
      input.askingAccount,
      ...validators.map((v) => v.handle),
      ...informed,
    ]);
  }

  async function applyItems() {
    // The last acceptance's handler is still recording it (and its exclusions): the apply starts after it.
    await condition(allHandlersFinished);
    // The items are applied from where they wait (validatingByCustomers, shown as checkValidity while the move
    // applies): no write of every item before the first chunk. The last acceptance's record has the move applying
    // (the apply's own check); the events saying so and the progress are recorded while the chunks go on, never
    // holding them up, and all of them before the move is recorded done.
    const told: Promise<void>[] = [];
    const tell = (event: AuditEntry) => {
      const write = record(event);
      write.catch(() => undefined); // awaited below, with the others
      told.push(write);
    };
    tell(audit('system', 'moveApplying'));
    for (;;) {
      const progress = await applying.applyMoveChunks({
        moveId: input.moveId,
        chunkSize: input.chunkSize,
        maxChunks: CHUNKS_PER_CALL,
      });
      counts = progress.counts;
      publish();
      if (progress.finished) break;
      tell(audit('system', 'moveProgress', { ...counts }));
    }
    await Promise.all(told);
    state = 'done';
    await record(audit('system', 'moveApplied', { ...counts }));
    await tellEveryone('moveDone');
  }

  /** The run's current details in the Temporal UI: where the move stands, in words and counts. */
  function describe(): string {
    const progress = `${counts.total} service(s): ${counts.applied} applied, ${counts.skipped} skipped, ${counts.refused} refused, ${counts.remaining} remaining.`;
    const lines: string[] = [];
    if (state === 'todo') {
      const awaited = validators.filter((v) => v.status === 'pending');
      lines.push(
        `Waiting for ${awaited.map((v) => `${v.handle}${v.locked ? ' (code locked)' : ''}`).join(' and ')} to accept, until ${expiresAt}.`,
      );
    } else {
      lines.push(`${state}${reason ? ` (${reason})` : ''}.`);
    }
    lines.push(progress);
    const needsAttention = mails.attention();
    if (needsAttention) {
      lines.push(`Needs attention: ${needsAttention.reason} for ${needsAttention.handles.join(', ')}.`);
    }
    return lines.join('\n');
  }
}
