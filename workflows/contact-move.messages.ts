import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { NeedsAttention, ValidatorStatus } from './contact-change.messages';

/**
 * A move: many services' roles from one account to another, one workflow, one code per validator. The items live
 * in PostgreSQL (contact_change_task rows with move_id); this workflow carries only ids and counts.
 */

/** checking: its items being registered; todo: waiting for validators; applying: the items being applied. */
export const MOVE_STATES = [
  'checking',
  'todo',
  'applying',
  'done',
  'refused',
  'expired',
  'cancelled',
  'aborted',
] as const;
export type MoveState = (typeof MOVE_STATES)[number];
export const OPEN_MOVE_STATES: readonly MoveState[] = ['checking', 'todo', 'applying'];
/** A move can be cancelled until its last acceptance starts the apply. */
export const CANCELLABLE_MOVE_STATES: readonly MoveState[] = ['checking', 'todo'];

export interface ContactMoveInput {
  /** The frozen request (contact_move_request) and the move's id. */
  moveId: number;
  askingAccount: string;
  expiryMs: number;
  reminderBeforeExpiryMs: number;
  resendMinIntervalMs: number;
  /** Items applied per transaction. */
  chunkSize: number;
  requestedFromIp?: string;
  /** Publish the move's state and progress as search attributes (registered on the namespace first). */
  searchAttributes?: boolean;
}

export interface MoveCountsView {
  total: number;
  applied: number;
  skipped: number;
  refused: number;
  remaining: number;
}

export interface MoveValidatorView {
  handle: string;
  status: ValidatorStatus;
  /** Items this person validates. */
  items: number;
  wrongCodes: number;
  locked: boolean;
  lastCodeSentAt?: string;
}

export interface MoveView {
  moveId: number;
  registered: boolean;
  state: MoveState;
  reason?: string;
  validators: MoveValidatorView[];
  awaiting: string[];
  counts: MoveCountsView;
  expiresAt: string;
  needsAttention?: NeedsAttention;
}

export interface MoveDecisionInput {
  account: string;
  /** Keyed hash of the code typed (lib/codes.ts: hashMoveCode); the workflow keeps only a SHA-256 of the right one. */
  codeHash: string;
  /** Services this validator leaves out (accept only): checked against the move's items by the API. */
  exclude?: string[];
  sourceIp?: string;
}

export type MoveDecisionOutcome = 'accepted' | 'refused' | 'wrongCode' | 'supersededCode' | 'locked';

export interface MoveDecisionResult {
  outcome: MoveDecisionOutcome;
  attemptsLeft?: number;
  move: MoveView;
}

export interface MoveResendRequest {
  by: string;
  operator?: boolean;
  to?: string[];
  sourceIp?: string;
}

export interface MoveResendResult {
  resentTo: string[];
  notYet: { handle: string; retryAfterSeconds: number }[];
  move: MoveView;
}

export interface MoveCancelRequest {
  by: string;
  operator?: boolean;
  sourceIp?: string;
}

export const registeredMoveUpdate = defineUpdate<MoveView>('registered');
export const acceptMoveUpdate = defineUpdate<MoveDecisionResult, [MoveDecisionInput]>('accept');
export const refuseMoveUpdate = defineUpdate<MoveDecisionResult, [MoveDecisionInput]>('refuse');
export const resendMoveUpdate = defineUpdate<MoveResendResult, [MoveResendRequest]>('resendEmail');
export const cancelMoveUpdate = defineUpdate<MoveView, [MoveCancelRequest]>('cancel');
export const moveQuery = defineQuery<MoveView>('move');

export function contactMoveWorkflowId(moveId: number): string {
  return `contact-move/${moveId}`;
}

const ROLE_WORDS: Record<string, string> = {
  contactAdmin: 'admin',
  contactTech: 'tech',
  contactBilling: 'billing',
};

/** The run's summary in the Temporal UI. */
export function moveSummary(move: {
  moveId: number;
  contactTypes: string[];
  fromAccount: string;
  toAccount: string;
  askingAccount: string;
  services: number;
}): string {
  const roles = move.contactTypes.map((type) => ROLE_WORDS[type] ?? type).join(' + ');
  return `move ${move.moveId}: ${roles} contact of ${move.services} service(s), ${move.fromAccount} → ${move.toAccount}, asked by ${move.askingAccount}`;
}
