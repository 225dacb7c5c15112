// The activities the contact-move workflow calls (implementation: activities/moves.ts). They take and return ids
// and counts, never the item list: the items live in PostgreSQL.
import type { AuditEntry, IssuedCodes, MailOutcome } from './contact-change.activities';
import type { NeedsAttention } from './contact-change.messages';
import type { MoveCountsView, MoveState, MoveValidatorView } from './contact-move.messages';

export type MoveEmailTemplate =
  'moveInformed' | 'moveReminder' | 'moveDone' | 'moveNotDone' | 'moveNeedsAttention';

export interface MoveMailBatch {
  template: MoveEmailTemplate;
  recipients: string[];
}

export interface OpenMoveArgs {
  moveId: number;
  workflowId: string;
  runId: string;
  expiresAt: string;
  /** The move's creation event; each item gets its own `created` event too. */
  created: AuditEntry;
}

export interface OpenedMove {
  /** Each person validating at least one item, with how many. */
  validators: { handle: string; items: number }[];
  informed: string[];
  counts: MoveCountsView;
}

/** What happens to the move's open items with this record (each item gets its own audit event). */
export type ItemEffect =
  /** A validator leaves these services out when accepting: their items end refused (excludedByValidator). */
  | { kind: 'exclude'; handle: string; serviceNames: string[] }
  /** The move ends without applying (refused, expired, cancelled): every open item ends so, its locks released. */
  | { kind: 'end'; state: 'refused' | 'expired' | 'aborted'; reason: string; actor: string };

export interface RecordMoveArgs {
  moveId: number;
  state: MoveState;
  reason?: string;
  validators: MoveValidatorView[];
  needsAttention?: NeedsAttention;
  event: AuditEntry;
  items?: ItemEffect;
}

export interface ApplyMoveArgs {
  moveId: number;
  chunkSize: number;
  /** Chunks to apply in this call (one transaction each) before answering the progress to the workflow. */
  maxChunks: number;
}

export interface AppliedChunks {
  counts: MoveCountsView;
  /** No item waits for the apply any more. */
  finished: boolean;
}

export interface IssueMoveCodesArgs {
  moveId: number;
  handles: string[];
  step: string;
  notices?: MoveMailBatch;
}

export interface SendMoveMailsArgs {
  moveId: number;
  step: string;
  batches: MoveMailBatch[];
}

export interface ContactMoveActivities {
  /**
   * Resolves the frozen request into items (each service planned again by the rule table, on the database as it
   * is now), in one transaction: the move, its validators, its items with their role locks (an item whose role
   * another task holds by then is recorded skipped: taskAlreadyOpen), and the events. Idempotent.
   */
  openMove(args: OpenMoveArgs): Promise<OpenedMove>;
  /** One mail with one code per validator named (the same code however often it is retried), and the notices. */
  issueMoveCodes(args: IssueMoveCodesArgs): Promise<IssuedCodes>;
  sendMoveMails(args: SendMoveMailsArgs): Promise<MailOutcome>;
  /** The move's state, its validators and an event, and what that does to its items; answers the counts. */
  recordMove(args: RecordMoveArgs): Promise<MoveCountsView>;
  /**
   * Applies the items waiting for it, a chunk per transaction, each re-checked as a single task's apply is; what no
   * longer holds is skipped with its reason. Heartbeats its progress; a retry goes on from the items' states.
   */
  applyMoveChunks(args: ApplyMoveArgs): Promise<AppliedChunks>;
}
