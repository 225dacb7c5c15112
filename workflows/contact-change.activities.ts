// The activities the contact-change workflow calls: the contract lives beside the workflow, the
// implementation in activities/ (createActivities), so workflow code never imports Node code.
import type { ContactChangeInput, NeedsAttention, TaskState, ValidatorView } from './contact-change.messages';

export type EmailTemplate =
  | 'informedCreated'
  | 'reminder'
  | 'done'
  | 'doneInformed'
  | 'refused'
  | 'expired'
  | 'aborted'
  /** To the asker: a mail of the request could not be delivered (whom, and what to do). */
  | 'needsAttention';

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
  needsAttention?: NeedsAttention;
  event: AuditEntry;
}

/** A mail that will not go out however often it is tried: the recipient's server refused it (SMTP 5xx). */
export interface Undeliverable {
  handle: string;
  /** The SMTP server's answer, for operators (it can name the address: never shown to other customers). */
  response: string;
}

export interface MailOutcome {
  undeliverable: Undeliverable[];
}

export interface IssuedCodes extends MailOutcome {
  /** Per validator, SHA-256 of the keyed hash of their code: what the workflow compares an Update's hash with. */
  codeDigests: Record<string, string>;
}

/**
 * Not applied: refused (a precondition no longer holds) or aborted (the asker may no longer ask it). Applied, with
 * `mailed` when the end mails it was given went out (what the SMTP server refused for good is in it); without it,
 * they did not go (or only some): the workflow sends them with the mail activity.
 */
export type ApplyResult =
  { applied: true; mailed?: MailOutcome } | { applied: false; reason: string; state: 'refused' | 'aborted' };

export interface ApplyChangeArgs {
  taskId: number;
  /** The last acceptance: the validators as the workflow holds them, and its audit event. */
  accepted: { validators: ValidatorView[]; event: AuditEntry };
  /** The change's audit event. */
  event: AuditEntry;
  /**
   * The end mails to try once the change is committed, in the same activity (one activity task and one workflow
   * task fewer per story): given only when no other mail of the run is out, so that they still come last.
   */
  endMails?: { step: string; batches: MailBatch[] };
}

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
  /**
   * Mails each validator named their code of this step (the same code however often it is retried) and returns
   * what the workflow keeps of each code. A refused address is an outcome, not a failure: it is not retried.
   */
  issueCodes(args: IssueCodesArgs): Promise<IssuedCodes>;
  /** The mails of one step that carry no code (reminders, the end), each template to its recipients. */
  sendStepMails(args: SendStepMailsArgs): Promise<MailOutcome>;
  recordTask(args: RecordTaskArgs): Promise<void>;
  /**
   * Writes the last acceptance, re-checks the preconditions and changes the contacts (the change only if the
   * service's holders are still those checked): the acceptance is written whether or not the change can be made.
   */
  applyChange(args: ApplyChangeArgs): Promise<ApplyResult>;
}
