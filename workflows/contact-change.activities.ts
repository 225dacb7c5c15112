// The activities the contact-change workflow calls: the contract lives beside the workflow, the
// implementation in activities/ (createActivities), so workflow code never imports Node code.
import type { ContactChangeInput, TaskState, ValidatorView } from './contact-change.messages';

export type EmailTemplate =
  'informedCreated' | 'reminder' | 'done' | 'doneInformed' | 'refused' | 'expired' | 'aborted';

export interface AuditEntry {
  /** Unique per workflow step, so a retried activity never writes the same event twice. */
  dedupeKey: string;
  actor: string;
  action: string;
  detail?: Record<string, unknown>;
  sourceIp?: string;
}

export interface OpenTaskArgs extends ContactChangeInput {
  workflowId: string;
  runId: string;
  expiresAt: string;
  /** The creation's audit event, written with the task (unless another task conflicts). */
  created: AuditEntry;
}

export interface OpenTaskResult {
  taskId: number;
  /** Another open task holds one of the roles: this one is recorded as refused. */
  conflict: boolean;
}

export interface RecordTaskArgs {
  taskId: number;
  state: TaskState;
  reason?: string;
  validators: ValidatorView[];
  event: AuditEntry;
}

/** Not applied: refused (a precondition no longer holds) or aborted (the asker may no longer ask it). */
export type ApplyResult =
  { applied: true } | { applied: false; reason: string; state: 'refused' | 'aborted' };

/** One template to its recipients. */
export interface MailBatch {
  template: EmailTemplate;
  recipients: string[];
}

export interface IssueCodesArgs {
  taskId: number;
  /** The validators who get a code of this step. */
  handles: string[];
  /** Names the mails of this step: each (step, recipient) is mailed at most once. */
  step: string;
  /** Notices mailed in the same activity, after the codes (the informed contact at creation). */
  notices?: MailBatch;
}

export interface SendStepMailsArgs {
  taskId: number;
  step: string;
  batches: MailBatch[];
}

export interface ContactChangeActivities {
  /** Writes the task, its validators, its role locks and its creation event in one transaction. */
  openTask(args: OpenTaskArgs): Promise<OpenTaskResult>;
  /** Mails each validator named a personal code of this step; returns what the workflow keeps of each code. */
  issueCodes(args: IssueCodesArgs): Promise<Record<string, string>>;
  /** The mails of one step that carry no code (reminders, the end), each template to its recipients. */
  sendStepMails(args: SendStepMailsArgs): Promise<void>;
  recordTask(args: RecordTaskArgs): Promise<void>;
  /** Re-checks the preconditions and changes the contacts in one transaction. */
  applyChange(args: { taskId: number; event: AuditEntry }): Promise<ApplyResult>;
}
