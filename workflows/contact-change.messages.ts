import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery, defineUpdate } from '@temporalio/workflow';

export const CONTACT_TYPES = ['contactAdmin', 'contactTech', 'contactBilling'] as const;
export type ContactType = (typeof CONTACT_TYPES)[number];

export const TASK_STATES = [
  'todo',
  'checkValidity',
  'validatingByCustomers',
  'doing',
  'done',
  'refused',
  'expired',
  'aborted',
  'error',
] as const;
export type TaskState = (typeof TASK_STATES)[number];
export const OPEN_STATES: readonly TaskState[] = ['todo', 'checkValidity', 'validatingByCustomers', 'doing'];
/** A task can be cancelled until the last acceptance starts its check and apply. */
export const CANCELLABLE_STATES: readonly TaskState[] = ['todo', 'validatingByCustomers'];

export type ValidatorStatus = 'pending' | 'accepted' | 'refused';

export const MAX_WRONG_CODES = 5;

export interface ContactChangeInput {
  serviceId: number;
  serviceType: string;
  serviceName: string;
  askingAccount: string;
  fromAccount: string;
  toAccount: string;
  contactTypes: ContactType[];
  /** Accounts whose code-confirmed acceptance is required, in the order they are asked. */
  validators: string[];
  /** Accounts told about the change without having to validate it (the old contact). */
  informed: string[];
  expiryMs: number;
  reminderBeforeExpiryMs: number;
  resendMinIntervalMs: number;
  requestedFromIp?: string;
  /** Publish the task id and state as search attributes (needs SEARCH_ATTRIBUTES registered on the namespace). */
  searchAttributes?: boolean;
}

export interface ValidatorView {
  handle: string;
  status: ValidatorStatus;
  wrongCodes: number;
  locked: boolean;
  lastCodeSentAt?: string;
}

/** Something an operator must look at: the task goes on (and still expires on time) but cannot get there alone. */
export interface NeedsAttention {
  /** mailRejected: the recipient's mail server refused the address; mailUndelivered: no mail server took it. */
  reason: 'mailRejected' | 'mailUndelivered';
  /** The accounts whose mail did not go out (for mailUndelivered: those of the step that could not be sent). */
  handles: string[];
  since: string;
}

export interface TaskView {
  taskId?: number;
  state: TaskState;
  reason?: string;
  validators: ValidatorView[];
  /** Validators still awaited: "waiting for the other contact" when one has accepted. */
  awaiting: string[];
  expiresAt: string;
  needsAttention?: NeedsAttention;
}

export interface DecisionInput {
  account: string;
  /**
   * Keyed hash of the code the person typed (HMAC, made by the API with CODE_HASH_KEY). The workflow keeps only
   * a SHA-256 of the right one: neither the code nor anything that could be sent here in its place enters history.
   */
  codeHash: string;
  sourceIp?: string;
}

/** supersededCode: the code of a mail that a resend replaced (not counted as a wrong try). */
export type DecisionOutcome = 'accepted' | 'refused' | 'wrongCode' | 'supersededCode' | 'locked';

export interface DecisionResult {
  outcome: DecisionOutcome;
  attemptsLeft?: number;
  task: TaskView;
}

export interface ResendRequest {
  /** Who asks: an account handle, or `operator:<name>` with `operator` set. */
  by: string;
  operator?: boolean;
  /** Whom to send a fresh code to; by default the caller if awaited, else (the asker) everyone awaited. */
  to?: string[];
  sourceIp?: string;
}

export interface ResendResult {
  resentTo: string[];
  /** Those named who got a code too recently: each with the seconds until a resend is allowed. */
  notYet: { handle: string; retryAfterSeconds: number }[];
  task: TaskView;
}

export interface CancelRequest {
  by: string;
  operator?: boolean;
  /**
   * The API found `by` to be the service's admin contact now (domain/tasks.ts). A flag, not a proof: whoever can
   * send this Update (the API, or an operator with Temporal access) may already cancel as an operator, so it
   * gives no one more than they have; reading the history gives nothing to send.
   */
  serviceAdmin?: boolean;
  sourceIp?: string;
}

/** Reasons an Update is rejected before it counts (nothing of it enters history; the API maps them to HTTP). */
export const REJECTIONS = {
  notRegistered: 'the task is still being registered',
  notAwaitingDecisions: 'the task no longer waits for decisions',
  notAValidator: 'this account does not validate this task',
  alreadyDecided: 'this account has already decided',
  codeLocked: 'too many wrong codes: ask for the email to be sent again',
  nothingToResend: 'no code awaited on this task can be sent again by this account',
  resendTooSoon: 'the email was sent moments ago',
  notTheAsker: "only the asker or the service's admin contact can cancel a task",
  notCancellable: 'the task can no longer be cancelled',
} as const;
export type Rejection = keyof typeof REJECTIONS;

/**
 * Whom a resend goes to (the rule, in one place, for the workflow that enforces it and the API that offers it):
 * the asker (or an operator) may resend to every validator still awaited, e.g. a new contact who never got the
 * mail; a validator may resend to themself. Undefined when the caller may not resend to all those named.
 */
export function resendTargets(
  task: { askingAccount: string; state: TaskState; validators: Pick<ValidatorView, 'handle' | 'status'>[] },
  request: Pick<ResendRequest, 'by' | 'operator' | 'to'>,
): string[] | undefined {
  if (task.state !== 'validatingByCustomers') return undefined;
  const awaited = task.validators.filter((v) => v.status === 'pending').map((v) => v.handle);
  const mayResendToAll = request.operator === true || request.by === task.askingAccount;
  const allowed = mayResendToAll ? awaited : awaited.filter((handle) => handle === request.by);
  const targets = request.to ?? allowed;
  if (targets.length === 0 || targets.some((handle) => !allowed.includes(handle))) return undefined;
  return [...new Set(targets)];
}

/**
 * Who may cancel a task (the rule, in one place, for the workflow that enforces it and the API that offers it):
 * the asker, the service's admin contact as it is now (who answers for every role of the service, and would
 * otherwise be blocked by a task they cannot end: issue 11, finding 4), or an operator.
 */
export function mayCancelTask(
  task: { askingAccount: string },
  request: Pick<CancelRequest, 'by' | 'operator' | 'serviceAdmin'>,
): boolean {
  return request.operator === true || request.serviceAdmin === true || request.by === task.askingAccount;
}

/** Why a task was cancelled, by who cancelled it (the asker first: an admin cancelling their own request). */
export function cancelReason(
  task: { askingAccount: string },
  request: Pick<CancelRequest, 'by' | 'operator'>,
): 'cancelledByOperator' | 'cancelledByAsker' | 'cancelledByAdmin' {
  if (request.operator) return 'cancelledByOperator';
  return request.by === task.askingAccount ? 'cancelledByAsker' : 'cancelledByAdmin';
}

/** Milliseconds until this validator may be sent a fresh code (0: now). */
export function resendWaitMs(
  validator: Pick<ValidatorView, 'lastCodeSentAt'>,
  intervalMs: number,
  nowMs: number,
) {
  const last = validator.lastCodeSentAt ? Date.parse(validator.lastCodeSentAt) : 0;
  return Math.max(0, last + intervalMs - nowMs);
}

const ROLE_WORDS: Record<ContactType, string> = {
  contactAdmin: 'admin',
  contactTech: 'tech',
  contactBilling: 'billing',
};

/** One line for operators (the run's summary in the Temporal UI): which roles of which service, from whom to whom. */
export function taskSummary(
  input: Pick<
    ContactChangeInput,
    'contactTypes' | 'serviceName' | 'fromAccount' | 'toAccount' | 'askingAccount'
  >,
): string {
  const roles = input.contactTypes.map((type) => ROLE_WORDS[type]).join(' + ');
  return `${roles} contact of ${input.serviceName}: ${input.fromAccount} → ${input.toAccount}, asked by ${input.askingAccount}`;
}

export const registeredUpdate = defineUpdate<TaskView>('registered');
export const acceptUpdate = defineUpdate<DecisionResult, [DecisionInput]>('accept');
export const refuseUpdate = defineUpdate<DecisionResult, [DecisionInput]>('refuse');
export const resendUpdate = defineUpdate<ResendResult, [ResendRequest]>('resendEmail');
export const cancelUpdate = defineUpdate<TaskView, [CancelRequest]>('cancel');
export const taskQuery = defineQuery<TaskView>('task');

/** What operators search by in the Temporal UI and CLI (registered on the namespace: docs/operations.md). */
export const SEARCH_ATTRIBUTES = {
  taskId: defineSearchAttributeKey('ContactTaskId', SearchAttributeType.INT),
  serviceName: defineSearchAttributeKey('ContactServiceName', SearchAttributeType.KEYWORD),
  handles: defineSearchAttributeKey('ContactHandles', SearchAttributeType.KEYWORD_LIST),
  state: defineSearchAttributeKey('ContactTaskState', SearchAttributeType.KEYWORD),
};

export function contactChangeWorkflowId(input: {
  serviceName: string;
  contactTypes: ContactType[];
  fromAccount: string;
  toAccount: string;
}): string {
  const roles = [...input.contactTypes].sort().join('+');
  return `contact-change/${input.serviceName}/${roles}/${input.fromAccount}->${input.toAccount}`;
}
