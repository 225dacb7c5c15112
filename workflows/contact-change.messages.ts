import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';

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
  /** Publish the state as a search attribute (needs ContactTaskState registered on the namespace). */
  searchAttributes?: boolean;
}

export interface ValidatorView {
  handle: string;
  status: ValidatorStatus;
  wrongCodes: number;
  locked: boolean;
  lastCodeSentAt?: string;
}

export interface TaskView {
  taskId?: number;
  state: TaskState;
  reason?: string;
  validators: ValidatorView[];
  /** Validators still awaited: "waiting for the other contact" when one has accepted. */
  awaiting: string[];
  expiresAt: string;
}

export interface DecisionInput {
  account: string;
  /** Keyed hash of the code the person typed: the code itself never enters workflow history. */
  codeHash: string;
  sourceIp?: string;
}

export type DecisionOutcome = 'accepted' | 'refused' | 'wrongCode' | 'locked';

export interface DecisionResult {
  outcome: DecisionOutcome;
  attemptsLeft?: number;
  task: TaskView;
}

export interface ResendRequest {
  account: string;
  by: string;
  sourceIp?: string;
}

export interface CancelRequest {
  by: string;
  sourceIp?: string;
}

/** Reasons a decision Update is rejected before it counts (the API maps them to HTTP answers). */
export const DECISION_REJECTIONS = {
  notRegistered: 'the task is still being registered',
  notAwaitingDecisions: 'the task no longer waits for decisions',
  notAValidator: 'this account does not validate this task',
  alreadyDecided: 'this account has already decided',
  codeLocked: 'too many wrong codes: ask for the email to be sent again',
} as const;
export type DecisionRejection = keyof typeof DECISION_REJECTIONS;

export const registeredUpdate = defineUpdate<TaskView>('registered');
export const acceptUpdate = defineUpdate<DecisionResult, [DecisionInput]>('accept');
export const refuseUpdate = defineUpdate<DecisionResult, [DecisionInput]>('refuse');
export const resendSignal = defineSignal<[ResendRequest]>('resendEmail');
export const cancelSignal = defineSignal<[CancelRequest]>('cancel');
export const taskQuery = defineQuery<TaskView>('task');

export function contactChangeWorkflowId(input: {
  serviceName: string;
  contactTypes: ContactType[];
  fromAccount: string;
  toAccount: string;
}): string {
  const roles = [...input.contactTypes].sort().join('+');
  return `contact-change/${input.serviceName}/${roles}/${input.fromAccount}->${input.toAccount}`;
}
